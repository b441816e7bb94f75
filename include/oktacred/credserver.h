/* credserver.h: `exec --server`: the child runs with a loopback endpoint in the AWS
 * container-credentials format instead of key variables, and this process stays as its
 * parent to serve fresh credentials, forward signals and return its status (the server:
 * httpserver.h, answering in its loop: the answers are short). */
#ifndef OKTACRED_CREDSERVER_H
#define OKTACRED_CREDSERVER_H

#include <stddef.h>
#include "oktacred/err.h"

struct awscreds;
struct envset;

/* Credentials for one request (fresh: the callback renews them when needed). */
typedef int (*credserver_fetch_fn)(void *arg, struct awscreds **out, okc_err *err);

struct credserver_opts {
	char *const *argv;  /* the command, argv[0] looked up in PATH */
	struct envset *env; /* the child's environment; the endpoint's variables are added */
	credserver_fetch_fn fetch;
	void *arg;
};

/* Listens on 127.0.0.1 (a random port), adds AWS_CONTAINER_CREDENTIALS_FULL_URI
 * (http://127.0.0.1:PORT/<32 random hex digits>) and AWS_CONTAINER_AUTHORIZATION_TOKEN
 * (32 random bytes as 64 hex digits) to env and clears AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (which the SDKs would prefer), forks and execs
 * the command. Until the child exits, each GET of that path whose Authorization header
 * equals the token (compared in constant time) is answered 200 with {"AccessKeyId",
 * "SecretAccessKey","Token","Expiration"}; a wrong or missing token 403, another path 404,
 * another method 405, a malformed request 400, credentials that cannot be had 500 (the
 * reason on stderr). SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH sent to
 * this process are forwarded to the child (not those the terminal sent the whole process
 * group, nor those the child sent: it has them already). Returns the exit status to end
 * with: the child's, 128+N when signal N killed it, 127 when the command is not found, 126
 * when it cannot be run (with err set); or -1 when the server cannot start. */
int credserver_run(const struct credserver_opts *o, okc_err *err);

/* Judges one request head (request line and headers, up to the empty line) for path and
 * token: 200, 400, 403, 404 or 405. */
int credserver_judge(const char *head, size_t len, const char *path, const char *token);

#endif
