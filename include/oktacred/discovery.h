/* discovery.h: an authorization server's metadata (OpenID Connect Discovery 1.0, RFC 8414)
 * as Okta serves it, and the check `config validate --online` makes of it: that the
 * endpoints oktacred builds (oauth.h) are the server's, and that it offers the grant types
 * and client authentication a provider kind uses. Nothing secret is sent: one GET. */
#ifndef OKTACRED_DISCOVERY_H
#define OKTACRED_DISCOVERY_H

#include <stddef.h>

#include "oktacred/err.h"

struct provider_cfg;

/* The endpoints a kind uses (oauth_endpoints' fields). */
#define OAUTH_USES_TOKEN  0x01u
#define OAUTH_USES_DEVICE 0x02u /* device_authorization_endpoint */
#define OAUTH_USES_REVOKE 0x04u /* revocation_endpoint */
#define OAUTH_USES_KEYS   0x08u /* jwks_uri */

/* What a provider kind expects of its server (its descriptor's `online`). */
struct oauth_expect {
	unsigned endpoints;        /* OAUTH_USES_* */
	const char *const *grants; /* grant types it uses, NULL-terminated */
	/* The token endpoint client authentication p uses ("none", "private_key_jwt",
	 * "client_secret_basic"), or NULL: not checked. */
	const char *(*auth_method)(const struct provider_cfg *p);
	/* The expectations of p when they depend on its keys (a device-code provider's
	 * flow), or NULL: these. */
	const struct oauth_expect *(*of_provider)(const struct provider_cfg *p);
};

struct oauth_discovery {
	char *url; /* where it was read */
	char *issuer;
	char *token_endpoint;
	char *device_authorization_endpoint;
	char *revocation_endpoint;
	char *jwks_uri;
	char **grant_types; /* NULL when the document does not list them */
	size_t ngrant_types;
	char **auth_methods; /* token_endpoint_auth_methods_supported, or NULL */
	size_t nauth_methods;
	char **dpop_algs; /* dpop_signing_alg_values_supported (RFC 9449 5.1), or NULL */
	size_t ndpop_algs;
};

/* Reads p's discovery document: ORG/.well-known/openid-configuration for the org server,
 * ORG/oauth2/ID/.well-known/openid-configuration for a custom one. Returns 0, or -1 with
 * err: exit 4 when the server cannot be reached, answers 5xx or 429, or not with a JSON
 * object; exit 2 when it answers 404 (no such authorization server: check
 * authorization_server and org_url) or another 4xx. */
int oauth_discover(const struct provider_cfg *p, struct oauth_discovery *out, okc_err *err);
void oauth_discovery_free(struct oauth_discovery *d);

/* Judges d against what p's kind expects: 0, or -1 with what is wrong in problem (one
 * line, the first thing wrong). */
int oauth_discovery_check(const struct provider_cfg *p, const struct oauth_discovery *d,
                          const struct oauth_expect *want, char *problem, size_t n);

#endif
