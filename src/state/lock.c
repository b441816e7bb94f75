/* lock.c: the per-provider flock(2) on DIR/.lock. flock is BSD, not POSIX; glibc and musl
 * declare it in <sys/file.h> without feature macros, so no _DEFAULT_SOURCE is needed. */
#include "oktacred/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/paths.h"
#include "oktacred/sig.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define LOCK_DEFAULT_TIMEOUT_MS 120000L
#define LOCK_FIRST_WAIT_MS      2L
#define LOCK_MAX_WAIT_MS        25L

/* Polling with LOCK_NB rather than a blocking flock: a blocking call cannot time out
 * without a timer signal, and SIGALRM belongs to nobody here. Waits of up to 2 ms at
 * first grow to up to 25 ms, with full jitter so that 32 waiters do not wake in step: a
 * released lock is taken within a few milliseconds, at the cost of a few dozen wakeups a
 * second. */
static int wait_for_lock(int fd, const char *path, long timeout_ms, okc_err *err)
{
	long long start = now_mono_ms();
	int attempt;

	for (attempt = 1;; attempt++) {
		long left, nap;

		if (sig_interrupted())
			return okc_fail(err, OKC_EXIT_INTERRUPTED,
			                "interrupted while waiting for the lock %s", path);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return okc_fail(err, OKC_EXIT_FAIL, "cannot lock %s: %s", path,
			                strerror(errno));
		left = timeout_ms - (long)(now_mono_ms() - start);
		if (left <= 0) {
			okc_fail(
			    err, OKC_EXIT_FAIL,
			    "another oktacred process has held the lock %s for more than %ld s",
			    path, (timeout_ms + 999) / 1000);
			okc_hint(err, "look for a stuck oktacred process: fuser -v %s", path);
			return -1;
		}
		nap = backoff_delay_ms(attempt, LOCK_FIRST_WAIT_MS, LOCK_MAX_WAIT_MS);
		if (sig_sleep_ms(nap < left ? nap : left) < 0)
			return okc_fail(err, OKC_EXIT_INTERRUPTED,
			                "interrupted while waiting for the lock %s", path);
	}
}

/* Whether the file fd has locked is still path: lock_remove unlinks a lock file while
 * holding it, and whoever was waiting on that file then holds a lock nobody else sees. */
static int still_there(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* One try: 0 with the lock held, OKC_NOENT when dir is gone or the file locked was removed
 * meanwhile (lock_remove), -1 on failure. */
static int acquire_once(struct lock *l, const char *dir, long timeout_ms, okc_err *err)
{
	char *path = paths_join(dir, ".lock");
	int fd;

	/* O_NONBLOCK only so that a FIFO planted here cannot hang the open. */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0 && errno == ENOENT) {
		free(path);
		return OKC_NOENT;
	}
	if (fd < 0) {
		if (errno == ELOOP)
			okc_fail(err, OKC_EXIT_FAIL,
			         "%s is a symbolic link; oktacred does not follow links in its "
			         "state directory: remove it",
			         path);
		else
			okc_fail(err, OKC_EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (store_check_fd(fd, path, err) < 0 || wait_for_lock(fd, path, timeout_ms, err) < 0) {
		close(fd);
		free(path);
		return -1;
	}
	if (!still_there(fd, path)) {
		close(fd);
		free(path);
		return OKC_NOENT;
	}
	free(path);
	l->fd = fd;
	/* Every write in dir happens under this lock: a temporary file there now is one that
	 * a killed writer left, possibly holding live tokens. */
	store_remove_temps(dir);
	return 0;
}

int lock_acquire(struct lock *l, const char *dir, long timeout_ms, okc_err *err)
{
	int rc, tries;

	l->fd = -1;
	if (timeout_ms <= 0)
		timeout_ms = LOCK_DEFAULT_TIMEOUT_MS;
	/* The file locked was removed: lock the one there now, if dir is still there. */
	for (tries = 0; (rc = acquire_once(l, dir, timeout_ms, err)) == OKC_NOENT && tries < 100;
	     tries++) {
		struct stat st;

		if (lstat(dir, &st) < 0)
			return OKC_NOENT;
	}
	if (rc == OKC_NOENT)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot lock %s/.lock: it keeps being removed",
		                dir);
	return rc;
}

int lock_acquire_in(struct lock *l, const char *root, const char *dir, long timeout_ms,
                    okc_err *err)
{
	int rc, tries = 0;

	l->fd = -1;
	/* dir removed by lock_remove while we waited: made again, and locked again. */
	do {
		if (store_ensure_dir(root, dir, err) < 0)
			return -1;
		rc = lock_acquire(l, dir, timeout_ms, err);
	} while (rc == OKC_NOENT && ++tries < 100);
	if (rc == OKC_NOENT)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot lock %s/.lock: it keeps being removed",
		                dir);
	return rc;
}

int lock_remove(struct lock *l, const char *dir)
{
	char *path = paths_join(dir, ".lock");
	int rc = -1;

	if (l->fd >= 0 && still_there(l->fd, path) && unlink(path) == 0)
		rc = rmdir(dir) == 0 ? 0 : OKC_NOENT;
	free(path);
	lock_release(l);
	return rc;
}

void lock_release(struct lock *l)
{
	if (!l || l->fd < 0)
		return;
	/* Closing the only descriptor releases the flock; the file stays, since unlinking
	 * a lock file lets two processes lock two different files. */
	close(l->fd);
	l->fd = -1;
}
