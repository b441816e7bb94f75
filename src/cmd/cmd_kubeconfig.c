/* cmd_kubeconfig.c: `oktacred kubeconfig [NAME] [--cluster C]`: the kubeconfig users: entry
 * (and with --cluster a contexts: entry) whose exec block runs `oktacred credential NAME`,
 * to paste into a kubeconfig or merge with KUBECONFIG=a:b kubectl config view --flatten. */
#include <stdio.h>
#include <stdlib.h>

#include "oktacred/cli.h"
#include "oktacred/identity.h"
#include "oktacred/util.h"

int cmd_kubeconfig(struct cli_ctx *ctx)
{
	const struct identity_kind *kind;
	struct identity_request req;
	const char *cluster = cli_value(ctx, "--cluster");
	struct buf out = BUF_INIT;
	char *program, *config = NULL;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cluster && !cluster[0])
		return cli_usage_error(ctx, "--cluster needs a cluster name");
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	kind = identity_kind_of(req.id);
	if (!req.id || !kind->kubeconfig)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%s (%s) is not an identity kubectl can use: kubeconfig is for "
		                "kubernetes/exec-credential identities",
		                req.name, kind->config.name);
	program = cli_self_program();
	config = cli_config_arg(ctx);
	rc = kind->kubeconfig(&req, program, config, cluster, &out, &ctx->err);
	if (rc == 0)
		rc = cli_print(ctx, &out);
	buf_free(&out);
	free(program);
	free(config);
	return rc;
}
