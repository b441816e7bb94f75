/* okta_proxy.h: `exec --server` for okta/api-access: a loopback proxy to Okta's API for the
 * child, which holds only a per-run secret; each request goes on with a fresh access token.
 * The server is httpserver.h's, on threads (Terraform makes 10 requests at once). */
#ifndef OKTACRED_OKTA_PROXY_H
#define OKTACRED_OKTA_PROXY_H

#include <stddef.h>

#include "oktacred/buf.h"
#include "oktacred/err.h"

struct envset;
struct http_opts;

/* The credentials of one request passed on: appends its header lines ("Authorization:
 * Bearer ..."; a DPoP proof would add "DPoP: ..."), each ending in "\r\n", to lines, for
 * that method and URL (without its query). Called on the request's own thread, right before
 * it goes on. Returns 0, or -1 with err (the client gets a 502 saying err's message). */
typedef int (*okta_proxy_auth_fn)(void *arg, const char *method, const char *url, struct buf *lines,
                                  okc_err *err);

struct okta_proxy_opts {
	char *const *argv;    /* the command, argv[0] looked up in PATH */
	struct envset *env;   /* the child's environment: see okta_proxy_run */
	const char *upstream; /* where requests go: an origin, "https://example.okta.com" */
	okta_proxy_auth_fn authorize;
	void *arg;
	const struct http_opts *http; /* ca_bundle, connect timeout; or NULL */
	/* The tokens are DPoP-bound (RFC 9449): a DPoP-Nonce header in an answer is
	 * remembered for upstream (dpop.h), and a 401 whose WWW-Authenticate says
	 * error="use_dpop_nonce" is not passed on: the request goes again, once, with a proof
	 * made anew (authorize called again). The body is whole in memory: a resend is safe. */
	int dpop;
};

/* Listens on 127.0.0.1 (a random port) and sets in env: OKTA_HTTP_PROXY, OKTA_ORG_URL,
 * OKTA_CLIENT_ORGURL and OKTA_CLIENT_ORG_URL to http://127.0.0.1:PORT, and the secret (32
 * random bytes as 64 hex digits) as the value of each of OKTA_ACCESS_TOKEN,
 * OKTA_OAUTH2_ACCESS_TOKEN, OKTA_CLIENT_TOKEN and OKTA_API_TOKEN that env sets (to any
 * value). Then runs the command as httpserver_run does and, until it exits, passes each
 * request on to upstream as okta_proxy_judge allows it: method, path and query, the
 * end-to-end headers but Authorization, DPoP and Host, and the body; the answer streams back as
 * it arrives (status, the end-to-end headers with Link and Location rewritten by
 * okta_proxy_rewrite_urls, the body), "Connection: close" ending it. A request that cannot
 * be passed on is answered 502 (a JSON errorSummary saying why; on stderr too). Returns as
 * httpserver_run. */
int okta_proxy_run(const struct okta_proxy_opts *o, okc_err *err);

/* What okta_proxy_judge found in a request head. */
struct okta_proxy_req {
	char method[16];
	const char *target; /* path and query, as sent (in the head) */
	size_t target_len;
	long long content_length; /* -1: none */
	int expect_continue;      /* "Expect: 100-continue": answered here, not passed on */
	struct buf headers;       /* the headers to pass on, each "Name: value\r\n" */
};

#define OKTA_PROXY_HEADERS_MAX 100
#define OKTA_PROXY_BODY_MAX    ((long long)8 << 20)

/* Judges a request head (request line to the empty line): 0 to pass it on, with r filled
 * (free r->headers with buf_free; always, whatever the result), or the status to answer:
 * 400 malformed (not origin-form, a target with bytes outside %x21-7E or a '#', a header
 * line folded or without a name, two different Content-Lengths); 401 unless exactly one
 * Authorization header is "Bearer SECRET" or "SSWS SECRET" (the scheme in any case, SECRET
 * compared in constant time); 405 a method other than GET, HEAD, POST, PUT, PATCH, DELETE,
 * OPTIONS; 403 a path not under /api/, /oauth2/ or /.well-known/, or with a dot segment, a
 * backslash or an encoded '.', '/' or '\'; 411 a Transfer-Encoding (bodies need a
 * Content-Length); 413 a Content-Length over OKTA_PROXY_BODY_MAX; 431 more than
 * OKTA_PROXY_HEADERS_MAX header lines. Not passed on: Authorization, DPoP, Host, Content-Length
 * (libcurl sends the body's), Expect, the hop-by-hop headers (Connection, Keep-Alive,
 * Proxy-Authorization, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade) and those
 * that Connection names. */
int okta_proxy_judge(const char *head, size_t len, const char *secret, struct okta_proxy_req *r);

/* Appends value to out with each URL "<" from ">" (Link) or the whole value (Location: set
 * whole) that starts with from's origin (scheme and host in any case, then '/', '?' or its
 * end) rewritten to start with to instead. Other URLs stay as they are. */
void okta_proxy_rewrite_urls(const char *value, size_t len, const char *from, const char *to,
                             int whole, struct buf *out);

#endif
