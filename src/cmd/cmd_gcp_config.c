/* cmd_gcp_config.c: `oktacred gcp-config [NAME]`: Google's external_account credential file
 * whose executable runs `oktacred credential NAME`, for GOOGLE_APPLICATION_CREDENTIALS,
 * `gcloud auth login --cred-file` or CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE. */
#include <stdio.h>
#include <stdlib.h>

#include "oktacred/cli.h"
#include "oktacred/identity.h"

int cmd_gcp_config(struct cli_ctx *ctx)
{
	const struct identity_kind *kind;
	struct identity_request req;
	struct buf out = BUF_INIT;
	char *program, *config;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	kind = identity_kind_of(req.id);
	if (!req.id || !kind->gcp_config)
		return okc_fail(
		    &ctx->err, OKC_EXIT_USAGE,
		    "%s (%s) is not an identity Google Cloud can use: gcp-config is for "
		    "gcp/workload-identity identities",
		    req.name, kind->config.name);
	program = cli_self_program();
	config = cli_config_arg(ctx);
	rc = kind->gcp_config(&req, program, config, &out, &ctx->err);
	if (rc == 0)
		rc = cli_print(ctx, &out);
	buf_free(&out);
	free(program);
	free(config);
	return rc;
}
