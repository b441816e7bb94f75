/* identity.h: what tokens are turned into for a child process, a shell or a client, one
 * kind per file (src/identities/). identity.c holds the registry (config_identity_kinds)
 * and the keys every identity has; a kind is a struct identity_kind: its configuration
 * (struct config_kind: name, keys, checks) and what it can do, which commands ask instead
 * of comparing kinds. */
#ifndef OKTACRED_IDENTITY_H
#define OKTACRED_IDENTITY_H

#include <stddef.h>
#include <time.h>

#include "oktacred/buf.h"
#include "oktacred/config.h"
#include "oktacred/envset.h"
#include "oktacred/err.h"

/* What an identity is asked to produce. */
struct identity_request {
	const struct identity_cfg *id; /* NULL when NAME is a provider: okta/api-access */
	const struct provider_cfg *p;
	const char *name; /* NAME as resolved: OKTACRED_IDENTITY */
	int names_only;   /* --unset: the variables, without fetching any credential */
	const char *role; /* --role, for identities that choose among roles; or NULL */
	/* env and exec: the program and --config (absolute, or NULL) a file that runs
	 * `oktacred credential NAME` names (gcp/workload-identity); NULL elsewhere. */
	const char *program;
	const char *config_path;
};

struct json;
struct awsconfig;

/* What `status` shows of an identity: one line of text, and members of a JSON object. */
struct identity_status {
	char line[1536];  /* after "NAME: " */
	struct json *obj; /* "identity" is set; the kind adds the rest */
};

struct identity_kind {
	struct config_kind config; /* first: an identity_cfg's kind points here */
	/* Chooses among several roles: takes --role. */
	unsigned takes_role : 1;
	/* Fills env with the variables to set and to clear (DESIGN.md section 5): env, exec. */
	int (*environment)(const struct identity_request *req, struct envset *env, okc_err *err);
	/* The credential in its consumer's own format, the whole of stdout. Or NULL. */
	int (*credential)(const struct identity_request *req, struct buf *out, okc_err *err);
	/* credential() failed with err: the failure in the consumer's own format, the whole
	 * of stdout, with nothing on stderr (a consumer that merges our stderr into what it
	 * parses: Google). Or NULL: the error goes to stderr. */
	int (*credential_failure)(const struct identity_request *req, const okc_err *err,
	                          struct buf *out);
	/* credential is AWS's credential_process JSON: `credential-process` serves it. */
	unsigned credential_process : 1;
	/* Whether a login that credential() needs (exit 3) may run on the terminal, when one
	 * is at hand: 1 or 0. Or NULL: the identity's interactive key says. */
	int (*may_log_in)(const struct identity_request *req);
	/* `kubeconfig`: the kubeconfig entries (YAML) whose exec block runs `program
	 * [--config config_path] credential NAME`; with cluster (or NULL), a context too. Or
	 * NULL: not a kind kubectl uses. */
	int (*kubeconfig)(const struct identity_request *req, const char *program,
	                  const char *config_path, const char *cluster, struct buf *out,
	                  okc_err *err);
	/* `gcp-config`, and the file env and exec write: Google's external_account credential
	 * file (JSON) whose executable runs `program [--config config_path] credential NAME`.
	 * Or NULL: not a kind Google's clients use. */
	int (*gcp_config)(const struct identity_request *req, const char *program,
	                  const char *config_path, struct buf *out, okc_err *err);
	/* `exec --server`: runs argv as a child served credentials from a local endpoint;
	 * returns its exit status (> 0), 0, or -1 with err. Or NULL. */
	int (*serve)(const struct identity_request *req, char **argv, okc_err *err);
	/* `exec` (without --server): runs argv as a child with the identity's environment and
	 * keeps what it handed over fresh while the child runs (a token file), as its parent;
	 * returns as serve does. Or NULL: the environment is set and argv replaces us. */
	int (*exec)(const struct identity_request *req, char **argv, okc_err *err);
	/* `status`: the label of the kind's lines ("aws") and one identity's status given
	 * its provider's current session (NULL: none). Or NULL: not shown. */
	const char *status_label;
	void (*status)(const struct identity_cfg *id, const char *session,
	               struct identity_status *st);
	/* The session of provider p changed (logout; a login whose new session is keep):
	 * forget what was derived from another session. Returns how many identities had
	 * something to forget, or -1. Or NULL. */
	int (*session_changed)(const struct provider_cfg *p, const char *keep, okc_err *err);
	/* `aws-config`: adds to ac the AWS config profiles that reach the identity through
	 * credential-process. Or NULL: none. */
	void (*aws_profiles)(const struct identity_cfg *id, struct awsconfig *ac);
};

extern const struct identity_kind identity_api_access;
extern const struct identity_kind identity_aws_assume_role;

/* The kind of req: the identity's, or okta/api-access for a provider named alone. */
const struct identity_kind *identity_kind_of(const struct identity_cfg *id);
/* The kind's may_log_in(), or the identity's interactive key. */
int identity_may_log_in(const struct identity_request *req);
/* The kind's environment(). */
int identity_environment(const struct identity_request *req, struct envset *env, okc_err *err);
/* Tells every identity kind that p's session changed (see session_changed). Returns the
 * number of identities that forgot something, or -1. */
int identity_session_changed(const struct provider_cfg *p, const char *keep, okc_err *err);

/* A `token = id | access` key's setter (the identities that hand out either token). */
int identity_set_token_key(struct config_ctx *c, const struct config_key *k, void *obj,
                           const char *v);
/* The provider check of an identity whose token goes to a party that verifies it against
 * the issuer's keys (AWS STS, a Kubernetes API server, Google STS, Entra ID): not an API
 * token; an access token (access: the identity hands that one out, access_use says how)
 * only from a custom authorization server and not DPoP-bound (a third party takes bearer
 * tokens); an ID token only from a provider that has one,
 * with openid among its scopes. 0, or config_fail_at's -1 naming the key to change. */
int identity_check_oidc_provider(struct config_ctx *c, const struct identity_cfg *id,
                                 const struct provider_cfg *p, int access, const char *verifier,
                                 const char *access_use);

/* The token an identity hands a third party, fresh (refreshed through the provider, under
 * its lock, saved, when due): the session's ID token, or with access its access token; *exp
 * is the ID token's exp claim or the access token's expiry. *t is the caller's to free
 * (tokens_free), also on failure. Exit 3 with the login hint when the session lacks it. */
struct tokens;
int identity_oidc_token(const struct identity_request *req, int access, struct tokens **t,
                        const char **token, time_t *exp, okc_err *err);

/* Splits an org URL's host at its first dot: https://dev-123.okta.com -> "dev-123" and
 * "okta.com" (what the Terraform okta provider reads as OKTA_ORG_NAME and OKTA_BASE_URL).
 * Returns 0 with both set (the caller frees them), or 1 when the host has no dot or is an
 * IP address. */
int okta_org_split(const char *org_url, char **org_name, char **base_url);

/* ---- aws/assume-role (src/identities/aws_assume_role.c) ---- */

/* One "Group=arn" entry of role_map. */
struct role_mapping {
	char *group; /* an Okta group name; match it case-insensitively */
	char *role_arn;
};

/* The kind's own keys. */
struct aws_role_cfg {
	char *role_arn;
	char *role_map;             /* raw "Group=arn, Group2=arn" */
	struct role_mapping *roles; /* role_map parsed and checked, in file order */
	size_t nroles;
	char *region;
	long duration;      /* seconds; default 3600; 900..43200 */
	char *session_name; /* default "{email}"; {email} {sub} {preferred_username} */
	char *sts_endpoint; /* NULL: the region's, see aws_sts_url() */
	char *default_role; /* role_map: the role to use among several without --role */
};

/* id's aws/assume-role keys (id must be of that kind). */
const struct aws_role_cfg *aws_role_cfg(const struct identity_cfg *id);
/* The STS endpoint: sts_endpoint, or the regional one of the region's partition
 * (sts.REGION.amazonaws.com, .amazonaws.com.cn, .c2s.ic.gov, .sc2s.sgov.gov, ...), or the
 * global https://sts.amazonaws.com/ without a region. Allocated. */
char *aws_sts_url(const struct aws_role_cfg *a);

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
 * exit 1); several without want: default_role when it is one of them, else a numbered
 * choice on the terminal when prompt is set (which offers to remember the choice as
 * default_role in the configuration file), else exit 2 listing the choices; none: exit 1
 * listing the user's groups (or saying the token has no groups claim). groups may be
 * NULL. */
int aws_role_choose(const struct identity_cfg *id, char *const *groups, size_t ngroups,
                    const char *want, int prompt, const char **arn, int *only, okc_err *err);

/* ---- kubernetes/exec-credential (src/identities/kubernetes.c) ---- */

/* KUBERNETES_EXEC_INFO (the JSON ExecCredential kubectl hands its plugin; NULL when unset):
 * *api_version client.authentication.k8s.io/v1 (also when info or its apiVersion is
 * absent) or .../v1beta1, a static string; *interactive its spec.interactive (1 or 0), or
 * -1 when it does not say. Not JSON, or another apiVersion: exit 2. */
int kube_exec_info(const char *info, const char **api_version, int *interactive, okc_err *err);
/* The ExecCredential kubectl reads: {"apiVersion", "kind": "ExecCredential", "status":
 * {"token", "expirationTimestamp": RFC 3339 UTC, left out when exp is 0}} and a newline,
 * printed into out (wiped when freed). 0, or -1 out of memory. */
int kube_exec_credential_json(const char *api_version, const char *token, time_t exp,
                              struct buf *out);

/* ---- gcp/workload-identity (src/identities/gcp.c) ---- */

/* Google's executable response for a failure: {"version":1,"success":false,"code",
 * "message"} and a newline, code from err's exit code (login_required, ...), message
 * err's message and hint. Also for errors before the identity's kind is known, when
 * Google runs `credential` (GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE set). Returns 0. */
int gcp_executable_failure(const okc_err *err, struct buf *out);

#endif
