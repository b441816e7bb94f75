/* lock.h: the per-provider flock(2) on DIR/.lock that serialises refreshes and
 * writes, held across read -> network -> write. */
#ifndef OKTACRED_LOCK_H
#define OKTACRED_LOCK_H

#include "oktacred/err.h"

struct lock {
	int fd; /* -1 when not held */
};
/* clang-format off */
#define LOCK_INIT {-1}
/* clang-format on */

/* Opens (creating 0600, O_NOFOLLOW) dir/.lock and takes an exclusive flock, waiting up
 * to timeout_ms (0: 120000) and giving up with exit 130 on SIGINT. Returns 0, OKC_NOENT
 * when dir does not exist (or was removed while we waited: lock_remove; nothing is held
 * then), or -1 (exit 1: "another oktacred process holds ... for too long"). A lock file
 * removed while we waited is noticed: the one there now is locked instead. */
int lock_acquire(struct lock *l, const char *dir, long timeout_ms, okc_err *err);
/* store_ensure_dir(root, dir), then lock_acquire(l, dir, timeout_ms): how a cache's lock
 * is taken (dir made again when it was removed meanwhile). Taking a lock also removes the
 * temporary files of a killed write in dir. Returns 0 or -1. */
int lock_acquire_in(struct lock *l, const char *root, const char *dir, long timeout_ms,
                    okc_err *err);
void lock_release(struct lock *l); /* no-op when not held */
/* Releases a held lock by removing it: unlinks dir/.lock, then removes dir, which must be
 * empty by then (logout --all, for a directory nothing else is left in). Whoever waits for
 * the lock finds it gone and locks a new one (lock_acquire). Returns 0 when dir was
 * removed, OKC_NOENT when dir was not empty (the lock file is gone all the same), -1 when
 * the lock file could not be removed. */
int lock_remove(struct lock *l, const char *dir);

#endif
