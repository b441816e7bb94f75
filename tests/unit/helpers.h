/* helpers.h: what the unit tests share: temporary directories and files written for a
 * test. Failures are criterion assertions. */
#ifndef OKTACRED_TEST_HELPERS_H
#define OKTACRED_TEST_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

/* Removes path and everything below it (made writable first), following no link. */
void test_rmtree(const char *path);
/* Writes n bytes of data to path (created or truncated), then sets its mode exactly. */
void test_write_file(const char *path, const void *data, size_t n, mode_t mode);

#endif
