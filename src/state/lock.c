/* lock.c: the per-provider flock(2) on DIR/.lock. flock is BSD, not POSIX; glibc and musl
 * declare it in <sys/file.h> without feature macros. On Linux the wait blocks in flock and
 * a per-thread timer bounds it: that needs _GNU_SOURCE (SIGEV_THREAD_ID, gettid), here
 * only. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "oktacred/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/front.h"
#include "oktacred/paths.h"
#include "oktacred/sig.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define LOCK_DEFAULT_TIMEOUT_MS 120000L
#define LOCK_TICK_MS            250L
#define LOCK_FIRST_WAIT_MS      2L
#define LOCK_MAX_WAIT_MS        25L

static int interrupted(const char *path, okc_err *err)
{
	return okc_fail(err, OKC_EXIT_INTERRUPTED, "interrupted while waiting for the lock %s",
	                path);
}

static int timed_out(const char *path, long timeout_ms, okc_err *err)
{
	okc_fail(err, OKC_EXIT_FAIL,
	         "another oktacred process has held the lock %s for more than %ld s", path,
	         (timeout_ms + 999) / 1000);
	okc_hint(err, "look for a stuck oktacred process: fuser -v %s", path);
	return -1;
}

/* Polling with LOCK_NB: waits of up to 2 ms at first grow to up to 25 ms, with full
 * jitter so that waiters do not wake in step. Where a blocking wait cannot be bounded. */
static int poll_for_lock(int fd, const char *path, long long start, long timeout_ms, okc_err *err)
{
	int attempt;

	for (attempt = 1;; attempt++) {
		long left, nap;

		if (sig_interrupted())
			return interrupted(path, err);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return okc_fail(err, OKC_EXIT_FAIL, "cannot lock %s: %s", path,
			                strerror(errno));
		left = timeout_ms - (long)(now_mono_ms() - start);
		if (left <= 0)
			return timed_out(path, timeout_ms, err);
		nap = backoff_delay_ms(attempt, LOCK_FIRST_WAIT_MS, LOCK_MAX_WAIT_MS);
		if (sig_sleep_ms(nap < left ? nap : left) < 0)
			return interrupted(path, err);
	}
}

#if defined(SIGEV_THREAD_ID) && defined(__GLIBC__) && !defined(sigev_notify_thread_id)
/* glibc before 2.41 has the field but not its name. */
#define sigev_notify_thread_id _sigev_un._tid
#endif

#ifdef SIGEV_THREAD_ID
static void on_tick(int signo)
{
	(void)signo;
}

/* Blocks in flock: the kernel hands the lock over when its holder lets go, so waiters in a
 * stampede sleep instead of polling. A timer aimed at this thread (GLib's threads, present
 * with token_store = keyring, must not take its signal) interrupts the wait every
 * LOCK_TICK_MS, which bounds both the deadline and a Ctrl-C that arrived just before the
 * call or on another thread. SIGALRM is used by nothing else here (libcurl runs with
 * CURLOPT_NOSIGNAL); its handler stays installed afterwards: putting the default back
 * could end the process when a tick of another thread's wait (exec --server's proxy
 * threads) arrives after it, while a stray tick to the no-op handler costs nothing. An
 * exec resets it for the child. */
static int block_for_lock(int fd, const char *path, long long start, long timeout_ms, okc_err *err)
{
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;
	timer_t timer;
	int rc;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev.sigev_notify_thread_id = gettid();
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the tick must end the flock call */
	if (sigaction(SIGALRM, &sa, NULL) < 0 || timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0)
		return poll_for_lock(fd, path, start, timeout_ms, err);
	its.it_value.tv_sec = its.it_interval.tv_sec = LOCK_TICK_MS / 1000;
	its.it_value.tv_nsec = its.it_interval.tv_nsec = (LOCK_TICK_MS % 1000) * 1000000L;
	timer_settime(timer, 0, &its, NULL);
	for (;;) {
		if (sig_interrupted()) {
			rc = interrupted(path, err);
			break;
		}
		if (flock(fd, LOCK_EX) == 0) {
			rc = 0;
			break;
		}
		if (errno != EINTR) {
			rc = okc_fail(err, OKC_EXIT_FAIL, "cannot lock %s: %s", path,
			              strerror(errno));
			break;
		}
		if (now_mono_ms() - start >= timeout_ms) {
			rc = timed_out(path, timeout_ms, err);
			break;
		}
	}
	timer_delete(timer);
	return rc;
}
#endif

static int wait_for_lock(int fd, const char *path, long timeout_ms, okc_err *err)
{
	long long start = now_mono_ms();

	if (sig_interrupted())
		return interrupted(path, err);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot lock %s: %s", path, strerror(errno));
#ifdef SIGEV_THREAD_ID
	return block_for_lock(fd, path, start, timeout_ms, err);
#else
	return poll_for_lock(fd, path, start, timeout_ms, err);
#endif
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

	/* The front never takes a lock: one held across the exec would be the full binary's
	 * to wait for. */
	front_handoff("a lock");
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
