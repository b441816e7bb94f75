/* credserver.c: `exec --server`: a loopback HTTP/1.1 endpoint in the AWS container-credentials
 * format for the child we fork, signal forwarding, and the child's status. _XOPEN_SOURCE for
 * SA_RESTART: a terminal's SIGWINCH must not break a file write or a transfer. */
#define _XOPEN_SOURCE 700

#include "oktacred/credserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/awscreds.h"
#include "oktacred/buf.h"
#include "oktacred/envset.h"
#include "oktacred/harden.h"
#include "oktacred/log.h"
#include "oktacred/util.h"

#define TOKEN_BYTES   32
#define PATH_BYTES    16
#define HEAD_MAX      8192
#define IO_TIMEOUT_MS 5000L
#define CONN_MAX      32 /* connections read at once */

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

extern char **environ;

static volatile pid_t child_pid;
static int wake_fd = -1; /* write end of the self-pipe */

/* ---- judging a request ---- */

static int ct_equal(const char *a, size_t an, const char *b, size_t bn)
{
	volatile unsigned char d = 0;
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int credserver_judge(const char *head, size_t len, const char *path, const char *token)
{
	const char *line = head, *end = head + len, *eol, *sp1, *sp2, *target, *query;
	const char *auth = NULL;
	size_t auth_len = 0, target_len;
	int nauth = 0, is_get;

	/* The request line: METHOD SP TARGET SP HTTP/1.x */
	eol = memchr(line, '\n', len);
	if (!eol)
		return 400;
	sp1 = memchr(line, ' ', (size_t)(eol - line));
	if (!sp1)
		return 400;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', (size_t)(eol - target));
	if (!sp2 || sp2 == target || (size_t)(eol - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 400;
	is_get = sp1 - line == 3 && memcmp(line, "GET", 3) == 0;
	/* Within the request line only: strcspn would stop at a NUL byte in the target and
	 * take "/PATH\0..." for "/PATH". */
	query = memchr(target, '?', (size_t)(sp2 - target));
	target_len = (size_t)((query ? query : sp2) - target);
	for (line = eol + 1; line < end; line = eol + 1) {
		const char *colon, *v, *ve;

		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		ve = eol;
		if (ve > line && ve[-1] == '\r')
			ve--;
		if (ve == line)
			break; /* the empty line */
		colon = memchr(line, ':', (size_t)(ve - line));
		if (!colon || colon == line)
			return 400;
		if (colon - line != 13 || strncasecmp(line, "authorization", 13) != 0)
			continue;
		for (v = colon + 1; v < ve && is_ows(*v); v++)
			;
		while (ve > v && is_ows(ve[-1]))
			ve--;
		auth = v;
		auth_len = (size_t)(ve - v);
		nauth++;
		if (eol == end)
			break;
	}
	if (!ct_equal(target, target_len, path, strlen(path)))
		return 404;
	if (nauth != 1 || !ct_equal(auth, auth_len, token, strlen(token)))
		return 403;
	return is_get ? 200 : 405;
}

/* ---- one connection ---- */

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000L +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

/* FD_CLOEXEC, and O_NONBLOCK when asked. */
static int set_flags(int fd, int nonblock)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	if (nonblock) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -1;
	}
	return 0;
}

/* A connection whose request head is still arriving. Many are read at once, so that one
 * that sends nothing (a stuck client, another local user) delays no one. */
struct conn {
	int fd;
	struct buf head; /* wiped when done: it holds the authorization token */
	struct timespec deadline;
};

static int head_complete(const struct buf *head)
{
	return head->data && (strstr(head->data, "\r\n\r\n") || strstr(head->data, "\n\n"));
}

/* Reads what has arrived: 1 when the head is complete, 0 when more is to come, -1 for a
 * connection that ended, sent a NUL or too much. */
static int conn_read(struct conn *c)
{
	char chunk[1024];

	for (;;) {
		ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0 || memchr(chunk, '\0', (size_t)n))
			return -1;
		buf_append(&c->head, chunk, (size_t)n);
		if (head_complete(&c->head))
			return 1;
		if (c->head.len > HEAD_MAX)
			return -1;
	}
}

static void send_all(int fd, const char *data, size_t len, const struct timespec *deadline)
{
	while (len > 0) {
		struct pollfd p = {fd, POLLOUT, 0};
		long left = ms_left(deadline);
		ssize_t n;

		if (left <= 0)
			return;
		if (poll(&p, 1, (int)left) <= 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	default: return "Internal Server Error";
	}
}

static void respond(int fd, int status, const char *body, size_t len,
                    const struct timespec *deadline)
{
	struct buf out = BUF_INIT;

	buf_printf(&out,
	           "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	           "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n"
	           "%s\r\n",
	           status, reason(status), len, status == 405 ? "Allow: GET\r\n" : "");
	buf_append(&out, body, len);
	send_all(fd, out.data, out.len, deadline);
	buf_free(&out); /* wipes: the body may hold the credentials */
}

static void error_body(struct buf *b, const char *code, const char *msg)
{
	char clean[512];
	size_t i, o = 0;

	/* JSON-safe and printable: the message is ours, but may quote a server. */
	for (i = 0; msg[i] && o + 1 < sizeof(clean); i++)
		if (msg[i] >= 0x20 && msg[i] < 0x7f && msg[i] != '"' && msg[i] != '\\')
			clean[o++] = msg[i];
	clean[o] = '\0';
	buf_printf(b, "{\"Code\":\"%s\",\"Message\":\"%s\"}\n", code, clean);
}

static void set_deadline(struct timespec *deadline)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += IO_TIMEOUT_MS / 1000;
}

/* Answers a connection whose head is complete (complete: 1), or that failed (400). */
static void serve(int fd, const struct buf *head, int complete, const struct credserver_opts *o,
                  const char *path, const char *token)
{
	struct timespec deadline;
	struct buf body = BUF_INIT;
	int status;

	set_deadline(&deadline);
	status = complete == 1 ? credserver_judge(head->data, head->len, path, token) : 400;
	if (status == 200) {
		struct awscreds *c = NULL;
		okc_err err;

		okc_err_clear(&err);
		if (o->fetch(o->arg, &c, &err) < 0 || awscreds_container_json(c, &body) < 0) {
			log_error("credential server: %s", err.msg[0] ? err.msg : "out of memory");
			if (err.hint[0])
				fprintf(stderr, "%s\n", err.hint);
			buf_reset(&body);
			error_body(&body, "CredentialsUnavailable", err.msg);
			status = 500;
		}
		awscreds_free(c);
		/* The fetch may have taken a while: a fresh deadline for the answer. */
		set_deadline(&deadline);
	} else {
		error_body(&body,
		           status == 403   ? "AccessDenied"
		           : status == 404 ? "NotFound"
		           : status == 405 ? "MethodNotAllowed"
		                           : "BadRequest",
		           status == 403 ? "wrong or missing authorization token" : reason(status));
	}
	log_verbose("credential server: answered %d", status);
	respond(fd, status, body.data ? body.data : "", body.len, &deadline);
	buf_free(&body);
}

/* The table of connections being read. */
struct conns {
	struct conn c[CONN_MAX];
	size_t n;
};

/* Answers (complete: as serve) and forgets connection i. */
static void conn_done(struct conns *t, size_t i, int complete, const struct credserver_opts *o,
                      const char *path, const char *token)
{
	struct conn *c = &t->c[i];

	if (complete != 0)
		serve(c->fd, &c->head, complete, o, path, token);
	close(c->fd);
	buf_free(&c->head);
	t->c[i] = t->c[--t->n];
	memset(&t->c[t->n], 0, sizeof(t->c[t->n]));
}

/* A new connection; with the table full, the oldest one waiting is dropped for it. */
static void conn_accept(struct conns *t, int lfd)
{
	size_t i, oldest = 0;
	int cfd = accept(lfd, NULL, NULL);

	if (cfd < 0)
		return;
	if (set_flags(cfd, 1) < 0) {
		close(cfd);
		return;
	}
	if (t->n == CONN_MAX) {
		for (i = 1; i < t->n; i++)
			if (ms_left(&t->c[i].deadline) < ms_left(&t->c[oldest].deadline))
				oldest = i;
		conn_done(t, oldest, 0, NULL, NULL, NULL);
	}
	t->c[t->n].fd = cfd;
	t->c[t->n].head = (struct buf)BUF_INIT;
	set_deadline(&t->c[t->n].deadline);
	t->n++;
}

/* Reads every connection poll found ready (p[i] for t->c[i]), answers those done, and
 * those out of time with 400. */
static void conns_step(struct conns *t, const struct pollfd *p, const struct credserver_opts *o,
                       const char *path, const char *token)
{
	size_t i = t->n;

	/* Backwards: conn_done moves the last entry into the slot it frees. */
	while (i-- > 0) {
		int r = 0;

		if (p[i].fd == t->c[i].fd && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			r = conn_read(&t->c[i]);
		/* Out of time, but an answer to someone else may have taken long: what has
		 * arrived meanwhile is read before giving up. */
		if (r == 0 && ms_left(&t->c[i].deadline) <= 0 && (r = conn_read(&t->c[i])) == 0)
			r = -1;
		if (r != 0)
			conn_done(t, i, r, o, path, token);
	}
}

/* How long poll may sleep: until the nearest deadline, or forever (-1). */
static int conns_timeout(const struct conns *t)
{
	long best = -1;
	size_t i;

	for (i = 0; i < t->n; i++) {
		long left = ms_left(&t->c[i].deadline);

		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return (int)best;
}

/* ---- process plumbing ---- */

static int random_hex(size_t nbytes, char *out, okc_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t got = 0, i;

	if (nbytes > sizeof(raw))
		return okc_fail(err, OKC_EXIT_FAIL, "internal error: too many random bytes");
	while (got < nbytes) {
		ssize_t n = getrandom(raw + got, nbytes - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			wipe(raw, sizeof(raw));
			return okc_fail(err, OKC_EXIT_FAIL, "no random numbers: %s",
			                strerror(errno));
		}
		got += (size_t)n;
	}
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	wipe(raw, sizeof(raw));
	return 0;
}

static void on_forwarded(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	pid_t pid = child_pid;

	(void)ctx;
	/* A signal from the terminal (the kernel) reached the child's process group, and one
	 * the child sent it has; only those a process sent us alone are passed on. */
	if (pid > 0 && si && (si->si_code == SI_USER || si->si_code == SI_QUEUE) &&
	    si->si_pid != pid)
		kill(pid, sig);
	errno = saved;
}

static void on_child(int sig)
{
	int saved = errno;
	char c = 0;

	(void)sig;
	if (wake_fd >= 0 && write(wake_fd, &c, 1) < 0) {
		/* the pipe is full: a wakeup is pending anyway */
	}
	errno = saved;
}

static int listen_loopback(int *port, okc_err *err)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "credential server: socket: %s",
		                strerror(errno));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (set_flags(fd, 1) < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 64) < 0 || getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "credential server: cannot listen on 127.0.0.1: %s",
		         strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* The child's environment, made before the fork so that the child only assigns it: ours
 * without the names env mentions, then env's values. Each string is malloc'd. */
static char **build_envp(const struct envset *env)
{
	size_t n = 0, k = 0, i, j;
	char **out;

	while (environ && environ[n])
		n++;
	out = xcalloc(n + env->n + 1, sizeof(*out));
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int mentioned = 0;

		for (j = 0; j < env->n && !mentioned; j++)
			mentioned = strlen(env->vars[j].name) == len &&
			            memcmp(env->vars[j].name, environ[i], len) == 0;
		if (!mentioned)
			out[k++] = xstrdup(environ[i]);
	}
	for (j = 0; j < env->n; j++)
		if (env->vars[j].value)
			out[k++] = xasprintf("%s=%s", env->vars[j].name, env->vars[j].value);
	return out;
}

static void free_envp(char **envp)
{
	size_t i;

	for (i = 0; envp && envp[i]; i++)
		free_secret(envp[i]);
	free(envp);
}

/* In the child: our handlers and mask undone, the environment set, the command run. */
static void run_child(const struct credserver_opts *o, char **envp, const sigset_t *oldmask,
                      int errfd)
{
	struct sigaction sa;
	size_t i;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	/* cmd_exec ignores SIGPIPE in us, and an ignored signal stays ignored across execvp. */
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	environ = envp;
	harden_restore_for_exec();
	execvp(o->argv[0], o->argv);
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0) {
		/* nothing more to say */
	}
	_exit(e == ENOENT ? 127 : 126);
}

static int exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

int credserver_run(const struct credserver_opts *o, okc_err *err)
{
	char token[2 * TOKEN_BYTES + 1], path[2 * PATH_BYTES + 2], *uri = NULL;
	int lfd = -1, wake[2] = {-1, -1}, errp[2] = {-1, -1}, port = 0, rc = -1, st = 0, e = 0;
	struct sigaction sa, old_sa[ARRAY_SIZE(forwarded) + 1];
	sigset_t block, oldmask;
	char **envp = NULL;
	struct conns conns;
	ssize_t n;
	pid_t pid;
	size_t i;

	memset(&conns, 0, sizeof(conns));
	token[0] = '\0';
	if (random_hex(TOKEN_BYTES, token, err) < 0 || random_hex(PATH_BYTES, path + 1, err) < 0)
		goto out;
	path[0] = '/';
	lfd = listen_loopback(&port, err);
	if (lfd < 0)
		goto out;
	if (pipe(wake) < 0 || pipe(errp) < 0 || set_flags(wake[0], 1) < 0 ||
	    set_flags(wake[1], 1) < 0 || set_flags(errp[0], 0) < 0 || set_flags(errp[1], 0) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "credential server: pipe: %s", strerror(errno));
		goto out;
	}
	uri = xasprintf("http://127.0.0.1:%d%s", port, path);
	envset_put(o->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 0);
	envset_put(o->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", token, 1);
	envset_put(o->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", NULL, 0);
	envset_put(o->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL, 0);
	envp = build_envp(o->env);

	/* Handlers in place before the fork, signals held until the child's pid is known. */
	sigemptyset(&block);
	for (i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&block, forwarded[i]);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	wake_fd = wake[1];
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_sigaction = on_forwarded;
	for (i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &sa, &old_sa[i]);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, &old_sa[ARRAY_SIZE(forwarded)]);

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "cannot start %s: fork: %s", o->argv[0],
		         strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		goto restore;
	}
	if (pid == 0) {
		close(lfd);
		close(wake[0]);
		close(wake[1]);
		close(errp[0]);
		run_child(o, envp, &oldmask, errp[1]);
	}
	free_envp(envp); /* the child has its copy */
	envp = NULL;
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	close(errp[1]);
	errp[1] = -1;
	/* EOF: the exec worked (the pipe closed with it); else the child's errno. */
	do
		n = read(errp[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		rc = e == ENOENT ? 127 : 126;
		okc_fail(err, rc, "exec: %s: %s", o->argv[0],
		         e == ENOENT ? "command not found" : strerror(e));
		goto restore;
	}
	log_verbose("credential server on 127.0.0.1:%d for %s (pid %ld)", port, o->argv[0],
	            (long)pid);
	for (;;) {
		struct pollfd p[2 + CONN_MAX];
		pid_t w;

		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			okc_fail(err, OKC_EXIT_FAIL, "waitpid: %s", strerror(errno));
			goto restore;
		}
		p[0] = (struct pollfd){lfd, POLLIN, 0};
		p[1] = (struct pollfd){wake[0], POLLIN, 0};
		for (i = 0; i < conns.n; i++)
			p[2 + i] = (struct pollfd){conns.c[i].fd, POLLIN, 0};
		if (poll(p, 2 + conns.n, conns_timeout(&conns)) < 0) {
			if (errno != EINTR) {
				okc_fail(err, OKC_EXIT_FAIL, "poll: %s", strerror(errno));
				goto restore;
			}
			for (i = 0; i < 2 + conns.n; i++)
				p[i].revents = 0;
		}
		if (p[1].revents & POLLIN) {
			char drain[64];

			while (read(wake[0], drain, sizeof(drain)) > 0)
				;
		}
		conns_step(&conns, p + 2, o, path, token);
		if (p[0].revents & POLLIN)
			conn_accept(&conns, lfd);
	}
	child_pid = 0;
	rc = exit_status(st);
restore:
	while (conns.n > 0)
		conn_done(&conns, conns.n - 1, 0, NULL, NULL, NULL);
	child_pid = 0;
	for (i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaction(forwarded[i], &old_sa[i], NULL);
	sigaction(SIGCHLD, &old_sa[ARRAY_SIZE(forwarded)], NULL);
	wake_fd = -1;
out:
	if (lfd >= 0)
		close(lfd);
	for (i = 0; i < 2; i++) {
		if (wake[i] >= 0)
			close(wake[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free_envp(envp);
	wipe(token, sizeof(token));
	free(uri);
	return rc;
}
