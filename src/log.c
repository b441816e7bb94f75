/* log.c: messages to stderr by level, and the redaction of secrets in form, JSON, XML
 * bodies and header lines, which every --debug trace goes through. */
#include "oktacred/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/util.h"

#define REDACTED "<redacted>"

static enum log_level log_level = LOG_NORMAL;
static int log_use_color;

void log_init(enum log_level level, int color)
{
	const char *no_color = getenv("NO_COLOR");

	log_level = level;
	/* no-color.org: NO_COLOR set to anything non-empty turns colour off. */
	log_use_color = color && !(no_color && *no_color) && isatty(STDERR_FILENO);
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_color(void)
{
	return log_use_color;
}

/* One write per line, so lines from concurrent processes do not interleave mid-line. */
static void log_emit(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void log_emit(const char *prefix, const char *fmt, va_list ap)
{
	struct buf line = BUF_INIT;
	char small[512], *msg = small;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		msg = xmalloc((size_t)n + 1);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	}
	if (buf_puts(&line, prefix) == 0 && buf_append(&line, msg, (size_t)n) == 0 &&
	    buf_putc(&line, '\n') == 0)
		fputs(line.data, stderr);
	wipe(msg, (size_t)n);
	if (msg != small)
		free(msg);
	buf_free(&line);
}

#define LOG_FN(name, min_level, plain, colored)                                                    \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
                                                                                                   \
		if (log_level < (min_level))                                                       \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		log_emit(log_use_color ? (colored) : (plain), fmt, ap);                            \
		va_end(ap);                                                                        \
	}

/* Errors print even with LOG_QUIET: they are what the exit status is about. */
LOG_FN(log_error, LOG_QUIET, "oktacred: ", "\033[1;31moktacred:\033[0m ")
LOG_FN(log_warn, LOG_NORMAL, "oktacred: warning: ", "oktacred: \033[33mwarning:\033[0m ")
LOG_FN(log_info, LOG_NORMAL, "oktacred: ", "oktacred: ")
LOG_FN(log_verbose, LOG_VERBOSE, "oktacred: ", "oktacred: ")
LOG_FN(log_debug, LOG_DEBUG, "oktacred: debug: ", "oktacred: \033[2mdebug:\033[0m ")

/* ---- redaction ---- */

/* Names are compared case-insensitively: when in doubt, redact. actor_token, assertion
 * and code_verifier (RFC 8693, RFC 7523, RFC 7636) are secrets too, beyond log.h's list,
 * and so are the camelCase spellings (accessToken...) that proxies and other servers use. */
static const char *const form_secrets[] = {
    "access_token",     "refresh_token", "id_token",         "device_code", "code",
    "user_code",        "client_secret", "client_assertion", "token",       "password",
    "WebIdentityToken", "subject_token", "actor_token",      "assertion",   "code_verifier",
    "accessToken",      "refreshToken",  "idToken",          "deviceCode",  "clientSecret",
    "clientAssertion",
};
static const char *const json_extra_secrets[] = {"SecretAccessKey", "SessionToken", "Token"};
static const char *const xml_secrets[] = {"SecretAccessKey", "SessionToken", "WebIdentityToken"};
/* X-Amz-Security-Token and X-Api-Key carry credentials as well. */
static const char *const header_secrets[] = {
    "Authorization", "Proxy-Authorization",  "Cookie",
    "Set-Cookie",    "X-Amz-Security-Token", "X-Api-Key",
};

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Case-insensitive comparison of the bytes s[0..n) with the NUL-terminated name. */
static int name_eq(const char *s, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!name[i] || lower((unsigned char)s[i]) != lower((unsigned char)name[i]))
			return 0;
	return name[n] == '\0';
}

/* Case-insensitive comparison of two byte ranges. */
static int slice_eq(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int in_list(const char *s, size_t n, const char *const *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (name_eq(s, n, list[i]))
			return 1;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The next character of form-encoded s[*i..n) percent-decoded ('+' is a space); a '%' not
 * followed by two hex digits stands for itself. */
static int form_char(const char *s, size_t n, size_t *i)
{
	int c = (unsigned char)s[(*i)++];

	if (c == '%' && n - *i >= 2 && hexval((unsigned char)s[*i]) >= 0 &&
	    hexval((unsigned char)s[*i + 1]) >= 0) {
		c = hexval((unsigned char)s[*i]) * 16 + hexval((unsigned char)s[*i + 1]);
		*i += 2;
	} else if (c == '+') {
		c = ' ';
	}
	return c;
}

/* Matches a form-encoded key against name after decoding it, without copying it anywhere. */
static int form_key_eq(const char *s, size_t n, const char *name)
{
	size_t i = 0, k = 0;

	while (i < n) {
		int c = form_char(s, n, &i);

		if (!name[k] || lower(c) != lower((unsigned char)name[k]))
			return 0;
		k++;
	}
	return name[k] == '\0';
}

static int form_key_secret(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(form_secrets); i++)
		if (form_key_eq(s, n, form_secrets[i]))
			return 1;
	return 0;
}

int log_redact_form(struct buf *out, const char *text, size_t len)
{
	size_t i = 0;

	if (buf_append(out, NULL, 0) < 0)
		return -1;
	while (i < len) {
		const char *seg = text + i;
		const char *amp = memchr(seg, '&', len - i);
		size_t seglen = amp ? (size_t)(amp - seg) : len - i;
		const char *eq = memchr(seg, '=', seglen);

		if (eq && form_key_secret(seg, (size_t)(eq - seg)) && eq + 1 < seg + seglen) {
			/* Keep the key; an empty value reveals nothing and stays empty. */
			if (buf_append(out, seg, (size_t)(eq - seg) + 1) < 0 ||
			    buf_puts(out, REDACTED) < 0)
				return -1;
		} else if (buf_append(out, seg, seglen) < 0) {
			return -1;
		}
		i += seglen;
		if (amp) {
			if (buf_putc(out, '&') < 0)
				return -1;
			i++;
		}
	}
	return 0;
}

/* Decodes a form value into out. */
static int form_decode(struct buf *out, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n)
		if (buf_putc(out, (char)form_char(s, n, &i)) < 0)
			return -1;
	return 0;
}

#define ECHO_MIN 8

/* The secrets to look for: a growing array of buffers (a form may carry any number). */
struct echoes {
	struct buf *v;
	size_t n, cap;
};

static int echoes_add(struct echoes *e, const char *s, size_t n, int encoded)
{
	struct buf b = BUF_INIT;

	if ((encoded ? form_decode(&b, s, n) : buf_append(&b, s, n)) < 0)
		goto fail;
	if (b.len < ECHO_MIN) {
		buf_free(&b);
		return 0;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 4;
		struct buf *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			goto fail;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = b;
	return 0;
fail:
	buf_free(&b);
	return -1;
}

int log_redact_echoes(struct buf *out, const char *text, size_t len, const char *form,
                      size_t form_len, const char *extra)
{
	struct echoes e = {NULL, 0, 0};
	size_t i = 0, k;
	int rc = -1;

	while (form && i < form_len) {
		const char *seg = form + i;
		const char *amp = memchr(seg, '&', form_len - i);
		size_t seglen = amp ? (size_t)(amp - seg) : form_len - i;
		const char *eq = memchr(seg, '=', seglen);

		if (eq && form_key_secret(seg, (size_t)(eq - seg)) &&
		    echoes_add(&e, eq + 1, (size_t)(seg + seglen - eq - 1), 1) < 0)
			goto out;
		i += seglen + (amp ? 1 : 0);
	}
	if (extra && echoes_add(&e, extra, strlen(extra), 0) < 0)
		goto out;
	if (buf_append(out, NULL, 0) < 0)
		goto out;
	for (i = 0; i < len;) {
		size_t best = 0;

		/* The longest secret that starts here. */
		for (k = 0; k < e.n; k++)
			if (e.v[k].len > best && len - i >= e.v[k].len &&
			    memcmp(text + i, e.v[k].data, e.v[k].len) == 0)
				best = e.v[k].len;
		if (best) {
			if (buf_puts(out, REDACTED) < 0)
				goto out;
			i += best;
		} else if (buf_putc(out, text[i++]) < 0) {
			goto out;
		}
	}
	rc = 0;
out:
	for (k = 0; k < e.n; k++)
		buf_free(&e.v[k]);
	free(e.v);
	return rc;
}

int log_redact_answer(struct buf *out, const char *content_type, const char *text, size_t len,
                      const char *form, size_t form_len, const char *extra)
{
	struct buf red = BUF_INIT;
	int rc = log_redact_body(&red, content_type, text, len);

	if (rc == 0)
		rc = log_redact_echoes(out, red.data, red.len, form, form_len, extra);
	buf_free(&red);
	return rc;
}

/* JSON. A scanner rather than a parser, so that truncated or malformed input is still
 * redacted as far as it can be; every index is checked against len. */

static int json_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s[i] is '"': the index just past the closing quote, or len when it is unterminated. */
static size_t json_string_end(const char *s, size_t len, size_t i, int *terminated)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\') {
			i++;
		} else if (s[i] == '"') {
			*terminated = 1;
			return i + 1;
		}
	}
	*terminated = 0;
	return len;
}

/* Compares the JSON string body s[0..n) (escapes decoded) with name, case-insensitively.
 * Any non-ASCII or control character makes it no match. */
static int json_key_eq(const char *s, size_t n, const char *name)
{
	size_t i = 0, k = 0;

	while (i < n) {
		int c = (unsigned char)s[i++];

		if (c == '\\') {
			if (i >= n)
				return 0;
			c = (unsigned char)s[i++];
			switch (c) {
			case '"':
			case '\\':
			case '/': break;
			case 'u': {
				int v = 0, d, j;

				if (n - i < 4)
					return 0;
				for (j = 0; j < 4; j++) {
					d = hexval((unsigned char)s[i + (size_t)j]);
					if (d < 0)
						return 0;
					v = v * 16 + d;
				}
				i += 4;
				if (v < 0x20 || v > 0x7e)
					return 0;
				c = v;
				break;
			}
			default: return 0; /* \b \f \n \r \t: no secret name holds these */
			}
		}
		if (!name[k] || lower(c) != lower((unsigned char)name[k]))
			return 0;
		k++;
	}
	return name[k] == '\0';
}

static int json_key_secret(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(form_secrets); i++)
		if (json_key_eq(s, n, form_secrets[i]))
			return 1;
	for (i = 0; i < ARRAY_SIZE(json_extra_secrets); i++)
		if (json_key_eq(s, n, json_extra_secrets[i]))
			return 1;
	return 0;
}

/* The end of the value starting at s[i] (not whitespace): a string, a balanced
 * object/array (len when unbalanced) or a bare token. */
static size_t json_value_end(const char *s, size_t len, size_t i)
{
	int terminated, depth = 0;

	if (s[i] == '"')
		return json_string_end(s, len, i, &terminated);
	if (s[i] == '{' || s[i] == '[') {
		while (i < len) {
			char c = s[i];

			if (c == '"') {
				i = json_string_end(s, len, i, &terminated);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return len;
	}
	while (i < len && !json_ws((unsigned char)s[i]) && s[i] != ',' && s[i] != '}' &&
	       s[i] != ']')
		i++;
	return i;
}

static int json_literal(const char *s, size_t n)
{
	return (n == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "true", 4) == 0)) ||
	       (n == 5 && memcmp(s, "false", 5) == 0);
}

int log_redact_json(struct buf *out, const char *text, size_t len)
{
	size_t i = 0;

	if (buf_append(out, NULL, 0) < 0)
		return -1;
	while (i < len) {
		size_t end, j, vend;
		int terminated;

		if (text[i] != '"') {
			size_t run = i;

			while (run < len && text[run] != '"')
				run++;
			if (buf_append(out, text + i, run - i) < 0)
				return -1;
			i = run;
			continue;
		}
		end = json_string_end(text, len, i, &terminated);
		if (buf_append(out, text + i, end - i) < 0)
			return -1;
		if (!terminated || !json_key_secret(text + i + 1, end - i - 2)) {
			i = end;
			continue;
		}
		/* A secret name. When it is a key (a ':' follows), or when malformed input
		 * puts a value right after it without one, that value is a secret. */
		j = end;
		while (j < len && json_ws((unsigned char)text[j]))
			j++;
		if (j < len && text[j] == ':') {
			j++;
			while (j < len && json_ws((unsigned char)text[j]))
				j++;
		} else if (j >= len || text[j] == ',' || text[j] == '}' || text[j] == ']') {
			i = end; /* a value such as "token_type":"token", or truncated input */
			continue;
		}
		if (buf_append(out, text + end, j - end) < 0)
			return -1;
		i = j;
		if (j >= len)
			break;
		vend = json_value_end(text, len, j);
		if (vend == j)
			continue; /* nothing there, e.g. {"token":,} */
		/* null, true, false and "" reveal nothing. */
		if (json_literal(text + j, vend - j) ||
		    (vend - j == 2 && text[j] == '"' && text[j + 1] == '"')) {
			if (buf_append(out, text + j, vend - j) < 0)
				return -1;
		} else if (buf_puts(out, "\"" REDACTED "\"") < 0) {
			return -1;
		}
		i = vend;
	}
	return 0;
}

/* One header line; trailing CR/LF are kept. A line that starts with white space is an
 * obsolete folded continuation of the previous header, which may be a secret one: it is
 * redacted whole. */
int log_redact_header(struct buf *out, const char *line, size_t len)
{
	size_t n = len, name_end;
	const char *colon;

	if (buf_append(out, NULL, 0) < 0)
		return -1;
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
		if (buf_puts(out, REDACTED) < 0)
			return -1;
		return buf_append(out, line + n, len - n);
	}
	colon = memchr(line, ':', n);
	if (!colon)
		return buf_append(out, line, len);
	name_end = (size_t)(colon - line);
	while (name_end > 0 && (line[name_end - 1] == ' ' || line[name_end - 1] == '\t'))
		name_end--;
	if (!in_list(line, name_end, header_secrets, ARRAY_SIZE(header_secrets)))
		return buf_append(out, line, len);
	if (buf_append(out, line, (size_t)(colon - line) + 1) < 0 ||
	    buf_puts(out, " " REDACTED) < 0)
		return -1;
	return buf_append(out, line + n, len - n);
}

/* XML: the text of the secret elements (with or without a namespace prefix), up to the
 * matching end tag (to the end of the input when there is none). */

static int xml_name_char(int c)
{
	return c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
	       c != '<' && c != '=';
}

/* The local part of a qualified name s[0..n). */
static void xml_local(const char **s, size_t *n)
{
	const char *c = *s + *n;

	while (c > *s && c[-1] != ':')
		c--;
	*n -= (size_t)(c - *s);
	*s = c;
}

/* The index of "</name>" (any prefix) at or after i, or len. */
static size_t xml_find_end_tag(const char *s, size_t len, size_t i, const char *name, size_t nlen)
{
	for (; i + 1 < len; i++) {
		const char *q;
		size_t qn = 0;

		if (s[i] != '<' || s[i + 1] != '/')
			continue;
		q = s + i + 2;
		while (i + 2 + qn < len && xml_name_char((unsigned char)q[qn]))
			qn++;
		xml_local(&q, &qn);
		if (slice_eq(q, qn, name, nlen))
			return i;
	}
	return len;
}

static size_t xml_tag_end(const char *s, size_t len, size_t i)
{
	char quote = 0;

	for (; i < len; i++) {
		if (quote) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			quote = s[i];
		} else if (s[i] == '>') {
			return i;
		}
	}
	return len;
}

static int log_redact_xml(struct buf *out, const char *text, size_t len)
{
	size_t i = 0;

	if (buf_append(out, NULL, 0) < 0)
		return -1;
	while (i < len) {
		const char *name;
		size_t nlen = 0, gt, close;

		if (text[i] != '<' || i + 1 >= len || !xml_name_char((unsigned char)text[i + 1]) ||
		    text[i + 1] == '!' || text[i + 1] == '?') {
			if (buf_putc(out, text[i]) < 0)
				return -1;
			i++;
			continue;
		}
		name = text + i + 1;
		while (i + 1 + nlen < len && xml_name_char((unsigned char)name[nlen]))
			nlen++;
		gt = xml_tag_end(text, len, i + 1 + nlen);
		if (gt >= len) /* an unterminated tag: nothing more to recognise */
			return buf_append(out, text + i, len - i);
		if (buf_append(out, text + i, gt + 1 - i) < 0)
			return -1;
		xml_local(&name, &nlen);
		if (text[gt - 1] == '/' ||
		    !in_list(name, nlen, xml_secrets, ARRAY_SIZE(xml_secrets))) {
			i = gt + 1;
			continue;
		}
		close = xml_find_end_tag(text, len, gt + 1, name, nlen);
		if (close > gt + 1 && buf_puts(out, REDACTED) < 0)
			return -1;
		i = close;
	}
	return 0;
}

/* The media type of a Content-Type value, without parameters, compared loosely. */
static int media_has(const char *ct, const char *what)
{
	size_t n = strcspn(ct, ";"), w = strlen(what), i;

	for (i = 0; i + w <= n; i++)
		if (name_eq(ct + i, w, what))
			return 1;
	return 0;
}

/* Text of another type (an HTML error page, text/plain): wherever a secret name stands
 * as a word followed by '=' or ':' (quotes allowed around it), the value after it is
 * redacted, up to its closing quote or the next delimiter. A heuristic, erring on the
 * side of hiding too much. */
static int ident_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static size_t secret_word_at(const char *s, size_t len, size_t i)
{
	size_t k, n;

	if (i > 0 && ident_char((unsigned char)s[i - 1]))
		return 0;
	for (n = i; n < len && ident_char((unsigned char)s[n]); n++)
		;
	n -= i;
	if (n == 0)
		return 0;
	for (k = 0; k < ARRAY_SIZE(form_secrets); k++)
		if (name_eq(s + i, n, form_secrets[k]))
			return n;
	for (k = 0; k < ARRAY_SIZE(json_extra_secrets); k++)
		if (name_eq(s + i, n, json_extra_secrets[k]))
			return n;
	return 0;
}

static int log_redact_text(struct buf *out, const char *text, size_t len)
{
	size_t i = 0, copied = 0;

	if (buf_append(out, NULL, 0) < 0)
		return -1;
	while (i < len) {
		size_t n = secret_word_at(text, len, i), j, v;
		char quote = 0;

		if (!n) {
			i++;
			continue;
		}
		j = i + n;
		if (j < len && (text[j] == '"' || text[j] == '\''))
			j++;
		while (j < len && (text[j] == ' ' || text[j] == '\t'))
			j++;
		if (j >= len || (text[j] != '=' && text[j] != ':')) {
			i += n;
			continue;
		}
		j++;
		while (j < len && (text[j] == ' ' || text[j] == '\t'))
			j++;
		if (j < len && (text[j] == '"' || text[j] == '\'')) {
			quote = text[j];
			j++;
		}
		for (v = j; v < len; v++) {
			if (quote ? text[v] == quote
			          : strchr("&\"'<> \t\r\n,;})]", text[v]) != NULL)
				break;
			if (quote && text[v] == '\\')
				v++;
		}
		if (v > len)
			v = len;
		if (v > j) {
			if (buf_append(out, text + copied, j - copied) < 0 ||
			    buf_puts(out, REDACTED) < 0)
				return -1;
			copied = v;
		}
		i = v > j ? v : j;
	}
	return buf_append(out, text + copied, len - copied);
}

int log_redact_body(struct buf *out, const char *content_type, const char *text, size_t len)
{
	struct buf tmp = BUF_INIT;
	size_t i = 0;
	int rc;

	if (content_type && media_has(content_type, "json"))
		return log_redact_json(out, text, len);
	if (content_type && media_has(content_type, "xml"))
		return log_redact_xml(out, text, len);
	if (content_type && media_has(content_type, "x-www-form-urlencoded"))
		return log_redact_form(out, text, len);
	/* No or another type: look at the first character. */
	while (i < len && json_ws((unsigned char)text[i]))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '['))
		return log_redact_json(out, text, len);
	if (!content_type && !(i < len && text[i] == '<'))
		return log_redact_form(out, text, len);
	/* Markup or text of another type: the XML elements, then the text heuristic. */
	if (log_redact_xml(&tmp, text, len) < 0) {
		buf_free(&tmp);
		return -1;
	}
	rc = log_redact_text(out, tmp.data, tmp.len);
	buf_free(&tmp);
	return rc;
}
