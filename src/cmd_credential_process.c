/* cmd_credential_process.c: `oktacred credential-process [NAME] [--role ROLE]`: AWS
 * credentials as the credential_process JSON, and nothing else, on stdout. A login that is
 * needed never waits for a person who is not there: exit 3 with the hint, unless the
 * identity says interactive = true and a terminal is at hand for the device flow. */
#include <stdio.h>

#include "oktacred/awscreds.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/log.h"
#include "oktacred/login.h"
#include "oktacred/term.h"

int cmd_credential_process(struct cli_ctx *ctx)
{
	struct identity_request req;
	struct awscreds *c = NULL;
	struct buf out = BUF_INIT;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	if (!req.id || req.id->kind != IDENTITY_AWS_ASSUME_ROLE)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%s is not an aws/assume-role identity: credential-process hands "
		                "out AWS credentials",
		                req.name);
	rc = identity_aws_credentials(&req, &c, &ctx->err);
	if (rc < 0 && ctx->err.code == OKC_EXIT_LOGIN && req.id->interactive) {
		/* stderr is captured by the AWS tools: the code goes to the terminal. */
		struct login_opts o = {0};

		o.force = 1;
		o.out = term_user_stream();
		if (!term_is_tty(o.out))
			return -1; /* no one to show a code to: exit 3 as it is */
		log_verbose("%s: logging in on the terminal (interactive = true)", req.name);
		okc_err_clear(&ctx->err);
		if (login_interactive(req.p, &o, &ctx->err) < 0)
			return -1;
		rc = identity_aws_credentials(&req, &c, &ctx->err);
	}
	if (rc < 0)
		return -1;
	rc = awscreds_process_json(c, &out);
	awscreds_free(c);
	if (rc < 0) {
		buf_free(&out);
		return okc_fail(&ctx->err, OKC_EXIT_FAIL, "out of memory");
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		rc = okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot write to stdout");
	buf_free(&out);
	return rc;
}
