/* config.h: the INI configuration (DESIGN.md section 3) as structs. config.c is the
 * only file that includes <ini.h>. Every error is "FILE:LINE: message", exit 2. */
#ifndef OKTACRED_CONFIG_H
#define OKTACRED_CONFIG_H

#include <stddef.h>
#include "oktacred/err.h"

enum provider_kind { PROVIDER_DEVICE_CODE, PROVIDER_SERVICE_ACCOUNT, PROVIDER_API_TOKEN };
enum identity_kind { IDENTITY_API_ACCESS, IDENTITY_AWS_ASSUME_ROLE };
enum token_store { TOKEN_STORE_FILE, TOKEN_STORE_KEYRING };

struct provider_cfg {
	char *name;
	enum provider_kind kind;
	char *org_url; /* no trailing slash */
	char *client_id;
	char *authorization_server; /* "default", "org" or an id; default "default"
	                               ("org" for okta/service-account) */
	char *scopes;               /* space-separated; device-code default
	                               "openid profile email offline_access" */
	enum token_store token_store;
	long refresh_before; /* seconds; default 300 */
	char *base_path;     /* files.base_path; NULL: the XDG default */
	char *ca_bundle;     /* NULL: system CAs */
	long timeout;        /* seconds for one HTTP request; 0: http.h's defaults */
	/* okta/service-account */
	char *private_key; /* a path (~ expanded) or PEM text */
	char *private_key_id;
	char *client_secret; /* wiped on free */
	/* okta/api-token */
	char *token_env;  /* name of the environment variable holding the SSWS token */
	const char *file; /* where it was defined, for messages */
	int line;
};

/* One "Group=arn" entry of role_map. */
struct role_mapping {
	char *group; /* an Okta group name; match it case-insensitively */
	char *role_arn;
};

struct identity_cfg {
	char *name;
	enum identity_kind kind;
	char *provider_name;
	const struct provider_cfg *provider; /* resolved after parsing */
	/* aws/assume-role (NULL for other kinds) */
	char *role_arn;
	char *role_map;             /* raw "Group=arn, Group2=arn" */
	struct role_mapping *roles; /* role_map parsed and checked, in file order */
	size_t nroles;
	char *region;
	long duration;      /* seconds; default 3600; 900..43200 */
	char *session_name; /* default "{email}"; {email} {sub} {preferred_username} */
	char *sts_endpoint; /* NULL: https://sts.REGION.amazonaws.com */
	int interactive;    /* true/false/yes/no/on/off/1/0; default 0; any kind */
	const char *file;
	int line;
};

struct config {
	char *path;             /* the file that was read */
	char *default_identity; /* [defaults] identity, or NULL */
	struct provider_cfg *providers;
	size_t nproviders;
	struct identity_cfg *identities;
	size_t nidentities;
};

/* Reads and validates the configuration. path NULL: $OKTACRED_CONFIG, else
 * ${XDG_CONFIG_HOME:-$HOME/.config}/oktacred/config. Errors (exit 2 unless said):
 * - a missing file: "FILE: no configuration file" with a hint to create it;
 * - the file group/other-writable or owned by another user (exit 1), or
 *   group/other-readable while it holds a client_secret (exit 1): says `chmod 600 FILE`;
 * - unknown section or key, a bad value, a duplicate section or key, a provider or
 *   identity missing a required key, an identity naming an unknown provider, an unknown
 *   kind, a key that does not belong to the section's kind, [defaults] identity naming
 *   nothing, "${VAR}" naming an unset variable, org_url not https (http only for
 *   loopback), duration outside 15m..12h: all "FILE:LINE: message".
 * Values may use ${VAR}; a value of private_key starting with "-----BEGIN" is PEM text. */
int config_load(const char *path, struct config **out, okc_err *err);
void config_free(struct config *cfg);

const struct provider_cfg *config_find_provider(const struct config *cfg, const char *name);
const struct identity_cfg *config_find_identity(const struct config *cfg, const char *name);

/* NAME (an identity or a provider; NULL: [defaults] identity) to what it means. An
 * identity sets *identity and *provider; a provider sets *identity = NULL. An identity
 * wins when both share the name. Errors: no NAME and no default (exit 2, hint lists the
 * names), unknown NAME (exit 2). */
int config_resolve(const struct config *cfg, const char *name, const struct identity_cfg **identity,
                   const struct provider_cfg **provider, okc_err *err);

const char *provider_kind_name(enum provider_kind k); /* "okta/device-code" ... */
const char *identity_kind_name(enum identity_kind k); /* "okta/api-access" ... */

#endif
