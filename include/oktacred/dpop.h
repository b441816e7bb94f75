/* dpop.h: DPoP (RFC 9449): a P-256 key per provider, kept in the provider's state
 * directory, and the proofs that bind its tokens to it: one per request, sent in a DPoP
 * header. The nonces servers ask for are remembered per server for the process. */
#ifndef OKTACRED_DPOP_H
#define OKTACRED_DPOP_H

#include <stddef.h>
#include <time.h>

#include "oktacred/buf.h"
#include "oktacred/err.h"

struct provider_cfg;
struct signing_key;

/* The key file in the provider's directory (0600, PKCS#8 PEM); with token_store = keyring
 * the same PEM is the keyring item of this kind instead (logout deletes both). */
#define DPOP_KEY_FILE     "dpop-key.pem"
#define DPOP_KEYRING_KIND "dpop_key"

/* Builds one proof (a compact JWS) into out: header {"typ":"dpop+jwt","alg":"ES256","jwk":
 * {"kty":"EC","crv":"P-256","x","y"}}; claims jti (128 random bits, base64url, new each
 * call), htm = method, htu = url without its query and fragment, iat = now, nonce when
 * not NULL, ath = base64url(SHA-256(access_token)) when access_token is not NULL. k must be
 * an ES256 key. Returns 0, or -1 with err. */
int dpop_proof_make(const struct signing_key *k, const char *method, const char *url,
                    const char *nonce, const char *access_token, time_t now, struct buf *out,
                    okc_err *err);

/* The key's RFC 7638 JWK thumbprint (base64url of the SHA-256 of
 * {"crv":"P-256","kty":"EC","x":...,"y":...}), what a bound token's cnf.jkt holds: 43
 * characters and a NUL. Returns 0, or -1 with err. */
int dpop_jwk_thumbprint(const struct signing_key *k, char out[44], okc_err *err);

/* p's key: loaded from its directory, or made there at first use (written whole to a
 * temporary file, then linked into place only when no other process did so first: every
 * process ends up with the same key); with token_store = keyring, from the keyring (made
 * and stored there at first use). Kept for the process (thread-safe once loaded; the
 * first call loads libcrypto, which is not: call it before starting threads). Returns 0 with
 * *out (the process's, not to be freed), or -1 with err. */
int dpop_key(const struct provider_cfg *p, struct signing_key **out, okc_err *err);

/* Removes p's key file (logout). Returns 0, OKC_NOENT when there was none, or -1. */
int dpop_key_remove(const struct provider_cfg *p, okc_err *err);

/* The nonce last given by url's server (its origin), allocated, or NULL; and remembering
 * one (a DPoP-Nonce header). Thread-safe. */
char *dpop_nonce_get(const char *url);
void dpop_nonce_set(const char *url, const char *nonce);

/* Appends "DPoP: PROOF" (no CRLF) for a request of p's: its key, the server's remembered
 * nonce, ath of access_token when not NULL. Returns 0, or -1 with err. */
int dpop_header(const struct provider_cfg *p, const char *method, const char *url,
                const char *access_token, struct buf *line, okc_err *err);

#endif
