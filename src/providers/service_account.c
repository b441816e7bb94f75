/* service_account.c: a machine's access token from the client credentials grant,
 * authenticated with private_key_jwt (RFC 7523) or client_secret_basic, cached like a
 * session and renewed under the provider's lock when it nears expiry. */
#include <stdlib.h>
#include <string.h>

#include "oktacred/assertion.h"
#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/http.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

#define CLIENT_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* The kind's own keys. */
struct service_account_cfg {
	char *private_key; /* a path (~ expanded) or PEM text */
	char *private_key_id;
	char *client_secret;
	char *client_secret_env; /* the environment variable holding the client secret */
};

static const struct service_account_cfg *sa_of(const struct provider_cfg *p)
{
	return p->kind_cfg;
}

/* private_key_jwt (an oauth_client_auth's add): a client assertion for url, signed now,
 * with its own jti, since Okta refuses one it has seen, even from a request whose answer
 * was lost. */
struct sa_auth {
	const struct provider_cfg *p;
	const struct signing_key *key;
};

static int sa_auth_add(void *ctx, const char *url, struct buf *form, okc_err *err)
{
	const struct sa_auth *a = ctx;
	struct buf assertion = BUF_INIT;

	if (assertion_sign(a->key, sa_of(a->p)->private_key_id, a->p->client_id, url, now_utc(),
	                   &assertion, err) < 0)
		return -1;
	http_form_add(form, "client_assertion_type", CLIENT_ASSERTION_TYPE);
	http_form_add(form, "client_assertion", assertion.data);
	buf_free(&assertion);
	return 0;
}

/* The client secret: client_secret, or the variable client_secret_env names; NULL with
 * private_key. Fails (exit 3, like an unset API token) when that variable is not set. */
static int client_secret(const struct provider_cfg *p, const char **out, okc_err *err)
{
	const struct service_account_cfg *sa = sa_of(p);
	const char *v;

	*out = sa->client_secret;
	if (!sa->client_secret_env)
		return 0;
	v = getenv(sa->client_secret_env);
	if (!v || !*v) {
		okc_fail(err, OKC_EXIT_LOGIN, "%s: no client secret: $%s is not set", p->name,
		         sa->client_secret_env);
		okc_hint(err, "export %s with the client secret of the Okta app",
		         sa->client_secret_env);
		return -1;
	}
	*out = v;
	return 0;
}

/* The client authentication of p's requests, the same at every endpoint: with a key
 * (loaded into *key, which the caller frees) private_key_jwt, else client_secret_basic. */
static int sa_client_auth(const struct provider_cfg *p, struct signing_key **key, struct sa_auth *a,
                          struct oauth_client_auth *auth, okc_err *err)
{
	*key = NULL;
	memset(auth, 0, sizeof(*auth));
	if (sa_of(p)->private_key) {
		if (signing_key_load(sa_of(p)->private_key, key, err) < 0)
			return okc_wrap(err, "%s", p->name);
		a->p = p;
		a->key = *key;
		auth->add = sa_auth_add;
		auth->ctx = a;
	} else {
		if (client_secret(p, &auth->basic_pass, err) < 0)
			return -1;
		auth->basic_user = p->client_id;
	}
	return 0;
}

struct cc_form {
	const struct provider_cfg *p;
	const struct oauth_client_auth *auth;
	const char *url; /* the token endpoint */
};

/* The form of one attempt (an oauth_form_fn): the grant and, with a key, a newly signed
 * client assertion. */
static int cc_form_build(void *ctx, struct buf *form, okc_err *err)
{
	const struct cc_form *c = ctx;

	http_form_add(form, "grant_type", "client_credentials");
	http_form_add(form, "scope", c->p->scopes);
	return c->auth->add ? c->auth->add(c->auth->ctx, c->url, form, err) : 0;
}

/* grant_type=client_credentials; a refresh_renew_fn, called under the lock. */
static int client_credentials(const struct provider_cfg *p, struct tokens **t, okc_err *err)
{
	struct oauth_endpoints ep;
	struct oauth_error oerr;
	struct oauth_client_auth auth;
	struct signing_key *key = NULL;
	struct sa_auth sa;
	struct cc_form form;
	struct tokens *fresh = NULL;
	int rc = -1;

	if (oauth_endpoints_for(p, &ep, err) < 0)
		return -1;
	if (sa_client_auth(p, &key, &sa, &auth, err) < 0)
		goto out;
	form.p = p;
	form.auth = &auth;
	form.url = ep.token;
	log_verbose("%s: requesting an access token (client credentials)", p->name);
	rc = oauth_token_request_auth(p, cc_form_build, &form, auth.basic_user, auth.basic_pass,
	                              &fresh, &oerr, err);
	if (rc == OAUTH_ERROR) {
		rc = okc_fail(err, OKC_EXIT_FAIL,
		              "%s: the identity provider refused the client "
		              "credentials: %s%s%s",
		              p->name, oerr.error, oerr.description[0] ? ": " : "",
		              oerr.description);
		if (strcmp(oerr.error, "invalid_client") == 0)
			okc_hint(err, "check client_id, %s of [provider %s] against the Okta app",
			         sa_of(p)->private_key     ? "private_key and private_key_id"
			         : sa_of(p)->client_secret ? "client_secret"
			                                   : "the secret in $client_secret_env",
			         p->name);
		goto out;
	}
	if (rc < 0) {
		okc_wrap(err, "%s: cannot get an access token", p->name);
		goto out;
	}
	/* The same session while the cache holds one: what was derived from it stays good. */
	tokens_continue_session(fresh, *t);
	rc = cache_save(p, fresh, err);
	if (rc == 0) {
		tokens_free(*t);
		*t = fresh;
		fresh = NULL;
	}
out:
	tokens_free(fresh);
	signing_key_free(key);
	oauth_endpoints_free(&ep);
	return rc;
}

/* Revocation authenticates as the token request does (RFC 7009 2.1). */
static int service_account_revoke(const struct provider_cfg *p, const char *token,
                                  const char *type_hint, okc_err *err)
{
	struct oauth_client_auth auth;
	struct signing_key *key = NULL;
	struct sa_auth sa;
	int rc = sa_client_auth(p, &key, &sa, &auth, err);

	if (rc == 0)
		rc = oauth_revoke(p, &auth, token, type_hint, err);
	signing_key_free(key);
	return rc;
}

static int service_account_tokens(const struct provider_cfg *p, enum refresh_need need,
                                  struct tokens **out, okc_err *err)
{
	if (need == NEED_ID_TOKEN)
		return okc_fail(err, OKC_EXIT_USAGE,
		                "%s: an okta/service-account provider has no ID token", p->name);
	return refresh_with(p, need, 0, client_credentials, out, err);
}

/* PEM text, or a path to it. */
static int set_private_key(struct config_ctx *c, const struct config_key *k, void *obj,
                           const char *v)
{
	struct service_account_cfg *sa = obj;

	if (str_starts(v, "-----BEGIN")) {
		sa->private_key = xstrdup(v);
		if (str_starts(config_raw(c), "-----BEGIN"))
			config_secret_in_file(c, "a private key");
		return 0;
	}
	/* A mangled key pasted in must not end up in the message. */
	if (v[0] != '/' && !(v[0] == '~' && (v[1] == '/' || v[1] == '\0')))
		return config_fail(c, "private_key is neither PEM text (-----BEGIN ...) nor an "
		                      "absolute path (or one starting with ~/)");
	return config_set_path(c, k, obj, v);
}

static int set_client_secret(struct config_ctx *c, const struct config_key *k, void *obj,
                             const char *v)
{
	struct service_account_cfg *sa = obj;

	(void)k;
	sa->client_secret = xstrdup(v);
	if (config_raw_has_text(c))
		config_secret_in_file(c, "a client_secret");
	return 0;
}

static int set_client_secret_env(struct config_ctx *c, const struct config_key *k, void *obj,
                                 const char *v)
{
	(void)k;
	/* Not shown: people paste the secret itself here. */
	if (!config_is_env_name(v))
		return config_fail(c, "client_secret_env is not an environment variable name (it "
		                      "names the variable that holds the secret, like "
		                      "OKTA_CLIENT_SECRET)");
	((struct service_account_cfg *)obj)->client_secret_env = xstrdup(v);
	return 0;
}

static int check(struct config_ctx *c, void *section)
{
	const struct provider_cfg *p = section;
	const struct service_account_cfg *sa = sa_of(p);
	const char *okta;
	size_t n;

	if (sa->private_key_id && !sa->private_key)
		return config_fail_at(c, config_key_line(c, p, "private_key_id"),
		                      "private_key_id is set but private_key is not");
	if (provider_check_scopes(c, p) < 0)
		return -1;
	okta = provider_okta_scope(p->scopes, &n);
	if (okta && !sa->private_key) {
		const char *key = sa->client_secret ? "client_secret" : "client_secret_env";

		config_fail_at(c, config_key_line(c, p, key),
		               "scopes: %.*s is a scope of Okta's API, which Okta grants a service "
		               "app only with private_key_jwt, not with a client secret (%s)",
		               (int)n, okta, key);
		config_hint(c, "use private_key (and private_key_id) with a public key registered "
		               "in the Okta app");
		return -1;
	}
	return 0;
}

static const char *const grants[] = {"client_credentials", NULL};

static const char *auth_method(const struct provider_cfg *p)
{
	return sa_of(p)->private_key ? "private_key_jwt" : "client_secret_basic";
}

static const struct oauth_expect online = {
    .endpoints = OAUTH_USES_TOKEN,
    .grants = grants,
    .auth_method = auth_method,
};

static const struct config_key keys[] = {
    PROVIDER_KEY_CLIENT_ID,
    PROVIDER_KEY_AUTHORIZATION_SERVER("org"),
    PROVIDER_KEY_SCOPES(NULL),
    PROVIDER_KEY_REFRESH_BEFORE,
    {"private_key", set_private_key, offsetof(struct service_account_cfg, private_key),
     CK_SECRET | CK_FILE | CK_PRIVATE, NULL, "credentials", 0, 0},
    {"private_key_id", config_set_word, offsetof(struct service_account_cfg, private_key_id),
     CK_STRING, NULL, NULL, 0, 0},
    {"client_secret", set_client_secret, offsetof(struct service_account_cfg, client_secret),
     CK_SECRET, NULL, "credentials", 0, 0},
    {"client_secret_env", set_client_secret_env,
     offsetof(struct service_account_cfg, client_secret_env), CK_STRING, NULL, "credentials", 0, 0},
    PROVIDER_KEY_DPOP,
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct provider_kind provider_service_account = {
    .config = {.name = "okta/service-account",
               .keys = keys,
               .size = sizeof(struct service_account_cfg),
               .check = check},
    .caps = PROVIDER_CACHED,
    .tokens = service_account_tokens,
    .online = &online,
    .revoke = service_account_revoke,
};
