/* cmd_logout.c: `oktacred logout [NAME...] [--all]`: delete cached tokens. */
#include <stdio.h>

#include "oktacred/cache.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/log.h"

static int logout_provider(const struct provider_cfg *p, okc_err *err)
{
	struct lock lk = LOCK_INIT;
	int rc;

	if (p->kind == PROVIDER_API_TOKEN) {
		log_info("%s: an okta/api-token provider has no session to log out of", p->name);
		return 0;
	}
	rc = cache_lock(p, &lk, err);
	if (rc == 0)
		rc = cache_delete(p, err);
	lock_release(&lk);
	if (rc < 0)
		return -1;
	log_info(rc == OKC_NOENT ? "%s: not logged in" : "%s: logged out", p->name);
	return 0;
}

int cmd_logout(struct cli_ctx *ctx)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	int i, failed = 0;

	if (cli_config(ctx) < 0)
		return -1;
	if (cli_flag(ctx, "--all")) {
		size_t k;

		if (ctx->npos)
			return cli_usage_error(ctx, "--all takes no NAME");
		for (k = 0; k < ctx->cfg->nproviders; k++)
			if (logout_provider(&ctx->cfg->providers[k], &ctx->err) < 0)
				return -1;
		return 0;
	}
	if (ctx->npos == 0)
		return config_resolve(ctx->cfg, NULL, &id, &p, &ctx->err) < 0
		           ? -1
		           : logout_provider(p, &ctx->err);
	for (i = 0; i < ctx->npos; i++) {
		if (config_resolve(ctx->cfg, ctx->pos[i], &id, &p, &ctx->err) < 0 ||
		    logout_provider(p, &ctx->err) < 0) {
			/* Report and go on with the other names. */
			log_error("%s", ctx->err.msg);
			failed = ctx->err.code;
		}
	}
	if (failed) {
		okc_err_clear(&ctx->err);
		ctx->err.code = failed;
		return -1;
	}
	return 0;
}
