/* cmd_token.c: `oktacred token [NAME] [--id-token] [--json]`: a fresh raw token for
 * curl and friends, refreshed first when needed. */
#include "oktacred/json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

int cmd_token(struct cli_ctx *ctx)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	int want_id = cli_flag(ctx, "--id-token");
	struct tokens *t = NULL;
	const char *value;
	char when[21];

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cli_config(ctx) < 0 ||
	    config_resolve(ctx->cfg, ctx->npos ? ctx->pos[0] : NULL, &id, &p, &ctx->err) < 0)
		return -1;
	if (provider_tokens(p, want_id ? NEED_ID_TOKEN : NEED_ACCESS_TOKEN, &t, &ctx->err) < 0)
		return -1;
	value = want_id ? t->id_token : t->access_token;
	if (!value) {
		tokens_free(t);
		return okc_fail(&ctx->err, OKC_EXIT_LOGIN, "%s: the session has no %s", p->name,
		                want_id ? "ID token" : "access token");
	}
	if (cli_flag(ctx, "--json")) {
		struct json *o = json_new(JSON_OBJECT);
		struct buf text = BUF_INIT;

		json_add_string(o, want_id ? "id_token" : "access_token", value);
		json_add_string(o, "token_type",
		                want_id         ? "N_A"
		                : t->token_type ? t->token_type
		                                : "Bearer");
		if (!want_id) {
			time_format_utc(t->expires_at, when);
			json_add_string(o, "expires_at", when);
		}
		json_print_secret(o, &text);
		fputs(text.data, stdout);
		buf_free(&text);
		json_free_secret(o);
	} else {
		puts(value);
	}
	tokens_free(t);
	return fflush(stdout) == 0 ? 0
	                           : okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot write the token");
}
