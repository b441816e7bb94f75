/* util.h: small helpers shared by every module: secret wiping, string
 * ownership, time and duration parsing. */
#ifndef OKTACRED_UTIL_H
#define OKTACRED_UTIL_H

#include <stddef.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Overwrites n bytes so the compiler cannot optimise it away. */
void wipe(void *p, size_t n);
/* Wipes a NUL-terminated string and frees it; NULL is fine. */
void free_secret(char *s);
/* strdup that aborts on out-of-memory (there is no sensible recovery). NULL in -> NULL out. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Allocates a formatted string; aborts on out-of-memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

int str_eq(const char *a, const char *b); /* both may be NULL */
int str_starts(const char *s, const char *prefix);

#endif
