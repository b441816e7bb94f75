/* cmd_credential.c: `oktacred credential [NAME] [--role ROLE]`: the identity's credential in
 * its consumer's own format (an ExecCredential for kubectl, credential_process JSON for
 * AWS), and nothing else, on stdout. A login that is needed never waits for a person who
 * is not there: exit 3 with the hint, unless the identity may log in (its kind asks its
 * consumer, or its interactive key) and a terminal is at hand for the device flow. */
#include <stdio.h>
#include <stdlib.h>

#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/log.h"
#include "oktacred/login.h"
#include "oktacred/term.h"

int cli_credential_print(struct cli_ctx *ctx, const struct identity_request *req)
{
	const struct identity_kind *kind = identity_kind_of(req->id);
	struct buf out = BUF_INIT;
	int rc;

	rc = kind->credential(req, &out, &ctx->err);
	if (rc < 0 && ctx->err.code == OKC_EXIT_LOGIN && identity_may_log_in(req)) {
		/* stdout and often stderr are the consumer's: the code goes to the terminal. */
		struct login_opts o = {0};

		o.force = 1;
		o.out = term_user_stream();
		if (!term_is_tty(o.out))
			return -1; /* no one to show a code to: exit 3 as it is */
		log_verbose("%s: logging in on the terminal", req->name);
		okc_err_clear(&ctx->err);
		if (cli_login(ctx, req->p, &o) < 0)
			return -1;
		buf_free(&out);
		rc = kind->credential(req, &out, &ctx->err);
	}
	if (rc == 0)
		rc = cli_print(ctx, &out);
	buf_free(&out);
	return rc;
}

/* A consumer that merges our stderr into what it parses (Google) gets the failure in its
 * own format on stdout, and nothing on stderr; the exit status stays. */
static int fail_quietly(struct cli_ctx *ctx, const struct identity_request *req, int rc)
{
	const struct identity_kind *kind = req ? identity_kind_of(req->id) : NULL;
	struct buf out = BUF_INIT;

	if (rc == 0)
		return 0;
	if (kind && kind->credential_failure)
		kind->credential_failure(req, &ctx->err, &out);
	else if (!kind && getenv("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE"))
		gcp_executable_failure(&ctx->err, &out);
	else
		return rc;
	if (!ctx->err.code)
		ctx->err.code = OKC_EXIT_FAIL;
	ctx->err.msg[0] = '\0';
	ctx->err.hint[0] = '\0';
	if (fwrite(out.data, 1, out.len, stdout) == out.len)
		fflush(stdout);
	buf_free(&out);
	return -1;
}

int cmd_credential(struct cli_ctx *ctx)
{
	struct identity_request req;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return fail_quietly(ctx, NULL, -1);
	if (identity_kind_of(req.id)->credential_failure) {
		/* Its stderr is the consumer's input: quiet, unless asked to say more. */
		if (!ctx->verbose && !ctx->debug)
			log_init(LOG_QUIET, 0);
		rc = cli_credential_print(ctx, &req);
		return fail_quietly(ctx, &req, rc);
	}
	if (!identity_kind_of(req.id)->credential) {
		okc_fail(
		    &ctx->err, OKC_EXIT_USAGE,
		    "%s (%s) has no credential format of its own: credential is for identities "
		    "whose client runs oktacred (aws/assume-role, kubernetes/exec-credential, "
		    "gcp/workload-identity, azure/federated)",
		    req.name, identity_kind_of(req.id)->config.name);
		okc_hint(&ctx->err,
		         "its token: oktacred token %s; its environment: oktacred env %s", req.name,
		         req.name);
		return -1;
	}
	return cli_credential_print(ctx, &req);
}
