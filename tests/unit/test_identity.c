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

static void sts(const char *region, const char *want)
{
	struct aws_role_cfg a = {0};
	char *url;

	a.region = (char *)region;
	url = aws_sts_url(&a);
	cr_assert_str_eq(url, want, "%s", region ? region : "(none)");
	free(url);
}

Test(sts_url, each_partition)
{
	sts(NULL, "https://sts.amazonaws.com/");
	sts("us-east-1", "https://sts.us-east-1.amazonaws.com/");
	sts("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com/");
	sts("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn/");
	sts("us-iso-east-1", "https://sts.us-iso-east-1.c2s.ic.gov/");
	sts("us-isob-east-1", "https://sts.us-isob-east-1.sc2s.sgov.gov/");
	sts("eu-isoe-west-1", "https://sts.eu-isoe-west-1.cloud.adc-e.uk/");
	sts("us-isof-south-1", "https://sts.us-isof-south-1.csp.hci.ic.gov/");
	sts("eusc-de-east-1", "https://sts.eusc-de-east-1.amazonaws.eu/");
}

Test(sts_url, endpoint_wins)
{
	struct aws_role_cfg a = {0};
	char *url;

	a.region = "us-iso-east-1";
	a.sts_endpoint = "https://sts.example.test/";
	url = aws_sts_url(&a);
	cr_assert_str_eq(url, "https://sts.example.test/");
	free(url);
}
