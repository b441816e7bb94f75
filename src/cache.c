/* cache.c: a provider's tokens on disk, okta/<provider>/tokens.json under the state root,
 * and the provider's lock. The keyring store comes later. */
#include "oktacred/cache.h"

#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define TOKENS_FILE "tokens.json"
#define TOKENS_MAX  (1024 * 1024)

static int provider_paths(const struct provider_cfg *p, char **root, char **dir, okc_err *err)
{
	*root = *dir = NULL;
	if (paths_provider_root(p, root, err) < 0)
		return -1;
	if (paths_provider_dir(p, dir, err) < 0) {
		free(*root);
		*root = NULL;
		return -1;
	}
	return 0;
}

/* cache_load runs without the lock, so between our read and the rename a login may
 * have put a good file in place: move the file only if it still holds the bytes that
 * were judged corrupt. */
static void quarantine(const char *dir, const struct buf *judged, const char *why)
{
	struct buf again = BUF_INIT;
	char *path = paths_join(dir, TOKENS_FILE);
	okc_err err;

	if (store_read(path, TOKENS_MAX, &again, &err) == 0 && again.len == judged->len &&
	    memcmp(again.data, judged->data, judged->len) == 0) {
		log_verbose("%s: %s", path, why);
		if (store_quarantine(dir, TOKENS_FILE, &err) == 0)
			log_warn("%s is corrupt; kept as %s.corrupt", path, path);
		else
			log_warn("%s is corrupt and could not be set aside: %s", path, err.msg);
	}
	buf_free(&again);
	free(path);
}

int cache_load(const struct provider_cfg *p, struct tokens **out, okc_err *err)
{
	struct buf data = BUF_INIT;
	struct tokens *t = NULL;
	char *root, *dir, *path = NULL;
	okc_err perr;
	int rc;

	*out = NULL;
	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	rc = store_check_tree(root, dir, err);
	if (rc != 0)
		goto out;
	path = paths_join(dir, TOKENS_FILE);
	rc = store_read(path, TOKENS_MAX, &data, err);
	if (rc != 0)
		goto out;
	okc_err_clear(&perr);
	if (tokens_from_json(data.data, data.len, &t, &perr) < 0) {
		quarantine(dir, &data, perr.msg);
		rc = OKC_NOENT;
		goto out;
	}
	if (!tokens_match_provider(t, p)) {
		log_verbose("cached tokens in %s were obtained for another "
		            "org/client/server/scopes; ignoring them",
		            path);
		tokens_free(t);
		rc = OKC_NOENT;
		goto out;
	}
	*out = t;
	rc = 0;
out:
	buf_free(&data);
	free(path);
	free(dir);
	free(root);
	return rc;
}

int cache_save(const struct provider_cfg *p, const struct tokens *t, okc_err *err)
{
	struct buf json = BUF_INIT;
	struct tokens keyed = *t;
	char *root, *dir;
	int rc = -1;

	if (p->token_store != TOKEN_STORE_FILE)
		return okc_fail(err, OKC_EXIT_FAIL,
		                "provider %s: token_store = keyring is not supported yet", p->name);
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
	if (tokens_to_json(&keyed, 1, &json) < 0) {
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

int cache_delete(const struct provider_cfg *p, okc_err *err)
{
	char *root, *dir;
	int rc;

	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	rc = store_check_tree(root, dir, err);
	if (rc == 0)
		rc = store_remove(dir, TOKENS_FILE, err);
	free(dir);
	free(root);
	return rc;
}

int cache_lock(const struct provider_cfg *p, struct lock *l, okc_err *err)
{
	char *root, *dir;
	int rc;

	l->fd = -1;
	if (provider_paths(p, &root, &dir, err) < 0)
		return -1;
	rc = store_ensure_dir(root, dir, err);
	if (rc == 0)
		rc = lock_acquire(l, dir, 0, err);
	free(dir);
	free(root);
	return rc;
}
