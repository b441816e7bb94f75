/* identity.c: dispatch to the identity kinds. */
#include "oktacred/identity.h"

#include "oktacred/config.h"

int identity_environment(const struct identity_request *req, struct envset *env, okc_err *err)
{
	if (req->id && req->id->kind == IDENTITY_AWS_ASSUME_ROLE)
		return identity_aws_assume_role.environment(req, env, err);
	return identity_api_access.environment(req, env, err);
}
