/* Unit tests: Okta endpoint URLs for the org server, "default" and a custom server. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/discovery.h"
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
	snprintf(want, sizeof(want), "%s/authorize", prefix);
	cr_assert_str_eq(e.authorize, want);
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

/* config validate --online: a discovery document judged against a kind's expectations. */
static const char *const dc_grants[] = {"urn:ietf:params:oauth:grant-type:device_code",
                                        "refresh_token", NULL};

static const char *none_auth(const struct provider_cfg *p)
{
	(void)p;
	return "none";
}

static const struct oauth_expect dc_expect = {
    OAUTH_USES_TOKEN | OAUTH_USES_DEVICE | OAUTH_USES_REVOKE, dc_grants, none_auth, NULL};

static char *grants_ok[] = {"refresh_token", "urn:ietf:params:oauth:grant-type:device_code"};
static char *auth_ok[] = {"client_secret_basic", "none"};

static void good_discovery(struct oauth_discovery *d)
{
	memset(d, 0, sizeof(*d));
	d->issuer = "https://acme.okta.com/oauth2/default";
	d->token_endpoint = "https://acme.okta.com/oauth2/default/v1/token";
	d->device_authorization_endpoint =
	    "https://acme.okta.com/oauth2/default/v1/device/authorize";
	d->revocation_endpoint = "https://acme.okta.com/oauth2/default/v1/revoke";
	d->grant_types = grants_ok;
	d->ngrant_types = 2;
	d->auth_methods = auth_ok;
	d->nauth_methods = 2;
}

static void expect_problem(const struct oauth_discovery *d, const char *needle)
{
	struct provider_cfg p;
	char problem[512] = "";

	memset(&p, 0, sizeof(p));
	p.name = "p";
	p.org_url = "https://acme.okta.com";
	p.authorization_server = "default";
	if (!needle) {
		cr_assert_eq(oauth_discovery_check(&p, d, &dc_expect, problem, sizeof(problem)), 0,
		             "%s", problem);
		return;
	}
	cr_assert_eq(oauth_discovery_check(&p, d, &dc_expect, problem, sizeof(problem)), -1);
	cr_assert(strstr(problem, needle), "\"%s\" not in: %s", needle, problem);
}

Test(discovery, check)
{
	struct oauth_discovery d;

	good_discovery(&d);
	expect_problem(&d, NULL);
	d.issuer = "https://acme.okta.com/oauth2/aus1";
	expect_problem(&d, "the server's issuer is https://acme.okta.com/oauth2/aus1, not "
	                   "https://acme.okta.com/oauth2/default");
	good_discovery(&d);
	d.device_authorization_endpoint = NULL;
	expect_problem(&d, "advertises no device authorization endpoint");
	good_discovery(&d);
	d.token_endpoint = "https://elsewhere.example/token";
	expect_problem(&d, "the server's token endpoint is https://elsewhere.example/token, not "
	                   "https://acme.okta.com/oauth2/default/v1/token");
	good_discovery(&d);
	d.ngrant_types = 1;
	expect_problem(&d, "does not offer the urn:ietf:params:oauth:grant-type:device_code grant");
	good_discovery(&d);
	d.grant_types = NULL;
	d.ngrant_types = 0;
	expect_problem(&d, "does not offer the urn:ietf:params:oauth:grant-type:device_code grant");
	good_discovery(&d);
	d.nauth_methods = 1;
	expect_problem(&d, "does not take none client authentication");
	good_discovery(&d);
	d.auth_methods = NULL;
	d.nauth_methods = 0;
	expect_problem(&d, NULL); /* not listed: not judged */
}

/* dpop = true: the server must take ES256 proofs. */
static void expect_dpop(const struct oauth_discovery *d, const char *needle)
{
	struct provider_cfg p;
	char problem[512] = "";
	int rc;

	memset(&p, 0, sizeof(p));
	p.name = "p";
	p.org_url = "https://acme.okta.com";
	p.authorization_server = "default";
	p.dpop = 1;
	rc = oauth_discovery_check(&p, d, &dc_expect, problem, sizeof(problem));
	if (!needle) {
		cr_assert_eq(rc, 0, "%s", problem);
		return;
	}
	cr_assert_eq(rc, -1);
	cr_assert(strstr(problem, needle), "\"%s\" not in: %s", needle, problem);
}

Test(discovery, dpop_needs_es256)
{
	static char *es256[] = {"RS256", "ES256"};
	static char *rs256[] = {"RS256"};
	struct oauth_discovery d;

	good_discovery(&d);
	expect_problem(&d, NULL); /* without dpop: not asked */
	expect_dpop(&d, "does not offer DPoP");
	d.dpop_algs = rs256;
	d.ndpop_algs = 1;
	expect_dpop(&d, "does not take ES256 DPoP proofs");
	d.dpop_algs = es256;
	d.ndpop_algs = 2;
	expect_dpop(&d, NULL);
}
