/* Unit tests: Okta endpoint URLs for the org server, "default" and a custom server. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/oauth.h"

static void check(const char *as, const char *issuer, const char *prefix)
{
	struct provider_cfg p;
	struct oauth_endpoints e;
	okc_err err;
	char want[256];

	memset(&p, 0, sizeof(p));
	p.name = "p";
	p.org_url = "https://acme.okta.com";
	p.authorization_server = (char *)as;
	cr_assert_eq(oauth_endpoints_for(&p, &e, &err), 0);
	cr_assert_str_eq(e.issuer, issuer);
	snprintf(want, sizeof(want), "%s/device/authorize", prefix);
	cr_assert_str_eq(e.device_authorize, want);
	snprintf(want, sizeof(want), "%s/token", prefix);
	cr_assert_str_eq(e.token, want);
	snprintf(want, sizeof(want), "%s/revoke", prefix);
	cr_assert_str_eq(e.revoke, want);
	snprintf(want, sizeof(want), "%s/keys", prefix);
	cr_assert_str_eq(e.keys, want);
	snprintf(want, sizeof(want), "%s/userinfo", prefix);
	cr_assert_str_eq(e.userinfo, want);
	oauth_endpoints_free(&e);
}

Test(oauth, org_server)
{
	check("org", "https://acme.okta.com", "https://acme.okta.com/oauth2/v1");
}

Test(oauth, default_custom_server)
{
	check("default", "https://acme.okta.com/oauth2/default",
	      "https://acme.okta.com/oauth2/default/v1");
	check(NULL, "https://acme.okta.com/oauth2/default",
	      "https://acme.okta.com/oauth2/default/v1");
}

Test(oauth, custom_server_by_id)
{
	check("aus1a2b3c4d5e6f7g8h9", "https://acme.okta.com/oauth2/aus1a2b3c4d5e6f7g8h9",
	      "https://acme.okta.com/oauth2/aus1a2b3c4d5e6f7g8h9/v1");
}
