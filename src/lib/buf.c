/* buf.c: the growable byte buffer; wipes what it frees because it often holds
 * tokens. */
#include "oktacred/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/util.h"

/* Room for extra more bytes and the NUL; aborts when memory runs out. */
static void buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > (size_t)-1 / 2 - b->len)
		out_of_memory();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	/* Not realloc: the old block may hold a secret and must be wiped. */
	p = xmalloc(cap);
	p[0] = '\0';
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	/* Room already there (the usual case): no call, no memcpy. */
	if (b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_append(b, &c, 1);
}

void buf_reserve(struct buf *b, size_t extra)
{
	buf_grow(b, extra);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(); /* glibc fails only to allocate; the format is checked */
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_read_fd(struct buf *b, int fd, size_t max)
{
	size_t got = 0;

	/* Straight into the buffer (wiped when it grows or is freed): no copy on the stack to
	 * wipe. One byte more than max is asked for, so that a file over max is noticed. */
	buf_grow(b, 0);
	for (;;) {
		size_t want;
		ssize_t n;

		/* Into the room there is, doubled when little is left (a small file: one read
		 * and the one that says end of file). */
		if (b->cap - b->len - 1 < 256)
			buf_grow(b, b->cap < 1024 ? 1024 : b->cap);
		want = b->cap - b->len - 1;
		if (want > max - got)
			want = max - got + 1;
		n = read(fd, b->data + b->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->data[b->len] = '\0';
			return n < 0 ? -1 : 0;
		}
		/* A file may grow while it is read: the cap holds for what is read. */
		if ((size_t)n > max - got) {
			n = (ssize_t)(max - got);
			wipe(b->data + b->len + n, want - (size_t)n);
			b->len += (size_t)n;
			b->data[b->len] = '\0';
			errno = EFBIG;
			return -1;
		}
		b->len += (size_t)n;
		got += (size_t)n;
	}
}

char *buf_detach(struct buf *b)
{
	char *p;

	buf_grow(b, 0);
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void buf_reset(struct buf *b)
{
	if (b->data) {
		wipe(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	if (b->data) {
		wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}
