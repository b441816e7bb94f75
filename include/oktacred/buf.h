/* buf.h: a length-counted, growable, always NUL-terminated byte buffer, so that
 * nothing read from outside lands in a fixed-size array. */
#ifndef OKTACRED_BUF_H
#define OKTACRED_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append; then always NUL-terminated */
	size_t len;
	size_t cap;
};

/* clang-format off */
#define BUF_INIT {NULL, 0, 0}
/* clang-format on */

/* Out of memory: like the x*() allocators of util.h, every function here prints
 * "out of memory" and aborts (as git's strbuf dies): there is no sensible recovery, and
 * no caller has to carry an error branch for it. The appenders still return int, always
 * 0, so that code written against the old contract (0, or -1 when memory ran out) keeps
 * compiling: new code need not look at it. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
/* Room for extra more bytes (and the NUL) without another allocation: for a loop of
 * buf_putc whose length is known. */
void buf_reserve(struct buf *b, size_t extra);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends what fd holds up to its end, at most max bytes, reading straight into b in
 * chunks (EINTR is retried; no copy elsewhere: files read this way hold secrets). Returns
 * 0 (b->data is then never NULL, even for an empty file), or -1 with errno: EFBIG when
 * fd holds more than max bytes, else read's own. On -1, b holds what was read (at most
 * max bytes): the caller frees it. */
int buf_read_fd(struct buf *b, int fd, size_t max);
/* Takes ownership of the data (NUL-terminated, "" for an empty buffer); the buffer is
 * reset. Never NULL. */
char *buf_detach(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory (wiped) */
void buf_free(struct buf *b);  /* wipes the bytes before freeing: buffers often hold secrets */

#endif
