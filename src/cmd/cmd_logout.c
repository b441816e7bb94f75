/* cmd_logout.c: `oktacred logout [NAME...] [--all] [--revoke]`: delete cached tokens, and
 * tell the identities (which delete what they derived from them: AWS credentials); --all
 * also sweeps what the configuration no longer names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/awscreds.h"
#include "oktacred/cache.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/dpop.h"
#include "oktacred/identity.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/paths.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

/* RFC 7009: revoke the refresh token (Okta then also revokes its access tokens), or the
 * access token of a session without one, and say so. The caller holds the lock. Nothing is
 * deleted when this fails, so it can be retried. */
static int revoke_session(const struct provider_cfg *p, okc_err *err)
{
	struct tokens *t = NULL;
	struct oauth_endpoints ep = {0};
	const char *what = NULL;
	int rc = cache_load(p, &t, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (t->refresh_token) {
		rc = provider_revoke(p, t->refresh_token, "refresh_token", err);
		what = "the refresh and access tokens";
	} else if (t->access_token) {
		rc = provider_revoke(p, t->access_token, "access_token", err);
		what = "the access token";
	}
	tokens_free(t);
	if (rc < 0) {
		okc_wrap(err, "%s: cannot revoke the session", p->name);
		if (!err->hint[0]) /* a refusal may have said what to check */
			okc_hint(err,
			         "try again, or run `oktacred logout %s` without --revoke to "
			         "only forget it here",
			         p->name);
		return -1;
	}
	/* Said, not only done: the person asked for it. */
	if (what && oauth_endpoints_for(p, &ep, err) == 0)
		log_info("%s: revoked %s at %s", p->name, what, ep.issuer);
	else if (what)
		log_info("%s: revoked %s at the identity provider", p->name, what);
	oauth_endpoints_free(&ep);
	okc_err_clear(err);
	return 0;
}

static int logout_provider(const struct provider_cfg *p, int revoke, okc_err *err)
{
	struct lock lk = LOCK_INIT;
	int rc, n;

	if (!provider_can(p, PROVIDER_CACHED)) {
		log_info("%s: a %s provider has no session to log out of", p->name, p->kind->name);
		return 0;
	}
	rc = cache_lock(p, &lk, err);
	if (rc == 0 && revoke)
		rc = revoke_session(p, err);
	if (rc == 0)
		rc = cache_delete(p, err);
	/* The DPoP key goes with the session it was bound to: a new login makes a new one. */
	if (rc >= 0 && dpop_key_remove(p, err) < 0)
		rc = -1;
	lock_release(&lk);
	if (rc < 0)
		return -1;
	/* After the provider's lock is released: the lock order is identity, then provider. */
	n = identity_session_changed(p, NULL, err);
	if (n < 0)
		return -1;
	if (n > 0)
		log_verbose("%s: deleted the credentials of %d identit%s", p->name, n,
		            n == 1 ? "y" : "ies");
	log_info(rc == OKC_NOENT ? "%s: not logged in" : "%s: logged out", p->name);
	return 0;
}

/* --all, after every provider's logout: what no configured provider's logout reaches (the
 * sessions of providers taken out of the configuration, AWS credentials obtained through
 * them) and identity directories that hold only their lock, under the default state root
 * and every base_path. */
static int sweep(const struct config *cfg, okc_err *err)
{
	char **roots = xcalloc(cfg->nproviders + 1, sizeof(char *));
	size_t n = 0, k, j;
	int rc = paths_provider_root(NULL, &roots[n++], err);

	for (k = 0; rc == 0 && k < cfg->nproviders; k++) {
		if (config_section_error(cfg, &cfg->providers[k]))
			continue; /* said already; its name still keeps its directory */
		if (paths_provider_root(cfg->providers[k].base_path, &roots[n], err) < 0) {
			rc = -1;
			break;
		}
		for (j = 0; j < n && strcmp(roots[j], roots[n]) != 0; j++)
			;
		if (j < n)
			free(roots[n]);
		else
			n++;
	}
	for (k = 0; rc == 0 && k < n; k++)
		if (cache_sweep(roots[k], cfg, err) < 0 || awscreds_sweep(roots[k], cfg, err) < 0)
			rc = -1;
	for (k = 0; k < n; k++)
		free(roots[k]);
	free(roots);
	return rc;
}

int cmd_logout(struct cli_ctx *ctx)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	int i, failed = 0, revoke = cli_flag(ctx, "--revoke");

	if (cli_flag(ctx, "--all")) {
		size_t k;
		int broken;

		if (ctx->npos)
			return cli_usage_error(ctx, "--all takes no NAME");
		/* A broken provider is said and skipped: the others are logged out (exit 2). */
		broken = cli_config_each(ctx);
		if (broken < 0)
			return -1;
		for (k = 0; k < ctx->cfg->nproviders; k++)
			if (!config_section_error(ctx->cfg, &ctx->cfg->providers[k]) &&
			    logout_provider(&ctx->cfg->providers[k], revoke, &ctx->err) < 0)
				return -1;
		if (sweep(ctx->cfg, &ctx->err) < 0)
			return -1;
		ctx->err.code = broken ? OKC_EXIT_USAGE : 0;
		return broken ? -1 : 0;
	}
	if (cli_config(ctx) < 0)
		return -1;
	if (ctx->npos == 0)
		return config_resolve(ctx->cfg, NULL, &id, &p, &ctx->err) < 0
		           ? -1
		           : logout_provider(p, revoke, &ctx->err);
	for (i = 0; i < ctx->npos; i++) {
		if (config_resolve(ctx->cfg, ctx->pos[i], &id, &p, &ctx->err) < 0 ||
		    logout_provider(p, revoke, &ctx->err) < 0) {
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
