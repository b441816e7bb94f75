/* cmd_credential_process.c: `oktacred credential-process [NAME] [--role ROLE]`: AWS
 * credentials as the credential_process JSON, and nothing else, on stdout. A login that is
 * needed never waits for a person who is not there: exit 3 with the hint, unless the
 * identity says interactive = true and a terminal is at hand for the device flow. */
#include <stdio.h>

#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/log.h"
#include "oktacred/login.h"
#include "oktacred/term.h"

int cmd_credential_process(struct cli_ctx *ctx)
{
	const struct identity_kind *kind;
	struct identity_request req;
	struct buf out = BUF_INIT;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	kind = identity_kind_of(req.id);
	if (!req.id || !kind->credential_process)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%s is not an aws/assume-role identity: credential-process hands "
		                "out AWS credentials",
		                req.name);
	rc = kind->credential(&req, &out, &ctx->err);
	if (rc < 0 && ctx->err.code == OKC_EXIT_LOGIN && req.id->interactive) {
		/* stderr is captured by the AWS tools: the code goes to the terminal. */
		struct login_opts o = {0};

		o.force = 1;
		o.out = term_user_stream();
		if (!term_is_tty(o.out))
			return -1; /* no one to show a code to: exit 3 as it is */
		log_verbose("%s: logging in on the terminal (interactive = true)", req.name);
		okc_err_clear(&ctx->err);
		if (cli_login(ctx, req.p, &o) < 0)
			return -1;
		buf_free(&out);
		rc = kind->credential(&req, &out, &ctx->err);
	}
	if (rc == 0 && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0))
		rc = okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot write to stdout");
	buf_free(&out);
	return rc;
}
