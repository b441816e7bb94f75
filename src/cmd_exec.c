/* cmd_exec.c: `oktacred exec [NAME] -- CMD [ARGS...]`: CMD runs with the identity's
 * environment in our place (execvp), so its exit status and signals are its own. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/cli.h"
#include "oktacred/envset.h"
#include "oktacred/harden.h"

int cmd_exec(struct cli_ctx *ctx)
{
	struct envset env;
	int rc, saved_errno;

	if (!ctx->has_rest || ctx->nrest == 0)
		return cli_usage_error(ctx,
		                       "no command given: oktacred exec [NAME] -- CMD [ARGS...]");
	if (ctx->npos > 1)
		return cli_usage_error(ctx, "one NAME at most before --");
	envset_init(&env);
	rc = cli_identity_environment(ctx, ctx->npos ? ctx->pos[0] : NULL, 0, &env);
	if (rc == 0 && envset_apply(&env) < 0)
		rc = okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot set the environment");
	envset_free(&env);
	if (rc < 0)
		return -1;
	fflush(NULL);
	harden_restore_for_exec();
	execvp(ctx->rest[0], ctx->rest);
	saved_errno = errno;
	if (saved_errno == ENOENT)
		return okc_fail(&ctx->err, 127, "exec: %s: command not found", ctx->rest[0]);
	return okc_fail(&ctx->err, 126, "exec: %s: %s", ctx->rest[0], strerror(saved_errno));
}
