/* json.c: a strict RFC 8259 parser, the tree, its printer; trees that held secrets are
 * wiped before they are freed. */
#include "oktacred/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/util.h"

/* ---- the tree ---- */

struct json *json_new(enum json_type type)
{
	struct json *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

static struct json *new_string_n(const char *s, size_t len)
{
	struct json *v = json_new(JSON_STRING);

	v->str = xstrndup(s, len);
	v->len = len;
	return v;
}

struct json *json_new_string(const char *s)
{
	return new_string_n(s, strlen(s));
}

struct json *json_new_number(double d)
{
	struct json *v = json_new(JSON_NUMBER);

	v->num = d;
	return v;
}

struct json *json_new_bool(int b)
{
	return json_new(b ? JSON_TRUE : JSON_FALSE);
}

void json_append(struct json *arr, struct json *item)
{
	item->next = NULL;
	if (arr->last)
		arr->last->next = item;
	else
		arr->child = item;
	arr->last = item;
}

struct json *json_set(struct json *obj, const char *key, struct json *item)
{
	free(item->key);
	item->key = xstrdup(key);
	json_append(obj, item);
	return item;
}

struct json *json_add_string(struct json *obj, const char *key, const char *value)
{
	return value ? json_set(obj, key, json_new_string(value)) : NULL;
}

struct json *json_add_number(struct json *obj, const char *key, double d)
{
	return json_set(obj, key, json_new_number(d));
}

struct json *json_add_bool(struct json *obj, const char *key, int b)
{
	return json_set(obj, key, json_new_bool(b));
}

struct json *json_add_null(struct json *obj, const char *key)
{
	return json_set(obj, key, json_new(JSON_NULL));
}

struct json *json_add_time(struct json *obj, const char *key, time_t t)
{
	char s[21];

	time_format_utc(t, s);
	return json_add_string(obj, key, s);
}

struct json *json_add_object(struct json *obj, const char *key)
{
	return json_set(obj, key, json_new(JSON_OBJECT));
}

struct json *json_add_array(struct json *obj, const char *key)
{
	return json_set(obj, key, json_new(JSON_ARRAY));
}

struct json *json_member(const struct json *obj, const char *key)
{
	struct json *it;

	if (!json_is(obj, JSON_OBJECT))
		return NULL;
	json_each (it, obj) {
		if (strcmp(it->key, key) == 0)
			return it;
	}
	return NULL;
}

size_t json_count(const struct json *v)
{
	const struct json *it;
	size_t n = 0;

	if (!json_is(v, JSON_ARRAY) && !json_is(v, JSON_OBJECT))
		return 0;
	json_each (it, v)
		n++;
	return n;
}

struct json *json_index(const struct json *v, size_t i)
{
	struct json *it;

	if (!json_is(v, JSON_ARRAY) && !json_is(v, JSON_OBJECT))
		return NULL;
	json_each (it, v) {
		if (i-- == 0)
			return it;
	}
	return NULL;
}

struct json *json_detach(struct json *obj, const char *key)
{
	struct json *it, *prev = NULL;

	if (!json_is(obj, JSON_OBJECT))
		return NULL;
	for (it = obj->child; it; prev = it, it = it->next) {
		if (strcmp(it->key, key) != 0)
			continue;
		if (prev)
			prev->next = it->next;
		else
			obj->child = it->next;
		if (obj->last == it)
			obj->last = prev;
		it->next = NULL;
		free(it->key);
		it->key = NULL;
		return it;
	}
	return NULL;
}

struct json *json_copy(const struct json *v)
{
	struct json *c = json_new(v->type), *it;

	c->num = v->num;
	if (v->str) {
		c->str = xstrndup(v->str, v->len);
		c->len = v->len;
	}
	if (v->key)
		c->key = xstrdup(v->key);
	json_each (it, v)
		json_append(c, json_copy(it));
	return c;
}

static void free_tree(struct json *v, int secret)
{
	while (v) {
		struct json *next = v->next;

		free_tree(v->child, secret);
		if (secret) {
			if (v->str)
				wipe(v->str, v->len);
			if (v->key)
				wipe(v->key, strlen(v->key));
		}
		free(v->str);
		free(v->key);
		free(v);
		v = next;
	}
}

void json_free(struct json *v)
{
	free_tree(v, 0);
}

void json_free_secret(struct json *v)
{
	free_tree(v, 1);
}

/* ---- reading members ---- */

int json_get_string(const struct json *obj, const char *key, const char **out)
{
	const struct json *it = json_member(obj, key);

	*out = NULL;
	if (!it || it->type == JSON_NULL)
		return 0;
	if (it->type != JSON_STRING)
		return -1;
	*out = it->str;
	return 1;
}

int json_get_number(const struct json *obj, const char *key, double min, double max, double *out)
{
	const struct json *it = json_member(obj, key);

	if (!it)
		return 0;
	if (it->type != JSON_NUMBER || !(it->num >= min && it->num <= max))
		return -1;
	*out = it->num;
	return 1;
}

int json_get_bool(const struct json *obj, const char *key, int *out)
{
	const struct json *it = json_member(obj, key);

	if (!it)
		return 0;
	if (!json_is_bool(it))
		return -1;
	*out = it->type == JSON_TRUE;
	return 1;
}

int json_get_time(const struct json *obj, const char *key, time_t *out)
{
	const struct json *it = json_member(obj, key);

	if (!it)
		return 0;
	if (it->type != JSON_STRING || time_parse_utc(it->str, out) < 0)
		return -1;
	return 1;
}

/* ---- parsing ---- */

struct parser {
	const unsigned char *p, *end;
	struct buf scratch; /* a string being decoded; may be a secret: buf wipes it */
};

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return -1;
	ps->p += n;
	return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | cp >> 18);
		s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_append(b, s, n);
}

/* The length of the valid UTF-8 sequence at p (a byte >= 0x80), 0 if it is not one:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned cp;

	if (*p >= 0xC2 && *p <= 0xDF) {
		n = 2;
		cp = *p & 0x1F;
	} else if (*p >= 0xE0 && *p <= 0xEF) {
		n = 3;
		cp = *p & 0x0F;
	} else if (*p >= 0xF0 && *p <= 0xF4) {
		n = 4;
		cp = *p & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

/* A string at ps->p (its opening quote), decoded into ps->scratch. */
/* 1 for a byte that ends a run of plain string text: a control character, '"', '\\',
 * or the first byte of a UTF-8 sequence (checked apart). */
static const unsigned char string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static int parse_string(struct parser *ps)
{
	buf_reset(&ps->scratch);
	buf_append(&ps->scratch, "", 0);
	ps->p++;
	for (;;) {
		const unsigned char *run = ps->p, *p = ps->p, *end = ps->end;
		unsigned cp, lo;
		size_t n;

		while (p < end && !string_stop[*p])
			p++;
		ps->p = p;
		buf_append(&ps->scratch, run, (size_t)(ps->p - run));
		if (ps->p >= ps->end || *ps->p < 0x20)
			return -1; /* unterminated, or a raw control character (NUL included) */
		if (*ps->p == '"') {
			ps->p++;
			return 0;
		}
		if (*ps->p >= 0x80) {
			if (!(n = utf8_len(ps->p, ps->end)))
				return -1;
			buf_append(&ps->scratch, ps->p, n);
			ps->p += n;
			continue;
		}
		/* A backslash. */
		if (ps->end - ps->p < 2)
			return -1;
		switch (ps->p[1]) {
		case '"': buf_putc(&ps->scratch, '"'); break;
		case '\\': buf_putc(&ps->scratch, '\\'); break;
		case '/': buf_putc(&ps->scratch, '/'); break;
		case 'b': buf_putc(&ps->scratch, '\b'); break;
		case 'f': buf_putc(&ps->scratch, '\f'); break;
		case 'n': buf_putc(&ps->scratch, '\n'); break;
		case 'r': buf_putc(&ps->scratch, '\r'); break;
		case 't': buf_putc(&ps->scratch, '\t'); break;
		case 'u':
			if (ps->end - ps->p < 6 || hex4(ps->p + 2, &cp) < 0 || cp == 0)
				return -1;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return -1; /* a low surrogate first */
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (ps->end - ps->p < 12 || ps->p[6] != '\\' || ps->p[7] != 'u' ||
				    hex4(ps->p + 8, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
					return -1; /* a high surrogate alone */
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				ps->p += 6;
			}
			put_utf8(&ps->scratch, cp);
			ps->p += 4;
			break;
		default: return -1;
		}
		ps->p += 2;
	}
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *ps, double *out)
{
	const unsigned char *s = ps->p, *p = ps->p;
	char text[64], *end;
	size_t n;

#define DIGITS(q) ((q) < ps->end && *(q) >= '0' && *(q) <= '9')
	if (p < ps->end && *p == '-')
		p++;
	if (!DIGITS(p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (DIGITS(p))
			p++;
	if (p < ps->end && *p == '.') {
		p++;
		if (!DIGITS(p))
			return -1;
		while (DIGITS(p))
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (!DIGITS(p))
			return -1;
		while (DIGITS(p))
			p++;
	}
#undef DIGITS
	n = (size_t)(p - s);
	if (n >= sizeof(text))
		return -1; /* no number we read needs 63 characters */
	memcpy(text, s, n);
	text[n] = '\0';
	/* strtod reads '.' as the decimal point: oktacred never sets LC_NUMERIC. */
	*out = strtod(text, &end);
	if (end != text + n || !isfinite(*out))
		return -1;
	ps->p = p;
	return 0;
}

static struct json *parse_value(struct parser *ps, int depth);

static struct json *parse_container(struct parser *ps, int depth, int object)
{
	struct json *v = json_new(object ? JSON_OBJECT : JSON_ARRAY);
	char close = object ? '}' : ']';

	if (depth >= JSON_MAX_DEPTH)
		goto fail;
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		struct json *item;
		char *key = NULL;

		if (object) {
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != '"' || parse_string(ps) < 0)
				goto fail;
			key = xstrndup(ps->scratch.data, ps->scratch.len);
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free_secret(key);
				goto fail;
			}
			ps->p++;
		}
		if (!(item = parse_value(ps, depth + 1))) {
			free_secret(key);
			goto fail;
		}
		item->key = key;
		json_append(v, item);
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return v;
		}
		goto fail;
	}
fail:
	json_free_secret(v);
	return NULL;
}

static struct json *parse_value(struct parser *ps, int depth)
{
	struct json *v;
	double d;

	skip_space(ps);
	if (ps->p >= ps->end)
		return NULL;
	switch (*ps->p) {
	case '{': return parse_container(ps, depth, 1);
	case '[': return parse_container(ps, depth, 0);
	case '"':
		if (parse_string(ps) < 0)
			return NULL;
		return new_string_n(ps->scratch.data, ps->scratch.len);
	case 't': return literal(ps, "true") < 0 ? NULL : json_new(JSON_TRUE);
	case 'f': return literal(ps, "false") < 0 ? NULL : json_new(JSON_FALSE);
	case 'n': return literal(ps, "null") < 0 ? NULL : json_new(JSON_NULL);
	default:
		if (parse_number(ps, &d) < 0)
			return NULL;
		v = json_new_number(d);
		return v;
	}
}

struct json *json_parse(const char *text, size_t len)
{
	struct parser ps;
	struct json *v;

	if (!text)
		return NULL;
	ps.p = (const unsigned char *)text;
	ps.end = ps.p + len;
	ps.scratch = (struct buf)BUF_INIT;
	v = parse_value(&ps, 0);
	if (v) {
		skip_space(&ps);
		if (ps.p != ps.end) {
			json_free_secret(v);
			v = NULL;
		}
	}
	buf_free(&ps.scratch);
	return v;
}

struct json *json_parse_object(const char *text, size_t len)
{
	struct json *v = json_parse(text, len);

	if (v && v->type != JSON_OBJECT) {
		json_free_secret(v);
		return NULL;
	}
	return v;
}

int json_has_nul(const char *text, size_t len)
{
	size_t i;

	if (memchr(text, '\0', len))
		return 1;
	for (i = 0; i + 6 <= len; i++) {
		size_t bs = 0;

		if (memcmp(text + i, "\\u0000", 6) != 0)
			continue;
		while (bs < i && text[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return 1;
	}
	return 0;
}

/* ---- printing ---- */

static void print_string(const char *s, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	buf_putc(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = "\\u00";

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_puts(out, "\\\""); break;
		case '\\': buf_puts(out, "\\\\"); break;
		case '\b': buf_puts(out, "\\b"); break;
		case '\f': buf_puts(out, "\\f"); break;
		case '\n': buf_puts(out, "\\n"); break;
		case '\r': buf_puts(out, "\\r"); break;
		case '\t': buf_puts(out, "\\t"); break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			buf_puts(out, esc);
		}
	}
	buf_append(out, s + run, len - run);
	buf_putc(out, '"');
}

/* The shortest of %.15g, %.16g, %.17g that reads back as d; integers as integers. */
static void print_number(double d, struct buf *out)
{
	char s[32];
	int prec;

	if (!isfinite(d)) {
		buf_puts(out, "null");
		return;
	}
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d) {
		snprintf(s, sizeof(s), "%.0f", d);
		buf_puts(out, strcmp(s, "-0") == 0 ? "0" : s);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	buf_puts(out, s);
}

static void indent(struct buf *out, int pretty, int depth)
{
	int i;

	if (!pretty)
		return;
	buf_putc(out, '\n');
	for (i = 0; i < depth; i++)
		buf_puts(out, "  ");
}

static void print_value(const struct json *v, int pretty, int depth, struct buf *out)
{
	const struct json *it;

	switch (v->type) {
	case JSON_NULL: buf_puts(out, "null"); return;
	case JSON_FALSE: buf_puts(out, "false"); return;
	case JSON_TRUE: buf_puts(out, "true"); return;
	case JSON_NUMBER: print_number(v->num, out); return;
	case JSON_STRING: print_string(v->str, v->len, out); return;
	case JSON_ARRAY:
	case JSON_OBJECT: break;
	}
	buf_putc(out, v->type == JSON_OBJECT ? '{' : '[');
	json_each (it, v) {
		if (it != v->child)
			buf_putc(out, ',');
		indent(out, pretty, depth + 1);
		if (v->type == JSON_OBJECT) {
			print_string(it->key ? it->key : "", it->key ? strlen(it->key) : 0, out);
			buf_puts(out, pretty ? ": " : ":");
		}
		print_value(it, pretty, depth + 1, out);
	}
	if (v->child)
		indent(out, pretty, depth);
	buf_putc(out, v->type == JSON_OBJECT ? '}' : ']');
}

void json_print(const struct json *v, int pretty, struct buf *out)
{
	print_value(v, pretty, 0, out);
}

void json_print_secret(const struct json *v, struct buf *out)
{
	print_value(v, 0, 0, out);
	buf_putc(out, '\n');
}
