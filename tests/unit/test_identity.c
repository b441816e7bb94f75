/* Unit tests: the org URL split the Terraform okta provider needs. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "oktacred/identity.h"

static void split(const char *url, const char *name, const char *base)
{
	char *n = NULL, *b = NULL;

	cr_assert_eq(okta_org_split(url, &n, &b), 0, "%s", url);
	cr_assert_str_eq(n, name);
	cr_assert_str_eq(b, base);
	free(n);
	free(b);
}

static void nosplit(const char *url)
{
	char *n = NULL, *b = NULL;

	cr_assert_eq(okta_org_split(url, &n, &b), 1, "%s", url);
	cr_assert_null(n);
	cr_assert_null(b);
}

Test(org_split, okta_com)
{
	split("https://dev-123456.okta.com", "dev-123456", "okta.com");
}

Test(org_split, oktapreview)
{
	split("https://acme.oktapreview.com", "acme", "oktapreview.com");
}

Test(org_split, custom_domain)
{
	split("https://login.example.co.uk", "login", "example.co.uk");
	split("https://login.example.co.uk:8443/", "login", "example.co.uk");
}

Test(org_split, ip_or_single_label_hosts_are_not_split)
{
	nosplit("http://127.0.0.1:8080");
	nosplit("http://localhost:1234");
	nosplit("http://[::1]:1234");
	nosplit("https://.okta.com");
}
