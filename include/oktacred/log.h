/* log.h: messages to stderr by level. */
#ifndef OKTACRED_LOG_H
#define OKTACRED_LOG_H

#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2, LOG_DEBUG = 3 };

void log_init(enum log_level level, int color);
enum log_level log_get_level(void);
int log_color(void); /* colour on: --no-color not given, NO_COLOR unset, stderr a tty */
/* Colour for another stream the person reads (/dev/tty when stderr is not one):
 * --no-color not given, NO_COLOR unset, and stream a terminal. */
int log_color_for(FILE *stream);

/* on: stderr (a terminal) ends in a line rewritten in place (a countdown), which a
 * message then clears first, so as not to be glued to it; the owner redraws it. */
void log_status_line(int on);

/* "oktacred: " + message + "\n" on stderr. verbose/debug print only at that level. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug lines MUST already be redacted: pass text through the redact_* functions
 * (oktacred/redact.h). */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
