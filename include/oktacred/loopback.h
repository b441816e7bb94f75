/* loopback.h: a small HTTP listener on the loopback interface for the length of one
 * login (RFC 8252 7.3: the browser is sent back to http://localhost:PORT/PATH with the
 * answer in the query). It reads GET requests, one per connection, hands their target to
 * the caller and sends the page the caller chose. Nothing of OAuth here. */
#ifndef OKTACRED_LOOPBACK_H
#define OKTACRED_LOOPBACK_H

#include "oktacred/err.h"

/* loopback_listen's answer when the port is taken (err set, exit 1). */
#define LOOPBACK_BUSY 2

struct loopback {
	int fd[2]; /* listening sockets: 127.0.0.1 and ::1 for "localhost"; -1: none */
};

/* Listens on host ("localhost": 127.0.0.1 and, when the machine has IPv6, ::1;
 * "127.0.0.1"; "::1") and port. Returns 0; LOOPBACK_BUSY when something else listens
 * there; -1 with err for another failure. */
int loopback_listen(struct loopback *lb, const char *host, int port, okc_err *err);

/* What the caller makes of one request: the page to answer with, and whether to stop. */
struct loopback_reply {
	int status;          /* 200, 400, 404 */
	const char *title;   /* plain text, escaped here */
	const char *message; /* plain text, escaped here */
	int done;            /* 1: answer and stop listening */
};

/* Called with the request's target ("/callback?code=...": the path and query, as sent)
 * of each GET; fills reply. Returns 0, or -1 (err set) to stop with that error after
 * answering reply. */
typedef int (*loopback_handler)(void *ctx, const char *target, struct loopback_reply *reply,
                                okc_err *err);

/* Serves requests until handler says done (0), or returns -1: handler's error,
 * interrupted (exit 130), deadline_ms (now_mono_ms() clock) passed (exit 5). A request
 * that is not a GET, is malformed or too large gets 400/405 and is not handed on. */
int loopback_serve(struct loopback *lb, long long deadline_ms, loopback_handler handler, void *ctx,
                   okc_err *err);

/* Stops listening; safe to call twice. */
void loopback_close(struct loopback *lb);

#endif
