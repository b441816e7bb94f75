/* assertion.h: private_key_jwt client assertions (RFC 7523) signed with OpenSSL
 * EVP: RS256 and ES256 keys from a PEM file or PEM text; and the verification of an
 * RS256/ES256 JWS with a JWK's public key (ID tokens: idtoken.h). libcrypto is loaded with
 * the first key or verification (dl.h). */
#ifndef OKTACRED_ASSERTION_H
#define OKTACRED_ASSERTION_H

#include <stddef.h>
#include <time.h>
#include "oktacred/buf.h"
#include "oktacred/err.h"

struct signing_key;

/* pem_or_path: PEM text when it starts with "-----BEGIN", else a file path (the file must
 * be a regular file, not group/other-readable: exit 1 with "chmod 600 PATH"). PKCS#1
 * ("BEGIN RSA PRIVATE KEY"), SEC1 ("BEGIN EC PRIVATE KEY") and PKCS#8 ("BEGIN PRIVATE
 * KEY") are accepted; RSA keys of at least 2048 bits and P-256 EC keys only; anything else
 * (an encrypted key, a public key, another curve) is a clear error (exit 2). */
int signing_key_load(const char *pem_or_path, struct signing_key **out, okc_err *err);
/* The same for text that is always PEM, never a path (a key of oktacred's own, whatever its
 * first bytes); what names it in errors, which never quote the text. */
int signing_key_load_pem(const char *pem, size_t len, const char *what, struct signing_key **out,
                         okc_err *err);
/* "RS256" or "ES256". */
const char *signing_key_alg(const struct signing_key *k);
void signing_key_free(struct signing_key *k);

/* Appends a compact JWS: header {"alg","typ":"JWT","kid" (when kid non-NULL)}; claims
 * iss = sub = client_id, aud = audience (the token endpoint URL), iat = now,
 * exp = now + 300, jti = 128 random bits (base64url) unique per call. ES256 signatures
 * are JOSE's raw r||s (64 bytes), not DER. */
int assertion_sign(const struct signing_key *k, const char *kid, const char *client_id,
                   const char *audience, time_t now, struct buf *out, okc_err *err);

/* A public key as a JWK gives it (RFC 7518 section 6), members decoded from base64url
 * (big-endian bytes). RS256: n and e; ES256: x and y on P-256, 32 bytes each. */
struct jwk_public {
	const char *alg; /* "RS256" or "ES256" */
	const unsigned char *n, *e, *x, *y;
	size_t n_len, e_len, x_len, y_len;
};

/* Verifies a JWS signature over data (the ASCII "header.payload") with k: RS256 is
 * RSASSA-PKCS1-v1_5 with SHA-256 (RSA keys of 2048 bits or more only), ES256 is ECDSA
 * P-256 with SHA-256 in JOSE's raw r||s form (RFC 7518 3.4). Returns 1 when it verifies;
 * 0 when it does not, or when k is no usable key (too small, a point not on the curve,
 * another alg); -1 with err when libcrypto cannot be loaded or runs out of memory. */
int jws_verify(const struct jwk_public *k, const void *data, size_t len, const unsigned char *sig,
               size_t sig_len, okc_err *err);

/* out = SHA-256(data) (the PKCE code challenge, RFC 7636). Returns 0, or -1 with err when
 * libcrypto cannot be loaded. */
int sha256_digest(const void *data, size_t len, unsigned char out[32], okc_err *err);

/* ---- keys of our own (DPoP proofs, dpop.h) ---- */

struct json;

/* Makes a P-256 key and appends it to pem as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"),
 * which signing_key_load reads. Returns 0, or -1 with err. */
int ec_key_generate_pem(struct buf *pem, okc_err *err);
/* The public point of an ES256 key: x and y, 32 bytes each. Returns 0, or -1 for a key
 * that is not ES256. */
int signing_key_ec_public(const struct signing_key *k, unsigned char x[32], unsigned char y[32]);
/* Appends the compact JWS of header and claims (each printed compactly, base64url) signed
 * with k (ES256: raw r||s). Returns 0, or -1 with err. */
int jws_sign(const struct signing_key *k, const struct json *header, const struct json *claims,
             struct buf *out, okc_err *err);
/* n random bytes from OpenSSL's generator (libcrypto loaded when needed). 0, or -1 with err. */
int random_bytes(void *out, size_t n, okc_err *err);

#endif
