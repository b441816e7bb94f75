/* okta_proxy.c: `exec --server` for okta/api-access (okta_proxy.h): judging a request,
 * passing it on with http_stream and streaming the answer back. */
#include "oktacred/okta_proxy.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "oktacred/dpop.h"
#include "oktacred/envset.h"
#include "oktacred/http.h"
#include "oktacred/httpserver.h"
#include "oktacred/log.h"
#include "oktacred/util.h"

#define SECRET_BYTES     32
#define HEAD_MAX         (32 * 1024)
#define THREADS          64
#define BODY_TIMEOUT_MS  30000L
#define SEND_TIMEOUT_MS  30000L
#define UPSTREAM_TIMEOUT 300000L /* one whole answer, ms */

/* ---- judging a request ---- */

static int is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int name_is(const char *name, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(name, word, n) == 0;
}

static const char *const hop_by_hop[] = {
    "Connection",
    "Keep-Alive",
    "Proxy-Authorization",
    "Proxy-Authenticate",
    "Proxy-Connection",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
};

static int hop(const char *name, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(hop_by_hop); i++)
		if (name_is(name, n, hop_by_hop[i]))
			return 1;
	return 0;
}

/* Whether the comma-separated list (a Connection header's value) names name. */
static int list_names(const char *list, size_t len, const char *name, size_t n)
{
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *e = memchr(p, ',', (size_t)(end - p));
		const char *s = p, *t = e ? e : end;

		while (s < t && (*s == ' ' || *s == '\t'))
			s++;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - s) == n && strncasecmp(s, name, n) == 0)
			return 1;
		p = e ? e + 1 : end;
	}
	return 0;
}

static int path_allowed(const char *target, size_t len)
{
	static const char *const prefixes[] = {"/api/", "/oauth2/", "/.well-known/"};
	const char *q = memchr(target, '?', len);
	size_t plen = q ? (size_t)(q - target) : len, i;
	int ok = 0;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (plen >= strlen(prefixes[i]) &&
		    memcmp(target, prefixes[i], strlen(prefixes[i])) == 0)
			ok = 1;
	if (!ok)
		return 0;
	for (i = 0; i < plen; i++) {
		char c = target[i];

		if (c == '\\')
			return 0;
		if (c == '%' && i + 2 < plen) {
			char a = target[i + 1], b = (char)(target[i + 2] | 0x20);

			/* %2e '.', %2f '/', %5c '\' */
			if ((a == '2' && (b == 'e' || b == 'f')) || (a == '5' && b == 'c'))
				return 0;
		}
		/* A "." or ".." segment. */
		if (c == '/' && i + 1 < plen && target[i + 1] == '.') {
			size_t j = i + 2;

			if (j < plen && target[j] == '.')
				j++;
			if (j == plen || target[j] == '/')
				return 0;
		}
	}
	return 1;
}

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

int okta_proxy_judge(const char *head, size_t len, const char *secret, struct okta_proxy_req *r)
{
	const char *end = head + len, *eol, *sp1, *sp2, *line, *conn = NULL, *auth = NULL;
	struct httpserver_field f;
	size_t conn_len = 0, auth_len = 0, mlen, i;
	int nauth = 0, nlines = 0, known = 0, te = 0, rc;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	eol = memchr(head, '\n', len);
	if (!eol)
		return 400;
	sp1 = memchr(head, ' ', (size_t)(eol - head));
	if (!sp1 || sp1 == head || (size_t)(sp1 - head) >= sizeof(r->method))
		return 400;
	mlen = (size_t)(sp1 - head);
	for (i = 0; i < mlen; i++)
		if (head[i] < 'A' || head[i] > 'Z')
			return 400;
	memcpy(r->method, head, mlen);
	r->target = sp1 + 1;
	sp2 = memchr(r->target, ' ', (size_t)(eol - r->target));
	if (!sp2 || sp2 == r->target || (size_t)(eol - sp2) < 9 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 400;
	r->target_len = (size_t)(sp2 - r->target);
	if (r->target[0] != '/')
		return 400; /* origin-form only: we are no forward proxy */
	for (i = 0; i < r->target_len; i++)
		if ((unsigned char)r->target[i] <= 0x20 || (unsigned char)r->target[i] >= 0x7f ||
		    r->target[i] == '#')
			return 400;

	/* First pass: the headers that decide, and the shape of every line. */
	line = eol + 1;
	while ((rc = httpserver_next_field(&line, end, &f)) != 0) {
		const char *v = f.value, *ve = f.value + f.value_len;

		if (++nlines > OKTA_PROXY_HEADERS_MAX)
			return 431;
		if (rc < 0)
			return 400; /* folded (it starts with white space) or nameless */
		for (i = 0; i < f.name_len; i++)
			if (!is_tchar(f.line[i]))
				return 400;
		for (const char *c = v; c < ve; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return 400;
		if (name_is(f.line, f.name_len, "Authorization")) {
			auth = v;
			auth_len = f.value_len;
			nauth++;
		} else if (name_is(f.line, f.name_len, "Connection")) {
			conn = v;
			conn_len = f.value_len;
		} else if (name_is(f.line, f.name_len, "Expect")) {
			r->expect_continue =
			    f.value_len == 12 && strncasecmp(v, "100-continue", 12) == 0;
		} else if (name_is(f.line, f.name_len, "Transfer-Encoding")) {
			te = 1;
		} else if (name_is(f.line, f.name_len, "Content-Length")) {
			long long n = 0;

			if (v == ve || f.value_len > 18)
				return 400;
			for (const char *c = v; c < ve; c++) {
				if (*c < '0' || *c > '9')
					return 400;
				n = n * 10 + (*c - '0');
			}
			if (r->content_length >= 0 && r->content_length != n)
				return 400;
			r->content_length = n;
		}
	}
	/* The secret first: nothing else is said to whoever does not hold it. */
	{
		size_t s = 0, slen = strlen(secret);
		const char *cred;

		while (auth && s < auth_len && auth[s] != ' ')
			s++;
		cred = auth ? auth + s : NULL;
		while (cred && cred < auth + auth_len && *cred == ' ')
			cred++;
		if (nauth != 1 || !(name_is(auth, s, "Bearer") || name_is(auth, s, "SSWS")) ||
		    !mem_eq_ct(cred, (size_t)(auth + auth_len - cred), secret, slen))
			return 401;
	}
	for (i = 0; i < ARRAY_SIZE(methods); i++)
		known |= strcmp(r->method, methods[i]) == 0;
	if (!known)
		return 405;
	if (!path_allowed(r->target, r->target_len))
		return 403;
	if (te)
		return 411;
	if (r->content_length > OKTA_PROXY_BODY_MAX)
		return 413;

	/* Second pass: what goes on (every line is a field: the first pass saw to that). The
	 * credentials are the proxy's: the child's Authorization and DPoP stay here (a second
	 * DPoP header beside the proxy's proof gets the request refused, RFC 9449 4.3). */
	line = eol + 1;
	while (httpserver_next_field(&line, end, &f) > 0) {
		if (name_is(f.line, f.name_len, "Authorization") ||
		    name_is(f.line, f.name_len, "DPoP") || name_is(f.line, f.name_len, "Host") ||
		    name_is(f.line, f.name_len, "Content-Length") ||
		    name_is(f.line, f.name_len, "Expect") || hop(f.line, f.name_len) ||
		    (conn && list_names(conn, conn_len, f.line, f.name_len)))
			continue;
		buf_append(&r->headers, f.line, f.line_len);
		buf_puts(&r->headers, "\r\n");
	}
	return 0;
}

/* ---- rewriting URLs that point at the upstream ---- */

/* The length of the origin (scheme://authority) at the start of url. */
static size_t origin_len(const char *url, size_t len)
{
	const char *s = memchr(url, ':', len);

	if (!s || (size_t)(url + len - s) < 3 || memcmp(s, "://", 3) != 0)
		return 0;
	s += 3;
	while (s < url + len && *s != '/' && *s != '?' && *s != '#')
		s++;
	return (size_t)(s - url);
}

static void rewrite_one(const char *url, size_t len, const char *from, const char *to,
                        struct buf *out)
{
	size_t fl = origin_len(from, strlen(from)), ul = origin_len(url, len);

	if (fl && ul == fl && strncasecmp(url, from, fl) == 0) {
		buf_puts(out, to);
		buf_append(out, url + ul, len - ul);
	} else {
		buf_append(out, url, len);
	}
}

void okta_proxy_rewrite_urls(const char *value, size_t len, const char *from, const char *to,
                             int whole, struct buf *out)
{
	const char *p = value, *end = value + len;

	if (whole) {
		rewrite_one(value, len, from, to, out);
		return;
	}
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt;

		if (!lt || !(gt = memchr(lt, '>', (size_t)(end - lt)))) {
			buf_append(out, p, (size_t)(end - p));
			return;
		}
		buf_append(out, p, (size_t)(lt - p) + 1);
		rewrite_one(lt + 1, (size_t)(gt - lt - 1), from, to, out);
		buf_putc(out, '>');
		p = gt + 1;
	}
}

/* ---- passing a request on ---- */

struct proxy {
	const struct okta_proxy_opts *o;
	char secret[2 * SECRET_BYTES + 1];
	char *self; /* http://127.0.0.1:PORT */
};

/* One answer being streamed back. */
struct answer {
	struct proxy *px;
	int fd;
	long status;
	struct buf head;
	int head_sent;
	/* DPoP: the answer's DPoP-Nonce, whether it is a use_dpop_nonce 401 to send again
	 * (then nothing of it goes to the client), and whether this is the second try. */
	char *nonce;
	int wants_nonce, resend, retried;
};

/* Whether word occurs in the len bytes at s. */
static int has_word(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word), i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(s + i, word, n) == 0)
			return 1;
	return 0;
}

static int on_header(void *ctx, long status, const char *line, size_t len)
{
	struct answer *a = ctx;
	const char *colon, *v;
	size_t n;

	if (!a->head.len) {
		a->status = status;
		buf_printf(&a->head, "HTTP/1.1 %ld %s\r\n", status, httpserver_reason((int)status));
	}
	if (len == 0) {
		if (a->nonce)
			dpop_nonce_set(a->px->o->upstream, a->nonce);
		if (a->wants_nonce && a->nonce && !a->retried) {
			a->resend = 1;
			return -1; /* not passed on: the request goes again with the nonce */
		}
		buf_puts(&a->head, "Connection: close\r\n\r\n");
		a->head_sent = 1;
		return httpserver_send(a->fd, a->head.data, a->head.len, SEND_TIMEOUT_MS);
	}
	colon = memchr(line, ':', len);
	if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
		return 0; /* folded or malformed: dropped */
	for (v = line; v < line + len; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return 0; /* a bare CR would split the head the client reads */
	n = (size_t)(colon - line);
	if (hop(line, n))
		return 0;
	for (v = colon + 1; v < line + len && (*v == ' ' || *v == '\t'); v++)
		;
	if (a->px->o->dpop && name_is(line, n, "DPoP-Nonce")) {
		free(a->nonce);
		a->nonce = xstrndup(v, (size_t)(line + len - v));
	}
	if (a->px->o->dpop && status == 401 && name_is(line, n, "WWW-Authenticate") &&
	    has_word(v, (size_t)(line + len - v), "use_dpop_nonce"))
		a->wants_nonce = 1;
	buf_append(&a->head, line, n);
	buf_puts(&a->head, ": ");
	if (name_is(line, n, "Link") || name_is(line, n, "Location"))
		okta_proxy_rewrite_urls(v, (size_t)(line + len - v), a->px->o->upstream,
		                        a->px->self, name_is(line, n, "Location"), &a->head);
	else
		buf_append(&a->head, v, (size_t)(line + len - v));
	buf_puts(&a->head, "\r\n");
	return 0;
}

static int on_body(void *ctx, const char *data, size_t len)
{
	struct answer *a = ctx;

	return httpserver_send(a->fd, data, len, SEND_TIMEOUT_MS);
}

static int stop_now(void *ctx)
{
	(void)ctx;
	return httpserver_stopping();
}

/* An answer of ours, Okta's error shape (what the SDKs show). */
static void refuse(int fd, int status, const char *why)
{
	struct buf body = BUF_INIT;
	char clean[512];
	size_t i, o = 0;

	for (i = 0; why[i] && o + 1 < sizeof(clean); i++)
		if (why[i] >= 0x20 && why[i] < 0x7f && why[i] != '"' && why[i] != '\\')
			clean[o++] = why[i];
	clean[o] = '\0';
	buf_printf(&body, "{\"errorCode\":\"oktacred\",\"errorSummary\":\"%s\"}\n", clean);
	httpserver_respond(fd, status, "application/json",
	                   status == 401 ? "WWW-Authenticate: Bearer realm=\"oktacred\"\r\n"
	                   : status == 405
	                       ? "Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n"
	                       : NULL,
	                   body.data, body.len);
	buf_free(&body);
}

static const char *why_refused(int status)
{
	switch (status) {
	case 401: return "wrong or missing authorization: use the secret oktacred gave";
	case 403: return "oktacred passes on only /api/, /oauth2/ and /.well-known/ paths";
	case 405: return "method not allowed";
	case 411: return "a request body needs a Content-Length";
	case 413: return "request body too large";
	case 431: return "request headers too large";
	default: return "malformed request";
	}
}

/* The rest of the body: what came with the head, then up to its length. */
static int read_body(struct httpserver_conn *c, size_t want, struct buf *body)
{
	size_t have = c->data.len - c->head_len;
	long long deadline = now_mono_ms() + BODY_TIMEOUT_MS;

	if (have > want)
		have = want; /* bytes of a next request: there is none (Connection: close) */
	buf_append(body, c->data.data + c->head_len, have);
	while (body->len < want) {
		struct pollfd p = {c->fd, POLLIN, 0};
		char chunk[16384];
		size_t room = want - body->len < sizeof(chunk) ? want - body->len : sizeof(chunk);
		ssize_t n;
		long long left = deadline - now_mono_ms();

		if (left <= 0 || httpserver_stopping())
			return -1;
		if (poll(&p, 1, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		n = recv(c->fd, chunk, room, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf_append(body, chunk, (size_t)n);
	}
	return 0;
}

/* Passes the request on once: its credentials made now (authorize), the answer streamed
 * back unless it is a use_dpop_nonce refusal (a->resend). Returns 0 when the answer came
 * (or is to be sent again), -1 when the client was told of a failure (or left). */
static int pass_on(struct proxy *px, const struct okta_proxy_req *r, const char *q,
                   const struct buf *body, struct answer *a, okc_err *err)
{
	struct buf auth = BUF_INIT, url = BUF_INIT, headers = BUF_INIT;
	struct http_stream s;
	const char **lines = NULL;
	char *flat;
	size_t nlines = 0, i;
	int started = 0, rc = -1;

	okc_err_clear(err);
	buf_printf(&url, "%s%.*s", px->o->upstream, (int)(q ? q - r->target : (long)r->target_len),
	           r->target);
	if (px->o->authorize(px->o->arg, r->method, url.data, &auth, err) < 0) {
		log_error("okta proxy: %s", err->msg);
		if (err->hint[0])
			fprintf(stderr, "%s\n", err->hint);
		if (err->hint[0]) {
			struct buf why = BUF_INIT;

			buf_printf(&why, "%s (%s)", err->msg, err->hint);
			refuse(a->fd, 502, why.data);
			buf_free(&why);
		} else {
			refuse(a->fd, 502, err->msg);
		}
		goto out;
	}
	buf_append(&url, q ? q : "", q ? (size_t)(r->target + r->target_len - q) : 0);
	/* The header lines as a NULL-terminated array, over one copy split at CRLF. */
	buf_append(&headers, r->headers.data, r->headers.len);
	buf_append(&headers, auth.data, auth.len);
	buf_append(&headers, NULL, 0);
	flat = headers.data;
	for (i = 0; i < headers.len; i++)
		nlines += flat[i] == '\n';
	lines = xcalloc(nlines + 1, sizeof(*lines));
	nlines = 0;
	for (char *p = flat; p && *p;) {
		char *nl = strstr(p, "\r\n");

		if (!nl)
			break;
		*nl = '\0';
		lines[nlines++] = p;
		p = nl + 2;
	}
	memset(&s, 0, sizeof(s));
	s.method = r->method;
	s.url = url.data;
	s.headers = lines;
	s.body = r->content_length >= 0 ? (body->data ? body->data : "") : NULL;
	s.body_len = body->len;
	s.on_header = on_header;
	s.on_body = on_body;
	s.abort = stop_now;
	s.ctx = a;
	{
		struct http_opts ho = {0};

		if (px->o->http)
			ho = *px->o->http;
		ho.timeout_ms = UPSTREAM_TIMEOUT;
		if (http_stream(&ho, &s, &started, err) < 0 && !a->resend) {
			log_error("okta proxy: %s %.*s: %s", r->method,
			          (int)(q ? q - r->target : (long)r->target_len), r->target,
			          err->msg);
			if (!started && !a->head_sent)
				refuse(a->fd, err->code == OKC_EXIT_NETWORK ? 502 : 500, err->msg);
			goto out;
		}
	}
	rc = 0;
out:
	free(lines);
	buf_free(&headers); /* wipes the credentials */
	buf_free(&auth);
	buf_free(&url);
	return rc;
}

static void serve(void *arg, struct httpserver_conn *c)
{
	struct proxy *px = arg;
	struct okta_proxy_req r;
	struct buf body = BUF_INIT;
	struct answer a;
	const char *q;
	int status, rc;
	okc_err err;

	memset(&r, 0, sizeof(r));
	memset(&a, 0, sizeof(a));
	okc_err_clear(&err);
	if (c->state == HTTPSERVER_HEAD_TOO_BIG)
		status = 431;
	else if (c->state != HTTPSERVER_HEAD_OK)
		status = 400;
	else
		status = okta_proxy_judge(c->data.data, c->head_len, px->secret, &r);
	if (status) {
		log_verbose("okta proxy: refused a request: %d", status);
		refuse(c->fd, status, why_refused(status));
		goto out;
	}
	/* curl (the command) waits a second for this before it sends a large body. */
	if (r.expect_continue && r.content_length > 0 && c->data.len == c->head_len)
		httpserver_send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, SEND_TIMEOUT_MS);
	if (r.content_length > 0 && read_body(c, (size_t)r.content_length, &body) < 0) {
		log_verbose("okta proxy: a request body did not come whole");
		goto out;
	}
	q = memchr(r.target, '?', r.target_len);
	a.px = px;
	a.fd = c->fd;
	for (;;) {
		rc = pass_on(px, &r, q, &body, &a, &err);
		if (rc == 0 && a.resend && !a.retried) {
			log_verbose(
			    "okta proxy: %s %.*s: the server asked for a DPoP nonce; sending "
			    "the request again",
			    r.method, (int)(q ? q - r.target : (long)r.target_len), r.target);
			a.retried = 1;
			a.resend = a.wants_nonce = 0;
			buf_reset(&a.head);
			continue;
		}
		break;
	}
	if (rc < 0)
		goto out;
	log_verbose("okta proxy: %s %.*s: %ld", r.method,
	            (int)(q ? q - r.target : (long)r.target_len), r.target, a.status);
out:
	buf_free(&r.headers);
	buf_free(&body);
	buf_free(&a.head);
	free(a.nonce);
}

static const char *const secret_vars[] = {"OKTA_ACCESS_TOKEN", "OKTA_OAUTH2_ACCESS_TOKEN",
                                          "OKTA_CLIENT_TOKEN", "OKTA_API_TOKEN"};
static const char *const url_vars[] = {"OKTA_HTTP_PROXY", "OKTA_ORG_URL", "OKTA_CLIENT_ORGURL",
                                       "OKTA_CLIENT_ORG_URL"};

static int setup(void *arg, int port, struct envset *env, okc_err *err)
{
	struct proxy *px = arg;
	size_t i, j;

	(void)err;
	px->self = xasprintf("http://127.0.0.1:%d", port);
	for (i = 0; i < ARRAY_SIZE(url_vars); i++)
		envset_put(env, url_vars[i], px->self, 0);
	for (i = 0; i < ARRAY_SIZE(secret_vars); i++)
		for (j = 0; j < env->n; j++)
			if (strcmp(env->vars[j].name, secret_vars[i]) == 0 && env->vars[j].value)
				envset_put(env, secret_vars[i], px->secret, 1);
	return 0;
}

int okta_proxy_run(const struct okta_proxy_opts *o, okc_err *err)
{
	struct httpserver_opts h = {0};
	struct proxy px;
	int rc = -1;

	memset(&px, 0, sizeof(px));
	px.o = o;
	/* libcurl is set up here, before any thread: its global init is not thread-safe. */
	if (httpserver_random_hex(SECRET_BYTES, px.secret, err) < 0 || http_init(err) < 0)
		goto out;
	h.name = "okta proxy";
	h.argv = o->argv;
	h.env = o->env;
	h.setup = setup;
	h.handle = serve;
	h.arg = &px;
	h.head_max = HEAD_MAX;
	h.threads = THREADS;
	rc = httpserver_run(&h, err);
out:
	wipe(px.secret, sizeof(px.secret));
	free(px.self);
	return rc;
}
