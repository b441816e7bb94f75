/* cmd_login.c: `oktacred login [NAME]`: the login of NAME's provider (login.c). */
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/login.h"

#include <string.h>

int cmd_login(struct cli_ctx *ctx)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct login_opts o = {0};

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
	return cli_login(ctx, p, &o);
}
