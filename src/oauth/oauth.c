/* oauth.c: endpoint URLs for Okta's authorization servers and the token endpoint
 * request/answer cycle shared by every grant. */
#include "oktacred/oauth.h"

#include "oktacred/json.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oktacred/config.h"
#include "oktacred/dpop.h"
#include "oktacred/json.h"
#include "oktacred/log.h"
#include "oktacred/redact.h"
#include "oktacred/util.h"

int oauth_endpoints_for(const struct provider_cfg *p, struct oauth_endpoints *out, okc_err *err)
{
	const char *as = p->authorization_server ? p->authorization_server : "default";
	char *base;

	memset(out, 0, sizeof(*out));
	if (!p->org_url)
		return okc_fail(err, OKC_EXIT_USAGE, "provider %s has no org_url", p->name);
	if (strcmp(as, "org") == 0) {
		out->issuer = xstrdup(p->org_url);
		base = xasprintf("%s/oauth2/v1", p->org_url);
	} else {
		out->issuer = xasprintf("%s/oauth2/%s", p->org_url, as);
		base = xasprintf("%s/oauth2/%s/v1", p->org_url, as);
	}
	out->authorize = xasprintf("%s/authorize", base);
	out->device_authorize = xasprintf("%s/device/authorize", base);
	out->token = xasprintf("%s/token", base);
	out->revoke = xasprintf("%s/revoke", base);
	out->keys = xasprintf("%s/keys", base);
	out->userinfo = xasprintf("%s/userinfo", base);
	free(base);
	return 0;
}

void oauth_endpoints_free(struct oauth_endpoints *e)
{
	if (!e)
		return;
	free(e->issuer);
	free(e->authorize);
	free(e->device_authorize);
	free(e->token);
	free(e->revoke);
	free(e->keys);
	free(e->userinfo);
	memset(e, 0, sizeof(*e));
}

void oauth_http_opts(const struct provider_cfg *p, struct http_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->ca_bundle = p->ca_bundle;
	if (p->timeout > 0) {
		/* timeout bounds each attempt; connecting gets at most that long too. */
		opts->timeout_ms = p->timeout * 1000L;
		opts->connect_timeout_ms = p->timeout < 10 ? p->timeout * 1000L : 10000L;
	}
}

/* A short, printable excerpt (at most 80 bytes, escaped) of a body that is not what we
 * expected. Such a body may still carry tokens (a token set under an unexpected status, a
 * form-encoded answer, an echo of what the request `form` or `basic_pass` sent): the
 * excerpt is redacted (redact_excerpt: tokens and echoes hidden), then cut. */
static void body_excerpt(const struct buf *body, const char *content_type, const struct buf *form,
                         const char *basic_pass, char *out, size_t n)
{
	struct buf red = BUF_INIT;

	if (n > 81)
		n = 81;
	if (body->len)
		redact_excerpt(&red, content_type, body->data, body->len, form->data, form->len,
		               basic_pass);
	text_escape(out, n, red.data); /* NULL: "" */
	buf_free(&red);
}

/* The error and its description, which is printed: a server that echoes what it was sent
 * (a refresh token, a device code, a client secret) gets that part redacted. */
static int parse_oauth_error(const struct buf *body, const struct buf *form, const char *basic_pass,
                             struct oauth_error *oerr)
{
	/* Lenient, unlike the parsing of tokens: an error is worth reading even from a body
	 * with trailing bytes (a NUL in it would only cut the text short). */
	struct json *root = body->data ? json_parse(body->data, body->len) : NULL;
	const char *e, *d;
	struct buf desc = BUF_INIT;
	int ok = 0;

	if (json_get_string(root, "error", &e) == 1) {
		text_escape(oerr->error, sizeof(oerr->error), e);
		if (json_get_string(root, "error_description", &d) == 1) {
			redact_echoes(&desc, d, strlen(d), form->data, form->len, basic_pass);
			text_escape(oerr->description, sizeof(oerr->description), desc.data);
		}
		ok = 1;
	}
	buf_free(&desc);
	json_free_secret(root);
	return ok;
}

/* Okta's own error body on its API paths: {"errorCode":"E0000007","errorSummary":"Not
 * found: ...","errorId":...}. The code and summary, escaped and redacted as an OAuth error's
 * are, in oerr's error and description. */
static int parse_okta_error(const struct buf *body, const struct buf *form, const char *basic_pass,
                            struct oauth_error *oerr)
{
	struct json *root = body->data ? json_parse(body->data, body->len) : NULL;
	const char *code, *summary;
	struct buf sum = BUF_INIT;
	int ok = 0;

	if (json_get_string(root, "errorCode", &code) == 1 && code[0] &&
	    json_get_string(root, "errorSummary", &summary) == 1) {
		redact_echoes(&sum, summary, strlen(summary), form->data, form->len, basic_pass);
		text_escape(oerr->error, sizeof(oerr->error), code);
		text_escape(oerr->description, sizeof(oerr->description), sum.data ? sum.data : "");
		ok = 1;
	}
	buf_free(&sum);
	json_free_secret(root);
	return ok;
}

int oauth_post(const struct provider_cfg *p, const char *url, const struct buf *form,
               struct buf *json, struct oauth_error *oerr, okc_err *err)
{
	return oauth_post_auth(p, url, form, NULL, NULL, json, oerr, err);
}

/* A form built per attempt: the last one is kept, since an answer may echo it and is
 * redacted against it. */
struct built_form {
	oauth_form_fn build;
	void *ctx;
	struct buf last;
};

/* http_request's prepare hook. */
static int built_form_prepare(void *ctx, struct buf *body, okc_err *err)
{
	struct built_form *f = ctx;

	buf_reset(&f->last);
	if (f->build(f->ctx, &f->last, err) < 0)
		return -1;
	buf_append(body, f->last.data ? f->last.data : "", f->last.len);
	return 0;
}

/* http_request's attempt_header hook for a DPoP provider: a proof made for each attempt
 * (the server accepts each jti once), with the server's latest nonce. */
struct dpop_ctx {
	const struct provider_cfg *p;
	const char *url;
};

static int dpop_attempt_header(void *ctx, struct buf *line, okc_err *err)
{
	const struct dpop_ctx *d = ctx;

	return dpop_header(d->p, "POST", d->url, NULL, line, err);
}

static int post_once(const struct provider_cfg *p, const char *url, const struct buf *form,
                     struct built_form *f, const char *basic_user, const char *basic_pass, int dpop,
                     struct buf *json, struct oauth_error *oerr, int *nonce_asked, okc_err *err);

/* oauth_post_auth with either a fixed form or one built per attempt (f); with dpop, a DPoP
 * proof on every attempt. A server that wants a DPoP nonce refuses with use_dpop_nonce
 * and a DPoP-Nonce header (RFC 9449 8): the request is sent once more with it. That
 * refusal comes before the request is processed (nothing was consumed or rotated: a refresh
 * token is still the same one), so sending it again is safe, also for a refresh. */
static int post_form(const struct provider_cfg *p, const char *url, const struct buf *form,
                     struct built_form *f, const char *basic_user, const char *basic_pass, int dpop,
                     struct buf *json, struct oauth_error *oerr, okc_err *err)
{
	int asked = 0, rc;

	rc = post_once(p, url, form, f, basic_user, basic_pass, dpop, json, oerr, &asked, err);
	if (rc == OAUTH_ERROR && dpop && asked) {
		log_verbose("%s: the server asked for a DPoP nonce; sending the request again",
		            p->name);
		rc = post_once(p, url, form, f, basic_user, basic_pass, dpop, json, oerr, &asked,
		               err);
	}
	return rc;
}

static int post_once(const struct provider_cfg *p, const char *url, const struct buf *form,
                     struct built_form *f, const char *basic_user, const char *basic_pass, int dpop,
                     struct buf *json, struct oauth_error *oerr, int *nonce_asked, okc_err *err)
{
	struct http_opts opts;
	struct http_request req = {0};
	struct http_response resp = {0};
	struct dpop_ctx dctx = {p, url};
	char host[256], excerpt[96], *ctype;
	int is_json, okta;

	memset(oerr, 0, sizeof(*oerr));
	*nonce_asked = 0;
	oauth_http_opts(p, &opts);
	if (dpop) {
		req.attempt_header = dpop_attempt_header;
		req.attempt_header_ctx = &dctx;
	}
	req.method = "POST";
	req.url = url;
	req.content_type = "application/x-www-form-urlencoded";
	if (f) {
		req.prepare = built_form_prepare;
		req.prepare_ctx = f;
		form = &f->last; /* after the request: what its last attempt sent */
	} else {
		req.body = form->data ? form->data : "";
		req.body_len = form->len;
	}
	req.accept = "application/json";
	req.basic_user = basic_user;
	req.basic_pass = basic_pass;
	if (http_request(&opts, &req, &resp, err) < 0) {
		http_response_free(&resp);
		return -1;
	}
	/* A server may give a new nonce with any answer: the next proof carries it. */
	if (dpop && resp.dpop_nonce)
		dpop_nonce_set(url, resp.dpop_nonce);
	http_url_host(url, host, sizeof(host));
	is_json = resp.body.len > 0 && resp.body.data[strspn(resp.body.data, " \t\r\n")] == '{';
	/* 200 with JSON, or with nothing at all (RFC 7009's revocation answer). */
	if (resp.status == 200 &&
	    (is_json || resp.body.len == strspn(resp.body.data ? resp.body.data : "", " \t\r\n"))) {
		*json = resp.body;
		memset(&resp.body, 0, sizeof(resp.body));
		http_response_free(&resp);
		return 0;
	}
	if ((resp.status == 400 || resp.status == 401) && is_json &&
	    parse_oauth_error(&resp.body, form, basic_pass, oerr)) {
		*nonce_asked = strcmp(oerr->error, "use_dpop_nonce") == 0 && resp.dpop_nonce;
		http_response_free(&resp);
		return OAUTH_ERROR;
	}
	okta = is_json && parse_okta_error(&resp.body, form, basic_pass, oerr);
	/* Okta refusing on its own terms: as an OAuth error, its code in place of one. */
	if (okta && resp.status >= 400 && resp.status < 500 && resp.status != 404 &&
	    resp.status != 429) {
		http_response_free(&resp);
		return OAUTH_ERROR;
	}
	excerpt[0] = '\0';
	if (!okta)
		body_excerpt(&resp.body, resp.content_type, form, basic_pass, excerpt,
		             sizeof(excerpt));
	ctype = text_escape_dup(resp.content_type ? resp.content_type : "no content type");
	if (resp.status == 404) {
		/* Every URL is org_url's and authorization_server's: one of them is wrong. */
		if (okta)
			okc_fail(err, OKC_EXIT_USAGE, "%s: HTTP 404: %s (%s)", host,
			         oerr->description,
			         oerr->error); /* Okta's summary says "Not found: ..." */
		else
			okc_fail(err, OKC_EXIT_USAGE, "%s: not found (HTTP 404, %s): \"%s\"", host,
			         ctype, excerpt);
		okc_hint(err,
		         "check authorization_server (\"default\", \"org\" or the id of an "
		         "authorization server of the org) and org_url of [provider %s]",
		         p->name);
	} else if (resp.status == 429)
		okc_fail(err, OKC_EXIT_NETWORK,
		         "%s: rate limit exceeded (HTTP 429), still after %d attempts%s%s%s%s%s",
		         host, resp.attempts, okta ? ": " : "", oerr->description, okta ? " (" : "",
		         oerr->error, okta ? ")" : "");
	else if (resp.status >= 500)
		okc_fail(err, OKC_EXIT_NETWORK,
		         "%s: server error (HTTP %ld) after %d attempts%s%s%s%s%s", host,
		         resp.status, resp.attempts, okta ? ": " : "", oerr->description,
		         okta ? " (" : "", oerr->error, okta ? ")" : "");
	else if (okta)
		okc_fail(err, OKC_EXIT_NETWORK, "%s: unexpected answer (HTTP %ld): %s (%s)", host,
		         resp.status, oerr->description, oerr->error);
	else if (!is_json)
		okc_fail(err, OKC_EXIT_NETWORK,
		         "%s: unexpected answer (HTTP %ld, %s, not JSON): \"%s\"", host,
		         resp.status, ctype, excerpt);
	else
		okc_fail(err, OKC_EXIT_NETWORK, "%s: unexpected answer (HTTP %ld): \"%s\"", host,
		         resp.status, excerpt);
	free(ctype);
	http_response_free(&resp);
	return -1;
}

int oauth_post_auth(const struct provider_cfg *p, const char *url, const struct buf *form,
                    const char *basic_user, const char *basic_pass, struct buf *json,
                    struct oauth_error *oerr, okc_err *err)
{
	return post_form(p, url, form, NULL, basic_user, basic_pass, 0, json, oerr, err);
}

int oauth_post_built(const struct provider_cfg *p, const char *url, oauth_form_fn build, void *ctx,
                     const char *basic_user, const char *basic_pass, struct buf *json,
                     struct oauth_error *oerr, okc_err *err)
{
	struct built_form f = {build, ctx, BUF_INIT};
	/* The revocation endpoint: a DPoP provider proves its key there too. */
	int rc = post_form(p, url, &f.last, &f, basic_user, basic_pass, p->dpop, json, oerr, err);

	buf_free(&f.last); /* wipes the last form: it may hold a client assertion */
	return rc;
}

/* POSTs to p's token endpoint (form, or with f, f's form built per attempt, form then
 * being f->last) and reads the token answer as tokens for p. */
static int token_request(const struct provider_cfg *p, const struct buf *form, struct built_form *f,
                         const char *basic_user, const char *basic_pass, struct tokens **out,
                         struct oauth_error *oerr, okc_err *err)
{
	struct oauth_endpoints ep;
	struct buf json = BUF_INIT;
	int rc;

	if (oauth_endpoints_for(p, &ep, err) < 0)
		return -1;
	rc = post_form(p, ep.token, form, f, basic_user, basic_pass, p->dpop, &json, oerr, err);
	oauth_endpoints_free(&ep);
	if (rc == 0)
		rc = tokens_from_response(json.data, json.len, now_utc(), out, err);
	buf_free(&json);
	if (rc == 0)
		tokens_set_provider(*out, p);
	if (rc == 0 && p->dpop && strcasecmp((*out)->token_type, "DPoP") != 0)
		log_warn("%s: dpop = true, but the server issued a %s token, not a DPoP-bound one",
		         p->name, (*out)->token_type);
	return rc;
}

int oauth_token_request(const struct provider_cfg *p, const struct buf *form, struct tokens **out,
                        struct oauth_error *oerr, okc_err *err)
{
	return token_request(p, form, NULL, NULL, NULL, out, oerr, err);
}

int oauth_token_request_auth(const struct provider_cfg *p, oauth_form_fn build, void *ctx,
                             const char *basic_user, const char *basic_pass, struct tokens **out,
                             struct oauth_error *oerr, okc_err *err)
{
	struct built_form f = {build, ctx, BUF_INIT};
	int rc = token_request(p, &f.last, &f, basic_user, basic_pass, out, oerr, err);

	buf_free(&f.last); /* wipes the last form: it may hold a client assertion */
	return rc;
}

/* The revocation request's form (an oauth_form_fn): built for each attempt, since a client
 * assertion is accepted once. */
struct revoke_form {
	const struct provider_cfg *p;
	const struct oauth_client_auth *auth;
	const char *url, *token, *type_hint;
};

static int revoke_form_build(void *ctx, struct buf *form, okc_err *err)
{
	const struct revoke_form *r = ctx;

	http_form_add(form, "token", r->token);
	http_form_add(form, "token_type_hint", r->type_hint);
	if (r->auth && r->auth->add)
		return r->auth->add(r->auth->ctx, r->url, form, err);
	/* A public client names itself; Basic names the client already. */
	if (!(r->auth && r->auth->basic_user))
		http_form_add(form, "client_id", r->p->client_id);
	return 0;
}

int oauth_revoke(const struct provider_cfg *p, const struct oauth_client_auth *auth,
                 const char *token, const char *type_hint, okc_err *err)
{
	struct oauth_endpoints ep;
	struct oauth_error oerr;
	struct revoke_form rf;
	struct buf json = BUF_INIT;
	int rc;

	if (oauth_endpoints_for(p, &ep, err) < 0)
		return -1;
	rf.p = p;
	rf.auth = auth;
	rf.url = ep.revoke;
	rf.token = token;
	rf.type_hint = type_hint;
	rc = oauth_post_built(p, ep.revoke, revoke_form_build, &rf, auth ? auth->basic_user : NULL,
	                      auth ? auth->basic_pass : NULL, &json, &oerr, err);
	buf_free(&json);
	oauth_endpoints_free(&ep);
	if (rc == OAUTH_ERROR) {
		okc_fail(err, OKC_EXIT_FAIL, "revocation refused: %s%s%s", oerr.error,
		         oerr.description[0] ? ": " : "", oerr.description);
		if (strcmp(oerr.error, "invalid_client") == 0)
			okc_hint(
			    err,
			    "check the client credentials of [provider %s] against the Okta app",
			    p->name);
		return -1;
	}
	return rc;
}
