/* cmd_aws_config.c: `oktacred aws-config [NAME...] [--write [--force]]`: the ~/.aws/config
 * profiles whose credential_process runs this oktacred for the AWS identities, printed, or
 * merged into the AWS config file (awsconfig.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/awsconfig.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/log.h"
#include "oktacred/util.h"

/* The identity's profiles; a NAME that has none is a usage error. */
static int add_identity(struct cli_ctx *ctx, const char *name, struct awsconfig *ac)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;

	if (config_resolve(ctx->cfg, name, &id, &p, &ctx->err) < 0)
		return -1;
	cli_config_warnings(ctx, id, p, 0);
	if (!id || !identity_kind_of(id)->aws_profiles)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%s is not an aws/assume-role identity: aws-config writes the AWS "
		                "profiles of those",
		                name);
	identity_kind_of(id)->aws_profiles(id, ac);
	return 0;
}

static int collect(struct cli_ctx *ctx, struct awsconfig *ac)
{
	const struct config *cfg = ctx->cfg;

	for (int i = 0; i < ctx->npos; i++)
		if (add_identity(ctx, ctx->pos[i], ac) < 0)
			return -1;
	for (size_t i = 0; !ctx->npos && i < cfg->nidentities; i++) {
		const struct identity_cfg *id;
		const struct provider_cfg *p;

		/* Checked first: only then is its kind known. */
		if (config_resolve(cfg, cfg->identities[i].name, &id, &p, &ctx->err) < 0)
			return -1;
		cli_config_warnings(ctx, id, p, 0);
		if (identity_kind_of(id)->aws_profiles)
			identity_kind_of(id)->aws_profiles(id, ac);
	}
	if (ac->n == 0) {
		okc_fail(&ctx->err, OKC_EXIT_USAGE, "%s has no aws/assume-role identity",
		         cfg->path);
		okc_hint(&ctx->err, "add one: see oktacred-config(5)");
		return -1;
	}
	for (size_t i = 0; i < ac->n; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(ac->profiles[i].name, ac->profiles[k].name) == 0) {
				okc_fail(&ctx->err, OKC_EXIT_USAGE,
				         "the AWS profile name %s would be made for both %s and %s",
				         ac->profiles[i].name, ac->profiles[k].identity,
				         ac->profiles[i].identity);
				okc_hint(&ctx->err, "rename one of the identities");
				return -1;
			}
	return 0;
}

int cmd_aws_config(struct cli_ctx *ctx)
{
	struct awsconfig ac;
	struct buf out = BUF_INIT;
	char *path = NULL, *backup = NULL;
	const char *env;
	int write = cli_flag(ctx, "--write"), changed = 0, rc = -1;

	memset(&ac, 0, sizeof(ac));
	if (cli_flag(ctx, "--force") && !write)
		return cli_usage_error(ctx, "--force goes with --write");
	if (cli_config(ctx) < 0 || collect(ctx, &ac) < 0 ||
	    awsconfig_exe(ctx->argv0, &ac.exe, &ctx->err) < 0)
		goto out;
	/* --config FILE for credential_process when the file is not the one oktacred finds by
	 * itself: the AWS tools may not have $OKTACRED_CONFIG. */
	env = getenv("OKTACRED_CONFIG");
	if ((ctx->config_path || (env && *env)) &&
	    awsconfig_set_config(&ac, ctx->cfg->path, &ctx->err) < 0)
		goto out;
	if (!write) {
		awsconfig_render(&ac, &out);
		rc = cli_print(ctx, &out);
		goto out;
	}
	if (awsconfig_path(&path, &ctx->err) < 0 ||
	    awsconfig_write(path, &ac, cli_flag(ctx, "--force"), &changed, &backup, &ctx->err) < 0)
		goto out;
	for (size_t i = 0; i < ac.n; i++)
		buf_printf(&out, "%s%s", i ? ", " : "", ac.profiles[i].name);
	if (!changed)
		log_info("%s is up to date (profiles %s)", path, out.data);
	else if (backup)
		log_info("%s: wrote profiles %s; the file as it was is %s", path, out.data, backup);
	else
		log_info("%s: wrote profiles %s", path, out.data);
	rc = 0;
out:
	buf_free(&out);
	free(path);
	free(backup);
	awsconfig_free(&ac);
	return rc;
}
