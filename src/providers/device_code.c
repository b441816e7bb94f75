/* device_code.c: the okta/device-code provider: a person's session from `oktacred login`,
 * kept fresh by refresh.c. */
#include "oktacred/provider.h"
#include "oktacred/util.h"

#include <string.h>

#include "oktacred/authcode.h"

#define DEFAULT_SCOPES "openid profile email offline_access"

/* How `oktacred login` signs in (login.c reads them with config_provider_string). */
struct device_code_cfg {
	char *flow;         /* auto, device or browser */
	char *redirect_uri; /* the browser and paste flows' redirect */
};

static int set_flow(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	int ok = strcmp(v, "auto") == 0 || strcmp(v, "device") == 0 || strcmp(v, "browser") == 0;

	return config_set_checked(c, k, obj, v, ok, "auto, device or browser");
}

static int set_redirect_uri(struct config_ctx *c, const struct config_key *k, void *obj,
                            const char *v)
{
	char host[16], tmp[80];
	const char *path, *why;
	int port;

	if (authcode_redirect_parse(v, host, sizeof(host), &port, &path, &why) < 0) {
		config_fail(c, "redirect_uri \"%s\": %s", CONFIG_SHOW(v, tmp), why);
		config_hint(c,
		            "for example %s, registered on the Okta app as a sign-in "
		            "redirect URI",
		            AUTHCODE_DEFAULT_REDIRECT);
		return -1;
	}
	return config_set_checked(c, k, obj, v, 1, "");
}

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

static const char *const device_grants[] = {"urn:ietf:params:oauth:grant-type:device_code",
                                            "refresh_token", NULL};
static const char *const browser_grants[] = {"authorization_code", "refresh_token", NULL};

/* A public client: no client authentication. */
static const char *auth_method(const struct provider_cfg *p)
{
	(void)p;
	return "none";
}

/* flow = browser: login (authorization, token), refresh (token), logout --revoke. */
const struct oauth_expect device_code_online_browser = {
    .endpoints = OAUTH_USES_TOKEN | OAUTH_USES_REVOKE,
    .grants = browser_grants,
    .auth_method = auth_method,
};

static const struct oauth_expect *online_of(const struct provider_cfg *p);

/* flow = device or auto (which takes the device grant when the server offers it): login
 * (device authorization, token), refresh (token), logout --revoke (revoke). */
static const struct oauth_expect online = {
    .endpoints = OAUTH_USES_TOKEN | OAUTH_USES_DEVICE | OAUTH_USES_REVOKE,
    .grants = device_grants,
    .auth_method = auth_method,
    .of_provider = online_of,
};

static const struct oauth_expect *online_of(const struct provider_cfg *p)
{
	const char *flow = config_provider_string(p, "flow");

	return flow && strcmp(flow, "browser") == 0 ? &device_code_online_browser : &online;
}

static const struct config_key keys[] = {
    PROVIDER_KEY_CLIENT_ID,
    PROVIDER_KEY_AUTHORIZATION_SERVER("default"),
    PROVIDER_KEY_SCOPES(DEFAULT_SCOPES),
    PROVIDER_KEY_REFRESH_BEFORE,
    PROVIDER_KEY_SESSION_DURATION,
    {"flow", set_flow, offsetof(struct device_code_cfg, flow), CK_STRING, "auto", NULL, 0, 0},
    {"redirect_uri", set_redirect_uri, offsetof(struct device_code_cfg, redirect_uri), CK_STRING,
     AUTHCODE_DEFAULT_REDIRECT, NULL, 0, 0},
    PROVIDER_KEY_DPOP,
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct provider_kind provider_device_code = {
    /* okta/oidc: what the kind is called where it signs in through the browser. */
    .config = {.name = "okta/device-code",
               .alias = "okta/oidc",
               .keys = keys,
               .size = sizeof(struct device_code_cfg),
               .check = check},
    .caps = PROVIDER_LOGIN | PROVIDER_ID_TOKEN | PROVIDER_CACHED,
    .tokens = device_code_tokens,
    .online = &online,
};
