/* discovery.c: an authorization server's metadata, fetched and judged against what a
 * provider kind will use (config validate --online). One GET, no secret. */
#include "oktacred/discovery.h"

#include "oktacred/json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/http.h"
#include "oktacred/json.h"
#include "oktacred/oauth.h"
#include "oktacred/util.h"

#define WELL_KNOWN "/.well-known/openid-configuration"

void oauth_discovery_free(struct oauth_discovery *d)
{
	if (!d)
		return;
	free(d->url);
	free(d->issuer);
	free(d->token_endpoint);
	free(d->device_authorization_endpoint);
	free(d->revocation_endpoint);
	free(d->jwks_uri);
	for (size_t i = 0; i < d->ngrant_types; i++)
		free(d->grant_types[i]);
	free(d->grant_types);
	for (size_t i = 0; i < d->ndpop_algs; i++)
		free(d->dpop_algs[i]);
	free(d->dpop_algs);
	for (size_t i = 0; i < d->nauth_methods; i++)
		free(d->auth_methods[i]);
	free(d->auth_methods);
	memset(d, 0, sizeof(*d));
}

/* A string member (absent: NULL; the wrong type: -1). */
static int get_string(const struct json *root, const char *key, char **out)
{
	const char *s;
	int r = json_get_string(root, key, &s);

	if (r == 1)
		*out = xstrdup(s);
	return r < 0 ? -1 : 0;
}

/* An array of strings (absent: NULL; the wrong type: -1). */
static int get_strings(const struct json *root, const char *key, char ***out, size_t *n)
{
	const struct json *a = json_member(root, key), *e;

	*out = NULL;
	*n = 0;
	if (!a || json_is(a, JSON_NULL))
		return 0;
	if (!json_is(a, JSON_ARRAY))
		return -1;
	*out = xcalloc((size_t)json_count(a) + 1, sizeof(**out));
	json_each (e, a) {
		if (!json_is(e, JSON_STRING) || !e->str)
			return -1;
		(*out)[(*n)++] = xstrdup(e->str);
	}
	return 0;
}

static int parse(struct oauth_discovery *d, const struct buf *body, const char *host, okc_err *err)
{
	struct json *root = json_parse_object(body->data, body->len);
	int rc = -1;

	if (!root)
		return okc_fail(err, OKC_EXIT_NETWORK,
		                "%s: the discovery document is not a JSON object", host);
	if (get_string(root, "issuer", &d->issuer) < 0 ||
	    get_string(root, "token_endpoint", &d->token_endpoint) < 0 ||
	    get_string(root, "device_authorization_endpoint", &d->device_authorization_endpoint) <
	        0 ||
	    get_string(root, "revocation_endpoint", &d->revocation_endpoint) < 0 ||
	    get_string(root, "jwks_uri", &d->jwks_uri) < 0 ||
	    get_strings(root, "grant_types_supported", &d->grant_types, &d->ngrant_types) < 0 ||
	    get_strings(root, "token_endpoint_auth_methods_supported", &d->auth_methods,
	                &d->nauth_methods) < 0 ||
	    get_strings(root, "dpop_signing_alg_values_supported", &d->dpop_algs, &d->ndpop_algs) <
	        0)
		okc_fail(err, OKC_EXIT_NETWORK,
		         "%s: the discovery document has a member of the wrong type", host);
	else
		rc = 0;
	json_free(root);
	return rc;
}

int oauth_discover(const struct provider_cfg *p, struct oauth_discovery *out, okc_err *err)
{
	struct oauth_endpoints ep;
	struct http_opts opts;
	struct http_request req = {0};
	struct http_response resp = {0};
	char host[256];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (oauth_endpoints_for(p, &ep, err) < 0)
		return -1;
	out->url = xasprintf("%s%s", ep.issuer, WELL_KNOWN);
	oauth_endpoints_free(&ep);
	oauth_http_opts(p, &opts);
	opts.max_attempts = 2; /* a check, not a step something waits on */
	req.method = "GET";
	req.url = out->url;
	req.accept = "application/json";
	http_url_host(out->url, host, sizeof(host));
	if (http_request(&opts, &req, &resp, err) < 0)
		goto out;
	if (resp.status == 200) {
		rc = parse(out, &resp.body, host, err);
	} else if (resp.status == 404) {
		okc_fail(err, OKC_EXIT_USAGE,
		         "%s: no authorization server there (HTTP 404 for %s): check org_url and "
		         "authorization_server",
		         host, out->url);
	} else if (resp.status == 429 || resp.status >= 500) {
		okc_fail(err, OKC_EXIT_NETWORK, "%s: HTTP %ld for the discovery document", host,
		         resp.status);
	} else if (resp.status >= 400) {
		okc_fail(err, OKC_EXIT_USAGE, "%s: HTTP %ld for the discovery document %s", host,
		         resp.status, out->url);
	} else {
		okc_fail(err, OKC_EXIT_NETWORK, "%s: unexpected answer (HTTP %ld) for %s", host,
		         resp.status, out->url);
	}
out:
	http_response_free(&resp);
	if (rc < 0) {
		char *url = out->url;

		out->url = NULL;
		oauth_discovery_free(out);
		out->url = url;
	}
	return rc;
}

static int listed(char *const *list, size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], want) == 0)
			return 1;
	return 0;
}

/* The endpoint oktacred builds against the one the server advertises. */
static int same_endpoint(const char *what, const char *key, const char *ours, const char *theirs,
                         char *problem, size_t n)
{
	char shown[200];

	if (!theirs) {
		snprintf(problem, n, "the server advertises no %s (%s)", what, key);
		return 0;
	}
	if (strcmp(ours, theirs) != 0) {
		text_escape(shown, sizeof(shown), theirs);
		snprintf(problem, n, "the server's %s is %s, not %s", what, shown, ours);
		return 0;
	}
	return 1;
}

int oauth_discovery_check(const struct provider_cfg *p, const struct oauth_discovery *d,
                          const struct oauth_expect *want, char *problem, size_t n)
{
	struct oauth_endpoints ep;
	okc_err err;
	char shown[200];
	int ok = 0;

	if (want->of_provider)
		want = want->of_provider(p);
	if (oauth_endpoints_for(p, &ep, &err) < 0) {
		snprintf(problem, n, "%s", err.msg);
		return -1;
	}
	if (!d->issuer || strcmp(d->issuer, ep.issuer) != 0) {
		text_escape(shown, sizeof(shown), d->issuer ? d->issuer : "(none)");
		snprintf(problem, n, "the server's issuer is %s, not %s", shown, ep.issuer);
		goto out;
	}
	if (((want->endpoints & OAUTH_USES_TOKEN) &&
	     !same_endpoint("token endpoint", "token_endpoint", ep.token, d->token_endpoint,
	                    problem, n)) ||
	    ((want->endpoints & OAUTH_USES_DEVICE) &&
	     !same_endpoint("device authorization endpoint", "device_authorization_endpoint",
	                    ep.device_authorize, d->device_authorization_endpoint, problem, n)) ||
	    ((want->endpoints & OAUTH_USES_REVOKE) &&
	     !same_endpoint("revocation endpoint", "revocation_endpoint", ep.revoke,
	                    d->revocation_endpoint, problem, n)) ||
	    ((want->endpoints & OAUTH_USES_KEYS) &&
	     !same_endpoint("key set", "jwks_uri", ep.keys, d->jwks_uri, problem, n)))
		goto out;
	/* RFC 8414: an absent grant_types_supported means authorization_code and implicit. */
	for (const char *const *g = want->grants; g && *g; g++) {
		if (!listed(d->grant_types, d->ngrant_types, *g)) {
			snprintf(problem, n, "the server does not offer the %s grant", *g);
			goto out;
		}
	}
	if (want->auth_method && d->auth_methods) {
		const char *m = want->auth_method(p);

		if (m && !listed(d->auth_methods, d->nauth_methods, m)) {
			snprintf(problem, n, "the server does not take %s client authentication",
			         m);
			goto out;
		}
	}
	/* dpop = true: proofs are signed ES256, which the server must take (RFC 9449 5.1). */
	if (p->dpop && (want->endpoints & OAUTH_USES_TOKEN) &&
	    !listed(d->dpop_algs, d->ndpop_algs, "ES256")) {
		snprintf(problem, n,
		         d->dpop_algs ? "the server does not take ES256 DPoP proofs (dpop = true)"
		                      : "the server does not offer DPoP (dpop = true): it lists no "
		                        "dpop_signing_alg_values_supported");
		goto out;
	}
	ok = 1;
out:
	oauth_endpoints_free(&ep);
	return ok ? 0 : -1;
}
