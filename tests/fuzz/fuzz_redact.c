/* fuzz_redact.c: the --debug redaction (log_redact_json, _form, _header, _body) on arbitrary
 * bytes: never a read out of bounds (the input is not NUL-terminated), and never a secret let
 * through: in valid JSON every value under a secret key becomes "<redacted>" and all else
 * stays as it was; the same per form field, header line and XML element. log_redact_echoes:
 * a secret value the request form carried never survives in what a server said of it. */
#include <cjson/cJSON.h>
#include <string.h>

#include "oktacred/buf.h"
#include "oktacred/log.h"
#include "fuzz.h"

#define REDACTED "<redacted>"

/* log.h's lists: these must be redacted. */
static const char *const form_secrets[] = {
    "access_token", "refresh_token", "id_token",         "device_code",
    "code",         "user_code",     "client_secret",    "client_assertion",
    "token",        "password",      "WebIdentityToken", "subject_token",
};
static const char *const json_secrets[] = {"SecretAccessKey", "SessionToken", "Token"};
/* log.c redacts these too (when in doubt, redact): they may be either way. */
static const char *const also_secret[] = {
    "actor_token", "assertion",  "code_verifier", "accessToken",     "refreshToken",
    "idToken",     "deviceCode", "clientSecret",  "clientAssertion",
};
static const char *const header_secrets[] = {"Authorization", "Proxy-Authorization", "Cookie",
                                             "Set-Cookie"};

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

/* ---- JSON ---- */

static int reveals_nothing(const cJSON *v)
{
	return cJSON_IsNull(v) || cJSON_IsBool(v) || (cJSON_IsString(v) && !v->valuestring[0]);
}

/* Walks the input's tree and the output's side by side. */
static void json_same_but_secrets(const cJSON *in, const cJSON *out)
{
	const cJSON *a, *b;

	FUZZ_CHECK(out != NULL, "json: same shape");
	FUZZ_CHECK((in->type & 0xff) == (out->type & 0xff), "json: same types");
	if (!cJSON_IsObject(in) && !cJSON_IsArray(in)) {
		FUZZ_CHECK(cJSON_Compare(in, out, 1), "json: non-secret values unchanged");
		return;
	}
	for (a = in->child, b = out->child; a; a = a->next, b = b->next) {
		FUZZ_CHECK(b != NULL, "json: as many members");
		if (cJSON_IsObject(in)) {
			size_t n = strlen(a->string);
			int secret = listed(a->string, n, form_secrets, COUNT(form_secrets)) ||
			             listed(a->string, n, json_secrets, COUNT(json_secrets));
			int maybe = listed(a->string, n, also_secret, COUNT(also_secret));

			FUZZ_CHECK(strcmp(a->string, b->string) == 0, "json: keys unchanged");
			if ((secret || maybe) && !reveals_nothing(a)) {
				if (secret ||
				    (cJSON_IsString(b) && strcmp(b->valuestring, REDACTED) == 0)) {
					FUZZ_CHECK(cJSON_IsString(b) &&
					               strcmp(b->valuestring, REDACTED) == 0,
					           "json: a secret value is redacted");
					continue;
				}
			}
		}
		json_same_but_secrets(a, b);
	}
	FUZZ_CHECK(b == NULL, "json: no more members");
}

/* cJSON takes any byte up to 0x20 for white space, and raw control characters in strings;
 * RFC 8259 allows neither. Those inputs are not JSON, and the redaction may treat them as
 * malformed (redacting more), so they are not held to the JSON property. */
static int strict_json_bytes(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i] < 0x20 && d[i] != ' ' && d[i] != '\t' && d[i] != '\n' && d[i] != '\r')
			return 0;
	return 1;
}

static void check_json(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	char *copy = malloc(size + 1);
	cJSON *in, *red;

	FUZZ_CHECK(log_redact_json(&out, (const char *)data, size) == 0, "log_redact_json");
	memcpy(copy, data, size);
	copy[size] = '\0';
	in = strict_json_bytes(data, size) ? cJSON_ParseWithLengthOpts(copy, size + 1, NULL, 1)
	                                   : NULL;
	if (in) {
		red = cJSON_ParseWithLengthOpts(out.data, out.len + 1, NULL, 1);
		FUZZ_CHECK(red != NULL, "json: valid JSON stays valid");
		json_same_but_secrets(in, red);
		cJSON_Delete(red);
		cJSON_Delete(in);
	}
	free(copy);
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

static void check_form(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	const char *in = (const char *)data, *o;
	size_t i = 0, j = 0;
	char *key = malloc(size + 1);

	FUZZ_CHECK(log_redact_form(&out, in, size) == 0, "log_redact_form");
	o = out.data;
	for (;;) {
		const char *amp = memchr(in + i, '&', size - i);
		size_t seg = amp ? (size_t)(amp - (in + i)) : size - i;
		const char *eq = memchr(in + i, '=', seg);
		const char *oamp = memchr(o + j, '&', out.len - j);
		size_t oseg = oamp ? (size_t)(oamp - (o + j)) : out.len - j;
		size_t klen = eq ? (size_t)(eq - (in + i)) : 0, dk;
		int secret = 0, maybe = 0;

		FUZZ_CHECK(!amp == !oamp, "form: as many fields");
		if (eq && eq + 1 < in + i + seg) {
			dk = form_decode(in + i, klen, key);
			secret = listed(key, dk, form_secrets, COUNT(form_secrets));
			maybe = listed(key, dk, also_secret, COUNT(also_secret));
		}
		if (secret || (maybe && oseg == klen + 1 + strlen(REDACTED) &&
		               memcmp(o + j + klen + 1, REDACTED, strlen(REDACTED)) == 0)) {
			FUZZ_CHECK(oseg == klen + 1 + strlen(REDACTED) &&
			               memcmp(o + j, in + i, klen + 1) == 0 &&
			               memcmp(o + j + klen + 1, REDACTED, strlen(REDACTED)) == 0,
			           "form: a secret field's value is redacted");
		} else {
			FUZZ_CHECK(oseg == seg && memcmp(o + j, in + i, seg) == 0,
			           "form: other fields unchanged");
		}
		if (!amp)
			break;
		i += seg + 1;
		j += oseg + 1;
	}
	free(key);
	buf_free(&out);
}

/* ---- one header line ---- */

static void check_header(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	const char *in = (const char *)data, *colon;
	size_t n = size, name;

	FUZZ_CHECK(log_redact_header(&out, in, size) == 0, "log_redact_header");
	while (n > 0 && (in[n - 1] == '\r' || in[n - 1] == '\n'))
		n--;
	colon = memchr(in, ':', n);
	if (n > 0 && (in[0] == ' ' || in[0] == '\t')) {
		/* A folded continuation: it may belong to a secret header. */
		FUZZ_CHECK(out.len == strlen(REDACTED) + size - n &&
		               memcmp(out.data, REDACTED, strlen(REDACTED)) == 0,
		           "header: a continuation line is redacted");
	} else if (colon) {
		name = (size_t)(colon - in);
		while (name > 0 && (in[name - 1] == ' ' || in[name - 1] == '\t'))
			name--;
		if (listed(in, name, header_secrets, COUNT(header_secrets)))
			FUZZ_CHECK(out.len == (size_t)(colon - in) + 1 + 1 + strlen(REDACTED) +
			                          size - n &&
			               memcmp(out.data, in, (size_t)(colon - in) + 1) == 0 &&
			               memcmp(out.data + (colon - in) + 1, " " REDACTED,
			                      1 + strlen(REDACTED)) == 0,
			           "header: a secret header's value is redacted");
	}
	buf_free(&out);
}

/* ---- XML ---- */

/* The input (without '<') as the text of a secret element: it must not come out. */
static void check_xml(const uint8_t *data, size_t size)
{
	static const char open[] = "<r><ns:SessionToken a='>'>", close[] = "</ns:SessionToken></r>";
	struct buf in = BUF_INIT, out = BUF_INIT;

	if (size == 0 || memchr(data, '<', size))
		return;
	buf_puts(&in, open);
	buf_append(&in, data, size);
	buf_puts(&in, close);
	FUZZ_CHECK(log_redact_body(&out, "text/xml", in.data, in.len) == 0, "xml");
	FUZZ_CHECK(out.len == strlen(open) + strlen(REDACTED) + strlen(close) &&
	               memcmp(out.data, open, strlen(open)) == 0 &&
	               memcmp(out.data + strlen(open), REDACTED, strlen(REDACTED)) == 0,
	           "xml: a secret element's text is redacted");
	buf_free(&in);
	buf_free(&out);
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
	struct buf out = BUF_INIT;

	FUZZ_CHECK(log_redact_echoes(&out, text, tlen, in, flen, NULL) == 0, "echoes");
	FUZZ_CHECK(out.data && out.len >= (tlen ? 1 : 0), "echoes: output");
	if (!flen)
		FUZZ_CHECK(out.len == tlen && memcmp(out.data, text, tlen) == 0,
		           "echoes: nothing sent, nothing changed");
	/* A value sent under a secret key is gone from the output. Checked for values that are
	 * the same encoded and decoded, hold no '<' or '>' and are not part of "redacted" (which
	 * the replacement itself could spell). */
	for (size_t i = 0; i < flen;) {
		const char *seg = in + i, *amp = memchr(seg, '&', flen - i), *eq;
		size_t seglen = amp ? (size_t)(amp - seg) : flen - i, vlen;

		i += seglen + 1;
		eq = memchr(seg, '=', seglen);
		if (!eq || !listed(seg, (size_t)(eq - seg), form_secrets, COUNT(form_secrets)))
			continue;
		vlen = (size_t)(seg + seglen - eq - 1);
		if (vlen < 8 || has(eq + 1, vlen, "%", 1) || has(eq + 1, vlen, "+", 1) ||
		    has(eq + 1, vlen, "<", 1) || has(eq + 1, vlen, ">", 1) ||
		    has("redacted", 8, eq + 1, vlen))
			continue;
		FUZZ_CHECK(!has(out.data, out.len, eq + 1, vlen),
		           "echoes: a secret sent is hidden");
	}
	buf_free(&out);
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
	check_xml((const uint8_t *)text, size);
	check_echoes(text, size);
	for (size_t i = 0; i < COUNT(types); i++) {
		struct buf out = BUF_INIT;

		FUZZ_CHECK(log_redact_body(&out, types[i], text, size) == 0, "log_redact_body");
		FUZZ_CHECK(out.data && strlen(out.data) <= out.len, "NUL-terminated");
		buf_free(&out);
	}
	free(text);
	return 0;
}
