/* idtoken.h: the validation of an ID token when it arrives from the identity provider
 * (OpenID Connect Core 3.1.3.7), at login and at every refresh, before it is saved: its
 * signature against the issuer's JWKS (RS256, ES256), iss, aud, azp, exp and iat. The
 * JWKS is cached next to tokens.json (okta/<provider>/jwks.json) for its Cache-Control
 * lifetime. The cached path never calls this: it trusts what it saved. */
#ifndef OKTACRED_IDTOKEN_H
#define OKTACRED_IDTOKEN_H

#include <time.h>
#include "oktacred/err.h"

struct json;
struct provider_cfg;

/* The file next to tokens.json, and the longest it is kept (Cache-Control's max-age is
 * honoured up to this, so that a key the provider withdrew is not trusted for weeks). */
#define IDTOKEN_JWKS_FILE    "jwks.json"
#define IDTOKEN_JWKS_MAX_AGE 86400L
/* Allowed clock difference for exp and iat, seconds. */
#define IDTOKEN_LEEWAY 120L

/* What a valid ID token must say. */
struct idtoken_want {
	const char *issuer;    /* iss, exactly: ORG (org server) or ORG/oauth2/ID */
	const char *client_id; /* in aud; azp, when present, equal to it */
	const char *nonce;     /* the login's nonce, which the token must carry; NULL: none sent */
};

/* check's answer when the JWKS holds no usable key for the token (its kid unknown): the
 * caller may fetch the keys again, once. */
#define IDTOKEN_NO_KEY 2

/* Checks jwt against want and the JWKS object jwks ({"keys": [...]}): the header's alg is
 * RS256 or ES256 (no "crit"), the key is the JWKS key with the header's kid (or the only
 * key of the right type when the token names none) whose kty fits the alg and whose use and
 * alg, when present, are "sig" and the token's alg; the signature verifies; iss equals
 * want->issuer; aud (a string or an array) contains want->client_id; azp, when present,
 * equals it; exp and iat are present, exp not more than IDTOKEN_LEEWAY in the past, iat
 * not more than that in the future. Returns 0 when valid; IDTOKEN_NO_KEY; -1 with err:
 * exit 4, "the identity provider sent an invalid ID token: <why>" (what the token says
 * is escaped), or exit 1 when libcrypto cannot be loaded. */
int idtoken_check(const char *jwt, const struct idtoken_want *want, const struct json *jwks,
                  time_t now, okc_err *err);

/* The whole validation of an ID token p's authorization server just sent: the JWKS from
 * jwks.json when it is fresh and was fetched from p's keys URL, else (or when the token's
 * kid is not in it) fetched once from the keys endpoint and saved with its Cache-Control
 * lifetime (atomically, 0600; removed when the answer may not be cached). The caller holds
 * p's lock. Returns 0, or -1 with err: the token invalid (as idtoken_check, *invalid set
 * to 1 when invalid is not NULL), or the keys could not be had (exit 4 naming the URL;
 * *invalid 0). */
int idtoken_verify(const struct provider_cfg *p, const char *jwt, int *invalid, okc_err *err);
/* idtoken_verify of the ID token a login that sent nonce (the authorization code flow)
 * got: its nonce claim must be that one. nonce NULL: idtoken_verify. */
int idtoken_verify_nonce(const struct provider_cfg *p, const char *jwt, const char *nonce,
                         int *invalid, okc_err *err);

#endif
