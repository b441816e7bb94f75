/* Unit tests: STS answers (success, errors, malformed XML, HTML pages), RoleSessionName
 * sanitising, and choosing the role from role_map. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/awsconfig.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/sts.h"

#define NS "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\""

static const char success[] =
    "<AssumeRoleWithWebIdentityResponse " NS ">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <SubjectFromWebIdentityToken>00u-alice</SubjectFromWebIdentityToken>\n"
    "    <Audience>0oa-test-native</Audience>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com</Arn>\n"
    "      <AssumedRoleId>AROAEXAMPLE:alice@example.com</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <SessionToken>FwoGZXIvYXdzEJr//////////wEaDJ+abc/def=</SessionToken>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>\n"
    "      <Expiration>2026-01-15T12:00:00Z</Expiration>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "    </Credentials>\n"
    "    <Provider>www.okta.example</Provider>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>"
    "</ResponseMetadata>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

static int parse(const char *body, struct sts_credentials *c, struct sts_error *e, okc_err *err)
{
	memset(e, 0, sizeof(*e));
	okc_err_clear(err);
	return sts_parse_response(body, strlen(body), c, e, err);
}

Test(sts_parse, success)
{
	struct sts_credentials c;
	struct sts_error e;
	okc_err err;

	cr_assert_eq(parse(success, &c, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	cr_assert_str_eq(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	cr_assert_str_eq(c.session_token, "FwoGZXIvYXdzEJr//////////wEaDJ+abc/def=");
	cr_assert_eq(c.expiration, (time_t)1768478400);
	cr_assert_str_eq(c.assumed_role_arn,
	                 "arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com");
	sts_credentials_free(&c);
	cr_assert_null(c.secret_access_key);
}

Test(sts_parse, success_without_namespace_fraction_and_offset)
{
	static const char body[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
	    "<AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>"
	    "<SecretAccessKey><![CDATA[secret/key+1]]></SecretAccessKey>"
	    "<SessionToken>tok</SessionToken>"
	    "<Expiration>2026-01-15T13:00:00.123+01:00</Expiration>"
	    "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
	struct sts_credentials c;
	struct sts_error e;
	okc_err err;

	cr_assert_eq(parse(body, &c, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(c.secret_access_key, "secret/key+1");
	cr_assert_eq(c.expiration, (time_t)1768478400);
	cr_assert_null(c.assumed_role_arn);
	sts_credentials_free(&c);
}

Test(sts_parse, error_response)
{
	static const char body[] =
	    "<ErrorResponse " NS ">\n"
	    "  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidIdentityToken</Code>\n"
	    "    <Message>No OpenIDConnect provider found in your account for "
	    "https://example.okta.com</Message>\n  </Error>\n"
	    "  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
	    "</ErrorResponse>\n";
	struct sts_credentials c;
	struct sts_error e;
	okc_err err;

	cr_assert_eq(parse(body, &c, &e, &err), STS_ERROR);
	cr_assert_str_eq(e.type, "Sender");
	cr_assert_str_eq(e.code, "InvalidIdentityToken");
	cr_assert(strstr(e.message, "No OpenIDConnect provider found"));
	cr_assert_str_eq(e.request_id, "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
}

Test(sts_parse, error_codes_are_made_printable)
{
	static const char body[] = "<ErrorResponse><Error><Code>Access&#9;Denied</Code>"
	                           "<Message>no&#10;way \xc3\xa9 \xc2\x9b"
	                           "31m</Message></Error></ErrorResponse>";
	struct sts_credentials c;
	struct sts_error e;
	okc_err err;

	cr_assert_eq(parse(body, &c, &e, &err), STS_ERROR);
	cr_assert_str_eq(e.code, "Access\\tDenied");
	cr_assert_str_eq(e.message, "no\\nway \xc3\xa9 \\xc2\\x9b31m");
}

static void malformed(const char *body, const char *why)
{
	struct sts_credentials c;
	struct sts_error e;
	okc_err err;

	cr_assert_eq(parse(body, &c, &e, &err), -1, "accepted: %s", body);
	cr_assert_eq(err.code, OKC_EXIT_NETWORK);
	cr_assert(strstr(err.msg, why), "%s: %s", body, err.msg);
	cr_assert_null(c.access_key_id);
}

Test(sts_parse, malformed_answers_are_exit_4)
{
	malformed("", "empty");
	malformed("not xml at all", "not well-formed");
	malformed("<AssumeRoleWithWebIdentityResponse><unclosed>", "not well-formed");
	malformed("{\"AccessKeyId\":\"x\"}", "not well-formed");
	malformed("<Other/>", "unexpected root");
	malformed("<AssumeRoleWithWebIdentityResponse/>", "no AssumeRoleWithWebIdentityResult");
	malformed("<ErrorResponse><Error><Message>x</Message></Error></ErrorResponse>",
	          "without an error code");
	malformed("<ErrorResponse></ErrorResponse>", "without one Error");
}

Test(sts_parse, html_pages_are_named)
{
	malformed("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "HTML");
	malformed("  <HTML><head><title>Access denied</title></head></HTML>", "HTML");
}

Test(sts_parse, doctype_and_entities_are_refused)
{
	malformed("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]>"
	          "<ErrorResponse><Error><Code>&lol;</Code></Error></ErrorResponse>",
	          "document type");
	malformed("<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>", "document type");
}

static const char *creds_with(const char *akid, const char *secret, const char *token,
                              const char *exp)
{
	static char body[2048];

	snprintf(body, sizeof(body),
	         "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
	         "<Credentials>%s%s%s%s</Credentials></AssumeRoleWithWebIdentityResult>"
	         "</AssumeRoleWithWebIdentityResponse>",
	         akid, secret, token, exp);
	return body;
}

#define AK  "<AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>"
#define SK  "<SecretAccessKey>s</SecretAccessKey>"
#define ST  "<SessionToken>t</SessionToken>"
#define EXP "<Expiration>2026-01-15T12:00:00Z</Expiration>"

Test(sts_parse, every_credential_is_required_and_checked)
{
	malformed(creds_with("", SK, ST, EXP), "AccessKeyId");
	malformed(creds_with("<AccessKeyId>short</AccessKeyId>", SK, ST, EXP), "AccessKeyId");
	malformed(creds_with("<AccessKeyId>ASIA IOSFODNN7EXAMPLE</AccessKeyId>", SK, ST, EXP),
	          "AccessKeyId");
	malformed(creds_with(AK, "", ST, EXP), "SecretAccessKey");
	malformed(creds_with(AK, "<SecretAccessKey>a b</SecretAccessKey>", ST, EXP),
	          "SecretAccessKey");
	malformed(creds_with(AK, "<SecretAccessKey><b>x</b></SecretAccessKey>", ST, EXP),
	          "SecretAccessKey");
	malformed(creds_with(AK, SK, "", EXP), "SessionToken");
	malformed(creds_with(AK, SK, "<SessionToken>a&#10;b</SessionToken>", EXP), "SessionToken");
	malformed(creds_with(AK, SK, ST, ""), "Expiration");
	malformed(creds_with(AK, SK, ST, "<Expiration>tomorrow</Expiration>"), "Expiration");
	malformed(creds_with(AK, SK, ST, "<Expiration>2026-13-15T12:00:00Z</Expiration>"),
	          "Expiration");
	malformed(creds_with(AK AK, SK, ST, EXP), "twice");
}

Test(sts_parse, foreign_namespace_is_not_sts)
{
	malformed("<ErrorResponse xmlns=\"urn:other\"><Error><Code>X</Code></Error>"
	          "</ErrorResponse>",
	          "unexpected root");
}

Test(sts_parse, oversized_session_token_is_refused)
{
	size_t n = STS_MAX_SESSION_TOKEN + 10;
	char *big = malloc(n + 1), *body;
	size_t len;

	memset(big, 'A', n);
	big[n] = '\0';
	len = strlen(big) + 512;
	body = malloc(len);
	snprintf(body, len,
	         "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
	         "<Credentials>" AK SK "<SessionToken>%s</SessionToken>" EXP
	         "</Credentials></AssumeRoleWithWebIdentityResult>"
	         "</AssumeRoleWithWebIdentityResponse>",
	         big);
	malformed(body, "SessionToken");
	free(big);
	free(body);
}

/* ---- RoleSessionName ---- */

static void session(const char *tmpl, const char *email, const char *sub, const char *pu,
                    const char *want)
{
	char *s = sts_session_name(tmpl, email, sub, pu);

	cr_assert_str_eq(s, want, "template %s", tmpl ? tmpl : "(null)");
	free(s);
}

Test(session_name, templates)
{
	session("{email}", "alice@example.com", "00u-alice", NULL, "alice@example.com");
	session(NULL, "alice@example.com", "00u-alice", NULL, "alice@example.com");
	session("{sub}", "alice@example.com", "00u-alice", NULL, "00u-alice");
	session("okc-{sub}", NULL, "00u-alice", NULL, "okc-00u-alice");
	session("{preferred_username}", NULL, "00u-a", "alice@example.com", "alice@example.com");
	session("{email}", NULL, "00u-alice", NULL, "00u-alice"); /* no email: the sub */
	session("{email}", "", "00u-alice", NULL, "00u-alice");
}

Test(session_name, sanitised_to_what_sts_accepts)
{
	session("{email}", "j\xc3\xb6rg o'neil@example.com", "s", NULL, "j_rg_o_neil@example.com");
	session("{email}", "a+b=c,d.e@f_g-h", "s", NULL, "a+b=c,d.e@f_g-h");
	session("{email}", "tab\there/slash", "s", NULL, "tab_here_slash");
	session("{preferred_username}", "x", "s", NULL, "oktacred"); /* empty */
	session("{sub}", NULL, "a", NULL, "a_");                     /* too short */
	session("{email}", "\xe2\x82\xac", "s", NULL, "__");         /* one char: padded */
}

Test(session_name, cut_to_64)
{
	char email[200];
	char *s;

	memset(email, 'x', 150);
	memcpy(email + 150, "@example.com", 13);
	s = sts_session_name("{email}", email, "s", NULL);
	cr_assert_eq(strlen(s), 64);
	free(s);
}

/* ---- role_map ---- */

static struct role_mapping map[] = {
    {"AWS-Admins", "arn:aws:iam::111111111111:role/Admin"},
    {"AWS-Dev", "arn:aws:iam::111111111111:role/Dev"},
    {"Developers", "arn:aws:iam::111111111111:role/Dev"}, /* same role, second group */
    {"AWS-Prod-Dev", "arn:aws:iam::222222222222:role/Dev"},
};

static struct aws_role_cfg mapped_aws = {
    .roles = map, .nroles = sizeof(map) / sizeof(map[0]), .duration = 3600};

static struct identity_cfg mapped(void)
{
	struct identity_cfg id;

	memset(&id, 0, sizeof(id));
	id.name = "aws-dev";
	id.kind = &identity_aws_assume_role.config;
	id.kind_cfg = &mapped_aws;
	return id;
}

static char *alice[] = {"Everyone", "aws-dev", NULL};
static char *bob[] = {"Everyone", "AWS-Admins", "AWS-Dev", NULL};

Test(role_map, one_group_is_used)
{
	struct identity_cfg id = mapped();
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, alice, 2, NULL, 0, &arn, &only, &err), 0, "%s", err.msg);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Dev");
	cr_assert_eq(only, 1);
}

Test(role_map, two_groups_mapping_one_role_count_once)
{
	struct identity_cfg id = mapped();
	char *groups[] = {"AWS-Dev", "developers"};
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, groups, 2, NULL, 0, &arn, &only, &err), 0);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Dev");
	cr_assert_eq(only, 1);
}

Test(role_map, several_need_role)
{
	struct identity_cfg id = mapped();
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, bob, 3, NULL, 0, &arn, &only, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_USAGE);
	cr_assert(strstr(err.msg, "--role"), "%s", err.msg);
	cr_assert(strstr(err.hint, "AWS-Admins (arn:aws:iam::111111111111:role/Admin)"), "%s",
	          err.hint);
	cr_assert(strstr(err.hint, "AWS-Dev (arn:aws:iam::111111111111:role/Dev)"), "%s", err.hint);
}

Test(role_map, role_picks_by_group_name_or_arn)
{
	struct identity_cfg id = mapped();
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, bob, 3, "aws-admins", 0, &arn, &only, &err), 0);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Admin");
	cr_assert_eq(only, 0);
	cr_assert_eq(aws_role_choose(&id, bob, 3, "arn:aws:iam::111111111111:role/Dev", 0, &arn,
	                             &only, &err),
	             0);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Dev");
	cr_assert_eq(aws_role_choose(&id, bob, 3, "Admin", 0, &arn, &only, &err), 0);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Admin");
}

Test(role_map, role_name_in_two_accounts_is_ambiguous)
{
	struct identity_cfg id = mapped();
	const char *arn;
	okc_err err;

	cr_assert_eq(aws_role_resolve(&id, "Dev", &arn, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_USAGE);
	cr_assert(strstr(err.msg, "more than one role"));
}

Test(role_map, role_the_user_has_no_group_for)
{
	struct identity_cfg id = mapped();
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, alice, 2, "AWS-Admins", 0, &arn, &only, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.hint, "Everyone, aws-dev"), "%s", err.hint);
}

Test(role_map, default_role_among_several)
{
	struct aws_role_cfg a = mapped_aws;
	struct identity_cfg id = mapped();
	const char *arn;
	int only;
	okc_err err;

	id.kind_cfg = &a;
	a.default_role = "aws-admins";
	cr_assert_eq(aws_role_choose(&id, bob, 3, NULL, 0, &arn, &only, &err), 0, "%s", err.msg);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Admin");
	cr_assert_eq(only, 0);
	/* --role still wins */
	cr_assert_eq(aws_role_choose(&id, bob, 3, "AWS-Dev", 0, &arn, &only, &err), 0);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Dev");
	/* one role: that one, whatever default_role says */
	cr_assert_eq(aws_role_choose(&id, alice, 2, NULL, 0, &arn, &only, &err), 0);
	cr_assert_str_eq(arn, "arn:aws:iam::111111111111:role/Dev");
	cr_assert_eq(only, 1);
	/* a default_role the user has no group for: the choice is the user's again */
	a.default_role = "arn:aws:iam::222222222222:role/Dev";
	cr_assert_eq(aws_role_choose(&id, bob, 3, NULL, 0, &arn, &only, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_USAGE);
	cr_assert(strstr(err.msg, "several roles"), "%s", err.msg);
}

Test(role_map, unknown_role_is_a_usage_error)
{
	struct identity_cfg id = mapped();
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, bob, 3, "Nope", 0, &arn, &only, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_USAGE);
	cr_assert(strstr(err.msg, "names no role"));
}

Test(role_map, no_group_lists_the_users_groups)
{
	struct identity_cfg id = mapped();
	char *groups[] = {"Everyone", "Sales"};
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, groups, 2, NULL, 0, &arn, &only, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "(Everyone, Sales)"), "%s", err.msg);
	cr_assert(strstr(err.hint, "role_map: AWS-Admins"), "%s", err.hint);
}

Test(role_map, no_groups_claim)
{
	struct identity_cfg id = mapped();
	const char *arn;
	int only;
	okc_err err;

	cr_assert_eq(aws_role_choose(&id, NULL, 0, NULL, 0, &arn, &only, &err), -1);
	cr_assert(strstr(err.msg, "no groups claim"), "%s", err.msg);
}

Test(role_arn, fixed_role_and_role_option)
{
	struct aws_role_cfg aws = {.role_arn = "arn:aws:iam::123456789012:role/OktaFederated"};
	struct identity_cfg id;
	const char *arn;
	int only;
	okc_err err;

	memset(&id, 0, sizeof(id));
	id.name = "aws-dev";
	id.kind = &identity_aws_assume_role.config;
	id.kind_cfg = &aws;
	cr_assert_eq(aws_role_choose(&id, NULL, 0, NULL, 0, &arn, &only, &err), 0);
	cr_assert_str_eq(arn, aws.role_arn);
	cr_assert_eq(aws_role_choose(&id, NULL, 0, "oktafederated", 0, &arn, &only, &err), 0);
	cr_assert_eq(aws_role_choose(&id, NULL, 0, "Other", 0, &arn, &only, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_USAGE);
}

/* ---- aws-config: the profiles of an identity ---- */

Test(role_map, aws_profiles_one_per_role)
{
	struct identity_cfg id = mapped();
	struct awsconfig ac;
	static const char *const want[][3] = {
	    {"aws-dev", NULL},
	    {"aws-dev-Admin", "Admin"},
	    {"aws-dev-111111111111-Dev", "arn:aws:iam::111111111111:role/Dev"},
	    {"aws-dev-222222222222-Dev", "arn:aws:iam::222222222222:role/Dev"},
	};

	memset(&ac, 0, sizeof(ac));
	identity_aws_assume_role.aws_profiles(&id, &ac);
	cr_assert_eq(ac.n, 4, "the Dev of two groups once, the Dev of another account apart");
	for (size_t i = 0; i < ac.n; i++) {
		cr_assert_str_eq(ac.profiles[i].name, want[i][0]);
		cr_assert_str_eq(ac.profiles[i].identity, "aws-dev");
		if (want[i][1])
			cr_assert_str_eq(ac.profiles[i].role, want[i][1]);
		else
			cr_assert_null(ac.profiles[i].role);
	}
	awsconfig_free(&ac);
}
