/* cmd_credential_process.c: `oktacred credential-process [NAME] [--role ROLE]`: AWS
 * credentials as the credential_process JSON, and nothing else, on stdout; `credential`
 * for AWS identities only (cmd_credential.c: a login when interactive = true). */
#include "oktacred/cli.h"
#include "oktacred/identity.h"

int cmd_credential_process(struct cli_ctx *ctx)
{
	struct identity_request req;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	if (!req.id || !identity_kind_of(req.id)->credential_process)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%s is not an aws/assume-role identity: credential-process hands "
		                "out AWS credentials",
		                req.name);
	return cli_credential_print(ctx, &req);
}
