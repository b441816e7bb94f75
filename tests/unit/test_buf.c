/* test_buf.c: the growable buffer of src/buf.c: appending, detaching, and the capped read
 * of a descriptor. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/buf.h"

/* A pipe holding text, its write end closed: the read end to read. */
static int pipe_of(const char *text, size_t len)
{
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], text, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

Test(buf, appends_and_detaches)
{
	struct buf b = BUF_INIT;
	char *s;

	cr_assert_eq(buf_puts(&b, "ab"), 0);
	cr_assert_eq(buf_putc(&b, 'c'), 0);
	cr_assert_eq(buf_printf(&b, "%d", 42), 0);
	cr_assert_eq(buf_append(&b, "\0x", 2), 0);
	cr_assert_eq(b.len, 7);
	cr_assert_eq(memcmp(b.data, "abc42\0x", 8), 0, "NUL-terminated after the bytes");
	s = buf_detach(&b);
	cr_assert_str_eq(s, "abc42");
	cr_assert_null(b.data);
	free(s);
	s = buf_detach(&b);
	cr_assert_str_eq(s, "", "an empty buffer detaches as \"\"");
	free(s);
}

Test(buf, read_fd_reads_to_the_end)
{
	struct buf b = BUF_INIT;
	int fd = pipe_of("hello", 5);

	buf_puts(&b, "> ");
	cr_assert_eq(buf_read_fd(&b, fd, 5), 0, "exactly max bytes is fine");
	cr_assert_str_eq(b.data, "> hello");
	close(fd);
	buf_free(&b);
}

Test(buf, read_fd_of_nothing_is_not_null)
{
	struct buf b = BUF_INIT;
	int fd = pipe_of("", 0);

	cr_assert_eq(buf_read_fd(&b, fd, 10), 0);
	cr_assert_not_null(b.data);
	cr_assert_eq(b.len, 0);
	close(fd);
	buf_free(&b);
}

Test(buf, read_fd_over_max_is_efbig)
{
	struct buf b = BUF_INIT;
	int fd = pipe_of("hello", 5);

	errno = 0;
	cr_assert_eq(buf_read_fd(&b, fd, 4), -1);
	cr_assert_eq(errno, EFBIG);
	cr_assert_leq(b.len, 4);
	close(fd);
	buf_free(&b);
}

Test(buf, read_fd_error_keeps_errno)
{
	struct buf b = BUF_INIT;

	errno = 0;
	cr_assert_eq(buf_read_fd(&b, -1, 4), -1);
	cr_assert_eq(errno, EBADF);
	buf_free(&b);
}
