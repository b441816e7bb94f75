/* identity.h: what tokens are turned into for a child process or a shell, one
 * implementation per identity kind (src/identities/). */
#ifndef OKTACRED_IDENTITY_H
#define OKTACRED_IDENTITY_H

#include "oktacred/envset.h"
#include "oktacred/err.h"

struct identity_cfg;
struct provider_cfg;

/* What an identity is asked to produce. */
struct identity_request {
	const struct identity_cfg *id; /* NULL when NAME is a provider: okta/api-access */
	const struct provider_cfg *p;
	const char *name; /* NAME as resolved: OKTACRED_IDENTITY */
	int names_only;   /* --unset: the variables, without fetching any credential */
	const char *role; /* --role, for identities that choose among roles; or NULL */
};

struct identity_ops {
	/* Fills env with the variables to set and to clear (DESIGN.md section 5). */
	int (*environment)(const struct identity_request *req, struct envset *env, okc_err *err);
};

extern const struct identity_ops identity_api_access;

/* Dispatches on the kind (a provider alone is an okta/api-access identity). */
int identity_environment(const struct identity_request *req, struct envset *env, okc_err *err);

/* Splits an org URL's host at its first dot: https://dev-123.okta.com -> "dev-123" and
 * "okta.com" (what the Terraform okta provider reads as OKTA_ORG_NAME and OKTA_BASE_URL).
 * Returns 0 with both set (the caller frees them), or 1 when the host has no dot or is an
 * IP address. */
int okta_org_split(const char *org_url, char **org_name, char **base_url);

#endif
