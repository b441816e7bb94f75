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

/* All return 0, or -1 when memory runs out (the buffer stays valid). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of the data (NUL-terminated, "" for an empty buffer); the buffer is reset.
 * Returns NULL only when memory runs out. */
char *buf_detach(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory (wiped) */
void buf_free(struct buf *b);  /* wipes the bytes before freeing: buffers often hold secrets */

#endif
