/* cmd_env.c: `oktacred env [NAME] [--format F] [--unset]`: the environment of an
 * identity as a script for eval; nothing but the script on stdout. */
#include <stdio.h>
#include <string.h>

#include "oktacred/cli.h"
#include "oktacred/envset.h"
#include "oktacred/identity.h"

int cmd_env(struct cli_ctx *ctx)
{
	const char *fmt = cli_value(ctx, "--format");
	enum env_format f = ENV_SH;
	struct identity_request req;
	struct envset env;
	struct buf out = BUF_INIT;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (fmt && envset_parse_format(fmt, &f) < 0)
		return cli_usage_error(
		    ctx, "unknown format '%s' (sh, fish, powershell, json, dotenv)", fmt);
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	req.names_only = cli_flag(ctx, "--unset");
	envset_init(&env);
	rc = cli_identity_environment(ctx, &req, &env);
	if (rc == 0 && envset_render(&env, f, cli_flag(ctx, "--unset"), &out) < 0)
		rc = okc_fail(&ctx->err, OKC_EXIT_FAIL,
		              "a value cannot be written in the %s format", fmt ? fmt : "sh");
	if (rc == 0)
		rc = cli_print(ctx, &out);
	buf_free(&out);
	envset_free(&env);
	return rc;
}
