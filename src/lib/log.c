/* log.c: messages to stderr by level. What may be shown of secrets is redact.c's job. */
#include "oktacred/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/front.h"
#include "oktacred/util.h"

static enum log_level log_level = LOG_NORMAL;
static int log_use_color, log_want_color, status_line;

void log_init(enum log_level level, int color)
{
	const char *no_color = getenv("NO_COLOR");

	log_level = level;
	/* no-color.org: NO_COLOR set to anything non-empty turns colour off. */
	log_want_color = color && !(no_color && *no_color);
	log_use_color = log_want_color && isatty(STDERR_FILENO);
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_color(void)
{
	return log_use_color;
}

int log_color_for(FILE *stream)
{
	return log_want_color && stream && isatty(fileno(stream));
}

void log_status_line(int on)
{
	status_line = on;
}

/* One write per line, so lines from concurrent processes do not interleave mid-line. */
static void log_emit(int is_error, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void log_emit(int is_error, const char *prefix, const char *fmt, va_list ap)
{
	struct buf line = BUF_INIT;
	char small[512], *msg = small, *big = NULL;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	/* The front says nothing but its last error: anything else to say (a warning, a
	 * note) is said by the full binary, which does the whole command again. */
	if (!is_error)
		front_handoff("a message");
	if ((size_t)n >= sizeof(small)) {
		msg = big = xmalloc((size_t)n + 1);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	}
	if (status_line)
		buf_puts(&line, "\r\033[K");
	buf_puts(&line, prefix);
	buf_append(&line, msg, (size_t)n);
	buf_putc(&line, '\n');
	fputs(line.data, stderr);
	wipe(msg, (size_t)n);
	free(big);
	buf_free(&line);
}

#define LOG_FN(name, min_level, plain, colored)                                                    \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
                                                                                                   \
		if (log_level < (min_level))                                                       \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		log_emit((min_level) == LOG_QUIET, log_use_color ? (colored) : (plain), fmt, ap);  \
		va_end(ap);                                                                        \
	}

/* Errors print even with LOG_QUIET: they are what the exit status is about. */
LOG_FN(log_error, LOG_QUIET, "oktacred: ", "\033[1;31moktacred:\033[0m ")
LOG_FN(log_warn, LOG_NORMAL, "oktacred: warning: ", "oktacred: \033[33mwarning:\033[0m ")
LOG_FN(log_info, LOG_NORMAL, "oktacred: ", "oktacred: ")
LOG_FN(log_verbose, LOG_VERBOSE, "oktacred: ", "oktacred: ")
LOG_FN(log_debug, LOG_DEBUG, "oktacred: debug: ", "oktacred: \033[2mdebug:\033[0m ")
