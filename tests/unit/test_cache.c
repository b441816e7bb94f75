/* test_cache.c: tokens.json under okta/<provider>/ from src/cache.c: round trip with
 * modes, quarantine of corrupt files, provider mismatch, unsafe directories, lock. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/lock.h"
#include "oktacred/provider.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"
#include "helpers.h"

static char home[] = "/tmp/okc-cache-XXXXXX";
static char *root; /* $XDG_CONFIG_HOME/oktacred */
static char *pdir; /* root/okta/okta-oidc */
static char *pfile;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(home));
	cr_assert_eq(setenv("XDG_CONFIG_HOME", home, 1), 0);
	root = paths_join(home, "oktacred");
	pdir = xasprintf("%s/okta/okta-oidc", root);
	pfile = paths_join(pdir, "tokens.json");
}

static void teardown(void)
{
	test_rmtree(home);
	free(root);
	free(pdir);
	free(pfile);
}

TestSuite(cache, .init = setup, .fini = teardown);

static struct provider_cfg provider(void)
{
	struct provider_cfg p;

	memset(&p, 0, sizeof(p));
	p.name = "okta-oidc";
	p.kind = &provider_device_code.config;
	p.org_url = "https://company.okta.com";
	p.client_id = "0oa1234567890abcdefg";
	p.authorization_server = "default";
	p.scopes = "openid profile email offline_access";
	p.token_store = TOKEN_STORE_FILE;
	p.refresh_before = 300;
	return p;
}

static struct tokens *some_tokens(void)
{
	struct tokens *t = xcalloc(1, sizeof(*t));

	t->access_token = xstrdup("access-1");
	t->token_type = xstrdup("Bearer");
	t->refresh_token = xstrdup("refresh-1");
	t->id_token = xstrdup("h.p.s");
	t->scope = xstrdup("openid offline_access");
	t->expires_in = 3600;
	t->obtained_at = 1768478400;
	t->expires_at = 1768478400 + 3600;
	return t;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
}

static char *read_text(const char *path)
{
	struct buf b = BUF_INIT;
	okc_err err;

	cr_assert_eq(store_read(path, 1 << 20, &b, &err), 0, "%s", err.msg);
	return buf_detach(&b);
}

Test(cache, save_then_load_round_trip)
{
	struct provider_cfg p = provider();
	struct tokens *t = some_tokens(), *back = NULL;
	char *okta = paths_join(root, "okta");
	okc_err err;

	umask(022);
	cr_assert_eq(cache_save(&p, t, &err), 0, "%s", err.msg);
	cr_assert_eq(mode_of(root), 0700);
	cr_assert_eq(mode_of(okta), 0700);
	cr_assert_eq(mode_of(pdir), 0700);
	cr_assert_eq(mode_of(pfile), 0600);
	cr_assert_eq(cache_load(&p, &back, &err), 0, "%s", err.msg);
	cr_assert_not_null(back);
	cr_assert_str_eq(back->access_token, "access-1");
	cr_assert_str_eq(back->refresh_token, "refresh-1");
	cr_assert_str_eq(back->id_token, "h.p.s");
	cr_assert_str_eq(back->scope, "openid offline_access");
	cr_assert_eq(back->expires_at, t->expires_at);
	cr_assert_eq(back->obtained_at, t->obtained_at);
	/* cache_save recorded the provider's key although t had none. */
	cr_assert_str_eq(back->org_url, p.org_url);
	cr_assert_str_eq(back->client_id, p.client_id);
	cr_assert_str_eq(back->authorization_server, p.authorization_server);
	cr_assert_str_eq(back->scopes, p.scopes);
	tokens_free(back);
	tokens_free(t);
	free(okta);
}

Test(cache, save_replaces_and_uses_base_path)
{
	struct provider_cfg p = provider();
	struct tokens *t = some_tokens(), *back = NULL;
	char *base = paths_join(home, "state"), *file;
	okc_err err;

	p.base_path = base;
	cr_assert_eq(cache_save(&p, t, &err), 0, "%s", err.msg);
	free(t->access_token);
	t->access_token = xstrdup("access-2");
	cr_assert_eq(cache_save(&p, t, &err), 0, "%s", err.msg);
	file = xasprintf("%s/okta/okta-oidc/tokens.json", base);
	cr_assert_eq(mode_of(file), 0600);
	cr_assert_eq(mode_of(base), 0700);
	cr_assert_eq(access(pfile, F_OK), -1, "nothing under XDG when base_path is set");
	cr_assert_eq(cache_load(&p, &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back->access_token, "access-2");
	tokens_free(back);
	tokens_free(t);
	free(file);
	free(base);
}

Test(cache, nothing_there_is_noent)
{
	struct provider_cfg p = provider();
	struct tokens *t = (struct tokens *)1;
	okc_err err;

	cr_assert_eq(cache_load(&p, &t, &err), OKC_NOENT);
	cr_assert_null(t);
	cr_assert_eq(mkdir(root, 0700), 0);
	cr_assert_eq(cache_load(&p, &t, &err), OKC_NOENT);
	cr_assert_eq(store_ensure_dir(root, pdir, &err), 0, "%s", err.msg);
	cr_assert_eq(cache_load(&p, &t, &err), OKC_NOENT);
	cr_assert_null(t);
}

Test(cache, corrupt_file_is_quarantined)
{
	struct provider_cfg p = provider();
	struct tokens *t = (struct tokens *)1;
	char *corrupt = xasprintf("%s.corrupt", pfile), *kept;
	okc_err err;

	cr_assert_eq(store_ensure_dir(root, pdir, &err), 0, "%s", err.msg);
	write_file(pfile, "{\"access_token\":\"abc\",\"expires_at\":", 0600);
	cr_assert_eq(cache_load(&p, &t, &err), OKC_NOENT);
	cr_assert_null(t);
	cr_assert_eq(access(pfile, F_OK), -1, "the corrupt file is moved away");
	kept = read_text(corrupt);
	cr_assert_str_eq(kept, "{\"access_token\":\"abc\",\"expires_at\":");
	free(kept);
	/* A file of the wrong shape too. */
	write_file(pfile, "{\"expires_at\":12}", 0600);
	cr_assert_eq(cache_load(&p, &t, &err), OKC_NOENT);
	cr_assert_eq(access(pfile, F_OK), -1);
	kept = read_text(corrupt);
	cr_assert_str_eq(kept, "{\"expires_at\":12}");
	free(kept);
	free(corrupt);
}

Test(cache, provider_mismatch_is_noent)
{
	struct provider_cfg p = provider(), q;
	struct tokens *t = some_tokens(), *back = (struct tokens *)1;
	okc_err err;

	cr_assert_eq(cache_save(&p, t, &err), 0, "%s", err.msg);
	q = p;
	q.org_url = "https://another.okta.com";
	cr_assert_eq(cache_load(&q, &back, &err), OKC_NOENT);
	cr_assert_null(back);
	q = p;
	q.client_id = "0oaOTHER";
	cr_assert_eq(cache_load(&q, &back, &err), OKC_NOENT);
	q = p;
	q.authorization_server = "org";
	cr_assert_eq(cache_load(&q, &back, &err), OKC_NOENT);
	q = p;
	q.scopes = "openid";
	cr_assert_eq(cache_load(&q, &back, &err), OKC_NOENT);
	/* The file stays for the provider it belongs to: a mismatch is not corruption. */
	cr_assert_eq(access(pfile, F_OK), 0);
	q = p;
	q.scopes = "offline_access openid email profile";
	cr_assert_eq(cache_load(&q, &back, &err), 0, "%s", err.msg);
	tokens_free(back);
	tokens_free(t);
}

Test(cache, unsafe_directory_is_an_error)
{
	struct provider_cfg p = provider();
	struct tokens *t = some_tokens(), *back = NULL;
	okc_err err;

	cr_assert_eq(cache_save(&p, t, &err), 0, "%s", err.msg);
	cr_assert_eq(chmod(pdir, 0755), 0);
	cr_assert_eq(cache_load(&p, &back, &err), -1);
	cr_assert_null(back);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, pdir), "%s", err.msg);
	cr_assert(strstr(err.hint, "chmod 700"), "%s", err.hint);
	cr_assert_eq(cache_save(&p, t, &err), -1, "no write into an unsafe directory");
	cr_assert_eq(cache_delete(&p, &err), -1);
	cr_assert_eq(access(pfile, F_OK), 0);

	/* The root is judged too: open to read is fine, writable by others is not. */
	cr_assert_eq(chmod(pdir, 0700), 0);
	cr_assert_eq(chmod(root, 0711), 0);
	cr_assert_eq(cache_load(&p, &back, &err), 0, "%s", err.msg);
	tokens_free(back);
	back = NULL;
	cr_assert_eq(chmod(root, 0730), 0);
	cr_assert_eq(cache_load(&p, &back, &err), -1);
	cr_assert(strstr(err.hint, "chmod go-w"), "%s", err.hint);
	tokens_free(t);
}

Test(cache, symlinked_provider_dir_is_an_error)
{
	struct provider_cfg p = provider();
	struct tokens *t = some_tokens(), *back = NULL;
	char *elsewhere = paths_join(home, "elsewhere"), *okta = paths_join(root, "okta");
	okc_err err;

	cr_assert_eq(store_ensure_dir(root, okta, &err), 0, "%s", err.msg);
	cr_assert_eq(mkdir(elsewhere, 0700), 0);
	cr_assert_eq(symlink(elsewhere, pdir), 0);
	cr_assert_eq(cache_load(&p, &back, &err), -1);
	cr_assert(strstr(err.msg, "symbolic link"), "%s", err.msg);
	cr_assert_eq(cache_save(&p, t, &err), -1);
	cr_assert(strstr(err.msg, "symbolic link"), "%s", err.msg);
	tokens_free(t);
	free(elsewhere), free(okta);
}

Test(cache, loose_file_is_an_error)
{
	struct provider_cfg p = provider();
	struct tokens *t = some_tokens(), *back = NULL;
	okc_err err;

	cr_assert_eq(cache_save(&p, t, &err), 0, "%s", err.msg);
	cr_assert_eq(chmod(pfile, 0640), 0);
	cr_assert_eq(cache_load(&p, &back, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.hint, "chmod 600"), "%s", err.hint);
	tokens_free(t);
}

Test(cache, delete)
{
	struct provider_cfg p = provider();
	struct tokens *t = some_tokens(), *back = NULL;
	okc_err err;

	cr_assert_eq(cache_delete(&p, &err), OKC_NOENT, "no directory yet");
	cr_assert_eq(cache_save(&p, t, &err), 0, "%s", err.msg);
	cr_assert_eq(cache_delete(&p, &err), 0, "%s", err.msg);
	cr_assert_eq(access(pfile, F_OK), -1);
	cr_assert_eq(cache_load(&p, &back, &err), OKC_NOENT);
	cr_assert_eq(cache_delete(&p, &err), OKC_NOENT);
	tokens_free(t);
}

Test(cache, lock_creates_dir_and_locks)
{
	struct provider_cfg p = provider();
	struct lock l = LOCK_INIT, other = LOCK_INIT;
	char *lockfile = paths_join(pdir, ".lock");
	okc_err err;

	cr_assert_eq(cache_lock(&p, &l, &err), 0, "%s", err.msg);
	cr_assert_geq(l.fd, 0);
	cr_assert_eq(mode_of(pdir), 0700);
	cr_assert_eq(mode_of(lockfile), 0600);
	cr_assert_eq(lock_acquire(&other, pdir, 50, &err), -1, "the lock is held");
	lock_release(&l);
	cr_assert_eq(lock_acquire(&other, pdir, 50, &err), 0, "%s", err.msg);
	lock_release(&other);
	free(lockfile);
}

/* Whether process pid has path open (/proc/PID/fd). */
static int has_open(pid_t pid, const char *path)
{
	char fds[64], link[PATH_MAX], *fd;
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(fds, sizeof(fds), "/proc/%d/fd", (int)pid);
	d = opendir(fds);
	while (d && !found && (de = readdir(d))) {
		ssize_t n;

		fd = xasprintf("%s/%s", fds, de->d_name);
		n = readlink(fd, link, sizeof(link) - 1);
		free(fd);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, path) == 0;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* logout --all removes a lock that holds nothing: whoever was waiting for it then locks
 * the file that is there now (made again), not the one that was removed. */
Test(cache, a_removed_lock_is_noticed_by_its_waiter)
{
	struct provider_cfg p = provider();
	struct lock l = LOCK_INIT, o = LOCK_INIT;
	char *lockfile = paths_join(pdir, ".lock"), *other = paths_join(pdir, "other");
	long long deadline;
	int pipefd[2], status;
	char got = 0;
	pid_t pid;
	okc_err err;

	cr_assert_eq(cache_lock(&p, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct stat a, b;
		char ok;

		/* Another process, as in life: not the holder's inherited descriptor, which
		 * would keep the lock held after the holder closed its own (and made the
		 * parent's wait for the waiter's open see it at once). */
		lock_release(&l);
		if (cache_lock(&p, &o, &err) != 0)
			_exit(2);
		ok = fstat(o.fd, &a) == 0 && stat(lockfile, &b) == 0 && a.st_ino == b.st_ino &&
		             a.st_dev == b.st_dev
		         ? 'y'
		         : 'n';
		_exit(write(pipefd[1], &ok, 1) == 1 ? 0 : 3);
	}
	close(pipefd[1]);
	/* The waiter has the old file open. */
	deadline = now_mono_ms() + 20000;
	while (!has_open(pid, lockfile))
		cr_assert_lt(now_mono_ms(), deadline, "the waiter never opened the lock");
	cr_assert_eq(lock_remove(&l, pdir), 0);
	cr_assert_eq(l.fd, -1);
	cr_assert_eq(read(pipefd[0], &got, 1), 1);
	cr_assert_eq(got, 'y', "the waiter locked the file that was removed");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pipefd[0]);

	/* No directory: nothing to lock, nothing held. */
	test_rmtree(pdir);
	cr_assert_eq(lock_acquire(&o, pdir, 50, &err), OKC_NOENT);
	cr_assert_eq(o.fd, -1);
	/* Not empty: the lock goes, the directory stays. */
	cr_assert_eq(cache_lock(&p, &l, &err), 0, "%s", err.msg);
	test_write_file(other, "x", 1, 0600);
	cr_assert_eq(lock_remove(&l, pdir), OKC_NOENT);
	cr_assert_eq(access(lockfile, F_OK), -1);
	cr_assert_eq(access(other, F_OK), 0);
	free(other);
	free(lockfile);
}

Test(cache, keyring_not_written_to_file)
{
	struct provider_cfg p = provider();
	struct tokens *t = some_tokens();
	okc_err err;

	p.token_store = TOKEN_STORE_KEYRING;
	/* No session bus: this must never touch the developer's real keyring. */
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	unsetenv("XDG_RUNTIME_DIR");
	cr_assert_eq(cache_save(&p, t, &err), -1);
	cr_assert(strstr(err.msg, "keyring"), "%s", err.msg);
	cr_assert_eq(access(pfile, F_OK), -1, "secrets never land in the file");
	tokens_free(t);
}
