/* cmd_config.c: `oktacred config validate [--online]|list`. */
#include "oktacred/json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/cache.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/discovery.h"
#include "oktacred/log.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

/* Whether list shows the section: a broken one was said on stderr instead. */
#define LISTED(cfg, section) (!config_section_error((cfg), (section)))

static int config_list(struct cli_ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	size_t i;

	if (cli_flag(ctx, "--names")) {
		for (i = 0; i < cfg->nidentities; i++)
			puts(cfg->identities[i].name);
		for (i = 0; i < cfg->nproviders; i++)
			if (!config_find_identity(cfg, cfg->providers[i].name))
				puts(cfg->providers[i].name);
		return 0;
	}
	if (cli_flag(ctx, "--json")) {
		struct json *root = json_new(JSON_OBJECT), *ps, *is;
		struct buf text = BUF_INIT;

		json_add_string(root, "path", cfg->path);
		if (cfg->default_identity)
			json_add_string(root, "default", cfg->default_identity);
		ps = json_add_array(root, "providers");
		for (i = 0; i < cfg->nproviders; i++) {
			const struct provider_cfg *p = &cfg->providers[i];
			struct json *o;

			if (!LISTED(cfg, p))
				continue;
			o = json_new(JSON_OBJECT);

			json_add_string(o, "name", p->name);
			json_add_string(o, "kind", p->kind->name);
			json_add_string(o, "org_url", p->org_url);
			if (p->authorization_server)
				json_add_string(o, "authorization_server", p->authorization_server);
			json_append(ps, o);
		}
		is = json_add_array(root, "identities");
		for (i = 0; i < cfg->nidentities; i++) {
			const struct identity_cfg *d = &cfg->identities[i];
			struct json *o;

			if (!LISTED(cfg, d))
				continue;
			o = json_new(JSON_OBJECT);

			json_add_string(o, "name", d->name);
			json_add_string(o, "kind", d->kind->name);
			json_add_string(o, "provider", d->provider_name);
			json_append(is, o);
		}
		json_print(root, 1, &text);
		puts(text.data);
		buf_free(&text);
		json_free(root);
		return 0;
	}
	for (i = 0; i < cfg->nproviders; i++) {
		const struct provider_cfg *p = &cfg->providers[i];

		if (!LISTED(cfg, p))
			continue;
		printf("provider  %-20s %-22s %s%s%s\n", p->name, p->kind->name, p->org_url,
		       p->authorization_server ? " server=" : "",
		       p->authorization_server ? p->authorization_server : "");
	}
	for (i = 0; i < cfg->nidentities; i++) {
		const struct identity_cfg *d = &cfg->identities[i];
		int is_default = cfg->default_identity && !strcmp(cfg->default_identity, d->name);

		if (!LISTED(cfg, d))
			continue;
		printf("identity  %-20s %-22s provider=%s%s\n", d->name, d->kind->name,
		       d->provider_name, is_default ? " (default)" : "");
	}
	return 0;
}

/* --online: each provider's discovery document against what its kind will use, one line
 * per provider on stdout. Exit 2 when one is misconfigured, else 4 when one cannot be
 * reached. Nothing secret is sent (one GET each). */
static int config_online(struct cli_ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	size_t bad = 0, unreachable = 0;

	for (size_t i = 0; i < cfg->nproviders; i++) {
		const struct provider_cfg *p = &cfg->providers[i];
		const struct provider_kind *kind = provider_kind_of(p);
		struct oauth_discovery d;
		char problem[512];
		okc_err err;

		if (!kind->online) {
			printf("%s: not checked (%s uses no OAuth authorization server)\n", p->name,
			       p->kind->name);
			continue;
		}
		okc_err_clear(&err);
		if (oauth_discover(p, &d, &err) < 0) {
			printf("%s: %s\n", p->name, err.msg);
			if (err.code == OKC_EXIT_INTERRUPTED) {
				oauth_discovery_free(&d);
				ctx->err = err;
				return -1;
			}
			if (err.code == OKC_EXIT_USAGE)
				bad++;
			else
				unreachable++;
		} else if (oauth_discovery_check(p, &d, kind->online, problem, sizeof(problem)) <
		           0) {
			printf("%s: %s (%s)\n", p->name, problem, d.url);
			bad++;
		} else {
			printf("%s: ok\n", p->name);
		}
		oauth_discovery_free(&d);
	}
	fflush(stdout);
	if (bad)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%zu provider%s misconfigured at the identity provider", bad,
		                bad == 1 ? " is" : "s are");
	if (unreachable)
		return okc_fail(&ctx->err, OKC_EXIT_NETWORK, "%zu provider%s could not be checked",
		                unreachable, unreachable == 1 ? "" : "s");
	return 0;
}

/* Warnings only the state on disk can give: refresh_before not shorter than the lifetime
 * of the access tokens a provider was last given (tokens.json's expires_in, read without
 * the keyring or the lock): such tokens are renewed at half their lifetime instead. */
static void lifetime_warnings(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nproviders; i++) {
		const struct provider_cfg *p = &cfg->providers[i];
		struct tokens *t = NULL;
		char rb[32], life[32];
		okc_err err;
		int line;

		if (!provider_can(p, PROVIDER_CACHED) || p->refresh_before <= 0 ||
		    cache_peek(p, &t, &err) != 0)
			continue;
		if (t->expires_in > 0 && p->refresh_before >= t->expires_in) {
			line = config_section_key_line(cfg, p, "refresh_before");
			time_format_left(p->refresh_before, rb, sizeof(rb));
			time_format_left(t->expires_in, life, sizeof(life));
			log_warn("%s:%d: refresh_before %s is not shorter than the lifetime of the "
			         "access tokens %s was last given (%s): they are renewed at half "
			         "their lifetime instead",
			         p->file, line ? line : p->line, rb, p->name, life);
		}
		tokens_free(t);
	}
}

/* Reads the configuration finding every error: all but the last are said here, in the
 * order of the file, the last as the command's error. */
static int validate_all(struct cli_ctx *ctx)
{
	const struct config_error *e;
	struct config *cfg = NULL;
	size_t n;

	if (config_load_all(ctx->config_path, &cfg, &ctx->err) == 0) {
		ctx->cfg = cfg;
		return 0;
	}
	n = config_errors(cfg, &e);
	for (size_t i = 0; i + 1 < n; i++) {
		log_error("%s", e[i].text);
		if (e[i].hint)
			fprintf(stderr, "%s\n", e[i].hint);
	}
	if (n > 1) {
		okc_fail(&ctx->err, OKC_EXIT_USAGE, "%s", e[n - 1].text);
		if (e[n - 1].hint)
			okc_hint(&ctx->err, "%s", e[n - 1].hint);
	}
	config_free(cfg);
	return -1;
}

int cmd_config(struct cli_ctx *ctx)
{
	const char *sub = ctx->npos ? ctx->pos[0] : NULL;

	if (ctx->npos != 1 || (strcmp(sub, "validate") != 0 && strcmp(sub, "list") != 0))
		return cli_usage_error(ctx, sub ? "unknown subcommand '%s'" : "%s",
		                       sub ? sub : "which one: validate or list?");
	/* Names are known without checking a section: completion works with a broken one. */
	if (strcmp(sub, "list") == 0 && cli_flag(ctx, "--names"))
		return cli_config(ctx) < 0 ? -1 : config_list(ctx);
	/* Every section that can be used; a broken one is said on stderr (exit 2). */
	if (strcmp(sub, "list") == 0) {
		int broken = cli_config_each(ctx);

		if (broken < 0 || config_list(ctx) < 0)
			return -1;
		ctx->err.code = broken ? OKC_EXIT_USAGE : 0;
		return broken ? -1 : 0;
	}
	if (!ctx->cfg && validate_all(ctx) < 0)
		return -1;
	cli_config_warnings(ctx, NULL, NULL, 1);
	lifetime_warnings(ctx->cfg);
	log_info("%s: valid (%zu provider%s, %zu identit%s)", ctx->cfg->path, ctx->cfg->nproviders,
	         ctx->cfg->nproviders == 1 ? "" : "s", ctx->cfg->nidentities,
	         ctx->cfg->nidentities == 1 ? "y" : "ies");
	return cli_flag(ctx, "--online") ? config_online(ctx) : 0;
}
