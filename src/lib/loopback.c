/* loopback.c: the login's loopback HTTP listener (loopback.h): sockets bound to 127.0.0.1
 * and ::1 only, one request per connection, closed when the login has its answer. */
#include "oktacred/loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

#define REQUEST_MAX     8192 /* a browser's GET with its headers fits easily */
#define REQUEST_WAIT_MS 5000 /* a connection that sends no request in time is dropped */
#define POLL_SLICE_MS   250  /* how soon a signal is noticed when it lands before poll() */
#define MAX_CLIENTS     8    /* connections read at once */

static int bind_one(int family, const char *addr, int port, int *out)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	const struct sockaddr *sa;
	socklen_t len;
	int one = 1, fd, saved;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* A login just before this one leaves its connections in TIME_WAIT; that is not a
	 * busy port. (Linux never lets two sockets listen on one port this way.) */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		memset(&v6, 0, sizeof(v6));
		v6.sin6_family = AF_INET6;
		v6.sin6_port = htons((unsigned short)port);
		(void)inet_pton(AF_INET6, addr, &v6.sin6_addr);
		sa = (const struct sockaddr *)&v6;
		len = sizeof(v6);
	} else {
		memset(&v4, 0, sizeof(v4));
		v4.sin_family = AF_INET;
		v4.sin_port = htons((unsigned short)port);
		(void)inet_pton(AF_INET, addr, &v4.sin_addr);
		sa = (const struct sockaddr *)&v4;
		len = sizeof(v4);
	}
	if (bind(fd, sa, len) < 0 || listen(fd, 8) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	*out = fd;
	return 0;
}

int loopback_listen(struct loopback *lb, const char *host, int port, okc_err *err)
{
	int v4 = strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0;
	int v6 = strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0;

	lb->fd[0] = lb->fd[1] = -1;
	if (!v4 && !v6)
		return okc_fail(err, OKC_EXIT_USAGE, "cannot listen on %s: not a loopback address",
		                host);
	if (v4 && bind_one(AF_INET, "127.0.0.1", port, &lb->fd[0]) < 0)
		goto fail;
	if (v6 && bind_one(AF_INET6, "::1", port, &lb->fd[1]) < 0) {
		/* A machine without IPv6 on its loopback: "localhost" is 127.0.0.1 there. */
		if (v4 && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
			return 0;
		goto fail;
	}
	return 0;
fail:
	if (errno == EADDRINUSE || errno == EACCES) {
		int busy = errno == EADDRINUSE;

		loopback_close(lb);
		okc_fail(err, OKC_EXIT_FAIL, "cannot listen on %s port %d: %s", host, port,
		         busy ? "the port is in use" : "permission denied");
		return busy ? LOOPBACK_BUSY : -1;
	}
	okc_fail(err, OKC_EXIT_FAIL, "cannot listen on %s port %d: %s", host, port,
	         strerror(errno));
	loopback_close(lb);
	return -1;
}

void loopback_close(struct loopback *lb)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (lb->fd[i] >= 0)
			close(lb->fd[i]);
		lb->fd[i] = -1;
	}
}

static void html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, *s); break;
		}
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	default: return "Bad Request";
	}
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the browser left: nothing to tell it */
		p += w;
		n -= (size_t)w;
	}
}

static void answer(int fd, const struct loopback_reply *r)
{
	struct buf body = BUF_INIT, head = BUF_INIT;

	buf_puts(&body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	html_escape(&body, r->title);
	buf_puts(&body, "</title></head>\n<body style=\"font-family: sans-serif; margin: 3em\">"
	                "<h1>");
	html_escape(&body, r->title);
	buf_puts(&body, "</h1>\n<p>");
	html_escape(&body, r->message);
	buf_puts(&body, "</p>\n</body></html>\n");
	/* no-referrer: the page's address holds the authorization code. */
	buf_printf(
	    &head,
	    "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
	    "Connection: close\r\n\r\n",
	    r->status, reason(r->status), body.len);
	send_all(fd, head.data, head.len);
	send_all(fd, body.data, body.len);
	buf_free(&head);
	buf_free(&body);
}

/* The request a connection has sent so far. */
struct client {
	int fd;          /* -1: a free slot */
	long long until; /* dropped when its request is not whole by then */
	struct buf req;
};

static void client_close(struct client *c)
{
	shutdown(c->fd, SHUT_WR);
	close(c->fd);
	buf_free(&c->req);
	c->fd = -1;
}

/* A whole request head: answered (its target handed to handler unless it is bad).
 * Returns 1 when the handler is done, 0 to go on listening, -1 on the handler's error. */
static int serve_request(struct client *c, loopback_handler handler, void *ctx, okc_err *err)
{
	struct loopback_reply r = {400, "Bad request", "This address serves one sign-in only.", 0};
	const char *data = c->req.data, *end = strstr(data, "\r\n"), *sp;
	char *target = NULL;
	int rc = 0;

	if (!str_starts(data, "GET ")) {
		r.status = 405;
		r.title = "Method not allowed";
	} else if ((sp = memchr(data + 4, ' ', (size_t)(end - (data + 4)))) && data[4] == '/') {
		target = xstrndup(data + 4, (size_t)(sp - (data + 4)));
		rc = handler(ctx, target, &r, err) < 0 ? -1 : r.done;
	}
	answer(c->fd, &r);
	free_secret(target);
	client_close(c);
	return rc;
}

/* Reads what c sent. 1: its request head is whole; 0: not yet; -1: c is gone or bad. */
static int client_read(struct client *c)
{
	char chunk[1024];
	ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return -1;
	buf_append(&c->req, chunk, (size_t)n);
	wipe(chunk, sizeof(chunk));
	if (c->req.len > REQUEST_MAX || memchr(c->req.data, '\0', c->req.len))
		return -1;
	return strstr(c->req.data, "\r\n\r\n") ? 1 : 0;
}

/* Several connections are read at once: a browser may open one it sends nothing on (a
 * preconnect) beside the one that carries the redirect. */
int loopback_serve(struct loopback *lb, long long deadline_ms, loopback_handler handler, void *ctx,
                   okc_err *err)
{
	struct client clients[MAX_CLIENTS];
	int i, rc = 0;

	for (i = 0; i < MAX_CLIENTS; i++) {
		clients[i].fd = -1;
		clients[i].req = (struct buf)BUF_INIT;
	}
	for (;;) {
		struct pollfd pfd[2 + MAX_CLIENTS];
		int who[2 + MAX_CLIENTS];
		long long now = now_mono_ms(), left = deadline_ms - now;
		int n = 0;

		if (sig_interrupted()) {
			rc = okc_fail(err, OKC_EXIT_INTERRUPTED, "login interrupted");
			break;
		}
		if (left <= 0) {
			rc = okc_fail(err, OKC_EXIT_DENIED,
			              "login not completed: no answer came back from the browser");
			break;
		}
		for (i = 0; i < 2; i++)
			if (lb->fd[i] >= 0) {
				pfd[n] = (struct pollfd){lb->fd[i], POLLIN, 0};
				who[n++] = -1;
			}
		for (i = 0; i < MAX_CLIENTS; i++) {
			if (clients[i].fd >= 0 && now >= clients[i].until)
				client_close(&clients[i]); /* it said nothing in time */
			if (clients[i].fd >= 0) {
				pfd[n] = (struct pollfd){clients[i].fd, POLLIN, 0};
				who[n++] = i;
			}
		}
		if (poll(pfd, (nfds_t)n, (int)(left < POLL_SLICE_MS ? left : POLL_SLICE_MS)) <= 0)
			continue;
		for (i = 0; i < n && rc == 0; i++) {
			struct client *c;
			int got, slot;

			if (!pfd[i].revents)
				continue;
			if (who[i] >= 0) {
				c = &clients[who[i]];
				got = client_read(c);
				if (got < 0)
					client_close(c);
				else if (got > 0)
					rc = serve_request(c, handler, ctx, err);
				continue;
			}
			for (slot = 0; slot < MAX_CLIENTS && clients[slot].fd >= 0; slot++)
				;
			got = accept(pfd[i].fd, NULL, NULL);
			if (got < 0)
				continue;
			if (slot == MAX_CLIENTS) {
				close(got); /* more at once than a browser opens */
				continue;
			}
			(void)fcntl(got, F_SETFD, FD_CLOEXEC);
			(void)fcntl(got, F_SETFL, fcntl(got, F_GETFL) | O_NONBLOCK);
			clients[slot].fd = got;
			clients[slot].until = now_mono_ms() + REQUEST_WAIT_MS;
		}
		if (rc != 0)
			break;
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	return rc > 0 ? 0 : rc;
}
