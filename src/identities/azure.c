/* azure.c: the azure/federated identity: the session's ID (or access) token as the client
 * assertion of a Microsoft Entra workload identity federation (a federated identity
 * credential on an app registration). Azure SDKs and Terraform's azurerm read the token
 * from a file: env and exec write it (0600, under the state tree, atomically) and set the
 * variables that name it; exec stays the child's parent and rewrites the file before the
 * token expires; credential prints the token alone (az login --federated-token). */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/httpserver.h"
#include "oktacred/identity.h"
#include "oktacred/jwt.h"
#include "oktacred/lock.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/provider.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define TOKEN_SUFFIX ".jwt"
#define RETRY_MAX_MS 30000L

struct azure_cfg {
	char *tenant_id;
	char *client_id;
	char *subscription_id; /* or NULL */
	char *authority_host;  /* origin, or NULL */
	char *token;           /* "id" or "access" */
};

static const struct azure_cfg *azure_cfg(const struct identity_cfg *id)
{
	return id->kind_cfg;
}

static int uses_access_token(const struct identity_cfg *id)
{
	return strcmp(azure_cfg(id)->token, "access") == 0;
}

static enum refresh_need need_of(const struct identity_cfg *id)
{
	return uses_access_token(id) ? NEED_ACCESS_TOKEN : NEED_ID_TOKEN;
}

/* The token to hand over and when it expires (the ID token's exp, the access token's
 * expiry), fresh: refreshed through the provider (under its lock, saved) when due. */
static int azure_token(const struct identity_request *req, struct tokens **t, const char **token,
                       time_t *exp, okc_err *err)
{
	return identity_oidc_token(req, uses_access_token(req->id), t, token, exp, err);
}

/* ---- the token file: STATE/azure/PROVIDER/IDENTITY.jwt ---- */

static int file_paths(const struct identity_request *req, char **root, char **dir, char **name,
                      okc_err *err)
{
	char *azure;

	*root = *dir = *name = NULL;
	if (paths_provider_root(req->p->base_path, root, err) < 0)
		return -1;
	azure = paths_join(*root, "azure");
	*dir = paths_join(azure, req->p->name);
	free(azure);
	*name = xasprintf("%s" TOKEN_SUFFIX, req->id->name);
	return 0;
}

/* Writes token (nothing else: the SDKs send the file's bytes as they are) atomically, under
 * the directory's lock; *path gets the file's path when path is not NULL. */
static int write_token_file(const struct identity_request *req, const char *token, char **path,
                            okc_err *err)
{
	struct lock lk = LOCK_INIT;
	char *root, *dir, *name;
	int rc;

	if (file_paths(req, &root, &dir, &name, err) < 0)
		return -1;
	rc = lock_acquire_in(&lk, root, dir, 0, err);
	if (rc == 0)
		rc = store_write_atomic(dir, name, token, strlen(token), err);
	lock_release(&lk);
	if (rc == 0 && path)
		*path = paths_join(dir, name);
	free(root);
	free(dir);
	free(name);
	return rc < 0 ? -1 : 0;
}

/* Logout: the token files of p's identities go (another login keeps them: each holds a
 * token of its own session, good until it expires, and exec rewrites it). */
static int azure_session_changed(const struct provider_cfg *p, const char *keep, okc_err *err)
{
	struct lock lk = LOCK_INIT;
	char *root = NULL, *azure, *dir;
	struct dirent *de;
	int n = 0, rc;
	DIR *d;

	if (keep)
		return 0;
	if (paths_provider_root(p->base_path, &root, err) < 0)
		return -1;
	azure = paths_join(root, "azure");
	dir = paths_join(azure, p->name);
	free(azure);
	rc = store_check_tree(root, dir, err);
	if (rc == 0)
		rc = lock_acquire(&lk, dir, 0, err);
	if (rc != 0) {
		free(dir);
		free(root);
		return rc == OKC_NOENT ? 0 : -1;
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= strlen(TOKEN_SUFFIX) ||
		    strcmp(de->d_name + len - strlen(TOKEN_SUFFIX), TOKEN_SUFFIX) != 0)
			continue;
		if (store_remove(dir, de->d_name, err) < 0) {
			n = -1;
			break;
		}
		n++;
	}
	if (d)
		closedir(d);
	if (n >= 0 && store_dir_only(dir, ".lock"))
		lock_remove(&lk, dir);
	lock_release(&lk);
	free(dir);
	free(root);
	return n;
}

/* ---- the environment ---- */

static const char *const cleared[] = {"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
                                      "ARM_CLIENT_SECRET"};

static void put_names(const struct identity_request *req, struct envset *env, const char *path)
{
	const struct azure_cfg *a = azure_cfg(req->id);

	envset_put(env, "OKTACRED_IDENTITY", req->name, 0);
	envset_put(env, "AZURE_FEDERATED_TOKEN_FILE", path, 0);
	envset_put(env, "AZURE_CLIENT_ID", a->client_id, 0);
	envset_put(env, "AZURE_TENANT_ID", a->tenant_id, 0);
	if (a->authority_host)
		envset_put(env, "AZURE_AUTHORITY_HOST", a->authority_host, 0);
	envset_put(env, "ARM_USE_OIDC", "true", 0);
	envset_put(env, "ARM_OIDC_TOKEN_FILE_PATH", path, 0);
	envset_put(env, "ARM_CLIENT_ID", a->client_id, 0);
	envset_put(env, "ARM_TENANT_ID", a->tenant_id, 0);
	if (a->subscription_id)
		envset_put(env, "ARM_SUBSCRIPTION_ID", a->subscription_id, 0);
	for (size_t i = 0; i < ARRAY_SIZE(cleared); i++)
		envset_put(env, cleared[i], NULL, 0);
}

/* The token written to its file and the variables naming it; *exp its expiry, *last a copy
 * of it (both when not NULL). */
static int prepare(const struct identity_request *req, struct envset *env, time_t *exp, char **last,
                   okc_err *err)
{
	struct tokens *t = NULL;
	const char *token;
	char *path = NULL;
	time_t e;
	int rc = azure_token(req, &t, &token, &e, err);

	if (rc == 0)
		rc = write_token_file(req, token, &path, err);
	if (rc == 0) {
		put_names(req, env, path);
		if (exp)
			*exp = e;
		if (last)
			*last = xstrdup(token);
	}
	free(path);
	tokens_free(t);
	return rc;
}

/* env: written once; nothing renews it after env has exited, which is said (stdout is the
 * script). exec does not come here: it has its own op. */
static int azure_environment(const struct identity_request *req, struct envset *env, okc_err *err)
{
	char when[21];
	time_t exp = 0;

	if (req->names_only) {
		put_names(req, env, "");
		return 0;
	}
	if (prepare(req, env, &exp, NULL, err) < 0)
		return -1;
	time_format_utc(exp, when);
	log_warn("%s: the token file is not renewed after env (its token expires at %s); "
	         "to keep it fresh run the command under: oktacred exec %s -- CMD",
	         req->name, when, req->name);
	return 0;
}

/* ---- exec: the file kept fresh while the child runs ---- */

struct keeper {
	const struct identity_request *req;
	time_t exp;        /* of the token in the file */
	time_t due;        /* when to renew it */
	char *last;        /* the token in the file */
	char failed[1024]; /* the last failure said, not to say it again */
};

/* When the file's token is due: when the provider would refresh it (refresh_window). */
static void schedule(struct keeper *k, const struct tokens *t)
{
	k->due = k->exp - refresh_window(k->req->p, t, need_of(k->req->id));
}

static long retry_ms(const struct keeper *k, time_t now)
{
	long ms = k->exp > now ? (long)(k->exp - now) * 250L : RETRY_MAX_MS;

	return ms < 1000 ? 1000 : ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
}

/* A renewal failed: said once per cause on stderr (the child's stderr too, usually); the
 * file keeps its token, and the renewal is tried again. */
static long renew_failed(struct keeper *k, const okc_err *err)
{
	time_t now = now_utc(); /* after the attempt, which may have taken a while */
	char when[21];

	if (strcmp(k->failed, err->msg) != 0) {
		snprintf(k->failed, sizeof(k->failed), "%s", err->msg);
		time_format_utc(k->exp, when);
		log_error("%s: cannot renew the token file: %s; it keeps the token that %s at "
		          "%s; trying again",
		          k->req->name, err->msg, k->exp > now ? "expires" : "expired", when);
	}
	return retry_ms(k, now);
}

static long keeper_tick(void *arg)
{
	struct keeper *k = arg;
	struct tokens *t = NULL;
	time_t now = now_utc(), exp;
	const char *token;
	okc_err err;
	long next;

	if (now < k->due)
		return (long)(k->due - now) * 1000L;
	okc_err_clear(&err);
	if (azure_token(k->req, &t, &token, &exp, &err) < 0) {
		tokens_free(t);
		return renew_failed(k, &err);
	}
	if (str_eq(token, k->last)) {
		/* Not due after all (the first tick, which schedules), or the provider could not
		 * refresh it (and said so): the cached token came back. */
		schedule(k, t);
		tokens_free(t);
		return k->due > now ? (long)(k->due - now) * 1000L : retry_ms(k, now);
	}
	if (write_token_file(k->req, token, NULL, &err) < 0) {
		tokens_free(t);
		return renew_failed(k, &err);
	}
	free_secret(k->last);
	k->last = xstrdup(token);
	k->exp = exp;
	schedule(k, t);
	tokens_free(t);
	if (k->failed[0])
		log_info("%s: the token file is renewed again", k->req->name);
	k->failed[0] = '\0';
	log_verbose("%s: renewed the token file", k->req->name);
	next = (long)(k->due - now) * 1000L;
	return next < 1000 ? 1000 : next;
}

static int azure_exec(const struct identity_request *req, char **argv, okc_err *err)
{
	struct httpserver_opts o = {0};
	struct keeper k = {0};
	struct envset env;
	int rc;

	envset_init(&env);
	k.req = req;
	rc = prepare(req, &env, &k.exp, &k.last, err);
	if (rc == 0) {
		k.due = 0; /* the first tick schedules it from the provider's tokens */
		o.name = "azure token file";
		o.argv = argv;
		o.env = &env;
		o.tick = keeper_tick;
		o.arg = &k;
		rc = httpserver_run(&o, err);
	}
	free_secret(k.last);
	envset_free(&env);
	return rc;
}

/* ---- credential: the token alone (az login --federated-token "$(...)") ---- */

static int azure_credential(const struct identity_request *req, struct buf *out, okc_err *err)
{
	struct tokens *t = NULL;
	const char *token;
	time_t exp;
	int rc = azure_token(req, &t, &token, &exp, err);

	if (rc == 0) {
		buf_puts(out, token);
		buf_putc(out, '\n');
	}
	tokens_free(t);
	return rc;
}

/* ---- configuration ---- */

/* 8-4-4-4-12 hexadecimal digits. */
static int is_guid(const char *s)
{
	static const int groups[] = {8, 4, 4, 4, 12};

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return 0;
		if (*s != (g + 1 < ARRAY_SIZE(groups) ? '-' : '\0'))
			return 0;
		s++;
	}
	return 1;
}

/* A tenant's domain (contoso.onmicrosoft.com): DNS labels, at least two. */
static int is_domain(const char *s)
{
	size_t label = 0, labels = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-')
				return 0;
			labels++;
			label = 0;
		} else if (isalnum((unsigned char)*s) || (*s == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && s[-1] != '-' && labels >= 1;
}

static int set_tenant(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	return config_set_checked(c, k, obj, v, is_guid(v) || is_domain(v),
	                          "a tenant ID (a GUID) or a tenant's domain "
	                          "(contoso.onmicrosoft.com)");
}

static int set_guid(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	return config_set_checked(c, k, obj, v, is_guid(v),
	                          "a GUID (00000000-0000-0000-0000-000000000000)");
}

/* The token must be a JWT Entra can verify against the issuer's keys. */
static int azure_check_provider(struct config_ctx *c, const struct identity_cfg *id,
                                const struct provider_cfg *p)
{
	return identity_check_oidc_provider(c, id, p, uses_access_token(id), "Entra",
	                                    "hands out its access token");
}

static const struct config_key keys[] = {
    {"tenant_id", set_tenant, offsetof(struct azure_cfg, tenant_id), CK_REQUIRED | CK_STRING, NULL,
     NULL, 0, 0},
    {"client_id", set_guid, offsetof(struct azure_cfg, client_id), CK_REQUIRED | CK_STRING, NULL,
     NULL, 0, 0},
    {"subscription_id", set_guid, offsetof(struct azure_cfg, subscription_id), CK_STRING, NULL,
     NULL, 0, 0},
    {"authority_host", config_set_origin, offsetof(struct azure_cfg, authority_host), CK_STRING,
     NULL, NULL, 0, 0},
    {"token", identity_set_token_key, offsetof(struct azure_cfg, token), CK_STRING, "id", NULL, 0,
     0},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct identity_kind identity_azure_federated = {
    .config = {.name = "azure/federated",
               .keys = keys,
               .size = sizeof(struct azure_cfg),
               .check_provider = azure_check_provider},
    .environment = azure_environment,
    .credential = azure_credential,
    .exec = azure_exec,
    .session_changed = azure_session_changed,
};
