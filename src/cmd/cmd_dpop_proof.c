/* cmd_dpop_proof.c: `oktacred dpop-proof --method M --url U [NAME]`: one DPoP proof (RFC
 * 9449) for one request with the session's access token, for curl and friends:
 *
 *     curl -H "Authorization: DPoP $(oktacred token)" \
 *          -H "DPoP: $(oktacred dpop-proof --method GET --url URL)" URL
 */
#include <stdio.h>
#include <string.h>

#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/dpop.h"
#include "oktacred/http.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

int cmd_dpop_proof(struct cli_ctx *ctx)
{
	const char *method = cli_value(ctx, "--method"), *url = cli_value(ctx, "--url"), *why;
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct http_url u;
	struct tokens *t = NULL;
	struct buf line = BUF_INIT;
	size_t i;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (!method || !url)
		return cli_usage_error(ctx, "--method and --url are required");
	for (i = 0; method[i]; i++)
		if (method[i] < 'A' || method[i] > 'Z' || i >= 15)
			return cli_usage_error(ctx,
			                       "--method takes an HTTP method in capitals (GET)");
	if (!method[0])
		return cli_usage_error(ctx, "--method takes an HTTP method in capitals (GET)");
	if (http_url_check(url, &u, &why) < 0)
		return cli_usage_error(ctx, "--url: the URL %s", why);
	if (cli_config(ctx) < 0 ||
	    config_resolve(ctx->cfg, ctx->npos ? ctx->pos[0] : NULL, &id, &p, &ctx->err) < 0)
		return -1;
	if (!p->dpop)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "provider %s does not use DPoP: dpop-proof needs dpop = true in "
		                "[provider %s]",
		                p->name, p->name);
	if (provider_tokens(p, NEED_ACCESS_TOKEN, &t, &ctx->err) < 0)
		return -1;
	/* dpop_header's nonce is this process's: none, unless the refresh just now got one
	 * from the authorization server (a resource server's are its own). */
	rc = dpop_header(p, method, url, t->access_token, &line, &ctx->err);
	tokens_free(t);
	if (rc == 0) {
		const char *proof = line.data + strlen("DPoP: ");

		if (puts(proof) == EOF || fflush(stdout) != 0)
			rc = okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot write the proof");
	}
	buf_free(&line);
	return rc;
}
