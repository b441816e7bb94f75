/* dpop.c: DPoP proofs (RFC 9449) and the per-provider key they are signed with. The
 * signing itself is assertion.c's (libcrypto, loaded on first use). */
#include "oktacred/dpop.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/assertion.h"
#include "oktacred/config.h"
#include "oktacred/json.h"
#include "oktacred/jwt.h"
#include "oktacred/keyring.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/tokens.h"
#include "oktacred/util.h"

#define KEY_MAX (16 * 1024)

/* ---- proofs ---- */

static void b64(const unsigned char *data, size_t n, char *out, size_t size)
{
	struct buf b = BUF_INIT;

	base64url_encode(data, n, &b);
	snprintf(out, size, "%s", b.data ? b.data : "");
	buf_free(&b);
}

/* x and y of k, base64url (43 characters each). */
static int public_xy(const struct signing_key *k, char x[48], char y[48], okc_err *err)
{
	unsigned char bx[32], by[32];

	if (signing_key_ec_public(k, bx, by) < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "the DPoP key is not a P-256 key");
	b64(bx, sizeof(bx), x, 48);
	b64(by, sizeof(by), y, 48);
	return 0;
}

int dpop_proof_make(const struct signing_key *k, const char *method, const char *url,
                    const char *nonce, const char *access_token, time_t now, struct buf *out,
                    okc_err *err)
{
	struct json *header, *claims, *jwk;
	unsigned char rnd[16], digest[32];
	char x[48], y[48], jti[32], ath[48];
	size_t ulen;
	int rc;

	if (!method || !method[0] || !url || !url[0])
		return okc_fail(err, OKC_EXIT_FAIL, "a DPoP proof needs a method and a URL");
	if (public_xy(k, x, y, err) < 0 || random_bytes(rnd, sizeof(rnd), err) < 0)
		return -1;
	b64(rnd, sizeof(rnd), jti, sizeof(jti));
	if (access_token) {
		if (sha256_digest(access_token, strlen(access_token), digest, err) < 0)
			return -1;
		b64(digest, sizeof(digest), ath, sizeof(ath));
	}
	/* RFC 9449 4.2: htu is the URI without query and fragment. */
	ulen = strcspn(url, "?#");
	header = json_new(JSON_OBJECT);
	json_add_string(header, "typ", "dpop+jwt");
	json_add_string(header, "alg", "ES256");
	jwk = json_add_object(header, "jwk");
	json_add_string(jwk, "kty", "EC");
	json_add_string(jwk, "crv", "P-256");
	json_add_string(jwk, "x", x);
	json_add_string(jwk, "y", y);
	claims = json_new(JSON_OBJECT);
	json_add_string(claims, "jti", jti);
	json_add_string(claims, "htm", method);
	{
		char *htu = xstrndup(url, ulen);

		json_add_string(claims, "htu", htu);
		free(htu);
	}
	json_add_number(claims, "iat", (double)now);
	json_add_string(claims, "nonce", nonce); /* none when NULL */
	if (access_token)
		json_add_string(claims, "ath", ath);
	rc = jws_sign(k, header, claims, out, err);
	json_free(header);
	json_free(claims);
	return rc;
}

int dpop_jwk_thumbprint(const struct signing_key *k, char out[44], okc_err *err)
{
	char x[48], y[48];
	unsigned char digest[32];
	struct buf canon = BUF_INIT;
	int rc;

	if (public_xy(k, x, y, err) < 0)
		return -1;
	/* RFC 7638 3.2: the required members, in lexicographic order, no white space. */
	buf_printf(&canon, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	rc = sha256_digest(canon.data, canon.len, digest, err);
	buf_free(&canon);
	if (rc < 0)
		return -1;
	b64(digest, sizeof(digest), out, 44);
	return 0;
}

/* ---- nonces, per server ---- */

struct nonce {
	char *origin;
	char *value;
};

static pthread_mutex_t nonce_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nonce *nonces;
static size_t nnonces;

/* scheme://authority of url, allocated. */
static char *origin_of(const char *url)
{
	const char *s = strstr(url, "://");
	size_t n = s ? (size_t)(s + 3 - url) + strcspn(s + 3, "/?#") : strlen(url);

	return xstrndup(url, n);
}

char *dpop_nonce_get(const char *url)
{
	char *o = origin_of(url), *v = NULL;
	size_t i;

	pthread_mutex_lock(&nonce_mu);
	for (i = 0; i < nnonces; i++)
		if (strcmp(nonces[i].origin, o) == 0)
			v = xstrdup(nonces[i].value);
	pthread_mutex_unlock(&nonce_mu);
	free(o);
	return v;
}

void dpop_nonce_set(const char *url, const char *nonce)
{
	char *o;
	size_t i;

	/* A nonce goes back in a JSON claim: printable ASCII only (RFC 9449 8.1 says NQCHAR). */
	if (!nonce || !nonce[0] || strlen(nonce) > 1024 || !tokens_is_vschar(nonce))
		return;
	o = origin_of(url);
	pthread_mutex_lock(&nonce_mu);
	for (i = 0; i < nnonces && strcmp(nonces[i].origin, o) != 0; i++)
		;
	if (i == nnonces) {
		nonces = xrealloc(nonces, (nnonces + 1) * sizeof(*nonces));
		nonces[nnonces].origin = o;
		nonces[nnonces].value = NULL;
		nnonces++;
		o = NULL;
	}
	free(nonces[i].value);
	nonces[i].value = xstrdup(nonce);
	pthread_mutex_unlock(&nonce_mu);
	free(o);
}

/* ---- the key ---- */

struct loaded_key {
	char *dir;
	struct signing_key *key;
};

static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;
static struct loaded_key *keys;
static size_t nkeys;

/* Makes a key and puts it in dir, unless another process was first (then its key stays).
 * Returns 0 (the file is there), or -1. */
static int create_key(const char *dir, okc_err *err)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct buf pem = BUF_INIT;
	unsigned char rnd[6];
	char tmpname[64], suffix[7];
	char *tmp = NULL, *final = NULL;
	int rc, tries, e;
	size_t i;

	if (ec_key_generate_pem(&pem, err) < 0)
		return -1;
	final = paths_join(dir, DPOP_KEY_FILE);
	for (tries = 0;; tries++) {
		/* store_write_atomic writes the whole file 0600 and fsyncs it under a temporary
		 * name; link() then puts it in place only if no key is there yet. The name is
		 * one store_remove_temps knows (".NAME.XXXXXX"): what a process killed before
		 * its unlink leaves is removed with the next lock or logout, not kept forever. */
		rc = random_bytes(rnd, sizeof(rnd), err);
		if (rc < 0)
			break;
		for (i = 0; i < sizeof(rnd); i++)
			suffix[i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
		suffix[sizeof(rnd)] = '\0';
		snprintf(tmpname, sizeof(tmpname), ".%s.%s", DPOP_KEY_FILE, suffix);
		rc = store_write_atomic(dir, tmpname, pem.data, pem.len, err);
		if (rc < 0)
			break;
		free(tmp);
		tmp = paths_join(dir, tmpname);
		e = link(tmp, final) < 0 ? errno : 0;
		unlink(tmp);
		if (e == 0 || e == EEXIST) {
			log_verbose("DPoP key: %s", final);
			break;
		}
		/* ENOENT: a process taking the provider's lock removed our file as a crash's
		 * leftover. Once more. */
		if (e != ENOENT || tries >= 2) {
			rc = okc_fail(err, OKC_EXIT_FAIL, "cannot create %s: %s", final,
			              strerror(e));
			break;
		}
	}
	buf_free(&pem); /* wipes it */
	free(tmp);
	free(final);
	return rc;
}

/* token_store = keyring: the key's PEM in the Secret Service (kind DPOP_KEYRING_KIND), made
 * and stored at first use. Two processes making one at once: the last stored wins, and
 * both read it back, so that at most a request or two of the loser were bound elsewhere.
 * Returns 0 with pem filled, or -1. */
static int keyring_key(const struct provider_cfg *p, struct buf *pem, okc_err *err)
{
	char *s = NULL;
	int rc = keyring_lookup(p->name, DPOP_KEYRING_KIND, &s, err);

	if (rc == OKC_NOENT) {
		struct buf fresh = BUF_INIT;

		rc = ec_key_generate_pem(&fresh, err);
		if (rc == 0)
			rc = keyring_store(p->name, DPOP_KEYRING_KIND, fresh.data, err);
		buf_free(&fresh);
		if (rc == 0)
			rc = keyring_lookup(p->name, DPOP_KEYRING_KIND, &s, err);
		if (rc == OKC_NOENT)
			rc = okc_fail(err, OKC_EXIT_FAIL,
			              "%s: the DPoP key vanished from the keyring", p->name);
	}
	if (rc == 0)
		buf_puts(pem, s);
	if (s) {
		wipe(s, strlen(s));
		free(s);
	}
	if (rc < 0)
		okc_wrap(err, "%s: DPoP key (token_store = keyring)", p->name);
	return rc < 0 ? -1 : 0;
}

int dpop_key(const struct provider_cfg *p, struct signing_key **out, okc_err *err)
{
	char *root = NULL, *dir = NULL, *path = NULL;
	struct buf pem = BUF_INIT;
	struct signing_key *k = NULL;
	size_t i;
	int rc = -1, tries;

	*out = NULL;
	if (paths_provider_root(p->base_path, &root, err) < 0 ||
	    paths_provider_dir(p->base_path, p->name, &dir, err) < 0)
		goto out;
	pthread_mutex_lock(&key_mu);
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].dir, dir) == 0)
			*out = keys[i].key;
	if (*out) {
		rc = 0;
		goto unlock;
	}
	if (p->token_store == TOKEN_STORE_KEYRING) {
		rc = keyring_key(p, &pem, err);
	} else {
		for (tries = 0; tries < 2; tries++) {
			free(path);
			path = NULL;
			rc = store_read_in(root, dir, DPOP_KEY_FILE, KEY_MAX, &pem, &path, err);
			if (rc != OKC_NOENT || tries > 0)
				break;
			if (store_ensure_dir(root, dir, err) < 0 || create_key(dir, err) < 0) {
				rc = -1;
				break;
			}
		}
		if (rc == OKC_NOENT)
			rc = okc_fail(err, OKC_EXIT_FAIL, "%s: the DPoP key vanished", p->name);
	}
	/* The text is a key, never a path to open (signing_key_load would take text without a
	 * leading "-----BEGIN" for one, and quote it in its error). */
	if (rc == 0 &&
	    signing_key_load_pem(pem.data ? pem.data : "", pem.len, "the DPoP key", &k, err) < 0) {
		okc_wrap(err, "%s", p->name);
		rc = -1;
	}
	if (rc == 0 && strcmp(signing_key_alg(k), "ES256") != 0) {
		rc = okc_fail(err, OKC_EXIT_FAIL, "%s: the DPoP key is not a P-256 key", p->name);
		okc_hint(err, "remove it: oktacred logout %s", p->name);
	}
	if (rc < 0) {
		signing_key_free(k);
		goto unlock;
	}
	keys = xrealloc(keys, (nkeys + 1) * sizeof(*keys));
	keys[nkeys].dir = dir;
	keys[nkeys].key = k;
	nkeys++;
	dir = NULL;
	*out = k;
unlock:
	pthread_mutex_unlock(&key_mu);
out:
	buf_free(&pem);
	free(path);
	free(root);
	free(dir);
	return rc;
}

int dpop_key_remove(const struct provider_cfg *p, okc_err *err)
{
	char *root = NULL, *dir = NULL;
	int rc = -1;

	if (paths_provider_root(p->base_path, &root, err) == 0 &&
	    paths_provider_dir(p->base_path, p->name, &dir, err) == 0)
		rc = store_remove_in(root, dir, DPOP_KEY_FILE, err);
	free(root);
	free(dir);
	return rc;
}

int dpop_header(const struct provider_cfg *p, const char *method, const char *url,
                const char *access_token, struct buf *line, okc_err *err)
{
	struct signing_key *k;
	char *nonce;
	int rc;

	if (dpop_key(p, &k, err) < 0)
		return -1;
	nonce = dpop_nonce_get(url);
	buf_puts(line, "DPoP: ");
	rc = dpop_proof_make(k, method, url, nonce, access_token, now_utc(), line, err);
	free(nonce);
	return rc;
}
