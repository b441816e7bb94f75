/* store.h: safe files under oktacred's root: 0700 directories, 0600 files,
 * refusal of symlinks, foreign owners and loose permissions, atomic writes. */
#ifndef OKTACRED_STORE_H
#define OKTACRED_STORE_H

#include <stddef.h>
#include <sys/types.h>
#include "oktacred/buf.h"
#include "oktacred/err.h"

/* Creates dir and every missing parent from root down (root itself included) with mode
 * 0700. Every component from root to dir that exists must be a real directory (not a
 * symlink), owned by the user, with no group/other permission (root: none to write, so a
 * root made 0755 by `mkdir -p` is fine; it holds no secret itself); otherwise exit 1 with
 * a message naming the path and saying how to fix it ("chmod 700 PATH", "chmod go-w
 * PATH", "remove the symlink PATH"). root must be a prefix of dir. Components above root are not
 * checked (missing ones, such as a first ~/.config, are created 0700 as XDG asks). */
int store_ensure_dir(const char *root, const char *dir, okc_err *err);
/* Checks an existing directory the same way without creating anything. OKC_NOENT when
 * it does not exist. */
int store_check_dir(const char *dir, okc_err *err);
/* Checks root and every component of dir below it like store_ensure_dir, without
 * creating anything. OKC_NOENT at the first that does not exist. */
int store_check_tree(const char *root, const char *dir, okc_err *err);
/* Checks an open file the way store_read does (regular, ours, no group/other
 * permission); path is for the message. Returns 0 or -1 (exit 1). */
int store_check_fd(int fd, const char *path, okc_err *err);

/* Reads a whole file opened with O_NOFOLLOW: must be a regular file owned by the user
 * with no group/other permission (else exit 1, message says "chmod 600 PATH" or names
 * the owner), at most max bytes (else exit 1). Returns 0, OKC_NOENT when absent, or -1.
 * On success out's old contents are freed and out holds the file (NUL-terminated, also
 * when empty); on failure out is untouched. Only the file itself is checked: check its
 * directory with store_check_dir/store_check_tree. */
int store_read(const char *path, size_t max, struct buf *out, okc_err *err);

/* store_check_tree(root, dir) then store_read of dir/name: how a cache file is loaded.
 * *path (when path is not NULL) gets dir/name, allocated, for messages; the caller frees it
 * (NULL when the tree check failed). Returns what those return. */
int store_read_in(const char *root, const char *dir, const char *name, size_t max, struct buf *out,
                  char **path, okc_err *err);

/* Atomic replace of dir/name: a temp file dir/.name.XXXXXX created O_CREAT|O_EXCL|
 * O_NOFOLLOW mode 0600, written fully, fsync, rename over dir/name, fsync of dir. On any
 * failure the temp file is removed and dir/name is unchanged (ENOSPC says "disk full").
 * The caller holds the lock when the file is shared (see lock.h). */
int store_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                       okc_err *err);

/* The same for a file of the user's outside oktacred's tree (the AWS config file): dir is
 * not checked, and the new file gets mode (the old file's, to keep it as it was). */
int store_replace_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
                       okc_err *err);

/* Whether dir's filesystem has room for `need` more bytes, by reserving them in a temporary
 * file that is removed at once: 0, or -1 saying "disk full" (exit 1). 0 too where the
 * filesystem cannot tell: a preflight, not a promise; the write still checks. */
int store_check_room(const char *dir, size_t need, okc_err *err);

/* Removes dir/name; absent is fine (returns OKC_NOENT). */
int store_remove(const char *dir, const char *name, okc_err *err);
/* store_check_tree(root, dir), then store_remove(dir, name), and with it what may hold
 * the same secrets: name.corrupt and temporary files a killed write left. The caller holds
 * the directory's lock. */
int store_remove_in(const char *root, const char *dir, const char *name, okc_err *err);
/* 1 when dir holds nothing but name (or nothing at all), else 0 (also when it cannot be
 * read). */
int store_dir_only(const char *dir, const char *name);
/* Removes dir/.NAME.XXXXXX files, the temporaries of a write that was killed before its
 * rename (they may hold live tokens). Only safe under the directory's lock: every write
 * there happens under it. Returns how many were removed. */
int store_remove_temps(const char *dir);
/* Renames dir/name to dir/name.corrupt (replacing an older one) so it can be inspected. */
int store_quarantine(const char *dir, const char *name, okc_err *err);

/* For a file judged corrupt by a load that ran without the lock: renames dir/name to
 * name.corrupt only if it still holds the judged bytes (a concurrent writer may have put
 * a good file in place meanwhile), with a warning on stderr. why goes to --verbose. */
void store_quarantine_unchanged(const char *dir, const char *name, size_t max,
                                const struct buf *judged, const char *why);

#endif
