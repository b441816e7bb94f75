/* idtoken.c: an ID token validated when it arrives (OpenID Connect Core 3.1.3.7): its
 * RS256/ES256 signature against the issuer's JWKS (assertion.c does the cryptography), and
 * its iss, aud, azp, exp and iat claims. The JWKS is cached in okta/<provider>/jwks.json for
 * the lifetime its Cache-Control gives. */
#include "oktacred/idtoken.h"

#include "oktacred/json.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/assertion.h"
#include "oktacred/buf.h"
#include "oktacred/config.h"
#include "oktacred/http.h"
#include "oktacred/json.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define INVALID "the identity provider sent an invalid ID token"
/* An ID token of a few KiB is large; a JWKS of a few keys too. */
#define JWT_MAX  (64 * 1024)
#define JWKS_MAX (256 * 1024)

/* Fails with INVALID and why (formatted). Returns -1. */
static int invalid(okc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int invalid(okc_err *err, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return okc_fail(err, OKC_EXIT_NETWORK, INVALID ": %s", why);
}

/* A part of the compact JWS decoded from base64url (no padding, nothing else). */
static int decode_part(const char *s, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '=')
			return -1;
	return base64url_decode(s, len, out) < 0 || !out->data ? -1 : 0;
}

/* A JSON object decoded from a part; NULL when it is not one. */
static struct json *decode_object(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	struct json *o = NULL;

	if (decode_part(s, len, &b) == 0)
		o = json_parse_object(b.data, b.len);
	buf_free(&b);
	return o;
}

/* A base64url member of a JWK, decoded into out; -1 when absent or bad. */
static int jwk_bytes(const struct json *jwk, const char *key, struct buf *out)
{
	const char *v;

	if (json_get_string(jwk, key, &v) != 1 || !*v)
		return -1;
	return decode_part(v, strlen(v), out);
}

/* Whether jwk may verify a token signed with alg: kty fits, use and alg (when present)
 * allow it. */
static int jwk_fits(const struct json *jwk, const char *alg)
{
	const char *kty, *use, *jalg, *crv;

	if (!json_is(jwk, JSON_OBJECT) || json_get_string(jwk, "kty", &kty) != 1)
		return 0;
	if (json_get_string(jwk, "use", &use) < 0 ||
	    (json_get_string(jwk, "use", &use) == 1 && strcmp(use, "sig") != 0))
		return 0;
	if (json_get_string(jwk, "alg", &jalg) < 0 ||
	    (json_get_string(jwk, "alg", &jalg) == 1 && strcmp(jalg, alg) != 0))
		return 0;
	if (strcmp(alg, "RS256") == 0)
		return strcmp(kty, "RSA") == 0;
	return strcmp(kty, "EC") == 0 && json_get_string(jwk, "crv", &crv) == 1 &&
	       strcmp(crv, "P-256") == 0;
}

/* The key for a token with this alg and kid (NULL: none named): the JWKS key with that
 * kid that fits, or, without a kid, the only key that fits. */
static const struct json *find_key(const struct json *jwks, const char *alg, const char *kid)
{
	const struct json *keys = json_member(jwks, "keys"), *k, *found = NULL;
	int n = 0;

	if (!json_is(keys, JSON_ARRAY))
		return NULL;
	json_each (k, keys) {
		const char *kkid;
		int r = json_get_string(k, "kid", &kkid);

		if (!jwk_fits(k, alg))
			continue;
		if (kid) {
			if (r == 1 && strcmp(kkid, kid) == 0)
				return k;
			continue;
		}
		found = k;
		n++;
	}
	return n == 1 ? found : NULL;
}

/* 1 when the signature verifies with jwk, 0 when not, -1 with err. */
static int verify_with(const struct json *jwk, const char *alg, const char *signed_part, size_t len,
                       const struct buf *sig, okc_err *err)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct jwk_public pub = {0};
	int rc = 0;

	pub.alg = alg;
	if (strcmp(alg, "RS256") == 0) {
		if (jwk_bytes(jwk, "n", &a) == 0 && jwk_bytes(jwk, "e", &b) == 0) {
			pub.n = (const unsigned char *)a.data;
			pub.n_len = a.len;
			pub.e = (const unsigned char *)b.data;
			pub.e_len = b.len;
			rc = jws_verify(&pub, signed_part, len, (const unsigned char *)sig->data,
			                sig->len, err);
		}
	} else if (jwk_bytes(jwk, "x", &a) == 0 && jwk_bytes(jwk, "y", &b) == 0) {
		pub.x = (const unsigned char *)a.data;
		pub.x_len = a.len;
		pub.y = (const unsigned char *)b.data;
		pub.y_len = b.len;
		rc = jws_verify(&pub, signed_part, len, (const unsigned char *)sig->data, sig->len,
		                err);
	}
	buf_free(&a);
	buf_free(&b);
	return rc;
}

/* Whether aud (a string or an array of them) holds client_id. */
static int aud_has(const struct json *aud, const char *client_id)
{
	const struct json *a;

	if (json_is(aud, JSON_STRING))
		return aud->str && strcmp(aud->str, client_id) == 0;
	if (!json_is(aud, JSON_ARRAY))
		return 0;
	json_each (a, aud) {
		if (json_is(a, JSON_STRING) && a->str && strcmp(a->str, client_id) == 0)
			return 1;
	}
	return 0;
}

/* The claims of OIDC Core 3.1.3.7 items 2, 3, 4 (azp), 9 and 10. */
static int check_claims(const struct json *c, const struct idtoken_want *want, time_t now,
                        okc_err *err)
{
	const char *iss, *azp, *nonce;
	char text[256], when[21];
	double exp, iat;
	int r;

	r = json_get_string(c, "iss", &iss);
	if (r != 1)
		return invalid(err, "it has no issuer (iss)");
	if (strcmp(iss, want->issuer) != 0) {
		text_escape(text, sizeof(text), iss);
		return invalid(err, "its issuer is \"%s\", not %s", text, want->issuer);
	}
	if (!aud_has(json_member(c, "aud"), want->client_id))
		return invalid(err, "its audience (aud) does not include the client id %s",
		               want->client_id);
	r = json_get_string(c, "azp", &azp);
	if (r < 0 || (r == 1 && strcmp(azp, want->client_id) != 0)) {
		text_escape(text, sizeof(text), r == 1 ? azp : "(not a string)");
		return invalid(err, "its authorized party (azp) is \"%s\", not the client id %s",
		               text, want->client_id);
	}
	/* OIDC Core 3.1.3.7 item 11: the nonce this login sent, so that an ID token of
	 * another login (injected into this one's redirect) is refused. */
	if (want->nonce &&
	    (json_get_string(c, "nonce", &nonce) != 1 || !str_eq_ct(nonce, want->nonce)))
		return invalid(err, "its nonce is not the one this login sent");
	if (json_get_number(c, "exp", 0, 1e11, &exp) != 1)
		return invalid(err, "it has no valid expiry (exp)");
	if (json_get_number(c, "iat", 0, 1e11, &iat) != 1)
		return invalid(err, "it has no valid issue time (iat)");
	if ((double)now > exp + IDTOKEN_LEEWAY) {
		time_format_utc((time_t)exp, when);
		return invalid(err, "it expired at %s (check the clock)", when);
	}
	if (iat > (double)now + IDTOKEN_LEEWAY) {
		time_format_utc((time_t)iat, when);
		return invalid(err, "it was issued in the future, at %s (check the clock)", when);
	}
	return 0;
}

int idtoken_check(const char *jwt, const struct idtoken_want *want, const struct json *jwks,
                  time_t now, okc_err *err)
{
	const char *dot1, *dot2, *alg, *kid = NULL;
	struct json *header = NULL, *claims = NULL;
	struct buf sig = BUF_INIT;
	const struct json *key;
	char text[128];
	size_t len;
	int rc = -1, r;

	len = jwt ? strlen(jwt) : 0;
	dot1 = jwt ? strchr(jwt, '.') : NULL;
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (len > JWT_MAX || !dot2 || strchr(dot2 + 1, '.') || dot1 == jwt || dot2 == dot1 + 1)
		return invalid(err, "it is not a JWT (header.payload.signature)");
	header = decode_object(jwt, (size_t)(dot1 - jwt));
	claims = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!header || !claims) {
		invalid(err, "its %s is not a base64url JSON object",
		        header ? "payload" : "header");
		goto out;
	}
	if (json_get_string(header, "alg", &alg) != 1) {
		invalid(err, "its header has no alg");
		goto out;
	}
	if (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0) {
		text_escape(text, sizeof(text), alg);
		invalid(err, "it is signed with \"%s\"; oktacred accepts RS256 and ES256", text);
		goto out;
	}
	/* RFC 7515 4.1.11: extensions we do not know must be refused. */
	if (json_member(header, "crit")) {
		invalid(err, "its header has critical extensions (crit)");
		goto out;
	}
	if (!dot2[1] || decode_part(dot2 + 1, strlen(dot2 + 1), &sig) < 0) {
		invalid(err, "its signature is missing or not base64url");
		goto out;
	}
	r = json_get_string(header, "kid", &kid);
	if (r < 0) {
		invalid(err, "its header's kid is not a string");
		goto out;
	}
	if (r == 0)
		kid = NULL;
	text_escape(text, sizeof(text), kid ? kid : "");
	key = find_key(jwks, alg, kid);
	if (!key) {
		rc = IDTOKEN_NO_KEY;
		invalid(err, "no %s key %s%s%s in the JWKS", alg,
		        kid ? "with kid \"" : "(the token names no kid)", kid ? text : "",
		        kid ? "\"" : "");
		goto out;
	}
	r = verify_with(key, alg, jwt, (size_t)(dot2 - jwt), &sig, err);
	if (r < 0)
		goto out;
	if (r == 0) {
		invalid(err, "its signature does not verify with the JWKS key%s%s%s",
		        kid ? " \"" : "", kid ? text : "", kid ? "\"" : "");
		goto out;
	}
	rc = check_claims(claims, want, now, err);
out:
	json_free(header);
	json_free_secret(claims);
	buf_free(&sig);
	return rc;
}

/* ---- the JWKS: jwks.json, or the keys endpoint ---- */

struct jwks_place {
	char *root, *dir;
	char *url; /* the keys endpoint */
};

static void place_free(struct jwks_place *pl)
{
	free(pl->root);
	free(pl->dir);
	free(pl->url);
}

/* The cached JWKS when jwks.json holds a fresh one from this keys URL; else NULL. A file
 * that cannot be read or is not ours is only noted: the keys are fetched instead. */
static struct json *load_cached(const struct jwks_place *pl, time_t now)
{
	struct buf data = BUF_INIT;
	struct json *root, *jwks = NULL;
	const char *url;
	time_t expires = 0;
	okc_err err;
	int rc;

	rc = store_read_in(pl->root, pl->dir, IDTOKEN_JWKS_FILE, JWKS_MAX, &data, NULL, &err);
	if (rc != 0) {
		if (rc < 0)
			log_verbose("not using the cached JWKS: %s", err.msg);
		buf_free(&data);
		return NULL;
	}
	root = json_parse_object(data.data, data.len);
	buf_free(&data);
	if (root && json_get_string(root, "keys_url", &url) == 1 && strcmp(url, pl->url) == 0 &&
	    json_get_time(root, "expires_at", &expires) == 1 && expires > now) {
		jwks = json_detach(root, "jwks");
		if (!json_is(json_member(jwks, "keys"), JSON_ARRAY)) {
			json_free(jwks);
			jwks = NULL;
		}
	}
	json_free(root);
	return jwks;
}

/* Saves jwks for lifetime seconds (0: removes the file, the answer may not be kept).
 * Failing to keep it only costs a fetch next time: a warning. */
static void save_cached(const struct jwks_place *pl, const struct json *jwks, time_t now,
                        long lifetime)
{
	struct json *root;
	struct buf text = BUF_INIT;
	okc_err err;

	if (store_ensure_dir(pl->root, pl->dir, &err) < 0) {
		log_warn("cannot keep the identity provider's keys: %s", err.msg);
		return;
	}
	if (lifetime <= 0) {
		if (store_remove(pl->dir, IDTOKEN_JWKS_FILE, &err) < 0)
			log_warn("%s", err.msg);
		return;
	}
	root = json_new(JSON_OBJECT);
	json_add_string(root, "keys_url", pl->url);
	json_add_time(root, "fetched_at", now);
	json_add_time(root, "expires_at", now + lifetime);
	json_set(root, "jwks", json_copy(jwks));
	json_print(root, 0, &text);
	if (store_write_atomic(pl->dir, IDTOKEN_JWKS_FILE, text.data, text.len, &err) < 0)
		log_warn("cannot keep the identity provider's keys: %s", err.msg);
	buf_free(&text);
	json_free(root);
}

/* GETs the JWKS from the keys endpoint; saves it. NULL with err (exit 4) when it cannot. */
static struct json *fetch(const struct provider_cfg *p, const struct jwks_place *pl, okc_err *err)
{
	struct http_opts opts;
	struct http_request req = {0};
	struct http_response resp = {0};
	char host[256];
	struct json *jwks = NULL;
	long age;

	oauth_http_opts(p, &opts);
	req.method = "GET";
	req.url = pl->url;
	req.accept = "application/json";
	log_verbose("%s: fetching the identity provider's keys from %s", p->name, pl->url);
	if (http_request(&opts, &req, &resp, err) < 0) {
		http_response_free(&resp);
		okc_wrap(err, "%s: cannot fetch the identity provider's keys", p->name);
		return NULL;
	}
	http_url_host(pl->url, host, sizeof(host));
	if (resp.status == 200)
		jwks = json_parse_object(resp.body.data, resp.body.len);
	if (!jwks || !json_is(json_member(jwks, "keys"), JSON_ARRAY)) {
		okc_fail(err, OKC_EXIT_NETWORK,
		         "%s: cannot fetch the identity provider's keys: %s answered %s (HTTP %ld)",
		         p->name, host, resp.status == 200 ? "no JWKS" : "an error", resp.status);
		json_free(jwks);
		http_response_free(&resp);
		return NULL;
	}
	age = http_max_age(resp.cache_control);
	if (age < 0)
		age = 0; /* no lifetime given: used for this token only */
	if (age > IDTOKEN_JWKS_MAX_AGE)
		age = IDTOKEN_JWKS_MAX_AGE;
	save_cached(pl, jwks, now_utc(), age);
	http_response_free(&resp);
	return jwks;
}

int idtoken_verify(const struct provider_cfg *p, const char *jwt, int *invalid_out, okc_err *err)
{
	return idtoken_verify_nonce(p, jwt, NULL, invalid_out, err);
}

int idtoken_verify_nonce(const struct provider_cfg *p, const char *jwt, const char *nonce,
                         int *invalid_out, okc_err *err)
{
	struct oauth_endpoints ep;
	struct idtoken_want want;
	struct jwks_place pl = {0};
	struct json *jwks;
	time_t now = now_utc();
	int rc = -1, fetched = 0;

	if (invalid_out)
		*invalid_out = 0;
	if (oauth_endpoints_for(p, &ep, err) < 0)
		return -1;
	if (paths_provider_root(p->base_path, &pl.root, err) < 0 ||
	    paths_provider_dir(p->base_path, p->name, &pl.dir, err) < 0)
		goto out;
	pl.url = xstrdup(ep.keys);
	want.issuer = ep.issuer;
	want.client_id = p->client_id;
	want.nonce = nonce;
	jwks = load_cached(&pl, now);
	if (!jwks) {
		jwks = fetch(p, &pl, err);
		fetched = 1;
	}
	if (!jwks)
		goto out;
	rc = idtoken_check(jwt, &want, jwks, now, err);
	if (rc == IDTOKEN_NO_KEY && !fetched) {
		/* A key the cache does not know yet: the provider may have rotated. Once. */
		log_verbose("%s: the ID token's key is not in the cached JWKS; fetching it again",
		            p->name);
		json_free(jwks);
		jwks = fetch(p, &pl, err);
		if (!jwks)
			goto out;
		rc = idtoken_check(jwt, &want, jwks, now, err);
	}
	json_free(jwks);
	if (rc != 0) {
		if (invalid_out && err->code == OKC_EXIT_NETWORK)
			*invalid_out = 1;
		okc_wrap(err, "%s", p->name);
		rc = -1;
	}
out:
	place_free(&pl);
	oauth_endpoints_free(&ep);
	return rc;
}
