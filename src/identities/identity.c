/* identity.c: dispatch to the identity kinds. */
#include "oktacred/identity.h"

#include "oktacred/config.h"

int identity_environment(const struct identity_request *req, struct envset *env, okc_err *err)
{
	if (req->id && req->id->kind != IDENTITY_API_ACCESS)
		return okc_fail(err, OKC_EXIT_USAGE, "%s: %s identities are not supported yet",
		                req->name, identity_kind_name(req->id->kind));
	return identity_api_access.environment(req, env, err);
}
