/* test_redact.c: what --debug and error excerpts may show of forms, JSON, XML, text and
 * header lines. Redaction fails closed: names that are not on the allow-lists (a secret
 * field a server adds tomorrow) are hidden as well as the known secrets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/buf.h"
#include "oktacred/redact.h"

typedef void (*redact_fn)(struct buf *out, const char *text, size_t len);

static char *redact_n(redact_fn fn, const char *text, size_t len)
{
	struct buf b = BUF_INIT;

	fn(&b, text, len);
	return buf_detach(&b);
}

static void expect_redact(redact_fn fn, const char *in, const char *want)
{
	char *got = redact_n(fn, in, strlen(in));

	cr_expect_str_eq(got, want, "input: %s", in);
	free(got);
}

static char *body_redact(const char *ct, const char *in)
{
	struct buf b = BUF_INIT;

	redact_body(&b, ct, in, strlen(in));
	return buf_detach(&b);
}

static void expect_body(const char *ct, const char *in, const char *want)
{
	char *got = body_redact(ct, in);

	cr_expect_str_eq(got, want, "content type %s, input: %s", ct ? ct : "(none)", in);
	free(got);
}

/* Redacts every prefix of doc (each a new, exactly sized heap block, so that a read
 * past len is caught by sanitizers) and checks that no part of secret shows. */
static void expect_prefixes_hide(redact_fn fn, const char *doc, const char *secret)
{
	size_t n, len = strlen(doc);
	char probe[4];

	memcpy(probe, secret, 3);
	probe[3] = '\0';
	for (n = 0; n <= len; n++) {
		char *copy = malloc(n ? n : 1);
		char *got;

		memcpy(copy, doc, n);
		got = redact_n(fn, copy, n);
		cr_expect_null(strstr(got, probe), "prefix %zu of %s leaks: %s", n, doc, got);
		free(got);
		free(copy);
	}
}

/* ---- form ---- */

Test(redact_form, every_secret_key)
{
	static const char *const keys[] = {
	    "access_token",  "refresh_token",    "id_token", "device_code",      "code",
	    "user_code",     "client_secret",    "token",    "client_assertion", "password",
	    "subject_token", "WebIdentityToken", "assertion"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char in[128], want[128];

		snprintf(in, sizeof(in), "grant_type=x&%s=SECRETVALUE&scope=openid", keys[i]);
		snprintf(want, sizeof(want), "grant_type=x&%s=<redacted>&scope=openid", keys[i]);
		expect_redact(redact_form, in, want);
	}
}

Test(redact_form, shows_keys_only_unless_allowed)
{
	/* Fails closed: names nobody listed as secret are hidden too. */
	expect_redact(redact_form, "new_secret_field=abc&a=1&Foo=bar",
	              "new_secret_field=<redacted>&a=<redacted>&Foo=<redacted>");
	expect_redact(
	    redact_form,
	    "grant_type=refresh_token&refresh_token=abc.def&client_id=0oa1&scope=openid",
	    "grant_type=refresh_token&refresh_token=<redacted>&client_id=0oa1&scope=openid");
	expect_redact(redact_form,
	              "client_id=0oa1&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_"
	              "code&device_code=XYZ",
	              "client_id=0oa1&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_"
	              "code&device_code=<redacted>");
	expect_redact(redact_form,
	              "Action=AssumeRoleWithWebIdentity&RoleArn=arn&WebIdentityToken=eyJ.x.y"
	              "&RoleSessionName=me&DurationSeconds=3600&Version=2011-06-15",
	              "Action=AssumeRoleWithWebIdentity&RoleArn=arn&WebIdentityToken=<redacted>"
	              "&RoleSessionName=me&DurationSeconds=3600&Version=2011-06-15");
	expect_redact(redact_form,
	              "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3A"
	              "jwt-bearer&client_assertion=eyJ",
	              "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3A"
	              "jwt-bearer&client_assertion=<redacted>");
	expect_redact(redact_form, "token=a&token_type_hint=refresh_token",
	              "token=<redacted>&token_type_hint=refresh_token");
}

Test(redact_form, allow_list_is_exact)
{
	/* An allowed name once decoded; not a cased, padded or prefixed variant of one. */
	expect_redact(redact_form, "grant%5Ftype=x", "grant%5Ftype=x");
	expect_redact(
	    redact_form, "GRANT_TYPE=x&scope+=y&xscope=z&scopes=w",
	    "GRANT_TYPE=<redacted>&scope+=<redacted>&xscope=<redacted>&scopes=<redacted>");
}

Test(redact_form, positions_empty_values_and_ampersands)
{
	expect_redact(redact_form, "code=abc", "code=<redacted>");
	expect_redact(redact_form, "code=abc&state=s", "code=<redacted>&state=s");
	expect_redact(redact_form, "token=a&token=b", "token=<redacted>&token=<redacted>");
	expect_redact(redact_form, "", "");
	expect_redact(redact_form, "code=", "code=");
	expect_redact(redact_form, "code=&a=1", "code=&a=<redacted>");
	expect_redact(redact_form, "&", "&");
	expect_redact(redact_form, "&&code=x&&", "&&code=<redacted>&&");
	expect_redact(redact_form, "code==x=y", "code=<redacted>");
	expect_redact(redact_form, "=x&scope", "=<redacted>&scope");
	/* A lone word may be a value on its own. */
	expect_redact(redact_form, "eyJhbGciOi", "<redacted>");
}

Test(redact_form, bounded_by_len)
{
	static const char raw[] = {'c', 'o', 'd', 'e', '=', 'S', 'E', 'C'}; /* no NUL */
	char *got = redact_n(redact_form, raw, sizeof(raw));

	cr_expect_str_eq(got, "code=<redacted>");
	free(got);
	got = redact_n(redact_form, "scope=1&code=SECRET", 9);
	cr_expect_str_eq(got, "scope=1&<redacted>");
	free(got);
	expect_prefixes_hide(redact_form, "scope=1&refresh_token=S3CR3T&y=2", "S3CR3T");
}

/* ---- JSON ---- */

Test(redact_json, token_response)
{
	expect_redact(
	    redact_json,
	    "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"eyJ.a.b\","
	    "\"scope\":\"openid offline_access\",\"refresh_token\":\"rt\",\"id_token\":"
	    "\"eyJ.c.d\"}",
	    "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"<redacted>\","
	    "\"scope\":\"openid offline_access\",\"refresh_token\":\"<redacted>\","
	    "\"id_token\":\"<redacted>\"}");
}

Test(redact_json, unknown_keys_are_hidden)
{
	/* The old deny-list let these through. */
	expect_redact(redact_json, "{\"token_type\":\"Bearer\",\"new_secret_field\":\"s3cr3t\"}",
	              "{\"token_type\":\"Bearer\",\"new_secret_field\":\"<redacted>\"}");
	expect_redact(
	    redact_json, "{\"kind\":\"code\",\"n\":42,\"accessToken\":\"x\"}",
	    "{\"kind\":\"<redacted>\",\"n\":\"<redacted>\",\"accessToken\":\"<redacted>\"}");
	expect_redact(redact_json, "[\"top\",1]", "[\"<redacted>\",\"<redacted>\"]");
	expect_redact(redact_json, "\"just a string\"", "\"<redacted>\"");
}

Test(redact_json, nested_keys_judged_the_same_way)
{
	expect_redact(
	    redact_json,
	    "[{\"a\": {\"b\": [ {\"refresh_token\" : \"x\" } ]}}, {\"client_secret\":\n\t\"y\"}]",
	    "[{\"a\":{\"b\":[{\"refresh_token\":\"<redacted>\"}]}},"
	    "{\"client_secret\":\"<redacted>\"}]");
	/* Under an allowed key, a nested object's keys are still judged on their own. */
	expect_redact(
	    redact_json,
	    "{\"error\":{\"scope\":\"s\",\"nested_secret\":\"x\",\"deep\":{\"k\":[\"v\"]}}}",
	    "{\"error\":{\"scope\":\"s\",\"nested_secret\":\"<redacted>\","
	    "\"deep\":{\"k\":[\"<redacted>\"]}}}");
	/* The elements of an array are judged by the array's key. */
	expect_redact(redact_json,
	              "{\"grant_types_supported\":[\"refresh_token\",\"urn:x\"],"
	              "\"token_endpoint\":\"https://x/token\",\"secrets\":[\"a\",2]}",
	              "{\"grant_types_supported\":[\"refresh_token\",\"urn:x\"],"
	              "\"token_endpoint\":\"https://x/token\",\"secrets\":[\"<redacted>\","
	              "\"<redacted>\"]}");
	/* The suffix alone is no allowed key. */
	expect_redact(redact_json, "{\"_endpoint\":\"x\",\"_supported\":1}",
	              "{\"_endpoint\":\"<redacted>\",\"_supported\":\"<redacted>\"}");
}

Test(redact_json, device_answer_errors_and_aws)
{
	expect_redact(redact_json,
	              "{\"device_code\":\"dc\",\"user_code\":\"ABCD-EFGH\",\"verification_uri\":"
	              "\"https://x/activate\",\"verification_uri_complete\":\"https://x/activate?"
	              "user_code=ABCD-EFGH\",\"expires_in\":600,\"interval\":5}",
	              "{\"device_code\":\"<redacted>\",\"user_code\":\"<redacted>\","
	              "\"verification_uri\":\"https://x/activate\",\"verification_uri_complete\":"
	              "\"<redacted>\",\"expires_in\":600,\"interval\":5}");
	expect_redact(redact_json,
	              "{\"error\":\"invalid_grant\",\"error_description\":\"The refresh token is "
	              "invalid or expired.\"}",
	              "{\"error\":\"invalid_grant\",\"error_description\":\"The refresh token is "
	              "invalid or expired.\"}");
	expect_redact(redact_json,
	              "{\"errorCode\":\"E0000011\",\"errorSummary\":\"Invalid token provided\","
	              "\"errorLink\":\"E0000011\",\"errorId\":\"oae1\",\"errorCauses\":[]}",
	              "{\"errorCode\":\"E0000011\",\"errorSummary\":\"Invalid token provided\","
	              "\"errorLink\":\"E0000011\",\"errorId\":\"oae1\",\"errorCauses\":[]}");
	expect_redact(redact_json,
	              "{\"Version\":1,\"AccessKeyId\":\"AKIA\",\"SecretAccessKey\":\"sk\","
	              "\"SessionToken\":\"st\",\"Token\":\"t\",\"Expiration\":\"2026\"}",
	              "{\"Version\":1,\"AccessKeyId\":\"AKIA\",\"SecretAccessKey\":\"<redacted>\","
	              "\"SessionToken\":\"<redacted>\",\"Token\":\"<redacted>\",\"Expiration\":"
	              "\"2026\"}");
}

/* A value shown never repeats one hidden: the user code is hidden wherever it appears. */
Test(redact_json, hidden_values_hidden_wherever_they_appear)
{
	expect_redact(redact_json,
	              "{\"user_code\":\"WDJBMJHT\",\"verification_uri\":\"https://x/activate?"
	              "user_code=WDJBMJHT\",\"interval\":5}",
	              "{\"user_code\":\"<redacted>\",\"verification_uri\":\"https://x/activate?"
	              "user_code=<redacted>\",\"interval\":5}");
	expect_redact(redact_json,
	              "{\"error\":\"invalid_grant\",\"error_description\":\"token rt-0123456789 "
	              "revoked\",\"hint\":[\"rt-0123456789\"]}",
	              "{\"error\":\"invalid_grant\",\"error_description\":\"token <redacted> "
	              "revoked\",\"hint\":[\"<redacted>\"]}");
	/* Shorter than 8 bytes: too common to look for. */
	expect_redact(redact_json, "{\"error\":\"bad x1\",\"x\":\"x1\"}",
	              "{\"error\":\"bad x1\",\"x\":\"<redacted>\"}");
}

Test(redact_json, allow_list_is_exact)
{
	expect_redact(redact_json, "{\"TOKEN_TYPE\":\"x\",\"scope \":\"y\",\"scopes\":\"z\"}",
	              "{\"TOKEN_TYPE\":\"<redacted>\",\"scope \":\"<redacted>\",\"scopes\":"
	              "\"<redacted>\"}");
	/* An escaped key is judged once decoded. */
	expect_redact(redact_json, "{\"token\\u005ftype\":\"Bearer\",\"access\\u005ftoken\":\"a\"}",
	              "{\"token_type\":\"Bearer\",\"access_token\":\"<redacted>\"}");
}

Test(redact_json, literals_and_escapes)
{
	/* true, false, null and "" hide nothing. */
	expect_redact(redact_json, "{\"refresh_token\":null,\"x\":true,\"y\":false,\"code\":\"\"}",
	              "{\"refresh_token\":null,\"x\":true,\"y\":false,\"code\":\"\"}");
	expect_redact(redact_json, "{\"token\":{\"a\":\"b\",\"c\":[1,\"}\"]},\"expires_in\":2.5}",
	              "{\"token\":{\"a\":\"<redacted>\",\"c\":[\"<redacted>\",\"<redacted>\"]},"
	              "\"expires_in\":2.5}");
	/* What is shown is escaped as JSON again. */
	expect_redact(redact_json, "{\"error_description\":\"a \\\"q\\\" \\\\ \\n\\u001b\\u00e9\"}",
	              "{\"error_description\":\"a \\\"q\\\" \\\\ \\n\\u001b\xc3\xa9\"}");
	/* A number beyond a double's range is refused by the parser, like any invalid JSON. */
	expect_redact(redact_json, "{\"expires_in\":1e999}", "<20 bytes of invalid JSON>");
	expect_redact(redact_json, " {} ", "{}");
}

Test(redact_json, invalid_json_shows_only_its_length)
{
	expect_redact(redact_json, "{\"access_token\":\"abc", "<20 bytes of invalid JSON>");
	expect_redact(redact_json, "{\"token_type\":\"Bearer\"} trailing",
	              "<32 bytes of invalid JSON>");
	expect_redact(redact_json, "{\"token\": abc}", "<14 bytes of invalid JSON>");
	expect_redact(redact_json, "{\"scope\":\"a\\u0000b\"}", "<20 bytes of invalid JSON>");
	expect_redact(redact_json, "", "<0 bytes of invalid JSON>");
	expect_redact(redact_json, "}}]]\"", "<5 bytes of invalid JSON>");
	expect_prefixes_hide(redact_json,
	                     "{\"a\":[1,{\"b\":\"c\"}],\"refresh_token\": \"S3CR3T\\\"x\",\"d\":2}",
	                     "S3CR3T");
}

Test(redact_json, bounded_by_len)
{
	static const char raw[] = {'{', '"', 's', 'c', 'o', 'p', 'e', '"', ':', '1', '}'};
	char *got = redact_n(redact_json, raw, sizeof(raw));

	cr_expect_str_eq(got, "{\"scope\":1}");
	free(got);
}

Test(redact_json, garbage_never_crashes)
{
	static const char alphabet[] = "{}[]\":,\\ u0a_tokenTOKEN\n<>/='&1e";
	unsigned int seed = 12345;
	int round;

	for (round = 0; round < 2000; round++) {
		size_t n = (size_t)(round % 64), i;
		char *in = malloc(n ? n : 1);
		char *got;

		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		got = redact_n(redact_json, in, n);
		free(got);
		got = redact_n(redact_form, in, n);
		free(got);
		got = redact_n(redact_header, in, n);
		free(got);
		{
			struct buf b = BUF_INIT;

			redact_body(&b, "text/xml", in, n);
			buf_free(&b);
			redact_body(&b, NULL, in, n);
			buf_free(&b);
			redact_excerpt(&b, "text/plain", in, n, "code=0123456789", 15, NULL);
			buf_free(&b);
		}
		free(in);
	}
}

/* ---- headers ---- */

Test(redact_header, credentials_and_unknown_headers_hidden)
{
	expect_redact(redact_header, "Authorization: Bearer xxx", "Authorization: <redacted>");
	expect_redact(redact_header, "authorization: SSWS 00abc", "authorization: <redacted>");
	expect_redact(redact_header, "AUTHORIZATION:Basic Y2xp", "AUTHORIZATION: <redacted>");
	expect_redact(redact_header,
	              "Proxy-Authorization: Basic eA==", "Proxy-Authorization: <redacted>");
	expect_redact(redact_header, "cookie: sid=1; other=2", "cookie: <redacted>");
	expect_redact(redact_header, "Set-Cookie: sid=abc; HttpOnly; Secure",
	              "Set-Cookie: <redacted>");
	expect_redact(redact_header, "Authorization : x", "Authorization : <redacted>");
	expect_redact(redact_header, "Authorization: Bearer x\r\n",
	              "Authorization: <redacted>\r\n");
	expect_redact(redact_header, "Authorization:", "Authorization: <redacted>");
	/* Fails closed: a header nobody listed. */
	expect_redact(redact_header, "X-New-Session-Secret: abc",
	              "X-New-Session-Secret: <redacted>");
	expect_redact(redact_header, "X-Amz-Security-Token: FwoG",
	              "X-Amz-Security-Token: <redacted>");
	expect_redact(redact_header, "WWW-Authenticate: Bearer error=\"invalid_token\"",
	              "WWW-Authenticate: <redacted>");
	expect_redact(redact_header, "Content-Type-X: a", "Content-Type-X: <redacted>");
}

Test(redact_header, harmless_headers_kept)
{
	expect_redact(redact_header, "Content-Type: application/json",
	              "Content-Type: application/json");
	expect_redact(redact_header, "content-length: 42\r\n", "content-length: 42\r\n");
	expect_redact(redact_header, "Retry-After: 5", "Retry-After: 5");
	expect_redact(redact_header, "X-Okta-Request-Id: abc", "X-Okta-Request-Id: abc");
	expect_redact(redact_header, "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\n");
	expect_redact(redact_header, "HTTP/2 401", "HTTP/2 401");
	expect_redact(redact_header, "", "");
	expect_redact(redact_header, "\r\n", "\r\n");
}

Test(redact_header, location_query_as_a_form)
{
	expect_redact(redact_header, "Location: https://x/cb?code=abc&state=s1#frag",
	              "Location: https://x/cb?code=<redacted>&state=s1#<redacted>");
	expect_redact(redact_header, "location:/login\r\n", "location:/login\r\n");
}

Test(redact_header, lines_that_are_no_header)
{
	/* A folded continuation line may belong to a secret header. */
	expect_redact(redact_header, " continued-token", "<redacted>");
	expect_redact(redact_header, "\tcontinued\r\n", "<redacted>\r\n");
	expect_redact(redact_header, "eyJhbGciOiJub25lIn0\r\n", "<redacted>\r\n");
}

Test(redact_header, bounded_by_len)
{
	char *got = redact_n(redact_header, "Cookie: a=b", 6);

	cr_expect_str_eq(got, "<redacted>");
	free(got);
}

/* ---- bodies ---- */

static const char sts_answer[] =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>\n"
    "      <SessionToken>FwoGZXIvYXdzEJr//////////wEaD</SessionToken>\n"
    "      <NewSecret>x</NewSecret>\n"
    "    </Credentials>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

Test(redact_body, xml_shows_only_its_length)
{
	char want[64];

	snprintf(want, sizeof(want), "<%zu bytes of XML>", strlen(sts_answer));
	expect_body("text/xml", sts_answer, want);
	expect_body("application/xml; charset=utf-8", "<a>s</a>", "<8 bytes of XML>");
	expect_body("application/soap+xml", "<x/>", "<4 bytes of XML>");
}

Test(redact_body, text_shows_only_its_length)
{
	expect_body("text/html", "<title>Directory listing for /?code=abc</title>",
	            "<47 bytes of text/html>");
	expect_body("text/plain; charset=utf-8", "access_token: abc def",
	            "<21 bytes of text/plain>");
	expect_body(NULL, "<SessionToken>x</SessionToken>", "<30 bytes>");
	expect_body(NULL, "code=x&a=b", "<10 bytes>");
	expect_body("te\x1bxt/p", "abc", "<3 bytes of te>");
	expect_body("\x1b", "abc", "<3 bytes>");
}

Test(redact_body, dispatch)
{
	expect_body("application/json; charset=UTF-8", "{\"code\":\"x\"}",
	            "{\"code\":\"<redacted>\"}");
	expect_body("application/problem+json", "{\"token\":\"x\"}", "{\"token\":\"<redacted>\"}");
	expect_body("application/x-www-form-urlencoded", "code=x&scope=s",
	            "code=<redacted>&scope=s");
	expect_body(NULL, "  [{\"code\":\"x\"}]", "[{\"code\":\"<redacted>\"}]");
	expect_body("text/plain", "{\"password\":\"x\"}", "{\"password\":\"<redacted>\"}");
	expect_body("application/json", "{\"password\":\"x\"", "<15 bytes of invalid JSON>");
	expect_body(NULL, "", "");
	expect_body("text/html", "", "");
}

/* ---- echoes, answers and excerpts ---- */

static void expect_echoes(const char *text, const char *form, const char *extra, const char *want)
{
	struct buf out = BUF_INIT;

	redact_echoes(&out, text, strlen(text), form, form ? strlen(form) : 0, extra);
	cr_assert_str_eq(out.data, want);
	buf_free(&out);
}

Test(redact_echoes, secrets_the_request_carried)
{
	const char *form = "grant_type=refresh_token&refresh_token=rt-0123456789"
	                   "&client_id=0oa-client-id&scope=openid+offline_access";

	expect_echoes("refresh token rt-0123456789 is revoked", form, NULL,
	              "refresh token <redacted> is revoked");
	expect_echoes("rt-0123456789rt-0123456789", form, NULL, "<redacted><redacted>");
	/* What is shown of the request stays: the client id, the scope, the grant type. */
	expect_echoes("client 0oa-client-id asked for openid offline_access", form, NULL,
	              "client 0oa-client-id asked for openid offline_access");
	/* A prefix of the secret is not the secret. */
	expect_echoes("rt-01234567", form, NULL, "rt-01234567");
	/* Fails closed: the value of a field nobody listed is looked for too. */
	expect_echoes("bad new-secret-value", "new_field=new-secret-value", NULL, "bad <redacted>");
}

Test(redact_echoes, decoded_values_basic_password_and_short_ones)
{
	expect_echoes("code a b/c+d=e!! expired", "device_code=a+b%2Fc%2Bd%3De!!", NULL,
	              "code <redacted> expired");
	expect_echoes("secret s3cr3t-pass-word wrong", "grant_type=client_credentials",
	              "s3cr3t-pass-word", "secret <redacted> wrong");
	/* Under 8 bytes a value would match ordinary words: not looked for. */
	expect_echoes("code abc is bad", "device_code=abc", "short", "code abc is bad");
	expect_echoes("nothing sent", NULL, NULL, "nothing sent");
	expect_echoes("", "refresh_token=rt-0123456789", NULL, "");
}

static char *answer(int excerpt, const char *ct, const char *text, const char *form)
{
	struct buf b = BUF_INIT;

	if (excerpt)
		redact_excerpt(&b, ct, text, strlen(text), form, strlen(form), NULL);
	else
		redact_answer(&b, ct, text, strlen(text), form, strlen(form), NULL);
	return buf_detach(&b);
}

Test(redact_answer, error_description_is_scanned_for_echoes)
{
	const char *form = "grant_type=refresh_token&refresh_token=rt-0123456789";
	char *got = answer(0, "application/json",
	                   "{\"error\":\"invalid_grant\",\"error_description\":\"rt-0123456789 "
	                   "is revoked\",\"other\":\"rt-0123456789\"}",
	                   form);

	cr_expect_str_eq(got, "{\"error\":\"invalid_grant\",\"error_description\":\"<redacted> is "
	                      "revoked\",\"other\":\"<redacted>\"}");
	free(got);
	got = answer(0, "text/html", "<p>rt-0123456789</p>", form);
	cr_expect_str_eq(got, "<20 bytes of text/html>");
	free(got);
}

Test(redact_excerpt, text_kept_tokens_and_echoes_hidden)
{
	const char *form = "grant_type=refresh_token&refresh_token=rt-012345";
	char *got;

	got = answer(1, "text/html; charset=utf-8",
	             "<!DOCTYPE html>\n<title>Service Unavailable</title>", form);
	cr_expect_str_eq(got, "<!DOCTYPE html>\n<title>Service Unavailable</title>");
	free(got);
	/* A token-shaped word goes whatever name it stands under, and with its name. */
	got = answer(
	    1, "text/html",
	    "<html>refresh_token=planted-refresh-BBBBBBBB access_token: "
	    "planted-access-AAAAAAAAAAAA new: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln</html>",
	    form);
	cr_expect_str_eq(got, "<html><redacted> access_token: <redacted> new: <redacted></html>");
	free(got);
	got = answer(1, "text/plain", "access_token=planted-A&refresh_token=planted-B", form);
	cr_expect_str_eq(got, "<redacted>");
	free(got);
	/* A short secret the request carried is hidden by the echo scan. */
	got = answer(1, "text/plain", "token rt-012345 refused", form);
	cr_expect_str_eq(got, "token <redacted> refused");
	free(got);
	/* JSON that parses is shown as redact_json shows it; invalid JSON as text. */
	got = answer(1, "application/json",
	             "{\"errorCode\":\"E0000001\",\"errorSummary\":\"cannot use rt-012345\","
	             "\"hint\":\"x\"}",
	             form);
	cr_expect_str_eq(got, "{\"errorCode\":\"E0000001\",\"errorSummary\":\"cannot use "
	                      "<redacted>\",\"hint\":\"<redacted>\"}");
	free(got);
	got = answer(1, "application/json",
	             "{\"error\":\"invalid_request\",\"error_description\":\"bad rt-012345\"} x",
	             form);
	cr_expect_str_eq(
	    got, "{\"error\":\"invalid_request\",\"error_description\":\"bad <redacted>\"} x");
	free(got);
	got = answer(1, "application/json", "{\"access_token\":\"AAAAAAAAAAAAAAAAAAAAAAAA\"", form);
	cr_expect_str_eq(got, "{\"access_token\":\"<redacted>\"");
	free(got);
}

/* The excerpt is cut after redaction: a token is hidden whole, never shown in part. */
Test(redact_excerpt, cut_after_redaction)
{
	const char *page = "<p>Location: /cb?code=S3CR3TS3CR3TS3CR3TS3CR3T&s=1</p>";
	char *got = answer(1, "text/html", page, "");

	cr_expect_str_eq(got, "<p>Location: /cb?<redacted></p>");
	free(got);
}
