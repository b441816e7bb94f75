/* credserver.c: `exec --server` for AWS: the child's endpoint in the AWS container-credentials
 * format. The server itself (listener, child, signals) is httpserver.c's. */

#include "oktacred/credserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oktacred/awscreds.h"
#include "oktacred/buf.h"
#include "oktacred/envset.h"
#include "oktacred/httpserver.h"
#include "oktacred/log.h"
#include "oktacred/util.h"

#define TOKEN_BYTES 32
#define PATH_BYTES  16

/* ---- judging a request ---- */

int credserver_judge(const char *head, size_t len, const char *path, const char *token)
{
	const char *line = head, *end = head + len, *eol, *sp1, *sp2, *target, *query;
	const char *auth = NULL;
	size_t auth_len = 0, target_len;
	struct httpserver_field f;
	int nauth = 0, is_get, rc;

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
	line = eol + 1;
	while ((rc = httpserver_next_field(&line, end, &f)) != 0) {
		if (rc < 0)
			return 400;
		if (f.name_len != 13 || strncasecmp(f.line, "authorization", 13) != 0)
			continue;
		auth = f.value;
		auth_len = f.value_len;
		nauth++;
	}
	if (!mem_eq_ct(target, target_len, path, strlen(path)))
		return 404;
	if (nauth != 1 || !mem_eq_ct(auth, auth_len, token, strlen(token)))
		return 403;
	return is_get ? 200 : 405;
}

/* ---- answering ---- */

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

struct server {
	const struct credserver_opts *o;
	char token[2 * TOKEN_BYTES + 1];
	char path[2 * PATH_BYTES + 2];
	char *uri;
};

static int setup(void *arg, int port, struct envset *env, okc_err *err)
{
	struct server *s = arg;

	s->uri = xasprintf("http://127.0.0.1:%d%s", port, s->path);
	envset_put(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", s->uri, 0);
	envset_put(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", s->token, 1);
	envset_put(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", NULL, 0);
	envset_put(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL, 0);
	(void)err;
	return 0;
}

/* Answers one connection: a head that did not come whole is a 400. */
static void serve(void *arg, struct httpserver_conn *c)
{
	struct server *s = arg;
	struct buf body = BUF_INIT;
	int status;

	status = c->state == HTTPSERVER_HEAD_OK
	             ? credserver_judge(c->data.data, c->head_len, s->path, s->token)
	             : 400;
	if (status == 200) {
		struct awscreds *cr = NULL;
		okc_err err;

		okc_err_clear(&err);
		if (s->o->fetch(s->o->arg, &cr, &err) < 0 ||
		    awscreds_container_json(cr, &body) < 0) {
			log_error("credential server: %s", err.msg[0] ? err.msg : "out of memory");
			if (err.hint[0])
				fprintf(stderr, "%s\n", err.hint);
			buf_reset(&body);
			error_body(&body, "CredentialsUnavailable", err.msg);
			status = 500;
		}
		awscreds_free(cr);
	} else {
		error_body(&body,
		           status == 403   ? "AccessDenied"
		           : status == 404 ? "NotFound"
		           : status == 405 ? "MethodNotAllowed"
		                           : "BadRequest",
		           status == 403 ? "wrong or missing authorization token"
		                         : httpserver_reason(status));
	}
	log_verbose("credential server: answered %d", status);
	httpserver_respond(c->fd, status, "application/json",
	                   status == 405 ? "Allow: GET\r\n" : NULL, body.data ? body.data : "",
	                   body.len);
	buf_free(&body);
}

int credserver_run(const struct credserver_opts *o, okc_err *err)
{
	struct httpserver_opts h = {0};
	struct server s;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	s.o = o;
	if (httpserver_random_hex(TOKEN_BYTES, s.token, err) < 0 ||
	    httpserver_random_hex(PATH_BYTES, s.path + 1, err) < 0)
		goto out;
	s.path[0] = '/';
	h.name = "credential server";
	h.argv = o->argv;
	h.env = o->env;
	h.setup = setup;
	h.handle = serve;
	h.arg = &s;
	rc = httpserver_run(&h, err);
out:
	wipe(s.token, sizeof(s.token));
	free(s.uri);
	return rc;
}
