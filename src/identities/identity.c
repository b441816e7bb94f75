/* identity.c: the registry of identity kinds, the keys every identity has, and dispatch
 * to the kinds. */
#include <string.h>

#include "oktacred/identity.h"
#include "oktacred/jwt.h"
#include "oktacred/provider.h"
#include "oktacred/tokens.h"

extern const struct identity_kind identity_kubernetes_exec_credential;
extern const struct identity_kind identity_gcp_workload_identity;
extern const struct identity_kind identity_azure_federated;

const struct config_kind *const config_identity_kinds[] = {
    &identity_api_access.config,
    &identity_aws_assume_role.config,
    &identity_kubernetes_exec_credential.config,
    &identity_gcp_workload_identity.config,
    &identity_azure_federated.config,
    NULL,
};

const struct config_key config_identity_keys[] = {
    /* May a login the identity needs run on the terminal? (credential-process) */
    {"interactive", config_set_bool, offsetof(struct identity_cfg, interactive), CK_COMMON, NULL,
     NULL, 0, 0},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct identity_kind *identity_kind_of(const struct identity_cfg *id)
{
	if (!id)
		return &identity_api_access; /* a provider named alone */
	return (const struct identity_kind *)(const void *)id->kind;
}

int identity_may_log_in(const struct identity_request *req)
{
	const struct identity_kind *kind = identity_kind_of(req->id);

	if (kind->may_log_in)
		return kind->may_log_in(req);
	return req->id && req->id->interactive;
}

int identity_environment(const struct identity_request *req, struct envset *env, okc_err *err)
{
	return identity_kind_of(req->id)->environment(req, env, err);
}

int identity_session_changed(const struct provider_cfg *p, const char *keep, okc_err *err)
{
	int total = 0;

	for (const struct config_kind *const *k = config_identity_kinds; *k; k++) {
		const struct identity_kind *kind = (const struct identity_kind *)(const void *)*k;
		int n;

		if (!kind->session_changed)
			continue;
		n = kind->session_changed(p, keep, err);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

int identity_set_token_key(struct config_ctx *c, const struct config_key *k, void *obj,
                           const char *v)
{
	return config_set_checked(c, k, obj, v, strcmp(v, "id") == 0 || strcmp(v, "access") == 0,
	                          "id or access");
}

int identity_check_oidc_provider(struct config_ctx *c, const struct identity_cfg *id,
                                 const struct provider_cfg *p, int access, const char *verifier,
                                 const char *access_use)
{
	int line;

	if (provider_can(p, PROVIDER_SSWS))
		return config_fail_at(
		    c, config_key_line(c, id, "provider"),
		    "identity %s (%s) needs an okta/device-code or "
		    "okta/service-account provider (an OIDC token %s can verify); "
		    "%s is %s",
		    id->name, id->kind->name, verifier, p->name, p->kind->name);
	if (access && p->dpop) {
		int has_id = provider_can(p, PROVIDER_ID_TOKEN);

		line = config_key_line(c, id, "token");
		return config_fail_at(c, line && has_id ? line : id->line,
		                      "identity %s (%s) hands %s provider %s's access token as a "
		                      "bearer token, and it is DPoP-bound (dpop = true)%s",
		                      id->name, id->kind->name, verifier, p->name,
		                      has_id ? ": set token = id" : ": turn dpop off for it");
	}
	if (access) {
		if (!p->authorization_server || strcmp(p->authorization_server, "org") != 0)
			return 0;
		line = config_key_line(c, p, "authorization_server");
		return config_fail_at(c, line ? line : p->line,
		                      "provider %s: identity %s (%s) %s, which needs a custom "
		                      "authorization server (authorization_server = default or its "
		                      "id): the org server's access tokens are for Okta's API only",
		                      p->name, id->name, id->kind->name, access_use);
	}
	if (!provider_can(p, PROVIDER_ID_TOKEN)) {
		line = config_key_line(c, id, "token");
		return config_fail_at(
		    c, line ? line : id->line,
		    "identity %s (%s): token = id needs a provider with ID tokens; "
		    "%s (%s) has none: set token = access",
		    id->name, id->kind->name, p->name, p->kind->name);
	}
	if (config_has_scope(p->scopes, "openid"))
		return 0;
	line = config_key_line(c, p, "scopes");
	return config_fail_at(c, line ? line : p->line,
	                      "provider %s: scopes lack openid, which identity %s (%s) needs for "
	                      "its ID token",
	                      p->name, id->name, id->kind->name);
}

int identity_oidc_token(const struct identity_request *req, int access, struct tokens **t,
                        const char **token, time_t *exp, okc_err *err)
{
	*t = NULL;
	*token = NULL;
	*exp = 0;
	if (provider_tokens(req->p, access ? NEED_ACCESS_TOKEN : NEED_ID_TOKEN, t, err) < 0)
		return -1;
	*token = access ? (*t)->access_token : (*t)->id_token;
	if (!*token) {
		okc_fail(err, OKC_EXIT_LOGIN, "%s: the session has no %s", req->p->name,
		         access ? "access token" : "ID token");
		okc_hint(err, "run: oktacred login %s", req->p->name);
		return -1;
	}
	if (access) {
		*exp = (*t)->expires_at;
	} else {
		struct jwt_claims c;

		if (jwt_claims_parse(*token, &c, err) < 0)
			return -1;
		*exp = c.exp;
		jwt_claims_free(&c);
	}
	return 0;
}
