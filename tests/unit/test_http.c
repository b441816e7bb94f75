/* test_http.c: form encoding, the URL policy, and http_request against a tiny HTTP server
 * on 127.0.0.1 run by a thread of the test process (retries, waits, caps, the trace). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/http.h"
#include "oktacred/log.h"
#include "oktacred/sig.h"

/* ---- http_form_add ---- */

static void expect_form(const char *key, const char *value, const char *want)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(http_form_add(&b, key, value), 0);
	cr_expect_str_eq(b.data, want, "key %s", key);
	buf_free(&b);
}

Test(http_form, encoding)
{
	expect_form("a", "b c", "a=b%20c");
	expect_form("k", "&=+%", "k=%26%3D%2B%25");
	expect_form("k", "\xc3\xa9\xff", "k=%C3%A9%FF");
	expect_form("k", "AZaz09-._~", "k=AZaz09-._~");
	expect_form("k", "/:?#[]@!$'()*,;", "k=%2F%3A%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B");
	expect_form("a b&", "v", "a%20b%26=v");
	expect_form("k", "", "k=");
	expect_form("k", NULL, "k=");
	expect_form("scope", "openid profile offline_access",
	            "scope=openid%20profile%20offline_access");
}

Test(http_form, joins_with_ampersand)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(http_form_add(&b, "a", "1"), 0);
	cr_assert_eq(http_form_add(&b, "b", "2"), 0);
	cr_expect_str_eq(b.data, "a=1&b=2");
	buf_reset(&b); /* empty again: no leading '&' */
	cr_assert_eq(http_form_add(&b, "c", "3"), 0);
	cr_expect_str_eq(b.data, "c=3");
	buf_free(&b);
}

/* ---- http_url_allowed ---- */

Test(http_url, allowed)
{
	static const char *const ok[] = {
	    "https://company.okta.com/oauth2/v1/token",
	    "HTTPS://COMPANY.OKTA.COM",
	    "https://example.com:8443/x?y#z",
	    "http://127.0.0.1:8080/oauth2/default/v1/token",
	    "http://127.1.2.3/",
	    "http://localhost",
	    "http://LOCALHOST:9/x",
	    "http://[::1]:1/x",
	    "http://[0:0:0:0:0:0:0:1]/",
	    "http://127.0.0.1?x=@evil.com",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		okc_err err = {0};

		cr_expect_eq(http_url_allowed(ok[i], &err), 0, "%s: %s", ok[i], err.msg);
	}
}

Test(http_url, refused)
{
	static const char *const bad[] = {
	    "http://example.com/",
	    "http://127.0.0.1.evil.com/",
	    "http://localhost.evil.com",
	    "http://evil.com/127.0.0.1",
	    "http://128.0.0.1/",
	    "http://127.1/",
	    "http://0x7f000001/",
	    "http://2130706433/",
	    "http://[::2]/",
	    "http://[::1",
	    "ftp://127.0.0.1/",
	    "file:///etc/passwd",
	    "http://127.0.0.1@evil.com/",
	    "http://127.0.0.1:80@evil.com/",
	    "http://evil.com@127.0.0.1/",
	    "https://user:pass@example.com/",
	    "http://127.0.0.1\\@evil.com/",
	    "http://127.0.0.1 @evil.com/",
	    "http://localhost:99999/",
	    "http://localhost:8o/",
	    "http:/127.0.0.1/",
	    "localhost:8080",
	    "https://",
	    "",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		okc_err err = {0};

		cr_expect_eq(http_url_allowed(bad[i], &err), -1, "%s", bad[i]);
		cr_expect_eq(err.code, OKC_EXIT_USAGE, "%s", bad[i]);
		cr_expect_neq(err.msg[0], '\0', "%s", bad[i]);
	}
	cr_expect_eq(http_url_allowed(NULL, NULL), -1);
}

Test(http_url, message_names_host)
{
	okc_err err = {0};

	cr_assert_eq(http_url_allowed("http://example.com:8080/x", &err), -1);
	cr_expect_str_eq(err.msg, "refusing http:// URL for example.com: use https (plain http is "
	                          "allowed only for loopback)");
}

Test(http, user_agent)
{
	cr_expect_eq(strncmp(http_user_agent(), "oktacred/", 9), 0);
	cr_expect_gt(strlen(http_user_agent()), 9);
}

Test(http, response_free_is_idempotent)
{
	struct http_response r = {0};

	http_response_free(&r);
	buf_puts(&r.body, "secret");
	r.content_type = strdup("text/plain");
	http_response_free(&r);
	http_response_free(&r);
	http_response_free(NULL);
	cr_expect_null(r.body.data);
	cr_expect_null(r.content_type);
}

/* ---- a tiny HTTP server ---- */

#define MAX_CONN 8

struct canned {
	const char *text; /* the raw answer */
	size_t pad;       /* then this many 'x' bytes */
	int sigint;       /* then raise SIGINT in the process */
};

struct server {
	int fd;
	int port;
	struct canned answers[MAX_CONN + 1]; /* one per connection, ended by a NULL text */
	struct buf requests[MAX_CONN];
	int served;
	pthread_t thread;
};

static const char *find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* Reads one request: the headers, then Content-Length bytes of body. */
static void read_request(int c, struct buf *req)
{
	char chunk[4096];
	const char *eoh = NULL;
	size_t want = 0;

	for (;;) {
		ssize_t n;

		if (req->data && !eoh && (eoh = strstr(req->data, "\r\n\r\n"))) {
			const char *cl = find_ci(req->data, "\r\nContent-Length:");

			want = (size_t)(eoh + 4 - req->data) +
			       (cl && cl < eoh ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (eoh && req->len >= want)
			return;
		n = recv(c, chunk, sizeof(chunk), 0);
		if (n <= 0)
			return;
		buf_append(req, chunk, (size_t)n);
	}
}

static void send_all(int c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	int i;

	for (i = 0; i < MAX_CONN && s->answers[i].text; i++) {
		int c = accept(s->fd, NULL, NULL);
		char pad[1024];
		size_t left = s->answers[i].pad;

		if (c < 0)
			break;
		read_request(c, &s->requests[i]);
		send_all(c, s->answers[i].text, strlen(s->answers[i].text));
		memset(pad, 'x', sizeof(pad));
		while (left > 0) {
			size_t n = left < sizeof(pad) ? left : sizeof(pad);

			send_all(c, pad, n);
			left -= n;
		}
		if (s->answers[i].sigint)
			kill(getpid(), SIGINT);
		close(c);
		s->served = i + 1;
	}
	return NULL;
}

static int bound_socket(int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void server_start(struct server *s)
{
	s->fd = bound_socket(&s->port);
	cr_assert_eq(listen(s->fd, MAX_CONN), 0);
	cr_assert_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR); /* wakes an accept() that waits for nobody */
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* The recorded requests stay readable after server_stop until this. */
static void server_free(struct server *s)
{
	int i;

	for (i = 0; i < MAX_CONN; i++)
		buf_free(&s->requests[i]);
}

static char *url_for(const struct server *s, const char *path)
{
	char *u = malloc(128);

	snprintf(u, 128, "http://127.0.0.1:%d%s", s->port, path);
	return u;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define OK_JSON                                                                                    \
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"              \
	"Connection: close\r\n\r\n{\"ok\":true}"
#define ANSWER(status) "HTTP/1.1 " status "\r\nContent-Length: 0\r\nConnection: close\r\n"

/* Runs req against s with opts; fills resp and err, returns http_request's value. */
static int run(const struct http_opts *opts, struct http_request *req, struct http_response *resp,
               okc_err *err)
{
	if (!req->method)
		req->method = "GET";
	return http_request(opts, req, resp, err);
}

/* ---- http_request ---- */

Test(http_request, get_200_with_body)
{
	struct server s = {.answers = {{OK_JSON, 0, 0}}};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	server_start(&s);
	url = url_for(&s, "/oauth2/v1/keys");
	req.url = url;
	cr_assert_eq(run(NULL, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	cr_expect_eq(resp.status, 200);
	cr_expect_eq(resp.attempts, 1);
	cr_expect_str_eq(resp.body.data, "{\"ok\":true}");
	cr_expect_eq(resp.body.len, 11);
	cr_expect_str_eq(resp.content_type, "application/json");
	cr_expect_eq(strncmp(s.requests[0].data, "GET /oauth2/v1/keys HTTP/1.1\r\n", 30), 0);
	cr_expect_not_null(find_ci(s.requests[0].data, "\r\nUser-Agent: oktacred/"));
	cr_expect_not_null(find_ci(s.requests[0].data, "\r\nAccept: application/json\r\n"));
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, post_body_basic_auth_and_headers)
{
	static const char *const extra[] = {"X-Test: 1", NULL};
	static const char body[] = "grant_type=client_credentials&scope=okta.users.read";
	struct server s = {.answers = {{OK_JSON, 0, 0}}};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;
	const char *r;

	server_start(&s);
	url = url_for(&s, "/oauth2/v1/token");
	req.method = "POST";
	req.url = url;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = body;
	req.body_len = strlen(body);
	req.basic_user = "client";
	req.basic_pass = "s3cret";
	req.headers = extra;
	cr_assert_eq(run(NULL, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	r = s.requests[0].data;
	cr_expect_eq(strncmp(r, "POST /oauth2/v1/token HTTP/1.1\r\n", 32), 0);
	cr_expect_not_null(find_ci(r, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
	cr_expect_not_null(find_ci(r, "\r\nAuthorization: Basic Y2xpZW50OnMzY3JldA==\r\n"));
	cr_expect_not_null(find_ci(r, "\r\nX-Test: 1\r\n"));
	cr_expect_null(find_ci(r, "\r\nExpect:"));
	cr_expect_not_null(strstr(r, "\r\n\r\n"
	                             "grant_type=client_credentials&scope=okta.users.read"));
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, basic_credentials_are_form_encoded)
{
	struct server s = {.answers = {{OK_JSON, 0, 0}}};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	server_start(&s);
	url = url_for(&s, "/t");
	req.method = "POST";
	req.url = url;
	req.basic_user = "a:b";
	req.basic_pass = "p w";
	cr_assert_eq(run(NULL, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	/* base64("a%3Ab:p%20w") */
	cr_expect_not_null(
	    find_ci(s.requests[0].data, "\r\nAuthorization: Basic YSUzQWI6cCUyMHc=\r\n"));
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, retries_503_then_200)
{
	struct server s = {.answers = {{ANSWER("503 Service Unavailable") "\r\n", 0, 0},
	                               {ANSWER("503 Service Unavailable") "\r\n", 0, 0},
	                               {OK_JSON, 0, 0}}};
	struct http_opts opts = {.max_wait_ms = 300};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url, *p;
	FILE *cap = tmpfile();
	int saved = dup(STDERR_FILENO);
	char log[4096];
	size_t n;

	log_init(LOG_VERBOSE, 0);
	dup2(fileno(cap), STDERR_FILENO);
	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	cr_assert_eq(run(&opts, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_expect_eq(resp.status, 200);
	cr_expect_eq(resp.attempts, 3);
	cr_expect_eq(s.served, 3);
	rewind(cap);
	n = fread(log, 1, sizeof(log) - 1, cap);
	log[n] = '\0';
	fclose(cap);
	p = strstr(log, "answered 503; retrying in ");
	cr_expect_not_null(p, "%s", log);
	cr_expect_not_null(strstr(log, "(attempt 2 of 4)"), "%s", log);
	cr_expect_not_null(strstr(log, "(attempt 3 of 4)"), "%s", log);
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, gives_up_and_returns_the_last_5xx)
{
	struct server s = {.answers = {{ANSWER("500 Internal Server Error") "\r\n", 0, 0},
	                               {ANSWER("502 Bad Gateway") "\r\n", 0, 0}}};
	struct http_opts opts = {.max_attempts = 2, .max_wait_ms = 100};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	cr_assert_eq(run(&opts, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	cr_expect_eq(resp.status, 502);
	cr_expect_eq(resp.attempts, 2);
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, client_errors_and_redirects_are_not_retried)
{
	struct server s = {.answers = {{ANSWER("404 Not Found") "\r\n", 0, 0},
	                               {"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n"
	                                "Content-Length: 0\r\nConnection: close\r\n\r\n",
	                                0, 0}}};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	cr_assert_eq(run(NULL, &req, &resp, &err), 0, "%s", err.msg);
	cr_expect_eq(resp.status, 404);
	cr_expect_eq(resp.attempts, 1);
	http_response_free(&resp);
	cr_assert_eq(run(NULL, &req, &resp, &err), 0, "%s", err.msg);
	cr_expect_eq(resp.status, 302);
	cr_expect_eq(resp.attempts, 1);
	server_stop(&s);
	cr_expect_eq(s.served, 2);
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

static void expect_wait(const char *first_answer, double at_least)
{
	struct server s = {.answers = {{first_answer, 0, 0}, {OK_JSON, 0, 0}}};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;
	double t0, elapsed;

	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	t0 = now_s();
	cr_assert_eq(run(NULL, &req, &resp, &err), 0, "%s", err.msg);
	elapsed = now_s() - t0;
	server_stop(&s);
	cr_expect_eq(resp.status, 200);
	cr_expect_eq(resp.attempts, 2);
	cr_expect_geq(elapsed, at_least, "waited %.3f s after %s", elapsed, first_answer);
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, honours_retry_after_seconds)
{
	expect_wait(ANSWER("429 Too Many Requests") "Retry-After: 1\r\n\r\n", 1.0);
}

Test(http_request, waits_a_second_on_429_without_headers)
{
	expect_wait(ANSWER("429 Too Many Requests") "\r\n", 1.0);
}

/* Both times are taken relative to the server's Date (2001), not to our clock. */
Test(http_request, honours_retry_after_date)
{
	expect_wait(
	    ANSWER("503 Service Unavailable") "Date: Sun, 09 Sep 2001 01:46:40 GMT\r\n"
	                                      "Retry-After: Sun, 09 Sep 2001 01:46:41 GMT\r\n\r\n",
	    1.0);
}

Test(http_request, honours_okta_rate_limit_reset)
{
	/* Two seconds after the server's Date: more than the 1 s floor of a 429. */
	expect_wait(ANSWER("429 Too Many Requests") "Date: Sun, 09 Sep 2001 01:46:40 GMT\r\n"
	                                            "X-Rate-Limit-Reset: 1000000002\r\n\r\n",
	            2.0);
}

Test(http_request, caps_long_waits)
{
	struct server s = {
	    .answers = {{ANSWER("429 Too Many Requests") "Retry-After: 3600\r\n\r\n", 0, 0},
	                {OK_JSON, 0, 0}}};
	struct http_opts opts = {.max_wait_ms = 100};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	cr_assert_eq(run(&opts, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	cr_expect_eq(resp.status, 200);
	cr_expect_eq(resp.attempts, 2);
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

static void expect_too_big(const char *head, size_t pad)
{
	struct server s = {.answers = {{head, pad, 0}}};
	struct http_opts opts = {.max_body = 1000};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url, want[128];

	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	cr_expect_eq(run(&opts, &req, &resp, &err), -1);
	server_stop(&s);
	cr_expect_eq(err.code, OKC_EXIT_NETWORK);
	snprintf(want, sizeof(want), "response from 127.0.0.1:%d is larger than 1000 bytes",
	         s.port);
	cr_expect_str_eq(err.msg, want);
	cr_expect_eq(resp.attempts, 1);
	cr_expect_eq(resp.body.len, 0);
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, body_over_the_cap_with_length)
{
	expect_too_big("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n",
	               100000);
}

Test(http_request, body_over_the_cap_streamed)
{
	expect_too_big("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 100000);
}

Test(http_request, body_at_the_cap_is_fine)
{
	struct server s = {
	    .answers = {
	        {"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n", 1000, 0}}};
	struct http_opts opts = {.max_body = 1000};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	cr_expect_eq(run(&opts, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	cr_expect_eq(resp.body.len, 1000);
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, connection_refused)
{
	struct http_opts opts = {.max_attempts = 2, .max_wait_ms = 100};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char url[64], host[32];
	int port, fd = bound_socket(&port); /* bound, never listening: connect is refused */

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	snprintf(host, sizeof(host), "cannot reach 127.0.0.1:%d: ", port);
	req.url = url;
	cr_expect_eq(run(&opts, &req, &resp, &err), -1);
	close(fd);
	cr_expect_eq(err.code, OKC_EXIT_NETWORK);
	cr_expect_eq(strncmp(err.msg, host, strlen(host)), 0, "%s", err.msg);
	cr_expect_not_null(strstr(err.msg, "Couldn't connect"), "%s", err.msg);
	cr_expect_eq(resp.attempts, 2);
	http_response_free(&resp);
}

Test(http_request, refused_url_makes_no_request)
{
	struct http_request req = {.method = "GET", .url = "http://example.com/"};
	struct http_response resp = {0};
	okc_err err = {0};

	cr_expect_eq(http_request(NULL, &req, &resp, &err), -1);
	cr_expect_eq(err.code, OKC_EXIT_USAGE);
	cr_expect_eq(resp.attempts, 0);
	http_response_free(&resp);
}

Test(http_request, interrupted_before_start)
{
	struct http_request req = {.method = "GET", .url = "http://127.0.0.1:1/"};
	struct http_response resp = {0};
	okc_err err = {0};

	sig_install();
	raise(SIGINT);
	cr_expect_eq(http_request(NULL, &req, &resp, &err), -1);
	cr_expect_eq(err.code, OKC_EXIT_INTERRUPTED);
	http_response_free(&resp);
}

/* SIGINT arrives while the answer asks for a long wait: no waiting it out. */
Test(http_request, interrupted_during_retry_wait)
{
	struct server s = {
	    .answers = {{ANSWER("503 Service Unavailable") "Retry-After: 30\r\n\r\n", 0, 1}}};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	sig_install();
	server_start(&s);
	url = url_for(&s, "/x");
	req.url = url;
	cr_expect_eq(run(NULL, &req, &resp, &err), -1);
	server_stop(&s);
	cr_expect_eq(err.code, OKC_EXIT_INTERRUPTED);
	cr_expect_str_eq(err.msg, "interrupted");
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, rejects_header_injection)
{
	static const char *const extra[] = {"X-A: 1\r\nX-B: 2", NULL};
	struct http_request req = {.method = "GET", .url = "http://127.0.0.1:1/", .headers = extra};
	struct http_response resp = {0};
	okc_err err = {0};

	cr_expect_eq(http_request(NULL, &req, &resp, &err), -1);
	cr_expect_eq(err.code, OKC_EXIT_FAIL);
	http_response_free(&resp);
}

/* --debug shows requests and answers with every secret replaced. */
Test(http_request, debug_trace_is_redacted)
{
	static const char answer_body[] =
	    "{\"access_token\":\"ATSECRET\",\"refresh_token\":\"RTSECRET\",\"token_type\":"
	    "\"Bearer\"}";
	static const char form[] = "grant_type=refresh_token&refresh_token=OLDRTSECRET&"
	                           "client_secret=CSSECRET";
	static const char *const extra1[] = {"X-Api-Key: APIKEYSECRET", "Cookie: c=COOKIEOUT",
	                                     NULL};
	static const char *const extra2[] = {"Authorization: SSWS SSWSSECRET", NULL};
	static const char *const secrets[] = {
	    "ATSECRET",
	    "RTSECRET",
	    "OLDRTSECRET",
	    "CSSECRET",
	    "APIKEYSECRET",
	    "COOKIEOUT",
	    "SSWSSECRET",
	    "QSECRET",
	    "COOKIEIN",
	    "BASICSECRET",
	    "Y2xpZW50OkJBU0lDU0VDUkVU",
	};
	char answer[512];
	struct server s = {0};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url, *out;
	FILE *cap = tmpfile();
	int saved = dup(STDERR_FILENO);
	struct buf log = BUF_INIT;
	char chunk[1024];
	size_t n, i;

	snprintf(answer, sizeof(answer),
	         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	         "Set-Cookie: sid=COOKIEIN; HttpOnly\r\nContent-Length: %zu\r\n"
	         "Connection: close\r\n\r\n%s",
	         strlen(answer_body), answer_body);
	s.answers[0].text = answer;
	s.answers[1].text = OK_JSON;
	log_init(LOG_DEBUG, 0);
	server_start(&s);
	url = url_for(&s, "/token?code=QSECRET&state=s1");
	dup2(fileno(cap), STDERR_FILENO);

	req.method = "POST";
	req.url = url;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form;
	req.body_len = strlen(form);
	req.basic_user = "client";
	req.basic_pass = "BASICSECRET";
	req.headers = extra1;
	cr_expect_eq(http_request(NULL, &req, &resp, &err), 0, "%s", err.msg);
	http_response_free(&resp);

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = extra2;
	cr_expect_eq(http_request(NULL, &req, &resp, &err), 0, "%s", err.msg);
	http_response_free(&resp);

	dup2(saved, STDERR_FILENO);
	close(saved);
	server_stop(&s);
	rewind(cap);
	while ((n = fread(chunk, 1, sizeof(chunk), cap)) > 0)
		buf_append(&log, chunk, n);
	fclose(cap);
	out = log.data ? log.data : "";

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		cr_expect_null(strstr(out, secrets[i]), "%s leaked:\n%s", secrets[i], out);
	cr_expect_not_null(strstr(out, "> POST /token?code=<redacted>&state=s1 HTTP/1.1"), "%s",
	                   out);
	cr_expect_not_null(strstr(out, "> Authorization: <redacted>"), "%s", out);
	cr_expect_not_null(strstr(out, "> X-Api-Key: <redacted>"), "%s", out);
	cr_expect_not_null(strstr(out, "> Cookie: <redacted>"), "%s", out);
	cr_expect_not_null(strstr(out, "refresh_token=<redacted>&client_secret=<redacted>"), "%s",
	                   out);
	cr_expect_not_null(strstr(out, "< HTTP/1.1 200 OK"), "%s", out);
	cr_expect_not_null(strstr(out, "< Set-Cookie: <redacted>"), "%s", out);
	cr_expect_not_null(strstr(out, "\"access_token\":\"<redacted>\""), "%s", out);
	cr_expect_not_null(strstr(out, "\"token_type\":\"Bearer\""), "%s", out);
	buf_free(&log);
	server_free(&s);
	free(url);
}

/* ---- the prepare hook: a body built anew for every attempt ---- */

struct prepared {
	int calls;
	int fail_at;         /* the call that fails, 0: none */
	int empty_each_time; /* every call found the body empty */
	const char *prefix;  /* the body of call n: prefix, n, "&n=", then n digits n */
};

static int prepare_attempt(void *ctx, struct buf *body, okc_err *err)
{
	struct prepared *p = ctx;
	int i;

	p->calls++;
	if (body->len != 0)
		p->empty_each_time = 0;
	if (p->calls == p->fail_at)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot sign attempt %d", p->calls);
	/* Each attempt a different length, so Content-Length must follow the body. */
	buf_puts(body, p->prefix);
	buf_printf(body, "%d&n=", p->calls);
	for (i = 0; i < p->calls; i++)
		buf_printf(body, "%d", p->calls);
	return 0;
}

static const char *request_body(const struct buf *r)
{
	const char *eoh = r->data ? strstr(r->data, "\r\n\r\n") : NULL;

	return eoh ? eoh + 4 : "";
}

Test(http_request, prepare_builds_the_body_of_each_attempt)
{
	static const char *const want[] = {"attempt=1&n=1", "attempt=2&n=22", "attempt=3&n=333"};
	struct server s = {.answers = {{ANSWER("503 Service Unavailable") "\r\n", 0, 0},
	                               {ANSWER("500 Internal Server Error") "\r\n", 0, 0},
	                               {OK_JSON, 0, 0}}};
	struct http_opts opts = {.max_wait_ms = 200};
	struct prepared p = {.empty_each_time = 1, .prefix = "attempt="};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url, cl[64];
	int i;

	server_start(&s);
	url = url_for(&s, "/oauth2/v1/token");
	req.method = "POST";
	req.url = url;
	req.body = "stale=body"; /* not used when prepare is set */
	req.body_len = 10;
	req.prepare = prepare_attempt;
	req.prepare_ctx = &p;
	cr_assert_eq(run(&opts, &req, &resp, &err), 0, "%s", err.msg);
	server_stop(&s);
	cr_expect_eq(resp.status, 200);
	cr_expect_eq(resp.attempts, 3);
	cr_expect_eq(p.calls, 3, "called once per attempt");
	cr_expect(p.empty_each_time, "the previous attempt's body was handed back");
	cr_assert_eq(s.served, 3);
	for (i = 0; i < 3; i++) {
		cr_expect_str_eq(request_body(&s.requests[i]), want[i], "attempt %d", i + 1);
		snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(want[i]));
		cr_expect_not_null(find_ci(s.requests[i].data, cl), "attempt %d: %s", i + 1,
		                   s.requests[i].data);
	}
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, prepare_failure_ends_the_request)
{
	struct server s = {
	    .answers = {{ANSWER("503 Service Unavailable") "\r\n", 0, 0}, {OK_JSON, 0, 0}}};
	struct http_opts opts = {.max_wait_ms = 200};
	struct prepared p = {.fail_at = 2, .empty_each_time = 1, .prefix = "a="};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char *url;

	server_start(&s);
	url = url_for(&s, "/t");
	req.method = "POST";
	req.url = url;
	req.prepare = prepare_attempt;
	req.prepare_ctx = &p;
	cr_expect_eq(run(&opts, &req, &resp, &err), -1);
	server_stop(&s);
	cr_expect_eq(p.calls, 2);
	cr_expect_eq(s.served, 1, "no request without its body");
	cr_expect_str_eq(request_body(&s.requests[0]), "a=1&n=1");
	cr_expect_eq(err.code, OKC_EXIT_FAIL);
	cr_expect_str_eq(err.msg, "cannot sign attempt 2");
	http_response_free(&resp);
	server_free(&s);
	free(url);
}

Test(http_request, prepare_needs_a_post)
{
	struct prepared p = {.prefix = "a="};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};

	req.method = "GET";
	req.url = "http://127.0.0.1:1/";
	req.prepare = prepare_attempt;
	req.prepare_ctx = &p;
	cr_expect_eq(http_request(NULL, &req, &resp, &err), -1);
	cr_expect_eq(err.code, OKC_EXIT_FAIL);
	cr_expect_eq(p.calls, 0);
	http_response_free(&resp);
}

/* --debug traces the body each attempt sent, and redacts an echo of it in the answer. */
Test(http_request, prepared_bodies_in_the_debug_trace)
{
	static const char echo[] = "{\"error\":\"invalid_client\",\"error_description\":"
	                           "\"bad ASSERTSECRET2&n=22\"}";
	struct server s = {.answers = {{ANSWER("503 Service Unavailable") "\r\n", 0, 0}}};
	struct http_opts opts = {.max_wait_ms = 200};
	struct prepared p = {.empty_each_time = 1, .prefix = "client_assertion=ASSERTSECRET"};
	struct http_request req = {0};
	struct http_response resp = {0};
	okc_err err = {0};
	char answer[256], *url, *out, chunk[1024];
	FILE *cap = tmpfile();
	int saved = dup(STDERR_FILENO);
	struct buf log = BUF_INIT;
	size_t n;

	snprintf(answer, sizeof(answer),
	         "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	         strlen(echo), echo);
	s.answers[1].text = answer;
	log_init(LOG_DEBUG, 0);
	server_start(&s);
	url = url_for(&s, "/t");
	dup2(fileno(cap), STDERR_FILENO);
	req.method = "POST";
	req.url = url;
	req.content_type = "application/x-www-form-urlencoded";
	req.prepare = prepare_attempt;
	req.prepare_ctx = &p;
	cr_expect_eq(run(&opts, &req, &resp, &err), 0, "%s", err.msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	server_stop(&s);
	rewind(cap);
	while ((n = fread(chunk, 1, sizeof(chunk), cap)) > 0)
		buf_append(&log, chunk, n);
	fclose(cap);
	out = log.data ? log.data : "";
	cr_expect_eq(resp.status, 401);
	/* n is no allow-listed field: the attempts differ by their lengths. */
	cr_expect_not_null(strstr(out, "[34 bytes] client_assertion=<redacted>&n=<redacted>"), "%s",
	                   out);
	cr_expect_not_null(strstr(out, "[35 bytes] client_assertion=<redacted>&n=<redacted>"), "%s",
	                   out);
	cr_expect_null(strstr(out, "ASSERTSECRET"), "leaked:\n%s", out);
	http_response_free(&resp);
	buf_free(&log);
	server_free(&s);
	free(url);
}
