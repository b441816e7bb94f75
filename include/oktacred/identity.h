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
extern const struct identity_ops identity_aws_assume_role;

/* Dispatches on the kind (a provider alone is an okta/api-access identity). */
int identity_environment(const struct identity_request *req, struct envset *env, okc_err *err);

/* Splits an org URL's host at its first dot: https://dev-123.okta.com -> "dev-123" and
 * "okta.com" (what the Terraform okta provider reads as OKTA_ORG_NAME and OKTA_BASE_URL).
 * Returns 0 with both set (the caller frees them), or 1 when the host has no dot or is an
 * IP address. */
int okta_org_split(const char *org_url, char **org_name, char **base_url);

/* ---- aws/assume-role (src/identities/aws_assume_role.c) ---- */

struct awscreds;

/* STS credentials fit to hand out (DESIGN.md 5.2): the cached ones while more than
 * awscreds_renew_before() is left and they were obtained for the same role and STS
 * endpoint (this path reads credentials.json and nothing else); otherwise the ID token
 * (refreshed first when it nears expiry), the role chosen, the session name made, and
 * AssumeRoleWithWebIdentity called under the identity's lock (read again first, so N
 * concurrent callers make one STS call), the answer saved. ExpiredTokenException: the ID
 * token is refreshed once and the call made again. Exit codes: 3 no session (with
 * "run: oktacred login PROVIDER"); 4 STS or the identity provider unreachable or failing
 * (IDPCommunicationError after retries, 5xx, not STS XML); 1 for what STS refused
 * (InvalidIdentityToken, AccessDenied, IDPRejectedClaim, RegionDisabledException, any
 * other code: the message names it, with a hint); 2 for a --role that names no role or
 * several roles and no --role. req->id must be an aws/assume-role identity. */
int identity_aws_credentials(const struct identity_request *req, struct awscreds **out,
                             okc_err *err);

/* --role (an ARN, an Okta group of role_map, or a role's name: the ARN's last path
 * segment; names case-insensitive) to the role ARN it means, from the configuration
 * alone. With role_arn, want must name that role. Exit 2 when it names no role, or
 * several different ones. */
int aws_role_resolve(const struct identity_cfg *id, const char *want, const char **arn,
                     okc_err *err);

/* The role to assume: role_arn; or role_map applied to the ID token's groups (group names
 * case-insensitive; entries naming the same ARN count once): one match is used (*only
 * = 1); with want, the role it names, which one of the user's groups must map to (else
 * exit 1); several without want: a numbered choice on the terminal when prompt is set,
 * else exit 2 listing the choices; none: exit 1 listing the user's groups (or saying the
 * token has no groups claim). groups may be NULL. */
int aws_role_choose(const struct identity_cfg *id, char *const *groups, size_t ngroups,
                    const char *want, int prompt, const char **arn, int *only, okc_err *err);

#endif
