/* cmd_exec.c: `oktacred exec [--server] [NAME] [--] CMD [ARGS...]` (cli.c splits NAME from
 * CMD: a first word naming an identity or a provider is NAME): CMD runs with the
 * identity's environment in our place (execvp), so its exit status and signals are its own;
 * with --server (kinds that can: AWS identities) we stay as its parent and serve it
 * credentials on a loopback endpoint instead, and for kinds that keep what they hand over
 * fresh (azure/federated: its token file) we stay as its parent too. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/cli.h"
#include "oktacred/envset.h"
#include "oktacred/harden.h"
#include "oktacred/identity.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

/* --server: the identity's kind serves CMD, as its parent; without it, a kind that keeps
 * what it hands over fresh (azure/federated: a token file) runs CMD as its parent too. */
static int exec_parent(struct cli_ctx *ctx, const struct identity_request *req,
                       const struct identity_kind *kind, int server)
{
	int status;

	if (server && !kind->serve)
		return cli_usage_error(ctx, "--server is not for %s identities; %s is one",
		                       kind->config.name, req->name);
	status =
	    server ? kind->serve(req, ctx->rest, &ctx->err) : kind->exec(req, ctx->rest, &ctx->err);
	if (status <= 0)
		return status;
	ctx->err.code = status; /* the child's status; a message only when it could not run */
	return -1;
}

int cmd_exec(struct cli_ctx *ctx)
{
	const struct identity_kind *kind;
	struct identity_request req;
	struct envset env;
	int rc, saved_errno;

	if (!ctx->has_rest || ctx->nrest == 0)
		return cli_usage_error(ctx, "no command given");
	/* CMD's status is what we are for: a stderr nobody reads any more (`2>&1 | head -1`)
	 * must fail our log lines, not end us with SIGPIPE before CMD runs, or while --server
	 * serves it. CMD gets SIGPIPE back at its default (here, and in credserver.c). */
	sig_pipe_ignore();
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	kind = identity_kind_of(req.id);
	if (cli_flag(ctx, "--server") || kind->exec)
		return exec_parent(ctx, &req, kind, cli_flag(ctx, "--server"));
	envset_init(&env);
	rc = cli_identity_environment(ctx, &req, &env);
	if (rc == 0 && envset_apply(&env) < 0)
		rc = okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot set the environment");
	envset_free(&env);
	if (rc < 0)
		return -1;
	fflush(NULL);
	harden_restore_for_exec();
	sig_pipe_default();
	execvp(ctx->rest[0], ctx->rest);
	saved_errno = errno;
	sig_pipe_ignore();
	if (saved_errno == ENOENT)
		return okc_fail(&ctx->err, 127, "exec: %s: command not found", ctx->rest[0]);
	return okc_fail(&ctx->err, 126, "exec: %s: %s", ctx->rest[0], strerror(saved_errno));
}
