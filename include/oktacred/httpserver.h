/* httpserver.h: what `exec --server` endpoints share: a loopback listener for a child we
 * fork and wait for, reading request heads, answering, forwarding signals and returning the
 * child's status. Plain sockets, HTTP/1.1, one request per connection ("Connection: close").
 *
 * The loop reads the heads of up to 32 connections at once (poll), so that a client that
 * sends nothing delays no one. A complete head is then answered either in the loop, in turn
 * (threads = 0: the AWS credential endpoint, whose answers are short), or on a thread of its
 * own (threads = N: the Okta API proxy, whose answers stream from a server for as long as
 * that takes), N at most at once; past N a request is answered 503 at once. */
#ifndef OKTACRED_HTTPSERVER_H
#define OKTACRED_HTTPSERVER_H

#include <stddef.h>

#include "oktacred/buf.h"
#include "oktacred/err.h"

struct envset;

/* How reading a connection's head ended. */
enum httpserver_head {
	HTTPSERVER_HEAD_OK = 1,       /* the empty line came */
	HTTPSERVER_HEAD_BAD = -1,     /* the connection ended, sent a NUL byte, or took too long */
	HTTPSERVER_HEAD_TOO_BIG = -2, /* more than head_max bytes before the empty line */
};

/* One connection, handed to the handler: the server closes fd and wipes data after it. */
struct httpserver_conn {
	int fd;
	enum httpserver_head state;
	struct buf data; /* what was read: the head, then any part of the body sent with it */
	size_t head_len; /* bytes of the head, its empty line included (state OK) */
};

struct httpserver_opts {
	const char *name;   /* for messages: "credential server" */
	char *const *argv;  /* the command, argv[0] looked up in PATH */
	struct envset *env; /* the child's environment (setup adds the endpoint's variables) */
	/* Called once listening, before the fork: port is the one bound on 127.0.0.1 (0
	 * without handle). Or NULL. */
	int (*setup)(void *arg, int port, struct envset *env, okc_err *err);
	/* Answers one connection (whatever its state). May block; on a thread, must return
	 * soon once httpserver_stopping() says so. Or NULL: no listener, only the child (and
	 * tick). */
	void (*handle)(void *arg, struct httpserver_conn *c);
	/* Called in the loop while the child runs, first right after it started: work due
	 * now (a file the child reads kept fresh); returns the milliseconds until it is to be
	 * called again, or -1: not again. Or NULL. */
	long (*tick)(void *arg);
	void *arg;
	size_t head_max; /* 0: 8192 */
	int threads;     /* 0: answered in the loop; N: on threads, N at most at once */
};

/* Listens on 127.0.0.1 (a random port; not without handle), calls setup, forks and execs
 * the command with env (ours without the names env mentions, then env's values). Until the
 * child exits, serves connections as above and calls tick. SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH sent to this process are forwarded to the child
 * (not those the terminal sent the whole process group, nor those the child sent: it has
 * them already). When the child has exited, the connections still open are shut down and
 * their threads waited for. Returns the exit status to end with: the child's, 128+N when
 * signal N killed it, 127 when the command is not found, 126 when it cannot be run (with
 * err set); or -1 when the server cannot start. */
int httpserver_run(const struct httpserver_opts *o, okc_err *err);

/* Set once the child has exited: handlers on threads give up. */
int httpserver_stopping(void);

/* Sends all of data, waiting at most timeout_ms in all; 0, or -1 when the peer is gone or
 * too slow. */
int httpserver_send(int fd, const char *data, size_t len, long timeout_ms);

/* The reason phrase of a status ("Not Found"), "Unknown" for one not known. */
const char *httpserver_reason(int status);

/* A whole answer: the status line, Content-Type (when given), Content-Length,
 * "Cache-Control: no-store", "Connection: close", extra (header lines each ending in CRLF,
 * or NULL), the empty line and the body. Sent within 5 s. */
void httpserver_respond(int fd, int status, const char *content_type, const char *extra,
                        const char *body, size_t len);

/* nbytes random bytes (at most 64) as 2*nbytes lowercase hex digits and a NUL in out. */
int httpserver_random_hex(size_t nbytes, char *out, okc_err *err);

/* One header field of a request head: the line without its CR LF, the name (before the
 * colon) and the value with the white space around it trimmed. */
struct httpserver_field {
	const char *line, *value;
	size_t line_len, name_len, value_len;
};
/* The next header field from *pos (the start of a line) to end; *pos moves past its line.
 * 1 for a field; 0 at the empty line that ends the head, or at end; -1 for a line that is
 * no field (no colon, or nothing before it: a folded or a nameless line). */
int httpserver_next_field(const char **pos, const char *end, struct httpserver_field *f);

#endif
