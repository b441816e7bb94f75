/* device_code.c: the okta/device-code provider: a person's session from `oktacred login`,
 * kept fresh by refresh.c. */
#include "oktacred/provider.h"
#include "oktacred/util.h"

#define DEFAULT_SCOPES "openid profile email offline_access"

static int device_code_tokens(const struct provider_cfg *p, enum refresh_need need,
                              struct tokens **out, okc_err *err)
{
	return refresh_ensure(p, need, out, err);
}

static int check(struct config_ctx *c, void *section)
{
	const struct provider_cfg *p = section;

	/* A warning: the session works, but refresh_before cannot do what it says. */
	if (p->session_duration > 0 && p->refresh_before >= p->session_duration) {
		int line = config_key_line(c, p, "refresh_before");
		char rb[32], sd[32];

		time_format_left(p->refresh_before, rb, sizeof(rb));
		time_format_left(p->session_duration, sd, sizeof(sd));
		config_warn_at(c, line ? line : config_key_line(c, p, "session_duration"),
		               "refresh_before %s is not shorter than session_duration %s, the "
		               "longest a session lasts",
		               rb, sd);
	}
	return provider_check_scopes(c, section);
}

static const char *const grants[] = {"urn:ietf:params:oauth:grant-type:device_code",
                                     "refresh_token", NULL};

/* A public client: no client authentication. */
static const char *auth_method(const struct provider_cfg *p)
{
	(void)p;
	return "none";
}

/* login (device authorization, token), refresh (token), logout --revoke (revoke). */
static const struct oauth_expect online = {
    .endpoints = OAUTH_USES_TOKEN | OAUTH_USES_DEVICE | OAUTH_USES_REVOKE,
    .grants = grants,
    .auth_method = auth_method,
};

static const struct config_key keys[] = {
    PROVIDER_KEY_CLIENT_ID,
    PROVIDER_KEY_AUTHORIZATION_SERVER("default"),
    PROVIDER_KEY_SCOPES(DEFAULT_SCOPES),
    PROVIDER_KEY_REFRESH_BEFORE,
    PROVIDER_KEY_SESSION_DURATION,
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct provider_kind provider_device_code = {
    .config = {.name = "okta/device-code", .keys = keys, .check = check},
    .caps = PROVIDER_LOGIN | PROVIDER_ID_TOKEN | PROVIDER_CACHED,
    .tokens = device_code_tokens,
    .online = &online,
};
