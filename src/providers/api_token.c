/* api_token.c: a legacy SSWS API token from the environment variable named by
 * token_env; nothing to refresh, nothing cached on disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/keyring.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

struct api_token_cfg {
	char *token_env; /* the environment variable holding the SSWS token */
};

static const char *token_env(const struct provider_cfg *p)
{
	const struct api_token_cfg *a = p->kind_cfg;

	return a->token_env;
}

static int api_token_tokens(const struct provider_cfg *p, enum refresh_need need,
                            struct tokens **out, okc_err *err)
{
	const char *value = getenv(token_env(p));
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
		         token_env(p),
		         p->token_store == TOKEN_STORE_KEYRING ? " and the keyring has none" : "");
		okc_hint(err, "export %s with an Okta API token (Security > API > Tokens)",
		         token_env(p));
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

/* Usable when the variable is set (status does not look into the keyring). */
static int api_token_status(const struct provider_cfg *p, char *problem, size_t n)
{
	const char *v = getenv(token_env(p));

	if (v && *v)
		return 1;
	snprintf(problem, n, "$%s is not set", token_env(p));
	return 0;
}

static int set_token_env(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	struct api_token_cfg *a = obj;

	(void)k;
	/* Not shown: people paste the token itself here. */
	if (!config_is_env_name(v))
		return config_fail(c, "token_env is not an environment variable name (it names the "
		                      "variable that holds the token, like OKTA_API_TOKEN)");
	a->token_env = xstrdup(v);
	return 0;
}

static const struct config_key keys[] = {
    {"token_env", set_token_env, offsetof(struct api_token_cfg, token_env), CK_REQUIRED | CK_STRING,
     NULL, NULL, 0, 0},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct provider_kind provider_api_token = {
    .config = {.name = "okta/api-token", .keys = keys, .size = sizeof(struct api_token_cfg)},
    .caps = PROVIDER_SSWS,
    .tokens = api_token_tokens,
    .status = api_token_status,
};
