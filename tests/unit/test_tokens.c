/* test_tokens.c: the token endpoint answer, tokens.json round trips, corrupt inputs,
 * expiry arithmetic and the cache key, from src/tokens.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/tokens.h"
#include "oktacred/util.h"

#define NOW ((time_t)1768478400) /* 2026-01-15T12:00:00Z */

static struct tokens *from_response(const char *json, okc_err *err)
{
	struct tokens *t = (struct tokens *)1;
	int rc = tokens_from_response(json, strlen(json), NOW, &t, err);

	if (rc < 0)
		cr_assert_null(t, "no tokens on failure");
	return t;
}

Test(tokens, response_all_fields)
{
	okc_err err;
	struct tokens *t = from_response(
	    "{\"token_type\":\"Bearer\",\"expires_in\":1800,\"access_token\":\"at.x-1\","
	    "\"scope\":\"openid offline_access\",\"refresh_token\":\"rt-2\","
	    "\"id_token\":\"h.p.s\",\"refresh_expires_in\":7776000,\"extra\":[1,{\"a\":2}]}",
	    &err);

	cr_assert_not_null(t, "%s", err.msg);
	cr_assert_str_eq(t->access_token, "at.x-1");
	cr_assert_str_eq(t->token_type, "Bearer");
	cr_assert_str_eq(t->refresh_token, "rt-2");
	cr_assert_str_eq(t->id_token, "h.p.s");
	cr_assert_str_eq(t->scope, "openid offline_access");
	cr_assert_eq(t->expires_in, 1800);
	cr_assert_eq(t->obtained_at, NOW);
	cr_assert_eq(t->expires_at, NOW + 1800);
	cr_assert_eq(t->refresh_expires_at, NOW + 7776000);
	cr_assert_null(t->org_url);
	tokens_free(t);
}

Test(tokens, response_minimal_uses_defaults)
{
	okc_err err;
	struct tokens *t = from_response("{\"access_token\":\"abc\"}", &err);

	cr_assert_not_null(t, "%s", err.msg);
	cr_assert_str_eq(t->access_token, "abc");
	cr_assert_str_eq(t->token_type, "Bearer");
	cr_assert_null(t->refresh_token);
	cr_assert_null(t->id_token);
	cr_assert_null(t->scope);
	cr_assert_eq(t->expires_in, 3600, "expires_in defaults to 3600");
	cr_assert_eq(t->expires_at, NOW + 3600);
	cr_assert_eq(t->refresh_expires_at, 0);
	tokens_free(t);
}

Test(tokens, response_null_optional_fields_are_absent)
{
	okc_err err;
	struct tokens *t =
	    from_response("{\"access_token\":\"abc\",\"refresh_token\":null,\"scope\":null}", &err);

	cr_assert_not_null(t, "%s", err.msg);
	cr_assert_null(t->refresh_token);
	cr_assert_null(t->scope);
	tokens_free(t);
}

Test(tokens, response_wrong_types_rejected)
{
	static const struct {
		const char *json;
		const char *field;
	} bad[] = {
	    {"{\"access_token\":42}", "access_token"},
	    {"{\"access_token\":null}", "access_token"},
	    {"{\"access_token\":\"\"}", "access_token"},
	    {"{\"access_token\":\"a\\nb\"}", "access_token"},
	    {"{\"access_token\":[\"a\"]}", "access_token"},
	    {"{\"access_token\":\"a\",\"token_type\":1}", "token_type"},
	    {"{\"access_token\":\"a\",\"refresh_token\":{}}", "refresh_token"},
	    {"{\"access_token\":\"a\",\"refresh_token\":\"r\\r\\nX-Evil: 1\"}", "refresh_token"},
	    {"{\"access_token\":\"a\",\"id_token\":true}", "id_token"},
	    {"{\"access_token\":\"a\",\"scope\":[\"openid\"]}", "scope"},
	    {"{\"access_token\":\"a\",\"expires_in\":\"3600\"}", "expires_in"},
	    {"{\"access_token\":\"a\",\"expires_in\":0}", "expires_in"},
	    {"{\"access_token\":\"a\",\"expires_in\":-5}", "expires_in"},
	    {"{\"access_token\":\"a\",\"expires_in\":1e300}", "expires_in"},
	    {"{\"access_token\":\"a\",\"expires_in\":400000000}", "expires_in"},
	    {"{\"access_token\":\"a\",\"expires_in\":null}", "expires_in"},
	    {"{\"access_token\":\"a\",\"refresh_expires_in\":\"x\"}", "refresh_expires_in"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		okc_err err;
		char want[128];
		struct tokens *t = from_response(bad[i].json, &err);

		cr_assert_null(t, "accepted %s", bad[i].json);
		cr_assert_eq(err.code, OKC_EXIT_NETWORK, "%s", bad[i].json);
		snprintf(want, sizeof(want), "has a bad \"%s\"", bad[i].field);
		cr_assert(strstr(err.msg, want), "%s: %s", bad[i].json, err.msg);
		cr_assert(strstr(err.msg, "the identity provider's token answer"), "%s", err.msg);
	}
}

Test(tokens, response_not_json_or_no_access_token)
{
	static const char *const bad[] = {"",
	                                  "[]",
	                                  "\"x\"",
	                                  "{",
	                                  "{\"access_token\":\"a\"} x",
	                                  "<html>502</html>",
	                                  "{\"refresh_token\":\"r\"}"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		okc_err err;

		cr_assert_null(from_response(bad[i], &err), "accepted %s", bad[i]);
		cr_assert_eq(err.code, OKC_EXIT_NETWORK);
	}
}

static struct tokens *full_tokens(void)
{
	struct tokens *t = xcalloc(1, sizeof(*t));

	t->access_token = xstrdup("eyJ.access");
	t->token_type = xstrdup("Bearer");
	t->refresh_token = xstrdup("refresh-1");
	t->id_token = xstrdup("eyJ.id.sig");
	t->scope = xstrdup("openid profile offline_access");
	t->expires_in = 3600;
	t->obtained_at = NOW;
	t->expires_at = NOW + 3600;
	t->refresh_expires_at = NOW + 86400 * 90;
	t->org_url = xstrdup("https://company.okta.com");
	t->client_id = xstrdup("0oa1234567890abcdefg");
	t->authorization_server = xstrdup("default");
	t->scopes = xstrdup("openid profile email offline_access");
	return t;
}

Test(tokens, to_json_layout)
{
	struct tokens *t = full_tokens();
	struct buf b = BUF_INIT;

	cr_assert_eq(tokens_to_json(t, 1, &b), 0);
	cr_assert_str_eq(
	    b.data,
	    "{\"access_token\":\"eyJ.access\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
	    "\"expires_at\":\"2026-01-15T13:00:00Z\",\"refresh_token\":\"refresh-1\","
	    "\"id_token\":\"eyJ.id.sig\",\"scope\":\"openid profile offline_access\","
	    "\"obtained_at\":\"2026-01-15T12:00:00Z\","
	    "\"refresh_token_expires_at\":\"2026-04-15T12:00:00Z\","
	    "\"org_url\":\"https://company.okta.com\",\"client_id\":\"0oa1234567890abcdefg\","
	    "\"authorization_server\":\"default\","
	    "\"scopes\":\"openid profile email offline_access\"}\n");
	buf_free(&b);
	tokens_free(t);
}

Test(tokens, to_json_without_secrets)
{
	struct tokens *t = full_tokens(), *back = NULL;
	struct buf b = BUF_INIT;
	okc_err err;

	cr_assert_eq(tokens_to_json(t, 0, &b), 0);
	cr_assert_null(strstr(b.data, "eyJ"), "%s", b.data);
	cr_assert_null(strstr(b.data, "refresh-1"), "%s", b.data);
	cr_assert(strstr(b.data, "\"expires_at\":\"2026-01-15T13:00:00Z\""), "%s", b.data);
	cr_assert_eq(tokens_from_json(b.data, b.len, &back, &err), 0, "%s", err.msg);
	cr_assert_null(back->access_token);
	cr_assert_null(back->refresh_token);
	cr_assert_null(back->id_token);
	cr_assert_eq(back->expires_at, t->expires_at);
	tokens_free(back);
	buf_free(&b);
	tokens_free(t);
}

Test(tokens, json_round_trip_is_byte_stable)
{
	struct tokens *t = full_tokens(), *back = NULL;
	struct buf one = BUF_INIT, two = BUF_INIT;
	okc_err err;

	free(t->scope);
	t->scope = xstrdup("with \"quotes\" \\ and \x01 and \xc3\xa9");
	t->session = xstrdup("0123456789abcdef0123456789abcdef");
	cr_assert_eq(tokens_to_json(t, 1, &one), 0);
	cr_assert_eq(tokens_from_json(one.data, one.len, &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back->access_token, t->access_token);
	cr_assert_str_eq(back->token_type, t->token_type);
	cr_assert_str_eq(back->refresh_token, t->refresh_token);
	cr_assert_str_eq(back->id_token, t->id_token);
	cr_assert_str_eq(back->scope, t->scope);
	cr_assert_str_eq(back->org_url, t->org_url);
	cr_assert_str_eq(back->client_id, t->client_id);
	cr_assert_str_eq(back->authorization_server, t->authorization_server);
	cr_assert_str_eq(back->scopes, t->scopes);
	cr_assert_str_eq(back->session, t->session);
	cr_assert_eq(back->expires_in, t->expires_in);
	cr_assert_eq(back->expires_at, t->expires_at);
	cr_assert_eq(back->obtained_at, t->obtained_at);
	cr_assert_eq(back->refresh_expires_at, t->refresh_expires_at);
	cr_assert_eq(tokens_to_json(back, 1, &two), 0);
	cr_assert_eq(one.len, two.len);
	cr_assert_str_eq(one.data, two.data);
	buf_free(&one);
	buf_free(&two);
	tokens_free(back);
	tokens_free(t);
}

Test(tokens, json_round_trip_of_a_response)
{
	okc_err err;
	struct tokens *t = from_response("{\"access_token\":\"abc\",\"expires_in\":60}", &err),
	              *back = NULL;
	struct buf one = BUF_INIT, two = BUF_INIT;

	cr_assert_not_null(t);
	cr_assert_eq(tokens_to_json(t, 1, &one), 0);
	cr_assert_null(strstr(one.data, "refresh_expires_at"), "unknown: left out");
	cr_assert_null(strstr(one.data, "refresh_token"), "none: left out");
	cr_assert_eq(tokens_from_json(one.data, one.len, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back->refresh_expires_at, 0);
	cr_assert_null(back->refresh_token);
	/* A file without a session id (written before they existed): named by its login time. */
	cr_assert_null(strstr(one.data, "\"session\""));
	cr_assert_not_null(back->session);
	cr_assert(str_starts(back->session, "obtained-"), "%s", back->session);
	free(back->session);
	back->session = NULL;
	cr_assert_eq(tokens_to_json(back, 1, &two), 0);
	cr_assert_str_eq(one.data, two.data);
	buf_free(&one);
	buf_free(&two);
	tokens_free(back);
	tokens_free(t);
}

Test(tokens, from_json_minimal_and_unknown_keys)
{
	static const char json[] =
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"obtained_at\":\"2026-01-15T12:00:00Z\","
	    "\"future_field\":{\"x\":[1,2]}}";
	struct tokens *t = NULL;
	okc_err err;

	cr_assert_eq(tokens_from_json(json, strlen(json), &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t->expires_at, NOW + 3600);
	cr_assert_eq(t->expires_in, 3600, "derived from the two times");
	cr_assert_null(t->access_token);
	tokens_free(t);
}

Test(tokens, from_json_rejects_corrupt_input)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "[]",
	    "null",
	    "{}",
	    "{\"access_token\":\"a\"}",
	    "{\"expires_at\":1768482000}",
	    "{\"expires_at\":\"2026-01-15 13:00:00\"}",
	    "{\"expires_at\":\"2025-02-29T00:00:00Z\"}",
	    "{\"expires_at\":null}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"access_token\":7}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"refresh_token\":[]}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"id_token\":false}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"token_type\":{}}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"scope\":1}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"org_url\":1}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"client_id\":true}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"authorization_server\":[]}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"scopes\":{}}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"expires_in\":\"60\"}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"expires_in\":1e400}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"expires_in\":-1}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"expires_in\":99999999999999999999}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"obtained_at\":5}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"refresh_expires_at\":\"soon\"}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"refresh_token_expires_at\":7}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"session_started_at\":\"x\"}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\"} trailing",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"access_token\":\"a\nb\"}",
	    "{\"expires_at\":\"2026-01-15T13:00:00Z\",\"access_token\":\"\\u0000\"}",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct tokens *t = (struct tokens *)1;
		okc_err err;

		cr_assert_eq(tokens_from_json(bad[i], strlen(bad[i]), &t, &err), -1, "accepted %s",
		             bad[i]);
		cr_assert_null(t);
		cr_assert_eq(err.code, OKC_EXIT_LOGIN, "%s", bad[i]);
		cr_assert(strstr(err.msg, "corrupt"), "%s", err.msg);
	}
}

Test(tokens, from_json_rejects_nul_bytes_and_truncation)
{
	static const char good[] =
	    "{\"access_token\":\"abc\",\"expires_at\":\"2026-01-15T13:00:00Z\"}";
	struct tokens *t = NULL;
	okc_err err;
	size_t n;
	char with_nul[sizeof(good) + 1];

	cr_assert_eq(tokens_from_json(good, strlen(good), &t, &err), 0, "%s", err.msg);
	tokens_free(t);
	/* Every proper prefix is corrupt. */
	for (n = 0; n < strlen(good); n++) {
		cr_assert_eq(tokens_from_json(good, n, &t, &err), -1, "accepted %zu bytes", n);
		cr_assert_null(t);
	}
	/* A NUL inside, and a NUL after the object. */
	memcpy(with_nul, good, sizeof(good));
	with_nul[20] = '\0';
	cr_assert_eq(tokens_from_json(with_nul, strlen(good), &t, &err), -1);
	memcpy(with_nul, good, sizeof(good));
	with_nul[sizeof(good)] = 'x';
	cr_assert_eq(tokens_from_json(with_nul, sizeof(good), &t, &err), -1);
	cr_assert_eq(tokens_from_json(NULL, 0, &t, &err), -1);
}

/* Random bytes and random mutations of a good file: never a crash, and never a
 * success that is not a proper token set. */
Test(tokens, from_json_survives_random_input)
{
	static const char good[] =
	    "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
	    "\"expires_at\":\"2026-01-15T13:00:00Z\",\"scopes\":\"openid\"}";
	unsigned seed = 12345;
	char buf[256];
	int i;

	for (i = 0; i < 20000; i++) {
		struct tokens *t = NULL;
		okc_err err;
		size_t n, j;

		if (i % 2) {
			n = (size_t)(rand_r(&seed) % sizeof(buf));
			for (j = 0; j < n; j++)
				buf[j] = (char)rand_r(&seed);
		} else {
			n = strlen(good);
			memcpy(buf, good, n);
			for (j = 0; j < 1 + (size_t)(rand_r(&seed) % 4); j++)
				buf[rand_r(&seed) % n] = (char)rand_r(&seed);
		}
		if (tokens_from_json(buf, n, &t, &err) == 0) {
			cr_assert_not_null(t);
			cr_assert_geq(t->expires_at, 0);
			tokens_free(t);
		} else {
			cr_assert_null(t);
			cr_assert_eq(err.code, OKC_EXIT_LOGIN);
		}
	}
}

Test(tokens, access_left)
{
	struct tokens t = {0};

	t.expires_at = NOW + 600;
	cr_assert_eq(tokens_access_left(&t, NOW), 600);
	cr_assert_eq(tokens_access_left(&t, NOW + 600), 0);
	cr_assert_eq(tokens_access_left(&t, NOW + 700), -100);
}

Test(tokens, access_left_from_response)
{
	okc_err err;
	struct tokens *t = from_response("{\"access_token\":\"a\",\"expires_in\":300}", &err);

	cr_assert_not_null(t);
	cr_assert_eq(tokens_access_left(t, NOW), 300);
	cr_assert_eq(tokens_access_left(t, NOW + 299), 1);
	cr_assert_lt(tokens_access_left(t, NOW + 301), 0);
	tokens_free(t);
}

static struct provider_cfg provider(void)
{
	struct provider_cfg p;

	memset(&p, 0, sizeof(p));
	p.name = "okta-oidc";
	p.org_url = "https://company.okta.com";
	p.client_id = "0oa1234567890abcdefg";
	p.authorization_server = "default";
	p.scopes = "openid profile email offline_access";
	return p;
}

Test(tokens, match_provider_each_key)
{
	struct provider_cfg p = provider(), q;
	struct tokens *t = full_tokens();

	cr_assert(tokens_match_provider(t, &p));

	q = p;
	q.org_url = "https://other.okta.com";
	cr_assert_not(tokens_match_provider(t, &q), "org_url");
	q = p;
	q.client_id = "0oaOTHER";
	cr_assert_not(tokens_match_provider(t, &q), "client_id");
	q = p;
	q.client_id = NULL;
	cr_assert_not(tokens_match_provider(t, &q), "client_id NULL");
	q = p;
	q.authorization_server = "org";
	cr_assert_not(tokens_match_provider(t, &q), "authorization_server");
	q = p;
	q.scopes = "openid profile email";
	cr_assert_not(tokens_match_provider(t, &q), "scopes");
	q = p;
	q.scopes = "openid profile email offline_access groups";
	cr_assert_not(tokens_match_provider(t, &q), "scopes");

	/* Scopes are a set: order, repetition and spacing do not matter. */
	q = p;
	q.scopes = "  offline_access email\topenid profile openid ";
	cr_assert(tokens_match_provider(t, &q), "scopes as a set");

	/* dpop = true takes only DPoP-bound tokens, and dpop = false none. */
	q = p;
	q.dpop = 1;
	cr_assert_not(tokens_match_provider(t, &q), "a bearer session for dpop = true");
	free(t->token_type);
	t->token_type = xstrdup("DPoP");
	cr_assert(tokens_match_provider(t, &q), "a DPoP session for dpop = true");
	cr_assert_not(tokens_match_provider(t, &p), "a DPoP session for dpop = false");
	tokens_free(t);
}

Test(tokens, match_provider_null_safe)
{
	struct provider_cfg p = provider();
	struct tokens t;

	memset(&t, 0, sizeof(t));
	cr_assert_not(tokens_match_provider(&t, &p), "a file without a key is no match");
	p.client_id = NULL;
	p.scopes = NULL;
	t.org_url = "https://company.okta.com";
	t.authorization_server = "default";
	t.scopes = "";
	cr_assert(tokens_match_provider(&t, &p), "NULL and NULL client ids, empty scope sets");
}

Test(tokens, set_provider_copies_the_key)
{
	struct provider_cfg p = provider(), q = provider();
	struct tokens *t = full_tokens();

	q.org_url = "https://new.okta.com";
	q.client_id = NULL;
	q.scopes = "openid";
	cr_assert_not(tokens_match_provider(t, &q));
	tokens_set_provider(t, &q);
	cr_assert(tokens_match_provider(t, &q));
	cr_assert_not(tokens_match_provider(t, &p));
	cr_assert_str_eq(t->org_url, "https://new.okta.com");
	cr_assert_null(t->client_id);
	cr_assert(t->org_url != q.org_url, "a copy, not the provider's string");
	tokens_free(t);
	tokens_free(NULL);
}

/* The Atmos design's name is written; the earlier one is still read (files saved by
 * earlier versions), the new one winning when a file has both. */
Test(tokens, refresh_token_expires_at_old_and_new_names)
{
	static const char old_name[] = "{\"expires_at\":\"2026-01-15T13:00:00Z\","
	                               "\"refresh_expires_at\":\"2026-04-15T12:00:00Z\"}";
	static const char both[] = "{\"expires_at\":\"2026-01-15T13:00:00Z\","
	                           "\"refresh_expires_at\":\"2026-04-15T12:00:00Z\","
	                           "\"refresh_token_expires_at\":\"2026-05-15T12:00:00Z\"}";
	struct tokens *t = NULL;
	struct buf b = BUF_INIT;
	okc_err err;

	cr_assert_eq(tokens_from_json(old_name, strlen(old_name), &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t->refresh_expires_at, NOW + 90 * 86400);
	cr_assert_eq(tokens_to_json(t, 1, &b), 0);
	cr_assert(strstr(b.data, "\"refresh_token_expires_at\":\"2026-04-15T12:00:00Z\""), "%s",
	          b.data);
	cr_assert_null(strstr(b.data, "\"refresh_expires_at\""), "%s", b.data);
	buf_free(&b);
	tokens_free(t);
	cr_assert_eq(tokens_from_json(both, strlen(both), &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t->refresh_expires_at, NOW + 120 * 86400);
	tokens_free(t);
}

/* session_duration: the session's start survives refreshes; without the field, the
 * file's obtained_at stands for it. */
Test(tokens, session_start_and_duration)
{
	static const char legacy[] = "{\"expires_at\":\"2026-01-15T13:00:00Z\","
	                             "\"obtained_at\":\"2026-01-15T12:00:00Z\"}";
	struct provider_cfg p = {0};
	struct tokens *old = full_tokens(), *fresh = full_tokens(), *back = NULL;
	struct buf b = BUF_INIT;
	okc_err err;

	old->session = xstrdup("s1");
	old->session_started_at = NOW - 7 * 3600;
	fresh->obtained_at = NOW;
	tokens_continue_session(fresh, old);
	cr_assert_str_eq(fresh->session, "s1");
	cr_assert_eq(fresh->session_started_at, NOW - 7 * 3600);
	cr_assert_eq(tokens_to_json(fresh, 1, &b), 0);
	cr_assert(strstr(b.data, "\"session_started_at\":\"2026-01-15T05:00:00Z\""), "%s", b.data);
	cr_assert_eq(tokens_from_json(b.data, b.len, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back->session_started_at, NOW - 7 * 3600);

	cr_assert_eq(tokens_session_over(back, &p, NOW + 86400 * 365), 0, "unset: no limit");
	p.session_duration = 8 * 3600;
	cr_assert_eq(tokens_session_over(back, &p, NOW), 0);
	cr_assert_eq(tokens_session_over(back, &p, NOW + 3600 - 1), 0);
	cr_assert_eq(tokens_session_over(back, &p, NOW + 3600), 1, "8h after the login");
	tokens_free(back);
	buf_free(&b);

	cr_assert_eq(tokens_from_json(legacy, strlen(legacy), &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back->session_started_at, 0);
	cr_assert_eq(tokens_session_over(back, &p, NOW + 8 * 3600 - 1), 0);
	cr_assert_eq(tokens_session_over(back, &p, NOW + 8 * 3600), 1);
	tokens_free(back);
	tokens_free(old);
	tokens_free(fresh);
}
