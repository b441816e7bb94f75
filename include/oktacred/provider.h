/* provider.h: how tokens are obtained, one kind per file (src/providers/): the device-code
 * session, the service account's client credentials, the API token from the environment.
 * provider.c holds the registry (config_provider_kinds) and the keys every provider has;
 * a kind is a struct provider_kind: its configuration (struct config_kind: name, keys,
 * checks) and what it can do. */
#ifndef OKTACRED_PROVIDER_H
#define OKTACRED_PROVIDER_H

#include <stddef.h>

#include "oktacred/config.h"
#include "oktacred/discovery.h"
#include "oktacred/err.h"
#include "oktacred/refresh.h"
#include "oktacred/tokens.h"

/* What a provider kind can do. */
#define PROVIDER_LOGIN    0x01u /* a person's session: login, refresh, logout --revoke */
#define PROVIDER_ID_TOKEN 0x02u /* its tokens include an ID token */
#define PROVIDER_CACHED   0x04u /* its tokens are kept on disk (tokens.json or the keyring) */
#define PROVIDER_SSWS     0x08u /* its token is an Okta API token (SSWS), not OAuth's */

struct provider_kind {
	struct config_kind config; /* first: a provider_cfg's kind points here */
	unsigned caps;             /* PROVIDER_* */
	/* Tokens fit to hand out: the needed token fresh (refreshed or fetched under the
	 * provider's lock when needed). For okta/api-token, access_token holds the SSWS
	 * token, token_type is "SSWS" and expires_at is 0 (it does not expire). */
	int (*tokens)(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
	              okc_err *err);
	/* Its status when it keeps no session on disk (!PROVIDER_CACHED): 1 usable, else 0
	 * with why in problem. Or NULL. */
	int (*status)(const struct provider_cfg *p, char *problem, size_t n);
	/* What `config validate --online` expects its authorization server to advertise,
	 * or NULL: a kind without one (not checked). */
	const struct oauth_expect *online;
	/* Revokes token (RFC 7009) with the client authentication of its token requests.
	 * Or NULL: revoked as a public client (client_id in the form). */
	int (*revoke)(const struct provider_cfg *p, const char *token, const char *type_hint,
	              okc_err *err);
};

extern const struct provider_kind provider_device_code;
/* What an okta/device-code provider with flow = browser expects of its server (its
 * online's of_provider answer then): init judges a server without the device grant by it. */
extern const struct oauth_expect device_code_online_browser;
extern const struct provider_kind provider_service_account;
extern const struct provider_kind provider_api_token;

/* The kind of p, with its operations. */
const struct provider_kind *provider_kind_of(const struct provider_cfg *p);
/* 1 when p's kind can do all of caps. */
int provider_can(const struct provider_cfg *p, unsigned caps);
/* p's kind's tokens(). */
int provider_tokens(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
                    okc_err *err);
/* Revokes token at p's authorization server (RFC 7009), authenticated as p's kind does
 * at its token endpoint. Returns 0, or -1: exit 1 when the server refused. */
int provider_revoke(const struct provider_cfg *p, const char *token, const char *type_hint,
                    okc_err *err);
/* 1 when session (the id tokens and what was derived from them carry) is still p's
 * current one. */
int provider_session_current(const struct provider_cfg *p, const char *session);
/* A fresh ID token after a service (STS) called t's expired: the cache's when another
 * process refreshed meanwhile, else refreshed now, under the provider's lock. */
int provider_renew_rejected(const struct provider_cfg *p, struct tokens **t, okc_err *err);

/* Keys that several provider kinds take (the fields are provider_cfg's): client_id
 * (required), authorization_server (default def), scopes (default def, or required when
 * def is NULL), refresh_before (default 5m). */
int provider_set_authorization_server(struct config_ctx *c, const struct config_key *k, void *obj,
                                      const char *v);
int provider_set_scopes(struct config_ctx *c, const struct config_key *k, void *obj, const char *v);
/* For a kind's check: scopes Okta can never grant on p's authorization server (okta.*
 * scopes, Okta's management API, come only from the org server). */
int provider_check_scopes(struct config_ctx *c, const struct provider_cfg *p);
/* The first okta.* scope of scopes (its length in *n), or NULL. */
const char *provider_okta_scope(const char *scopes, size_t *n);
#define PROVIDER_KEY_CLIENT_ID                                                                     \
	{                                                                                          \
		"client_id", config_set_word, offsetof(struct provider_cfg, client_id),            \
		    CK_COMMON | CK_REQUIRED | CK_STRING, NULL, NULL, 0, 0                          \
	}
#define PROVIDER_KEY_AUTHORIZATION_SERVER(def)                                                     \
	{                                                                                          \
		"authorization_server", provider_set_authorization_server,                         \
		    offsetof(struct provider_cfg, authorization_server), CK_COMMON | CK_STRING,    \
		    (def), NULL, 0, 0                                                              \
	}
#define PROVIDER_KEY_SCOPES(def)                                                                   \
	{                                                                                          \
		"scopes", provider_set_scopes, offsetof(struct provider_cfg, scopes),              \
		    CK_COMMON | CK_STRING | ((def) ? 0u : CK_REQUIRED), (def), NULL, 0, 0          \
	}
/* How long a session lasts after its login, whatever its refresh token would allow. */
#define PROVIDER_KEY_SESSION_DURATION                                                              \
	{                                                                                          \
		"session_duration", config_set_duration,                                           \
		    offsetof(struct provider_cfg, session_duration), CK_COMMON, NULL, NULL, 60,    \
		    365L * 86400                                                                   \
	}
/* DPoP (RFC 9449): every token request carries a proof of a key of ours (dpop.h). */
#define PROVIDER_KEY_DPOP                                                                          \
	{                                                                                          \
		"dpop", config_set_bool, offsetof(struct provider_cfg, dpop), CK_COMMON, "false",  \
		    NULL, 0, 0                                                                     \
	}
#define PROVIDER_KEY_REFRESH_BEFORE                                                                \
	{                                                                                          \
		"refresh_before", config_set_duration,                                             \
		    offsetof(struct provider_cfg, refresh_before), CK_COMMON, "5m", NULL, 0, 0     \
	}

#endif
