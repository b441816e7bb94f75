/* http.c: the HTTP client, and the only file that includes <curl/curl.h>: URL policy,
 * timeouts, TLS, retries with backoff, the body cap and the redacted --debug trace.
 * libcurl is dlopen()ed by the first request: commands served from the cache never load it. */
#include "oktacred/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/dl.h"
#include "oktacred/log.h"
#include "oktacred/redact.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

#ifndef OKTACRED_VERSION
#define OKTACRED_VERSION "0.0.0"
#endif

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS         30000L
#define DEFAULT_MAX_ATTEMPTS       4
#define DEFAULT_MAX_WAIT_MS        60000L
#define DEFAULT_MAX_BODY           ((size_t)1 << 20)
#define BACKOFF_FIRST_MS           500L
#define BACKOFF_MAX_MS             3600000L
#define WAIT_MIN_MS                100L
#define WAIT_MIN_429_MS            1000L
#define TRACE_BODY_MAX             4096
#define HEADER_VALUE_MAX           1024

/* ---- libcurl, loaded on first use ---- */

#define CURL_SYMBOLS(X)                                                                            \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_init)                                                                          \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_strerror)                                                                      \
	X(curl_free)                                                                               \
	X(curl_getdate)                                                                            \
	X(curl_global_init)                                                                        \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)                                                                     \
	X(curl_url)                                                                                \
	X(curl_url_cleanup)                                                                        \
	X(curl_url_get)                                                                            \
	X(curl_url_set)

DL_LIBRARY(libcurl, CURL_SYMBOLS, "libcurl",
           "libcurl4 (Debian/Ubuntu), libcurl (Fedora), curl (Homebrew)", "libcurl.so.4",
           "libcurl-gnutls.so.4");

/* Every libcurl call below goes through the table. setopt and getinfo lose the type-checking
 * macros of curl's typecheck-gcc.h, which would call the linked function. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_cleanup   (*sym_curl_easy_cleanup)
#define curl_easy_getinfo   (*sym_curl_easy_getinfo)
#define curl_easy_init      (*sym_curl_easy_init)
#define curl_easy_perform   (*sym_curl_easy_perform)
#define curl_easy_setopt    (*sym_curl_easy_setopt)
#define curl_easy_strerror  (*sym_curl_easy_strerror)
#define curl_free           (*sym_curl_free)
#define curl_getdate        (*sym_curl_getdate)
#define curl_global_init    (*sym_curl_global_init)
#define curl_slist_append   (*sym_curl_slist_append)
#define curl_slist_free_all (*sym_curl_slist_free_all)
#define curl_url            (*sym_curl_url)
#define curl_url_cleanup    (*sym_curl_url_cleanup)
#define curl_url_get        (*sym_curl_url_get)
#define curl_url_set        (*sym_curl_url_set)

const char *http_user_agent(void)
{
	return "oktacred/" OKTACRED_VERSION;
}

/* ---- form encoding ---- */

static void form_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_putc(out, (char)c);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		buf_append(out, esc, 3);
	}
}

int http_form_add(struct buf *out, const char *key, const char *value)
{
	if (out->len)
		buf_putc(out, '&');
	form_encode(out, key);
	buf_putc(out, '=');
	form_encode(out, value ? value : "");
	return 0;
}

/* ---- URL policy ---- */

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int span_eq_ci(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!word[i] ||
		    ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)word[i]))
			return 0;
	return word[n] == '\0';
}

static int span_loopback(const struct http_url *u)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];

	if (!u->ipv6 && span_eq_ci(u->host, u->host_len, "localhost"))
		return 1;
	if (u->host_len >= sizeof(tmp))
		return 0;
	memcpy(tmp, u->host, u->host_len);
	tmp[u->host_len] = '\0';
	if (u->ipv6)
		return inet_pton(AF_INET6, tmp, addr) == 1 &&
		       memcmp(addr, &in6addr_loopback, sizeof(struct in6_addr)) == 0;
	/* inet_pton takes only the strict dotted quad, so "127.1", "0x7f.0.0.1" or
	 * "127.0.0.1.evil.com" are names, not loopback. */
	return inet_pton(AF_INET, tmp, addr) == 1 && addr[0] == 127;
}

int http_url_check(const char *url, struct http_url *u, const char **why)
{
	const char *p, *end, *host_end;
	size_t scheme_len;

	memset(u, 0, sizeof(*u));
	*why = NULL;
	if (!url || !*url) {
		*why = "is empty";
		return -1;
	}
	for (p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			*why = "contains spaces or control characters";
			return -1;
		}
	}
	scheme_len =
	    strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	if (scheme_len == 0 || strncmp(url + scheme_len, "://", 3) != 0 ||
	    !(span_eq_ci(url, scheme_len, "https") || span_eq_ci(url, scheme_len, "http"))) {
		*why = "must start with https://";
		return -1;
	}
	u->https = span_eq_ci(url, scheme_len, "https");
	p = url + scheme_len + 3;
	end = p + strcspn(p, "/?#");
	u->authority = p;
	u->authority_len = (size_t)(end - p);
	u->rest = end;
	if (memchr(p, '@', (size_t)(end - p))) {
		*why = "must not contain a user name or password";
		return -1;
	}
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(end - p));
		if (!host_end || host_end == p + 1 ||
		    strspn(p + 1, "0123456789abcdefABCDEF:.") != (size_t)(host_end - p - 1)) {
			*why = "has a malformed [IPv6] host";
			return -1;
		}
		u->host = p + 1;
		u->host_len = (size_t)(host_end - p - 1);
		u->ipv6 = 1;
		host_end++;
	} else {
		host_end = p + strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                         "0123456789.-");
		if (host_end > end)
			host_end = end;
		if (host_end == p || *p == '.' || *p == '-') {
			*why = "has no valid host name";
			return -1;
		}
		u->host = p;
		u->host_len = (size_t)(host_end - p);
	}
	if (host_end < end && *host_end == ':') {
		const char *port = host_end + 1;
		size_t digits = strspn(port, "0123456789");

		if (port + digits != end || digits == 0 || digits > 5 || atol(port) < 1 ||
		    atol(port) > 65535) {
			*why = "has an invalid port";
			return -1;
		}
	} else if (host_end != end) {
		*why = "has an invalid character in the host name";
		return -1;
	}
	if (!u->https && !span_loopback(u)) {
		*why = "must use https:// (http:// is only for localhost, 127.0.0.0/8 and [::1])";
		return -1;
	}
	return 0;
}

int http_url_allowed(const char *url, okc_err *err)
{
	struct http_url u;
	const char *why;

	if (http_url_check(url, &u, &why) == 0)
		return 0;
	if (!err)
		return -1;
	if (u.host && !u.https && strncmp(why, "must use", 8) == 0)
		return okc_fail(err, OKC_EXIT_USAGE,
		                "refusing http:// URL for %.*s: use https (plain http is allowed "
		                "only for loopback)",
		                (int)u.host_len, u.host);
	return okc_fail(err, OKC_EXIT_USAGE, "invalid URL: it %s", why);
}

/* ---- the transfer ---- */

struct xfer {
	struct buf *body;
	size_t max_body;
	int too_big;
	/* From the headers of the last response of the current attempt. */
	char *content_type;
	char *cache_control;
	char *dpop_nonce;
	char *retry_after;
	char *rate_reset;
	char *date;
	/* --debug trace */
	const struct http_request *req;
	int post; /* only a POST sends the body */
	int body_traced;
};

static void xfer_clear_headers(struct xfer *x)
{
	free(x->content_type);
	free(x->cache_control);
	free(x->dpop_nonce);
	free(x->retry_after);
	free(x->rate_reset);
	free(x->date);
	x->content_type = x->cache_control = x->retry_after = x->rate_reset = x->date = NULL;
	x->dpop_nonce = NULL;
}

/* Stores the value of header line `line` in *slot when its name is `name`. */
static void capture_header(const char *line, size_t len, const char *name, char **slot)
{
	const char *colon = memchr(line, ':', len);
	const char *v, *e;

	if (!colon || !span_eq_ci(line, (size_t)(colon - line), name))
		return;
	v = colon + 1;
	e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((size_t)(e - v) > HEADER_VALUE_MAX)
		return;
	free(*slot);
	*slot = xstrndup(v, (size_t)(e - v));
}

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	struct xfer *x = p;
	size_t len = size * n;

	/* A new status line (after 100 Continue or a proxy's CONNECT answer): only the
	 * final response's headers count. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		xfer_clear_headers(x);
		return len;
	}
	capture_header(data, len, "Content-Type", &x->content_type);
	capture_header(data, len, "Cache-Control", &x->cache_control);
	capture_header(data, len, "DPoP-Nonce", &x->dpop_nonce);
	capture_header(data, len, "Retry-After", &x->retry_after);
	capture_header(data, len, "X-Rate-Limit-Reset", &x->rate_reset);
	capture_header(data, len, "Date", &x->date);
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct xfer *x = p;
	size_t len = size * n;

	if (len > x->max_body - x->body->len) {
		x->too_big = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	buf_append(x->body, data, len);
	return len;
}

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)p;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return sig_abort_transfer() ? 1 : 0;
}

/* ---- --debug trace: every part through the redact_* functions ---- */

static void trace_redacted(char dir, const char *what, const struct buf *red)
{
	struct buf line = BUF_INIT;
	size_t shown = red->len < TRACE_BODY_MAX ? red->len : TRACE_BODY_MAX;

	/* Escaped, so that what a server sent cannot drive the terminal. */
	text_escape_buf(&line, red->data ? red->data : "", shown);
	if (shown < red->len)
		buf_printf(&line, " ... (%zu more bytes)", red->len - shown);
	buf_append(&line, NULL, 0);
	log_debug("%c %s%s", dir, what, line.data);
	buf_free(&line);
}

/* The request line: a query string (which should never hold a secret) is redacted as
 * a form anyway. */
static void trace_request_line(const char *s, size_t n)
{
	struct buf red = BUF_INIT;
	const char *q = memchr(s, '?', n);

	if (q) {
		const char *sp = memchr(q, ' ', n - (size_t)(q - s));
		const char *qe = sp ? sp : s + n;

		buf_append(&red, s, (size_t)(q - s) + 1);
		redact_form(&red, q + 1, (size_t)(qe - q - 1));
		buf_append(&red, qe, (size_t)(s + n - qe));
	} else {
		buf_append(&red, s, n);
	}
	trace_redacted('>', "", &red);
	buf_free(&red);
}

/* req: for an answer, the request it answers; a secret that request carried is hidden
 * wherever the answer echoes it (an error message quoting the token it refuses). */
static void trace_body(char dir, const char *content_type, const char *body, size_t len,
                       const struct http_request *req)
{
	struct buf red = BUF_INIT;
	char what[64];
	int form = req && req->body && req->content_type &&
	           strncmp(req->content_type, "application/x-www-form-urlencoded", 33) == 0;

	if (!len)
		return;
	snprintf(what, sizeof(what), "[%zu bytes] ", len);
	if (!req)
		redact_body(&red, content_type, body, len);
	else
		redact_answer(&red, content_type, body, len, form ? req->body : NULL,
		              form ? req->body_len : 0, req->basic_pass);
	trace_redacted(dir, what, &red);
	buf_free(&red);
}

/* A block of header lines as libcurl saw them (request headers come as one block). */
static void trace_headers(char dir, const char *data, size_t size, int request)
{
	size_t i = 0;
	int first = 1;

	while (i < size) {
		const char *nl = memchr(data + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : size - i;
		const char *line = data + i;

		i += n + (nl ? 1 : 0);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
			n--;
		if (n == 0)
			continue;
		if (request && first) {
			trace_request_line(line, n);
		} else {
			struct buf red = BUF_INIT;

			redact_header(&red, line, n);
			trace_redacted(dir, "", &red);
			buf_free(&red);
		}
		first = 0;
	}
}

/* CURLOPT_DEBUGFUNCTION: only the headers. TLS data and libcurl's own text are never
 * shown (the text can hold a proxy URL with its password); bodies are traced whole
 * from our buffers, since a secret may straddle two chunks. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *p)
{
	struct xfer *x = p;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		size_t mlen = strlen(x->req->method);

		trace_headers('>', data, size, 1);
		/* The body follows the headers of our request (not of a CONNECT). */
		if (!x->body_traced && x->post && size > mlen &&
		    memcmp(data, x->req->method, mlen) == 0 && data[mlen] == ' ') {
			x->body_traced = 1;
			trace_body('>', x->req->content_type, x->req->body, x->req->body_len, NULL);
		}
	} else if (type == CURLINFO_HEADER_IN) {
		trace_headers('<', data, size, 0);
	}
	return 0;
}

/* ---- retries ---- */

/* Per thread: the `exec --server` proxy refreshes on one thread while others pass requests
 * on (those never read limits). */
static _Thread_local struct http_limits *limits;

struct http_limits *http_limits_get(void)
{
	return limits;
}

void http_limits_set(struct http_limits *l)
{
	limits = l;
}

/* ms left before the deadline (LONG_MAX: none; 0: passed). */
static long budget_left_ms(void)
{
	long long left;

	if (!limits || limits->deadline_ms <= 0)
		return LONG_MAX;
	left = limits->deadline_ms - now_mono_ms();
	return left > 0 ? (long)left : 0;
}

/* An attempt's timeouts, cut to what is left of the deadline. */
static int set_attempt_timeouts(CURL *h, const struct http_opts *o)
{
	long left = budget_left_ms();
	long total = o->timeout_ms < left ? o->timeout_ms : left;
	long connect = o->connect_timeout_ms < total ? o->connect_timeout_ms : total;

	if (curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect) != CURLE_OK)
		return -1;
	return 0;
}

/* Parses all-digit text into seconds; -1 when it is not that. */
static long long parse_seconds(const char *s)
{
	long long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v < 100000000000LL)
			v = v * 10 + (*s - '0');
	}
	return v;
}

/* The server's clock (its Date header) when it gave one, else ours. */
static long long server_now(const struct xfer *x)
{
	time_t d = x->date ? curl_getdate(x->date, NULL) : (time_t)-1;

	return d != (time_t)-1 ? (long long)d : (long long)time(NULL);
}

/* How long the server asked us to wait (Retry-After, then, for a 429 only, Okta's
 * X-Rate-Limit-Reset: Okta sends it on every answer, so on a 503 it means nothing), in ms;
 * -1 when it did not say. */
static long long server_wait_ms(const struct xfer *x, long status)
{
	long long s;

	if (x->retry_after) {
		s = parse_seconds(x->retry_after);
		if (s >= 0)
			return s * 1000;
		s = (long long)curl_getdate(x->retry_after, NULL);
		if (s != -1)
			return s > server_now(x) ? (s - server_now(x)) * 1000 : 0;
	}
	if (x->rate_reset && status == 429) {
		s = parse_seconds(x->rate_reset);
		if (s >= 0)
			return s > server_now(x) ? (s - server_now(x)) * 1000 : 0;
	}
	return -1;
}

static long retry_wait_ms(long status, const struct xfer *x, int attempt, long max_wait)
{
	long long w = -1;

	if (status == 429 || status == 503)
		w = server_wait_ms(x, status);
	if (w < 0)
		w = backoff_delay_ms(attempt, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
	if (status == 429 && w < WAIT_MIN_429_MS)
		w = WAIT_MIN_429_MS;
	if (w < WAIT_MIN_MS)
		w = WAIT_MIN_MS;
	if (w > max_wait)
		w = max_wait;
	return (long)w;
}

static int status_retryable(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

/* Failures that a later attempt may not meet: the network, not the configuration. */
static int curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return 1;
	default: return 0;
	}
}

/* Whether hay holds needle, ASCII case aside. */
static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay; hay++) {
		for (i = 0;
		     i < n && hay[i] &&
		     ascii_lower((unsigned char)hay[i]) == ascii_lower((unsigned char)needle[i]);
		     i++)
			;
		if (i == n)
			return 1;
	}
	return n == 0;
}

static void fail_transport(okc_err *err, const char *host, CURLcode cc, char *errbuf)
{
	const char *why = curl_easy_strerror(cc), *detail = errbuf;
	size_t n = strlen(errbuf);
	char shown[2 * CURL_ERROR_SIZE], name[256], *last;

	while (n > 0 && (errbuf[n - 1] == '\n' || errbuf[n - 1] == '\r' || errbuf[n - 1] == ' '))
		errbuf[--n] = '\0';
	/* Said once: "Failed to connect to HOST port P after N ms: WHY" adds only its last
	 * part (ECONNREFUSED's "Connection refused") to the host we name (a proxy's name is
	 * kept); a failed lookup's "Could not resolve host: HOST" adds nothing; a detail
	 * holding libcurl's own text adds nothing either. */
	snprintf(name, sizeof(name), "%s", host[0] == '[' ? host + 1 : host);
	if ((last = strrchr(name, host[0] == '[' ? ']' : ':')))
		*last = '\0';
	if (cc == CURLE_COULDNT_CONNECT && strstr(errbuf, name) && (last = strrchr(errbuf, ':')) &&
	    last[1] == ' ')
		detail = last + 2;
	if (cc == CURLE_COULDNT_RESOLVE_HOST || contains_ci(detail, why))
		detail = "";
	/* libcurl's detail can quote a proxy URL with its user and password: leave it out. It
	 * can also quote the server (a certificate's subject name): escaped. */
	text_escape(shown, sizeof(shown), detail);
	if (detail[0] && !strchr(errbuf, '@'))
		okc_fail(err, OKC_EXIT_NETWORK, "cannot reach %s: %s (%s)", host, why, shown);
	else
		okc_fail(err, OKC_EXIT_NETWORK, "cannot reach %s: %s", host, why);
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
		okc_hint(err, "for a private CA, set ca_bundle = FILE in the provider's section");
}

static int global_init(okc_err *err)
{
	static int done;

	if (done)
		return 0;
	if (dl_open(&libcurl, err) < 0)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot initialise libcurl");
	done = 1;
	return 0;
}

/* Case-insensitive comparison of two byte ranges. */
static int spans_eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Two IPv6 literals (without brackets) that are the same address, however written. */
static int same_ipv6(const char *a, size_t an, const char *b, size_t bn)
{
	char ta[INET6_ADDRSTRLEN + 1], tb[INET6_ADDRSTRLEN + 1];
	unsigned char aa[sizeof(struct in6_addr)], ab[sizeof(struct in6_addr)];

	if (an >= sizeof(ta) || bn >= sizeof(tb))
		return 0;
	memcpy(ta, a, an);
	ta[an] = '\0';
	memcpy(tb, b, bn);
	tb[bn] = '\0';
	return inet_pton(AF_INET6, ta, aa) == 1 && inet_pton(AF_INET6, tb, ab) == 1 &&
	       memcmp(aa, ab, sizeof(aa)) == 0;
}

/* libcurl must see the same scheme and host as our policy check did, so that no
 * parser difference can smuggle a plain http request to another host. */
static int curl_url_agrees(CURLU *cu, const struct http_url *u)
{
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (curl_url_get(cu, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(cu, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		const char *h = host;
		size_t hn = strlen(host);

		ok = span_eq_ci(scheme, strlen(scheme), u->https ? "https" : "http");
		if (u->ipv6) {
			ok = ok && hn >= 2 && h[0] == '[' && h[hn - 1] == ']' &&
			     (spans_eq_ci(h + 1, hn - 2, u->host, u->host_len) ||
			      same_ipv6(h + 1, hn - 2, u->host, u->host_len));
		} else {
			ok = ok && spans_eq_ci(h, hn, u->host, u->host_len);
		}
	}
	curl_free(scheme);
	curl_free(host);
	return ok;
}

static int header_ok(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

static int add_line(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return -1;
	*list = l;
	return 0;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);
	int rc = add_line(list, line);

	wipe(line, strlen(line));
	free(line);
	return rc;
}

/* Extra headers may carry credentials (Authorization: SSWS ...): wipe libcurl's copies. */
static void free_headers(struct curl_slist *list)
{
	struct curl_slist *s;

	for (s = list; s; s = s->next)
		wipe(s->data, strlen(s->data));
	curl_slist_free_all(list);
}

/* What every request of ours sets: the URL, http(s) only, no redirects followed, TLS
 * verified (with the provider's CA bundle), the timeouts, no signals, our User-Agent, the
 * headers, libcurl's error text, progress callbacks on (they abort on a signal). */
static CURLcode set_transport(CURL *h, CURLU *cu, const struct http_opts *o, const char *url,
                              struct curl_slist *headers, char *errbuf)
{
	CURLcode cc = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (cc == CURLE_OK)                                                                \
			cc = curl_easy_setopt(h, opt, val);                                        \
	} while (0)
	SET(CURLOPT_CURLU, cu);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* Plain http is allowed only to loopback: never hand it, in clear text, to a proxy
	 * from http_proxy (libcurl would, even for 127.0.0.1). */
	if (strncmp(url, "http://", 7) == 0)
		SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_bundle)
		SET(CURLOPT_CAINFO, o->ca_bundle);
	SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, http_user_agent());
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_NOPROGRESS, 0L);
#undef SET
	return cc;
}

static int setup_handle(CURL *h, CURLU *cu, const struct http_opts *o,
                        const struct http_request *req, struct curl_slist **headers,
                        struct buf *user, struct buf *pass, struct xfer *x, char *errbuf,
                        okc_err *err)
{
	const char *const *hp;
	CURLcode cc = CURLE_OK;
	int post = strcmp(req->method, "POST") == 0;

	if (add_header(headers, "Accept", req->accept ? req->accept : "application/json") < 0 ||
	    (post && add_header(headers, "Content-Type",
	                        req->content_type ? req->content_type
	                                          : "application/x-www-form-urlencoded") < 0) ||
	    /* No "Expect: 100-continue" round trip for bodies over 1 KiB (a JWT assertion). */
	    add_line(headers, "Expect:") < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "out of memory");
	for (hp = req->headers; hp && *hp; hp++) {
		if (!header_ok(*hp) || !strchr(*hp, ':'))
			return okc_fail(err, OKC_EXIT_FAIL, "invalid HTTP header given");
		if (add_line(headers, *hp) < 0)
			return okc_fail(err, OKC_EXIT_FAIL, "out of memory");
	}

	cc = set_transport(h, cu, o, req->url, *headers, errbuf);
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (cc == CURLE_OK)                                                                \
			cc = curl_easy_setopt(h, opt, val);                                        \
	} while (0)
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, x);
	if (post) {
		SET(CURLOPT_POST, 1L);
		/* Not copied by libcurl: the body stays the caller's, to wipe. */
		SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
	if (req->basic_user) {
		/* RFC 6749 2.3.1: client_secret_basic form-encodes the id and the secret. */
		form_encode(user, req->basic_user);
		form_encode(pass, req->basic_pass ? req->basic_pass : "");
		buf_append(user, NULL, 0);
		buf_append(pass, NULL, 0);
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, user->data);
		SET(CURLOPT_PASSWORD, pass->data);
	}
	if (log_get_level() >= LOG_DEBUG) {
		SET(CURLOPT_DEBUGFUNCTION, on_debug);
		SET(CURLOPT_DEBUGDATA, x);
		SET(CURLOPT_VERBOSE, 1L);
	}
#undef SET
	if (cc != CURLE_OK)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot set up the HTTP request: %s",
		                curl_easy_strerror(cc));
	return 0;
}

/* req->attempt_header: base with the coming attempt's own line added, handed to libcurl
 * (which does not copy the list) in place of the previous attempt's (freed). */
static int prepare_header(CURL *h, const struct http_request *req, struct curl_slist *base,
                          struct curl_slist **mine, okc_err *err)
{
	struct buf line = BUF_INIT;
	struct curl_slist *s, *list = NULL;
	int rc = -1;

	if (req->attempt_header(req->attempt_header_ctx, &line, err) < 0)
		goto out;
	buf_append(&line, NULL, 0);
	if (!header_ok(line.data) || !strchr(line.data, ':')) {
		okc_fail(err, OKC_EXIT_FAIL, "invalid HTTP header given");
		goto out;
	}
	for (s = base; s; s = s->next)
		if (add_line(&list, s->data) < 0)
			goto oom;
	if (add_line(&list, line.data) < 0)
		goto oom;
	if (curl_easy_setopt(h, CURLOPT_HTTPHEADER, list) != CURLE_OK)
		goto oom;
	free_headers(*mine);
	*mine = list;
	list = NULL;
	rc = 0;
	goto out;
oom:
	okc_fail(err, OKC_EXIT_FAIL, "out of memory");
out:
	free_headers(list);
	buf_free(&line);
	return rc;
}

/* req->prepare: the body of the coming attempt, built anew into body (the previous one
 * wiped first) and handed to libcurl again, which does not copy it. */
static int prepare_body(CURL *h, struct http_request *cur, struct buf *body, okc_err *err)
{
	CURLcode cc;

	buf_reset(body);
	if (cur->prepare(cur->prepare_ctx, body, err) < 0)
		return -1;
	buf_append(body, NULL, 0); /* never NULL data, even when empty */
	cur->body = body->data;
	cur->body_len = body->len;
	cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, cur->body);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)cur->body_len);
	if (cc != CURLE_OK)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot set up the HTTP request: %s",
		                curl_easy_strerror(cc));
	return 0;
}

int http_request(const struct http_opts *opts, const struct http_request *req,
                 struct http_response *resp, okc_err *err)
{
	struct http_opts o = {0};
	struct http_url u;
	const char *why;
	struct xfer x;
	struct buf user = BUF_INIT, pass = BUF_INIT, attempt_body = BUF_INIT;
	struct http_request cur; /* req, with the body of the current attempt when prepared */
	struct curl_slist *headers = NULL, *attempt_headers = NULL;
	char errbuf[CURL_ERROR_SIZE];
	CURLU *cu = NULL;
	CURL *h = NULL;
	char *host = NULL;
	int rc = -1, attempt, failed_before = 0;
	long long first_loss = -1; /* when an attempt whose answer was lost started */
	okc_err local;

	if (!err)
		err = &local;
	if (!resp)
		return okc_fail(err, OKC_EXIT_FAIL, "invalid HTTP request");
	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	if (!req || !req->url || !req->method)
		return okc_fail(err, OKC_EXIT_FAIL, "invalid HTTP request");
	if (opts)
		o = *opts;
	if (o.connect_timeout_ms <= 0)
		o.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (o.timeout_ms <= 0)
		o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (o.max_attempts <= 0)
		o.max_attempts = DEFAULT_MAX_ATTEMPTS;
	if (o.max_wait_ms <= 0)
		o.max_wait_ms = DEFAULT_MAX_WAIT_MS;
	if (o.max_body == 0)
		o.max_body = DEFAULT_MAX_BODY;
	if (http_url_allowed(req->url, err) < 0)
		return -1;
	http_url_check(req->url, &u, &why);
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
		return okc_fail(err, OKC_EXIT_FAIL, "unsupported HTTP method %s", req->method);
	if (req->prepare && strcmp(req->method, "POST") != 0)
		return okc_fail(err, OKC_EXIT_FAIL, "invalid HTTP request: a body for a GET");
	if ((req->accept && !header_ok(req->accept)) ||
	    (req->content_type && !header_ok(req->content_type)))
		return okc_fail(err, OKC_EXIT_FAIL, "invalid HTTP header given");
	if (global_init(err) < 0)
		return -1;
	/* From here on req is the copy, so that the trace and the redaction see the body
	 * each attempt actually sends. */
	cur = *req;
	req = &cur;

	host = xstrndup(u.authority, u.authority_len);
	x.body = &resp->body;
	x.max_body = o.max_body;
	x.req = req;
	x.post = strcmp(req->method, "POST") == 0;
	errbuf[0] = '\0';
	cu = curl_url();
	h = curl_easy_init();
	if (!cu || !h) {
		okc_fail(err, OKC_EXIT_FAIL, "cannot initialise libcurl");
		goto out;
	}
	if (curl_url_set(cu, CURLUPART_URL, req->url, 0) != CURLUE_OK || !curl_url_agrees(cu, &u)) {
		okc_fail(err, OKC_EXIT_USAGE, "invalid URL for %s", host);
		goto out;
	}
	if (setup_handle(h, cu, &o, req, &headers, &user, &pass, &x, errbuf, err) < 0)
		goto out;

	for (attempt = 1;; attempt++) {
		CURLcode cc;
		long wait, sent = 0;
		long long started;

		if (sig_interrupted()) {
			okc_fail(err, OKC_EXIT_INTERRUPTED, "interrupted");
			goto out;
		}
		if (budget_left_ms() == 0) {
			if (!failed_before)
				okc_fail(err, OKC_EXIT_NETWORK, "%s did not answer in time", host);
			goto lost;
		}
		if (set_attempt_timeouts(h, &o) < 0) {
			okc_fail(err, OKC_EXIT_FAIL, "cannot set up the HTTP request");
			goto out;
		}
		started = now_mono_ms();
		resp->attempts = attempt;
		resp->status = 0;
		buf_reset(&resp->body);
		xfer_clear_headers(&x);
		x.too_big = x.body_traced = 0;
		errbuf[0] = '\0';
		if (cur.prepare && prepare_body(h, &cur, &attempt_body, err) < 0)
			goto out;
		if (cur.attempt_header &&
		    prepare_header(h, &cur, headers, &attempt_headers, err) < 0)
			goto out;
		log_debug("%s %s (attempt %d of %d)", req->method, host, attempt, o.max_attempts);
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK) {
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
			if (log_get_level() >= LOG_DEBUG)
				trace_body('<', x.content_type, resp->body.data, resp->body.len,
				           req);
			if (!status_retryable(resp->status) || attempt >= o.max_attempts)
				break;
			wait = retry_wait_ms(resp->status, &x, attempt, o.max_wait_ms);
			log_verbose("%s answered %ld; retrying in %.1f s (attempt %d of %d)", host,
			            resp->status, (double)wait / 1000.0, attempt + 1,
			            o.max_attempts);
		} else if (cc == CURLE_ABORTED_BY_CALLBACK && sig_interrupted()) {
			okc_fail(err, OKC_EXIT_INTERRUPTED, "interrupted");
			goto out;
		} else if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			okc_fail(err, OKC_EXIT_NETWORK, "response from %s is larger than %zu bytes",
			         host, o.max_body);
			goto out;
		} else if (cc == CURLE_OUT_OF_MEMORY) {
			/* libcurl before 8.6 says this of a header line over its 100 KiB cap:
			 * the server's doing, not ours, and not worth asking again. */
			okc_fail(err, OKC_EXIT_NETWORK,
			         "response from %s has a header larger than libcurl accepts", host);
			goto out;
		} else {
			fail_transport(err, host, cc, errbuf);
			/* Did the request go out? Then the server may have acted on it. */
			if (curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent) != CURLE_OK)
				sent = 1;
			if (sent > 0 && first_loss < 0)
				first_loss = started;
			if (!curl_retryable(cc) || attempt >= o.max_attempts)
				goto lost;
			failed_before = 1;
			wait = retry_wait_ms(0, &x, attempt, o.max_wait_ms);
			log_verbose("%s; retrying in %.1f s (attempt %d of %d)", err->msg,
			            (double)wait / 1000.0, attempt + 1, o.max_attempts);
		}
		if (wait > budget_left_ms())
			wait = budget_left_ms();
		if (first_loss >= 0 && limits && limits->resend_window_ms > 0 &&
		    now_mono_ms() + wait - first_loss >= limits->resend_window_ms) {
			log_verbose("%s: not sending the request again: its answer was lost more "
			            "than %ld s ago",
			            host, limits->resend_window_ms / 1000);
			if (resp->status) {
				/* A 5xx or 429 came after the loss: that answer stands, and the
				 * lost one may still have been acted on. */
				limits->answer_lost = 1;
				break;
			}
			goto lost;
		}
		if (sig_sleep_ms(wait) < 0) {
			okc_fail(err, OKC_EXIT_INTERRUPTED, "interrupted");
			goto out;
		}
	}
	resp->content_type = x.content_type;
	x.content_type = NULL;
	resp->cache_control = x.cache_control;
	x.cache_control = NULL;
	resp->dpop_nonce = x.dpop_nonce;
	x.dpop_nonce = NULL;
	if (failed_before) /* the message of an attempt that a later one made good */
		okc_err_clear(err);
	rc = 0;
	goto out;
lost:
	/* No answer: the last attempt failed in transport (or the deadline came). Lost if any
	 * attempt went out. */
	if (first_loss >= 0 && limits)
		limits->answer_lost = 1;
out:
	if (rc < 0)
		buf_free(&resp->body);
	if (h)
		curl_easy_cleanup(h);
	curl_url_cleanup(cu);
	free_headers(headers);
	free_headers(attempt_headers);
	buf_free(&user);
	buf_free(&pass);
	buf_free(&attempt_body);
	xfer_clear_headers(&x);
	free(host);
	return rc;
}

/* ---- passing a request on (http_stream) ---- */

struct stream_xfer {
	const struct http_stream *req;
	long status;   /* of the answer whose head is being read */
	int head_done; /* the final answer's head was handed over */
	int stopped;   /* a callback said to stop */
};

/* The status of a status line ("HTTP/1.1 200 OK", "HTTP/2 404"), or -1. */
static long status_of(const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	long v = 0;
	int digits = 0;

	if (len < 5 || memcmp(line, "HTTP/", 5) != 0 || !sp)
		return -1;
	for (sp++; sp < line + len && *sp >= '0' && *sp <= '9' && digits < 3; sp++, digits++)
		v = v * 10 + (*sp - '0');
	return digits == 3 ? v : -1;
}

static size_t on_stream_header(char *data, size_t size, size_t n, void *p)
{
	struct stream_xfer *x = p;
	size_t len = size * n, l = len;

	if (x->head_done)
		return len; /* trailers */
	while (l > 0 && (data[l - 1] == '\n' || data[l - 1] == '\r'))
		l--;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		x->status = status_of(data, l);
		return len;
	}
	if (x->status < 200)
		return len; /* 100 Continue and the like: not the answer */
	if (l == 0)
		x->head_done = 1;
	if (x->req->on_header(x->req->ctx, x->status, data, l) < 0) {
		x->stopped = 1;
		return 0;
	}
	return len;
}

static size_t on_stream_body(char *data, size_t size, size_t n, void *p)
{
	struct stream_xfer *x = p;
	size_t len = size * n;

	if (len && x->req->on_body(x->req->ctx, data, len) < 0) {
		x->stopped = 1;
		return 0;
	}
	return len;
}

static int on_stream_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                              curl_off_t ulnow)
{
	struct stream_xfer *x = p;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->req->abort && x->req->abort(x->req->ctx)) {
		x->stopped = 1;
		return 1;
	}
	return 0;
}

static int has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);

	for (; headers && *headers; headers++)
		if (strlen(*headers) > n && (*headers)[n] == ':' && span_eq_ci(*headers, n, name))
			return 1;
	return 0;
}

int http_init(okc_err *err)
{
	return global_init(err);
}

int http_stream(const struct http_opts *opts, const struct http_stream *req, int *started,
                okc_err *err)
{
	struct http_opts o = {0};
	struct stream_xfer x;
	struct http_url u;
	struct curl_slist *headers = NULL;
	const char *const *hp;
	const char *why;
	char errbuf[CURL_ERROR_SIZE];
	CURLU *cu = NULL;
	CURL *h = NULL;
	CURLcode cc = CURLE_OK;
	char *host = NULL;
	int rc = -1;

	*started = 0;
	memset(&x, 0, sizeof(x));
	x.req = req;
	if (opts)
		o = *opts;
	if (o.connect_timeout_ms <= 0)
		o.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (http_url_allowed(req->url, err) < 0)
		return -1;
	http_url_check(req->url, &u, &why);
	if (global_init(err) < 0)
		return -1;
	host = xstrndup(u.authority, u.authority_len);
	errbuf[0] = '\0';
	cu = curl_url();
	h = curl_easy_init();
	if (!cu || !h) {
		okc_fail(err, OKC_EXIT_FAIL, "cannot initialise libcurl");
		goto out;
	}
	/* As given: the caller checked the path, and libcurl must not make another of it. */
	if (curl_url_set(cu, CURLUPART_URL, req->url, CURLU_PATH_AS_IS) != CURLUE_OK ||
	    !curl_url_agrees(cu, &u)) {
		okc_fail(err, OKC_EXIT_USAGE, "invalid URL for %s", host);
		goto out;
	}
	for (hp = req->headers; hp && *hp; hp++) {
		if (!header_ok(*hp) || !strchr(*hp, ':')) {
			okc_fail(err, OKC_EXIT_FAIL, "invalid HTTP header given");
			goto out;
		}
		if (add_line(&headers, *hp) < 0)
			goto oom;
	}
	/* libcurl's own defaults would speak for the client: none it did not send. */
	if (add_line(&headers, "Expect:") < 0 ||
	    (!has_header(req->headers, "Accept") && add_line(&headers, "Accept:") < 0) ||
	    (!has_header(req->headers, "Content-Type") && add_line(&headers, "Content-Type:") < 0))
		goto oom;

	cc = set_transport(h, cu, &o, req->url, headers, errbuf);
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (cc == CURLE_OK)                                                                \
			cc = curl_easy_setopt(h, opt, val);                                        \
	} while (0)
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_WRITEFUNCTION, on_stream_body);
	SET(CURLOPT_WRITEDATA, &x);
	SET(CURLOPT_HEADERFUNCTION, on_stream_header);
	SET(CURLOPT_HEADERDATA, &x);
	SET(CURLOPT_XFERINFOFUNCTION, on_stream_progress);
	SET(CURLOPT_XFERINFODATA, &x);
	if (strcmp(req->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else {
		if (req->body) {
			/* Not copied by libcurl: the body stays the caller's. */
			SET(CURLOPT_POSTFIELDS, req->body);
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		} else {
			SET(CURLOPT_HTTPGET, 1L);
		}
		if (strcmp(req->method, "GET") != 0 || req->body)
			SET(CURLOPT_CUSTOMREQUEST, req->method);
	}
#undef SET
	if (cc != CURLE_OK) {
		okc_fail(err, OKC_EXIT_FAIL, "cannot set up the HTTP request: %s",
		         curl_easy_strerror(cc));
		goto out;
	}
	log_debug("%s %s (passed on)", req->method, host);
	cc = curl_easy_perform(h);
	*started = x.head_done;
	if (cc == CURLE_OK && x.head_done) {
		rc = 0;
	} else if (x.stopped) {
		okc_fail(err, OKC_EXIT_FAIL, "the transfer from %s was stopped", host);
	} else if (cc == CURLE_OK) {
		okc_fail(err, OKC_EXIT_NETWORK, "%s sent no answer", host);
	} else {
		fail_transport(err, host, cc, errbuf);
	}
	goto out;
oom:
	okc_fail(err, OKC_EXIT_FAIL, "out of memory");
out:
	if (h)
		curl_easy_cleanup(h);
	curl_url_cleanup(cu);
	free_headers(headers);
	free(host);
	return rc;
}

void http_response_free(struct http_response *resp)
{
	if (!resp)
		return;
	buf_free(&resp->body);
	free(resp->content_type);
	free(resp->cache_control);
	free(resp->dpop_nonce);
	resp->content_type = resp->cache_control = resp->dpop_nonce = NULL;
	resp->status = 0;
	resp->attempts = 0;
}

void http_url_host(const char *url, char *out, size_t n)
{
	const char *s = strstr(url, "://");
	size_t len;

	if (!n)
		return;
	s = s ? s + 3 : url;
	len = strcspn(s, "/?#");
	if (len >= n)
		len = n - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

long http_max_age(const char *cache_control)
{
	const char *p = cache_control;
	long age = -1;

	if (!p)
		return -1;
	while (*p) {
		const char *start, *end;
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		n = (size_t)(end - start);
		if (span_eq_ci(start, n, "no-store") || span_eq_ci(start, n, "no-cache"))
			return 0;
		if (n > 8 && span_eq_ci(start, 8, "max-age=")) {
			const char *d = start + 8;
			long v = 0;

			if (*d == '"' && end > d + 1 && end[-1] == '"') { /* RFC 9111 5.2.2.1 */
				d++;
				end--;
			}
			if (d == end)
				return -1;
			for (; d < end; d++) {
				if (*d < '0' || *d > '9')
					return -1;
				/* Larger than any cap a caller applies: saturate. */
				v = v > 100000000L ? v : v * 10 + (*d - '0');
			}
			age = v;
		}
	}
	return age;
}
