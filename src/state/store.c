/* store.c: safe files under oktacred's state root: 0700 directories, 0600 files, no
 * symlinks, no foreign owners, atomic replace (temp file, fsync, rename, fsync dir). The
 * root itself (which holds no secret, only the directories that do) may be readable by
 * others, as `mkdir -p` makes it, but not writable by them. */
#include "oktacred/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h> /* getrandom: glibc >= 2.25, POSIX.1-2024; /dev/urandom fallback */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/front.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/util.h"

/* Appends path to out, single-quoted for a shell when it holds anything unusual, so a
 * hint can be pasted as it is. */
static void shell_word(const char *path, char *out, size_t outlen)
{
	const char *safe =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+,:@%";
	size_t o = 0;

	if (path[0] && strspn(path, safe) == strlen(path)) {
		snprintf(out, outlen, "%s", path);
		return;
	}
	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[o++] = '\'';
	for (; *path && o + 5 < outlen; path++) {
		if (*path == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *path;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
}

static int fail_symlink(const char *path, okc_err *err)
{
	return okc_fail(err, OKC_EXIT_FAIL,
	                "%s is a symbolic link; oktacred does not follow links in its state "
	                "directory: remove it",
	                path);
}

enum { CHECK_FILE, CHECK_DIR, CHECK_ROOT };

/* The one rule for everything under the state root: a real file or directory (as what
 * says), ours, and nobody else's to read or write. The root only has to be nobody else's
 * to write: its subdirectories keep the secrets from readers. */
static int check_stat(const char *path, const struct stat *st, int what, okc_err *err)
{
	char word[1024];
	int want_dir = what != CHECK_FILE;
	mode_t refused = what == CHECK_ROOT ? (S_IWGRP | S_IWOTH) : (S_IRWXG | S_IRWXO);

	if (S_ISLNK(st->st_mode))
		return fail_symlink(path, err);
	if (want_dir && !S_ISDIR(st->st_mode))
		return okc_fail(err, OKC_EXIT_FAIL, "%s is not a directory", path);
	if (!want_dir && !S_ISREG(st->st_mode))
		return okc_fail(err, OKC_EXIT_FAIL, "%s is not a regular file", path);
	if (st->st_uid != my_euid())
		return okc_fail(err, OKC_EXIT_FAIL, "%s is owned by uid %ld, not you (uid %ld)",
		                path, (long)st->st_uid, (long)my_euid());
	if (st->st_mode & refused) {
		okc_fail(err, OKC_EXIT_FAIL, "%s has mode %04o%s", path,
		         (unsigned)(st->st_mode & 07777),
		         what == CHECK_ROOT ? ": others can write to it" : "");
		shell_word(path, word, sizeof(word));
		okc_hint(err, "run: chmod %s %s",
		         what == CHECK_ROOT ? "go-w"
		         : want_dir         ? "700"
		                            : "600",
		         word);
		return -1;
	}
	return 0;
}

int store_check_fd(int fd, const char *path, okc_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot stat %s: %s", path, strerror(errno));
	return check_stat(path, &st, CHECK_FILE, err);
}

/* store_check_dir with the rule of the root (CHECK_ROOT) or of a directory under it. */
static int check_dir(const char *dir, int what, okc_err *err)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return OKC_NOENT;
		return okc_fail(err, OKC_EXIT_FAIL, "cannot read %s: %s", dir, strerror(errno));
	}
	return check_stat(dir, &st, what, err);
}

int store_check_dir(const char *dir, okc_err *err)
{
	return check_dir(dir, CHECK_DIR, err);
}

/* mkdir -p for what lies above the state root (e.g. a missing ~/.config): created 0700
 * as XDG asks, but not judged: those directories are not oktacred's. */
static int make_parents(const char *path, okc_err *err)
{
	char *p = xstrdup(path);
	char *slash;
	int rc = 0;

	for (slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = okc_fail(err, OKC_EXIT_FAIL, "cannot create directory %s: %s", p,
			              strerror(errno));
			break;
		}
		*slash = '/';
	}
	free(p);
	return rc;
}

/* Creates one directory of the tree (a race with another process creating it is fine),
 * then judges whatever is there. */
static int ensure_one(const char *path, int is_root, okc_err *err)
{
	struct stat st;
	int created = 0;

	front_handoff("creating a directory");
	if (mkdir(path, 0700) == 0) {
		created = 1;
	} else if (errno == ENOENT && is_root) {
		if (make_parents(path, err) < 0)
			return -1;
		if (mkdir(path, 0700) == 0)
			created = 1;
		else if (errno != EEXIST)
			return okc_fail(err, OKC_EXIT_FAIL, "cannot create directory %s: %s", path,
			                strerror(errno));
	} else if (errno != EEXIST) {
		return okc_fail(err, OKC_EXIT_FAIL, "cannot create directory %s: %s", path,
		                strerror(errno));
	}
	if (lstat(path, &st) < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot read %s: %s", path, strerror(errno));
	/* A umask such as 0277 would leave our own directory unwritable: we made it, so we
	 * set its mode to exactly 0700. Nothing else can reach into the 0700 parent. */
	if (created && S_ISDIR(st.st_mode) && st.st_uid == my_euid() &&
	    (st.st_mode & 07777) != 0700) {
		if (chmod(path, 0700) < 0)
			return okc_fail(err, OKC_EXIT_FAIL, "cannot chmod %s: %s", path,
			                strerror(errno));
		st.st_mode = (st.st_mode & ~(mode_t)07777) | 0700;
	}
	return check_stat(path, &st, is_root ? CHECK_ROOT : CHECK_DIR, err);
}

/* Walks root, then each component of dir below root. create: make what is missing;
 * else OKC_NOENT at the first missing one. */
static int walk_tree(const char *root, const char *dir, int create, okc_err *err)
{
	size_t rlen = strlen(root);
	char *path;
	const char *rest, *end;
	int rc;

	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--;
	if (rlen == 0 || strncmp(root, dir, rlen) != 0 ||
	    (dir[rlen] != '\0' && dir[rlen] != '/' && !(rlen == 1 && root[0] == '/')))
		return okc_fail(err, OKC_EXIT_FAIL, "%s is not under %s", dir, root);

	path = xstrndup(root, rlen);
	rc = create ? ensure_one(path, 1, err) : check_dir(path, CHECK_ROOT, err);
	rest = dir + rlen;
	while (rc == 0) {
		char *next;
		size_t n;

		while (*rest == '/')
			rest++;
		if (!*rest)
			break;
		end = strchr(rest, '/');
		n = end ? (size_t)(end - rest) : strlen(rest);
		if ((n == 1 && rest[0] == '.') || (n == 2 && rest[0] == '.' && rest[1] == '.')) {
			rc = okc_fail(err, OKC_EXIT_FAIL,
			              "%s: \".\" and \"..\" are not allowed here", dir);
			break;
		}
		next = xasprintf("%s%s%.*s", path, path[strlen(path) - 1] == '/' ? "" : "/", (int)n,
		                 rest);
		free(path);
		path = next;
		rc = create ? ensure_one(path, 0, err) : store_check_dir(path, err);
		rest += n;
	}
	free(path);
	return rc;
}

int store_ensure_dir(const char *root, const char *dir, okc_err *err)
{
	return walk_tree(root, dir, 1, err);
}

int store_check_tree(const char *root, const char *dir, okc_err *err)
{
	return walk_tree(root, dir, 0, err);
}

int store_read(const char *path, size_t max, struct buf *out, okc_err *err)
{
	struct buf b = BUF_INIT;
	int fd, rc;

	/* O_NONBLOCK: a FIFO planted here must not hang us before fstat refuses it. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return OKC_NOENT;
		if (errno == ELOOP)
			return fail_symlink(path, err);
		return okc_fail(err, OKC_EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
	}
	rc = store_check_fd(fd, path, err);
	if (rc == 0 && buf_read_fd(&b, fd, max) < 0)
		rc =
		    errno == EFBIG
		        ? okc_fail(err, OKC_EXIT_FAIL, "%s is larger than %zu bytes", path, max)
		        : okc_fail(err, OKC_EXIT_FAIL, "cannot read %s: %s", path, strerror(errno));
	close(fd);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	buf_free(out);
	*out = b;
	return 0;
}

int store_read_in(const char *root, const char *dir, const char *name, size_t max, struct buf *out,
                  char **path, okc_err *err)
{
	char *p;
	int rc;

	if (path)
		*path = NULL;
	rc = store_check_tree(root, dir, err);
	if (rc != 0)
		return rc;
	p = paths_join(dir, name);
	rc = store_read(p, max, out, err);
	if (path)
		*path = p;
	else
		free(p);
	return rc;
}

static void random_suffix(char *out, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long counter;
	unsigned char rnd[16];
	size_t i;

	if (n > sizeof(rnd))
		n = sizeof(rnd);
	if (getrandom(rnd, n, GRND_NONBLOCK) != (ssize_t)n) {
		/* Unpredictability is not what keeps us safe (O_EXCL is): any mix will do. */
		unsigned long x = (unsigned long)getpid() * 2654435761UL ^
		                  (unsigned long)time(NULL) ^ (++counter * 40503UL);
		for (i = 0; i < n; i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			rnd[i] = (unsigned char)(x >> 33);
		}
	}
	for (i = 0; i < n; i++)
		out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[n] = '\0';
}

/* Creates dir/.name.XXXXXX (random, O_EXCL, not following a link) for writing; *tmp gets
 * its path (the caller frees it). Returns the descriptor, or -1 with errno. */
static int create_temp(const char *dir, const char *name, char **tmp)
{
	char suffix[7];
	int fd = -1, tries;

	*tmp = NULL;
	for (tries = 0; tries < 100; tries++) {
		char *base;

		random_suffix(suffix, 6);
		base = xasprintf(".%s.%s", name, suffix);
		free(*tmp);
		*tmp = paths_join(dir, base);
		free(base);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	return fd;
}

static int is_enospc(int e)
{
	return e == ENOSPC
#ifdef EDQUOT
	       || e == EDQUOT
#endif
	    ;
}

int store_check_room(const char *dir, size_t need, okc_err *err)
{
	char *tmp;
	int fd = create_temp(dir, "room-check", &tmp), e;

	if (fd < 0) {
		e = errno;
		free(tmp);
		if (is_enospc(e))
			return okc_fail(err, OKC_EXIT_FAIL, "disk full: no room for a file in %s",
			                dir);
		return 0; /* the write itself will say what is wrong */
	}
	/* Unlinked first: even a kill now leaves nothing behind (the open file still
	 * reserves the space). */
	unlink(tmp);
	e = posix_fallocate(fd, 0, (off_t)need);
	close(fd);
	free(tmp);
	if (is_enospc(e))
		return okc_fail(err, OKC_EXIT_FAIL, "disk full: less than %zu KiB free in %s",
		                need / 1024, dir);
	return 0;
}

static int fail_write(const char *path, int e, okc_err *err)
{
	if (is_enospc(e))
		return okc_fail(err, OKC_EXIT_FAIL, "disk full while writing %s", path);
	return okc_fail(err, OKC_EXIT_FAIL, "cannot write %s: %s", path, strerror(e));
}

/* check_dir: dir is under oktacred's root (store_check_dir); mode: the new file's. */
static int write_atomic(const char *dir, const char *name, const void *data, size_t len,
                        int check_dir, mode_t mode, okc_err *err)
{
	const char *p = data;
	char *final = paths_join(dir, name);
	char *tmp = NULL;
	int fd = -1, dfd, rc;

	front_handoff("writing a file");
	rc = check_dir ? store_check_dir(dir, err) : 0;
	if (rc == OKC_NOENT)
		rc = okc_fail(err, OKC_EXIT_FAIL, "cannot write %s: %s does not exist", final, dir);
	if (rc < 0)
		goto out;

	fd = create_temp(dir, name, &tmp);
	if (fd < 0) {
		rc = okc_fail(err, OKC_EXIT_FAIL, "cannot create a temporary file in %s: %s", dir,
		              strerror(errno));
		goto out;
	}
	/* The umask may have taken bits we want; it cannot have added any. */
	if (fchmod(fd, mode) < 0) {
		rc = okc_fail(err, OKC_EXIT_FAIL, "cannot chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail_write(final, errno, err);
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	while ((rc = fsync(fd)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = fail_write(final, errno, err);
		goto fail;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0 && errno != EINTR) {
		rc = fail_write(final, errno, err);
		goto fail;
	}
	if (rename(tmp, final) < 0) {
		rc = okc_fail(err, OKC_EXIT_FAIL, "cannot replace %s: %s", final, strerror(errno));
		goto fail;
	}
	/* Make the rename itself durable. Filesystems that cannot fsync a directory say
	 * EINVAL; nothing more can be done there. */
	rc = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		int r;

		while ((r = fsync(dfd)) < 0 && errno == EINTR)
			;
		if (r < 0 && errno != EINVAL && errno != EROFS)
			rc = fail_write(final, errno, err);
		close(dfd);
	}
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	rc = -1;
out:
	free(tmp);
	free(final);
	return rc;
}

int store_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                       okc_err *err)
{
	return write_atomic(dir, name, data, len, 1, 0600, err);
}

int store_replace_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
                       okc_err *err)
{
	return write_atomic(dir, name, data, len, 0, mode & 07777, err);
}

int store_remove(const char *dir, const char *name, okc_err *err)
{
	char *path;
	int rc = store_check_dir(dir, err);

	front_handoff("changing a file");
	if (rc != 0)
		return rc;
	path = paths_join(dir, name);
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			rc = OKC_NOENT;
		else
			rc = okc_fail(err, OKC_EXIT_FAIL, "cannot remove %s: %s", path,
			              strerror(errno));
	}
	free(path);
	return rc;
}

int store_dir_only(const char *dir, const char *name)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int only = 1;

	if (!d)
		return 0;
	while (only && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, name) != 0)
			only = 0;
	closedir(d);
	return only;
}

/* ".NAME.XXXXXX" as create_temp makes them. */
static int is_temp_name(const char *n)
{
	size_t len = strlen(n), i;

	if (len < 9 || n[0] != '.' || n[len - 7] != '.' || strcmp(n, ".lock") == 0)
		return 0;
	for (i = len - 6; i < len; i++)
		if (!((n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= 'a' && n[i] <= 'z') ||
		      (n[i] >= '0' && n[i] <= '9')))
			return 0;
	return 1;
}

int store_remove_temps(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	front_handoff("changing a file");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char *path;

		if (!is_temp_name(de->d_name))
			continue;
		path = paths_join(dir, de->d_name);
		/* Only our own regular files; a link is removed, never followed. */
		if (lstat(path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) &&
		    st.st_uid == my_euid() && unlink(path) == 0) {
			log_verbose("removed %s, left by an interrupted write", path);
			n++;
		}
		free(path);
	}
	closedir(d);
	return n;
}

int store_remove_in(const char *root, const char *dir, const char *name, okc_err *err)
{
	char *corrupt;
	int rc = store_check_tree(root, dir, err);

	front_handoff("changing a file");
	if (rc != 0)
		return rc;
	rc = store_remove(dir, name, err);
	if (rc < 0)
		return rc;
	/* What else may hold the same secrets: a set-aside corrupt copy, a crashed write. */
	corrupt = xasprintf("%s.corrupt", name);
	if (store_remove(dir, corrupt, err) < 0)
		log_warn("%s", err->msg);
	free(corrupt);
	store_remove_temps(dir);
	return rc;
}

int store_quarantine(const char *dir, const char *name, okc_err *err)
{
	char *path, *dest, *corrupt;
	int rc = store_check_dir(dir, err);

	front_handoff("changing a file");
	if (rc != 0)
		return rc;
	path = paths_join(dir, name);
	corrupt = xasprintf("%s.corrupt", name);
	dest = paths_join(dir, corrupt);
	if (rename(path, dest) < 0) {
		if (errno == ENOENT)
			rc = OKC_NOENT;
		else
			rc = okc_fail(err, OKC_EXIT_FAIL, "cannot rename %s to %s: %s", path, dest,
			              strerror(errno));
	}
	free(dest);
	free(corrupt);
	free(path);
	return rc;
}

void store_quarantine_unchanged(const char *dir, const char *name, size_t max,
                                const struct buf *judged, const char *why)
{
	struct buf again = BUF_INIT;
	char *path = paths_join(dir, name);
	okc_err err;

	if (store_read(path, max, &again, &err) == 0 && again.len == judged->len &&
	    memcmp(again.data, judged->data, judged->len) == 0) {
		log_verbose("%s: %s", path, why);
		if (store_quarantine(dir, name, &err) == 0)
			log_warn("%s is corrupt; kept as %s.corrupt", path, path);
		else
			log_warn("%s is corrupt and could not be set aside: %s", path, err.msg);
	}
	buf_free(&again);
	free(path);
}
