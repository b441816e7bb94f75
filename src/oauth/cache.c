/* cache.c: a provider's tokens, okta/<provider>/tokens.json under the state root, with the
 * secrets in that file or (token_store = keyring) in the Secret Service; the provider's lock. */
#include "oktacred/cache.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "oktacred/config.h"
#include "oktacred/idtoken.h"
#include "oktacred/json.h"
#include "oktacred/keyring.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define TOKENS_FILE "tokens.json"
#define TOKENS_MAX  (1024 * 1024)

static int provider_paths(const struct provider_cfg *p, char **root, char **dir, okc_err *err)
{
	*root = *dir = NULL;
	if (paths_provider_root(p->base_path, root, err) < 0)
		return -1;
	if (paths_provider_dir(p->base_path, p->name, dir, err) < 0) {
		free(*root);
		*root = NULL;
		return -1;
	}
	return 0;
}

static int in_keyring(const struct provider_cfg *p)
{
	return p->token_store == TOKEN_STORE_KEYRING;
}

/* A keyring error, told which provider and setting it is about. Returns -1. */
static int keyring_failed(const struct provider_cfg *p, okc_err *err)
{
	return okc_wrap(err, "%s (token_store = keyring)", p->name);
}

/* Replaces *field with the keyring's secret of that kind: NULL and OKC_NOENT when there
 * is none (or it is not a token), -1 when the keyring fails. */
static int load_secret(const struct provider_cfg *p, const char *kind, char **field, okc_err *err)
{
	char *s = NULL;
	int rc;

	/* With token_store = keyring, a secret the file still holds (from before the switch)
	 * is never used. */
	free_secret(*field);
	*field = NULL;
	rc = keyring_lookup(p->name, kind, &s, err);
	if (rc < 0)
		return keyring_failed(p, err);
	if (rc == OKC_NOENT)
		return OKC_NOENT;
	if (!tokens_is_vschar(s)) {
		log_warn("%s: the keyring's %s is not a token; ignoring it", p->name, kind);
		free_secret(s);
		return OKC_NOENT;
	}
	*field = s;
	return 0;
}

/* Fills t's secrets from the keyring. OKC_NOENT when it holds no access token. */
static int load_secrets(const struct provider_cfg *p, struct tokens *t, okc_err *err)
{
	int rc = load_secret(p, "access_token", &t->access_token, err);

	if (rc == OKC_NOENT)
		log_verbose("%s: no access token in the keyring", p->name);
	if (rc != 0)
		return rc;
	if (load_secret(p, "refresh_token", &t->refresh_token, err) < 0 ||
	    load_secret(p, "id_token", &t->id_token, err) < 0)
		return -1;
	return 0;
}

/* tokens.json, parsed and matched against p, without the keyring's secrets: 0 and *out;
 * OKC_NOENT (no file, another provider's, corrupt: set aside); -1. *path for messages. */
static int load_file(const struct provider_cfg *p, struct tokens **out, char **path, okc_err *err)
{
	struct buf data = BUF_INIT;
	char *root, *dir;
	okc_err perr;
	int rc;

	*out = NULL;
	*path = NULL;
	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	rc = store_read_in(root, dir, TOKENS_FILE, TOKENS_MAX, &data, path, err);
	if (rc == 0) {
		okc_err_clear(&perr);
		if (tokens_from_json(data.data, data.len, out, &perr) < 0) {
			store_quarantine_unchanged(dir, TOKENS_FILE, TOKENS_MAX, &data, perr.msg);
			rc = OKC_NOENT;
		} else if (!tokens_match_provider(*out, p)) {
			log_verbose("cached tokens in %s were obtained for another "
			            "org/client/server/scopes; ignoring them",
			            *path);
			tokens_free(*out);
			*out = NULL;
			rc = OKC_NOENT;
		}
	}
	buf_free(&data);
	free(dir);
	free(root);
	return rc;
}

int cache_load(const struct provider_cfg *p, struct tokens **out, okc_err *err)
{
	struct tokens *t = NULL;
	char *path = NULL;
	int rc = load_file(p, &t, &path, err);

	*out = NULL;
	/* No session to read, but a login is what comes next: say now, not after the user
	 * approved it, that its tokens could not be kept. */
	if (rc == OKC_NOENT && in_keyring(p) && keyring_check(p->name, err) < 0)
		rc = keyring_failed(p, err);
	if (rc == 0 && in_keyring(p)) {
		rc = load_secrets(p, t, err);
	} else if (rc == 0 && !t->access_token) {
		log_verbose("%s holds no access token (saved with token_store = keyring?)", path);
		rc = OKC_NOENT;
	}
	if (rc == 0)
		*out = t;
	else
		tokens_free(t);
	free(path);
	return rc;
}

int cache_peek(const struct provider_cfg *p, struct tokens **out, okc_err *err)
{
	char *path = NULL;
	int rc = load_file(p, out, &path, err);

	free(path);
	return rc;
}

int cache_session(const struct provider_cfg *p, char **session, okc_err *err)
{
	struct tokens *t = NULL;
	char *path = NULL;
	int rc = load_file(p, &t, &path, err);

	*session = NULL;
	/* A session past its session_duration is over: what was derived from it too. */
	if (rc == 0 && tokens_session_over(t, p, now_utc()))
		rc = OKC_NOENT;
	if (rc == 0)
		*session = xstrdup(t->session);
	tokens_free(t);
	free(path);
	return rc;
}

/* The secrets go to the keyring first, so tokens.json never describes secrets that are not
 * there yet. Kinds t lacks are deleted: a stale ID token must not outlive its session. */
static int save_secrets(const struct provider_cfg *p, const struct tokens *t, const char *dir,
                        okc_err *err)
{
	const struct {
		const char *kind;
		const char *value;
	} items[] = {
	    {"access_token", t->access_token},
	    {"refresh_token", t->refresh_token},
	    {"id_token", t->id_token},
	};
	size_t i;

	if (!t->access_token)
		return okc_fail(err, OKC_EXIT_FAIL, "%s: no access token to save", p->name);
	for (i = 0; i < ARRAY_SIZE(items); i++) {
		int rc = items[i].value ? keyring_store(p->name, items[i].kind, items[i].value, err)
		                        : keyring_delete(p->name, items[i].kind, err);

		if (rc < 0) {
			okc_err ignored;

			/* The keyring now holds part of the new set next to part of the old one
			 * (whose refresh token may be rotated out): end the session rather than
			 * let the old tokens.json pair with the mix. */
			if (i > 0)
				store_remove(dir, TOKENS_FILE, &ignored);
			return keyring_failed(p, err);
		}
	}
	return 0;
}

/* 128 random bits in hex: a new session's id. */
static char *new_session_id(void)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	char *s = xcalloc(1, 2 * sizeof(rnd) + 1);
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* No kernel randomness: unique is what matters here, not secret. */
		unsigned long long x = (unsigned long long)now_mono_ms() ^
		                       ((unsigned long long)getpid() << 32) ^
		                       (unsigned long long)time(NULL);

		for (i = 0; i < sizeof(rnd); i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			rnd[i] = (unsigned char)(x >> 33);
		}
	}
	for (i = 0; i < sizeof(rnd); i++) {
		s[2 * i] = hex[rnd[i] >> 4];
		s[2 * i + 1] = hex[rnd[i] & 15];
	}
	return s;
}

int cache_save(const struct provider_cfg *p, struct tokens *t, okc_err *err)
{
	struct buf json = BUF_INIT;
	struct tokens keyed;
	char *root, *dir;
	int rc = -1;

	if (!t->session) {
		t->session = new_session_id();
		t->session_started_at = t->obtained_at ? t->obtained_at : now_utc();
	}
	keyed = *t;

	/* Whatever t says, the file records the provider it is saved for: a file saved under
	 * this name must match this provider when it is read back. A shallow copy, not
	 * freed: the strings stay t's and p's. */
	keyed.org_url = p->org_url;
	keyed.client_id = p->client_id;
	keyed.authorization_server = p->authorization_server;
	keyed.scopes = p->scopes;
	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	if (store_ensure_dir(root, dir, err) < 0)
		goto out;
	if (in_keyring(p) && save_secrets(p, t, dir, err) < 0)
		goto out;
	/* With the keyring, the file keeps only what is not secret: expiry, scope, cache key. */
	if (tokens_to_json(&keyed, !in_keyring(p), &json) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "out of memory writing the tokens of %s", p->name);
		goto out;
	}
	rc = store_write_atomic(dir, TOKENS_FILE, json.data, json.len, err);
out:
	buf_free(&json);
	free(dir);
	free(root);
	return rc;
}

/* Both the keyring's items and tokens.json go; the file also when the keyring cannot be
 * reached, and then the keyring's error is returned. */
int cache_delete(const struct provider_cfg *p, okc_err *err)
{
	char *root, *dir;
	okc_err kerr;
	int rc, krc = OKC_NOENT;

	if (in_keyring(p)) {
		krc = keyring_delete_all(p->name, &kerr);
		if (krc < 0)
			keyring_failed(p, &kerr);
	}
	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	rc = store_remove_in(root, dir, TOKENS_FILE, err);
	free(dir);
	free(root);
	if (krc < 0) {
		if (rc < 0)
			log_error("%s", err->msg);
		*err = kerr;
		return -1;
	}
	if (rc < 0)
		return -1;
	return rc == 0 || krc == 0 ? 0 : OKC_NOENT;
}

int cache_check_writable(const struct provider_cfg *p, okc_err *err)
{
	struct lock lk = LOCK_INIT;
	char *root, *dir;
	int rc;

	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	rc = lock_acquire_in(&lk, root, dir, 0, err);
	lock_release(&lk);
	if (rc == 0)
		rc = store_check_room(dir, CACHE_ROOM, err);
	free(dir);
	free(root);
	return rc;
}

int cache_lock(const struct provider_cfg *p, struct lock *l, okc_err *err)
{
	return cache_lock_within(p, l, 0, err);
}

int cache_lock_within(const struct provider_cfg *p, struct lock *l, long timeout_ms, okc_err *err)
{
	char *root, *dir;
	int rc;

	l->fd = -1;
	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	rc = lock_acquire_in(l, root, dir, timeout_ms, err);
	free(dir);
	free(root);
	return rc;
}

/* Whether dir's tokens.json is keyring mode's: metadata without the tokens. */
static int holds_metadata_only(const char *root, const char *dir)
{
	struct buf data = BUF_INIT;
	struct json *json = NULL;
	okc_err ignored;
	int meta = 0;

	if (store_read_in(root, dir, TOKENS_FILE, TOKENS_MAX, &data, NULL, &ignored) == 0 &&
	    (json = json_parse_object(data.data, data.len)))
		meta = !json_member(json, "access_token");
	json_free_secret(json);
	buf_free(&data);
	return meta;
}

/* An orphan's session, under its lock: the file store's tokens.json (with its corrupt copy
 * and temporaries) and jwks.json, and the keyring's items of that name. The configuration
 * that said which store it used is gone: a tokens.json without tokens says keyring (its
 * items must go, as for cache_delete: an unreachable Secret Service is an error, after the
 * file is removed); otherwise they are looked for when a Secret Service is reachable. Then
 * the directory, when nothing else is left in it. */
static int sweep_one(const char *root, const char *dir, const char *name, okc_err *err)
{
	struct lock lk = LOCK_INIT;
	char *shown;
	okc_err kerr;
	int rc, gone = 0, keyring;

	rc = lock_acquire(&lk, dir, 0, err);
	if (rc != 0)
		return rc == OKC_NOENT ? 0 : -1;
	keyring = holds_metadata_only(root, dir);
	rc = store_remove_in(root, dir, TOKENS_FILE, err);
	gone = rc == 0;
	if (rc >= 0)
		rc = store_remove_in(root, dir, IDTOKEN_JWKS_FILE, err);
	if (rc >= 0 && (keyring || keyring_check(name, &kerr) == 0)) {
		int krc = keyring_delete_all(name, err);

		if (krc < 0) {
			shown = text_escape_dup(name);
			okc_wrap(err,
			         "%s (no longer in the configuration; its tokens were in the "
			         "keyring)",
			         shown);
			free(shown);
		}
		gone |= krc == 0;
		rc = krc < 0 ? -1 : rc;
	}
	if (rc < 0) {
		lock_release(&lk);
		return -1;
	}
	shown = text_escape_dup(name);
	if (gone)
		log_info("%s: logged out (no longer in the configuration)", shown);
	if (store_dir_only(dir, ".lock") && lock_remove(&lk, dir) == 0)
		log_verbose("removed %s: no provider of the configuration has that name", dir);
	lock_release(&lk);
	free(shown);
	return 0;
}

/* A configured provider's directory that holds only its lock (a logout made it): gone,
 * under the lock. It is made again when needed. */
static int remove_if_only_lock(const char *dir, okc_err *err)
{
	struct lock lk = LOCK_INIT;
	int rc = lock_acquire(&lk, dir, 0, err);

	if (rc != 0)
		return rc == OKC_NOENT ? 0 : -1;
	if (store_dir_only(dir, ".lock"))
		lock_remove(&lk, dir);
	lock_release(&lk);
	return 0;
}

int cache_sweep(const char *root, const struct config *cfg, okc_err *err)
{
	char *okta = paths_join(root, "okta");
	struct dirent *de;
	DIR *d;
	int rc = store_check_tree(root, okta, err);

	if (rc != 0 || !(d = opendir(okta))) {
		free(okta);
		return rc < 0 ? -1 : 0;
	}
	while (rc >= 0 && (de = readdir(d))) {
		char *dir;

		if (de->d_name[0] == '.')
			continue;
		dir = paths_join(okta, de->d_name);
		rc = store_check_dir(dir, err);
		if (rc == 0 && !config_find_provider(cfg, de->d_name))
			rc = sweep_one(root, dir, de->d_name, err);
		else if (rc == 0 && store_dir_only(dir, ".lock"))
			rc = remove_if_only_lock(dir, err);
		free(dir);
	}
	closedir(d);
	free(okta);
	return rc < 0 ? -1 : 0;
}
