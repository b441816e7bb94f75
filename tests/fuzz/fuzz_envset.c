/* fuzz_envset.c: every shell's quoting round-trips. Each value is quoted, then read back by a
 * reference parser that follows the shell's own rules (POSIX sh, fish, PowerShell, dotenv as
 * envset.h documents it, JSON through json.h), and must come back byte for byte; whole
 * envset_render scripts are read back statement by statement the same way. */
#include "oktacred/json.h"
#include <string.h>

#include "oktacred/buf.h"
#include "oktacred/envset.h"
#include "fuzz.h"

#define NVARS 3
static const char *const names[NVARS] = {"OKTA_OAUTH2_ACCESS_TOKEN", "a", "_B9"};

/* ---- references ---- */

/* Strict UTF-8 (RFC 3629), written apart from envset.c's. */
static int utf8_ok(const unsigned char *s)
{
	unsigned cp;

	while (*s)
		if (fuzz_utf8_next(&s, &cp) < 0)
			return 0;
	return 1;
}

/* A POSIX shell word as `eval` reads it (XCU 2.2-2.3): '...' holds everything literally up
 * to the next ', \c outside quotes is c (\newline is removed), and a blank, newline or ;&|
 * ends the word. Anything the shell would expand or treat specially unquoted ($ ` " * ? [ ~
 * # ( ) < > =) is refused: the quoting is then not enough for some context. */
static int sh_word(const char *s, size_t n, size_t *pos, struct buf *out)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                            "0123456789_@%+,./:-";
	size_t i = *pos;
	int any = 0;

	while (i < n) {
		char c = s[i];

		if (c == '\'') {
			size_t j = i + 1;

			while (j < n && s[j] != '\'')
				j++;
			if (j >= n)
				return -1;
			buf_append(out, s + i + 1, j - i - 1);
			i = j + 1;
			any = 1;
		} else if (c == '\\') {
			if (i + 1 >= n)
				return -1;
			if (s[i + 1] != '\n') {
				buf_putc(out, s[i + 1]);
				any = 1;
			}
			i += 2;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|') {
			break;
		} else if (c && strchr(plain, c)) {
			buf_putc(out, c);
			i++;
			any = 1;
		} else {
			return -1;
		}
	}
	*pos = i;
	return any ? 0 : -1;
}

/* A fish single-quoted string: \' and \\ are escapes, any other backslash is literal,
 * newlines are literal. */
static int fish_word(const char *s, size_t n, size_t *pos, struct buf *out)
{
	size_t i = *pos;

	if (i >= n || s[i] != '\'')
		return -1;
	for (i++; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '\\' || s[i + 1] == '\'')) {
			buf_putc(out, s[++i]);
		} else if (s[i] == '\'') {
			*pos = i + 1;
			return 0;
		} else {
			buf_putc(out, s[i]);
		}
	}
	return -1;
}

/* PowerShell's single-quote-character (language spec 2.3.5.2): U+0027 and U+2018..U+201B. */
static size_t ps_quote(const char *s, size_t n, size_t i)
{
	const unsigned char *p = (const unsigned char *)s;

	if (i < n && p[i] == '\'')
		return 1;
	if (i + 2 < n && p[i] == 0xe2 && p[i + 1] == 0x80 && p[i + 2] >= 0x98 && p[i + 2] <= 0x9b)
		return 3;
	return 0;
}

/* A PowerShell verbatim string, as its tokenizer reads one: any quote character opens it; a
 * quote character followed by another stands for that second one; a lone one closes it. */
static int ps_word(const char *s, size_t n, size_t *pos, struct buf *out)
{
	size_t i = *pos, q = ps_quote(s, n, i);

	if (!q)
		return -1;
	for (i += q; i < n;) {
		q = ps_quote(s, n, i);
		if (!q) {
			buf_putc(out, s[i++]);
			continue;
		}
		if (!ps_quote(s, n, i + q)) {
			*pos = i + q;
			return 0;
		}
		i += q;
		q = ps_quote(s, n, i);
		buf_append(out, s + i, q);
		i += q;
	}
	return -1;
}

/* A dotenv double-quoted value as envset.h documents it: \\ \" \$ \r are the escapes, every
 * other byte is itself; a raw CR or $ would not survive every parser, so none may appear. */
static int dotenv_word(const char *s, size_t n, size_t *pos, struct buf *out)
{
	size_t i = *pos;

	if (i >= n || s[i] != '"')
		return -1;
	for (i++; i < n; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= n)
				return -1;
			switch (s[++i]) {
			case '\\':
			case '"':
			case '$': buf_putc(out, s[i]); break;
			case 'r': buf_putc(out, '\r'); break;
			default: return -1;
			}
		} else if (s[i] == '"') {
			*pos = i + 1;
			return 0;
		} else if (s[i] == '\r' || s[i] == '$') {
			return -1;
		} else {
			buf_putc(out, s[i]);
		}
	}
	return -1;
}

typedef int (*word_fn)(const char *s, size_t n, size_t *pos, struct buf *out);

/* The quoted form must read back as the value, with nothing left over. */
static void check_quote(int (*quote)(struct buf *, const char *), word_fn word, const char *v,
                        const char *what)
{
	struct buf q = BUF_INIT, back = BUF_INIT;
	size_t pos = 0;

	FUZZ_CHECK(quote(&q, v) == 0, what);
	FUZZ_CHECK(word(q.data, q.len, &pos, &back) == 0, what);
	FUZZ_CHECK(pos == q.len, what);
	FUZZ_CHECK(back.len == strlen(v) && (back.len == 0 || memcmp(back.data, v, back.len) == 0),
	           what);
	buf_free(&q);
	buf_free(&back);
}

/* ---- whole scripts ---- */

struct model {
	const char *value[NVARS]; /* NULL: cleared */
};

static int take(const char *s, size_t n, size_t *pos, const char *lit)
{
	size_t k = strlen(lit);

	if (n - *pos < k || memcmp(s + *pos, lit, k) != 0)
		return -1;
	*pos += k;
	return 0;
}

static int take_name(const char *s, size_t n, size_t *pos, int *var)
{
	for (int i = 0; i < NVARS; i++) {
		size_t k = strlen(names[i]), after = *pos + k;

		if (n - *pos >= k && memcmp(s + *pos, names[i], k) == 0 &&
		    (after == n || s[after] == '=' || s[after] == ' ' || s[after] == '\n')) {
			*pos = after;
			*var = i;
			return 0;
		}
	}
	return -1;
}

/* Reads a script statement by statement: set, unset, one per variable in order. */
static void check_script(const struct buf *script, size_t from, enum env_format f, int unset_all,
                         const struct model *m)
{
	const char *s = script->data + from;
	size_t n = script->len - from, pos = 0;
	static const char *const set_lit[] = {"export ", "set -gx ", "$Env:", NULL, ""};
	static const char *const eq_lit[] = {"=", " ", " = ", NULL, "="};
	static const char *const unset_lit[] = {"unset ", "set -e ", "Remove-Item Env:", NULL,
	                                        NULL};
	static const char *const unset_end[] = {"\n", "\n", " -ErrorAction SilentlyContinue\n",
	                                        NULL, NULL};
	static const word_fn words[] = {sh_word, fish_word, ps_word, NULL, dotenv_word};

	for (int i = 0; i < NVARS; i++) {
		int var = -1, set = m->value[i] && !unset_all;
		struct buf back = BUF_INIT;

		if (f == ENV_DOTENV && !set)
			continue;
		if (set) {
			FUZZ_CHECK(take(s, n, &pos, set_lit[f]) == 0, "set statement");
			FUZZ_CHECK(take_name(s, n, &pos, &var) == 0 && var == i, "name in order");
			FUZZ_CHECK(take(s, n, &pos, eq_lit[f]) == 0, "set statement");
			FUZZ_CHECK(words[f](s, n, &pos, &back) == 0, "value reads back");
			FUZZ_CHECK(back.len == strlen(m->value[i]) &&
			               (!back.len || memcmp(back.data, m->value[i], back.len) == 0),
			           "value round-trips in the script");
			FUZZ_CHECK(take(s, n, &pos, "\n") == 0, "one statement per line");
		} else {
			FUZZ_CHECK(take(s, n, &pos, unset_lit[f]) == 0, "unset statement");
			FUZZ_CHECK(take_name(s, n, &pos, &var) == 0 && var == i, "name in order");
			FUZZ_CHECK(take(s, n, &pos, unset_end[f]) == 0, "unset statement");
		}
		buf_free(&back);
	}
	FUZZ_CHECK(pos == n, "nothing else in the script");
}

static void check_json(const struct buf *script, size_t from, int unset_all, const struct model *m)
{
	struct json *root = json_parse(script->data + from, script->len - from);
	const struct json *set = json_member(root, "set");
	const struct json *unset = json_member(root, "unset");
	int nset = 0, nunset = 0;

	FUZZ_CHECK(json_is(root, JSON_OBJECT) && json_is(set, JSON_OBJECT) &&
	               json_is(unset, JSON_ARRAY),
	           "json: {\"set\": {...}, \"unset\": [...]}");
	FUZZ_CHECK(script->data[script->len - 1] == '\n', "json ends in a newline");
	for (int i = 0; i < NVARS; i++) {
		if (m->value[i] && !unset_all) {
			const struct json *v = json_member(set, names[i]);

			FUZZ_CHECK(json_is(v, JSON_STRING) && strcmp(v->str, m->value[i]) == 0,
			           "json value round-trips");
			nset++;
		} else {
			const struct json *u = json_index(unset, nunset++);

			FUZZ_CHECK(json_is(u, JSON_STRING) && strcmp(u->str, names[i]) == 0,
			           "json unset in order");
		}
	}
	FUZZ_CHECK(json_count(set) == (size_t)nset && json_count(unset) == (size_t)nunset,
	           "json holds nothing else");
	json_free(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum env_format formats[] = {ENV_SH, ENV_FISH, ENV_POWERSHELL, ENV_JSON,
	                                          ENV_DOTENV};
	struct envset e;
	struct model m;
	char *copy;
	const char *p, *end;
	int flags, all_utf8 = 1;

	if (size == 0)
		return 0;
	flags = data[0];
	/* The values: the rest of the input, split at NUL bytes. */
	copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	p = copy;
	end = copy + size - 1;
	for (int i = 0; i < NVARS; i++) {
		if (p > end) {
			m.value[i] = "";
			continue;
		}
		m.value[i] = p;
		p += strlen(p) + 1;
	}
	/* Bits 1-3 clear a variable instead. */
	for (int i = 0; i < NVARS; i++)
		if (flags & (2 << i))
			m.value[i] = NULL;

	for (int i = 0; i < NVARS; i++) {
		const char *v = m.value[i];

		if (!v)
			continue;
		check_quote(envset_quote_sh, sh_word, v, "sh");
		check_quote(envset_quote_fish, fish_word, v, "fish");
		check_quote(envset_quote_dotenv, dotenv_word, v, "dotenv");
		/* PowerShell strings are UTF-16: only UTF-8 values can survive (envset.h). */
		if (utf8_ok((const unsigned char *)v))
			check_quote(envset_quote_powershell, ps_word, v, "powershell");
		else
			all_utf8 = 0;
	}

	envset_init(&e);
	for (int i = 0; i < NVARS; i++)
		envset_put(&e, names[i], m.value[i], i == 0);
	for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
		enum env_format f = formats[k];
		int unset_all = flags & 1;
		struct buf out = BUF_INIT;
		int rc;

		buf_puts(&out, "# before\n");
		rc = envset_render(&e, f, unset_all, &out);
		if (f == ENV_JSON && !unset_all && !all_utf8) {
			FUZZ_CHECK(rc == -1 && out.len == 9,
			           "json refuses bytes that are not UTF-8");
		} else {
			FUZZ_CHECK(rc == 0, "render");
			if (f == ENV_JSON)
				check_json(&out, 9, unset_all, &m);
			else if (f != ENV_POWERSHELL || all_utf8 || unset_all)
				check_script(&out, 9, f, unset_all, &m);
		}
		buf_free(&out);
	}
	envset_free(&e);
	free(copy);
	return 0;
}
