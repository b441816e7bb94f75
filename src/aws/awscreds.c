/* awscreds.c: cached STS credentials, aws/<identity>/credentials.json (0600, atomic, under
 * aws/<identity>/.lock), and the JSON that credential_process and container-credentials
 * clients read. Every secret is wiped. */
#include "oktacred/awscreds.h"

#include "oktacred/json.h"
#include <dirent.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define CREDS_FILE    "credentials.json"
#define CREDS_MAX     (256 * 1024)
#define RENEW_BEFORE  1200L /* 20 minutes */
#define CREDS_VERSION 1

static const char *const choice_names[] = {"fixed", "only", "chosen"};

void awscreds_free(struct awscreds *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	free_secret(c->secret_access_key);
	free_secret(c->session_token);
	free(c->role_arn);
	free(c->assumed_role_arn);
	free(c->session_name);
	free(c->provider);
	free(c->org_url);
	free(c->client_id);
	free(c->authorization_server);
	free(c->sts_endpoint);
	free(c->session);
	free(c->issuer);
	free(c->subject);
	wipe(c, sizeof(*c));
	free(c);
}

int awscreds_of_session(const struct awscreds *c, const char *session)
{
	return c->session && session && strcmp(c->session, session) == 0;
}

long awscreds_left(const struct awscreds *c, time_t now)
{
	return (long)(c->expiration - now);
}

long awscreds_renew_before(long duration)
{
	return duration >= 2 * RENEW_BEFORE ? RENEW_BEFORE : duration / 2;
}

/* ---- JSON ---- */

/* The string members of credentials.json: printable without spaces (vschar), required. */
static const struct {
	const char *key;
	int vschar;
	int required;
	size_t offset;
} strings[] = {
    {"access_key_id", 1, 1, offsetof(struct awscreds, access_key_id)},
    {"secret_access_key", 1, 1, offsetof(struct awscreds, secret_access_key)},
    {"session_token", 1, 1, offsetof(struct awscreds, session_token)},
    {"role_arn", 1, 1, offsetof(struct awscreds, role_arn)},
    {"assumed_role_arn", 1, 0, offsetof(struct awscreds, assumed_role_arn)},
    {"session_name", 1, 0, offsetof(struct awscreds, session_name)},
    {"provider", 1, 0, offsetof(struct awscreds, provider)},
    {"org_url", 0, 0, offsetof(struct awscreds, org_url)},
    {"client_id", 0, 0, offsetof(struct awscreds, client_id)},
    {"authorization_server", 0, 0, offsetof(struct awscreds, authorization_server)},
    {"sts_endpoint", 0, 0, offsetof(struct awscreds, sts_endpoint)},
    {"session", 1, 0, offsetof(struct awscreds, session)},
    {"issuer", 0, 0, offsetof(struct awscreds, issuer)},
    {"subject", 0, 0, offsetof(struct awscreds, subject)},
};

static char *const *string_at(const struct awscreds *c, size_t i)
{
	return (char *const *)(const void *)((const char *)c + strings[i].offset);
}

int awscreds_to_json(const struct awscreds *c, struct buf *out)
{
	struct json *root = json_new(JSON_OBJECT);

	json_add_number(root, "version", CREDS_VERSION);
	json_add_time(root, "expiration", c->expiration);
	json_add_time(root, "obtained_at", c->obtained_at);
	json_add_string(root, "role_choice", choice_names[c->choice]);
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
		json_add_string(root, strings[i].key, *string_at(c, i));
	json_print_secret(root, out);
	json_free_secret(root);
	return 0;
}

/* Printable ASCII without spaces: nothing that could split a header or a shell line. */
static int is_vschar(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* strings[i] of obj, copied into c (absent or null: NULL). -1 when it is of another type,
 * absent though required, or, for a vschar field, anything but printable ASCII. */
static int get_string(const struct json *obj, size_t i, struct awscreds *c)
{
	char **field = (char **)((char *)c + strings[i].offset);
	const char *s;
	int r = json_get_string(obj, strings[i].key, &s);

	if (r < 0 || (r == 0 && strings[i].required) ||
	    (r == 1 && strings[i].vschar && !is_vschar(s)))
		return -1;
	*field = xstrdup(s);
	return 0;
}

int awscreds_from_json(const char *json, size_t len, struct awscreds **out, okc_err *err)
{
	struct awscreds *c;
	struct json *root;
	const char *bad = NULL, *choice = NULL;
	double version;
	size_t i;

	*out = NULL;
	if (len > CREDS_MAX || !(root = json_parse_object(json, len)))
		return okc_fail(err, OKC_EXIT_FAIL,
		                "the AWS credential cache is corrupt: not a JSON object");
	c = xcalloc(1, sizeof(*c));
	if (json_get_number(root, "version", CREDS_VERSION, CREDS_VERSION, &version) != 1)
		bad = "version";
	for (i = 0; !bad && i < ARRAY_SIZE(strings); i++)
		if (get_string(root, i, c) < 0)
			bad = strings[i].key;
	if (!bad && json_get_time(root, "expiration", &c->expiration) != 1)
		bad = "expiration";
	if (!bad && json_get_time(root, "obtained_at", &c->obtained_at) < 0)
		bad = "obtained_at";
	if (!bad && json_get_string(root, "role_choice", &choice) < 0)
		bad = "role_choice";
	c->choice = AWSCREDS_ROLE_CHOSEN; /* absent or unknown: never reused without --role */
	for (i = 0; choice && i < ARRAY_SIZE(choice_names); i++)
		if (strcmp(choice, choice_names[i]) == 0)
			c->choice = (enum awscreds_choice)i;
	json_free_secret(root);
	if (bad) {
		awscreds_free(c);
		return okc_fail(err, OKC_EXIT_FAIL,
		                "the AWS credential cache is corrupt: bad \"%s\"", bad);
	}
	*out = c;
	return 0;
}

int awscreds_account_id(const char *arn, char out[13])
{
	const char *p = arn;
	size_t i;

	/* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE */
	out[0] = '\0';
	if (!p || !str_starts(p, "arn:"))
		return -1;
	for (i = 0; i < 4; i++) {
		p = strchr(p, ':');
		if (!p)
			return -1;
		p++;
	}
	if (strspn(p, "0123456789") != 12 || p[12] != ':')
		return -1;
	memcpy(out, p, 12);
	out[12] = '\0';
	return 0;
}

/* The credentials as AWS tools read them: credential_process (version: "Version":1 and
 * "SessionToken") or the container endpoint ("Token"); both with "AccountId", the account
 * of the role, which newer botocore reads from both (Debian 12's 1.29 ignores it). */
static int tool_json(const struct awscreds *c, int version, struct buf *out)
{
	struct json *root = json_new(JSON_OBJECT);
	char account[13];

	if (awscreds_account_id(c->assumed_role_arn, account) < 0)
		awscreds_account_id(c->role_arn, account);
	if (version)
		json_add_number(root, "Version", 1);
	json_add_string(root, "AccessKeyId", c->access_key_id);
	json_add_string(root, "SecretAccessKey", c->secret_access_key);
	json_add_string(root, version ? "SessionToken" : "Token", c->session_token);
	json_add_time(root, "Expiration", c->expiration);
	if (account[0])
		json_add_string(root, "AccountId", account);
	json_print_secret(root, out);
	json_free_secret(root);
	return 0;
}

int awscreds_process_json(const struct awscreds *c, struct buf *out)
{
	return tool_json(c, 1, out);
}

int awscreds_container_json(const struct awscreds *c, struct buf *out)
{
	return tool_json(c, 0, out);
}

/* ---- the file ---- */

/* The state root of the identity's provider, and aws/<identity> under it. */
static int identity_paths(const struct identity_cfg *id, char **root, char **dir, okc_err *err)
{
	char *aws;

	*root = *dir = NULL;
	if (paths_provider_root(id->provider->base_path, root, err) < 0)
		return -1;
	aws = paths_join(*root, "aws");
	*dir = paths_join(aws, id->name);
	free(aws);
	return 0;
}

static int key_matches(const struct awscreds *c, const struct provider_cfg *p)
{
	return str_eq(c->provider, p->name) && str_eq(c->org_url, p->org_url) &&
	       str_eq(c->client_id, p->client_id) &&
	       str_eq(c->authorization_server, p->authorization_server);
}

int awscreds_load(const struct identity_cfg *id, struct awscreds **out, okc_err *err)
{
	struct buf data = BUF_INIT;
	struct awscreds *c = NULL;
	char *root, *dir, *path = NULL;
	okc_err perr;
	int rc;

	*out = NULL;
	if (identity_paths(id, &root, &dir, err) < 0)
		return -1;
	rc = store_read_in(root, dir, CREDS_FILE, CREDS_MAX, &data, &path, err);
	if (rc != 0)
		goto out;
	okc_err_clear(&perr);
	if (awscreds_from_json(data.data, data.len, &c, &perr) < 0) {
		store_quarantine_unchanged(dir, CREDS_FILE, CREDS_MAX, &data, perr.msg);
		rc = OKC_NOENT;
		goto out;
	}
	if (!key_matches(c, id->provider)) {
		log_verbose("%s was obtained through another provider, org, client or server; "
		            "ignoring it",
		            path);
		awscreds_free(c);
		rc = OKC_NOENT;
		goto out;
	}
	*out = c;
out:
	buf_free(&data);
	free(path);
	free(dir);
	free(root);
	return rc;
}

int awscreds_save(const struct identity_cfg *id, const struct awscreds *c, okc_err *err)
{
	const struct provider_cfg *p = id->provider;
	struct awscreds keyed = *c; /* shallow: the strings stay c's and p's */
	struct buf json = BUF_INIT;
	char *root, *dir;
	int rc = -1;

	keyed.provider = p->name;
	keyed.org_url = p->org_url;
	keyed.client_id = p->client_id;
	keyed.authorization_server = p->authorization_server;
	if (identity_paths(id, &root, &dir, err) < 0)
		return -1;
	if (store_ensure_dir(root, dir, err) < 0)
		goto out;
	if (awscreds_to_json(&keyed, &json) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "out of memory writing the AWS credentials of %s",
		         id->name);
		goto out;
	}
	rc = store_write_atomic(dir, CREDS_FILE, json.data, json.len, err);
out:
	buf_free(&json);
	free(dir);
	free(root);
	return rc;
}

int awscreds_delete(const struct identity_cfg *id, okc_err *err)
{
	char *root, *dir;
	int rc;

	if (identity_paths(id, &root, &dir, err) < 0)
		return -1;
	rc = store_remove_in(root, dir, CREDS_FILE, err);
	free(dir);
	free(root);
	return rc;
}

int awscreds_lock(const struct identity_cfg *id, struct lock *l, okc_err *err)
{
	char *root, *dir;
	int rc;

	l->fd = -1;
	if (identity_paths(id, &root, &dir, err) < 0)
		return -1;
	rc = lock_acquire_in(l, root, dir, 0, err);
	free(dir);
	free(root);
	return rc;
}

/* dir/credentials.json, or NULL (none, unreadable, corrupt). */
static struct awscreds *recorded(const char *dir)
{
	struct buf data = BUF_INIT;
	struct awscreds *c = NULL;
	char *path = paths_join(dir, CREDS_FILE);
	okc_err err;

	if (store_read(path, CREDS_MAX, &data, &err) == 0)
		awscreds_from_json(data.data, data.len, &c, &err);
	buf_free(&data);
	free(path);
	return c;
}

static int delete_if_provider(const char *dir, const struct provider_cfg *p, const char *keep,
                              okc_err *err)
{
	struct lock lk = LOCK_INIT;
	struct awscreds *c;
	int rc = 0;

	/* Known to be another provider's: not ours to wait for. No file (yet): a process may
	 * be asking STS for it right now, under the lock: wait for it. */
	c = recorded(dir);
	if (c && !str_eq(c->provider, p->name)) {
		awscreds_free(c);
		return 0;
	}
	awscreds_free(c);
	rc = lock_acquire(&lk, dir, 0, err);
	if (rc != 0)
		return rc == OKC_NOENT ? 0
		                       : -1; /* removed meanwhile (logout --all): nothing there */
	/* Read again under the lock: it may have been written or replaced meanwhile. */
	c = recorded(dir);
	if (c && str_eq(c->provider, p->name) && !(keep && awscreds_of_session(c, keep))) {
		rc = store_remove(dir, CREDS_FILE, err);
		rc = rc < 0 ? -1 : rc == 0;
	}
	/* A set-aside corrupt copy may hold secrets too; whose it was, nobody can say. */
	if (rc >= 0 && (!c || str_eq(c->provider, p->name)) &&
	    store_remove(dir, CREDS_FILE ".corrupt", err) < 0)
		rc = -1;
	awscreds_free(c);
	lock_release(&lk);
	return rc;
}

int awscreds_delete_for_provider(const struct provider_cfg *p, const char *keep, okc_err *err)
{
	char *root = NULL, *aws = NULL;
	struct dirent *de;
	DIR *d;
	int n = 0, rc;

	if (paths_provider_root(p->base_path, &root, err) < 0)
		return -1;
	aws = paths_join(root, "aws");
	rc = store_check_tree(root, aws, err);
	if (rc != 0) {
		free(aws);
		free(root);
		return rc == OKC_NOENT ? 0 : -1;
	}
	d = opendir(aws);
	if (!d) {
		free(aws);
		free(root);
		return 0;
	}
	while ((de = readdir(d))) {
		char *dir;

		if (de->d_name[0] == '.')
			continue;
		dir = paths_join(aws, de->d_name);
		rc = store_check_dir(dir, err);
		if (rc == 0)
			rc = delete_if_provider(dir, p, keep, err);
		else if (rc == OKC_NOENT)
			rc = 0;
		free(dir);
		if (rc < 0) {
			n = -1;
			break;
		}
		n += rc;
	}
	closedir(d);
	free(aws);
	free(root);
	return n;
}

/* One aws/<identity> directory, under its lock: credentials of a provider the configuration
 * no longer has go (no logout can reach them any more), and so does the directory when
 * nothing but its lock is left in it. */
static int sweep_one(const char *dir, const char *name, const struct config *cfg, okc_err *err)
{
	struct lock lk = LOCK_INIT;
	struct awscreds *c;
	int rc = lock_acquire(&lk, dir, 0, err);

	if (rc != 0)
		return rc == OKC_NOENT ? 0 : -1;
	c = recorded(dir);
	if (c && c->provider && !config_find_provider(cfg, c->provider)) {
		rc = store_remove(dir, CREDS_FILE, err);
		if (rc >= 0 && store_remove(dir, CREDS_FILE ".corrupt", err) < 0)
			rc = -1;
		if (rc == 0) {
			char *shown = text_escape_dup(name), *prov = text_escape_dup(c->provider);

			log_info("%s: deleted the AWS credentials of %s, no longer in the "
			         "configuration",
			         shown, prov);
			free(prov);
			free(shown);
		}
	}
	awscreds_free(c);
	if (rc >= 0 && store_dir_only(dir, ".lock") && lock_remove(&lk, dir) == 0)
		log_verbose("removed %s: it held only its lock", dir);
	lock_release(&lk);
	return rc < 0 ? -1 : 0;
}

int awscreds_sweep(const char *root, const struct config *cfg, okc_err *err)
{
	char *aws = paths_join(root, "aws");
	struct dirent *de;
	DIR *d;
	int rc = store_check_tree(root, aws, err);

	if (rc != 0 || !(d = opendir(aws))) {
		free(aws);
		return rc < 0 ? -1 : 0;
	}
	while (rc >= 0 && (de = readdir(d))) {
		char *dir;

		if (de->d_name[0] == '.')
			continue;
		dir = paths_join(aws, de->d_name);
		rc = store_check_dir(dir, err);
		if (rc == 0)
			rc = sweep_one(dir, de->d_name, cfg, err);
		free(dir);
	}
	closedir(d);
	free(aws);
	return rc < 0 ? -1 : 0;
}
