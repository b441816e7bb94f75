/* httpserver.c: the loopback endpoint of `exec --server` (httpserver.h): the listener, the
 * heads read with poll, answers in the loop or on threads, the child we fork, signal
 * forwarding and its status. _XOPEN_SOURCE for SA_RESTART: a terminal's SIGWINCH must not
 * break a file write or a transfer. */
#define _XOPEN_SOURCE 700

#include "oktacred/httpserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/envset.h"
#include "oktacred/harden.h"
#include "oktacred/log.h"
#include "oktacred/util.h"

#define HEAD_MAX_DEFAULT 8192
#define IO_TIMEOUT_MS    5000L
#define CONN_MAX         32 /* connections read at once */

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

extern char **environ;

static volatile pid_t child_pid;
static int wake_fd = -1; /* write end of the self-pipe */

/* ---- small shared pieces ---- */

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int httpserver_next_field(const char **pos, const char *end, struct httpserver_field *f)
{
	const char *line = *pos, *eol, *ve, *colon, *v;

	if (line >= end)
		return 0;
	eol = memchr(line, '\n', (size_t)(end - line));
	*pos = eol ? eol + 1 : end;
	ve = eol ? eol : end;
	if (ve > line && ve[-1] == '\r')
		ve--;
	if (ve == line)
		return 0; /* the empty line */
	f->line = line;
	f->line_len = (size_t)(ve - line);
	colon = memchr(line, ':', f->line_len);
	if (!colon || colon == line)
		return -1;
	f->name_len = (size_t)(colon - line);
	for (v = colon + 1; v < ve && is_ows(*v); v++)
		;
	while (ve > v && is_ows(ve[-1]))
		ve--;
	f->value = v;
	f->value_len = (size_t)(ve - v);
	return 1;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000L +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

static void set_deadline(struct timespec *deadline, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (ms % 1000) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
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

int httpserver_send(int fd, const char *data, size_t len, long timeout_ms)
{
	struct timespec deadline;

	set_deadline(&deadline, timeout_ms);
	while (len > 0) {
		struct pollfd p = {fd, POLLOUT, 0};
		long left = ms_left(&deadline);
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) <= 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

const char *httpserver_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

void httpserver_respond(int fd, int status, const char *content_type, const char *extra,
                        const char *body, size_t len)
{
	struct buf out = BUF_INIT;

	buf_printf(&out, "HTTP/1.1 %d %s\r\n", status, httpserver_reason(status));
	if (content_type)
		buf_printf(&out, "Content-Type: %s\r\n", content_type);
	buf_printf(&out,
	           "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n%s\r\n",
	           len, extra ? extra : "");
	buf_append(&out, body, len);
	httpserver_send(fd, out.data, out.len, IO_TIMEOUT_MS);
	buf_free(&out); /* wipes: the body may hold credentials */
}

int httpserver_random_hex(size_t nbytes, char *out, okc_err *err)
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

/* ---- threads ---- */

/* The connections being answered on threads: counted, so that the end waits for them, and
 * listed, so that it can shut them down. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t idle;
	int active;
	int fds[256];
	int stopping;
} workers = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, 0};

int httpserver_stopping(void)
{
	int s;

	pthread_mutex_lock(&workers.mu);
	s = workers.stopping;
	pthread_mutex_unlock(&workers.mu);
	return s;
}

struct job {
	const struct httpserver_opts *o;
	struct httpserver_conn c;
	int slot;
};

static void conn_close(struct httpserver_conn *c)
{
	close(c->fd);
	c->fd = -1;
	buf_free(&c->data); /* wipes: it holds the authorization token */
}

static void *worker(void *p)
{
	struct job *j = p;

	/* Answers block (fd was non-blocking for the loop's reads). */
	fcntl(j->c.fd, F_SETFL, fcntl(j->c.fd, F_GETFL) & ~O_NONBLOCK);
	j->o->handle(j->o->arg, &j->c);
	pthread_mutex_lock(&workers.mu);
	workers.fds[j->slot] = -1;
	conn_close(&j->c);
	workers.active--;
	pthread_cond_broadcast(&workers.idle);
	pthread_mutex_unlock(&workers.mu);
	free(j);
	return NULL;
}

/* Hands c to a new thread (c is then the thread's), or answers 503 when o->threads are
 * busy, or 500 when no thread can be made. */
static void dispatch(const struct httpserver_opts *o, struct httpserver_conn *c)
{
	static const char busy[] = "{\"error\":\"too many requests at once\"}\n";
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	struct job *j;
	int slot = -1, i, rc;

	pthread_mutex_lock(&workers.mu);
	if (workers.active < o->threads && workers.active < (int)ARRAY_SIZE(workers.fds))
		for (i = 0; i < (int)ARRAY_SIZE(workers.fds) && slot < 0; i++)
			if (workers.fds[i] < 0)
				slot = i;
	if (slot >= 0) {
		workers.fds[slot] = c->fd;
		workers.active++;
	}
	pthread_mutex_unlock(&workers.mu);
	if (slot < 0) {
		log_verbose("%s: %d requests at once already; answered 503", o->name, o->threads);
		httpserver_respond(c->fd, 503, "application/json", "Retry-After: 1\r\n", busy,
		                   sizeof(busy) - 1);
		conn_close(c);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->o = o;
	j->c = *c;
	j->slot = slot;
	c->fd = -1;
	c->data = (struct buf)BUF_INIT;
	/* The signals we forward and SIGCHLD go to the loop's thread, never to a worker (which
	 * keeps SIGALRM: lock.c's timer ticks a flock wait on the thread that waits). */
	sigemptyset(&all);
	for (i = 0; i < (int)ARRAY_SIZE(forwarded); i++)
		sigaddset(&all, forwarded[i]);
	sigaddset(&all, SIGCHLD);
	threads_started();
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, worker, j);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_error("%s: cannot start a thread: %s", o->name, strerror(rc));
		httpserver_respond(j->c.fd, 500, NULL, NULL, "", 0);
		pthread_mutex_lock(&workers.mu);
		workers.fds[slot] = -1;
		workers.active--;
		pthread_mutex_unlock(&workers.mu);
		conn_close(&j->c);
		free(j);
	}
}

/* The child has exited: every connection still answered is cut, and waited for. */
static void workers_stop(void)
{
	size_t i;

	pthread_mutex_lock(&workers.mu);
	workers.stopping = 1;
	for (i = 0; i < ARRAY_SIZE(workers.fds); i++)
		if (workers.fds[i] >= 0)
			shutdown(workers.fds[i], SHUT_RDWR);
	while (workers.active > 0)
		pthread_cond_wait(&workers.idle, &workers.mu);
	pthread_mutex_unlock(&workers.mu);
}

/* ---- reading heads ---- */

/* A connection whose request head is still arriving. */
struct pending {
	struct httpserver_conn c;
	struct timespec deadline;
};

struct conns {
	struct pending c[CONN_MAX];
	size_t n;
};

/* The length of the head up to and including its empty line, or 0 when it has not come. */
static size_t head_end(const struct buf *b)
{
	size_t i;

	for (i = 0; i + 1 < b->len; i++) {
		if (b->data[i] != '\n')
			continue;
		if (b->data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < b->len && b->data[i + 1] == '\r' && b->data[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Reads what has arrived: 1 when the head is complete, 0 when more is to come, or a
 * negative enum httpserver_head. */
static int conn_read(struct httpserver_conn *c, size_t head_max)
{
	char chunk[2048];

	for (;;) {
		ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
		size_t end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return HTTPSERVER_HEAD_BAD;
		buf_append(&c->data, chunk, (size_t)n);
		end = head_end(&c->data);
		/* No NUL byte in the head (a body may hold any bytes). */
		if (memchr(c->data.data, '\0', end ? end : c->data.len))
			return HTTPSERVER_HEAD_BAD;
		if (end) {
			if (end > head_max)
				return HTTPSERVER_HEAD_TOO_BIG;
			c->head_len = end;
			return HTTPSERVER_HEAD_OK;
		}
		if (c->data.len > head_max)
			return HTTPSERVER_HEAD_TOO_BIG;
	}
}

/* Answers (directly or on a thread) and forgets pending connection i. */
static void conn_done(struct conns *t, size_t i, int state, const struct httpserver_opts *o)
{
	struct httpserver_conn *c = &t->c[i].c;

	if (o && state != 0) {
		c->state = (enum httpserver_head)state;
		if (o->threads > 0 && state == HTTPSERVER_HEAD_OK)
			dispatch(o, c);
		else
			o->handle(o->arg, c);
	}
	if (c->fd >= 0)
		conn_close(c);
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
		conn_done(t, oldest, 0, NULL);
	}
	memset(&t->c[t->n], 0, sizeof(t->c[t->n]));
	t->c[t->n].c.fd = cfd;
	t->c[t->n].c.data = (struct buf)BUF_INIT;
	set_deadline(&t->c[t->n].deadline, IO_TIMEOUT_MS);
	t->n++;
}

/* Reads every connection poll found ready (p[i] for t->c[i]), answers those done, and
 * those out of time as HTTPSERVER_HEAD_BAD. */
static void conns_step(struct conns *t, const struct pollfd *p, const struct httpserver_opts *o)
{
	size_t i = t->n, head_max = o->head_max ? o->head_max : HEAD_MAX_DEFAULT;

	/* Backwards: conn_done moves the last entry into the slot it frees. */
	while (i-- > 0) {
		int r = 0;

		if (p[i].fd == t->c[i].c.fd && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			r = conn_read(&t->c[i].c, head_max);
		/* Out of time, but an answer to someone else may have taken long: what has
		 * arrived meanwhile is read before giving up. */
		if (r == 0 && ms_left(&t->c[i].deadline) <= 0 &&
		    (r = conn_read(&t->c[i].c, head_max)) == 0)
			r = HTTPSERVER_HEAD_BAD;
		if (r != 0)
			conn_done(t, i, r, o);
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

static int listen_loopback(const char *name, int *port, okc_err *err)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "%s: socket: %s", name, strerror(errno));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (set_flags(fd, 1) < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 64) < 0 || getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: cannot listen on 127.0.0.1: %s", name,
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
static void run_child(const struct httpserver_opts *o, char **envp, const sigset_t *oldmask,
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

int httpserver_run(const struct httpserver_opts *o, okc_err *err)
{
	int lfd = -1, wake[2] = {-1, -1}, errp[2] = {-1, -1}, port = 0, rc = -1, st = 0, e = 0;
	struct sigaction sa, old_sa[ARRAY_SIZE(forwarded) + 1];
	sigset_t block, oldmask;
	char **envp = NULL;
	struct conns conns;
	struct timespec tick_at;
	int tick_on = 1;
	ssize_t n;
	pid_t pid;
	size_t i;

	memset(&conns, 0, sizeof(conns));
	set_deadline(&tick_at, 0); /* the first tick right after the child started */
	pthread_mutex_lock(&workers.mu);
	workers.stopping = 0;
	for (i = 0; i < ARRAY_SIZE(workers.fds); i++)
		workers.fds[i] = -1;
	pthread_mutex_unlock(&workers.mu);
	if (o->handle) {
		lfd = listen_loopback(o->name, &port, err);
		if (lfd < 0)
			goto out;
	}
	if (pipe(wake) < 0 || pipe(errp) < 0 || set_flags(wake[0], 1) < 0 ||
	    set_flags(wake[1], 1) < 0 || set_flags(errp[0], 0) < 0 || set_flags(errp[1], 0) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: pipe: %s", o->name, strerror(errno));
		goto out;
	}
	if (o->setup && o->setup(o->arg, port, o->env, err) < 0)
		goto out;
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
		if (lfd >= 0)
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
	if (lfd >= 0)
		log_verbose("%s on 127.0.0.1:%d for %s (pid %ld)", o->name, port, o->argv[0],
		            (long)pid);
	for (;;) {
		struct pollfd p[2 + CONN_MAX];
		int timeout;
		pid_t w;

		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			okc_fail(err, OKC_EXIT_FAIL, "waitpid: %s", strerror(errno));
			goto restore;
		}
		p[0] = (struct pollfd){lfd, POLLIN, 0}; /* -1 (no listener): poll skips it */
		p[1] = (struct pollfd){wake[0], POLLIN, 0};
		for (i = 0; i < conns.n; i++)
			p[2 + i] = (struct pollfd){conns.c[i].c.fd, POLLIN, 0};
		timeout = conns_timeout(&conns);
		if (o->tick && tick_on && ms_left(&tick_at) <= 0) {
			long next = o->tick(o->arg);

			tick_on = next >= 0;
			if (tick_on)
				set_deadline(&tick_at, next);
			continue; /* the child may have exited meanwhile */
		}
		if (o->tick && tick_on) {
			long left = ms_left(&tick_at);

			if (timeout < 0 || left < timeout)
				timeout = (int)(left > INT_MAX ? INT_MAX : left);
		}
		if (poll(p, 2 + conns.n, timeout) < 0) {
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
		conns_step(&conns, p + 2, o);
		if (p[0].revents & POLLIN)
			conn_accept(&conns, lfd);
	}
	child_pid = 0;
	rc = exit_status(st);
restore:
	while (conns.n > 0)
		conn_done(&conns, conns.n - 1, 0, NULL);
	workers_stop();
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
	return rc;
}
