/* test_dpop.c: DPoP proofs (src/oauth/dpop.c) with keys made at test time: the header, the
 * claims, the signature (verified with the jwk the header carries), the RFC 7638 thumbprint
 * (computed here from the header's jwk with OpenSSL directly) and the nonces per server. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/assertion.h"
#include "oktacred/buf.h"
#include "oktacred/dpop.h"
#include "oktacred/json.h"
#include "oktacred/jwt.h"
#include "oktacred/util.h"

#define NOW   ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define TOKEN "an-access-token.of.some.kind"

static struct signing_key *key;

static void setup(void)
{
	struct buf pem = BUF_INIT;
	okc_err err;

	cr_assert_eq(ec_key_generate_pem(&pem, &err), 0, "%s", err.msg);
	cr_assert(str_starts(pem.data, "-----BEGIN PRIVATE KEY-----"));
	cr_assert_eq(signing_key_load(pem.data, &key, &err), 0, "%s", err.msg);
	cr_assert_str_eq(signing_key_alg(key), "ES256");
	buf_free(&pem);
}

static void teardown(void)
{
	signing_key_free(key);
	key = NULL;
}

TestSuite(dpop, .init = setup, .fini = teardown, .timeout = 60);

struct proof {
	struct json *header, *claims;
	struct buf sig;
	char *signed_part;
};

static void decode_part(const char *s, size_t n, struct json **out)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(base64url_decode(s, n, &b), 0);
	*out = json_parse_object(b.data, b.len);
	cr_assert_not_null(*out, "not a JSON object: %.*s", (int)b.len, b.data);
	buf_free(&b);
}

static void split(const char *jws, struct proof *p)
{
	const char *d1 = strchr(jws, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	memset(p, 0, sizeof(*p));
	cr_assert_not_null(d2);
	cr_assert_null(strchr(d2 + 1, '.'));
	decode_part(jws, (size_t)(d1 - jws), &p->header);
	decode_part(d1 + 1, (size_t)(d2 - d1 - 1), &p->claims);
	cr_assert_eq(base64url_decode(d2 + 1, strlen(d2 + 1), &p->sig), 0);
	p->signed_part = xstrndup(jws, (size_t)(d2 - jws));
}

static void proof_free(struct proof *p)
{
	json_free(p->header);
	json_free(p->claims);
	buf_free(&p->sig);
	free(p->signed_part);
}

static const char *str(const struct json *o, const char *k)
{
	const char *v = NULL;

	return json_get_string(o, k, &v) == 1 ? v : NULL;
}

static void b64_sha256(const char *s, struct buf *out)
{
	unsigned char d[32];
	unsigned int n = 0;

	cr_assert_eq(EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL), 1);
	base64url_encode(d, n, out);
	buf_append(out, NULL, 0);
}

static char *make(const char *method, const char *url, const char *nonce, const char *token)
{
	struct buf out = BUF_INIT;
	okc_err err;

	cr_assert_eq(dpop_proof_make(key, method, url, nonce, token, NOW, &out, &err), 0, "%s",
	             err.msg);
	return out.data;
}

Test(dpop, header_claims_and_signature)
{
	char *jws = make("POST", "https://example.okta.com/oauth2/v1/token?x=1#frag", NULL, NULL);
	const struct json *jwk;
	struct jwk_public pub = {0};
	struct buf x = BUF_INIT, y = BUF_INIT;
	struct proof p;
	okc_err err;
	double iat = 0;

	split(jws, &p);
	cr_assert_eq(json_count(p.header), 3);
	cr_assert_str_eq(str(p.header, "typ"), "dpop+jwt");
	cr_assert_str_eq(str(p.header, "alg"), "ES256");
	jwk = json_member(p.header, "jwk");
	cr_assert_eq(json_count(jwk), 4, "kty, crv, x, y and nothing private");
	cr_assert_str_eq(str(jwk, "kty"), "EC");
	cr_assert_str_eq(str(jwk, "crv"), "P-256");
	cr_assert_null(json_member(jwk, "d"));

	cr_assert_str_eq(str(p.claims, "htm"), "POST");
	cr_assert_str_eq(str(p.claims, "htu"), "https://example.okta.com/oauth2/v1/token");
	cr_assert_eq(json_get_number(p.claims, "iat", 0, 1e12, &iat), 1);
	cr_assert_eq((time_t)iat, NOW);
	cr_assert_geq(strlen(str(p.claims, "jti")), 22, "128 random bits");
	cr_assert_null(json_member(p.claims, "nonce"));
	cr_assert_null(json_member(p.claims, "ath"));

	/* JOSE's raw r||s, verified with the key the header carries. */
	cr_assert_eq(p.sig.len, 64);
	cr_assert_eq(base64url_decode(str(jwk, "x"), strlen(str(jwk, "x")), &x), 0);
	cr_assert_eq(base64url_decode(str(jwk, "y"), strlen(str(jwk, "y")), &y), 0);
	pub.alg = "ES256";
	pub.x = (const unsigned char *)x.data;
	pub.x_len = x.len;
	pub.y = (const unsigned char *)y.data;
	pub.y_len = y.len;
	cr_assert_eq(jws_verify(&pub, p.signed_part, strlen(p.signed_part),
	                        (const unsigned char *)p.sig.data, p.sig.len, &err),
	             1);
	/* A changed claim does not verify. */
	p.signed_part[strlen(p.signed_part) - 2] ^= 1;
	cr_assert_eq(jws_verify(&pub, p.signed_part, strlen(p.signed_part),
	                        (const unsigned char *)p.sig.data, p.sig.len, &err),
	             0);
	buf_free(&x);
	buf_free(&y);
	proof_free(&p);
	free(jws);
}

Test(dpop, nonce_and_ath)
{
	char *jws = make("GET", "https://example.okta.com/api/v1/users/me", "n-0nce_1", TOKEN);
	struct buf ath = BUF_INIT;
	struct proof p;

	split(jws, &p);
	cr_assert_str_eq(str(p.claims, "nonce"), "n-0nce_1");
	b64_sha256(TOKEN, &ath);
	cr_assert_str_eq(str(p.claims, "ath"), ath.data);
	cr_assert_str_eq(str(p.claims, "htm"), "GET");
	buf_free(&ath);
	proof_free(&p);
	free(jws);
}

Test(dpop, jti_is_new_every_time)
{
	char *a = make("GET", "https://example.okta.com/api/v1/x", NULL, TOKEN);
	char *b = make("GET", "https://example.okta.com/api/v1/x", NULL, TOKEN);
	struct proof pa, pb;

	split(a, &pa);
	split(b, &pb);
	cr_assert_str_neq(str(pa.claims, "jti"), str(pb.claims, "jti"));
	proof_free(&pa);
	proof_free(&pb);
	free(a);
	free(b);
}

Test(dpop, thumbprint_is_rfc7638s)
{
	char *jws = make("GET", "https://example.okta.com/", NULL, NULL);
	const struct json *jwk;
	struct buf canon = BUF_INIT, want = BUF_INIT;
	char got[44];
	struct proof p;
	okc_err err;

	split(jws, &p);
	jwk = json_member(p.header, "jwk");
	/* The required members in lexicographic order, no white space (RFC 7638 3.2). */
	buf_printf(&canon, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	           str(jwk, "x"), str(jwk, "y"));
	b64_sha256(canon.data, &want);
	cr_assert_eq(dpop_jwk_thumbprint(key, got, &err), 0, "%s", err.msg);
	cr_assert_str_eq(got, want.data);
	cr_assert_eq(strlen(got), 43);
	buf_free(&canon);
	buf_free(&want);
	proof_free(&p);
	free(jws);
}

Test(dpop, refuses_a_missing_method_or_url)
{
	struct buf out = BUF_INIT;
	okc_err err;

	cr_assert_eq(dpop_proof_make(key, "", "https://x.example/", NULL, NULL, NOW, &out, &err),
	             -1);
	cr_assert_eq(dpop_proof_make(key, "GET", NULL, NULL, NULL, NOW, &out, &err), -1);
	cr_assert_eq(out.len, 0);
}

Test(dpop, nonces_are_kept_per_server)
{
	char *n;

	cr_assert_null(dpop_nonce_get("https://a.example/x"));
	dpop_nonce_set("https://a.example/oauth2/v1/token", "one");
	dpop_nonce_set("https://b.example:8443/api", "two");
	n = dpop_nonce_get("https://a.example/api/v1/users?q=1");
	cr_assert_str_eq(n, "one");
	free(n);
	n = dpop_nonce_get("https://b.example:8443");
	cr_assert_str_eq(n, "two");
	free(n);
	cr_assert_null(dpop_nonce_get("https://b.example/api"), "another port, another server");
	dpop_nonce_set("https://a.example/", "three");
	n = dpop_nonce_get("https://a.example/");
	cr_assert_str_eq(n, "three");
	free(n);
	/* What could not go back in a claim is not kept. */
	dpop_nonce_set("https://c.example/", "bad\nnonce");
	cr_assert_null(dpop_nonce_get("https://c.example/"));
}
