/* redact.c: what --debug and error messages may show of requests and answers. Fails
 * closed: values are shown by allow-list of harmless names, everything else is hidden
 * (redact.h says how, per format). */
#include "oktacred/redact.h"

#include "oktacred/json.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/json.h"
#include "oktacred/util.h"

/* ---- the allow-lists ----
 *
 * What a --debug user needs to tell why a request failed, and what is never a secret. Not
 * on them, on purpose: access_token, refresh_token, id_token, device_code, code, password,
 * client_secret, client_assertion, assertion, subject_token, actor_token, code_verifier,
 * code_challenge, nonce, WebIdentityToken, SecretAccessKey, SessionToken, Token and any name
 * nobody has thought of yet. user_code and verification_uri_complete (which holds it) are
 * hidden too, wherever the code appears in the answer (a value shown never repeats one
 * hidden: see json_hidden): the user sees them on the terminal already, and a trace pasted
 * into a bug report should not carry a code someone could still approve. */

/* JSON keys whose string and number values are shown. */
static const char *const json_allow[] = {
    /* token answers (RFC 6749 5.1, RFC 8693 2.2.1): how long, what kind, what scope */
    "token_type",
    "issued_token_type",
    "expires_in",
    "scope",
    /* device authorization (RFC 8628 3.2): where to go, how often to poll */
    "verification_uri",
    "interval",
    /* OAuth errors (RFC 6749 5.2). error_description is server text that may quote what
     * it was sent: redact_answer and the error messages scan it for echoes. */
    "error",
    "error_description",
    "error_uri",
    /* Okta API errors: the code, the summary (scanned for echoes like the above), the id
     * Okta support asks for */
    "errorCode",
    "errorSummary",
    "errorLink",
    "errorId",
    /* server metadata (RFC 8414), plus the suffixes below */
    "issuer",
    "jwks_uri",
    /* AWS credentials: the key id names a key without granting anything */
    "Version",
    "AccessKeyId",
    "Expiration",
};
/* Keys ending in these: the endpoints and capabilities of server metadata. */
static const char *const json_allow_suffix[] = {"_endpoint", "_supported"};

/* Form fields (and query parameters) whose values are shown. */
static const char *const form_allow[] = {
    /* OAuth requests: what is asked for, by which client, of which kind. client_id is a
     * public identifier (it travels in browser URLs) and a wrong one is a common mistake;
     * state and redirect_uri go through the browser too. */
    "grant_type",
    "scope",
    "client_id",
    "client_assertion_type",
    "token_type_hint",
    "response_type",
    "redirect_uri",
    "state",
    "code_challenge_method",
    "subject_token_type",
    "requested_token_type",
    "actor_token_type",
    "audience",
    "resource",
    /* AWS STS AssumeRoleWithWebIdentity: the role is what an AccessDenied is about */
    "Action",
    "Version",
    "RoleArn",
    "RoleSessionName",
    "DurationSeconds",
};

/* Header names whose values are shown: framing, caching, timing and the request ids that
 * support asks for. Not WWW-Authenticate (server text outside the echo scan; the body's
 * error says the same) nor anything carrying credentials or cookies. */
static const char *const header_allow[] = {
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "Transfer-Encoding",
    "Date",
    "Retry-After",
    "Cache-Control",
    "Pragma",
    "Expires",
    "Vary",
    "Connection",
    "Keep-Alive",
    "Accept",
    "Accept-Encoding",
    "Host",
    "User-Agent",
    "Server",
    "Expect",
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
    "X-Rate-Limit-Reset",
    "X-Okta-Request-Id",
    "X-Amzn-RequestId",
    "X-Amz-Request-Id",
};

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Case-insensitive comparison of the bytes s[0..n) with the NUL-terminated name. */
static int name_eq_ci(const char *s, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!name[i] || lower((unsigned char)s[i]) != lower((unsigned char)name[i]))
			return 0;
	return name[n] == '\0';
}

static int json_key_allowed(const char *key)
{
	size_t i, n = strlen(key);

	for (i = 0; i < ARRAY_SIZE(json_allow); i++)
		if (strcmp(key, json_allow[i]) == 0)
			return 1;
	for (i = 0; i < ARRAY_SIZE(json_allow_suffix); i++) {
		size_t sn = strlen(json_allow_suffix[i]);

		if (n > sn && strcmp(key + n - sn, json_allow_suffix[i]) == 0)
			return 1;
	}
	return 0;
}

static int header_allowed(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(header_allow); i++)
		if (name_eq_ci(s, n, header_allow[i]))
			return 1;
	return 0;
}

/* ---- forms ---- */

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

/* Matches a form-encoded key, once decoded, exactly against name, without copying it. */
static int form_key_eq(const char *s, size_t n, const char *name)
{
	size_t i = 0, k = 0;

	while (i < n) {
		int c = form_char(s, n, &i);

		if (!name[k] || c != (unsigned char)name[k])
			return 0;
		k++;
	}
	return name[k] == '\0';
}

static int form_key_allowed(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(form_allow); i++)
		if (form_key_eq(s, n, form_allow[i]))
			return 1;
	return 0;
}

/* One field of a form: where its key ends, whether it is shown. */
struct field {
	const char *seg;
	size_t seglen;
	const char *eq; /* NULL: no '=' */
	int shown;
};

static struct field form_field(const char *seg, size_t seglen)
{
	struct field f = {seg, seglen, memchr(seg, '=', seglen), 0};
	size_t keylen = f.eq ? (size_t)(f.eq - seg) : seglen;

	f.shown = form_key_allowed(seg, keylen);
	return f;
}

void redact_form(struct buf *out, const char *text, size_t len)
{
	size_t i = 0;

	buf_append(out, NULL, 0);
	while (i < len) {
		const char *seg = text + i;
		const char *amp = memchr(seg, '&', len - i);
		size_t seglen = amp ? (size_t)(amp - seg) : len - i;
		struct field f = form_field(seg, seglen);

		if (f.shown || seglen == 0 || (f.eq && f.eq + 1 == seg + seglen)) {
			buf_append(out, seg, seglen); /* allowed, or nothing to hide */
		} else if (f.eq) {                    /* the key as sent, the value hidden */
			buf_append(out, seg, (size_t)(f.eq - seg) + 1);
			buf_puts(out, REDACTED);
		} else { /* a lone word: it may be a value itself */
			buf_puts(out, REDACTED);
		}
		i += seglen;
		if (amp) {
			buf_putc(out, '&');
			i++;
		}
	}
}

/* ---- echoes ---- */

/* Decodes a form value into out. */
static void form_decode(struct buf *out, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n)
		buf_putc(out, (char)form_char(s, n, &i));
}

#define ECHO_MIN 8

/* The secrets to look for: a growing array of buffers (a form may carry any number). */
struct echoes {
	struct buf *v;
	size_t n, cap;
};

static void echoes_add(struct echoes *e, const char *s, size_t n, int encoded)
{
	struct buf b = BUF_INIT;

	if (encoded)
		form_decode(&b, s, n);
	else
		buf_append(&b, s, n);
	if (b.len < ECHO_MIN) {
		buf_free(&b);
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 4;
		e->v = xrealloc(e->v, e->cap * sizeof(*e->v));
	}
	e->v[e->n++] = b;
}

static void echoes_free(struct echoes *e)
{
	for (size_t k = 0; k < e->n; k++)
		buf_free(&e->v[k]);
	free(e->v);
}

/* Appends text to out with every echo of e's secrets replaced by REDACTED. */
static void echoes_replace(struct buf *out, const char *text, size_t len, const struct echoes *e)
{
	size_t i, k;

	buf_append(out, NULL, 0);
	for (i = 0; i < len;) {
		size_t best = 0;

		/* The longest secret that starts here. */
		for (k = 0; k < e->n; k++)
			if (e->v[k].len > best && len - i >= e->v[k].len &&
			    memcmp(text + i, e->v[k].data, e->v[k].len) == 0)
				best = e->v[k].len;
		if (best) {
			buf_puts(out, REDACTED);
			i += best;
		} else {
			buf_putc(out, text[i++]);
		}
	}
}

void redact_echoes(struct buf *out, const char *text, size_t len, const char *form, size_t form_len,
                   const char *extra)
{
	struct echoes e = {NULL, 0, 0};
	size_t i = 0;

	/* Every value redact_form hides is a secret to look for. */
	while (form && i < form_len) {
		const char *seg = form + i;
		const char *amp = memchr(seg, '&', form_len - i);
		size_t seglen = amp ? (size_t)(amp - seg) : form_len - i;
		struct field f = form_field(seg, seglen);

		if (!f.shown) {
			const char *v = f.eq ? f.eq + 1 : seg;

			echoes_add(&e, v, (size_t)(seg + seglen - v), 1);
		}
		i += seglen + (amp ? 1 : 0);
	}
	if (extra)
		echoes_add(&e, extra, strlen(extra), 0);
	echoes_replace(out, text, len, &e);
	echoes_free(&e);
}

/* ---- JSON ---- */

/* A JSON string literal of s. Bytes from 0x80 up are copied as they are (the trace escapes
 * what is not valid UTF-8 or not printable). */
static void json_put_string(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c == '\n')
			buf_puts(out, "\\n");
		else if (c == '\r')
			buf_puts(out, "\\r");
		else if (c == '\t')
			buf_puts(out, "\\t");
		else if (c < 0x20)
			buf_printf(out, "\\u%04x", c);
		else
			buf_putc(out, (char)c);
	}
	buf_putc(out, '"');
}

static void json_put_number(struct buf *out, double v)
{
	if (!(v - v == 0)) /* infinite or NaN: never parsed, but a tree can be built so */
		buf_puts(out, "null");
	else if (v > -1e15 && v < 1e15 && (double)(long long)v == v)
		buf_printf(out, "%lld", (long long)v);
	else
		buf_printf(out, "%.17g", v);
}

/* Adds the strings json_put hides under item to e: a value that is shown must not repeat
 * one (a device answer's verification_uri_complete holds its user_code). */
static void json_hidden(struct echoes *e, const struct json *item, int shown)
{
	const struct json *c;

	if (json_is(item, JSON_OBJECT) || json_is(item, JSON_ARRAY)) {
		for (c = item->child; c; c = c->next)
			json_hidden(e, c,
			            json_is(item, JSON_OBJECT)
			                ? json_key_allowed(c->key ? c->key : "")
			                : shown);
	} else if (!shown && json_is(item, JSON_STRING) && item->str) {
		echoes_add(e, item->str, strlen(item->str), 0);
	}
}

/* item under the key `shown` says whether its scalars may be shown (0: hidden). Objects and
 * arrays are walked whatever the key: each member is judged by its own key, the elements of
 * an array by the array's; a string shown has the hidden ones (json_hidden) redacted in it.
 * The parser nests at most JSON_MAX_DEPTH deep, which bounds the recursion. */
static void json_put(struct buf *out, const struct json *item, int shown,
                     const struct echoes *hidden)
{
	const struct json *c;

	if (json_is(item, JSON_OBJECT) || json_is(item, JSON_ARRAY)) {
		int obj = json_is(item, JSON_OBJECT);

		buf_putc(out, obj ? '{' : '[');
		for (c = item->child; c; c = c->next) {
			int sub = shown;

			if (c != item->child)
				buf_putc(out, ',');
			if (obj) {
				const char *key = c->key ? c->key : "";

				json_put_string(out, key);
				buf_putc(out, ':');
				sub = json_key_allowed(key);
			}
			json_put(out, c, sub, hidden);
		}
		buf_putc(out, obj ? '}' : ']');
	} else if (json_is(item, JSON_TRUE)) {
		buf_puts(out, "true");
	} else if (json_is(item, JSON_FALSE)) {
		buf_puts(out, "false");
	} else if (json_is(item, JSON_STRING) && item->str && !*item->str) {
		buf_puts(out, "\"\"");
	} else if (shown && json_is(item, JSON_STRING) && item->str) {
		struct buf v = BUF_INIT;

		echoes_replace(&v, item->str, item->len, hidden);
		json_put_string(out, v.data);
		buf_free(&v);
	} else if (shown && json_is(item, JSON_NUMBER)) {
		json_put_number(out, item->num);
	} else if (json_is(item, JSON_STRING) || json_is(item, JSON_NUMBER)) {
		buf_puts(out, "\"" REDACTED "\"");
	} else {
		buf_puts(out, "null");
	}
}

static void put_length(struct buf *out, size_t len, const char *what)
{
	if (what)
		buf_printf(out, "<%zu bytes of %s>", len, what);
	else
		buf_printf(out, "<%zu bytes>", len);
}

/* redact_json: 0; or -2 when the text is not JSON (nothing appended then). */
static int json_or_not(struct buf *out, const char *text, size_t len)
{
	struct json *root = json_parse(text, len);

	struct echoes hidden = {NULL, 0, 0};

	if (!root)
		return -2;
	json_hidden(&hidden, root, 0);
	json_put(out, root, 0, &hidden);
	echoes_free(&hidden);
	json_free_secret(root);
	return 0;
}

void redact_json(struct buf *out, const char *text, size_t len)
{
	buf_append(out, NULL, 0);
	if (json_or_not(out, text, len) == -2)
		put_length(out, len, "invalid JSON");
}

/* ---- headers ---- */

/* A Location value: the URL up to its query, the query as a form, the fragment hidden. */
static void redact_location(struct buf *out, const char *v, size_t n)
{
	const char *hash = memchr(v, '#', n);
	size_t end = hash ? (size_t)(hash - v) : n;
	const char *q = memchr(v, '?', end);

	buf_append(out, v, q ? (size_t)(q - v) + 1 : end);
	if (q)
		redact_form(out, q + 1, (size_t)(v + end - q - 1));
	if (hash)
		buf_puts(out, "#" REDACTED);
}

void redact_header(struct buf *out, const char *line, size_t len)
{
	size_t n = len, name_end, v;
	const char *colon;

	buf_append(out, NULL, 0);
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	colon = memchr(line, ':', n);
	if (n == 0 || (!colon && n >= 5 && memcmp(line, "HTTP/", 5) == 0)) {
		buf_append(out, line, len); /* empty, or a status line */
		return;
	}
	/* A folded continuation of the previous header, which may be a secret one, or a line
	 * that is no header at all. */
	if (line[0] == ' ' || line[0] == '\t' || !colon) {
		buf_puts(out, REDACTED);
		buf_append(out, line + n, len - n);
		return;
	}
	name_end = (size_t)(colon - line);
	while (name_end > 0 && (line[name_end - 1] == ' ' || line[name_end - 1] == '\t'))
		name_end--;
	if (header_allowed(line, name_end)) {
		buf_append(out, line, len);
		return;
	}
	if (name_eq_ci(line, name_end, "Location")) {
		v = (size_t)(colon - line) + 1;
		while (v < n && (line[v] == ' ' || line[v] == '\t'))
			v++;
		buf_append(out, line, v);
		redact_location(out, line + v, n - v);
	} else {
		buf_append(out, line, (size_t)(colon - line) + 1);
		buf_puts(out, " " REDACTED);
	}
	buf_append(out, line + n, len - n);
}

/* ---- bodies ---- */

static int json_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the media type of a Content-Type value (without parameters) holds what. */
static int media_has(const char *ct, const char *what)
{
	size_t n = strcspn(ct, ";"), w = strlen(what), i;

	for (i = 0; i + w <= n; i++)
		if (name_eq_ci(ct + i, w, what))
			return 1;
	return 0;
}

/* The media type of ct for "<N bytes of TYPE>": its characters of RFC 6838 names only, at
 * most 64 of them; empty when there is nothing else. */
static void media_name(const char *ct, char *dst, size_t n)
{
	size_t k = 0;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	for (; *ct && k + 1 < n && k < 64; ct++) {
		char c = *ct;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("!#$&^_.+-/", c)))
			break;
		dst[k++] = c;
	}
	dst[k] = '\0';
}

enum kind { KIND_EMPTY, KIND_JSON, KIND_FORM, KIND_XML, KIND_OTHER };

static enum kind body_kind(const char *content_type, const char *text, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return KIND_EMPTY;
	if (content_type && media_has(content_type, "json"))
		return KIND_JSON;
	if (content_type && media_has(content_type, "x-www-form-urlencoded"))
		return KIND_FORM;
	while (i < len && json_ws((unsigned char)text[i]))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '['))
		return KIND_JSON;
	if (content_type && media_has(content_type, "xml"))
		return KIND_XML;
	return KIND_OTHER;
}

void redact_body(struct buf *out, const char *content_type, const char *text, size_t len)
{
	char media[65];

	buf_append(out, NULL, 0);
	switch (body_kind(content_type, text, len)) {
	case KIND_EMPTY: return;
	case KIND_JSON: redact_json(out, text, len); return;
	case KIND_FORM: redact_form(out, text, len); return;
	case KIND_XML: put_length(out, len, "XML"); return;
	case KIND_OTHER: break;
	}
	media[0] = '\0';
	if (content_type)
		media_name(content_type, media, sizeof(media));
	put_length(out, len, media[0] ? media : NULL);
}

void redact_answer(struct buf *out, const char *content_type, const char *text, size_t len,
                   const char *form, size_t form_len, const char *extra)
{
	struct buf red = BUF_INIT;

	redact_body(&red, content_type, text, len);
	redact_echoes(out, red.data, red.len, form, form_len, extra);
	buf_free(&red);
}

/* The characters tokens, keys and codes are written in: base64 and base64url, JWT dots,
 * percent-encoding, and the '=' and '&' of a form, so that "name=value" goes whole. */
static int token_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("-_.~+/=%&", c) != NULL);
}

#define TOKEN_WORD_MIN 20

/* Text with every word of TOKEN_WORD_MIN token characters or more hidden. */
static void redact_words(struct buf *out, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && token_char((unsigned char)text[j]))
			j++;
		if (j - i >= TOKEN_WORD_MIN)
			buf_puts(out, REDACTED);
		else
			buf_append(out, text + i, j - i);
		if (j < len)
			buf_putc(out, text[j]);
		i = j + 1;
	}
}

void redact_excerpt(struct buf *out, const char *content_type, const char *text, size_t len,
                    const char *form, size_t form_len, const char *extra)
{
	struct buf red = BUF_INIT;
	enum kind k = body_kind(content_type, text, len);

	buf_append(&red, NULL, 0);
	if (k == KIND_FORM)
		redact_form(&red, text, len);
	else if (k != KIND_JSON || json_or_not(&red, text, len) == -2)
		redact_words(&red, text, len); /* not JSON after all, XML or other text */
	redact_echoes(out, red.data, red.len, form, form_len, extra);
	buf_free(&red);
}
