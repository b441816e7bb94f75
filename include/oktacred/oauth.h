/* oauth.h: Okta's OAuth endpoints and the token endpoint: one POST, one answer
 * classified as tokens, an OAuth error (RFC 6749 5.2) or a failure. */
#ifndef OKTACRED_OAUTH_H
#define OKTACRED_OAUTH_H

#include "oktacred/buf.h"
#include "oktacred/err.h"
#include "oktacred/http.h"
#include "oktacred/tokens.h"

struct provider_cfg;

struct oauth_endpoints {
	char *issuer;
	char *authorize; /* the authorization code flow's browser page */
	char *device_authorize;
	char *token;
	char *revoke;
	char *keys;
	char *userinfo;
};

/* org server ("org"): ORG/oauth2/v1/...; custom server ID: ORG/oauth2/ID/v1/... */
int oauth_endpoints_for(const struct provider_cfg *p, struct oauth_endpoints *out, okc_err *err);
void oauth_endpoints_free(struct oauth_endpoints *e);

/* HTTP options for talking to p (its ca_bundle). */
void oauth_http_opts(const struct provider_cfg *p, struct http_opts *opts);

/* An OAuth error answer: error code and description, escaped (text_escape) and cut to
 * fit: printable as they are. */
struct oauth_error {
	char error[64];
	char description[256];
};

#define OAUTH_ERROR 2 /* return value: the server answered an OAuth error */

/* POSTs a form (may hold secrets) to url and reads the answer as JSON. Returns 0 with
 * *json (the caller frees it with buf_free) on HTTP 200; OAUTH_ERROR with oerr filled
 * when the server answered 400/401 with a JSON "error"; -1 otherwise: exit 4 for a
 * network failure, a 5xx or 429 after the retries, or an answer that is not JSON
 * (an HTML page, say), with a message naming the host and what came back. */
int oauth_post(const struct provider_cfg *p, const char *url, const struct buf *form,
               struct buf *json, struct oauth_error *oerr, okc_err *err);

/* oauth_post with HTTP Basic client authentication (client_secret_basic). */
int oauth_post_auth(const struct provider_cfg *p, const char *url, const struct buf *form,
                    const char *basic_user, const char *basic_pass, struct buf *json,
                    struct oauth_error *oerr, okc_err *err);

/* Appends a request's form to form (empty on each call). Returns 0, or -1 with err set. */
typedef int (*oauth_form_fn)(void *ctx, struct buf *form, okc_err *err);

/* oauth_post_auth with a form built by build(ctx, ...) before every HTTP attempt (the
 * prepare hook of http.h): for a form with a client assertion (RFC 7523), whose jti the
 * server accepts once, so a retried request must carry a newly signed one. A build
 * failure ends the request with its error. */
int oauth_post_built(const struct provider_cfg *p, const char *url, oauth_form_fn build, void *ctx,
                     const char *basic_user, const char *basic_pass, struct buf *json,
                     struct oauth_error *oerr, okc_err *err);

/* oauth_post to the token endpoint, the answer parsed into tokens (cache key set). */
int oauth_token_request(const struct provider_cfg *p, const struct buf *form, struct tokens **out,
                        struct oauth_error *oerr, okc_err *err);

/* oauth_token_request with oauth_post_built: the form is built anew for every attempt. */
int oauth_token_request_auth(const struct provider_cfg *p, oauth_form_fn build, void *ctx,
                             const char *basic_user, const char *basic_pass, struct tokens **out,
                             struct oauth_error *oerr, okc_err *err);

/* How a client authenticates at p's endpoints (RFC 6749 2.3): a public client names
 * itself with client_id in the form; a confidential one with its credentials, as form
 * fields (a client assertion, RFC 7523, whose aud is the endpoint called and which is signed
 * anew for each attempt) or HTTP Basic (client_secret_basic). */
struct oauth_client_auth {
	/* Appends the client's credentials for a request to url to form. NULL: none. */
	int (*add)(void *ctx, const char *url, struct buf *form, okc_err *err);
	void *ctx;
	const char *basic_user, *basic_pass; /* client_secret_basic, or NULL */
};

/* Revokes a token (RFC 7009), the client authenticated as auth says (NULL: a public
 * client). Returns 0 or -1: a refusal (an OAuth error answer) is exit 1 with the server's
 * error, a failure to reach it exit 4. */
int oauth_revoke(const struct provider_cfg *p, const struct oauth_client_auth *auth,
                 const char *token, const char *type_hint, okc_err *err);

#endif
