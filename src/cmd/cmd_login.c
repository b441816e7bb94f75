/* cmd_login.c: `oktacred login [NAME]`: the login of NAME's provider (login.c). */
#include <stdlib.h>

#include "oktacred/buf.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/login.h"
#include "oktacred/util.h"

/* What to run once logged in: the identity's environment; for a provider, that of the
 * identities using it (the first, naming the others); with none, its raw token. */
static char *next_step(const struct config *cfg, const struct identity_cfg *id,
                       const struct provider_cfg *p)
{
	struct buf others = BUF_INIT;
	const char *name = id ? id->name : NULL;
	const struct identity_cfg *first = id;
	char *s;
	size_t i;

	for (i = 0; !id && i < cfg->nidentities; i++) {
		const struct identity_cfg *other;
		const struct provider_cfg *its;
		okc_err ignored;

		/* Sections are checked when first named: a broken one is no suggestion. */
		if (config_resolve(cfg, cfg->identities[i].name, &other, &its, &ignored) < 0 ||
		    !other || its != p)
			continue;
		if (!name) {
			name = cfg->identities[i].name;
			first = other;
		} else
			buf_printf(&others, "%s%s", others.len ? ", " : "",
			           cfg->identities[i].name);
	}
	if (!name)
		return xasprintf("oktacred token %s", p->name);
	/* A DPoP-bound token is no bearer token: env and plain exec refuse it. */
	if (p->dpop && identity_kind_of(first) == &identity_api_access) {
		s = xasprintf("oktacred exec --server %s -- COMMAND%s%s%s", name,
		              others.len ? " (also: " : "", others.len ? others.data : "",
		              others.len ? ")" : "");
		buf_free(&others);
		return s;
	}
	s = xasprintf("eval \"$(oktacred env %s)\", or oktacred exec %s -- COMMAND%s%s%s", name,
	              name, others.len ? " (also: " : "", others.len ? others.data : "",
	              others.len ? ")" : "");
	buf_free(&others);
	return s;
}

#include <string.h>

int cmd_login(struct cli_ctx *ctx)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct login_opts o = {0};
	char *next;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_config(ctx) < 0 ||
	    config_resolve(ctx->cfg, ctx->npos ? ctx->pos[0] : NULL, &id, &p, &ctx->err) < 0)
		return -1;
	cli_config_warnings(ctx, id, p, 0);
	o.force = cli_flag(ctx, "--force");
	o.no_browser = cli_flag(ctx, "--no-browser");
	o.no_qr = cli_flag(ctx, "--no-qr");
	o.flow = cli_value(ctx, "--flow");
	if (o.flow && strcmp(o.flow, "device") != 0 && strcmp(o.flow, "browser") != 0 &&
	    strcmp(o.flow, "paste") != 0)
		return cli_usage_error(ctx, "--flow must be device, browser or paste");
	o.next = next = next_step(ctx->cfg, id, p);
	rc = cli_login(ctx, p, &o);
	free(next);
	return rc;
}
