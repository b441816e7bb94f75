/* test_assertion.c: private_key_jwt signing from src/assertion.c with keys generated at
 * test time (no private key is committed): every signature verified, every refusal named. */
#include <criterion/criterion.h>
#include "oktacred/json.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/assertion.h"
#include "oktacred/buf.h"
#include "oktacred/jwt.h"
#include "oktacred/util.h"

#define CLIENT "0oaSERVICE"
#define AUD    "https://company.okta.com/oauth2/v1/token"
#define NOW    ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

#include "helpers.h"

static char tmpdir[] = "/tmp/okc-assertion-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
	test_rmtree(tmpdir);
}

TestSuite(assertion, .init = setup, .fini = teardown, .timeout = 60);

/* ---- keys and files ---- */

static EVP_PKEY *gen_rsa(unsigned bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	cr_assert_not_null(k);
	return k;
}

static EVP_PKEY *gen_ec(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	cr_assert_not_null(k);
	return k;
}

static char *bio_text(BIO *bio)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *s;

	cr_assert_gt(n, 0);
	s = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return s;
}

enum pem_form { PKCS8, TRADITIONAL, PKCS8_ENCRYPTED, TRADITIONAL_ENCRYPTED, PUBLIC, CERT };

static char *pem_of(EVP_PKEY *k, enum pem_form form)
{
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char pass[] = "correct horse";
	int ok = 0;

	cr_assert_not_null(bio);
	switch (form) {
	case PKCS8: ok = PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL); break;
	case TRADITIONAL:
		ok = PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL, NULL);
		break;
	case PKCS8_ENCRYPTED:
		ok = PEM_write_bio_PKCS8PrivateKey(bio, k, EVP_aes_256_cbc(), NULL, 0, NULL,
		                                   (char *)pass);
		break;
	case TRADITIONAL_ENCRYPTED:
		ok = PEM_write_bio_PrivateKey_traditional(bio, k, EVP_aes_256_cbc(), pass,
		                                          (int)strlen((char *)pass), NULL, NULL);
		break;
	case PUBLIC: ok = PEM_write_bio_PUBKEY(bio, k); break;
	case CERT: {
		X509 *x = X509_new();
		X509_NAME *name = X509_NAME_new();

		cr_assert(x && name);
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)"test", -1,
		                           -1, 0);
		ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
		X509_gmtime_adj(X509_getm_notBefore(x), 0);
		X509_gmtime_adj(X509_getm_notAfter(x), 3600);
		X509_set_subject_name(x, name);
		X509_set_issuer_name(x, name);
		X509_set_pubkey(x, k);
		cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
		ok = PEM_write_bio_X509(bio, x);
		X509_NAME_free(name);
		X509_free(x);
		break;
	}
	}
	cr_assert_eq(ok, 1, "writing PEM form %d", (int)form);
	return bio_text(bio);
}

static char *write_key(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);

	test_write_file(path, text, strlen(text), mode);
	return path;
}

/* A base64 line from the middle of a PEM: key material no message may quote. */
static char *body_line(const char *pem)
{
	const char *p = strchr(pem, '\n');
	const char *e;

	cr_assert_not_null(p);
	p++;
	e = strchr(p, '\n');
	cr_assert_not_null(e);
	cr_assert_gt(e - p, 20);
	return xstrndup(p, (size_t)(e - p));
}

/* ---- decoding and verifying what assertion_sign produced ---- */

struct jws {
	struct json *header;
	struct json *claims;
	char *signing_input; /* "h.c" */
	struct buf sig;
};

static struct json *decode_json(const char *b64, size_t len)
{
	struct buf raw = BUF_INIT;
	struct json *j;

	cr_assert_eq(base64url_decode(b64, len, &raw), 0);
	j = json_parse(raw.data, raw.len);
	cr_assert_not_null(j, "not JSON: %s", raw.data);
	buf_free(&raw);
	return j;
}

static void jws_split(const char *token, struct jws *out)
{
	const char *d1 = strchr(token, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	cr_assert_not_null(d2, "not a compact JWS: %s", token);
	cr_assert_null(strchr(d2 + 1, '.'));
	cr_assert_eq(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                           "0123456789-_."),
	             strlen(token), "not base64url without padding: %s", token);
	out->header = decode_json(token, (size_t)(d1 - token));
	out->claims = decode_json(d1 + 1, (size_t)(d2 - d1 - 1));
	out->signing_input = xstrndup(token, (size_t)(d2 - token));
	out->sig = (struct buf)BUF_INIT;
	cr_assert_eq(base64url_decode(d2 + 1, strlen(d2 + 1), &out->sig), 0);
}

static void jws_free(struct jws *j)
{
	json_free(j->header);
	json_free(j->claims);
	free(j->signing_input);
	buf_free(&j->sig);
}

static const char *str_claim(const struct json *obj, const char *key)
{
	const struct json *v = json_member(obj, key);

	cr_assert(json_is(v, JSON_STRING), "%s is not a string", key);
	return v->str;
}

static double num_claim(const struct json *obj, const char *key)
{
	const struct json *v = json_member(obj, key);

	cr_assert(json_is(v, JSON_NUMBER), "%s is not a number", key);
	return v->num;
}

/* JOSE's raw r||s back to the DER OpenSSL verifies. */
static void raw_to_der(const struct buf *raw, unsigned char **der, size_t *len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn((const unsigned char *)raw->data, 32, NULL);
	BIGNUM *s = BN_bin2bn((const unsigned char *)raw->data + 32, 32, NULL);
	int n;

	cr_assert(sig && r && s);
	cr_assert_eq(ECDSA_SIG_set0(sig, r, s), 1);
	*der = NULL;
	n = i2d_ECDSA_SIG(sig, der);
	cr_assert_gt(n, 0);
	*len = (size_t)n;
	ECDSA_SIG_free(sig);
}

/* Verifies with a public-only key re-read from its PEM, so the check does not lean on
 * the private half of the same object. */
static int verify(const struct jws *j, EVP_PKEY *keypair, const char *alg)
{
	char *pub_pem = pem_of(keypair, PUBLIC);
	BIO *bio = BIO_new_mem_buf(pub_pem, -1);
	EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = (unsigned char *)j->sig.data, *der = NULL;
	size_t siglen = j->sig.len;
	int ok;

	cr_assert(pub && md);
	if (strcmp(alg, "ES256") == 0) {
		cr_assert_eq(j->sig.len, 64, "ES256 signature is %zu bytes, not raw r||s",
		             j->sig.len);
		raw_to_der(&j->sig, &der, &siglen);
		sig = der;
	} else {
		cr_assert_eq((int)j->sig.len, EVP_PKEY_get_size(pub));
	}
	cr_assert_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)j->signing_input,
	                      strlen(j->signing_input));
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	free(pub_pem);
	return ok == 1;
}

/* Loads pem_or_path, signs, verifies the signature and checks every header field and
 * claim. Returns the jti (caller frees). */
static char *sign_and_check(const char *pem_or_path, EVP_PKEY *keypair, const char *alg,
                            const char *kid, const char *client, const char *aud)
{
	struct signing_key *k = NULL;
	struct buf out = BUF_INIT;
	okc_err err = {0};
	struct jws j;
	const char *jti;
	struct buf jti_raw = BUF_INIT;
	char *ret;

	cr_assert_eq(signing_key_load(pem_or_path, &k, &err), 0, "load: %s", err.msg);
	cr_assert_not_null(k);
	cr_assert_str_eq(signing_key_alg(k), alg);
	cr_assert_eq(assertion_sign(k, kid, client, aud, NOW, &out, &err), 0, "sign: %s", err.msg);
	jws_split(out.data, &j);
	cr_assert(verify(&j, keypair, alg), "%s signature does not verify", alg);

	cr_assert_str_eq(str_claim(j.header, "alg"), alg);
	cr_assert_str_eq(str_claim(j.header, "typ"), "JWT");
	if (kid)
		cr_assert_str_eq(str_claim(j.header, "kid"), kid);
	else
		cr_assert_null(json_member(j.header, "kid"));
	cr_assert_eq(json_count(j.header), kid ? 3 : 2);

	cr_assert_str_eq(str_claim(j.claims, "iss"), client);
	cr_assert_str_eq(str_claim(j.claims, "sub"), client);
	cr_assert_str_eq(str_claim(j.claims, "aud"), aud);
	cr_assert_eq(num_claim(j.claims, "iat"), (double)NOW);
	cr_assert_eq(num_claim(j.claims, "exp") - num_claim(j.claims, "iat"), 300.0);
	jti = str_claim(j.claims, "jti");
	cr_assert_eq(strlen(jti), 22, "jti %s", jti);
	cr_assert_eq(base64url_decode(jti, strlen(jti), &jti_raw), 0);
	cr_assert_eq(jti_raw.len, 16);
	cr_assert_eq(json_count(j.claims), 6);
	ret = xstrdup(jti);

	buf_free(&jti_raw);
	jws_free(&j);
	buf_free(&out);
	signing_key_free(k);
	return ret;
}

static void sign_and_check_simple(const char *pem_or_path, EVP_PKEY *keypair, const char *alg,
                                  const char *kid)
{
	free(sign_and_check(pem_or_path, keypair, alg, kid, CLIENT, AUD));
}

/* ---- signing ---- */

Test(assertion, rs256_from_pkcs8_and_pkcs1_files_and_text)
{
	EVP_PKEY *rsa = gen_rsa(2048);
	char *p8 = pem_of(rsa, PKCS8), *p1 = pem_of(rsa, TRADITIONAL);
	char *f8 = write_key("rsa8.pem", p8, 0600), *f1 = write_key("rsa1.pem", p1, 0600);

	cr_assert(str_starts(p8, "-----BEGIN PRIVATE KEY-----"));
	cr_assert(str_starts(p1, "-----BEGIN RSA PRIVATE KEY-----"));
	sign_and_check_simple(f8, rsa, "RS256", "kid-1");
	sign_and_check_simple(f1, rsa, "RS256", NULL);
	sign_and_check_simple(p8, rsa, "RS256", NULL);
	sign_and_check_simple(p1, rsa, "RS256", "kid-2");
	free(p8);
	free(p1);
	free(f8);
	free(f1);
	EVP_PKEY_free(rsa);
}

Test(assertion, rs256_with_a_3072_bit_key)
{
	EVP_PKEY *rsa = gen_rsa(3072);
	char *p8 = pem_of(rsa, PKCS8);

	sign_and_check_simple(p8, rsa, "RS256", "k");
	free(p8);
	EVP_PKEY_free(rsa);
}

Test(assertion, es256_from_pkcs8_and_sec1_files_and_text)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *p8 = pem_of(ec, PKCS8), *sec1 = pem_of(ec, TRADITIONAL);
	char *f8 = write_key("ec8.pem", p8, 0600), *f1 = write_key("ec1.pem", sec1, 0600);

	cr_assert(str_starts(p8, "-----BEGIN PRIVATE KEY-----"));
	cr_assert(str_starts(sec1, "-----BEGIN EC PRIVATE KEY-----"));
	sign_and_check_simple(f8, ec, "ES256", "kid-1");
	sign_and_check_simple(f1, ec, "ES256", NULL);
	sign_and_check_simple(p8, ec, "ES256", "kid-3");
	sign_and_check_simple(sec1, ec, "ES256", NULL);
	free(p8);
	free(sec1);
	free(f8);
	free(f1);
	EVP_PKEY_free(ec);
}

/* `openssl ecparam -genkey` writes an EC PARAMETERS block before the key. */
Test(assertion, es256_sec1_after_ec_parameters_block)
{
	EVP_PKEY *ec = gen_ec("P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	char *text, *path;

	cr_assert_eq(PEM_write_bio_Parameters(bio, ec), 1);
	cr_assert_eq(PEM_write_bio_PrivateKey_traditional(bio, ec, NULL, NULL, 0, NULL, NULL), 1);
	text = bio_text(bio);
	cr_assert(str_starts(text, "-----BEGIN EC PARAMETERS-----"), "%s", text);
	path = write_key("ecparam.pem", text, 0600);
	sign_and_check_simple(path, ec, "ES256", "k");
	free(path);
	free(text);
	EVP_PKEY_free(ec);
}

/* A symlink (secrets mounts are made of them) is followed; its target is what is judged. */
Test(assertion, key_file_through_a_symlink)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *pem = pem_of(ec, PKCS8);
	char *target = write_key("real.pem", pem, 0600);
	char *link = xasprintf("%s/link.pem", tmpdir);
	struct signing_key *k = NULL;
	okc_err err = {0};

	cr_assert_eq(symlink(target, link), 0);
	sign_and_check_simple(link, ec, "ES256", NULL);
	cr_assert_eq(chmod(target, 0644), 0);
	cr_assert_eq(signing_key_load(link, &k, &err), -1);
	cr_assert_not_null(strstr(err.hint, "chmod 600"), "%s", err.hint);
	free(link);
	free(target);
	free(pem);
	EVP_PKEY_free(ec);
}

Test(assertion, jti_is_fresh_on_every_call)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *pem = pem_of(ec, PKCS8);
	char *a = sign_and_check(pem, ec, "ES256", NULL, CLIENT, AUD);
	char *b = sign_and_check(pem, ec, "ES256", NULL, CLIENT, AUD);

	cr_assert_str_neq(a, b);
	free(a);
	free(b);
	free(pem);
	EVP_PKEY_free(ec);
}

/* Values are JSON-escaped, not pasted into a template. */
Test(assertion, claims_are_json_escaped)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *pem = pem_of(ec, PKCS8);

	free(sign_and_check(pem, ec, "ES256", "k\"id\\1", "0oa\"},\"x\":\"y", AUD "?a=\"b\"\n"));
	free(pem);
	EVP_PKEY_free(ec);
}

Test(assertion, appends_to_the_callers_buffer)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *pem = pem_of(ec, PKCS8);
	struct signing_key *k = NULL;
	struct buf out = BUF_INIT;
	okc_err err = {0};
	struct jws j;

	cr_assert_eq(signing_key_load(pem, &k, &err), 0, "%s", err.msg);
	buf_puts(&out, "client_assertion=");
	cr_assert_eq(assertion_sign(k, NULL, CLIENT, AUD, NOW, &out, &err), 0);
	cr_assert(str_starts(out.data, "client_assertion=ey"));
	jws_split(out.data + strlen("client_assertion="), &j);
	cr_assert(verify(&j, ec, "ES256"));
	jws_free(&j);
	buf_free(&out);
	signing_key_free(k);
	signing_key_free(NULL);
	cr_assert_null(signing_key_alg(NULL));
	free(pem);
	EVP_PKEY_free(ec);
}

/* ---- an independent verifier: PyJWT (python3-jwt), when installed ---- */

static const char pyjwt_check[] =
    "import sys\n"
    "try:\n"
    "    import jwt\n"
    "except ImportError:\n"
    "    sys.exit(77)\n"
    "tok, pub, alg, kid, aud, iss = sys.argv[1:7]\n"
    "h = jwt.get_unverified_header(tok)\n"
    "assert h == {'alg': alg, 'typ': 'JWT', 'kid': kid}, h\n"
    "c = jwt.decode(tok, open(pub).read(), algorithms=[alg], audience=aud, issuer=iss,\n"
    "               options={'require': ['exp', 'iat', 'iss', 'sub', 'aud', 'jti']})\n"
    "assert c['sub'] == iss and c['exp'] - c['iat'] == 300, c\n";

static void pyjwt_verify(EVP_PKEY *keypair, const char *alg)
{
	char *priv = pem_of(keypair, PKCS8), *pub = pem_of(keypair, PUBLIC);
	char *pub_path = write_key("pub.pem", pub, 0600);
	struct signing_key *k = NULL;
	struct buf out = BUF_INIT;
	okc_err err = {0};
	int status;
	pid_t pid;

	if (access("/usr/bin/python3", X_OK) != 0)
		cr_skip_test("no /usr/bin/python3");
	cr_assert_eq(signing_key_load(priv, &k, &err), 0, "%s", err.msg);
	/* PyJWT checks exp against the clock, so sign for now. */
	cr_assert_eq(assertion_sign(k, "kid-9", CLIENT, AUD, time(NULL), &out, &err), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", "-c", pyjwt_check, out.data, pub_path, alg,
		      "kid-9", AUD, CLIENT, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		cr_skip_test("python3-jwt is not installed");
	cr_assert_eq(WEXITSTATUS(status), 0, "PyJWT rejected the %s assertion", alg);
	buf_free(&out);
	signing_key_free(k);
	free(pub_path);
	free(pub);
	free(priv);
}

Test(assertion, pyjwt_accepts_rs256)
{
	EVP_PKEY *rsa = gen_rsa(2048);

	pyjwt_verify(rsa, "RS256");
	EVP_PKEY_free(rsa);
}

Test(assertion, pyjwt_accepts_es256)
{
	EVP_PKEY *ec = gen_ec("P-256");

	pyjwt_verify(ec, "ES256");
	EVP_PKEY_free(ec);
}

/* ---- refusals ---- */

/* Loads and expects failure with code, msg containing want (and hint containing
 * want_hint when non-NULL), and no trace of secret in msg or hint. */
static void expect_refusal(const char *pem_or_path, int code, const char *want,
                           const char *want_hint, const char *secret)
{
	struct signing_key *k = (struct signing_key *)1;
	okc_err err = {0};

	cr_assert_eq(signing_key_load(pem_or_path, &k, &err), -1);
	cr_assert_null(k);
	cr_assert_eq(err.code, code, "code %d, msg %s", err.code, err.msg);
	cr_assert_not_null(strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
	if (want_hint)
		cr_assert_not_null(strstr(err.hint, want_hint), "hint \"%s\" lacks \"%s\"",
		                   err.hint, want_hint);
	if (secret) {
		cr_assert_null(strstr(err.msg, secret), "message quotes the key: %s", err.msg);
		cr_assert_null(strstr(err.hint, secret), "hint quotes the key: %s", err.hint);
	}
	cr_assert_null(strstr(err.msg, "-----BEGIN"), "%s", err.msg);
}

Test(assertion, refuses_group_or_other_readable_key_file)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *pem = pem_of(ec, PKCS8), *line = body_line(pem);
	char *open_file = write_key("open.pem", pem, 0644);
	char *group_file = write_key("group.pem", pem, 0640);
	char *want = xasprintf("chmod 600 %s", open_file);

	expect_refusal(open_file, 1, open_file, want, line);
	expect_refusal(group_file, 1, "group.pem", "chmod 600", line);
	free(want);
	free(open_file);
	free(group_file);
	free(line);
	free(pem);
	EVP_PKEY_free(ec);
}

Test(assertion, refuses_missing_file_and_directory)
{
	char *missing = xasprintf("%s/nope.pem", tmpdir);

	expect_refusal(missing, 2, missing, NULL, NULL);
	expect_refusal(missing, 2, "does not exist", NULL, NULL);
	expect_refusal(tmpdir, 1, "not a regular file", NULL, NULL);
	expect_refusal("", 2, "private_key", NULL, NULL);
	free(missing);
}

/* Loads pem_or_path in a child with no controlling terminal and the right passphrase
 * waiting on stdin, which is where OpenSSL's default callback reads when /dev/tty is
 * missing: a loader that prompts would get the key. Returns the child's exit status:
 * 100 when the key loaded, else the error code. */
static int load_offered_passphrase(const char *pem_or_path)
{
	const char answer[] = "correct horse\ncorrect horse\n";
	int fds[2], status;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct signing_key *k = NULL;
		okc_err err = {0};

		close(fds[1]);
		dup2(fds[0], STDIN_FILENO);
		setsid();
		alarm(10); /* a prompt that still found a terminal ends as SIGALRM */
		_exit(signing_key_load(pem_or_path, &k, &err) == 0 ? 100 : err.code);
	}
	close(fds[0]);
	cr_assert_eq(write(fds[1], answer, strlen(answer)), (ssize_t)strlen(answer));
	close(fds[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the loader was killed by signal %d (a prompt?)",
	          WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

Test(assertion, refuses_encrypted_keys_without_prompting)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *p8 = pem_of(ec, PKCS8_ENCRYPTED), *trad = pem_of(ec, TRADITIONAL_ENCRYPTED);
	char *line8 = body_line(p8);
	char *f8 = write_key("enc8.pem", p8, 0600);
	char *want_hint = xasprintf("openssl pkey -in '%s'", f8);

	cr_assert(str_starts(p8, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	cr_assert_not_null(strstr(trad, "Proc-Type: 4,ENCRYPTED"));
	cr_assert_eq(load_offered_passphrase(p8), 2, "an encrypted PKCS#8 key was decrypted");
	cr_assert_eq(load_offered_passphrase(f8), 2);
	cr_assert_eq(load_offered_passphrase(trad), 2, "an encrypted PKCS#1 key was decrypted");
	expect_refusal(p8, 2, "the private_key PEM is encrypted", "openssl pkey", line8);
	expect_refusal(f8, 2, "is encrypted (passphrase-protected)", want_hint, line8);
	expect_refusal(trad, 2, "encrypted", NULL, NULL);
	free(want_hint);
	free(line8);
	free(f8);
	free(p8);
	free(trad);
	EVP_PKEY_free(ec);
}

Test(assertion, refuses_small_rsa_other_curves_and_other_types)
{
	EVP_PKEY *rsa1024 = gen_rsa(1024), *p384 = gen_ec("P-384");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char *r = pem_of(rsa1024, PKCS8), *e = pem_of(p384, TRADITIONAL), *d = pem_of(ed, PKCS8);
	char *rl = body_line(r), *el = body_line(e);
	char *rfile = write_key("rsa1024.pem", r, 0600);
	const char *why = "oktacred signs with RS256 (RSA >= 2048) or ES256 (P-256)";

	cr_assert_not_null(ed);
	expect_refusal(r, 2, "unsupported key type", NULL, rl);
	expect_refusal(r, 2, why, NULL, rl);
	expect_refusal(r, 2, "the private_key PEM", NULL, rl);
	expect_refusal(rfile, 2, rfile, NULL, rl);
	expect_refusal(e, 2, "unsupported key type", NULL, el);
	expect_refusal(e, 2, "secp384r1", NULL, el);
	expect_refusal(d, 2, why, NULL, NULL);
	free(rfile);
	free(rl);
	free(el);
	free(r);
	free(e);
	free(d);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(ed);
}

Test(assertion, refuses_public_keys_and_certificates)
{
	EVP_PKEY *ec = gen_ec("P-256");
	char *pub = pem_of(ec, PUBLIC), *cert = pem_of(ec, CERT);
	char *pfile = write_key("pub.pem", pub, 0600);

	expect_refusal(pub, 2, "public key or a certificate, not a private key", NULL, NULL);
	expect_refusal(pfile, 2, "not a private key", NULL, NULL);
	expect_refusal(cert, 2, "not a private key", NULL, NULL);
	free(pfile);
	free(pub);
	free(cert);
	EVP_PKEY_free(ec);
}

Test(assertion, refuses_garbage)
{
	const char *bad_b64 = "-----BEGIN PRIVATE KEY-----\nnot*base64*at*all\n"
	                      "-----END PRIVATE KEY-----\n";
	char *text_file = write_key("words.pem", "hello, I am not a key\n", 0600);
	char *empty_file = write_key("empty.pem", "", 0600);
	char *one_line;
	EVP_PKEY *ec = gen_ec("P-256");
	char *pem = pem_of(ec, PKCS8), *line = body_line(pem);
	struct buf flat = BUF_INIT;
	const char *p;

	expect_refusal(bad_b64, 2, "cannot be read as a PEM private key", NULL, "not*base64");
	expect_refusal(text_file, 2, "not a PEM private key", NULL, "hello");
	expect_refusal(empty_file, 2, "not a PEM private key", NULL, NULL);
	expect_refusal("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
	               "-----END OPENSSH PRIVATE KEY-----\n",
	               2, "OpenSSH", NULL, "b3BlbnNz");
	/* A key squashed into one line with literal \n, as single-line CI variables do. */
	for (p = pem; *p; p++)
		buf_puts(&flat, *p == '\n' ? "\\n" : (char[]){*p, '\0'});
	one_line = buf_detach(&flat);
	expect_refusal(one_line, 2, "literal \\n", NULL, line);
	free(one_line);
	free(text_file);
	free(empty_file);
	free(line);
	free(pem);
	EVP_PKEY_free(ec);
}
