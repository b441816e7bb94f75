/* provider.c: the registry of provider kinds, the keys every provider has, the keys
 * several kinds share, and dispatch to the kinds. */
#include "oktacred/provider.h"

#include <stdlib.h>
#include <string.h>

#include "oktacred/cache.h"
#include "oktacred/oauth.h"
#include "oktacred/util.h"

const struct config_kind *const config_provider_kinds[] = {
    &provider_device_code.config,
    &provider_service_account.config,
    &provider_api_token.config,
    NULL,
};

static int set_token_store(struct config_ctx *c, const struct config_key *k, void *obj,
                           const char *v)
{
	struct provider_cfg *p = obj;
	char tmp[80];

	(void)k;
	if (strcmp(v, "file") == 0)
		p->token_store = TOKEN_STORE_FILE;
	else if (strcmp(v, "keyring") == 0)
		p->token_store = TOKEN_STORE_KEYRING;
	else
		return config_fail(c, "token_store \"%s\": use file or keyring",
		                   CONFIG_SHOW(v, tmp));
	return 0;
}

const struct config_key config_provider_keys[] = {
    {"org_url", config_set_origin, offsetof(struct provider_cfg, org_url),
     CK_COMMON | CK_REQUIRED | CK_STRING, NULL, NULL, 0, 0},
    {"token_store", set_token_store, 0, CK_COMMON, "file", NULL, 0, 0},
    {"files.base_path", config_set_path, offsetof(struct provider_cfg, base_path),
     CK_COMMON | CK_STRING, NULL, NULL, 0, 0},
    {"ca_bundle", config_set_path, offsetof(struct provider_cfg, ca_bundle),
     CK_COMMON | CK_STRING | CK_FILE, NULL, NULL, 0, 0},
    /* The HTTP timeout of one request to the provider. */
    {"timeout", config_set_duration, offsetof(struct provider_cfg, timeout), CK_COMMON, NULL, NULL,
     1, 600},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

int provider_set_authorization_server(struct config_ctx *c, const struct config_key *k, void *obj,
                                      const char *v)
{
	size_t n = strlen(v);

	return config_set_checked(
	    c, k, obj, v,
	    n <= 64 &&
	        strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n,
	    "\"default\", \"org\" or an authorization server id (letters and digits)");
}

/* Scope tokens (RFC 6749 3.3) separated by single spaces. */
int provider_set_scopes(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	struct provider_cfg *p = obj;
	char *out = xmalloc(strlen(v) + 1), *o = out;
	const char *s = v;

	(void)k;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (o != out)
			*o++ = ' ';
		while (*s && *s != ' ' && *s != '\t') {
			if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e || *s == '"' ||
			    *s == '\\') {
				free(out);
				return config_fail(c, "scopes: invalid character in a scope name");
			}
			*o++ = *s++;
		}
	}
	*o = '\0';
	p->scopes = out;
	return 0;
}

const char *provider_okta_scope(const char *scopes, size_t *n)
{
	for (const char *s = scopes; s && *s;) {
		size_t len = strcspn(s, " ");

		if (len > 5 && strncmp(s, "okta.", 5) == 0) {
			*n = len;
			return s;
		}
		s += len;
		s += strspn(s, " ");
	}
	return NULL;
}

int provider_check_scopes(struct config_ctx *c, const struct provider_cfg *p)
{
	size_t n;
	const char *okta = provider_okta_scope(p->scopes, &n);
	int line = config_key_line(c, p, "scopes");

	if (!okta || (p->authorization_server && strcmp(p->authorization_server, "org") == 0))
		return 0;
	config_fail_at(c, line ? line : p->line,
	               "scopes: %.*s is a scope of Okta's API, which only the org authorization "
	               "server grants (authorization_server = %s is a custom one)",
	               (int)n, okta, p->authorization_server ? p->authorization_server : "default");
	config_hint(c, "set authorization_server = org, or remove the okta.* scopes");
	return -1;
}

const struct provider_kind *provider_kind_of(const struct provider_cfg *p)
{
	return (const struct provider_kind *)(const void *)p->kind;
}

int provider_can(const struct provider_cfg *p, unsigned caps)
{
	return (provider_kind_of(p)->caps & caps) == caps;
}

int provider_tokens(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
                    okc_err *err)
{
	return provider_kind_of(p)->tokens(p, need, out, err);
}

int provider_revoke(const struct provider_cfg *p, const char *token, const char *type_hint,
                    okc_err *err)
{
	const struct provider_kind *k = provider_kind_of(p);

	return k->revoke ? k->revoke(p, token, type_hint, err)
	                 : oauth_revoke(p, NULL, token, type_hint, err);
}

int provider_session_current(const struct provider_cfg *p, const char *session)
{
	char *cur = NULL;
	okc_err ignored;
	int ok = session && cache_session(p, &cur, &ignored) == 0 && str_eq(cur, session);

	free(cur);
	return ok;
}

int provider_renew_rejected(const struct provider_cfg *p, struct tokens **t, okc_err *err)
{
	return refresh_after_rejection(p, t, err);
}
