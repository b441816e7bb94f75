/* gcp.c: the gcp/workload-identity identity: the session's ID (or access) token as the
 * subject token of Google's workload (or workforce) identity federation, through Google's
 * executable-sourced credentials: an external_account credential file whose executable is
 * `oktacred credential NAME`, which prints Google's executable response. Google's STS
 * exchanges the token; the client libraries and gcloud do that themselves. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/identity.h"
#include "oktacred/json.h"
#include "oktacred/jwt.h"
#include "oktacred/paths.h"
#include "oktacred/provider.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define GCP_STS_URL        "https://sts.googleapis.com/v1/token"
#define GCP_IAM            "//iam.googleapis.com/"
#define GCP_ID_TOKEN_TYPE  "urn:ietf:params:oauth:token-type:id_token"
#define GCP_JWT_TYPE       "urn:ietf:params:oauth:token-type:jwt"
#define GCP_TIMEOUT_MILLIS 30000

struct gcp_cfg {
	char *token; /* "id" or "access" */
	char *audience;
	char *project_number;
	char *pool_id;
	char *provider_id;
	char *workforce_pool_user_project;
	char *service_account;
	char *token_url;
	char *built_audience; /* from project_number, pool_id, provider_id; or NULL */
};

static const struct gcp_cfg *gcp_cfg(const struct identity_cfg *id)
{
	return id->kind_cfg;
}

static int uses_access_token(const struct identity_cfg *id)
{
	return strcmp(gcp_cfg(id)->token, "access") == 0;
}

static const char *gcp_audience(const struct identity_cfg *id)
{
	const struct gcp_cfg *g = gcp_cfg(id);

	return g->audience ? g->audience : g->built_audience;
}

static const char *subject_token_type(const struct identity_cfg *id)
{
	return uses_access_token(id) ? GCP_JWT_TYPE : GCP_ID_TOKEN_TYPE;
}

/* ---- the audience ---- */

/* A path segment of a resource name: letters, digits, '-', '_' and '.'. */
static size_t segment(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_' || s[n] == '.')
		n++;
	return n;
}

/* s starts with literal lit: returns what follows, or NULL. */
static const char *lit(const char *s, const char *lit)
{
	size_t n = strlen(lit);

	return s && strncmp(s, lit, n) == 0 ? s + n : NULL;
}

/* A segment then nothing or '/': what follows the segment, or NULL. */
static const char *seg(const char *s)
{
	size_t n = s ? segment(s) : 0;

	return n ? s + n : NULL;
}

enum audience_kind { AUD_BAD, AUD_WORKLOAD, AUD_WORKFORCE };

/* //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/R, or
 * //iam.googleapis.com/locations/global/workforcePools/P/providers/R. */
static enum audience_kind audience_kind(const char *a)
{
	const char *s = lit(a, GCP_IAM), *t;

	if (!s)
		return AUD_BAD;
	t = lit(s, "projects/");
	if (t) {
		size_t n = strspn(t, "0123456789");

		if (n == 0)
			return AUD_BAD;
		t = lit(t + n, "/locations/global/workloadIdentityPools/");
		t = lit(seg(t), "/providers/");
		t = seg(t);
		return t && !*t ? AUD_WORKLOAD : AUD_BAD;
	}
	t = lit(s, "locations/");
	t = lit(seg(t), "/workforcePools/");
	t = lit(seg(t), "/providers/");
	t = seg(t);
	return t && !*t ? AUD_WORKFORCE : AUD_BAD;
}

/* ---- the token and Google's executable response ---- */

/* The token and its expiry (the ID token's exp, or the access token's). */
static int gcp_token(const struct identity_request *req, struct tokens **t, const char **token,
                     time_t *exp, okc_err *err)
{
	return identity_oidc_token(req, uses_access_token(req->id), t, token, exp, err);
}

/* What Google passes its executable must be what this identity makes: a credential file
 * written for another identity (or an older configuration) fails clearly here rather
 * than at Google's STS. */
static int check_google_env(const struct identity_request *req, okc_err *err)
{
	const char *aud = getenv("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE");
	const char *type = getenv("GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE");

	if (aud && *aud && strcmp(aud, gcp_audience(req->id)) != 0) {
		char shown[80];

		okc_fail(err, OKC_EXIT_USAGE,
		         "%s: the credential file's audience \"%s\" is not the identity's (%s)",
		         req->name, CONFIG_SHOW(aud, shown), gcp_audience(req->id));
		okc_hint(err, "write the file again: oktacred gcp-config %s", req->name);
		return -1;
	}
	if (type && *type && strcmp(type, subject_token_type(req->id)) != 0) {
		char shown[80];

		okc_fail(err, OKC_EXIT_USAGE,
		         "%s: the credential file's subject_token_type \"%s\" is not the "
		         "identity's (%s)",
		         req->name, CONFIG_SHOW(type, shown), subject_token_type(req->id));
		okc_hint(err, "write the file again: oktacred gcp-config %s", req->name);
		return -1;
	}
	return 0;
}

/* `credential`: {"version":1,"success":true,"token_type","id_token","expiration_time"}. */
static int gcp_credential(const struct identity_request *req, struct buf *out, okc_err *err)
{
	struct tokens *t = NULL;
	const char *token;
	time_t exp;
	int rc;

	if (check_google_env(req, err) < 0)
		return -1;
	rc = gcp_token(req, &t, &token, &exp, err);
	if (rc == 0) {
		struct json *root = json_new(JSON_OBJECT);

		json_add_number(root, "version", 1);
		json_add_bool(root, "success", 1);
		json_add_string(root, "token_type", subject_token_type(req->id));
		json_add_string(root, "id_token", token);
		if (exp > 0)
			json_add_number(root, "expiration_time", (double)exp);
		json_print_secret(root, out);
		json_free_secret(root);
	}
	tokens_free(t);
	return rc;
}

int gcp_executable_failure(const okc_err *err, struct buf *out)
{
	static const char *const codes[] = {
	    [OKC_EXIT_FAIL] = "failed",
	    [OKC_EXIT_USAGE] = "invalid_configuration",
	    [OKC_EXIT_LOGIN] = "login_required",
	    [OKC_EXIT_NETWORK] = "identity_provider_unavailable",
	    [OKC_EXIT_DENIED] = "login_not_completed",
	};
	const char *code = "failed";
	struct json *root = json_new(JSON_OBJECT);
	struct buf msg = BUF_INIT;

	if (err->code > 0 && err->code < (int)(sizeof(codes) / sizeof(codes[0])) &&
	    codes[err->code])
		code = codes[err->code];
	else if (err->code == OKC_EXIT_INTERRUPTED || err->code > 128)
		code = "interrupted";
	buf_puts(&msg, err->msg[0] ? err->msg : "failed");
	if (err->hint[0])
		buf_printf(&msg, " (%s)", err->hint);
	json_add_number(root, "version", 1);
	json_add_bool(root, "success", 0);
	json_add_string(root, "code", code);
	json_add_string(root, "message", msg.data);
	json_print(root, 0, out);
	buf_putc(out, '\n');
	json_free(root);
	buf_free(&msg);
	return 0;
}

static int gcp_credential_failure(const struct identity_request *req, const okc_err *err,
                                  struct buf *out)
{
	(void)req;
	return gcp_executable_failure(err, out);
}

/* Google reads no prompt (it merges our stderr into what it parses): a login runs on the
 * terminal only when Google says a person is there (its interactive mode), or, run by
 * hand, when the identity's interactive key says so. */
static int gcp_may_log_in(const struct identity_request *req)
{
	const char *interactive = getenv("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE");

	if (interactive)
		return strcmp(interactive, "1") == 0;
	if (getenv("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE"))
		return 0;
	return req->id->interactive;
}

/* ---- the external_account credential file ---- */

static int has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return 1;
	return 0;
}

static int gcp_config(const struct identity_request *req, const char *program,
                      const char *config_path, struct buf *out, okc_err *err)
{
	const struct gcp_cfg *g = gcp_cfg(req->id);
	struct json *root, *exe;
	struct buf cmd = BUF_INIT;

	/* Google splits the command on white space and knows no quoting. */
	if (program[0] != '/' || has_space(program)) {
		okc_fail(err, OKC_EXIT_USAGE,
		         "%s: Google runs its executable by an absolute path without white space, "
		         "and oktacred is %s",
		         req->name, program);
		okc_hint(err, "install oktacred in a directory whose path has no spaces (or link "
		              "it from one on PATH, such as /usr/local/bin)");
		return -1;
	}
	if (config_path && has_space(config_path)) {
		okc_fail(err, OKC_EXIT_USAGE,
		         "%s: Google splits the executable's command on white space, and the "
		         "configuration file's path has some: %s",
		         req->name, config_path);
		okc_hint(err, "move the configuration file to a path without spaces");
		return -1;
	}
	buf_puts(&cmd, program);
	if (config_path)
		buf_printf(&cmd, " --config %s", config_path);
	buf_printf(&cmd, " credential %s", req->name);
	root = json_new(JSON_OBJECT);
	json_add_string(root, "type", "external_account");
	json_add_string(root, "audience", gcp_audience(req->id));
	json_add_string(root, "subject_token_type", subject_token_type(req->id));
	json_add_string(root, "token_url", g->token_url);
	exe = json_add_object(json_add_object(root, "credential_source"), "executable");
	json_add_string(exe, "command", cmd.data);
	json_add_number(exe, "timeout_millis", GCP_TIMEOUT_MILLIS);
	if (g->service_account) {
		char *url = xasprintf("https://iamcredentials.googleapis.com/v1/projects/-/"
		                      "serviceAccounts/%s:generateAccessToken",
		                      g->service_account);

		json_add_string(root, "service_account_impersonation_url", url);
		free(url);
	}
	if (g->workforce_pool_user_project)
		json_add_string(root, "workforce_pool_user_project",
		                g->workforce_pool_user_project);
	json_print(root, 1, out);
	buf_putc(out, '\n');
	json_free(root);
	buf_free(&cmd);
	return 0;
}

/* The file env and exec write: okta/PROVIDER/gcp-IDENTITY.json, with the session, so that a
 * logout takes it away. */
static char *gcp_file_name(const char *identity)
{
	return xasprintf("gcp-%s.json", identity);
}

static int gcp_environment(const struct identity_request *req, struct envset *env, okc_err *err)
{
	char *root = NULL, *dir = NULL, *name = gcp_file_name(req->name), *path = NULL;
	struct buf out = BUF_INIT;
	int rc = 0;

	if (!req->names_only) {
		struct tokens *t = NULL;
		const char *token;
		time_t exp;

		/* The session is checked first: a login that is needed is said now. */
		rc = gcp_token(req, &t, &token, &exp, err);
		tokens_free(t);
		if (rc == 0)
			rc = gcp_config(req, req->program ? req->program : "oktacred",
			                req->config_path, &out, err);
		if (rc == 0)
			rc = paths_provider_root(req->p->base_path, &root, err);
		if (rc == 0)
			rc = paths_provider_dir(req->p->base_path, req->p->name, &dir, err);
		if (rc == 0)
			rc = store_ensure_dir(root, dir, err);
		if (rc == 0)
			rc = store_write_atomic(dir, name, out.data, out.len, err);
		if (rc == 0)
			path = paths_join(dir, name);
	}
	if (rc == 0) {
		envset_put(env, "GOOGLE_APPLICATION_CREDENTIALS", path ? path : "", 0);
		envset_put(env, "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", path ? path : "", 0);
		envset_put(env, "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1", 0);
		envset_put(env, "OKTACRED_IDENTITY", req->name, 0);
	}
	buf_free(&out);
	free(path);
	free(dir);
	free(root);
	free(name);
	return rc < 0 ? -1 : 0;
}

/* Logout (keep NULL): the credential files of p's identities go with the session; a new
 * login keeps them (they hold no token, only the command). */
static int gcp_session_changed(const struct provider_cfg *p, const char *keep, okc_err *err)
{
	char *root = NULL, *dir = NULL;
	int n = 0, rc;
	DIR *d;

	if (keep)
		return 0;
	if (paths_provider_root(p->base_path, &root, err) < 0)
		return -1;
	if (paths_provider_dir(p->base_path, p->name, &dir, err) < 0) {
		free(root);
		return -1;
	}
	rc = store_check_tree(root, dir, err);
	d = rc == 0 ? opendir(dir) : NULL;
	if (d) {
		struct dirent *de;

		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);

			if (strncmp(de->d_name, "gcp-", 4) != 0 || len < 9 ||
			    strcmp(de->d_name + len - 5, ".json") != 0)
				continue;
			rc = store_remove(dir, de->d_name, err);
			if (rc < 0) {
				n = -1;
				break;
			}
			n += rc == 0;
		}
		closedir(d);
	} else if (rc < 0 && rc != OKC_NOENT) {
		n = -1;
	}
	free(dir);
	free(root);
	return n;
}

/* ---- configuration ---- */

static int set_audience(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	return config_set_checked(
	    c, k, obj, v, audience_kind(v) != AUD_BAD,
	    "a workload identity pool provider (//iam.googleapis.com/projects/NUMBER/locations/"
	    "global/workloadIdentityPools/POOL/providers/PROVIDER) or a workforce pool provider "
	    "(//iam.googleapis.com/locations/global/workforcePools/POOL/providers/PROVIDER)");
}

static int all_digits(const char *v)
{
	return *v && strspn(v, "0123456789") == strlen(v);
}

static int set_project_number(struct config_ctx *c, const struct config_key *k, void *obj,
                              const char *v)
{
	return config_set_checked(c, k, obj, v, all_digits(v),
	                          "a project number (digits; gcloud projects describe PROJECT "
	                          "--format='value(projectNumber)')");
}

/* Pool and provider ids: 4 to 32 lowercase letters, digits and hyphens. */
static int set_pool_id(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	size_t n = strlen(v);
	int ok = n >= 4 && n <= 32 && strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
	         v[0] != '-' && v[n - 1] != '-';

	return config_set_checked(c, k, obj, v, ok,
	                          "an id of 4 to 32 lowercase letters, digits and hyphens");
}

/* A project number or id: lowercase letters, digits and hyphens. */
static int set_user_project(struct config_ctx *c, const struct config_key *k, void *obj,
                            const char *v)
{
	size_t n = strlen(v);

	return config_set_checked(c, k, obj, v,
	                          n > 0 && n <= 30 &&
	                              strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == n,
	                          "a project id or number");
}

static int set_service_account(struct config_ctx *c, const struct config_key *k, void *obj,
                               const char *v)
{
	const char *at = strchr(v, '@');
	size_t n = strlen(v);
	int ok = at && at != v && strchr(at + 1, '@') == NULL && strchr(at + 1, '.') &&
	         strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-.@_") == n;

	return config_set_checked(
	    c, k, obj, v, ok, "a service account's email (NAME@PROJECT.iam.gserviceaccount.com)");
}

/* The audience from project_number, pool_id and provider_id, or audience itself; a
 * workforce audience needs workforce_pool_user_project, which nothing else takes. */
static int gcp_check(struct config_ctx *c, void *section)
{
	struct identity_cfg *id = section;
	struct gcp_cfg *g = id->kind_cfg;
	enum audience_kind kind;

	if (g->project_number) {
		const char *missing = !g->pool_id       ? "pool_id"
		                      : !g->provider_id ? "provider_id"
		                                        : NULL;

		if (missing)
			return config_fail_at(
			    c, config_key_line(c, id, "project_number"),
			    "identity %s: project_number needs pool_id and "
			    "provider_id too (the workload identity pool provider); "
			    "%s is missing",
			    id->name, missing);
		free(g->built_audience); /* checked again: made again */
		g->built_audience = xasprintf(GCP_IAM "projects/%s/locations/global/"
		                                      "workloadIdentityPools/%s/providers/%s",
		                              g->project_number, g->pool_id, g->provider_id);
	} else if (g->pool_id || g->provider_id) {
		const char *key = g->pool_id ? "pool_id" : "provider_id";

		return config_fail_at(c, config_key_line(c, id, key),
		                      "identity %s: %s goes with project_number (or set the whole "
		                      "audience instead)",
		                      id->name, key);
	}
	kind = audience_kind(gcp_audience(id));
	if (kind == AUD_WORKFORCE && !g->workforce_pool_user_project) {
		config_fail_at(c, config_key_line(c, id, "audience"),
		               "identity %s: a workforce pool audience needs "
		               "workforce_pool_user_project (the project billed for the quota)",
		               id->name);
		config_hint(c, "add: workforce_pool_user_project = PROJECT_NUMBER");
		return -1;
	}
	if (kind == AUD_WORKLOAD && g->workforce_pool_user_project)
		return config_fail_at(c, config_key_line(c, id, "workforce_pool_user_project"),
		                      "identity %s: workforce_pool_user_project is for a workforce "
		                      "pool audience; %s is a workload identity pool's",
		                      id->name, gcp_audience(id));
	return 0;
}

/* Google's STS verifies the token against the issuer's keys: an OIDC token, not an SSWS
 * one; an access token from a custom authorization server (the org server's are not meant
 * to be verified by others). */
static int gcp_check_provider(struct config_ctx *c, const struct identity_cfg *id,
                              const struct provider_cfg *p)
{
	return identity_check_oidc_provider(c, id, p, uses_access_token(id), "Google",
	                                    "hands out its access token");
}

static void gcp_free(void *kind_cfg)
{
	struct gcp_cfg *g = kind_cfg;

	free(g->built_audience);
}

#define OFF(f) offsetof(struct gcp_cfg, f)
static const struct config_key keys[] = {
    {"token", identity_set_token_key, OFF(token), CK_STRING, "id", NULL, 0, 0},
    {"audience", set_audience, OFF(audience), CK_STRING, NULL, "audience", 0, 0},
    {"project_number", set_project_number, OFF(project_number), CK_STRING, NULL, "audience", 0, 0},
    {"pool_id", set_pool_id, OFF(pool_id), CK_STRING, NULL, NULL, 0, 0},
    {"provider_id", set_pool_id, OFF(provider_id), CK_STRING, NULL, NULL, 0, 0},
    {"workforce_pool_user_project", set_user_project, OFF(workforce_pool_user_project), CK_STRING,
     NULL, NULL, 0, 0},
    {"service_account", set_service_account, OFF(service_account), CK_STRING, NULL, NULL, 0, 0},
    {"token_url", config_set_url, OFF(token_url), CK_STRING, GCP_STS_URL, NULL, 0, 0},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};
#undef OFF

const struct identity_kind identity_gcp_workload_identity = {
    .config = {.name = "gcp/workload-identity",
               .keys = keys,
               .size = sizeof(struct gcp_cfg),
               .check = gcp_check,
               .check_provider = gcp_check_provider,
               .free = gcp_free},
    .environment = gcp_environment,
    .credential = gcp_credential,
    .credential_failure = gcp_credential_failure,
    .may_log_in = gcp_may_log_in,
    .gcp_config = gcp_config,
    .session_changed = gcp_session_changed,
};
