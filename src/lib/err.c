/* err.c: filling the error value that travels up to main. */
#include "oktacred/err.h"

#include <stdio.h>
#include <string.h>

int okc_fail(okc_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void okc_hint(okc_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

int okc_wrap(okc_err *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	size_t n;
	int len;
	va_list ap;

	if (!err)
		return -1;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	len = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = len < 0 ? 0 : (size_t)len;
	if (n + 2 < sizeof(err->msg)) {
		/* "prefix: old message", cut to fit. */
		memcpy(err->msg + n, ": ", 2);
		n += 2;
		memcpy(err->msg + n, old, sizeof(err->msg) - n - 1);
		err->msg[sizeof(err->msg) - 1] = '\0';
	}
	return -1;
}

void okc_err_clear(okc_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
	err->hint[0] = '\0';
}
