/* envset.c: the set/clear model of a child's environment, applied with setenv or printed
 * for eval in each shell's own quoting, so that every value comes back byte for byte. */
#include "oktacred/envset.h"

#include <stdlib.h>
#include <string.h>

#include "oktacred/util.h"

void envset_init(struct envset *e)
{
	e->vars = NULL;
	e->n = 0;
}

static struct envvar *envset_find(const struct envset *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->vars[i].name, name) == 0)
			return &e->vars[i];
	return NULL;
}

void envset_put(struct envset *e, const char *name, const char *value, int secret)
{
	struct envvar *v = envset_find(e, name);

	if (v) {
		/* Keeps its first position: the order is that of first mention. */
		free_secret(v->value);
	} else {
		e->vars = xrealloc(e->vars, (e->n + 1) * sizeof(*e->vars));
		v = &e->vars[e->n++];
		v->name = xstrdup(name);
	}
	v->value = xstrdup(value);
	v->secret = secret;
}

void envset_free(struct envset *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->vars[i].name);
		/* Every value is wiped, not only those marked secret: it costs nothing and a
		 * caller may forget the flag. */
		free_secret(e->vars[i].value);
	}
	free(e->vars);
	envset_init(e);
}

int envset_parse_format(const char *s, enum env_format *out)
{
	static const struct {
		const char *name;
		enum env_format f;
	} names[] = {
	    {"sh", ENV_SH},
	    {"bash", ENV_SH},
	    {"zsh", ENV_SH},
	    {"fish", ENV_FISH},
	    {"powershell", ENV_POWERSHELL},
	    {"pwsh", ENV_POWERSHELL},
	    {"json", ENV_JSON},
	    {"dotenv", ENV_DOTENV},
	};
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -1;
}

/* [A-Za-z_][A-Za-z0-9_]*: the one shape every shell accepts unquoted as a name, so names
 * are never quoted and a bad one is refused rather than printed. */
static int name_valid(const char *s)
{
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
 * Returns the length of the sequence at s, or 0 when it is not valid. */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

/* How a quoting writes the character at s: NULL when as it is, else what stands for it
 * (in tmp when it is made up) with *len set to the bytes it replaces. */
typedef const char *escape_fn(const char *s, char tmp[8], size_t *len);

/* value between two quote characters, each character escaped as esc says; runs of
 * plain bytes are copied in one go. */
static int quote_with(struct buf *out, const char *value, char quote, escape_fn *esc)
{
	size_t i = 0, start = 0, len;
	char tmp[8];

	if (!value)
		return -1;
	buf_putc(out, quote);
	while (value[i]) {
		const char *e = esc(value + i, tmp, &len);

		if (!e) {
			i++;
			continue;
		}
		buf_append(out, value + start, i - start);
		buf_puts(out, e);
		i += len;
		start = i;
	}
	buf_append(out, value + start, i - start);
	buf_putc(out, quote);
	return 0;
}

/* POSIX sh single quotes hold every byte literally except the quote itself, which cannot
 * be escaped inside them: close, write \', reopen. Nothing is expanded inside, not even
 * `!` in an interactive bash or zsh (history expansion skips single quotes). */
static const char *escape_sh(const char *s, char tmp[8], size_t *len)
{
	(void)tmp;
	*len = 1;
	return *s == '\'' ? "'\\''" : NULL;
}

int envset_quote_sh(struct buf *out, const char *value)
{
	return quote_with(out, value, '\'', escape_sh);
}

/* fish single quotes: \' and \\ are the only escapes; any other backslash is literal, which
 * is why every backslash is doubled (a value ending in one would otherwise escape the
 * closing quote). Newlines are literal inside; read the output with `| source`, not
 * `eval (...)`, which splits command output at newlines. */
static const char *escape_fish(const char *s, char tmp[8], size_t *len)
{
	(void)tmp;
	*len = 1;
	return *s == '\'' ? "\\'" : *s == '\\' ? "\\\\" : NULL;
}

int envset_quote_fish(struct buf *out, const char *value)
{
	return quote_with(out, value, '\'', escape_fish);
}

/* PowerShell verbatim strings: nothing is expanded ($, backtick, " are plain); a quote
 * character is written twice. The language spec (2.3.5.2, single-quote-character) counts
 * U+2018..U+201B as well as U+0027: any of them ends a verbatim string unless doubled.
 * Bytes that are not UTF-8 go out as they are; PowerShell strings are UTF-16 and cannot
 * hold them (see envset.h). */
static const char *escape_powershell(const char *s, char tmp[8], size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] == '\'')
		*len = 1;
	else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x98 && p[2] <= 0x9b)
		*len = 3;
	else
		return NULL;
	memcpy(tmp, s, *len);
	memcpy(tmp + *len, s, *len);
	tmp[2 * *len] = '\0';
	return tmp;
}

int envset_quote_powershell(struct buf *out, const char *value)
{
	return quote_with(out, value, '\'', escape_powershell);
}

/* dotenv has no standard; the escaping is the one that round-trips in the most parsers:
 * inside double quotes, \ " $ and CR are escaped (\\ \" \$ \r); every other byte,
 * newline and tab included, is written as is.
 *   - docker compose v2 (compose-go dotenv: `env_file:`, `--env-file`): every value.
 *     (Not `docker run --env-file`, which takes each line literally, quotes and all.)
 *   - systemd EnvironmentFile=: every value without CR (systemd keeps \r as two bytes,
 *     but reads a raw CR, newline or tab inside quotes literally; \n or \t would not
 *     round-trip, which is why newline and tab are not escaped) and with valid UTF-8.
 *   - python-dotenv: values without $ (it keeps \$ as two bytes, and would expand ${X}
 *     unescaped), not ending in a backslash (its regex reads \\" as an escaped quote), with
 *     valid UTF-8 (it reads text; it would also turn a raw CR into a newline: hence \r).
 *   - Node's dotenv: values without \ " $ (it only decodes \n and \r).
 * Not shell syntax: a shell sourcing it would run `...`; use the sh format for eval. */
static const char *escape_dotenv(const char *s, char tmp[8], size_t *len)
{
	(void)tmp;
	*len = 1;
	switch (*s) {
	case '\\': return "\\\\";
	case '"': return "\\\"";
	case '$': return "\\$";
	case '\r': return "\\r";
	default: return NULL;
	}
}

int envset_quote_dotenv(struct buf *out, const char *value)
{
	return quote_with(out, value, '"', escape_dotenv);
}

/* A JSON string (RFC 8259) of valid UTF-8: " and \ escaped, control characters and DEL
 * as \u00XX; everything else, non-ASCII included, as is. The caller checks the UTF-8. */
static const char *escape_json(const char *s, char tmp[8], size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = (unsigned char)*s;

	*len = 1;
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c >= 0x20 && c != 0x7f)
		return NULL;
	memcpy(tmp, "\\u00", 4);
	tmp[4] = hex[c >> 4];
	tmp[5] = hex[c & 0xf];
	tmp[6] = '\0';
	return tmp;
}

static void quote_json(struct buf *out, const char *value)
{
	quote_with(out, value, '"', escape_json);
}

/* The names of the variables the set clears (with unset_all: all of them), or of those
 * it sets (then "name": value), as JSON members. */
static void render_json_names(const struct envset *e, int unset_all, int set, struct buf *out)
{
	const char *sep = "";
	size_t i;

	for (i = 0; i < e->n; i++) {
		const struct envvar *v = &e->vars[i];

		if ((v->value && !unset_all) != set)
			continue;
		buf_puts(out, sep);
		quote_json(out, v->name);
		if (set) {
			buf_puts(out, ": ");
			quote_json(out, v->value);
		}
		sep = ", ";
	}
}

static void render_json(const struct envset *e, int unset_all, struct buf *out)
{
	buf_puts(out, "{\"set\": {");
	render_json_names(e, unset_all, 1, out);
	buf_puts(out, "}, \"unset\": [");
	render_json_names(e, unset_all, 0, out);
	buf_puts(out, "]}\n");
}

/* Each shell's statements: set is before, the name, between, the quoted value; unset
 * (NULL: the format cannot say "remove") is before, the name, after. */
static const struct env_syntax {
	const char *set_before, *set_between;
	int (*quote)(struct buf *out, const char *value);
	const char *unset_before, *unset_after;
} syntaxes[] = {
    [ENV_SH] = {"export ", "=", envset_quote_sh, "unset ", ""},
    [ENV_FISH] = {"set -gx ", " ", envset_quote_fish, "set -e ", ""},
    [ENV_POWERSHELL] = {"$Env:", " = ", envset_quote_powershell,
                        "Remove-Item Env:", " -ErrorAction SilentlyContinue"},
    [ENV_DOTENV] = {"", "=", envset_quote_dotenv, NULL, NULL},
};

/* One variable, one statement, each ending in a newline (inside the quotes, a value's own
 * newlines are part of it). */
static void render_var(const struct envvar *v, const struct env_syntax *syn, int unset_all,
                       struct buf *out)
{
	if (v->value && !unset_all) {
		buf_puts(out, syn->set_before);
		buf_puts(out, v->name);
		buf_puts(out, syn->set_between);
		syn->quote(out, v->value);
	} else if (syn->unset_before) {
		buf_puts(out, syn->unset_before);
		buf_puts(out, v->name);
		buf_puts(out, syn->unset_after);
	} else {
		return;
	}
	buf_putc(out, '\n');
}

/* Everything that can refuse the set is checked before a byte is written. */
static int render_check(const struct envset *e, enum env_format f, int unset_all)
{
	size_t i;

	if (f != ENV_SH && f != ENV_FISH && f != ENV_POWERSHELL && f != ENV_JSON && f != ENV_DOTENV)
		return -1;
	for (i = 0; i < e->n; i++) {
		const struct envvar *v = &e->vars[i];

		if (!name_valid(v->name))
			return -1;
		/* JSON strings are Unicode: a byte that is not UTF-8 has no faithful form. */
		if (f == ENV_JSON && !unset_all && v->value && !utf8_valid(v->value))
			return -1;
	}
	return 0;
}

int envset_render(const struct envset *e, enum env_format f, int unset_all, struct buf *out)
{
	size_t i;

	if (render_check(e, f, unset_all) < 0)
		return -1;
	if (f == ENV_JSON)
		render_json(e, unset_all, out);
	else
		for (i = 0; i < e->n; i++)
			render_var(&e->vars[i], &syntaxes[f], unset_all, out);
	return 0;
}

int envset_apply(const struct envset *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!name_valid(e->vars[i].name))
			return -1;
	for (i = 0; i < e->n; i++) {
		const struct envvar *v = &e->vars[i];

		if (v->value ? setenv(v->name, v->value, 1) : unsetenv(v->name))
			return -1;
	}
	return 0;
}
