/* cmd_exec.c: `oktacred exec [NAME] [--server] -- CMD [ARGS...]`: CMD runs with the
 * identity's environment in our place (execvp), so its exit status and signals are its own;
 * with --server (AWS identities) we stay as its parent and serve it credentials on a
 * loopback endpoint instead (credserver.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/awscreds.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/credserver.h"
#include "oktacred/envset.h"
#include "oktacred/harden.h"
#include "oktacred/identity.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

/* The variables that --server hands over as an endpoint instead (the SDKs would prefer
 * them to it). */
static const char *const key_vars[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
};

static int fetch(void *arg, struct awscreds **out, okc_err *err)
{
	return identity_aws_credentials(arg, out, err);
}

static int exec_server(struct cli_ctx *ctx)
{
	struct identity_request req;
	struct credserver_opts o = {0};
	struct awscreds *c = NULL;
	struct envset env;
	char *role = NULL;
	size_t i;
	int status;

	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	if (!req.id || req.id->kind != IDENTITY_AWS_ASSUME_ROLE)
		return cli_usage_error(
		    ctx, "--server is for aws/assume-role identities; %s is not one", req.name);
	/* The first credentials now: a login that is needed or a role that must be chosen is
	 * said before the command starts, and later requests keep the role chosen here. */
	if (identity_aws_credentials(&req, &c, &ctx->err) < 0)
		return -1;
	role = xstrdup(c->role_arn);
	awscreds_free(c);
	req.role = role;
	req.names_only = 1;
	envset_init(&env);
	if (identity_environment(&req, &env, &ctx->err) < 0) {
		envset_free(&env);
		free(role);
		return -1;
	}
	req.names_only = 0;
	for (i = 0; i < ARRAY_SIZE(key_vars); i++)
		envset_put(&env, key_vars[i], NULL, 0);
	o.argv = ctx->rest;
	o.env = &env;
	o.fetch = fetch;
	o.arg = &req;
	okc_err_clear(&ctx->err);
	status = credserver_run(&o, &ctx->err);
	envset_free(&env);
	free(role);
	if (status <= 0)
		return status;
	ctx->err.code = status; /* the child's status; a message only when it could not run */
	return -1;
}

int cmd_exec(struct cli_ctx *ctx)
{
	struct envset env;
	int rc, saved_errno;

	if (!ctx->has_rest || ctx->nrest == 0)
		return cli_usage_error(ctx,
		                       "no command given: oktacred exec [NAME] -- CMD [ARGS...]");
	if (ctx->npos > 1)
		return cli_usage_error(ctx, "one NAME at most before --");
	/* CMD's status is what we are for: a stderr nobody reads any more (`2>&1 | head -1`)
	 * must fail our log lines, not end us with SIGPIPE before CMD runs, or while --server
	 * serves it. CMD gets SIGPIPE back at its default (here, and in credserver.c). */
	sig_pipe_ignore();
	if (cli_flag(ctx, "--server"))
		return exec_server(ctx);
	envset_init(&env);
	rc = cli_identity_environment(ctx, ctx->npos ? ctx->pos[0] : NULL, 0, &env);
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
