/* test_authcode.c: the authorization code flow's pieces (src/oauth/authcode.c) and the
 * loopback listener (src/lib/loopback.c): redirect URIs, PKCE, the redirect's answer, the
 * paste, and the listener driven over real sockets. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "oktacred/authcode.h"
#include "oktacred/buf.h"
#include "oktacred/config.h"
#include "oktacred/jwt.h"
#include "oktacred/loopback.h"
#include "oktacred/util.h"

Test(authcode, redirect_uris)
{
	static const struct {
		const char *uri, *host, *path;
		int port;
	} good[] = {
	    {"http://localhost:8000/callback", "localhost", "/callback", 8000},
	    {"http://127.0.0.1:1/a/b", "127.0.0.1", "/a/b", 1},
	    {"http://[::1]:65535/cb", "::1", "/cb", 65535},
	    {"http://localhost/callback", "localhost", "/callback", 80},
	    {"http://localhost:8080", "localhost", "/", 8080},
	};
	static const char *const bad[] = {
	    "https://localhost:8000/callback",
	    "http://example.com:8000/callback",
	    "http://localhost.example.com/cb",
	    "http://localhost:0/cb",
	    "http://localhost:65536/cb",
	    "http://localhost:80a/cb",
	    "http://localhost:/cb",
	    "http://localhost:8000/cb?x=1",
	    "http://localhost:8000/cb#x",
	    "http://localhost:8000/c b",
	    "http://[::2]:8000/cb",
	    "localhost:8000/callback",
	};
	char host[16];
	const char *path, *why;
	int port;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(
		    authcode_redirect_parse(good[i].uri, host, sizeof(host), &port, &path, &why), 0,
		    "%s", good[i].uri);
		cr_assert_str_eq(host, good[i].host);
		cr_assert_str_eq(path, good[i].path);
		cr_assert_eq(port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(
		    authcode_redirect_parse(bad[i], host, sizeof(host), &port, &path, &why), -1,
		    "%s", bad[i]);
}

static struct provider_cfg provider(void)
{
	struct provider_cfg p;

	memset(&p, 0, sizeof(p));
	p.name = "okta-oidc";
	p.org_url = "https://acme.okta.com";
	p.client_id = "0oa-client";
	p.authorization_server = "default";
	p.scopes = "openid offline_access";
	return p;
}

/* The value of key in the URL's query (percent-decoding is not needed for the ones
 * looked at here, but for redirect_uri and scope). */
static char *param(const char *url, const char *key)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(key);

	cr_assert_not_null(q);
	for (q++; *q;) {
		size_t len = strcspn(q, "&");

		if (len > n && strncmp(q, key, n) == 0 && q[n] == '=')
			return xstrndup(q + n + 1, len - n - 1);
		q += len + (q[len] == '&');
	}
	return NULL;
}

Test(authcode, start_makes_pkce_state_and_nonce)
{
	struct provider_cfg p = provider();
	struct authcode a, b;
	unsigned char digest[32];
	unsigned int dn = 0;
	struct buf want = BUF_INIT;
	char *challenge, *s;
	okc_err err;
	size_t i;

	cr_assert_eq(authcode_start(&p, "http://localhost:8000/callback", &a, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(authcode_start(&p, "http://localhost:8000/callback", &b, &err), 0);
	/* RFC 7636 4.1: 43 to 128 unreserved characters; here 43 of base64url. */
	cr_assert_eq(strlen(a.verifier), 43);
	for (i = 0; a.verifier[i]; i++)
		cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		                 a.verifier[i]));
	cr_assert_str_neq(a.verifier, b.verifier);
	cr_assert_str_neq(a.state, b.state);
	cr_assert_str_neq(a.nonce, b.nonce);
	cr_assert_str_neq(a.state, a.nonce);
	cr_assert_geq(strlen(a.state), 22);
	cr_assert(str_starts(a.url, "https://acme.okta.com/oauth2/default/v1/authorize?"), "%s",
	          a.url);
	cr_assert_str_eq(a.issuer, "https://acme.okta.com/oauth2/default");
	/* code_challenge = BASE64URL(SHA256(verifier)), method S256 (RFC 7636 4.2). */
	cr_assert_eq(EVP_Digest(a.verifier, strlen(a.verifier), digest, &dn, EVP_sha256(), NULL),
	             1);
	base64url_encode(digest, dn, &want);
	challenge = param(a.url, "code_challenge");
	cr_assert_str_eq(challenge, want.data);
	free(challenge);
	s = param(a.url, "code_challenge_method");
	cr_assert_str_eq(s, "S256");
	free(s);
	s = param(a.url, "state");
	cr_assert_str_eq(s, a.state);
	free(s);
	s = param(a.url, "nonce");
	cr_assert_str_eq(s, a.nonce);
	free(s);
	s = param(a.url, "response_type");
	cr_assert_str_eq(s, "code");
	free(s);
	s = param(a.url, "redirect_uri");
	cr_assert_str_eq(s, "http%3A%2F%2Flocalhost%3A8000%2Fcallback");
	free(s);
	/* The verifier never travels in the URL. */
	cr_assert_null(strstr(a.url, a.verifier));
	buf_free(&want);
	authcode_free(&a);
	authcode_free(&b);
}

static struct authcode fixed(void)
{
	struct authcode a;

	memset(&a, 0, sizeof(a));
	a.verifier = xstrdup("v-0123456789012345678901234567890123456789");
	a.state = xstrdup("S-state-0123456789abcd");
	a.nonce = xstrdup("N-nonce-0123456789abcd");
	a.redirect_uri = xstrdup("http://127.0.0.1:8000/callback");
	a.issuer = xstrdup("https://acme.okta.com/oauth2/default");
	return a;
}

static int answer(const char *query, char **code, okc_err *err)
{
	struct authcode a = fixed();
	int rc;

	okc_err_clear(err);
	rc = authcode_answer(&a, query, code, err);
	authcode_free(&a);
	return rc;
}

Test(authcode, answers)
{
	char *code;
	okc_err err;

	cr_assert_eq(answer("code=abc%01&state=S-state-0123456789abcd", &code, &err), -1);
	cr_assert_eq(err.code, 4, "a code with a control character is no code: %s", err.msg);
	cr_assert_eq(answer("code=abc%2Bdef&state=S-state-0123456789abcd&iss=https%3A%2F%2F"
	                    "acme.okta.com%2Foauth2%2Fdefault",
	                    &code, &err),
	             0, "%s", err.msg);
	cr_assert_str_eq(code, "abc+def");
	free_secret(code);
	/* state: missing, wrong, of another length, empty */
	cr_assert_eq(answer("code=abc", &code, &err), AUTHCODE_WRONG_STATE);
	cr_assert_null(code);
	cr_assert_eq(answer("code=abc&state=S-state-0123456789abcX", &code, &err),
	             AUTHCODE_WRONG_STATE);
	cr_assert(strstr(err.msg, "does not belong to this login"), "%s", err.msg);
	cr_assert_eq(answer("code=abc&state=S-state-0123456789abc", &code, &err),
	             AUTHCODE_WRONG_STATE);
	cr_assert_eq(answer("code=abc&state=", &code, &err), AUTHCODE_WRONG_STATE);
	/* a repeated parameter or a bad escape is malformed */
	cr_assert_eq(answer("code=a&code=b&state=S-state-0123456789abcd", &code, &err),
	             AUTHCODE_WRONG_STATE);
	cr_assert_eq(answer("code=a%2&state=S-state-0123456789abcd", &code, &err),
	             AUTHCODE_WRONG_STATE);
	cr_assert_eq(answer("code=a%00b&state=S-state-0123456789abcd", &code, &err),
	             AUTHCODE_WRONG_STATE);
	/* errors: access_denied is exit 5, others exit 1 with the server's words escaped */
	cr_assert_eq(answer("error=access_denied&error_description=User+cancelled&state=S-state-"
	                    "0123456789abcd",
	                    &code, &err),
	             -1);
	cr_assert_eq(err.code, 5);
	cr_assert_str_eq(err.msg, "login denied at the sign-in page: User cancelled");
	cr_assert_eq(answer("error=invalid_scope&error_description=%1B%5B31mred&state=S-state-"
	                    "0123456789abcd",
	                    &code, &err),
	             -1);
	cr_assert_eq(err.code, 1);
	cr_assert_str_eq(err.msg, "login failed: invalid_scope: \\x1b[31mred");
	/* an error with another login's state is not this login's to end */
	cr_assert_eq(answer("error=access_denied&state=other", &code, &err), AUTHCODE_WRONG_STATE);
	/* RFC 9207: an iss that is not the provider's */
	cr_assert_eq(answer("code=abc&state=S-state-0123456789abcd&iss=https%3A%2F%2Fevil.example",
	                    &code, &err),
	             -1);
	cr_assert_eq(err.code, 1);
	cr_assert(strstr(err.msg, "evil.example"), "%s", err.msg);
	/* no code */
	cr_assert_eq(answer("state=S-state-0123456789abcd", &code, &err), -1);
	cr_assert_eq(err.code, 4);
}

static int paste(const char *text, char **code, okc_err *err)
{
	struct authcode a = fixed();
	int fds[2], rc;

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	okc_err_clear(err);
	rc = authcode_read_paste(&a, fds[0], now_mono_ms() + 5000, code, err);
	close(fds[0]);
	authcode_free(&a);
	return rc;
}

Test(authcode, paste)
{
	char *code;
	okc_err err;

	cr_assert_eq(paste("  http://127.0.0.1:8000/callback?code=C1&state=S-state-0123456789abcd"
	                   "#frag \r\nmore",
	                   &code, &err),
	             0, "%s", err.msg);
	cr_assert_str_eq(code, "C1");
	free_secret(code);
	cr_assert_eq(paste("?code=C2&state=S-state-0123456789abcd\n", &code, &err), 0);
	cr_assert_str_eq(code, "C2");
	free_secret(code);
	cr_assert_eq(paste("code=C3&state=S-state-0123456789abcd", &code, &err), 0);
	cr_assert_str_eq(code, "C3");
	free_secret(code);
	cr_assert_eq(paste("C4-just_the.code~\n", &code, &err), 0);
	cr_assert_str_eq(code, "C4-just_the.code~");
	free_secret(code);
	cr_assert_eq(paste("http://127.0.0.1:8000/callback?code=C5&state=other\n", &code, &err),
	             -1);
	cr_assert_eq(err.code, 1);
	cr_assert(strstr(err.msg, "does not belong to this login"), "%s", err.msg);
	cr_assert_eq(paste("two words\n", &code, &err), -1);
	cr_assert_eq(err.code, 1);
	cr_assert_eq(paste("", &code, &err), -1);
	cr_assert_eq(err.code, 5);
	cr_assert_eq(paste("\n", &code, &err), -1);
}

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* A connection to 127.0.0.1:port that has sent request: queued in the listener's backlog
 * until loopback_serve accepts it. */
static int send_request(int port, const char *request)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	return fd;
}

/* What came back; "" when nothing did (a connection reset: never accepted). */
static char *read_all(int fd)
{
	struct buf b = BUF_INIT;

	if (buf_read_fd(&b, fd, 65536) < 0)
		buf_reset(&b);
	close(fd);
	buf_putc(&b, '\0');
	return buf_detach(&b);
}

struct seen {
	char targets[4][128];
	int n;
};

static int record(void *ctx, const char *target, struct loopback_reply *r, okc_err *err)
{
	struct seen *s = ctx;

	(void)err;
	snprintf(s->targets[s->n++], sizeof(s->targets[0]), "%s", target);
	r->status = s->n == 2 ? 200 : 404;
	r->title = "T<itle>";
	r->message = s->n == 2 ? "done & \"closed\"" : "not here";
	r->done = s->n == 2;
	return 0;
}

Test(loopback, serves_until_the_handler_is_done)
{
	struct loopback lb;
	struct seen s = {{{0}}, 0};
	okc_err err;
	int port = free_port(), c1, c2, c3, c4;
	char *a1, *a2, *a3, *a4;

	cr_assert_eq(loopback_listen(&lb, "127.0.0.1", port, &err), 0, "%s", err.msg);
	c1 = send_request(port, "POST /callback HTTP/1.1\r\nHost: x\r\n\r\n");
	c2 = send_request(port, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n");
	c3 = send_request(port, "GET /callback?code=x&state=y HTTP/1.1\r\nHost: x\r\n\r\n");
	c4 = send_request(port, "GET /late HTTP/1.1\r\n\r\n");
	cr_assert_eq(loopback_serve(&lb, now_mono_ms() + 10000, record, &s, &err), 0, "%s",
	             err.msg);
	loopback_close(&lb);
	loopback_close(&lb); /* twice is fine */
	cr_assert_eq(s.n, 2, "the POST is not handed on, the late request not served");
	cr_assert_str_eq(s.targets[0], "/favicon.ico");
	cr_assert_str_eq(s.targets[1], "/callback?code=x&state=y");
	a1 = read_all(c1);
	a2 = read_all(c2);
	a3 = read_all(c3);
	a4 = read_all(c4);
	cr_assert(str_starts(a1, "HTTP/1.1 405 "), "%s", a1);
	cr_assert(str_starts(a2, "HTTP/1.1 404 "), "%s", a2);
	cr_assert(str_starts(a3, "HTTP/1.1 200 OK\r\n"), "%s", a3);
	cr_assert(strstr(a3, "Referrer-Policy: no-referrer\r\n"));
	cr_assert(strstr(a3, "<h1>T&lt;itle&gt;</h1>"), "%s", a3);
	cr_assert(strstr(a3, "done &amp; &quot;closed&quot;"), "%s", a3);
	cr_assert_str_eq(a4, "", "the listener is closed once done");
	free(a1);
	free(a2);
	free(a3);
	free(a4);
}

Test(loopback, busy_port_and_deadline)
{
	struct loopback lb, other;
	struct seen s = {{{0}}, 0};
	okc_err err;
	int port = free_port();

	cr_assert_eq(loopback_listen(&lb, "localhost", port, &err), 0, "%s", err.msg);
	cr_assert_eq(loopback_listen(&other, "127.0.0.1", port, &err), LOOPBACK_BUSY);
	cr_assert(strstr(err.msg, "in use"), "%s", err.msg);
	cr_assert_eq(other.fd[0], -1);
	cr_assert_eq(loopback_listen(&other, "example.com", port, &err), -1);
	cr_assert_eq(loopback_serve(&lb, now_mono_ms() - 1, record, &s, &err), -1);
	cr_assert_eq(err.code, 5);
	cr_assert_eq(s.n, 0);
	loopback_close(&lb);
}

Test(authcode, wait_browser_refuses_a_wrong_state_and_goes_on)
{
	struct authcode a = fixed();
	struct loopback lb;
	char *code = NULL, *r1, *r2;
	okc_err err;
	int port = free_port(), c1, c2;

	free(a.redirect_uri);
	a.redirect_uri = xasprintf("http://127.0.0.1:%d/callback", port);
	cr_assert_eq(loopback_listen(&lb, "127.0.0.1", port, &err), 0, "%s", err.msg);
	c1 = send_request(port, "GET /callback?code=evil&state=forged HTTP/1.1\r\n\r\n");
	c2 = send_request(port,
	                  "GET /callback?code=good&state=S-state-0123456789abcd HTTP/1.1\r\n\r\n");
	cr_assert_eq(authcode_wait_browser(&a, &lb, now_mono_ms() + 10000, &code, &err), 0, "%s",
	             err.msg);
	cr_assert_str_eq(code, "good");
	r1 = read_all(c1);
	r2 = read_all(c2);
	cr_assert(str_starts(r1, "HTTP/1.1 400 "), "%s", r1);
	cr_assert(str_starts(r2, "HTTP/1.1 200 "), "%s", r2);
	cr_assert(strstr(r2, "You may close this page"), "%s", r2);
	free(r1);
	free(r2);
	free_secret(code);
	authcode_free(&a);
}

Test(loopback, a_silent_connection_does_not_hold_up_the_others)
{
	struct loopback lb;
	struct seen s = {{{0}}, 0};
	okc_err err;
	int port = free_port(), quiet, c1, c2;
	char *a2;

	cr_assert_eq(loopback_listen(&lb, "127.0.0.1", port, &err), 0, "%s", err.msg);
	/* A browser's preconnect: a connection that sends nothing (yet). */
	quiet = send_request(port, "");
	c1 = send_request(port, "GET /one HTTP/1.1\r\n\r\n");
	c2 = send_request(port, "GET /two HTTP/1.1\r\n\r\n");
	/* The deadline is shorter than the time a silent connection is given: served one
	 * after the other, the two requests would never be reached. */
	cr_assert_eq(loopback_serve(&lb, now_mono_ms() + 3000, record, &s, &err), 0, "%s", err.msg);
	loopback_close(&lb);
	cr_assert_eq(s.n, 2);
	a2 = read_all(c2);
	cr_assert(str_starts(a2, "HTTP/1.1 200 "), "%s", a2);
	free(a2);
	free(read_all(c1));
	free(read_all(quiet));
}
