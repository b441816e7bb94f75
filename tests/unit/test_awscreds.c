/* Unit tests: the AWS credential cache's JSON, the JSON AWS tools read, the renewal
 * threshold, and the credential server's request judging. */
#include "oktacred/json.h"
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/awscreds.h"
#include "oktacred/config.h"
#include "oktacred/credserver.h"

static struct awscreds sample(void)
{
	struct awscreds c;

	memset(&c, 0, sizeof(c));
	c.access_key_id = "ASIAIOSFODNN7EXAMPLE";
	c.secret_access_key = "wJalrXUtnFEMI/K7MDENG";
	c.session_token = "FwoGZXIvYXdz+/=";
	c.expiration = 1768478400; /* 2026-01-15T12:00:00Z */
	c.obtained_at = 1768474800;
	c.role_arn = "arn:aws:iam::123456789012:role/Dev";
	c.assumed_role_arn = "arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com";
	c.session_name = "alice@example.com";
	c.choice = AWSCREDS_ROLE_ONLY;
	c.provider = "okta-oidc";
	c.org_url = "https://example.okta.com";
	c.client_id = "0oa-test-native";
	c.authorization_server = "default";
	c.sts_endpoint = "https://sts.us-east-1.amazonaws.com/";
	return c;
}

Test(awscreds_json, round_trip)
{
	struct awscreds c = sample(), *back = NULL;
	struct buf b = BUF_INIT;
	okc_err err;

	cr_assert_eq(awscreds_to_json(&c, &b), 0);
	cr_assert(strstr(b.data, "\"expiration\":\"2026-01-15T12:00:00Z\""), "%s", b.data);
	cr_assert_eq(awscreds_from_json(b.data, b.len, &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back->access_key_id, c.access_key_id);
	cr_assert_str_eq(back->secret_access_key, c.secret_access_key);
	cr_assert_str_eq(back->session_token, c.session_token);
	cr_assert_eq(back->expiration, c.expiration);
	cr_assert_eq(back->obtained_at, c.obtained_at);
	cr_assert_str_eq(back->role_arn, c.role_arn);
	cr_assert_str_eq(back->assumed_role_arn, c.assumed_role_arn);
	cr_assert_eq(back->choice, AWSCREDS_ROLE_ONLY);
	cr_assert_str_eq(back->provider, "okta-oidc");
	cr_assert_str_eq(back->sts_endpoint, c.sts_endpoint);
	awscreds_free(back);
	buf_free(&b);
}

/* The file is refused, the message saying why. */
static void corrupt(const char *json, const char *why)
{
	struct awscreds *c = NULL;
	okc_err err;

	cr_assert_eq(awscreds_from_json(json, strlen(json), &c, &err), -1, "accepted %s", json);
	cr_assert_null(c);
	cr_assert(strstr(err.msg, "the AWS credential cache is corrupt: ") == err.msg, "%s",
	          err.msg);
	cr_assert_str_eq(err.msg + strlen("the AWS credential cache is corrupt: "), why, "%s",
	                 json);
}

#define GOOD_FIELDS                                                                                \
	"\"access_key_id\":\"ASIAIOSFODNN7EXAMPLE\",\"secret_access_key\":\"s\","                  \
	"\"session_token\":\"t\",\"role_arn\":\"arn:aws:iam::1:role/x\""

Test(awscreds_json, corrupt_files)
{
	corrupt("", "not a JSON object");
	corrupt("[]", "not a JSON object");
	corrupt("{\"version\":1," GOOD_FIELDS "}", "bad \"expiration\"");
	corrupt("{\"version\":1," GOOD_FIELDS ",\"expiration\":null}", "bad \"expiration\"");
	corrupt("{" GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\"}", "bad \"version\"");
	corrupt("{\"version\":2," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\"}",
	        "bad \"version\"");
	corrupt("{\"version\":\"1\"," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\"}",
	        "bad \"version\"");
	corrupt("{\"version\":1," GOOD_FIELDS ",\"expiration\":12}", "bad \"expiration\"");
	corrupt("{\"version\":1," GOOD_FIELDS ",\"expiration\":\"tomorrow\"}",
	        "bad \"expiration\"");
	corrupt("{\"version\":1,\"access_key_id\":7,\"secret_access_key\":\"s\","
	        "\"session_token\":\"t\",\"role_arn\":\"r\","
	        "\"expiration\":\"2026-01-15T12:00:00Z\"}",
	        "bad \"access_key_id\"");
	corrupt("{\"version\":1,\"access_key_id\":\"A\",\"secret_access_key\":\"a b\","
	        "\"session_token\":\"t\",\"role_arn\":\"r\","
	        "\"expiration\":\"2026-01-15T12:00:00Z\"}",
	        "bad \"secret_access_key\"");
	corrupt("{\"version\":1,\"access_key_id\":\"A\",\"secret_access_key\":\"s\","
	        "\"session_token\":null,\"role_arn\":\"r\","
	        "\"expiration\":\"2026-01-15T12:00:00Z\"}",
	        "bad \"session_token\"");
	corrupt("{\"version\":1,\"access_key_id\":\"A\",\"secret_access_key\":\"s\","
	        "\"session_token\":\"t\",\"expiration\":\"2026-01-15T12:00:00Z\"}",
	        "bad \"role_arn\"");
	corrupt("{\"version\":1," GOOD_FIELDS ",\"issuer\":[],"
	        "\"expiration\":\"2026-01-15T12:00:00Z\"}",
	        "bad \"issuer\"");
	corrupt("{\"version\":1," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\","
	        "\"obtained_at\":1}",
	        "bad \"obtained_at\"");
	corrupt("{\"version\":1," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\","
	        "\"role_choice\":1}",
	        "bad \"role_choice\"");
	corrupt("{\"version\":1," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\"} x",
	        "not a JSON object");
}

Test(awscreds_json, unknown_choice_is_never_reused_without_role)
{
	/* An unknown value, null (as for every string member: absent) or none. */
	static const char *const json[] = {
	    "{\"version\":1," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\","
	    "\"role_choice\":\"future\"}",
	    "{\"version\":1," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\","
	    "\"role_choice\":null}",
	    "{\"version\":1," GOOD_FIELDS ",\"expiration\":\"2026-01-15T12:00:00Z\"}",
	};

	for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
		struct awscreds *c = NULL;
		okc_err err;

		cr_assert_eq(awscreds_from_json(json[i], strlen(json[i]), &c, &err), 0, "%s",
		             err.msg);
		cr_assert_eq(c->choice, AWSCREDS_ROLE_CHOSEN, "%s", json[i]);
		awscreds_free(c);
	}
}

Test(awscreds_json, credential_process_format)
{
	struct awscreds c = sample();
	struct buf b = BUF_INIT;
	struct json *j, *it;

	cr_assert_eq(awscreds_process_json(&c, &b), 0);
	j = json_parse(b.data, b.len);
	cr_assert_not_null(j);
	cr_assert_eq(json_count(j), 6);
	cr_assert_str_eq(json_member(j, "AccountId")->str, "123456789012");
	it = json_member(j, "Version");
	cr_assert(json_is(it, JSON_NUMBER) && it->num == 1);
	cr_assert_str_eq(json_member(j, "AccessKeyId")->str, c.access_key_id);
	cr_assert_str_eq(json_member(j, "SecretAccessKey")->str, c.secret_access_key);
	cr_assert_str_eq(json_member(j, "SessionToken")->str, c.session_token);
	cr_assert_str_eq(json_member(j, "Expiration")->str, "2026-01-15T12:00:00Z");
	json_free(j);
	buf_free(&b);
}

Test(awscreds_json, container_format)
{
	struct awscreds c = sample();
	struct buf b = BUF_INIT;
	struct json *j;

	cr_assert_eq(awscreds_container_json(&c, &b), 0);
	j = json_parse(b.data, b.len);
	cr_assert_eq(json_count(j), 5);
	cr_assert_str_eq(json_member(j, "Token")->str, c.session_token);
	cr_assert_str_eq(json_member(j, "AccountId")->str, "123456789012");
	cr_assert_str_eq(json_member(j, "Expiration")->str, "2026-01-15T12:00:00Z");
	json_free(j);
	buf_free(&b);
}

Test(awscreds_json, account_id)
{
	struct awscreds c = sample();
	struct buf b = BUF_INIT;
	char acct[13];
	struct json *j;

	cr_assert_eq(awscreds_account_id("arn:aws:sts::210987654321:assumed-role/Dev/a", acct), 0);
	cr_assert_str_eq(acct, "210987654321");
	cr_assert_eq(awscreds_account_id("arn:aws-us-gov:iam::000000000001:role/p/R", acct), 0);
	cr_assert_str_eq(acct, "000000000001");
	cr_assert_eq(awscreds_account_id("arn:aws:iam::12345678901:role/R", acct), -1);
	cr_assert_str_eq(acct, "");
	cr_assert_eq(awscreds_account_id("arn:aws:iam::1234567890123:role/R", acct), -1);
	cr_assert_eq(awscreds_account_id("arn:aws:iam:123456789012", acct), -1);
	cr_assert_eq(awscreds_account_id("not an arn", acct), -1);
	cr_assert_eq(awscreds_account_id(NULL, acct), -1);
	/* No assumed role's ARN (an older file): the role's; neither: no AccountId. */
	c.assumed_role_arn = NULL;
	c.role_arn = "arn:aws:iam::999999999999:role/Dev";
	cr_assert_eq(awscreds_process_json(&c, &b), 0);
	j = json_parse(b.data, b.len);
	cr_assert_str_eq(json_member(j, "AccountId")->str, "999999999999");
	json_free(j);
	buf_free(&b);
	c.role_arn = "r";
	cr_assert_eq(awscreds_process_json(&c, &b), 0);
	j = json_parse(b.data, b.len);
	cr_assert_null(json_member(j, "AccountId"));
	json_free(j);
	buf_free(&b);
}

Test(awscreds, renew_before)
{
	cr_assert_eq(awscreds_renew_before(3600), 1200);
	cr_assert_eq(awscreds_renew_before(2400), 1200);
	cr_assert_eq(awscreds_renew_before(900), 450);
}

/* ---- the credential server's judging ---- */

#define PATH  "/0123456789abcdef0123456789abcdef"
#define TOKEN "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"

static int judge(const char *head)
{
	return credserver_judge(head, strlen(head), PATH, TOKEN);
}

Test(credserver, judges_requests)
{
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nHost: x\r\nAuthorization: " TOKEN "\r\n\r\n"),
	             200);
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nauthorization:" TOKEN "  \r\n\r\n"), 200);
	cr_assert_eq(judge("GET " PATH "?x=1 HTTP/1.1\r\nAuthorization: " TOKEN "\r\n\r\n"), 200);
	/* wrong, missing, doubled, or a prefix of the token */
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nAuthorization: nope\r\n\r\n"), 403);
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nHost: x\r\n\r\n"), 403);
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nAuthorization: " TOKEN
	                   "\r\nAuthorization: " TOKEN "\r\n\r\n"),
	             403);
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nAuthorization: c0ffee\r\n\r\n"), 403);
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nAuthorization: Bearer " TOKEN "\r\n\r\n"),
	             403);
	/* other paths, other methods, garbage */
	cr_assert_eq(judge("GET / HTTP/1.1\r\nAuthorization: " TOKEN "\r\n\r\n"), 404);
	cr_assert_eq(judge("GET " PATH "x HTTP/1.1\r\nAuthorization: " TOKEN "\r\n\r\n"), 404);
	cr_assert_eq(judge("POST " PATH " HTTP/1.1\r\nAuthorization: " TOKEN "\r\n\r\n"), 405);
	cr_assert_eq(judge("hello\r\n\r\n"), 400);
	cr_assert_eq(judge("GET " PATH " SMTP\r\n\r\n"), 400);
	cr_assert_eq(judge("GET " PATH " HTTP/1.1\r\nno colon here\r\n\r\n"), 400);
}

/* The head's length counts, not a NUL byte in it (found by tests/fuzz/fuzz_credserver). */
Test(credserver, a_nul_byte_in_the_target_is_another_path)
{
	static const char head[] = "GET " PATH "\0x HTTP/1.1\r\nAuthorization: " TOKEN "\r\n\r\n";

	cr_assert_eq(credserver_judge(head, sizeof(head) - 1, PATH, TOKEN), 404);
}
