/* http.h: the HTTP client. http.c is the only file that includes <curl/curl.h>, and
 * loads libcurl with the first request (dl.h). Timeouts, TLS verification always on,
 * http:// only for loopback hosts, a body size cap, retries with backoff and jitter, and a
 * redacted --debug trace. */
#ifndef OKTACRED_HTTP_H
#define OKTACRED_HTTP_H

#include <stddef.h>
#include "oktacred/buf.h"
#include "oktacred/err.h"

struct http_opts {
	const char *ca_bundle;   /* NULL: the system's CAs */
	long connect_timeout_ms; /* 0: 10000 */
	long timeout_ms;         /* whole transfer; 0: 30000 */
	int max_attempts;        /* 0: 4 (one try + 3 retries) */
	long max_wait_ms;        /* cap on one Retry-After/backoff wait; 0: 60000 */
	size_t max_body;         /* 0: 1 MiB */
};

struct http_request {
	const char *method; /* "GET" or "POST" */
	const char *url;
	const char *content_type; /* for POST, e.g. "application/x-www-form-urlencoded" */
	const char *body;         /* may hold secrets: never logged unredacted */
	size_t body_len;
	const char *accept;         /* Accept header; NULL: application/json */
	const char *basic_user;     /* HTTP Basic auth (client_secret_basic), or NULL; both */
	const char *basic_pass;     /* form-encoded first, as RFC 6749 2.3.1 says */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	/* Optional, POST only: builds the body anew before every attempt, the first included,
	 * for a body that must not be sent twice (a client assertion: the server accepts each
	 * jti once, so a retry needs a new one). body is empty on each call (the previous
	 * attempt's is wiped first); it belongs to http_request, which wipes it when done.
	 * Returns 0, or -1 with err set: http_request then stops and returns -1. When set,
	 * the body and body_len fields above are not used. */
	int (*prepare)(void *ctx, struct buf *body, okc_err *err);
	void *prepare_ctx;
	/* Optional: one more header line ("Name: value", no CRLF) made anew for every attempt,
	 * the first included, into line (empty on each call): a DPoP proof, whose jti the
	 * server accepts once. Returns 0, or -1 with err set: http_request then stops. */
	int (*attempt_header)(void *ctx, struct buf *line, okc_err *err);
	void *attempt_header_ctx;
};

struct http_response {
	long status;         /* HTTP status of the final attempt */
	struct buf body;     /* NUL-terminated */
	char *content_type;  /* NULL when absent */
	char *cache_control; /* NULL when absent */
	char *dpop_nonce;    /* the DPoP-Nonce header (RFC 9449 8), NULL when absent */
	int attempts;        /* how many requests were made */
};

/* Makes the request. Retries (with exponential backoff from 500 ms, full jitter)
 * connection failures, timeouts, 5xx and 429; for 429 and 503 it waits for
 * Retry-After (seconds or HTTP date) or X-Rate-Limit-Reset (epoch seconds, taken
 * relative to the response's Date header when present), at least 1 s, never more
 * than max_wait_ms. Returns 0 when an HTTP answer came back (any status, the caller
 * judges it: after the retries are spent a 5xx or 429 is also returned with 0), or -1
 * with err->code OKC_EXIT_NETWORK when no answer could be had (connection refused,
 * DNS, TLS, timeout, body over the cap), OKC_EXIT_USAGE for a URL refused by policy,
 * OKC_EXIT_INTERRUPTED when SIGINT arrived (see sig.h). resp is overwritten (pass a
 * zeroed or freed one) and must be freed with http_response_free either way. */
int http_request(const struct http_opts *opts, const struct http_request *req,
                 struct http_response *resp, okc_err *err);
void http_response_free(struct http_response *resp); /* wipes the body */

/* Loads libcurl and initialises it, which is not thread-safe: before threads make requests.
 * http_request and http_stream do it when needed. */
int http_init(okc_err *err);

/* A request passed on as it came (the `exec --server` proxy for Okta's API): any method,
 * the caller's header lines and body, the same URL policy and TLS checks as http_request,
 * the path sent as given (no dot-segment removal), redirects never followed, libcurl adding
 * no Accept, Content-Type or Expect of its own; one attempt, no retries (the client decides,
 * as it would talking to the server directly); the answer handed over as it arrives. */
struct http_stream {
	const char *method; /* an HTTP method, checked by the caller */
	const char *url;
	const char *const *headers; /* "Name: value" lines, NULL-terminated, or NULL */
	const char *body;           /* NULL: no body */
	size_t body_len;
	/* The final answer's header lines, one call each (without CRLF), then one with len 0
	 * at their end; status is the answer's (1xx answers are not passed on). -1 stops. */
	int (*on_header)(void *ctx, long status, const char *line, size_t len);
	/* The body as it arrives. -1 stops. */
	int (*on_body)(void *ctx, const char *data, size_t len);
	/* Asked about once a second and on progress: nonzero stops. Or NULL. */
	int (*abort)(void *ctx);
	void *ctx;
};

/* Makes the request. Returns 0 when the whole answer came (any status), or -1 with err:
 * OKC_EXIT_NETWORK when no answer or only part of one could be had (opts->timeout_ms: the
 * whole transfer; 0: no limit), OKC_EXIT_USAGE for a URL refused by policy, OKC_EXIT_FAIL
 * when a callback stopped it. *started is set when the answer's head was handed over (then
 * the caller has begun its own answer). opts->max_attempts, max_wait_ms and max_body are
 * not used. */
int http_stream(const struct http_opts *opts, const struct http_stream *req, int *started,
                okc_err *err);

/* Limits on the requests a command makes next, set around one step (refresh.c sets them
 * around a refresh; NULL clears). Per thread. */
struct http_limits {
	/* CLOCK_MONOTONIC ms (now_mono_ms) after which no attempt starts and no wait ends;
	 * each attempt's timeout is cut to fit. 0: none. */
	long long deadline_ms;
	/* For a request that rotates state (a refresh token grant): once an attempt may have
	 * reached the server and its answer was lost (a timeout or a dropped connection after
	 * the request went out), the request is sent again only within this many ms of that
	 * attempt's start (Okta honours a rotated refresh token again only within its grace
	 * period). A 5xx or 429 answer is no loss: nothing was rotated. 0: no such limit. */
	long resend_window_ms;
	/* Out: set to 1 when http_request failed after such a loss. */
	int answer_lost;
};
void http_limits_set(struct http_limits *limits);
struct http_limits *http_limits_get(void);

/* A URL split by the policy below. */
struct http_url {
	int https;
	const char *host; /* without the brackets of an IPv6 literal */
	size_t host_len;
	const char *authority; /* host[:port] as written */
	size_t authority_len;
	const char *rest; /* what follows the authority: path, query, fragment */
	int ipv6;
};

/* The one URL policy, of the configuration's URLs and of every request: http(s) with a
 * host (letters, digits, '.' and '-', not starting with '.' or '-'; or an [IPv6]
 * literal), an optional port 1-65535, no user information, no white space or control
 * characters; http:// only to a loopback host (localhost, 127.0.0.0/8 as a strict dotted
 * quad, ::1). Returns 0 with u filled, or -1 with *why a phrase for "URL ... <why>"
 * ("must start with https://", ...). No library needed. */
int http_url_check(const char *url, struct http_url *u, const char **why);
/* The same as an error: 0 or -1 (OKC_EXIT_USAGE, the message says why). */
int http_url_allowed(const char *url, okc_err *err);

/* Percent-encodes for application/x-www-form-urlencoded and appends "key=value",
 * with '&' before it when out is not empty. A NULL value is sent empty. No curl needed.
 * Always 0 (out of memory aborts, as in buf.h). */
int http_form_add(struct buf *out, const char *key, const char *value);

/* The host[:port] part of url, cut to fit out (n bytes), for messages. No curl needed. */
void http_url_host(const char *url, char *out, size_t n);

/* The freshness lifetime a Cache-Control value gives (RFC 9111 5.2.2): max-age's
 * seconds (very large values saturate at about 10^9); 0 for no-store or no-cache (whatever
 * else it says); -1 when it says neither or is malformed (NULL too). No curl needed. */
long http_max_age(const char *cache_control);

/* The User-Agent: "oktacred/VERSION". */
const char *http_user_agent(void);

#endif
