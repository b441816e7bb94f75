/* Unit tests: base64url and the claims of a JWT. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/jwt.h"

static char *enc(const char *s)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(base64url_encode(s, strlen(s), &b), 0);
	return buf_detach(&b);
}

Test(base64url, encodes_without_padding_and_url_alphabet)
{
	struct buf b = BUF_INIT;
	const unsigned char bytes[] = {0xfb, 0xff, 0xbf};

	cr_assert_eq(base64url_encode(bytes, sizeof(bytes), &b), 0);
	cr_assert_str_eq(b.data, "-_-_");
	buf_free(&b);
	char *s = enc("ab");
	cr_assert_str_eq(s, "YWI");
	free(s);
}

Test(base64url, decodes_with_and_without_padding)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(base64url_decode("YWI", 3, &b), 0);
	cr_assert_str_eq(b.data, "ab");
	buf_free(&b);
	cr_assert_eq(base64url_decode("YWI=", 4, &b), 0);
	cr_assert_str_eq(b.data, "ab");
	buf_free(&b);
}

Test(base64url, rejects_bad_input)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(base64url_decode("YW*I", 4, &b), -1);
	cr_assert_eq(base64url_decode("Y", 1, &b), -1);
	buf_free(&b);
}

Test(base64url, round_trips_every_byte)
{
	unsigned char all[256];
	struct buf e = BUF_INIT, d = BUF_INIT;
	int i;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	cr_assert_eq(base64url_encode(all, sizeof(all), &e), 0);
	cr_assert_eq(base64url_decode(e.data, e.len, &d), 0);
	cr_assert_eq(d.len, sizeof(all));
	cr_assert_eq(memcmp(d.data, all, sizeof(all)), 0);
	buf_free(&e);
	buf_free(&d);
}

static char *make_jwt(const char *claims)
{
	char *h = enc("{\"alg\":\"RS256\"}"), *c = enc(claims), *jwt;
	size_t n = strlen(h) + strlen(c) + 8;

	jwt = malloc(n);
	snprintf(jwt, n, "%s.%s.c2ln", h, c);
	free(h);
	free(c);
	return jwt;
}

Test(jwt, decodes_okta_id_token_claims)
{
	char *jwt = make_jwt("{\"iss\":\"https://x.okta.com/oauth2/default\",\"sub\":\"00u1\","
	                     "\"aud\":\"0oa1\",\"email\":\"a@example.com\",\"exp\":1700000000,"
	                     "\"iat\":1699996400,\"groups\":[\"Everyone\",\"AWS-Dev\"],"
	                     "\"preferred_username\":\"alice\"}");
	struct jwt_claims c;
	okc_err err;

	cr_assert_eq(jwt_claims_parse(jwt, &c, &err), 0);
	cr_assert_str_eq(c.sub, "00u1");
	cr_assert_str_eq(c.aud, "0oa1");
	cr_assert_str_eq(c.email, "a@example.com");
	cr_assert_str_eq(c.preferred_username, "alice");
	cr_assert_eq(c.exp, 1700000000);
	cr_assert_eq(c.ngroups, 2);
	cr_assert_str_eq(c.groups[1], "AWS-Dev");
	cr_assert_null(c.groups[2]);
	jwt_claims_free(&c);
	free(jwt);
}

Test(jwt, audience_array_and_wrong_types)
{
	char *jwt = make_jwt("{\"aud\":[\"first\",\"second\"],\"email\":5,\"exp\":\"soon\","
	                     "\"groups\":\"notalist\"}");
	struct jwt_claims c;
	okc_err err;

	cr_assert_eq(jwt_claims_parse(jwt, &c, &err), 0);
	cr_assert_str_eq(c.aud, "first");
	cr_assert_null(c.email);
	cr_assert_eq(c.exp, 0);
	cr_assert_null(c.groups);
	jwt_claims_free(&c);
	free(jwt);
}

Test(jwt, not_a_jwt)
{
	struct jwt_claims c;
	okc_err err;

	cr_assert_eq(jwt_claims_parse("opaque-token", &c, &err), -1);
	cr_assert_eq(jwt_claims_parse("a.!!!.c", &c, &err), -1);
	cr_assert_eq(jwt_claims_parse(NULL, &c, &err), -1);
	char *jwt = make_jwt("[1,2]");
	cr_assert_eq(jwt_claims_parse(jwt, &c, &err), -1);
	free(jwt);
}
