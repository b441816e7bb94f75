/* err.h: the one error value that travels up the call stack: an exit code, a
 * one-line message and an optional hint. No global error state. */
#ifndef OKTACRED_ERR_H
#define OKTACRED_ERR_H

#include <stdarg.h>

/* Exit codes (DESIGN.md section 2). */
enum okc_exit {
	OKC_EXIT_OK = 0,
	OKC_EXIT_FAIL = 1,
	OKC_EXIT_USAGE = 2,        /* usage or configuration error */
	OKC_EXIT_LOGIN = 3,        /* no session, or the session is over */
	OKC_EXIT_NETWORK = 4,      /* provider or STS unreachable or failing */
	OKC_EXIT_DENIED = 5,       /* login did not complete */
	OKC_EXIT_INTERRUPTED = 130 /* SIGINT */
};

/* Functions that can fail return 0 on success and -1 on failure, after filling
 * the caller's okc_err. Some also return OKC_NOENT (a positive value) for
 * "nothing there", which is not an error. */
#define OKC_NOENT 1

typedef struct okc_err {
	int code;       /* an enum okc_exit value */
	char msg[1024]; /* "what: why", without the "oktacred: " prefix */
	char hint[512]; /* "run: oktacred login NAME", or empty */
} okc_err;

/* Sets code and message; always returns -1 so callers can `return okc_fail(...)`. */
int okc_fail(okc_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds the hint line. */
void okc_hint(okc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the message with "prefix: ", keeping code and hint. Returns -1. */
int okc_wrap(okc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void okc_err_clear(okc_err *err);

/* The banned functions are compile errors in every file that includes this. */
#include "oktacred/banned.h"

#endif
