/* test_log.c: log levels and prefixes, and the redaction of secrets in form, JSON, XML
 * bodies and header lines, including malformed and truncated input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/log.h"

typedef int (*redact_fn)(struct buf *out, const char *text, size_t len);

static char *redact_n(redact_fn fn, const char *text, size_t len)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(fn(&b, text, len), 0);
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

	cr_assert_eq(log_redact_body(&b, ct, in, strlen(in)), 0);
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

/* ---- stderr capture ---- */

static FILE *cap_file;
static int cap_saved = -1;

static void capture_start(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	cr_assert_not_null(cap_file);
	cap_saved = dup(STDERR_FILENO);
	dup2(fileno(cap_file), STDERR_FILENO);
}

static char *capture_end(void)
{
	struct buf b = BUF_INIT;
	char chunk[512];
	size_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	rewind(cap_file);
	while ((n = fread(chunk, 1, sizeof(chunk), cap_file)) > 0)
		buf_append(&b, chunk, n);
	fclose(cap_file);
	return buf_detach(&b);
}

/* ---- levels ---- */

Test(log, normal_level_prefixes)
{
	char *out;

	log_init(LOG_NORMAL, 0);
	capture_start();
	log_error("config: %s", "broken");
	log_warn("careful");
	log_info("hello %d", 42);
	log_verbose("not shown");
	log_debug("not shown either");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: config: broken\n"
	                      "oktacred: warning: careful\n"
	                      "oktacred: hello 42\n");
	cr_expect_eq(log_get_level(), LOG_NORMAL);
	free(out);
}

Test(log, debug_level_shows_everything)
{
	char *out;

	log_init(LOG_DEBUG, 0);
	capture_start();
	log_verbose("v");
	log_debug("d");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: v\noktacred: debug: d\n");
	free(out);
}

Test(log, verbose_level_hides_debug)
{
	char *out;

	log_init(LOG_VERBOSE, 0);
	capture_start();
	log_verbose("v");
	log_debug("d");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: v\n");
	free(out);
}

Test(log, quiet_keeps_errors_only)
{
	char *out;

	log_init(LOG_QUIET, 0);
	capture_start();
	log_error("e");
	log_warn("w");
	log_info("i");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: e\n");
	free(out);
}

Test(log, no_colour_when_not_a_terminal_or_no_color)
{
	capture_start(); /* stderr is a file now */
	log_init(LOG_NORMAL, 1);
	cr_expect_eq(log_color(), 0);
	free(capture_end());
	setenv("NO_COLOR", "1", 1);
	log_init(LOG_NORMAL, 1);
	cr_expect_eq(log_color(), 0);
	log_init(LOG_NORMAL, 0);
	cr_expect_eq(log_color(), 0);
}

/* ---- form ---- */

Test(redact_form, every_secret_key)
{
	static const char *const keys[] = {
	    "access_token", "refresh_token", "id_token",         "device_code",
	    "code",         "user_code",     "client_secret",    "client_assertion",
	    "token",        "password",      "WebIdentityToken", "subject_token",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char in[128], want[128];

		snprintf(in, sizeof(in), "a=1&%s=SECRETVALUE&b=2", keys[i]);
		snprintf(want, sizeof(want), "a=1&%s=<redacted>&b=2", keys[i]);
		expect_redact(log_redact_form, in, want);
	}
}

Test(redact_form, typical_bodies)
{
	expect_redact(
	    log_redact_form,
	    "grant_type=refresh_token&refresh_token=abc.def&client_id=0oa1&scope=openid",
	    "grant_type=refresh_token&refresh_token=<redacted>&client_id=0oa1&scope=openid");
	expect_redact(log_redact_form,
	              "client_id=0oa1&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_"
	              "code&device_code=XYZ",
	              "client_id=0oa1&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_"
	              "code&device_code=<redacted>");
	expect_redact(log_redact_form,
	              "Action=AssumeRoleWithWebIdentity&RoleArn=arn&WebIdentityToken=eyJ.x.y",
	              "Action=AssumeRoleWithWebIdentity&RoleArn=arn&WebIdentityToken=<redacted>");
	expect_redact(log_redact_form,
	              "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3A"
	              "jwt-bearer&client_assertion=eyJ",
	              "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3A"
	              "jwt-bearer&client_assertion=<redacted>");
}

Test(redact_form, positions)
{
	expect_redact(log_redact_form, "code=abc", "code=<redacted>");
	expect_redact(log_redact_form, "code=abc&state=s", "code=<redacted>&state=s");
	expect_redact(log_redact_form, "state=s&code=abc", "state=s&code=<redacted>");
	expect_redact(log_redact_form, "token=a&token=b", "token=<redacted>&token=<redacted>");
}

Test(redact_form, encoded_and_cased_keys)
{
	expect_redact(log_redact_form, "access%5Ftoken=abc", "access%5Ftoken=<redacted>");
	expect_redact(log_redact_form, "%63%6f%64%65=abc", "%63%6f%64%65=<redacted>");
	expect_redact(log_redact_form, "Web%49dentityToken=abc", "Web%49dentityToken=<redacted>");
	expect_redact(log_redact_form, "ACCESS_TOKEN=abc", "ACCESS_TOKEN=<redacted>");
	/* Not secret names: a prefix, a suffix, a decoded space, a broken escape. */
	expect_redact(log_redact_form, "codes=abc&xcode=d&code+=e&code%=f",
	              "codes=abc&xcode=d&code+=e&code%=f");
	expect_redact(log_redact_form, "token_type_hint=refresh_token",
	              "token_type_hint=refresh_token");
}

Test(redact_form, empty_values_and_ampersands)
{
	expect_redact(log_redact_form, "", "");
	expect_redact(log_redact_form, "code=", "code=");
	expect_redact(log_redact_form, "code=&a=1", "code=&a=1");
	expect_redact(log_redact_form, "code", "code");
	expect_redact(log_redact_form, "&", "&");
	expect_redact(log_redact_form, "&&code=x&&", "&&code=<redacted>&&");
	expect_redact(log_redact_form, "code==x=y", "code=<redacted>");
	expect_redact(log_redact_form, "=x&a", "=x&a");
}

Test(redact_form, bounded_by_len)
{
	static const char raw[] = {'c', 'o', 'd', 'e', '=', 'S', 'E', 'C'}; /* no NUL */
	char *got = redact_n(log_redact_form, raw, sizeof(raw));

	cr_expect_str_eq(got, "code=<redacted>");
	free(got);
	got = redact_n(log_redact_form, "a=1&code=SECRET", 7);
	cr_expect_str_eq(got, "a=1&cod");
	free(got);
	expect_prefixes_hide(log_redact_form, "x=1&refresh_token=S3CR3T&y=2", "S3CR3T");
}

/* ---- JSON ---- */

Test(redact_json, token_response)
{
	expect_redact(
	    log_redact_json,
	    "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"eyJ.a.b\","
	    "\"scope\":\"openid offline_access\",\"refresh_token\":\"rt\",\"id_token\":"
	    "\"eyJ.c.d\"}",
	    "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"<redacted>\","
	    "\"scope\":\"openid offline_access\",\"refresh_token\":\"<redacted>\","
	    "\"id_token\":\"<redacted>\"}");
}

Test(redact_json, device_answer_and_aws)
{
	expect_redact(log_redact_json,
	              "{\"device_code\":\"dc\",\"user_code\":\"ABCD-EFGH\",\"verification_uri\":"
	              "\"https://x/activate\",\"interval\":5}",
	              "{\"device_code\":\"<redacted>\",\"user_code\":\"<redacted>\","
	              "\"verification_uri\":\"https://x/activate\",\"interval\":5}");
	expect_redact(log_redact_json,
	              "{\"Version\":1,\"AccessKeyId\":\"AKIA\",\"SecretAccessKey\":\"sk\","
	              "\"SessionToken\":\"st\",\"Token\":\"t\",\"Expiration\":\"2026\"}",
	              "{\"Version\":1,\"AccessKeyId\":\"AKIA\",\"SecretAccessKey\":\"<redacted>\","
	              "\"SessionToken\":\"<redacted>\",\"Token\":\"<redacted>\",\"Expiration\":"
	              "\"2026\"}");
}

Test(redact_json, nested_and_whitespace)
{
	expect_redact(
	    log_redact_json,
	    "[{\"a\": {\"b\": [ {\"refresh_token\" : \"x\" } ]}}, {\"client_secret\":\n\t\"y\"}]",
	    "[{\"a\": {\"b\": [ {\"refresh_token\" : \"<redacted>\" } ]}}, "
	    "{\"client_secret\":\n\t\"<redacted>\"}]");
}

Test(redact_json, escapes)
{
	/* Escaped quotes inside a secret value do not end it early. */
	expect_redact(log_redact_json, "{\"id_token\":\"ab\\\"c,\\\"d\\\":\\\"e\",\"x\":1}",
	              "{\"id_token\":\"<redacted>\",\"x\":1}");
	expect_redact(log_redact_json, "{\"password\":\"a\\\\\",\"x\":\"b\"}",
	              "{\"password\":\"<redacted>\",\"x\":\"b\"}");
	/* An escaped key still names a secret. */
	expect_redact(log_redact_json, "{\"access\\u005ftoken\":\"abc\"}",
	              "{\"access\\u005ftoken\":\"<redacted>\"}");
	expect_redact(log_redact_json, "{\"ACCESS_TOKEN\":\"abc\"}",
	              "{\"ACCESS_TOKEN\":\"<redacted>\"}");
}

Test(redact_json, non_string_values)
{
	expect_redact(log_redact_json, "{\"code\":123456,\"n\":2}",
	              "{\"code\":\"<redacted>\",\"n\":2}");
	expect_redact(log_redact_json, "{\"token\":{\"a\":\"b\",\"c\":[1,\"}\"]},\"n\":2}",
	              "{\"token\":\"<redacted>\",\"n\":2}");
	expect_redact(log_redact_json, "{\"refresh_token\":null,\"x\":true}",
	              "{\"refresh_token\":null,\"x\":true}");
	expect_redact(log_redact_json, "{\"refresh_token\":\"\",\"code\":false}",
	              "{\"refresh_token\":\"\",\"code\":false}");
}

Test(redact_json, other_keys_kept_verbatim)
{
	const char *in = "{\"error\":\"invalid_grant\",\"error_description\":\"The refresh token "
	                 "is invalid or expired.\",\"token_type\":\"token\",\"kind\":\"code\","
	                 "\"list\":[\"access_token\",\"id_token\"],\"u\":\"\\u00e9\"}";

	expect_redact(log_redact_json, in, in);
}

Test(redact_json, malformed_and_truncated)
{
	expect_redact(log_redact_json, "{\"access_token\":\"abc",
	              "{\"access_token\":\"<redacted>\"");
	expect_redact(log_redact_json, "{\"access_token\":", "{\"access_token\":");
	expect_redact(log_redact_json, "{\"access_token\"", "{\"access_token\"");
	expect_redact(log_redact_json, "{\"access_tok", "{\"access_tok");
	expect_redact(log_redact_json, "{\"token\" \"abc\"}", "{\"token\" \"<redacted>\"}");
	expect_redact(log_redact_json, "{\"token\": abc}", "{\"token\": \"<redacted>\"}");
	expect_redact(log_redact_json, "{\"token\":{\"a\":\"b\"", "{\"token\":\"<redacted>\"");
	expect_redact(log_redact_json, "{\"token\":,\"a\":1}", "{\"token\":,\"a\":1}");
	expect_redact(log_redact_json, "\"\\", "\"\\");
	expect_redact(log_redact_json, "}}]]\"", "}}]]\"");
	expect_prefixes_hide(log_redact_json,
	                     "{\"a\":[1,{\"b\":\"c\"}],\"refresh_token\": \"S3CR3T\\\"x\",\"d\":2}",
	                     "S3CR3T");
}

Test(redact_json, garbage_never_crashes)
{
	static const char alphabet[] = "{}[]\":,\\ u0a_tokenTOKEN\n<>/='&";
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
		got = redact_n(log_redact_json, in, n);
		free(got);
		got = redact_n(log_redact_form, in, n);
		free(got);
		got = redact_n(log_redact_header, in, n);
		free(got);
		{
			struct buf b = BUF_INIT;

			cr_assert_eq(log_redact_body(&b, "text/xml", in, n), 0);
			buf_free(&b);
			cr_assert_eq(log_redact_body(&b, "text/plain", in, n), 0);
			buf_free(&b);
		}
		free(in);
	}
}

/* ---- headers ---- */

Test(redact_header, secret_headers)
{
	expect_redact(log_redact_header, "Authorization: Bearer xxx", "Authorization: <redacted>");
	expect_redact(log_redact_header, "authorization: SSWS 00abc", "authorization: <redacted>");
	expect_redact(log_redact_header, "AUTHORIZATION:Basic Y2xp", "AUTHORIZATION: <redacted>");
	expect_redact(log_redact_header,
	              "Proxy-Authorization: Basic eA==", "Proxy-Authorization: <redacted>");
	expect_redact(log_redact_header, "cookie: sid=1; other=2", "cookie: <redacted>");
	expect_redact(log_redact_header, "Set-Cookie: sid=abc; HttpOnly; Secure",
	              "Set-Cookie: <redacted>");
	expect_redact(log_redact_header, "Authorization : x", "Authorization : <redacted>");
	expect_redact(log_redact_header, "Authorization: Bearer x\r\n",
	              "Authorization: <redacted>\r\n");
	expect_redact(log_redact_header, "Authorization:", "Authorization: <redacted>");
}

Test(redact_header, other_lines_kept)
{
	expect_redact(log_redact_header, "Content-Type: application/json",
	              "Content-Type: application/json");
	expect_redact(log_redact_header, "X-Authorization-Hint: x", "X-Authorization-Hint: x");
	expect_redact(log_redact_header, "Authorizations: x", "Authorizations: x");
	expect_redact(log_redact_header, "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\n");
	expect_redact(log_redact_header, "POST /oauth2/v1/token HTTP/1.1",
	              "POST /oauth2/v1/token HTTP/1.1");
	expect_redact(log_redact_header, "", "");
	expect_redact(log_redact_header, "\r\n", "\r\n");
	/* A folded continuation line may belong to a secret header. */
	expect_redact(log_redact_header, " continued-token", "<redacted>");
}

Test(redact_header, bounded_by_len)
{
	char *got = redact_n(log_redact_header, "Cookie: a=b", 6);

	cr_expect_str_eq(got, "Cookie");
	free(got);
}

/* ---- XML and dispatch ---- */

static const char sts_answer[] =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>\n"
    "      <SessionToken>FwoGZXIvYXdzEJr//////////wEaD</SessionToken>\n"
    "      <Expiration>2026-01-01T00:00:00Z</Expiration>\n"
    "    </Credentials>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

Test(redact_xml, sts_answer)
{
	char *got = body_redact("text/xml", sts_answer);

	cr_expect_not_null(strstr(got, "<AccessKeyId>ASIAEXAMPLE</AccessKeyId>"));
	cr_expect_not_null(strstr(got, "<SecretAccessKey><redacted></SecretAccessKey>"));
	cr_expect_not_null(strstr(got, "<SessionToken><redacted></SessionToken>"));
	cr_expect_not_null(strstr(got, "<Expiration>2026-01-01T00:00:00Z</Expiration>"));
	cr_expect_null(strstr(got, "wJalr"));
	cr_expect_null(strstr(got, "FwoG"));
	free(got);
}

Test(redact_xml, forms)
{
	expect_body("application/xml; charset=utf-8",
	            "<a:SessionToken x=\"1>\">s</a:SessionToken><b>k</b>",
	            "<a:SessionToken x=\"1>\"><redacted></a:SessionToken><b>k</b>");
	expect_body("text/xml", "<WebIdentityToken><![CDATA[eyJ</x>]]></WebIdentityToken>",
	            "<WebIdentityToken><redacted></WebIdentityToken>");
	expect_body("text/xml", "<sessiontoken>s</SESSIONTOKEN>",
	            "<sessiontoken><redacted></SESSIONTOKEN>");
	expect_body("text/xml", "<SessionToken/><SessionToken></SessionToken>",
	            "<SessionToken/><SessionToken></SessionToken>");
	expect_body("text/xml", "<SessionToken>abc", "<SessionToken><redacted>");
	expect_body("text/xml", "<SessionToken>abc<Expiration>x</Expiration>",
	            "<SessionToken><redacted>");
	expect_body("text/xml", "<SessionToken", "<SessionToken");
	expect_body("text/xml", "<?xml version=\"1.0\"?><!-- c --><Code>Bad</Code>",
	            "<?xml version=\"1.0\"?><!-- c --><Code>Bad</Code>");
}

Test(redact_body, dispatch)
{
	expect_body("application/json; charset=UTF-8", "{\"code\":\"x\"}",
	            "{\"code\":\"<redacted>\"}");
	expect_body("application/problem+json", "{\"token\":\"x\"}", "{\"token\":\"<redacted>\"}");
	expect_body("application/x-www-form-urlencoded", "code=x", "code=<redacted>");
	expect_body(NULL, "  [{\"code\":\"x\"}]", "  [{\"code\":\"<redacted>\"}]");
	expect_body(NULL, "code=x&a=b", "code=<redacted>&a=b");
	expect_body(NULL, "<SessionToken>x</SessionToken>",
	            "<SessionToken><redacted></SessionToken>");
	expect_body("text/plain", "{\"password\":\"x\"}", "{\"password\":\"<redacted>\"}");
	expect_body(NULL, "", "");
}

Test(redact_body, other_text_types)
{
	expect_body("text/html", "<title>Directory listing for /?code=abc</title>",
	            "<title>Directory listing for /?code=<redacted></title>");
	expect_body("text/html; charset=utf-8",
	            "<script>var d = {\"access_token\":\"a\\\"b\", \"n\": 1}</script>",
	            "<script>var d = {\"access_token\":\"<redacted>\", \"n\": 1}</script>");
	expect_body("text/html", "<p><SessionToken>s</SessionToken></p>",
	            "<p><SessionToken><redacted></SessionToken></p>");
	expect_body("text/plain", "access_token: abc def", "access_token: <redacted> def");
	expect_body("text/plain", "password = 'x y'; next", "password = '<redacted>'; next");
	expect_body("text/plain", "the code is ready; mytoken=abc; token=",
	            "the code is ready; mytoken=abc; token=");
	expect_body("text/plain", "refresh_token=\"unterminated", "refresh_token=\"<redacted>");
	expect_body("text/plain", "Token:", "Token:");
}

static int redact_as_xml(struct buf *out, const char *text, size_t len)
{
	return log_redact_body(out, "text/xml", text, len);
}

static int redact_as_text(struct buf *out, const char *text, size_t len)
{
	return log_redact_body(out, "text/html", text, len);
}

Test(redact_body, truncated_bodies_hide_secrets)
{
	expect_prefixes_hide(redact_as_xml,
	                     "<r><sts:SessionToken a='1'>S3CR3T</sts:SessionToken></r>", "S3CR3T");
	expect_prefixes_hide(redact_as_text, "<p>Location: /cb?code=S3CR3T&state=1</p>", "S3CR3T");
	expect_prefixes_hide(redact_as_text, "<p>{\"id_token\": \"S3CR3T\"}</p>", "S3CR3T");
}

static void expect_echoes(const char *text, const char *form, const char *extra, const char *want)
{
	struct buf out = BUF_INIT;

	cr_assert_eq(
	    log_redact_echoes(&out, text, strlen(text), form, form ? strlen(form) : 0, extra), 0);
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
	/* What is not a secret stays: the client id, the scope, the grant type. */
	expect_echoes("client 0oa-client-id asked for openid offline_access", form, NULL,
	              "client 0oa-client-id asked for openid offline_access");
	/* A prefix of the secret is not the secret. */
	expect_echoes("rt-01234567", form, NULL, "rt-01234567");
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
