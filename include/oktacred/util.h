/* util.h: small helpers shared by every module: secret wiping, string
 * ownership, server text made safe to show, time and duration parsing. */
#ifndef OKTACRED_UTIL_H
#define OKTACRED_UTIL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct buf;

/* Overwrites n bytes so the compiler cannot optimise it away. */
void wipe(void *p, size_t n);
/* Wipes a NUL-terminated string and frees it; NULL is fine. */
void free_secret(char *s);
/* Prints "out of memory" and aborts: what every allocation here (x*() and struct buf)
 * does when memory runs out, since there is no sensible recovery. */
_Noreturn void out_of_memory(void);
/* strdup that aborts on out-of-memory. NULL in -> NULL out. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Allocates a formatted string; aborts on out-of-memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Text that came from a server (ID token claims, OAuth and STS errors, excerpts of an
 * answer), made safe to print on a terminal or in a log: it must not be able to move
 * the cursor, set the window title, write the clipboard (OSC 52) or clear the screen.
 * Printable ASCII and valid UTF-8 (U+00A0 and up: names and emails need not be ASCII)
 * are kept as they are, a backslash included (the result is for people to read, not to
 * be parsed back). Escaped, so that they are visible: tab, newline and carriage return
 * as \t \n \r; every other C0 control, DEL, each byte of a C1 control (U+0080-U+009F,
 * e.g. c2 9b, CSI) and each byte that is not part of valid UTF-8 (overlong forms,
 * surrogates, a cut sequence) as \xNN, lower-case hex.
 *
 * text_escape: into dst (size n; nothing when n is 0), always NUL-terminated. When the
 * result does not fit, it ends before the first character or escape that does not fit
 * whole: never inside a UTF-8 sequence or an escape. src NULL is "". */
void text_escape(char *dst, size_t n, const char *src);
/* Appends len bytes of s, escaped (a NUL byte is \x00). Always 0. */
int text_escape_buf(struct buf *out, const char *s, size_t len);
/* A new escaped copy; aborts on out-of-memory. NULL in -> NULL out. */
char *text_escape_dup(const char *s);

/* The wait before retry number attempt (1: the first) of a doubling backoff: the ceiling
 * base_ms * 2^(attempt-1), at most cap_ms (which must stay below LONG_MAX / 2), with full
 * jitter: a random wait in [0, ceiling], so that clients that failed together do not
 * come back together. */
long backoff_delay_ms(int attempt, long base_ms, long cap_ms);

/* "30s", "5m", "1h", "2h30m", "90" (seconds). Returns 0 and seconds, or -1. */
int parse_duration(const char *s, long *seconds);
/* RFC 3339 UTC: "2026-01-15T12:00:00Z" <-> time_t. parse returns 0 or -1. */
int time_parse_utc(const char *s, time_t *out);
void time_format_utc(time_t t, char out[21]);
/* "59m", "1h02m", "3d4h", "expired" for display. */
void time_format_left(long seconds, char *out, size_t outlen);

/* The current time (one place to change for tests or a monotonic source). */
time_t now_utc(void);
/* Milliseconds of CLOCK_MONOTONIC: for deadlines and windows that a clock change must not
 * stretch or cut. */
long long now_mono_ms(void);
/* geteuid(), asked once: it never changes here, and every file check wants it. */
uid_t my_euid(void);

/* This process runs threads of its own (the `exec --server` proxy's answers): from then on
 * a fork() may only be followed by an exec, and what would fork works in-process instead. */
void threads_started(void);
int threads_running(void);

int str_eq(const char *a, const char *b); /* both may be NULL */
/* 1 when a equals b, in a time that does not depend on where they differ (for state
 * and nonce values an attacker may be guessing). */
int str_eq_ct(const char *a, const char *b);
/* The same for byte ranges: a time that depends on the lengths only. */
int mem_eq_ct(const char *a, size_t an, const char *b, size_t bn);
int str_starts(const char *s, const char *prefix);
/* The edit distance between a and b: insertions, deletions, substitutions and swaps of
 * two neighbours ("logni" is 1 from "login"), for "did you mean" hints. Strings longer
 * than 64 bytes count as far from everything (SIZE_MAX). */
size_t str_distance(const char *a, const char *b);

/* Last: the banned functions become compile errors in every file that includes this. */
#include "oktacred/banned.h"

#endif
