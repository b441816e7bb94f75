/* identity.c: the registry of identity kinds, the keys every identity has, and dispatch
 * to the kinds. */
#include "oktacred/identity.h"

extern const struct identity_kind identity_kubernetes_exec_credential;
extern const struct identity_kind identity_azure_federated;

const struct config_kind *const config_identity_kinds[] = {
    &identity_api_access.config,
    &identity_aws_assume_role.config,
    &identity_kubernetes_exec_credential.config,
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
