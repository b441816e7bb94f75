/* Unit tests: the org URL split the Terraform okta provider needs, the STS URL, and the
 * kubernetes/exec-credential formats. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- kubernetes/exec-credential ---- */

static void exec_info(const char *info, const char *api, int interactive)
{
	const char *got = NULL;
	int inter = 7;
	okc_err err = {0};

	cr_assert_eq(kube_exec_info(info, &got, &inter, &err), 0, "%s: %s", info, err.msg);
	cr_assert_str_eq(got, api, "%s", info ? info : "(unset)");
	cr_assert_eq(inter, interactive, "%s", info ? info : "(unset)");
}

static void exec_info_fails(const char *info, const char *msg)
{
	const char *got = NULL;
	int inter = 7;
	okc_err err = {0};

	cr_assert_eq(kube_exec_info(info, &got, &inter, &err), -1, "%s", info);
	cr_assert_eq(err.code, OKC_EXIT_USAGE);
	cr_assert(strstr(err.msg, msg), "%s: %s", info, err.msg);
}

Test(kube, exec_info_api_version_and_interactive)
{
	exec_info(NULL, "client.authentication.k8s.io/v1", -1);
	exec_info("{}", "client.authentication.k8s.io/v1", -1);
	exec_info("{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/"
	          "v1\",\"spec\":{\"interactive\":true}}",
	          "client.authentication.k8s.io/v1", 1);
	exec_info("{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"spec\":"
	          "{\"interactive\":false,\"cluster\":{\"server\":\"https://x\"}}}",
	          "client.authentication.k8s.io/v1beta1", 0);
	exec_info("{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"spec\":"
	          "{\"interactive\":\"yes\"}}",
	          "client.authentication.k8s.io/v1", -1);
}

Test(kube, exec_info_refuses_what_it_does_not_speak)
{
	exec_info_fails("{\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\"}",
	                "apiVersion \"client.authentication.k8s.io/v1alpha1\" is not one");
	exec_info_fails("{\"apiVersion\":\"v1\\u001b[31m\"}", "apiVersion \"v1?[31m\"");
	exec_info_fails("{\"apiVersion\":1}", "apiVersion is not a string");
	exec_info_fails("[]", "is not a JSON object");
	exec_info_fails("", "is not a JSON object");
}

Test(kube, exec_credential_json)
{
	struct buf out = BUF_INIT;

	cr_assert_eq(kube_exec_credential_json("client.authentication.k8s.io/v1beta1", "a.b.c",
	                                       1767225600, &out),
	             0);
	cr_assert_str_eq(out.data,
	                 "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":"
	                 "\"ExecCredential\",\"status\":{\"token\":\"a.b.c\","
	                 "\"expirationTimestamp\":\"2026-01-01T00:00:00Z\"}}\n");
	buf_free(&out);
	cr_assert_eq(kube_exec_credential_json("client.authentication.k8s.io/v1", "t", 0, &out), 0);
	cr_assert(!strstr(out.data, "expirationTimestamp"), "%s", out.data);
	buf_free(&out);
}

/* ---- gcp/workload-identity ---- */

Test(gcp, executable_failure)
{
	okc_err err = {0};
	struct buf out = BUF_INIT;

	okc_fail(&err, OKC_EXIT_LOGIN, "okta: not logged in \"x\"");
	okc_hint(&err, "run: oktacred login okta");
	cr_assert_eq(gcp_executable_failure(&err, &out), 0);
	cr_assert_str_eq(out.data, "{\"version\":1,\"success\":false,\"code\":\"login_required\","
	                           "\"message\":\"okta: not logged in \\\"x\\\" (run: oktacred "
	                           "login okta)\"}\n");
	buf_reset(&out);
	okc_err_clear(&err);
	okc_fail(&err, 77, "odd");
	gcp_executable_failure(&err, &out);
	cr_assert_not_null(strstr(out.data, "\"code\":\"failed\""));
	buf_free(&out);
}
