/* fuzz_redact.c: the fail-closed redaction of redact.h (redact_json, _form, _header, _body,
 * _excerpt) on arbitrary bytes: never a read out of bounds (the input is not
 * NUL-terminated), and nothing shown that is not allowed: valid JSON stays valid with every
 * string or number under a key off the allow-list "<redacted>" and the rest unchanged;
 * invalid JSON shows only its length; a form field's value is kept only under an allowed key;
 * a header's value only for an allowed name; XML and other text only as a length.
 * redact_echoes: a secret value the request form carried never survives in what a server
 * said of it. */
#include "oktacred/json.h"
#include <stdio.h>
#include <string.h>

#include "oktacred/buf.h"
#include "oktacred/json.h"
#include "oktacred/redact.h"
#include "fuzz.h"

/* redact.h's allow-lists, and names that must never be on them. */
static const char *const json_allowed[] = {
    "token_type",
    "issued_token_type",
    "expires_in",
    "scope",
    "verification_uri",
    "interval",
    "error",
    "error_description",
    "error_uri",
    "errorCode",
    "errorSummary",
    "errorLink",
    "errorId",
    "issuer",
    "jwks_uri",
    "Version",
    "AccessKeyId",
    "Expiration",
};
static const char *const form_allowed[] = {
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
    "Action",
    "Version",
    "RoleArn",
    "RoleSessionName",
    "DurationSeconds",
};
static const char *const header_allowed[] = {
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

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int ieq(const char *a, size_t an, const char *b)
{
	size_t i;

	if (an != strlen(b))
		return 0;
	for (i = 0; i < an; i++) {
		int x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

static int listed(const char *s, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (ieq(s, n, list[i]))
			return 1;
	return 0;
}

static int listed_exact(const char *s, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && memcmp(s, list[i], n) == 0)
			return 1;
	return 0;
}

static int json_key_allowed(const char *k)
{
	size_t n = strlen(k);

	return listed_exact(k, n, json_allowed, COUNT(json_allowed)) ||
	       (n > 9 && strcmp(k + n - 9, "_endpoint") == 0) ||
	       (n > 10 && strcmp(k + n - 10, "_supported") == 0);
}

/* ---- JSON ---- */

static int reveals_nothing(const struct json *v)
{
	return json_is(v, JSON_NULL) || json_is_bool(v) || (json_is(v, JSON_STRING) && !v->str[0]);
}

static int is_redacted(const struct json *v)
{
	return json_is(v, JSON_STRING) && strcmp(v->str, REDACTED) == 0;
}

/* Two scalars of the same type and value. */
static int same_scalar(const struct json *a, const struct json *b)
{
	if (!a || !b || a->type != b->type)
		return 0;
	if (a->type == JSON_STRING)
		return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
	return a->type != JSON_NUMBER || a->num == b->num;
}

/* Walks the input's tree and the output's side by side; shown: the scalars of in may show. */
static void json_same_but_hidden(const struct json *in, const struct json *out, int shown)
{
	const struct json *a, *b;

	FUZZ_CHECK(out != NULL, "json: same shape");
	if (!json_is(in, JSON_OBJECT) && !json_is(in, JSON_ARRAY)) {
		if (reveals_nothing(in) || (shown && json_is(in, JSON_STRING)))
			FUZZ_CHECK(same_scalar(in, out), "json: shown values unchanged");
		else if (shown && json_is(in, JSON_NUMBER))
			FUZZ_CHECK(json_is(out, JSON_NUMBER) || json_is(out, JSON_NULL),
			           "json: shown numbers stay numbers");
		else
			FUZZ_CHECK(is_redacted(out),
			           "json: a value off the allow-list is redacted");
		return;
	}
	FUZZ_CHECK(in->type == out->type, "json: same containers");
	for (a = in->child, b = out->child; a; a = a->next, b = b->next) {
		int sub = shown;

		FUZZ_CHECK(b != NULL, "json: as many members");
		if (json_is(in, JSON_OBJECT)) {
			FUZZ_CHECK(strcmp(a->key, b->key) == 0, "json: keys unchanged");
			sub = json_key_allowed(a->key);
		}
		json_same_but_hidden(a, b, sub);
	}
	FUZZ_CHECK(b == NULL, "json: no more members");
}

static void check_json(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	char want[64];
	struct json *in, *red;

	redact_json(&out, (const char *)data, size);
	in = json_parse((const char *)data, size);
	if (in) {
		red = json_parse(out.data, out.len);
		FUZZ_CHECK(red != NULL, "json: valid JSON stays valid");
		json_same_but_hidden(in, red, 0);
		json_free(red);
		json_free(in);
	} else {
		snprintf(want, sizeof(want), "<%zu bytes of invalid JSON>", size);
		FUZZ_CHECK(strcmp(out.data, want) == 0, "json: invalid JSON shows only its length");
	}
	buf_free(&out);
}

/* ---- form ---- */

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoded ('+' a space); a '%' without two hex digits is itself. */
static size_t form_decode(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (s[i] == '%' && n - i >= 3 && hexv((unsigned char)s[i + 1]) >= 0 &&
		    hexv((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(hexv((unsigned char)s[i + 1]) * 16 +
			                  hexv((unsigned char)s[i + 2]));
			i += 3;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
			i++;
		}
	}
	return o;
}

static int form_key_allowed(const char *seg, size_t klen, char *key)
{
	size_t dk = form_decode(seg, klen, key);

	return listed_exact(key, dk, form_allowed, COUNT(form_allowed));
}

static void check_form(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	const char *in = (const char *)data, *o;
	size_t i = 0, j = 0;
	char *key = malloc(size + 1);

	redact_form(&out, in, size);
	o = out.data;
	for (;;) {
		const char *amp = memchr(in + i, '&', size - i);
		size_t seg = amp ? (size_t)(amp - (in + i)) : size - i;
		const char *eq = memchr(in + i, '=', seg);
		const char *oamp = memchr(o + j, '&', out.len - j);
		size_t oseg = oamp ? (size_t)(oamp - (o + j)) : out.len - j;
		size_t klen = eq ? (size_t)(eq - (in + i)) : seg;
		int allowed = form_key_allowed(in + i, klen, key);

		FUZZ_CHECK(!amp == !oamp, "form: as many fields");
		if (allowed || seg == 0 || (eq && klen + 1 == seg))
			FUZZ_CHECK(oseg == seg && memcmp(o + j, in + i, seg) == 0,
			           "form: allowed and empty fields unchanged");
		else if (eq)
			FUZZ_CHECK(oseg == klen + 1 + strlen(REDACTED) &&
			               memcmp(o + j, in + i, klen + 1) == 0 &&
			               memcmp(o + j + klen + 1, REDACTED, strlen(REDACTED)) == 0,
			           "form: the key shown, the value redacted");
		else
			FUZZ_CHECK(oseg == strlen(REDACTED) && memcmp(o + j, REDACTED, oseg) == 0,
			           "form: a lone word redacted");
		if (!amp)
			break;
		i += seg + 1;
		j += oseg + 1;
	}
	free(key);
	buf_free(&out);
}

/* ---- one header line ---- */

static int ieq_n(const char *a, size_t an, const char *b)
{
	return ieq(a, an, b);
}

static void check_header(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	const char *in = (const char *)data, *colon;
	size_t n = size, name, tail;

	redact_header(&out, in, size);
	while (n > 0 && (in[n - 1] == '\r' || in[n - 1] == '\n'))
		n--;
	tail = size - n;
	FUZZ_CHECK(out.len >= tail && memcmp(out.data + out.len - tail, in + n, tail) == 0,
	           "header: line end kept");
	colon = memchr(in, ':', n);
	if (n == 0 || (!colon && n >= 5 && memcmp(in, "HTTP/", 5) == 0)) {
		FUZZ_CHECK(out.len == size && memcmp(out.data, in, size) == 0,
		           "header: status line kept");
	} else if (in[0] == ' ' || in[0] == '\t' || !colon) {
		FUZZ_CHECK(out.len == strlen(REDACTED) + tail &&
		               memcmp(out.data, REDACTED, strlen(REDACTED)) == 0,
		           "header: a continuation or a line that is no header is redacted");
	} else {
		name = (size_t)(colon - in);
		while (name > 0 && (in[name - 1] == ' ' || in[name - 1] == '\t'))
			name--;
		if (ieq_n(in, name, "Location"))
			FUZZ_CHECK(memcmp(out.data, in, (size_t)(colon - in) + 1) == 0,
			           "header: Location's name kept");
		else if (listed(in, name, header_allowed, COUNT(header_allowed)))
			FUZZ_CHECK(out.len == size && memcmp(out.data, in, size) == 0,
			           "header: an allowed header kept");
		else
			FUZZ_CHECK(out.len ==
			                   (size_t)(colon - in) + 1 + 1 + strlen(REDACTED) + tail &&
			               memcmp(out.data, in, (size_t)(colon - in) + 1) == 0 &&
			               memcmp(out.data + (colon - in) + 1, " " REDACTED,
			                      1 + strlen(REDACTED)) == 0,
			           "header: any other header's value is redacted");
	}
	buf_free(&out);
}

/* ---- bodies: XML and text only as a length ---- */

static void check_body(const char *text, size_t size)
{
	static const char *const types[] = {"text/xml", "application/soap+xml",
	                                    "text/html; charset=utf-8", "text/plain", NULL};
	size_t i = 0;
	char want[96];

	while (i < size &&
	       (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (size == 0 || (i < size && (text[i] == '{' || text[i] == '[')))
		return; /* empty, or JSON: check_json's */
	for (size_t t = 0; t < COUNT(types); t++) {
		struct buf out = BUF_INIT;
		const char *ct = types[t];

		redact_body(&out, ct, text, size);
		if (!ct)
			snprintf(want, sizeof(want), "<%zu bytes>", size);
		else if (strstr(ct, "xml"))
			snprintf(want, sizeof(want), "<%zu bytes of XML>", size);
		else
			snprintf(want, sizeof(want), "<%zu bytes of %.*s>", size,
			         (int)strcspn(ct, ";"), ct);
		FUZZ_CHECK(strcmp(out.data, want) == 0,
		           "body: XML and text show only their length");
		buf_free(&out);
	}
}

/* ---- echoes: the first line is a request form, the rest what a server said of it ---- */

static int has(const char *s, size_t n, const char *what, size_t wn)
{
	for (size_t i = 0; wn && i + wn <= n; i++)
		if (memcmp(s + i, what, wn) == 0)
			return 1;
	return 0;
}

static void check_echoes(const char *in, size_t size)
{
	const char *nl = memchr(in, '\n', size);
	size_t flen = nl ? (size_t)(nl - in) : 0, tlen = nl ? size - flen - 1 : size;
	const char *text = nl ? nl + 1 : in;
	struct buf out = BUF_INIT, ex = BUF_INIT;
	char *key = malloc(size + 1);

	redact_echoes(&out, text, tlen, in, flen, NULL);
	redact_excerpt(&ex, "text/plain", text, tlen, in, flen, NULL);
	FUZZ_CHECK(out.data && out.len >= (tlen ? 1 : 0), "echoes: output");
	if (!flen)
		FUZZ_CHECK(out.len == tlen && memcmp(out.data, text, tlen) == 0,
		           "echoes: nothing sent, nothing changed");
	/* A value sent under a key off the allow-list is gone from the output and the excerpt.
	 * Checked for values that are the same encoded and decoded, hold no '<' or '>' and are
	 * not part of "redacted" (which the replacement itself could spell). */
	for (size_t i = 0; i < flen;) {
		const char *seg = in + i, *amp = memchr(seg, '&', flen - i), *eq;
		size_t seglen = amp ? (size_t)(amp - seg) : flen - i, vlen;

		i += seglen + 1;
		eq = memchr(seg, '=', seglen);
		if (!eq || form_key_allowed(seg, (size_t)(eq - seg), key))
			continue;
		vlen = (size_t)(seg + seglen - eq - 1);
		if (vlen < 8 || has(eq + 1, vlen, "%", 1) || has(eq + 1, vlen, "+", 1) ||
		    has(eq + 1, vlen, "<", 1) || has(eq + 1, vlen, ">", 1) ||
		    has("redacted", 8, eq + 1, vlen))
			continue;
		FUZZ_CHECK(!has(out.data, out.len, eq + 1, vlen),
		           "echoes: a secret sent is hidden");
		FUZZ_CHECK(!has(ex.data, ex.len, eq + 1, vlen), "excerpt: a secret sent is hidden");
	}
	free(key);
	buf_free(&out);
	buf_free(&ex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {NULL,
	                                    "application/json",
	                                    "application/problem+json; charset=utf-8",
	                                    "text/xml",
	                                    "application/x-www-form-urlencoded",
	                                    "text/html; charset=utf-8",
	                                    "text/plain"};
	/* An exactly sized copy, so that ASan sees any read past the end. */
	char *text = malloc(size ? size : 1);

	memcpy(text, data, size);
	check_json((const uint8_t *)text, size);
	check_form((const uint8_t *)text, size);
	check_header((const uint8_t *)text, size);
	check_body(text, size);
	check_echoes(text, size);
	for (size_t i = 0; i < COUNT(types); i++) {
		struct buf out = BUF_INIT;

		redact_body(&out, types[i], text, size);
		FUZZ_CHECK(out.data && strlen(out.data) <= out.len, "NUL-terminated");
		buf_free(&out);
		redact_excerpt(&out, types[i], text, size, NULL, 0, NULL);
		FUZZ_CHECK(out.data && strlen(out.data) <= out.len, "NUL-terminated");
		buf_free(&out);
	}
	free(text);
	return 0;
}
