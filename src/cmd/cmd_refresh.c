/* cmd_refresh.c: `oktacred refresh [NAME...] [--all]`: refresh now, what the systemd
 * user timer runs so that an idle session's refresh token does not lapse. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "oktacred/cache.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/provider.h"
#include "oktacred/refresh.h"
#include "oktacred/util.h"

static int refresh_one(const struct provider_cfg *p, okc_err *err)
{
	struct tokens *t = NULL;
	char left[32];

	if (refresh_force(p, &t, err) < 0)
		return -1;
	time_format_left(tokens_access_left(t, now_utc()), left, sizeof(left));
	log_info("%s: refreshed; access token valid for %s", p->name, left);
	tokens_free(t);
	return 0;
}

/* --all: every provider with a person's session that has one; the others are skipped.
 * Nothing to do is success ("nothing to refresh"), so the timer never fails for a user
 * who has no session, no provider or no configuration at all. */
static int refresh_all(struct cli_ctx *ctx, int broken)
{
	int worst = broken ? OKC_EXIT_USAGE : 0, tried = 0;
	size_t i;

	for (i = 0; i < ctx->cfg->nproviders; i++) {
		const struct provider_cfg *p = &ctx->cfg->providers[i];
		struct tokens *t = NULL;
		okc_err err;
		int rc;

		/* A broken provider was said (cli_config_each): exit 2 after the others. */
		if (config_section_error(ctx->cfg, p) || !provider_can(p, PROVIDER_LOGIN))
			continue;
		rc = cache_load(p, &t, &err);
		tokens_free(t);
		if (rc == OKC_NOENT) {
			log_verbose("%s: not logged in; skipped", p->name);
			continue;
		}
		tried++;
		if (rc == 0)
			rc = refresh_one(p, &err);
		if (rc < 0) {
			log_error("%s", err.msg);
			if (err.hint[0])
				fprintf(stderr, "%s\n", err.hint);
			if (!worst || err.code != OKC_EXIT_LOGIN)
				worst = err.code;
		}
	}
	if (worst) {
		ctx->err.code = worst;
		return -1;
	}
	if (!tried && !broken)
		log_info("nothing to refresh");
	return 0;
}

/* Whether the configuration file (--config, OKTACRED_CONFIG or the default) is absent. */
static int config_missing(const struct cli_ctx *ctx)
{
	struct stat st;
	char *path = NULL;
	okc_err err;
	int missing;

	if ((ctx->config_path ? paths_expand_home(ctx->config_path, &path, &err)
	                      : paths_config_file(&path, &err)) < 0)
		return 0; /* config_open says what is wrong */
	missing = stat(path, &st) < 0 && errno == ENOENT;
	free(path);
	return missing;
}

int cmd_refresh(struct cli_ctx *ctx)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	int i, broken;

	if (cli_flag(ctx, "--all")) {
		if (ctx->npos)
			return cli_usage_error(ctx, "--all takes no NAME");
		if (config_missing(ctx)) {
			log_info("nothing to refresh (no configuration file)");
			return 0;
		}
		broken = cli_config_each(ctx);
		return broken < 0 ? -1 : refresh_all(ctx, broken);
	}
	if (cli_config(ctx) < 0)
		return -1;
	for (i = 0; i < (ctx->npos ? ctx->npos : 1); i++) {
		if (config_resolve(ctx->cfg, ctx->npos ? ctx->pos[i] : NULL, &id, &p, &ctx->err) <
		    0)
			return -1;
		if (!provider_can(p, PROVIDER_LOGIN))
			return okc_fail(&ctx->err, OKC_EXIT_USAGE,
			                "%s: only sessions of people (okta/device-code) are "
			                "refreshed; %s tokens are fetched when needed",
			                p->name, p->kind->name);
		if (refresh_one(p, &ctx->err) < 0)
			return -1;
	}
	return 0;
}
