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
 * to timeout_ms (0: 120000) and giving up with exit 130 on SIGINT. The directory must
 * exist. Returns 0 or -1 (exit 1: "another oktacred process holds ... for too long"). */
int lock_acquire(struct lock *l, const char *dir, long timeout_ms, okc_err *err);
/* store_ensure_dir(root, dir), then lock_acquire(l, dir, timeout_ms): how a cache's lock
 * is taken. Taking a lock also removes the temporary files of a killed write in dir. */
int lock_acquire_in(struct lock *l, const char *root, const char *dir, long timeout_ms,
                    okc_err *err);
void lock_release(struct lock *l); /* no-op when not held */

#endif
