/* api_access.c: the okta/api-access identity: Okta's own API for the Terraform okta
 * provider, the SDKs and curl (DESIGN.md section 5.1). */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/dpop.h"
#include "oktacred/http.h"
#include "oktacred/identity.h"
#include "oktacred/okta_proxy.h"
#include "oktacred/paths.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

/* They conflict with a bearer token in the Terraform provider and the SDKs: another
 * principal's credentials, or (OKTA_HTTP_PROXY, the Terraform provider's base URL) another
 * host for ours. The Okta SDKs' names: okta-sdk-golang, okta-sdk-python 1.4 and later and
 * okta-sdk-nodejs write them as one word per key (OKTA_CLIENT_PRIVATEKEY), okta-sdk-python
 * before 1.4 split them at the capitals (OKTA_CLIENT_PRIVATE_KEY; it had no key id). Of
 * these spellings, only names an SDK reads are here (oktacred(1) says which reads which). */
static const char *const conflicting[] = {
    "OKTA_API_TOKEN",
    "OKTA_CLIENT_ID",
    "OKTA_PRIVATE_KEY",
    "OKTA_PRIVATE_KEY_ID",
    "OKTA_SCOPES",
    "OKTA_API_CLIENT_ID",
    "OKTA_API_PRIVATE_KEY",
    "OKTA_API_PRIVATE_KEY_ID",
    "OKTA_API_SCOPES",
    "OKTA_HTTP_PROXY",
    "OKTA_CLIENT_CLIENTID",
    "OKTA_CLIENT_CLIENT_ID",
    "OKTA_CLIENT_PRIVATEKEY",
    "OKTA_CLIENT_PRIVATE_KEY",
    "OKTA_CLIENT_PRIVATEKEYID",
    "OKTA_CLIENT_KEYID",
    "OKTA_CLIENT_SCOPES",
    "OKTA_CLIENT_CLIENTASSERTION",
    "OKTA_CLIENT_JWK",
};

int okta_org_split(const char *org_url, char **org_name, char **base_url)
{
	const char *host = strstr(org_url, "://");
	const char *dot, *c;
	size_t len;

	host = host ? host + 3 : org_url;
	len = strcspn(host, ":/?#");
	if (len == 0 || host[0] == '[')
		return 1;
	for (c = host; c < host + len && (isdigit((unsigned char)*c) || *c == '.'); c++)
		;
	if (c == host + len)
		return 1; /* an IPv4 address */
	dot = memchr(host, '.', len);
	if (!dot || dot == host || dot == host + len - 1)
		return 1;
	*org_name = xstrndup(host, (size_t)(dot - host));
	*base_url = xstrndup(dot + 1, (size_t)(host + len - dot - 1));
	return 0;
}

/* The kind's own keys. */
struct api_access_cfg {
	char *api_url; /* NULL: the provider's org_url */
};

/* Where Okta's API is: api_url, else the org URL. A provider named alone has no key. */
static const char *api_url(const struct identity_request *req)
{
	const struct api_access_cfg *a = req->id ? req->id->kind_cfg : NULL;

	return a && a->api_url ? a->api_url : req->p->org_url;
}

static int api_access_environment(const struct identity_request *req, struct envset *env,
                                  okc_err *err)
{
	const struct provider_cfg *p = req->p;
	int ssws = provider_can(p, PROVIDER_SSWS);
	struct tokens *t = NULL;
	char *org_name = NULL, *base_url = NULL, *dir = NULL;
	size_t i;

	/* A DPoP-bound token goes with a proof made for each request: as a bearer token in a
	 * variable it is refused by every server. */
	if (!req->names_only && p->dpop)
		return okc_fail(
		    err, OKC_EXIT_USAGE,
		    "%s: provider %s has dpop = true: its tokens are bound to a key of "
		    "oktacred's and useless as bearer tokens in the environment; run the "
		    "command with `oktacred exec --server %s -- CMD`",
		    req->name, p->name, req->name);
	if (!req->names_only && provider_tokens(p, NEED_ACCESS_TOKEN, &t, err) < 0)
		return -1;
	if (!ssws && paths_provider_dir(p->base_path, p->name, &dir, err) < 0) {
		tokens_free(t);
		return -1;
	}
	envset_put(env, "OKTA_ORG_URL", api_url(req), 0);
	if (okta_org_split(api_url(req), &org_name, &base_url) == 0) {
		envset_put(env, "OKTA_ORG_NAME", org_name, 0);
		envset_put(env, "OKTA_BASE_URL", base_url, 0);
	} else {
		/* A stale value from the caller's environment would point elsewhere. */
		envset_put(env, "OKTA_ORG_NAME", NULL, 0);
		envset_put(env, "OKTA_BASE_URL", NULL, 0);
	}
	for (i = 0; i < ARRAY_SIZE(conflicting); i++)
		envset_put(env, conflicting[i], NULL, 0);
	/* The Okta SDKs' own names, in both spellings (see conflicting[]). */
	envset_put(env, "OKTA_CLIENT_ORGURL", api_url(req), 0);
	envset_put(env, "OKTA_CLIENT_ORG_URL", api_url(req), 0);
	envset_put(env, "OKTA_CLIENT_TOKEN", t ? t->access_token : "", 1);
	envset_put(env, "OKTA_CLIENT_AUTHORIZATIONMODE", ssws ? "SSWS" : "Bearer", 0);
	envset_put(env, "OKTA_CLIENT_AUTHORIZATION_MODE", ssws ? "SSWS" : "Bearer", 0);
	if (ssws) {
		envset_put(env, "OKTA_API_TOKEN", t ? t->access_token : "", 1);
		envset_put(env, "OKTA_OAUTH2_ACCESS_TOKEN", NULL, 0);
		envset_put(env, "OKTA_ACCESS_TOKEN", NULL, 0);
	} else {
		envset_put(env, "OKTA_OAUTH2_ACCESS_TOKEN", t ? t->access_token : "", 1);
		envset_put(env, "OKTA_ACCESS_TOKEN", t ? t->access_token : "", 1);
		envset_put(env, "OKTA_CONFIG_DIR", dir, 0);
	}
	envset_put(env, "OKTACRED_IDENTITY", req->name, 0);
	free(org_name);
	free(base_url);
	free(dir);
	tokens_free(t);
	return 0;
}

/* ---- exec --server: the proxy ---- */

/* The session is read (and refreshed, under the provider's lock, and saved) for each
 * request passed on, one request at a time: many at once make one refresh, the others then
 * read its tokens. */
struct serve_state {
	const struct identity_request *req;
	pthread_mutex_t mu;
};

static int serve_authorize(void *arg, const char *method, const char *url, struct buf *lines,
                           okc_err *err)
{
	struct serve_state *st = arg;
	const struct provider_cfg *p = st->req->p;
	struct tokens *t = NULL;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = provider_tokens(p, NEED_ACCESS_TOKEN, &t, err);
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		return -1;
	if (p->dpop) {
		/* RFC 9449 7.1: the token under the DPoP scheme, and a proof for this request
		 * (its method and URL) with ath, the token's hash. */
		buf_printf(lines, "Authorization: DPoP %s\r\n", t->access_token);
		rc = dpop_header(p, method, url, t->access_token, lines, err);
		buf_puts(lines, "\r\n");
	} else {
		buf_printf(lines, "Authorization: %s %s\r\n",
		           provider_can(p, PROVIDER_SSWS) ? "SSWS" : "Bearer", t->access_token);
	}
	tokens_free(t);
	return rc;
}

static int api_access_serve(const struct identity_request *r, char **argv, okc_err *err)
{
	struct identity_request req = *r;
	struct okta_proxy_opts o = {0};
	struct http_opts ho = {0};
	struct serve_state st;
	struct tokens *t = NULL;
	struct envset env;
	int status;

	/* A session now: a login that is needed is said before the command starts. */
	if (provider_tokens(req.p, NEED_ACCESS_TOKEN, &t, err) < 0)
		return -1;
	tokens_free(t);
	/* The key (and with it libcrypto, whose loading is not thread-safe) before threads. */
	if (req.p->dpop) {
		struct signing_key *k;

		if (dpop_key(req.p, &k, err) < 0)
			return -1;
	}
	req.names_only = 1;
	envset_init(&env);
	if (api_access_environment(&req, &env, err) < 0) {
		envset_free(&env);
		return -1;
	}
	req.names_only = 0;
	st.req = &req;
	pthread_mutex_init(&st.mu, NULL);
	ho.ca_bundle = req.p->ca_bundle;
	o.argv = argv;
	o.env = &env;
	o.upstream = api_url(&req);
	o.authorize = serve_authorize;
	o.arg = &st;
	o.http = &ho;
	o.dpop = req.p->dpop;
	okc_err_clear(err);
	status = okta_proxy_run(&o, err);
	pthread_mutex_destroy(&st.mu);
	envset_free(&env);
	return status;
}

/* Okta's API takes only the org authorization server's access tokens: a custom server's
 * work for the resource servers that trust it. Allowed (the variables are still useful to
 * a tool that calls such a server), but worth saying. */
static int check_provider(struct config_ctx *c, const struct identity_cfg *id,
                          const struct provider_cfg *p)
{
	if (p->authorization_server && strcmp(p->authorization_server, "org") != 0)
		config_warn(c,
		            "identity %s: provider %s uses a custom authorization server "
		            "(authorization_server = %s), whose access tokens Okta's API refuses; "
		            "okta/api-access needs authorization_server = org",
		            id->name, p->name, p->authorization_server);
	return 0;
}

static const struct config_key keys[] = {
    /* Where Okta's API is, when not at the org URL (a test stand-in; a proxy of one's own). */
    {"api_url", config_set_origin, offsetof(struct api_access_cfg, api_url), CK_STRING, NULL, NULL,
     0, 0},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct identity_kind identity_api_access = {
    .config = {.name = "okta/api-access",
               .keys = keys,
               .size = sizeof(struct api_access_cfg),
               .check_provider = check_provider},
    .environment = api_access_environment,
    .serve = api_access_serve,
};
