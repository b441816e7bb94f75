/* assertion.c: private_key_jwt client assertions (RFC 7523): loading an RS256/ES256 key
 * from a PEM file or PEM text, and signing the short-lived JWT with OpenSSL 3 EVP; and the
 * other direction, verifying an RS256/ES256 JWS with a public key from a JWK (ID tokens);
 * making a P-256 key and signing any JWS with it (DPoP proofs, dpop.h). The one file that
 * calls libcrypto. */
#include "oktacred/assertion.h"

#include "oktacred/json.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/dl.h"
#include "oktacred/jwt.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

/* libcrypto is dlopen()ed by the first key loaded or signature verified: only service
 * accounts sign and only a login or a refresh verifies, and linking it would cost every
 * command about 0.6 ms and 1.6 MiB at start, as much as the rest of a cached
 * `oktacred token`. */
#define CRYPTO_SYMBOLS(X)                                                                          \
	X(BIO_ctrl)                                                                                \
	X(BIO_free)                                                                                \
	X(BIO_new)                                                                                 \
	X(BIO_new_mem_buf)                                                                         \
	X(BIO_s_mem)                                                                               \
	X(BN_bin2bn)                                                                               \
	X(BN_bn2binpad)                                                                            \
	X(BN_free)                                                                                 \
	X(CRYPTO_free)                                                                             \
	X(CRYPTO_malloc)                                                                           \
	X(d2i_ECDSA_SIG)                                                                           \
	X(ECDSA_SIG_free)                                                                          \
	X(ECDSA_SIG_get0)                                                                          \
	X(ECDSA_SIG_new)                                                                           \
	X(ECDSA_SIG_set0)                                                                          \
	X(ERR_clear_error)                                                                         \
	X(EVP_Digest)                                                                              \
	X(EVP_DigestSign)                                                                          \
	X(EVP_DigestSignInit)                                                                      \
	X(EVP_DigestVerify)                                                                        \
	X(EVP_DigestVerifyInit)                                                                    \
	X(EVP_MD_CTX_free)                                                                         \
	X(EVP_MD_CTX_new)                                                                          \
	X(EVP_PKEY_CTX_free)                                                                       \
	X(EVP_PKEY_CTX_new_from_name)                                                              \
	X(EVP_PKEY_CTX_set_group_name)                                                             \
	X(EVP_PKEY_CTX_set_rsa_padding)                                                            \
	X(EVP_PKEY_free)                                                                           \
	X(EVP_PKEY_fromdata)                                                                       \
	X(EVP_PKEY_fromdata_init)                                                                  \
	X(EVP_PKEY_generate)                                                                       \
	X(EVP_PKEY_get0_type_name)                                                                 \
	X(EVP_PKEY_get_bits)                                                                       \
	X(EVP_PKEY_get_octet_string_param)                                                         \
	X(EVP_PKEY_get_utf8_string_param)                                                          \
	X(EVP_PKEY_is_a)                                                                           \
	X(EVP_PKEY_keygen_init)                                                                    \
	X(EVP_sha256)                                                                              \
	X(i2d_ECDSA_SIG)                                                                           \
	X(OSSL_PARAM_BLD_free)                                                                     \
	X(OSSL_PARAM_BLD_new)                                                                      \
	X(OSSL_PARAM_BLD_push_BN)                                                                  \
	X(OSSL_PARAM_BLD_push_octet_string)                                                        \
	X(OSSL_PARAM_BLD_push_utf8_string)                                                         \
	X(OSSL_PARAM_BLD_to_param)                                                                 \
	X(OSSL_PARAM_free)                                                                         \
	X(PEM_read_bio_PrivateKey)                                                                 \
	X(PEM_write_bio_PrivateKey)                                                                \
	X(RAND_bytes)

DL_LIBRARY(libcrypto, CRYPTO_SYMBOLS, "libcrypto (OpenSSL 3)",
           "libssl3 (Debian/Ubuntu), openssl-libs (Fedora), openssl@3 (Homebrew)",
           "libcrypto.so.3");

/* Every libcrypto call below goes through the table (OPENSSL_malloc and OPENSSL_free are
 * macros for CRYPTO_malloc and CRYPTO_free). */
#define BIO_ctrl                         (*sym_BIO_ctrl)
#define BIO_free                         (*sym_BIO_free)
#define BIO_new                          (*sym_BIO_new)
#define BIO_new_mem_buf                  (*sym_BIO_new_mem_buf)
#define BIO_s_mem                        (*sym_BIO_s_mem)
#define BN_bin2bn                        (*sym_BN_bin2bn)
#define BN_bn2binpad                     (*sym_BN_bn2binpad)
#define BN_free                          (*sym_BN_free)
#define CRYPTO_free                      (*sym_CRYPTO_free)
#define CRYPTO_malloc                    (*sym_CRYPTO_malloc)
#define d2i_ECDSA_SIG                    (*sym_d2i_ECDSA_SIG)
#define ECDSA_SIG_free                   (*sym_ECDSA_SIG_free)
#define ECDSA_SIG_get0                   (*sym_ECDSA_SIG_get0)
#define ECDSA_SIG_new                    (*sym_ECDSA_SIG_new)
#define ECDSA_SIG_set0                   (*sym_ECDSA_SIG_set0)
#define ERR_clear_error                  (*sym_ERR_clear_error)
#define EVP_Digest                       (*sym_EVP_Digest)
#define EVP_DigestSign                   (*sym_EVP_DigestSign)
#define EVP_DigestSignInit               (*sym_EVP_DigestSignInit)
#define EVP_DigestVerify                 (*sym_EVP_DigestVerify)
#define EVP_DigestVerifyInit             (*sym_EVP_DigestVerifyInit)
#define EVP_MD_CTX_free                  (*sym_EVP_MD_CTX_free)
#define EVP_MD_CTX_new                   (*sym_EVP_MD_CTX_new)
#define EVP_PKEY_CTX_free                (*sym_EVP_PKEY_CTX_free)
#define EVP_PKEY_CTX_new_from_name       (*sym_EVP_PKEY_CTX_new_from_name)
#define EVP_PKEY_CTX_set_group_name      (*sym_EVP_PKEY_CTX_set_group_name)
#define EVP_PKEY_CTX_set_rsa_padding     (*sym_EVP_PKEY_CTX_set_rsa_padding)
#define EVP_PKEY_free                    (*sym_EVP_PKEY_free)
#define EVP_PKEY_fromdata                (*sym_EVP_PKEY_fromdata)
#define EVP_PKEY_fromdata_init           (*sym_EVP_PKEY_fromdata_init)
#define EVP_PKEY_generate                (*sym_EVP_PKEY_generate)
#define EVP_PKEY_get0_type_name          (*sym_EVP_PKEY_get0_type_name)
#define EVP_PKEY_get_bits                (*sym_EVP_PKEY_get_bits)
#define EVP_PKEY_get_octet_string_param  (*sym_EVP_PKEY_get_octet_string_param)
#define EVP_PKEY_get_utf8_string_param   (*sym_EVP_PKEY_get_utf8_string_param)
#define EVP_PKEY_is_a                    (*sym_EVP_PKEY_is_a)
#define EVP_PKEY_keygen_init             (*sym_EVP_PKEY_keygen_init)
#define EVP_sha256                       (*sym_EVP_sha256)
#define i2d_ECDSA_SIG                    (*sym_i2d_ECDSA_SIG)
#define OSSL_PARAM_BLD_free              (*sym_OSSL_PARAM_BLD_free)
#define OSSL_PARAM_BLD_new               (*sym_OSSL_PARAM_BLD_new)
#define OSSL_PARAM_BLD_push_BN           (*sym_OSSL_PARAM_BLD_push_BN)
#define OSSL_PARAM_BLD_push_octet_string (*sym_OSSL_PARAM_BLD_push_octet_string)
#define OSSL_PARAM_BLD_push_utf8_string  (*sym_OSSL_PARAM_BLD_push_utf8_string)
#define OSSL_PARAM_BLD_to_param          (*sym_OSSL_PARAM_BLD_to_param)
#define OSSL_PARAM_free                  (*sym_OSSL_PARAM_free)
#define PEM_read_bio_PrivateKey          (*sym_PEM_read_bio_PrivateKey)
#define PEM_write_bio_PrivateKey         (*sym_PEM_write_bio_PrivateKey)
#define RAND_bytes                       (*sym_RAND_bytes)

/* A 16384-bit RSA key is about 12 KiB of PEM: anything much larger is not a key. */
#define KEY_MAX_BYTES (64 * 1024)
/* RFC 7523 lets the server cap the lifetime; Okta allows up to an hour, 5 min is plenty. */
#define ASSERTION_LIFETIME 300

#define UNSUPPORTED_KEY "oktacred signs with RS256 (RSA >= 2048) or ES256 (P-256)"

struct signing_key {
	EVP_PKEY *pkey;
	const char *alg; /* "RS256" or "ES256" */
};

/* Never prompt: a passphrase-protected key fails to load and load_pem says why. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Reads the key file into out (the caller frees it), following a symlink (a key is often
 * linked in from a secrets mount) but judging the file itself: regular, ours, no
 * group/other permission. */
static int read_key_file(const char *path, struct buf *out, okc_err *err)
{
	int fd, rc;

	/* O_NONBLOCK: a FIFO named here must not hang us before the fstat check refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return okc_fail(err, OKC_EXIT_USAGE, "private_key file %s does not exist",
			                path);
		return okc_fail(err, OKC_EXIT_FAIL, "cannot open private_key file %s: %s", path,
		                strerror(errno));
	}
	rc = store_check_fd(fd, path, err);
	if (rc == 0 && buf_read_fd(out, fd, KEY_MAX_BYTES) < 0)
		rc = errno == EFBIG ? okc_fail(err, OKC_EXIT_USAGE,
		                               "%s is larger than %d bytes: not a PEM private key",
		                               path, KEY_MAX_BYTES)
		                    : okc_fail(err, OKC_EXIT_FAIL, "cannot read %s: %s", path,
		                               strerror(errno));
	close(fd);
	return rc;
}

/* The PEM labels in text ("-----BEGIN label-----"), summarised so that a failed load can
 * say what the text holds without quoting any of it. */
struct pem_labels {
	int any;       /* some -----BEGIN line */
	int priv;      /* a private key OpenSSL may read */
	int encrypted; /* ENCRYPTED PRIVATE KEY, or a traditional key with Proc-Type ENCRYPTED */
	int openssh;   /* OPENSSH PRIVATE KEY */
	int pub;       /* a public key or a certificate */
};

static int label_is(const char *label, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(label, want, len) == 0;
}

static int label_ends(const char *label, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(label + len - n, suffix, n) == 0;
}

static void scan_labels(const char *text, size_t len, struct pem_labels *l)
{
	static const char begin[] = "-----BEGIN ";
	const char *p = text, *end = text + len;

	memset(l, 0, sizeof(*l));
	while (p < end) {
		const char *label, *stop;
		size_t n;

		p = memchr(p, '-', (size_t)(end - p));
		if (!p)
			break;
		if ((size_t)(end - p) < sizeof(begin) - 1 ||
		    memcmp(p, begin, sizeof(begin) - 1) != 0) {
			p++;
			continue;
		}
		label = p + sizeof(begin) - 1;
		stop = memchr(label, '-', (size_t)(end - label));
		if (!stop)
			break;
		n = (size_t)(stop - label);
		l->any = 1;
		if (label_is(label, n, "ENCRYPTED PRIVATE KEY"))
			l->encrypted = 1;
		else if (label_is(label, n, "OPENSSH PRIVATE KEY"))
			l->openssh = 1;
		else if (label_ends(label, n, "PRIVATE KEY"))
			l->priv = 1;
		else if (label_ends(label, n, "PUBLIC KEY") || label_ends(label, n, "CERTIFICATE"))
			l->pub = 1;
		p = stop;
	}
	/* RFC 1421 headers of an encrypted traditional key ("BEGIN RSA PRIVATE KEY"). */
	for (p = text; p < end; p++) {
		static const char proc[] = "Proc-Type: 4,ENCRYPTED";

		p = memchr(p, 'P', (size_t)(end - p));
		if (!p)
			break;
		if ((size_t)(end - p) >= sizeof(proc) - 1 && !memcmp(p, proc, sizeof(proc) - 1)) {
			l->encrypted = 1;
			break;
		}
	}
}

/* Explains why text (named by what: a path or "the private_key PEM") gave no key. */
static int fail_unreadable(const char *text, size_t len, const char *what, int is_path,
                           okc_err *err)
{
	struct pem_labels l;

	scan_labels(text, len, &l);
	if (l.encrypted) {
		okc_fail(err, OKC_EXIT_USAGE,
		         "%s is encrypted (passphrase-protected): oktacred does not prompt for "
		         "a passphrase",
		         what);
		/* Quoted for pasting; a path holding a quote gets the placeholder. */
		if (is_path && !strchr(what, '\''))
			okc_hint(
			    err,
			    "decrypt a copy: openssl pkey -in '%s' -out NEW.pem; chmod 600 NEW.pem",
			    what);
		else
			okc_hint(err, "decrypt a copy: openssl pkey -in KEY.pem -out NEW.pem");
		return -1;
	}
	if (l.openssh && !l.priv)
		return okc_fail(err, OKC_EXIT_USAGE,
		                "%s is an OpenSSH private key: oktacred reads PEM (PKCS#1, SEC1 "
		                "or PKCS#8): convert a copy with ssh-keygen -p -m PKCS8 -f COPY",
		                what);
	if (l.pub && !l.priv)
		return okc_fail(err, OKC_EXIT_USAGE,
		                "%s holds a public key or a certificate, not a private key", what);
	if (!l.any)
		return okc_fail(err, OKC_EXIT_USAGE, "%s is not a PEM private key (no BEGIN line)",
		                what);
	/* A key pasted into a single-line variable often arrives with literal "\n". */
	if (!memchr(text, '\n', len) && strstr(text, "\\n"))
		return okc_fail(err, OKC_EXIT_USAGE,
		                "%s cannot be read: it has literal \\n sequences instead of line "
		                "breaks",
		                what);
	return okc_fail(err, OKC_EXIT_USAGE,
	                "%s cannot be read as a PEM private key (PKCS#1, SEC1 or PKCS#8)", what);
}

/* RSA of at least 2048 bits -> RS256; EC on P-256 -> ES256; nothing else. */
static int pick_alg(EVP_PKEY *pkey, const char *what, const char **alg, okc_err *err)
{
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		int bits = EVP_PKEY_get_bits(pkey);

		if (bits < 2048)
			return okc_fail(
			    err, OKC_EXIT_USAGE,
			    "unsupported key type in %s (RSA, %d bits): " UNSUPPORTED_KEY, what,
			    bits);
		*alg = "RS256";
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[80];
		size_t glen = 0;

		/* OpenSSL names explicit parameters that match a known curve (so an explicit
		 * P-256 key is accepted); any other curve, named or not, is refused. */
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                    sizeof(group), &glen))
			group[0] = '\0';
		if (strcmp(group, SN_X9_62_prime256v1) != 0)
			return okc_fail(
			    err, OKC_EXIT_USAGE,
			    "unsupported key type in %s (EC, curve %s): " UNSUPPORTED_KEY, what,
			    group[0] ? group : "unnamed");
		*alg = "ES256";
		return 0;
	}
	return okc_fail(err, OKC_EXIT_USAGE, "unsupported key type in %s (%s): " UNSUPPORTED_KEY,
	                what, EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");
}

static int load_pem(const char *text, size_t len, const char *what, int is_path,
                    struct signing_key **out, okc_err *err)
{
	struct signing_key *k;
	EVP_PKEY *pkey = NULL;
	const char *alg = NULL;
	BIO *bio;

	if (len > KEY_MAX_BYTES)
		return okc_fail(err, OKC_EXIT_USAGE,
		                "%s is larger than %d bytes: not a PEM private key", what,
		                KEY_MAX_BYTES);
	if (dl_open(&libcrypto, err) < 0)
		return -1;
	bio = BIO_new_mem_buf(text, (int)len);
	if (!bio)
		return okc_fail(err, OKC_EXIT_FAIL, "out of memory reading %s", what);
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	/* OpenSSL's queue says nothing a user can act on, and must not leak into the
	 * next caller's error report. */
	ERR_clear_error();
	if (!pkey)
		return fail_unreadable(text, len, what, is_path, err);
	if (pick_alg(pkey, what, &alg, err) < 0) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->alg = alg;
	*out = k;
	return 0;
}

int signing_key_load(const char *pem_or_path, struct signing_key **out, okc_err *err)
{
	struct buf pem = BUF_INIT;
	int rc;

	*out = NULL;
	if (!pem_or_path || !pem_or_path[0])
		return okc_fail(err, OKC_EXIT_USAGE, "private_key is empty");
	if (str_starts(pem_or_path, "-----BEGIN"))
		return load_pem(pem_or_path, strlen(pem_or_path), "the private_key PEM", 0, out,
		                err);
	rc = read_key_file(pem_or_path, &pem, err);
	if (rc == 0)
		rc = load_pem(pem.data, pem.len, pem_or_path, 1, out, err);
	buf_free(&pem); /* wipes the PEM text */
	return rc;
}

int signing_key_load_pem(const char *pem, size_t len, const char *what, struct signing_key **out,
                         okc_err *err)
{
	*out = NULL;
	return load_pem(pem, len, what, 0, out, err);
}

const char *signing_key_alg(const struct signing_key *k)
{
	return k ? k->alg : NULL;
}

void signing_key_free(struct signing_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* clears the private key material */
	free(k);
}

/* Appends the base64url form of a JSON object's compact text. */
static int append_json_b64(const struct json *obj, struct buf *out)
{
	struct buf text = BUF_INIT;
	int rc;

	json_print(obj, 0, &text);
	rc = base64url_encode(text.data, text.len, out);
	buf_free(&text);
	return rc;
}

static struct json *make_header(const char *alg, const char *kid)
{
	struct json *h = json_new(JSON_OBJECT);

	json_add_string(h, "alg", alg);
	json_add_string(h, "typ", "JWT");
	json_add_string(h, "kid", kid); /* none when NULL */
	return h;
}

/* JSON numbers are doubles: exact for whole seconds far beyond any real clock. */
static struct json *make_claims(const char *client_id, const char *audience, time_t now,
                                const char *jti)
{
	struct json *c = json_new(JSON_OBJECT);

	json_add_string(c, "iss", client_id);
	json_add_string(c, "sub", client_id);
	json_add_string(c, "aud", audience);
	json_add_number(c, "iat", (double)now);
	json_add_number(c, "exp", (double)now + ASSERTION_LIFETIME);
	json_add_string(c, "jti", jti);
	return c;
}

/* JOSE wants ES256 as r||s, 32 bytes each (RFC 7518 section 3.4); OpenSSL gives DER. */
static int ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64])
{
	const unsigned char *p = der;
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *sig;
	int rc = -1;

	if (len > 0x7fffffff)
		return -1;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!sig)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (r && s && BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

/* Signs data with SHA-256 (RSA: PKCS#1 v1.5) and appends the JOSE signature, base64url. */
static int sign_append(const struct signing_key *k, const char *data, size_t len, struct buf *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL;
	unsigned char raw[64];
	size_t siglen = 0;
	int rc = -1;

	if (!md)
		return -1;
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, k->pkey) != 1)
		goto out;
	if (EVP_PKEY_is_a(k->pkey, "RSA") &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)data, len) != 1)
		goto out;
	sig = OPENSSL_malloc(siglen);
	if (!sig || EVP_DigestSign(md, sig, &siglen, (const unsigned char *)data, len) != 1)
		goto out;
	if (strcmp(k->alg, "ES256") == 0) {
		if (ecdsa_der_to_raw(sig, siglen, raw) < 0)
			goto out;
		rc = base64url_encode(raw, sizeof(raw), out);
	} else {
		rc = base64url_encode(sig, siglen, out);
	}
out:
	OPENSSL_free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

int assertion_sign(const struct signing_key *k, const char *kid, const char *client_id,
                   const char *audience, time_t now, struct buf *out, okc_err *err)
{
	struct buf jws = BUF_INIT, jti = BUF_INIT;
	unsigned char nonce[16];
	struct json *header = NULL, *claims = NULL;
	size_t signed_len;
	int rc = -1;

	if (!k || !client_id || !client_id[0] || !audience || !audience[0])
		return okc_fail(err, OKC_EXIT_FAIL,
		                "client assertion: a key, client id and audience are required");
	if (dl_open(&libcrypto, err) < 0)
		return -1;
	/* Okta remembers each jti until the assertion expires and refuses a replay. */
	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		ERR_clear_error();
		return okc_fail(err, OKC_EXIT_FAIL,
		                "client assertion: the random number generator failed");
	}
	base64url_encode(nonce, sizeof(nonce), &jti);
	header = make_header(k->alg, kid);
	claims = make_claims(client_id, audience, now, jti.data);
	if (append_json_b64(header, &jws) < 0)
		goto oom;
	buf_putc(&jws, '.');
	if (append_json_b64(claims, &jws) < 0)
		goto oom;
	signed_len = jws.len;
	buf_putc(&jws, '.');
	if (sign_append(k, jws.data, signed_len, &jws) < 0) {
		ERR_clear_error();
		okc_fail(err, OKC_EXIT_FAIL, "client assertion: signing with the %s key failed",
		         k->alg);
		goto out;
	}
	buf_append(out, jws.data, jws.len);
	rc = 0;
	goto out;
oom:
	okc_fail(err, OKC_EXIT_FAIL, "client assertion: out of memory");
out:
	json_free(header);
	json_free(claims);
	buf_free(&jti);
	buf_free(&jws); /* the signed assertion is a bearer credential until it expires */
	return rc;
}

/* ---- verification (ID tokens) ---- */

/* The smallest RSA modulus accepted, in bytes (2048 bits), as for our own keys. */
#define RSA_MIN_BYTES 256
/* Sizes far beyond any real key: no unbounded work on what a server sent. */
#define RSA_MAX_BYTES 2048

/* A public key from the JWK's members; NULL when they do not make one. */
static EVP_PKEY *jwk_pkey(const struct jwk_public *k)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char point[65];
	int rsa = strcmp(k->alg, "RS256") == 0, ok;

	if (!bld)
		return NULL;
	if (rsa) {
		n = BN_bin2bn(k->n, (int)k->n_len, NULL);
		e = BN_bin2bn(k->e, (int)k->e_len, NULL);
		ok = n && e && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	} else {
		/* SEC 1 uncompressed point: 0x04 || x || y. */
		point[0] = 0x04;
		memcpy(point + 1, k->x, 32);
		memcpy(point + 33, k->y, 32);
		ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		                                     SN_X9_62_prime256v1, 0) &&
		     OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
		                                      sizeof(point));
	}
	if (ok)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
	/* A point not on the curve fails here. */
	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* JOSE's raw r||s (64 bytes) as the DER that OpenSSL verifies; *der is OPENSSL_malloc'd. */
static int ecdsa_raw_to_der(const unsigned char *raw, unsigned char **der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
	int len = -1;

	*der = NULL;
	if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
		r = s = NULL; /* sig owns them */
		len = i2d_ECDSA_SIG(sig, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return len;
}

int jws_verify(const struct jwk_public *k, const void *data, size_t len, const unsigned char *sig,
               size_t sig_len, okc_err *err)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL;
	const unsigned char *s = sig;
	size_t slen = sig_len;
	int rsa, rc = 0;

	if (!k || !k->alg)
		return 0;
	rsa = strcmp(k->alg, "RS256") == 0;
	if (rsa) {
		/* The modulus without leading zeros: its size is the key's, and the
		 * signature's (RFC 8017 8.2.2). */
		size_t nl = k->n_len;
		const unsigned char *n = k->n;

		while (nl > 0 && n[0] == 0) {
			n++;
			nl--;
		}
		if (!n || !k->e || nl < RSA_MIN_BYTES || nl > RSA_MAX_BYTES || k->e_len == 0 ||
		    k->e_len > 8 || sig_len != nl)
			return 0;
	} else if (strcmp(k->alg, "ES256") == 0) {
		if (!k->x || !k->y || k->x_len != 32 || k->y_len != 32 || sig_len != 64)
			return 0;
	} else {
		return 0;
	}
	if (dl_open(&libcrypto, err) < 0)
		return -1;
	pkey = jwk_pkey(k);
	if (!pkey)
		goto out;
	if (!rsa) {
		int n = ecdsa_raw_to_der(sig, &der);

		if (n <= 0)
			goto out;
		s = der;
		slen = (size_t)n;
	}
	md = EVP_MD_CTX_new();
	if (!md) {
		rc = okc_fail(err, OKC_EXIT_FAIL, "out of memory verifying a signature");
		goto out;
	}
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1)
		goto out;
	if (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	rc = EVP_DigestVerify(md, s, slen, (const unsigned char *)data, len) == 1;
out:
	/* A failed verification leaves OpenSSL's error queue full of nothing useful. */
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return rc;
}

int sha256_digest(const void *data, size_t len, unsigned char out[32], okc_err *err)
{
	unsigned int n = 0;

	if (dl_open(&libcrypto, err) < 0)
		return -1;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		ERR_clear_error();
		return okc_fail(err, OKC_EXIT_FAIL, "SHA-256 failed");
	}
	return 0;
}

/* ---- keys of our own (DPoP, RFC 9449) ---- */

int ec_key_generate_pem(struct buf *pem, okc_err *err)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int rc = -1;

	if (dl_open(&libcrypto, err) < 0)
		return -1;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_group_name(ctx, SN_X9_62_prime256v1) == 1 &&
	    EVP_PKEY_generate(ctx, &pkey) == 1)
		bio = BIO_new(BIO_s_mem());
	/* PKCS#8, unencrypted: the file's mode protects it, as a service account's key. */
	if (bio && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0 && data) {
			buf_append(pem, data, (size_t)n);
			rc = 0;
		}
	}
	if (rc < 0) {
		ERR_clear_error();
		okc_fail(err, OKC_EXIT_FAIL, "cannot make a P-256 key");
	}
	BIO_free(bio); /* a memory BIO clears its buffer only when freed: it holds the key */
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int signing_key_ec_public(const struct signing_key *k, unsigned char x[32], unsigned char y[32])
{
	unsigned char point[65];
	size_t len = 0;

	if (!k || strcmp(k->alg, "ES256") != 0 ||
	    EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
	                                    &len) != 1 ||
	    len != sizeof(point) || point[0] != 0x04) {
		if (k)
			ERR_clear_error();
		return -1;
	}
	memcpy(x, point + 1, 32);
	memcpy(y, point + 33, 32);
	return 0;
}

int jws_sign(const struct signing_key *k, const struct json *header, const struct json *claims,
             struct buf *out, okc_err *err)
{
	struct buf jws = BUF_INIT;
	size_t signed_len;
	int rc = -1;

	if (append_json_b64(header, &jws) < 0)
		goto out;
	buf_putc(&jws, '.');
	if (append_json_b64(claims, &jws) < 0)
		goto out;
	signed_len = jws.len;
	buf_putc(&jws, '.');
	if (sign_append(k, jws.data, signed_len, &jws) < 0) {
		ERR_clear_error();
		okc_fail(err, OKC_EXIT_FAIL, "signing with the %s key failed", k->alg);
		goto out;
	}
	buf_append(out, jws.data, jws.len);
	rc = 0;
out:
	buf_free(&jws);
	return rc;
}

int random_bytes(void *out, size_t n, okc_err *err)
{
	if (dl_open(&libcrypto, err) < 0)
		return -1;
	if (n > 0x7fffffff || RAND_bytes(out, (int)n) != 1) {
		ERR_clear_error();
		return okc_fail(err, OKC_EXIT_FAIL, "the random number generator failed");
	}
	return 0;
}
