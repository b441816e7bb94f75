/* authcode.c: the authorization code grant with PKCE (authcode.h): verifier, state and
 * nonce from the kernel's random source, the authorization URL, the redirect's answer
 * (from the loopback listener or pasted), the code exchange. */
#include "oktacred/authcode.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h> /* getrandom: glibc >= 2.25 */
#include <unistd.h>

#include "oktacred/assertion.h"
#include "oktacred/buf.h"
#include "oktacred/config.h"
#include "oktacred/http.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

#define GRANT_AUTHORIZATION_CODE "authorization_code"
#define VERIFIER_BYTES           32 /* 43 base64url characters: RFC 7636 4.1's minimum */
#define STATE_BYTES              16
#define PASTE_MAX                16384
#define POLL_SLICE_MS            250

#define CLIENT_HINT                                                                                \
	"check client_id of provider %s, and that the Okta app is a Native app with the "          \
	"Authorization Code grant and %s as a sign-in redirect URI"

static int client_misconfigured(const char *error)
{
	return strcmp(error, "invalid_client") == 0 || strcmp(error, "unauthorized_client") == 0 ||
	       strcmp(error, "unsupported_grant_type") == 0 ||
	       strcmp(error, "unsupported_response_type") == 0;
}

int authcode_redirect_parse(const char *uri, char *host, size_t hostn, int *port, const char **path,
                            const char **why)
{
	static const char *const hosts[][2] = {
	    {"localhost", "localhost"}, {"127.0.0.1", "127.0.0.1"}, {"[::1]", "::1"}};
	const char *s, *p;
	size_t i;
	long n = 80;

	if (!str_starts(uri, "http://")) {
		*why = "not an http:// address (the listener is plain HTTP on the loopback)";
		return -1;
	}
	s = uri + 7;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (str_starts(s, hosts[i][0]) &&
		    (s[strlen(hosts[i][0])] == ':' || s[strlen(hosts[i][0])] == '/' ||
		     !s[strlen(hosts[i][0])]))
			break;
	if (i == sizeof(hosts) / sizeof(hosts[0])) {
		*why = "its host is not localhost, 127.0.0.1 or [::1]";
		return -1;
	}
	snprintf(host, hostn, "%s", hosts[i][1]);
	p = s + strlen(hosts[i][0]);
	if (*p == ':') {
		char *end;

		if (p[1] < '0' || p[1] > '9') {
			*why = "its port is not a number";
			return -1;
		}
		errno = 0;
		n = strtol(p + 1, &end, 10);
		if (errno || n < 1 || n > 65535 || (*end && *end != '/')) {
			*why = "its port is not a number from 1 to 65535";
			return -1;
		}
		p = end;
	}
	*path = *p ? p : "/";
	for (; *p; p++)
		if (*p == '?' || *p == '#' || (unsigned char)*p <= 0x20 ||
		    (unsigned char)*p >= 0x7f) {
			*why = "its path has a query, a fragment, a space or a control character";
			return -1;
		}
	*port = (int)n;
	return 0;
}

/* n random bytes from the kernel, base64url: never anything weaker for these. */
static char *random_token(size_t n, okc_err *err)
{
	unsigned char rnd[64];
	struct buf b = BUF_INIT;
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(rnd + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			okc_fail(err, OKC_EXIT_FAIL,
			         "the system's random number generator failed: %s",
			         strerror(errno));
			return NULL;
		}
		got += (size_t)r;
	}
	base64url_encode(rnd, n, &b);
	wipe(rnd, sizeof(rnd));
	return buf_detach(&b);
}

void authcode_free(struct authcode *ac)
{
	if (!ac)
		return;
	free_secret(ac->verifier);
	free(ac->state);
	free(ac->nonce);
	free(ac->redirect_uri);
	free(ac->issuer);
	free(ac->url);
	memset(ac, 0, sizeof(*ac));
}

int authcode_start(const struct provider_cfg *p, const char *redirect_uri, struct authcode *out,
                   okc_err *err)
{
	struct oauth_endpoints ep;
	unsigned char digest[32];
	struct buf challenge = BUF_INIT, query = BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (oauth_endpoints_for(p, &ep, err) < 0)
		return -1;
	out->redirect_uri = xstrdup(redirect_uri);
	out->issuer = xstrdup(ep.issuer);
	if (!(out->verifier = random_token(VERIFIER_BYTES, err)) ||
	    !(out->state = random_token(STATE_BYTES, err)) ||
	    !(out->nonce = random_token(STATE_BYTES, err)) ||
	    sha256_digest(out->verifier, strlen(out->verifier), digest, err) < 0) {
		oauth_endpoints_free(&ep);
		authcode_free(out);
		return -1;
	}
	base64url_encode(digest, sizeof(digest), &challenge);
	http_form_add(&query, "client_id", p->client_id);
	http_form_add(&query, "response_type", "code");
	http_form_add(&query, "scope", p->scopes);
	http_form_add(&query, "redirect_uri", redirect_uri);
	http_form_add(&query, "state", out->state);
	http_form_add(&query, "nonce", out->nonce);
	http_form_add(&query, "code_challenge", challenge.data);
	http_form_add(&query, "code_challenge_method", "S256");
	out->url = xasprintf("%s?%s", ep.authorize, query.data);
	buf_free(&query);
	buf_free(&challenge);
	oauth_endpoints_free(&ep);
	return 0;
}

int authcode_listen(const struct provider_cfg *p, const struct authcode *ac, struct loopback *lb,
                    okc_err *err)
{
	char host[16];
	const char *path, *why;
	int port, rc;

	if (authcode_redirect_parse(ac->redirect_uri, host, sizeof(host), &port, &path, &why) < 0)
		return okc_fail(err, OKC_EXIT_USAGE, "%s: redirect_uri %s: %s", p->name,
		                ac->redirect_uri, why);
	rc = loopback_listen(lb, host, port, err);
	if (rc == LOOPBACK_BUSY) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: cannot wait for the browser on port %d: another program (or another "
		         "login) is listening there",
		         p->name, port);
		okc_hint(
		    err,
		    "stop it, or set redirect_uri of provider %s to another port (and register "
		    "that URI on the Okta app), or log in with --flow paste or --flow device",
		    p->name);
		return -1;
	}
	if (rc < 0)
		return okc_wrap(err, "%s", p->name);
	log_verbose("%s: waiting for the browser on %s", p->name, ac->redirect_uri);
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A percent-decoded copy of s[0..n) ('+' a space); NULL when it holds a bad escape or
 * a NUL. */
static char *decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				goto bad;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0)
			goto bad;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
bad:
	wipe(out, n + 1); /* not yet a string */
	free(out);
	return NULL;
}

struct answer {
	char *code, *state, *error, *description, *iss;
};

static void answer_free(struct answer *a)
{
	free_secret(a->code);
	free(a->state);
	free(a->error);
	free(a->description);
	free(a->iss);
	memset(a, 0, sizeof(*a));
}

/* The query's parameters we know; -1 when one is repeated or badly encoded (RFC 6749
 * 3.1: parameters must not be included more than once). */
static int parse_query(const char *q, struct answer *a)
{
	static const char *const names[] = {"code", "state", "error", "error_description", "iss"};
	char **fields[] = {&a->code, &a->state, &a->error, &a->description, &a->iss};

	memset(a, 0, sizeof(*a));
	while (*q) {
		size_t len = strcspn(q, "&"), klen = strcspn(q, "=&");
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (klen != strlen(names[i]) || memcmp(q, names[i], klen) != 0)
				continue;
			if (*fields[i])
				return -1;
			*fields[i] =
			    klen < len ? decode(q + klen + 1, len - klen - 1) : xstrdup("");
			if (!*fields[i])
				return -1;
		}
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

int authcode_answer(const struct authcode *ac, const char *query, char **code, okc_err *err)
{
	struct answer a;
	char error[64], description[256], iss[256];
	int rc = -1;

	*code = NULL;
	if (parse_query(query, &a) < 0) {
		okc_fail(
		    err, OKC_EXIT_FAIL,
		    "the sign-in's answer is malformed (a parameter repeated or badly encoded)");
		rc = AUTHCODE_WRONG_STATE;
		goto out;
	}
	if (!a.state || !str_eq_ct(a.state, ac->state)) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "the sign-in's answer does not belong to this login (%s state)",
		         a.state ? "a wrong" : "no");
		rc = AUTHCODE_WRONG_STATE;
		goto out;
	}
	if (a.iss && !str_eq(a.iss, ac->issuer)) {
		text_escape(iss, sizeof(iss), a.iss);
		okc_fail(err, OKC_EXIT_FAIL,
		         "the sign-in's answer comes from issuer \"%s\", not %s", iss, ac->issuer);
		goto out;
	}
	if (a.error) {
		text_escape(error, sizeof(error), a.error);
		text_escape(description, sizeof(description), a.description ? a.description : "");
		if (strcmp(a.error, "access_denied") == 0)
			okc_fail(err, OKC_EXIT_DENIED, "login denied at the sign-in page%s%s",
			         description[0] ? ": " : "", description);
		else
			okc_fail(err, OKC_EXIT_FAIL, "login failed: %s%s%s", error,
			         description[0] ? ": " : "", description);
		goto out;
	}
	if (!a.code || !tokens_is_vschar(a.code)) {
		okc_fail(err, OKC_EXIT_NETWORK, "the sign-in's answer has no valid code");
		goto out;
	}
	*code = a.code;
	a.code = NULL;
	rc = 0;
out:
	answer_free(&a);
	return rc;
}

struct wait_ctx {
	const struct authcode *ac;
	const char *path;
	char *code;
};

static int on_request(void *vctx, const char *target, struct loopback_reply *r, okc_err *err)
{
	struct wait_ctx *w = vctx;
	size_t plen = strcspn(target, "?");
	int rc;

	if (plen != strlen(w->path) || memcmp(target, w->path, plen) != 0) {
		r->status = 404;
		r->title = "Not found";
		r->message = "This address only takes the answer of an oktacred sign-in.";
		return 0;
	}
	rc = authcode_answer(w->ac, target[plen] ? target + plen + 1 : "", &w->code, err);
	if (rc == AUTHCODE_WRONG_STATE) {
		log_warn("refused a request to %s: %s", w->ac->redirect_uri, err->msg);
		okc_err_clear(err);
		r->status = 400;
		r->title = "Sign-in not accepted";
		r->message = "This answer does not belong to the sign-in that oktacred is waiting "
		             "for. Use the address the terminal shows.";
		return 0;
	}
	r->done = 1;
	if (rc < 0) {
		r->status = err->code == OKC_EXIT_DENIED ? 200 : 400;
		r->title = err->code == OKC_EXIT_DENIED ? "Sign-in denied" : "Sign-in failed";
		r->message =
		    "oktacred did not log in; the terminal says why. You may close this page.";
		return -1;
	}
	r->status = 200;
	r->title = "Signed in";
	r->message = "oktacred has the answer of your sign-in. You may close this page and go back "
	             "to the terminal.";
	return 0;
}

int authcode_wait_browser(const struct authcode *ac, struct loopback *lb, long long deadline_ms,
                          char **code, okc_err *err)
{
	struct wait_ctx w = {ac, NULL, NULL};
	char host[16];
	const char *why;
	int port, rc;

	*code = NULL;
	if (authcode_redirect_parse(ac->redirect_uri, host, sizeof(host), &port, &w.path, &why) < 0)
		return okc_fail(err, OKC_EXIT_USAGE, "redirect_uri %s: %s", ac->redirect_uri, why);
	rc = loopback_serve(lb, deadline_ms, on_request, &w, err);
	loopback_close(lb);
	if (rc < 0) {
		free_secret(w.code);
		return -1;
	}
	*code = w.code;
	return 0;
}

/* Reads one line (without its end) from fd into line. 0, or -1 with err. */
static int read_line(int fd, long long deadline_ms, struct buf *line, okc_err *err)
{
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline_ms - now_mono_ms();
		char c;
		ssize_t n;

		if (sig_interrupted())
			return okc_fail(err, OKC_EXIT_INTERRUPTED, "login interrupted");
		if (left <= 0)
			return okc_fail(err, OKC_EXIT_DENIED,
			                "login not completed: nothing was pasted in time");
		if (poll(&pfd, 1, (int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS)) <= 0)
			continue;
		n = read(fd, &c, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return okc_fail(err, OKC_EXIT_FAIL, "cannot read what was pasted: %s",
			                strerror(errno));
		if (n == 0 || c == '\n')
			return n == 0 && line->len == 0
			           ? okc_fail(err, OKC_EXIT_DENIED,
			                      "login not completed: nothing was pasted")
			           : 0;
		if (line->len >= PASTE_MAX)
			return okc_fail(err, OKC_EXIT_FAIL, "what was pasted is too long");
		buf_putc(line, c);
	}
}

int authcode_read_paste(const struct authcode *ac, int fd, long long deadline_ms, char **code,
                        okc_err *err)
{
	struct buf line = BUF_INIT;
	char *s, *q;
	int rc;

	*code = NULL;
	if (read_line(fd, deadline_ms, &line, err) < 0) {
		buf_free(&line);
		return -1;
	}
	buf_putc(&line, '\0');
	s = line.data;
	while (*s == ' ' || *s == '\t')
		s++;
	for (q = s + strlen(s); q > s && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'); q--)
		q[-1] = '\0';
	q = strchr(s, '?');
	s[strcspn(s, "#")] = '\0';
	if (q || strchr(s, '=')) {
		rc = authcode_answer(ac, q ? q + 1 : s, code, err);
		if (rc == AUTHCODE_WRONG_STATE) {
			okc_hint(err, "paste the address of the sign-in this login showed");
			rc = -1;
		}
	} else if (*s && tokens_is_vschar(s) && !strchr(s, ' ')) {
		/* The code alone: nothing to check the state with; the verifier and the
		 * nonce still bind it to this login. */
		log_verbose("only a code was pasted: its state cannot be checked");
		*code = xstrdup(s);
		rc = 0;
	} else if (!*s) {
		rc = okc_fail(err, OKC_EXIT_DENIED, "login not completed: nothing was pasted");
	} else {
		rc = okc_fail(err, OKC_EXIT_FAIL,
		              "what was pasted is neither the address the browser was sent to nor "
		              "a code");
	}
	buf_free(&line);
	return rc;
}

int authcode_exchange(const struct provider_cfg *p, const struct authcode *ac, const char *code,
                      struct tokens **out, okc_err *err)
{
	struct buf form = BUF_INIT;
	struct oauth_error oerr;
	int rc;

	http_form_add(&form, "client_id", p->client_id);
	http_form_add(&form, "grant_type", GRANT_AUTHORIZATION_CODE);
	http_form_add(&form, "code", code);
	http_form_add(&form, "redirect_uri", ac->redirect_uri);
	http_form_add(&form, "code_verifier", ac->verifier);
	rc = oauth_token_request(p, &form, out, &oerr, err);
	buf_free(&form);
	if (rc == OAUTH_ERROR) {
		int config = client_misconfigured(oerr.error);

		rc = okc_fail(err, config ? OKC_EXIT_USAGE : OKC_EXIT_FAIL, "login failed: %s%s%s",
		              oerr.error, oerr.description[0] ? ": " : "", oerr.description);
		if (config)
			okc_hint(err, CLIENT_HINT, p->name, ac->redirect_uri);
		else if (strcmp(oerr.error, "invalid_grant") == 0)
			okc_hint(err, "the code expired or was used already: run the login again");
	}
	return rc < 0 ? -1 : 0;
}
