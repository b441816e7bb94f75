/* test_idtoken.c: ID token validation (src/oauth/idtoken.c, jws_verify in assertion.c) with
 * keys made at test time: every claim rule and every signature rule, each refusal named. */
#include <criterion/criterion.h>
#include "oktacred/json.h"
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/assertion.h"
#include "oktacred/buf.h"
#include "oktacred/http.h"
#include "oktacred/idtoken.h"
#include "oktacred/jwt.h"
#include "oktacred/util.h"

#define ISS    "https://company.okta.com/oauth2/default"
#define CLIENT "0oa-client"
#define NOW    ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

static const struct idtoken_want want = {ISS, CLIENT, NULL};

static EVP_PKEY *gen(const char *type)
{
	EVP_PKEY *k = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
	                                       : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	cr_assert_not_null(k);
	return k;
}

static void add_b64(struct json *o, const char *key, const unsigned char *p, size_t n)
{
	struct buf b = BUF_INIT;

	base64url_encode(p, n, &b);
	json_add_string(o, key, b.data);
	buf_free(&b);
}

static void add_bn(struct json *o, const char *key, EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char bytes[1024];
	int n;

	cr_assert_eq(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	n = BN_bn2bin(bn, bytes);
	add_b64(o, key, bytes, (size_t)n);
	BN_free(bn);
}

/* The public JWK of k. */
static struct json *jwk_of(EVP_PKEY *k, const char *kid)
{
	struct json *o = json_new(JSON_OBJECT);

	if (kid)
		json_add_string(o, "kid", kid);
	if (EVP_PKEY_is_a(k, "RSA")) {
		json_add_string(o, "kty", "RSA");
		add_bn(o, "n", k, OSSL_PKEY_PARAM_RSA_N);
		add_bn(o, "e", k, OSSL_PKEY_PARAM_RSA_E);
	} else {
		unsigned char pt[65];
		size_t n = 0;

		json_add_string(o, "kty", "EC");
		json_add_string(o, "crv", "P-256");
		cr_assert_eq(
		    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n),
		    1);
		cr_assert_eq(n, 65);
		add_b64(o, "x", pt + 1, 32);
		add_b64(o, "y", pt + 33, 32);
	}
	return o;
}

static struct json *jwks_of(struct json *jwk)
{
	struct json *o = json_new(JSON_OBJECT), *keys = json_add_array(o, "keys");

	json_append(keys, jwk);
	return o;
}

/* header.payload signed by k (JOSE form); header and payload are JSON text. */
static char *sign(EVP_PKEY *k, const char *header, const char *payload)
{
	struct buf jws = BUF_INIT;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[1024], raw[64];
	size_t n = sizeof(sig);
	char *out;

	base64url_encode(header, strlen(header), &jws);
	buf_putc(&jws, '.');
	base64url_encode(payload, strlen(payload), &jws);
	cr_assert_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	cr_assert_eq(EVP_DigestSign(md, sig, &n, (unsigned char *)jws.data, jws.len), 1);
	EVP_MD_CTX_free(md);
	buf_putc(&jws, '.');
	if (EVP_PKEY_is_a(k, "EC")) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
		const BIGNUM *r, *s;

		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, raw, 32);
		BN_bn2binpad(s, raw + 32, 32);
		ECDSA_SIG_free(es);
		base64url_encode(raw, 64, &jws);
	} else {
		base64url_encode(sig, n, &jws);
	}
	out = xstrdup(jws.data);
	buf_free(&jws);
	return out;
}

static char *claims(const char *extra)
{
	return xasprintf("{\"iss\":\"%s\",\"sub\":\"00u1\",\"aud\":\"%s\",\"iat\":%lld,"
	                 "\"exp\":%lld%s}",
	                 ISS, CLIENT, (long long)NOW - 10, (long long)NOW + 3600,
	                 extra ? extra : "");
}

/* Checks a token signed by k with the default header for alg/kid and payload, against
 * jwks; returns what idtoken_check returned, err in *err. */
static int check(EVP_PKEY *k, const char *alg, const char *kid, const char *payload,
                 struct json *jwks, time_t now, okc_err *err)
{
	char *h = kid ? xasprintf("{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid)
	              : xasprintf("{\"alg\":\"%s\"}", alg);
	char *jwt = sign(k, h, payload);
	int rc;

	okc_err_clear(err);
	rc = idtoken_check(jwt, &want, jwks, now, err);
	free(jwt);
	free(h);
	return rc;
}

static void expect_invalid(int rc, const okc_err *err, const char *why)
{
	cr_assert_eq(rc, -1, "rc %d: %s", rc, err->msg);
	cr_assert_eq(err->code, 4);
	cr_assert(str_starts(err->msg, "the identity provider sent an invalid ID token: "), "%s",
	          err->msg);
	cr_assert_not_null(strstr(err->msg, why), "%s (wanted %s)", err->msg, why);
}

Test(idtoken, valid_rs256_and_es256)
{
	EVP_PKEY *rsa = gen("RSA"), *ec = gen("EC");
	struct json *jwks = jwks_of(jwk_of(rsa, "k-rsa"));
	char *c = claims(NULL);
	okc_err err;

	json_append(json_member(jwks, "keys"), jwk_of(ec, "k-ec"));
	cr_assert_eq(check(rsa, "RS256", "k-rsa", c, jwks, NOW, &err), 0, "%s", err.msg);
	cr_assert_eq(check(ec, "ES256", "k-ec", c, jwks, NOW, &err), 0, "%s", err.msg);
	/* The kid picks the key, of the token's alg's type. */
	cr_assert_eq(check(ec, "ES256", "k-rsa", c, jwks, NOW, &err), IDTOKEN_NO_KEY);
	free(c);
	json_free(jwks);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

Test(idtoken, foreign_key_and_unknown_kid)
{
	EVP_PKEY *k = gen("EC"), *other = gen("EC");
	struct json *jwks = jwks_of(jwk_of(k, "k1"));
	char *c = claims(NULL);
	okc_err err;

	expect_invalid(check(other, "ES256", "k1", c, jwks, NOW, &err), &err,
	               "its signature does not verify with the JWKS key \"k1\"");
	cr_assert_eq(check(k, "ES256", "k2", c, jwks, NOW, &err), IDTOKEN_NO_KEY);
	cr_assert_not_null(strstr(err.msg, "no ES256 key with kid \"k2\""), "%s", err.msg);
	free(c);
	json_free(jwks);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

Test(idtoken, no_kid_uses_the_only_fitting_key)
{
	EVP_PKEY *k = gen("EC"), *k2 = gen("EC");
	struct json *jwks = jwks_of(jwk_of(k, "k1"));
	char *c = claims(NULL);
	okc_err err;

	cr_assert_eq(check(k, "ES256", NULL, c, jwks, NOW, &err), 0, "%s", err.msg);
	json_append(json_member(jwks, "keys"), jwk_of(k2, "k2"));
	cr_assert_eq(check(k, "ES256", NULL, c, jwks, NOW, &err), IDTOKEN_NO_KEY);
	free(c);
	json_free(jwks);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

Test(idtoken, jwk_use_and_alg_must_allow_it)
{
	EVP_PKEY *k = gen("EC");
	struct json *jwk = jwk_of(k, "k1"), *jwks = jwks_of(jwk);
	char *c = claims(NULL);
	okc_err err;

	json_add_string(jwk, "use", "enc");
	cr_assert_eq(check(k, "ES256", "k1", c, jwks, NOW, &err), IDTOKEN_NO_KEY);
	json_free(json_detach(jwk, "use"));
	json_add_string(jwk, "use", "sig");
	json_add_string(jwk, "alg", "ES384");
	cr_assert_eq(check(k, "ES256", "k1", c, jwks, NOW, &err), IDTOKEN_NO_KEY);
	json_free(json_detach(jwk, "alg"));
	json_add_string(jwk, "alg", "ES256");
	cr_assert_eq(check(k, "ES256", "k1", c, jwks, NOW, &err), 0, "%s", err.msg);
	/* An RS256 token never verifies with an EC key of the same kid. */
	cr_assert_eq(check(k, "RS256", "k1", c, jwks, NOW, &err), IDTOKEN_NO_KEY);
	free(c);
	json_free(jwks);
	EVP_PKEY_free(k);
}

Test(idtoken, small_rsa_keys_are_refused)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct json *jwks = jwks_of(jwk_of(k, "k1"));
	char *c = claims(NULL);
	okc_err err;

	expect_invalid(check(k, "RS256", "k1", c, jwks, NOW, &err), &err,
	               "signature does not verify");
	free(c);
	json_free(jwks);
	EVP_PKEY_free(k);
}

Test(idtoken, algorithms_other_than_rs256_and_es256_are_refused)
{
	EVP_PKEY *k = gen("EC");
	struct json *jwks = jwks_of(jwk_of(k, "k1"));
	char *c = claims(NULL);
	struct buf t = BUF_INIT;
	okc_err err;

	expect_invalid(check(k, "HS256", "k1", c, jwks, NOW, &err), &err,
	               "it is signed with \"HS256\"; oktacred accepts RS256 and ES256");
	expect_invalid(check(k, "ES384", "k1", c, jwks, NOW, &err), &err, "\"ES384\"");
	/* alg none: header.payload. with no signature. */
	base64url_encode("{\"alg\":\"none\"}", 14, &t);
	buf_putc(&t, '.');
	base64url_encode(c, strlen(c), &t);
	buf_putc(&t, '.');
	expect_invalid(idtoken_check(t.data, &want, jwks, NOW, &err), &err, "\"none\"");
	buf_free(&t);
	free(c);
	json_free(jwks);
	EVP_PKEY_free(k);
}

Test(idtoken, malformed_tokens)
{
	EVP_PKEY *k = gen("EC");
	struct json *jwks = jwks_of(jwk_of(k, "k1"));
	char *c = claims(NULL), *good;
	const char *bad[] = {"", "abc", "a.b", "a.b.c.d", ".b.c", "a..c", "e30.e30.c"};
	size_t i;
	okc_err err;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		okc_err_clear(&err);
		cr_assert_eq(idtoken_check(bad[i], &want, jwks, NOW, &err), -1, "%s", bad[i]);
		cr_assert_eq(err.code, 4);
	}
	/* A signature with padding or an extra character is not the one that was made. */
	good = sign(k, "{\"alg\":\"ES256\",\"kid\":\"k1\"}", c);
	cr_assert_eq(idtoken_check(good, &want, jwks, NOW, &err), 0, "%s", err.msg);
	{
		char *padded = xasprintf("%s=", good);

		expect_invalid(idtoken_check(padded, &want, jwks, NOW, &err), &err,
		               "signature is missing or not base64url");
		free(padded);
	}
	/* crit extensions are refused. */
	free(good);
	good = sign(k, "{\"alg\":\"ES256\",\"kid\":\"k1\",\"crit\":[\"x\"],\"x\":1}", c);
	expect_invalid(idtoken_check(good, &want, jwks, NOW, &err), &err, "crit");
	free(good);
	free(c);
	json_free(jwks);
	EVP_PKEY_free(k);
}

/* A payload signed properly, checked against the claims rules. */
static void expect_claims(EVP_PKEY *k, struct json *jwks, const char *payload, time_t now,
                          const char *why)
{
	okc_err err;
	int rc = check(k, "ES256", "k1", payload, jwks, now, &err);

	if (!why)
		cr_assert_eq(rc, 0, "%s: %s", payload, err.msg);
	else
		expect_invalid(rc, &err, why);
}

Test(idtoken, claims)
{
	EVP_PKEY *k = gen("EC");
	struct json *jwks = jwks_of(jwk_of(k, "k1"));
	char *p;
	long long iat = (long long)NOW - 10, exp = (long long)NOW + 3600;

#define PAYLOAD(...) (p = xasprintf(__VA_ARGS__))
	/* iss exactly */
	expect_claims(k, jwks,
	              PAYLOAD("{\"iss\":\"%s/\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld}", ISS,
	                      CLIENT, iat, exp),
	              NOW, "its issuer is \"" ISS "/\", not " ISS);
	free(p);
	expect_claims(k, jwks,
	              PAYLOAD("{\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld}", CLIENT, iat, exp), NOW,
	              "it has no issuer");
	free(p);
	/* aud a string or an array holding the client id */
	expect_claims(k, jwks,
	              PAYLOAD("{\"iss\":\"%s\",\"aud\":[\"x\",\"%s\"],\"iat\":%lld,\"exp\":%lld}",
	                      ISS, CLIENT, iat, exp),
	              NOW, NULL);
	free(p);
	expect_claims(
	    k, jwks,
	    PAYLOAD("{\"iss\":\"%s\",\"aud\":\"other\",\"iat\":%lld,\"exp\":%lld}", ISS, iat, exp),
	    NOW, "its audience (aud) does not include the client id " CLIENT);
	free(p);
	expect_claims(k, jwks,
	              PAYLOAD("{\"iss\":\"%s\",\"aud\":[\"other\"],\"iat\":%lld,\"exp\":%lld}", ISS,
	                      iat, exp),
	              NOW, "audience");
	free(p);
	expect_claims(k, jwks, PAYLOAD("{\"iss\":\"%s\",\"iat\":%lld,\"exp\":%lld}", ISS, iat, exp),
	              NOW, "audience");
	free(p);
	/* azp, when present, the client id */
	expect_claims(k, jwks, (p = claims(",\"azp\":\"" CLIENT "\"")), NOW, NULL);
	free(p);
	expect_claims(k, jwks, (p = claims(",\"azp\":\"other\\u001b\"")), NOW,
	              "its authorized party (azp) is \"other\\x1b\", not the client id");
	free(p);
	expect_claims(k, jwks, (p = claims(",\"azp\":5")), NOW, "azp");
	free(p);
	/* exp and iat required, with two minutes of leeway */
	expect_claims(k, jwks,
	              PAYLOAD("{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld}", ISS, CLIENT, iat),
	              NOW, "it has no valid expiry");
	free(p);
	expect_claims(k, jwks,
	              PAYLOAD("{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld}", ISS, CLIENT, exp),
	              NOW, "it has no valid issue time");
	free(p);
	expect_claims(k, jwks, (p = claims(NULL)), (time_t)exp + 120, NULL);
	free(p);
	expect_claims(k, jwks, (p = claims(NULL)), (time_t)exp + 121,
	              "it expired at 2026-01-01T01:00:00Z");
	free(p);
	expect_claims(k, jwks, (p = claims(NULL)), (time_t)iat - 120, NULL);
	free(p);
	expect_claims(k, jwks, (p = claims(NULL)), (time_t)iat - 121,
	              "it was issued in the future");
	free(p);
#undef PAYLOAD
	json_free(jwks);
	EVP_PKEY_free(k);
}

/* The nonce of the login that sent one (the authorization code flow), exactly. */
Test(idtoken, nonce_when_the_login_sent_one)
{
	EVP_PKEY *k = gen("EC");
	struct json *jwks = jwks_of(jwk_of(k, "k1"));
	const struct idtoken_want with_nonce = {ISS, CLIENT, "n-0123456789abcdefghij"};
	const char *const cases[][2] = {
	    {",\"nonce\":\"n-0123456789abcdefghij\"", NULL},
	    {",\"nonce\":\"n-0123456789abcdefghiX\"", "its nonce is not the one this login sent"},
	    {",\"nonce\":\"n-0123456789abcdefghij0\"", "nonce"},
	    {",\"nonce\":5", "nonce"},
	    {"", "nonce"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *payload = claims(cases[i][0]);
		char *jwt = sign(k, "{\"alg\":\"ES256\",\"kid\":\"k1\"}", payload);
		okc_err err;
		int rc;

		okc_err_clear(&err);
		rc = idtoken_check(jwt, &with_nonce, jwks, NOW, &err);
		if (!cases[i][1])
			cr_assert_eq(rc, 0, "%s: %s", payload, err.msg);
		else
			expect_invalid(rc, &err, cases[i][1]);
		/* Without a nonce sent, a token's nonce is not looked at. */
		okc_err_clear(&err);
		cr_assert_eq(idtoken_check(jwt, &want, jwks, NOW, &err), 0, "%s", err.msg);
		free(jwt);
		free(payload);
	}
	json_free(jwks);
	EVP_PKEY_free(k);
}

Test(idtoken, jws_verify_rejects_what_is_no_key)
{
	unsigned char zero[64] = {0};
	struct jwk_public pub = {.alg = "ES256", .x = zero, .y = zero, .x_len = 32, .y_len = 32};
	okc_err err;

	/* (0, 0) is not on the curve. */
	cr_assert_eq(jws_verify(&pub, "a.b", 3, zero, 64, &err), 0);
	pub.alg = "PS256";
	cr_assert_eq(jws_verify(&pub, "a.b", 3, zero, 64, &err), 0);
	cr_assert_eq(jws_verify(NULL, "a.b", 3, zero, 64, &err), 0);
}

Test(http, max_age)
{
	cr_assert_eq(http_max_age(NULL), -1);
	cr_assert_eq(http_max_age(""), -1);
	cr_assert_eq(http_max_age("max-age=3600"), 3600);
	cr_assert_eq(http_max_age("public, Max-Age=60, must-revalidate"), 60);
	cr_assert_eq(http_max_age("max-age=\"90\""), 90);
	cr_assert_eq(http_max_age("max-age=60, no-cache"), 0);
	cr_assert_eq(http_max_age("no-store"), 0);
	cr_assert_eq(http_max_age("max-age=-1"), -1);
	cr_assert_eq(http_max_age("max-age=1x"), -1);
	cr_assert_eq(http_max_age("s-maxage=5"), -1);
	cr_assert_gt(http_max_age("max-age=99999999999999999999999"), 86400);
}
