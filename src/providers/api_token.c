/* api_token.c: a legacy SSWS API token from the environment variable named by
 * token_env; nothing to refresh, nothing cached on disk. */
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/keyring.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

static int api_token_tokens(const struct provider_cfg *p, enum refresh_need need,
                            struct tokens **out, okc_err *err)
{
	const char *value = p->token_env ? getenv(p->token_env) : NULL;
	char *stored = NULL;
	struct tokens *t;
	const char *c;
	int rc;

	if (need == NEED_ID_TOKEN)
		return okc_fail(err, OKC_EXIT_USAGE,
		                "%s: an okta/api-token provider has no ID token", p->name);
	if ((!value || !*value) && p->token_store == TOKEN_STORE_KEYRING) {
		rc = keyring_lookup(p->name, "api_token", &stored, err);
		if (rc < 0)
			return -1;
		value = stored;
	}
	if (!value || !*value) {
		okc_fail(err, OKC_EXIT_LOGIN, "%s: no API token: $%s is not set%s", p->name,
		         p->token_env ? p->token_env : "OKTA_API_TOKEN",
		         p->token_store == TOKEN_STORE_KEYRING ? " and the keyring has none" : "");
		okc_hint(err, "export %s with an Okta API token (Security > API > Tokens)",
		         p->token_env ? p->token_env : "OKTA_API_TOKEN");
		return -1;
	}
	for (c = value; *c; c++)
		if (*c < 0x21 || *c > 0x7e) {
			free_secret(stored);
			return okc_fail(
			    err, OKC_EXIT_USAGE,
			    "%s: the API token holds characters an API token cannot have", p->name);
		}
	t = xcalloc(1, sizeof(*t));
	t->access_token = xstrdup(value);
	free_secret(stored);
	t->token_type = xstrdup("SSWS");
	tokens_set_provider(t, p);
	*out = t;
	return 0;
}

const struct provider_ops provider_api_token = {api_token_tokens};
