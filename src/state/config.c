/* config.c: the INI configuration (DESIGN.md section 3) read into structs and validated,
 * every error as "FILE:LINE: message".
 *
 * The file is read by this file's own small lexer, line by line: a BOM, CRs, blank lines,
 * comments (';' or '#' first on a line, or ';' after a blank), "[section NAME]" headers and
 * "key = value" (or "key: value") lines; a line that is none of these is an error at its
 * line. No library: libinih, which earlier versions fed through a normalising reader, has
 * a fixed line buffer (200 bytes in Debian's build: a longer line, such as a PEM key
 * written inline, was split and shifted every later line number), truncates section names
 * at 49 bytes, reads indented lines as continuations and reports no line numbers to the
 * handler, so the reader did all the lexing anyway. One lexer, with exact line numbers.
 *
 * This file knows the sections but no kind. A [provider] or [identity] section's lines
 * are kept until the section ends; then its kind is looked up in the registry
 * (config_provider_kinds, config_identity_kinds), and each line is checked, in order,
 * against the keys the section type has (config_provider_keys, config_identity_keys) and
 * the kind's own, and handed to the key's setter; required keys, one-of groups and
 * defaults follow, then the kind's check. References between sections are checked when
 * the file has been read. Names are found through a hash index: the whole parse is linear.
 * _XOPEN_SOURCE for realpath(3): config_file_set replaces a linked file where the link
 * points.
 */
#define _XOPEN_SOURCE 700

#include "oktacred/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/envset.h"
#include "oktacred/http.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define CONFIG_MAX_SIZE (1024 * 1024)
#define NAME_MAX_LEN    64

/* SEC_SKIP: the lines under a section header that was refused (config validate reads on). */
enum section_type { SEC_PROVIDER = 0, SEC_IDENTITY = 1, SEC_DEFAULTS, SEC_NONE, SEC_SKIP };

/* What provider_cfg and identity_cfg begin with. */
struct section_head {
	char *name;
	const struct config_kind *kind;
	void *kind_cfg;
};

_Static_assert(offsetof(struct provider_cfg, name) == offsetof(struct section_head, name) &&
                   offsetof(struct provider_cfg, kind) == offsetof(struct section_head, kind) &&
                   offsetof(struct provider_cfg, kind_cfg) ==
                       offsetof(struct section_head, kind_cfg) &&
                   offsetof(struct identity_cfg, name) == offsetof(struct section_head, name) &&
                   offsetof(struct identity_cfg, kind) == offsetof(struct section_head, kind) &&
                   offsetof(struct identity_cfg, kind_cfg) ==
                       offsetof(struct section_head, kind_cfg),
               "provider_cfg and identity_cfg must begin like section_head");

/* An identity's provider: a key of the section type, not of a kind. */
static int set_provider_name(struct config_ctx *c, const struct config_key *k, void *obj,
                             const char *v);

static const struct config_key identity_own_keys[] = {
    {"provider", set_provider_name, offsetof(struct identity_cfg, provider_name),
     CK_COMMON | CK_REQUIRED | CK_STRING, NULL, NULL, 0, 0},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};
static const struct config_key no_keys[] = {{NULL, NULL, 0, 0, NULL, NULL, 0, 0}};

/* The two kinded section types, described once. */
struct section_desc {
	const char *word;   /* "provider" */
	const char *plural; /* "providers" */
	const char *a_word; /* "a provider" */
	size_t size;
	size_t file_off, line_off;
	const struct config_key *own;    /* keys the reader handles besides kind */
	const struct config_key *common; /* the registry's keys of every kind */
	const struct config_kind *const *kinds;
};

static const struct section_desc sections[2] = {
    [SEC_PROVIDER] = {"provider", "providers", "a provider", sizeof(struct provider_cfg),
                      offsetof(struct provider_cfg, file), offsetof(struct provider_cfg, line),
                      no_keys, config_provider_keys, config_provider_kinds},
    [SEC_IDENTITY] = {"identity", "identities", "an identity", sizeof(struct identity_cfg),
                      offsetof(struct identity_cfg, file), offsetof(struct identity_cfg, line),
                      identity_own_keys, config_identity_keys, config_identity_kinds},
};

/* A key line of the section being read, kept until the section ends. */
struct entry {
	const char *key;
	const char *raw;
	int line;
};

/* A key a section set: for required keys, groups and config_key_line(). */
struct seen_key {
	const char *name;
	int line;
	int empty;
};

enum section_state { UNCHECKED, KEYS_SET, CHECKED, BROKEN };

struct section_meta {
	size_t first, n;       /* its key lines: entries[first .. first + n) */
	struct seen_key *keys; /* the keys it set */
	size_t nkeys;
	enum section_state state;
	okc_err *err; /* BROKEN: why */
};

/* What config.c keeps of a loaded file: its text (the entries point into it), the key
 * lines of every section, what is checked, and the names. */
struct config_private {
	char *data;
	size_t len;
	struct entry *entries;
	size_t nentries, entries_cap;
	struct section_meta *meta[2]; /* parallel to providers / identities */
	size_t cap[2];
	int defaults_identity_line;
	const char *secret_key;          /* a secret written in the file itself: which, or NULL */
	struct config_warning *warnings; /* by line */
	size_t nwarnings;
	/* config_load_all: every error, by line (collect set), and the file's mode. */
	int collect;
	struct config_error *errors;
	size_t nerrors;
	unsigned mode;
	/* names to indexes: open addressing, slots hold index + 1 */
	size_t icap[2];
	size_t icount[2];
	uint32_t *slot[2];
};

struct config_ctx {
	struct config *cfg;
	const char *file;
	okc_err *err;
	int failed;
	int err_line;
	int lineno;      /* the line being handled */
	const char *raw; /* the current key's value as written */
	struct config_private *priv;
	/* the section being read or checked */
	enum section_type sec;
	size_t sec_idx;
	const struct entry *entries; /* its key lines */
	size_t nentries;
	int defaults_line;
	int hint_ok;    /* the last failure was kept: a hint may follow it */
	long collected; /* collecting: the index of the last error, + 1 (0: none) */
};

/* ---- messages ---- */

/* config_load_all: each error kept, in the order of the file (a message said twice, as
 * when two checks meet the same line, is kept once). */
static void collect_error(struct config_ctx *c, int line, const char *msg)
{
	struct config_private *pv = c->priv;
	char *text = xasprintf("%s:%d: %s", c->file, line, msg);
	size_t i;

	for (i = 0; i < pv->nerrors; i++) {
		if (strcmp(pv->errors[i].text, text) == 0) {
			free(text);
			return;
		}
	}
	if (pv->nerrors % 8 == 0)
		pv->errors = xrealloc(pv->errors, (pv->nerrors + 8) * sizeof(*pv->errors));
	for (i = pv->nerrors; i > 0 && pv->errors[i - 1].line > line; i--)
		pv->errors[i] = pv->errors[i - 1];
	pv->errors[i].line = line;
	pv->errors[i].text = text;
	pv->errors[i].hint = NULL;
	pv->nerrors++;
	c->collected = (long)i + 1;
}

size_t config_errors(const struct config *cfg, const struct config_error **out)
{
	*out = cfg && cfg->priv ? cfg->priv->errors : NULL;
	return cfg && cfg->priv ? cfg->priv->nerrors : 0;
}

static int vfail_at(struct config_ctx *c, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static int vfail_at(struct config_ctx *c, int line, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	c->collected = 0;
	if (c->priv && c->priv->collect)
		collect_error(c, line, msg);
	/* Of several errors, the one on the lowest line: the first a reader meets. */
	c->hint_ok = 0;
	if (c->failed && c->err_line <= line)
		return -1;
	okc_fail(c->err, OKC_EXIT_USAGE, "%s:%d: %s", c->file, line, msg);
	c->failed = 1;
	c->err_line = line;
	c->hint_ok = 1;
	return -1;
}

int config_fail_at(struct config_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(c, line, fmt, ap);
	va_end(ap);
	return rc;
}

int config_fail(struct config_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(c, c->lineno, fmt, ap);
	va_end(ap);
	return rc;
}

static void *section_at(const struct config *cfg, int t, size_t i);

static void vwarn_at(struct config_ctx *c, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vwarn_at(struct config_ctx *c, int line, const char *fmt, va_list ap)
{
	struct config_private *pv = c->priv;
	char msg[768];
	size_t i;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (pv->nwarnings % 8 == 0)
		pv->warnings = xrealloc(pv->warnings, (pv->nwarnings + 8) * sizeof(*pv->warnings));
	/* In the order of the file: a section's warnings come when it is checked. */
	for (i = pv->nwarnings; i > 0 && pv->warnings[i - 1].line > line; i--)
		pv->warnings[i] = pv->warnings[i - 1];
	pv->warnings[i].section = c->sec == SEC_PROVIDER || c->sec == SEC_IDENTITY
	                              ? section_at(c->cfg, c->sec, c->sec_idx)
	                              : NULL;
	pv->warnings[i].line = line;
	pv->warnings[i].text = xasprintf("%s:%d: %s", c->file, line, msg);
	pv->nwarnings++;
}

void config_warn_at(struct config_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_at(c, line, fmt, ap);
	va_end(ap);
}

void config_warn(struct config_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_at(c, c->lineno, fmt, ap);
	va_end(ap);
}

size_t config_warnings(const struct config *cfg, const struct config_warning **out)
{
	*out = cfg && cfg->priv ? cfg->priv->warnings : NULL;
	return cfg && cfg->priv ? cfg->priv->nwarnings : 0;
}

void config_hint(struct config_ctx *c, const char *fmt, ...)
{
	char msg[sizeof(c->err->hint)];
	va_list ap;

	if (!c->hint_ok && !c->collected)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->collected && !c->priv->errors[c->collected - 1].hint)
		c->priv->errors[c->collected - 1].hint = xstrdup(msg);
	if (c->hint_ok)
		okc_hint(c->err, "%s", msg);
}

const char *config_raw(const struct config_ctx *c)
{
	return c->raw ? c->raw : "";
}

void config_secret_in_file(struct config_ctx *c, const char *what)
{
	if (!c->priv->secret_key)
		c->priv->secret_key = what;
}

#define fail_here(c, ...) config_fail((c), __VA_ARGS__)
#define SHOW(s, tmp)      CONFIG_SHOW((s), (tmp))

/* A string from the file made safe to print in a message: control and non-ASCII bytes as
 * '?', at most 64 characters. */
const char *config_shown(const char *s, size_t n, char out[80])
{
	size_t i, o = 0;

	for (i = 0; i < n && s[i] && o < 64; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n && s[i]) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* A path quoted for a "run: ..." hint when the shell would split or expand it (the one sh
 * quoter: envset's). */
static const char *shell_quoted(const char *s, char *out, size_t outlen)
{
	struct buf b = BUF_INIT;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	                    "/._-+,:@%=") == strlen(s))
		return s;
	if (envset_quote_sh(&b, s) < 0 || b.len >= outlen) {
		buf_free(&b);
		return s;
	}
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	buf_free(&b);
	return out;
}

/* ---- small validators ---- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int valid_name(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static int valid_env_name(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || (!isalpha((unsigned char)s[0]) && s[0] != '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int has_space_or_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/*
 * An http(s) URL under http.c's policy (the one every request meets), and the
 * configuration's own rules: no query or fragment; origin_only: scheme://host[:port] with
 * at most trailing slashes, which are dropped. Returns a copy with scheme and host in
 * lower case, or NULL with *why set.
 */
static char *check_url(const char *url, int origin_only, const char **why)
{
	struct http_url u;
	char *out;

	if (http_url_check(url, &u, why) < 0)
		return NULL;
	if (strpbrk(u.rest, "?#")) {
		*why = "must not have a query or fragment";
		return NULL;
	}
	if (origin_only && u.rest[strspn(u.rest, "/")] != '\0') {
		*why = "must be scheme://host[:port] without a path (a custom authorization "
		       "server is set with authorization_server)";
		return NULL;
	}
	out = xstrdup(url);
	for (size_t i = 0; i < (size_t)(u.rest - url); i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	if (origin_only)
		out[u.rest - url] = '\0';
	return out;
}

/* ---- ${VAR} expansion ---- */

/* Expands ${NAME} from the environment, "$$" to "$"; any other '$' is literal. The result
 * is not expanded again. */
static int expand_vars(struct config_ctx *ctx, const char *raw, char **out)
{
	struct buf b = BUF_INIT;
	const char *p = raw;
	char tmp[80];
	if (!strchr(raw, '$')) {
		*out = xstrdup(raw);
		return 0;
	}

	while (*p) {
		if (p[0] == '$' && p[1] == '$') {
			buf_putc(&b, '$');
			p += 2;
		} else if (p[0] == '$' && p[1] == '{') {
			const char *name = p + 2, *close = strchr(name, '}');
			const char *val;
			char *var;

			if (!close) {
				buf_free(&b);
				fail_here(ctx, "unterminated ${ (no closing '}')");
				config_hint(ctx, "write $$ for a literal $");
				return -1;
			}
			if (!valid_env_name(name, (size_t)(close - name))) {
				buf_free(&b);
				return fail_here(ctx, "${%s} is not a valid variable name",
				                 config_shown(name, (size_t)(close - name), tmp));
			}
			var = xstrndup(name, (size_t)(close - name));
			val = getenv(var);
			if (!val) {
				buf_free(&b);
				fail_here(ctx, "${%s} is not set", var);
				config_hint(
				    ctx, "set %s in the environment, or write $$ for a literal $",
				    var);
				free(var);
				return -1;
			}
			free(var);
			buf_puts(&b, val);
			p = close + 1;
		} else {
			buf_putc(&b, *p++);
		}
	}
	*out = buf_detach(&b);
	return 0;
}

/* Whether a raw value has text of its own besides ${NAME} references, i.e. whether a
 * secret in it is written in the file. */
int config_raw_has_text(const struct config_ctx *c)
{
	const char *p = config_raw(c);

	while (*p) {
		if (p[0] == '$' && p[1] == '{' && strchr(p, '}'))
			p = strchr(p, '}') + 1;
		else if (isspace((unsigned char)*p))
			p++;
		else
			return 1;
	}
	return 0;
}

/* ---- setters for common value types ---- */

#define FIELD(obj, k, type) ((type *)(void *)((char *)(obj) + (k)->off))

int config_is_env_name(const char *s)
{
	return valid_env_name(s, strlen(s));
}

int config_has_scope(const char *scopes, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = scopes; p && *p;) {
		size_t len = strcspn(p, " ");

		if (len == n && memcmp(p, want, n) == 0)
			return 1;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

int config_set_word(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	if (has_space_or_control(v))
		return fail_here(c, "%s must not contain spaces", k->name);
	*FIELD(obj, k, char *) = xstrdup(v);
	return 0;
}

static int set_url(struct config_ctx *c, const struct config_key *k, void *obj, const char *v,
                   int origin_only)
{
	const char *why = NULL;
	char tmp[80];
	char *url = check_url(v, origin_only, &why);

	if (!url)
		return fail_here(c, "%s \"%s\" %s", k->name, SHOW(v, tmp), why);
	*FIELD(obj, k, char *) = url;
	return 0;
}

int config_set_url(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	return set_url(c, k, obj, v, 0);
}

int config_set_origin(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	return set_url(c, k, obj, v, 1);
}

/* A path with ~ expanded, which must then be absolute: a relative one would depend on the
 * directory oktacred happens to run in. */
int config_set_path(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	char tmp[80], *out = NULL;

	if (paths_expand_home(v, &out, c->err) < 0) {
		char msg[sizeof(c->err->msg)];

		memcpy(msg, c->err->msg, sizeof(msg));
		return fail_here(c, "%s: %s", k->name, msg);
	}
	if (out[0] != '/') {
		free(out);
		if ((k->flags & CK_SECRET) == CK_SECRET)
			return fail_here(c, "%s must be an absolute path or start with ~/",
			                 k->name);
		return fail_here(c, "%s \"%s\" must be an absolute path or start with ~/", k->name,
		                 SHOW(v, tmp));
	}
	*FIELD(obj, k, char *) = out;
	return 0;
}

/* "15m", "12h", "90s": a bound for a message. */
static void duration_text(long s, char out[24])
{
	if (s >= 86400 && s % 86400 == 0)
		snprintf(out, 24, "%ldd", s / 86400);
	else if (s >= 3600 && s % 3600 == 0)
		snprintf(out, 24, "%ldh", s / 3600);
	else if (s >= 60 && s % 60 == 0)
		snprintf(out, 24, "%ldm", s / 60);
	else
		snprintf(out, 24, "%lds", s);
}

int config_set_duration(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	char tmp[80], lo[24], hi[24];
	long d;

	if (parse_duration(v, &d) < 0)
		return fail_here(c, "%s \"%s\" is not a duration (like 30s, 5m or 1h)", k->name,
		                 SHOW(v, tmp));
	if (k->max && (d < k->min || d > k->max)) {
		duration_text(k->min, lo);
		duration_text(k->max, hi);
		return fail_here(c, "%s %s must be between %s and %s", k->name, SHOW(v, tmp), lo,
		                 hi);
	}
	*FIELD(obj, k, long) = d;
	return 0;
}

int config_set_bool(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	char tmp[80];

	if (parse_bool(v, FIELD(obj, k, int)) < 0)
		return fail_here(c, "%s \"%s\": use true or false", k->name, SHOW(v, tmp));
	return 0;
}

int config_set_checked(struct config_ctx *c, const struct config_key *k, void *obj, const char *v,
                       int ok, const char *what)
{
	char tmp[80];

	if (!ok)
		return fail_here(c, "%s \"%s\" is not %s", k->name, SHOW(v, tmp), what);
	*FIELD(obj, k, char *) = xstrdup(v);
	return 0;
}

static int set_provider_name(struct config_ctx *c, const struct config_key *k, void *obj,
                             const char *v)
{
	return config_set_checked(c, k, obj, v, valid_name(v, strlen(v)), "a valid provider name");
}

/* ---- the name index ---- */

static size_t name_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static const char *section_name(const struct config *cfg, int t, size_t i)
{
	return t == SEC_PROVIDER ? cfg->providers[i].name : cfg->identities[i].name;
}

/* The index of the section of type t named name (n bytes), or -1. */
static long index_find(const struct config *cfg, int t, const char *name, size_t n)
{
	const struct config_private *ix = cfg->priv;
	size_t mask, i;

	if (!ix || !ix->icap[t])
		return -1;
	mask = ix->icap[t] - 1;
	for (i = name_hash(name, n) & mask; ix->slot[t][i]; i = (i + 1) & mask) {
		const char *s = section_name(cfg, t, ix->slot[t][i] - 1);

		if (strlen(s) == n && memcmp(s, name, n) == 0)
			return (long)ix->slot[t][i] - 1;
	}
	return -1;
}

static void index_put(struct config_private *ix, int t, size_t hash, uint32_t value)
{
	size_t mask = ix->icap[t] - 1, i;

	for (i = hash & mask; ix->slot[t][i]; i = (i + 1) & mask)
		;
	ix->slot[t][i] = value;
}

static void index_add(struct config *cfg, int t, size_t idx)
{
	struct config_private *ix = cfg->priv;

	if (2 * (ix->icount[t] + 1) > ix->icap[t]) {
		uint32_t *old = ix->slot[t];
		size_t oldcap = ix->icap[t];

		ix->icap[t] = oldcap ? 2 * oldcap : 16;
		ix->slot[t] = xcalloc(ix->icap[t], sizeof(*ix->slot[t]));
		for (size_t i = 0; i < oldcap; i++) {
			if (old[i]) {
				const char *s = section_name(cfg, t, old[i] - 1);

				index_put(ix, t, name_hash(s, strlen(s)), old[i]);
			}
		}
		free(old);
	}
	index_put(ix, t, name_hash(section_name(cfg, t, idx), strlen(section_name(cfg, t, idx))),
	          (uint32_t)idx + 1);
	ix->icount[t]++;
}

/* ---- sections ---- */

static void *section_at(const struct config *cfg, int t, size_t i)
{
	return t == SEC_PROVIDER ? (void *)&cfg->providers[i] : (void *)&cfg->identities[i];
}

static int section_line(const void *section, int t)
{
	return *(const int *)(const void *)((const char *)section + sections[t].line_off);
}

static const struct config_key *find_in(const struct config_key *keys, const char *name)
{
	for (; keys && keys->name; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

/* The key of a section of type t and kind (NULL: unknown yet) named name. */
static const struct config_key *find_key(int t, const struct config_kind *kind, const char *name)
{
	const struct config_key *k = find_in(sections[t].own, name);

	if (!k)
		k = find_in(sections[t].common, name);
	if (!k && kind)
		k = find_in(kind->keys, name);
	return k;
}

/* Whether some section of type t, of any kind, has the key. */
static int type_has_key(int t, const char *name)
{
	if (strcmp(name, "kind") == 0 || find_key(t, NULL, name))
		return 1;
	for (const struct config_kind *const *k = sections[t].kinds; *k; k++)
		if (find_in((*k)->keys, name))
			return 1;
	return 0;
}

static const struct config_kind *find_kind(int t, const char *name)
{
	for (const struct config_kind *const *k = sections[t].kinds; *k; k++)
		if (strcmp((*k)->name, name) == 0 ||
		    ((*k)->alias && strcmp((*k)->alias, name) == 0))
			return *k;
	return NULL;
}

/* "A, B or C" (or_word "or"), or "A (or B, C)" (or_word NULL): the kinds of type t. */
static void kind_list(int t, const char *or_word, char *out, size_t n)
{
	const struct config_kind *const *k = sections[t].kinds;
	size_t count = 0, o = 0, i;

	while (k[count])
		count++;
	out[0] = '\0';
	for (i = 0; i < count && o < n; i++) {
		const char *sep = i == 0                      ? ""
		                  : !or_word && i == 1        ? " (or "
		                  : or_word && i + 1 == count ? " or "
		                                              : ", ";
		o += (size_t)snprintf(out + o, n - o, "%s%s", sep, k[i]->name);
	}
	if (!or_word && count > 1 && o < n)
		snprintf(out + o, n - o, ")");
}

static struct section_meta *meta_of(const struct config_ctx *c, const void *section, int *type)
{
	const struct config *cfg = c->cfg;
	const char *s = section;

	for (int t = 0; t < 2; t++) {
		const char *base = t == SEC_PROVIDER ? (const char *)cfg->providers
		                                     : (const char *)cfg->identities;
		size_t n = t == SEC_PROVIDER ? cfg->nproviders : cfg->nidentities;

		if (base && n && s >= base && s < base + n * sections[t].size) {
			if (type)
				*type = t;
			return &c->priv->meta[t][(size_t)(s - base) / sections[t].size];
		}
	}
	return NULL;
}

static struct seen_key *seen_find(const struct section_meta *m, const char *name)
{
	for (size_t i = 0; m && i < m->nkeys; i++)
		if (strcmp(m->keys[i].name, name) == 0)
			return &m->keys[i];
	return NULL;
}

int config_key_line(const struct config_ctx *c, const void *section, const char *key)
{
	struct seen_key *s = seen_find(meta_of(c, section, NULL), key);

	return s ? s->line : 0;
}

static void seen_add(struct section_meta *m, const char *name, int line, int empty)
{
	/* Sections have a handful of keys: grown by 8. */
	if (m->nkeys % 8 == 0)
		m->keys = xrealloc(m->keys, (m->nkeys + 8) * sizeof(*m->keys));
	m->keys[m->nkeys].name = name;
	m->keys[m->nkeys].line = line;
	m->keys[m->nkeys].empty = empty;
	m->nkeys++;
}

/* The kind a kind line names, without a word said (its errors come in their turn): a
 * first look, so that keys before the kind line can be judged. */
static const struct config_kind *peek_kind(const struct config_ctx *c, int t)
{
	for (size_t i = 0; i < c->nentries; i++) {
		struct config_ctx quiet = *c;
		const struct config_kind *kind = NULL;
		okc_err ignored;
		char *v;

		if (strcmp(c->entries[i].key, "kind") != 0)
			continue;
		quiet.err = &ignored;
		quiet.failed = 0;
		if (expand_vars(&quiet, c->entries[i].raw, &v) < 0)
			return NULL;
		kind = find_kind(t, v);
		free(v);
		return kind;
	}
	return NULL;
}

/* The optimal string alignment distance (Damerau-Levenshtein without reuse) of a and b,
 * stopping at 9 for long strings. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), d[3][65];

	if (n > 64 || m > 64)
		return 9;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t cost = a[i - 1] != b[j - 1], v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[n % 3][m];
}

/* Keeps cand in *best when it is close to word and closer than *best: at most 2 edits,
 * and at most a third of the longer of the two (1 for short words). */
static void closest(const char *word, const char *cand, const char **best, size_t *best_d)
{
	size_t n = strlen(word) > strlen(cand) ? strlen(word) : strlen(cand);
	size_t d = edit_distance(word, cand), limit = n / 3 < 2 ? (n / 3 ? n / 3 : 1) : 2;

	if (d <= limit && d < *best_d && d > 0) {
		*best = cand;
		*best_d = d;
	}
}

/* The key of any section type and kind closest to key, or NULL. */
static const char *closest_key(int t, const char *key)
{
	const char *best = NULL;
	size_t d = 99;

	if (t != SEC_PROVIDER && t != SEC_IDENTITY) {
		closest(key, "identity", &best, &d);
		return best;
	}
	closest(key, "kind", &best, &d);
	for (const struct config_key *k = sections[t].own; k->name; k++)
		closest(key, k->name, &best, &d);
	for (const struct config_key *k = sections[t].common; k->name; k++)
		closest(key, k->name, &best, &d);
	for (const struct config_kind *const *kind = sections[t].kinds; *kind; kind++)
		for (const struct config_key *k = (*kind)->keys; k->name; k++)
			closest(key, k->name, &best, &d);
	return best;
}

static int unknown_key(struct config_ctx *c, const char *key)
{
	const char *near;
	char tmp[80], sec[100];

	switch (c->sec) {
	case SEC_DEFAULTS: snprintf(sec, sizeof(sec), "[defaults]"); break;
	default:
		snprintf(sec, sizeof(sec), "[%s %s]", sections[c->sec].word,
		         section_name(c->cfg, c->sec, c->sec_idx));
		break;
	}
	for (int t = 0; t < 2; t++)
		if ((int)c->sec != t && type_has_key(t, key))
			return fail_here(c, "%s is a key of %s, not of %s", key, sections[t].plural,
			                 sec);
	if (c->sec != SEC_DEFAULTS && strcmp(key, "identity") == 0)
		return fail_here(c, "identity is a key of [defaults], not of %s", sec);
	near = closest_key(c->sec, key);
	if (near)
		return fail_here(c, "unknown key \"%s\" in %s (did you mean %s?)", SHOW(key, tmp),
		                 sec, near);
	return fail_here(c, "unknown key \"%s\" in %s", SHOW(key, tmp), sec);
}

/* A key of other kinds of the section's type: `key "role_arn" belongs to aws/assume-role,
 * not okta/api-access`. */
static int other_kind_key(struct config_ctx *c, int t, const struct config_kind *kind,
                          const char *key)
{
	const struct config_kind *const *k;
	char owners[200];
	size_t o = 0, count = 0, j = 0;

	for (k = sections[t].kinds; *k; k++)
		count += find_in((*k)->keys, key) != NULL;
	owners[0] = '\0';
	for (k = sections[t].kinds; *k && o < sizeof(owners); k++) {
		if (!find_in((*k)->keys, key))
			continue;
		o += (size_t)snprintf(owners + o, sizeof(owners) - o, "%s%s",
		                      j == 0           ? ""
		                      : j + 1 == count ? " or "
		                                       : ", ",
		                      (*k)->name);
		j++;
	}
	return fail_here(c, "key \"%s\" belongs to %s, not %s", key, owners, kind->name);
}

/* The kind line. */
static int set_kind(struct config_ctx *c, struct section_head *head, const char *raw)
{
	int t = c->sec;
	char tmp[80], list[200], *v;
	const struct config_kind *kind;

	if (expand_vars(c, raw, &v) < 0)
		return -1;
	if (!*v) {
		free(v);
		return 0; /* "kind is empty", when the section ends */
	}
	kind = find_kind(t, v);
	if (!kind) {
		kind_list(t, "or", list, sizeof(list));
		if (find_kind(1 - t, v))
			config_fail(c, "%s is %s kind; %s's kind is %s", v,
			            t == SEC_PROVIDER ? "an identity" : "a provider",
			            sections[t].a_word, list);
		else {
			const char *near = NULL;
			size_t d = 99;

			for (const struct config_kind *const *k = sections[t].kinds; *k; k++)
				closest(v, (*k)->name, &near, &d);
			if (near)
				config_fail(c, "unknown %s kind \"%s\" (did you mean %s?)",
				            sections[t].word, SHOW(v, tmp), near);
			else
				config_fail(c, "unknown %s kind \"%s\": use %s", sections[t].word,
				            SHOW(v, tmp), list);
		}
		free(v);
		return -1;
	}
	free(v);
	head->kind = kind;
	if (kind->size && !head->kind_cfg)
		head->kind_cfg = xcalloc(1, kind->size);
	return 0;
}

/* The section's key lines, in order: each judged and set. */
static int set_keys(struct config_ctx *c)
{
	int t = c->sec;
	struct section_head *head = section_at(c->cfg, t, c->sec_idx);
	struct section_meta *m = &c->priv->meta[t][c->sec_idx];
	const struct config_kind *kind = peek_kind(c, t);
	int kind_line = 0;

	if (kind) {
		head->kind = kind;
		if (kind->size && !head->kind_cfg)
			head->kind_cfg = xcalloc(1, kind->size);
	}

	/* config_load_all reads the whole section: every error of it is said. */
	for (size_t i = 0; i < c->nentries && (!c->failed || c->priv->collect); i++) {
		const struct entry *e = &c->entries[i];
		const struct config_key *k;
		struct seen_key *s;
		char *v;
		int rc;

		c->lineno = e->line;
		c->raw = e->raw;
		if (strcmp(e->key, "kind") == 0) {
			if (kind_line) {
				fail_here(c, "duplicate key kind (first set on line %d)",
				          kind_line);
				continue;
			}
			kind_line = e->line;
			seen_add(m, "kind", e->line, 0);
			/* A kind that is not one is not empty: its line said what is wrong. */
			if (set_kind(c, head, e->raw) < 0)
				continue;
			m->keys[m->nkeys - 1].empty = head->kind == NULL;
			kind = head->kind;
			continue;
		}
		k = find_key(t, kind, e->key);
		if (!k) {
			if (!type_has_key(t, e->key))
				unknown_key(c, e->key);
			else if (kind)
				other_kind_key(c, t, kind, e->key);
			continue; /* the kind is missing or wrong: that is the error */
		}
		s = seen_find(m, k->name);
		if (s) {
			fail_here(c, "duplicate key %s (first set on line %d)", k->name, s->line);
			continue;
		}
		if (expand_vars(c, e->raw, &v) < 0) {
			seen_add(m, k->name, e->line, 0); /* set, though not usable */
			continue;
		}
		seen_add(m, k->name, e->line, *v == '\0');
		/* An empty value means "not set"; required keys are checked when the section
		 * ends. */
		rc = *v ? k->set(c, k, (k->flags & CK_COMMON) ? (void *)head : head->kind_cfg, v)
		        : 0;
		if ((k->flags & CK_SECRET) == CK_SECRET)
			free_secret(v);
		else
			free(v);
		(void)rc; /* config_fail said it; c->failed ends the loop unless collecting */
	}
	c->raw = NULL;
	return c->failed ? -1 : 0;
}

/* A one-of group: exactly one of its keys set. */
static int check_group(struct config_ctx *c, const void *section, int t,
                       const struct config_key *const lists[3], const char *group)
{
	const struct section_head *head = section;
	const struct section_meta *m = &c->priv->meta[t][c->sec_idx];
	const struct seen_key *empty = NULL;
	char names[200];
	size_t o = 0, count = 0, j = 0, nset = 0, i;
	int last = 0;

	for (i = 0; i < 3; i++)
		for (const struct config_key *k = lists[i]; k->name; k++)
			count += k->group && strcmp(k->group, group) == 0;
	names[0] = '\0';
	for (i = 0; i < 3; i++) {
		for (const struct config_key *k = lists[i]; k->name; k++) {
			const struct seen_key *s;

			if (!k->group || strcmp(k->group, group) != 0)
				continue;
			if (o < sizeof(names))
				o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s",
				                      j == 0           ? ""
				                      : j + 1 == count ? " or "
				                                       : ", ",
				                      k->name);
			j++;
			s = seen_find(m, k->name);
			if (s && !s->empty) {
				nset++;
				last = s->line > last ? s->line : last;
			} else if (s && (!empty || s->line < empty->line)) {
				empty = s;
			}
		}
	}
	if (nset > 1)
		return config_fail_at(c, last, "%s %s: set %s, not both", sections[t].word,
		                      head->name, names);
	if (nset == 0 && empty)
		return config_fail_at(c, empty->line, "%s is empty", empty->name);
	if (nset == 0)
		return config_fail_at(c, section_line(section, t), "%s %s (%s) needs %s",
		                      sections[t].word, head->name, head->kind->name, names);
	return 0;
}

/* Required keys, groups and defaults, in the order the keys are declared; then the
 * kind's own check. */
static int finish_section(struct config_ctx *c)
{
	int t = c->sec;
	struct section_head *head = section_at(c->cfg, t, c->sec_idx);
	const struct section_meta *m = &c->priv->meta[t][c->sec_idx];
	const struct config_key *lists[3];
	int line = section_line(head, t);
	char hint[200];
	size_t i;

	if (!head->kind) {
		const struct seen_key *s = seen_find(m, "kind");

		if (s && !s->empty)
			return -1; /* a kind that is none: said at its line */
		if (s)
			config_fail_at(c, s->line, "kind is empty");
		else
			config_fail_at(c, line, "%s %s has no kind", sections[t].word, head->name);
		kind_list(t, NULL, hint, sizeof(hint));
		config_hint(c, "add: kind = %s", hint);
		return -1;
	}
	lists[0] = sections[t].own;
	lists[1] = sections[t].common;
	lists[2] = head->kind->keys;
	for (i = 0; i < 3; i++) {
		for (const struct config_key *k = lists[i]; k->name; k++) {
			const struct seen_key *s = seen_find(m, k->name);
			void *obj = (k->flags & CK_COMMON) ? (void *)head : head->kind_cfg;
			int set = s && !s->empty;

			if (k->group) {
				const struct config_key *first = NULL;

				/* Once per group: at its first key. */
				for (size_t j = 0; j <= i && !first; j++)
					for (const struct config_key *g = lists[j];
					     g->name && !first; g++)
						if (g->group && strcmp(g->group, k->group) == 0)
							first = g;
				if (first == k && check_group(c, head, t, lists, k->group) < 0 &&
				    !c->priv->collect)
					return -1;
			} else if ((k->flags & CK_REQUIRED) && !set) {
				if (s)
					config_fail_at(c, s->line, "%s is empty", k->name);
				else
					config_fail_at(c, line, "%s %s (%s) has no %s",
					               sections[t].word, head->name,
					               head->kind->name, k->name);
				if (!c->priv->collect)
					return -1;
			} else if (!set && k->def) {
				c->lineno = line;
				if (k->set(c, k, obj, k->def) < 0 && !c->priv->collect)
					return -1;
			}
		}
	}
	c->lineno = line;
	/* A kind's check may count on the section's keys being set: only when they are. */
	if (c->failed)
		return -1;
	return head->kind->check ? head->kind->check(c, head) : 0;
}

/* The inside of "[...]": "defaults", "provider NAME" or "identity NAME". */
static int begin_section(struct config_ctx *c, const char *s, size_t n)
{
	const char *e = s + n, *type, *tend, *name;
	struct config *cfg = c->cfg;
	struct section_head *head;
	size_t tlen, nlen, idx;
	char tmp[80];
	long dup;
	int t;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	type = s;
	tend = type;
	while (tend < e && !isspace((unsigned char)*tend))
		tend++;
	tlen = (size_t)(tend - type);
	name = tend;
	while (name < e && isspace((unsigned char)*name))
		name++;
	nlen = (size_t)(e - name);

	if (tlen == 8 && memcmp(type, "defaults", 8) == 0) {
		if (nlen)
			return fail_here(c, "[defaults] takes no name");
		if (c->defaults_line)
			return fail_here(c, "duplicate section [defaults] (first on line %d)",
			                 c->defaults_line);
		c->defaults_line = c->lineno;
		c->sec = SEC_DEFAULTS;
		return 0;
	}
	for (t = 0; t < 2; t++)
		if (tlen == strlen(sections[t].word) && memcmp(type, sections[t].word, tlen) == 0)
			break;
	if (t == 2) {
		char word[NAME_MAX_LEN + 1];
		const char *near = NULL;
		size_t d = 99;

		snprintf(word, sizeof(word), "%.*s",
		         (int)(tlen < NAME_MAX_LEN ? tlen : NAME_MAX_LEN), type);
		closest(word, "defaults", &near, &d);
		closest(word, "provider", &near, &d);
		closest(word, "identity", &near, &d);
		if (near)
			fail_here(c, "unknown section [%s] (did you mean %s?)",
			          config_shown(s, (size_t)(e - s), tmp), near);
		else
			fail_here(c, "unknown section [%s]", config_shown(s, (size_t)(e - s), tmp));
		config_hint(c, "sections are [defaults], [provider NAME] and [identity NAME]");
		return -1;
	}
	if (!nlen)
		return fail_here(c, "[%.*s] needs a name: [%.*s NAME]", (int)tlen, type, (int)tlen,
		                 type);
	if (!valid_name(name, nlen)) {
		fail_here(c, "invalid %.*s name \"%s\"", (int)tlen, type,
		          config_shown(name, nlen, tmp));
		config_hint(c,
		            "a name is 1 to %d of A-Z a-z 0-9 . _ - and does not start "
		            "with . or -",
		            NAME_MAX_LEN);
		return -1;
	}
	dup = index_find(cfg, t, name, nlen);
	if (dup >= 0) {
		const void *first = section_at(cfg, t, (size_t)dup);

		return fail_here(c, "duplicate section [%s %s] (first on line %d)",
		                 sections[t].word, section_name(cfg, t, (size_t)dup),
		                 section_line(first, t));
	}
	idx = t == SEC_PROVIDER ? cfg->nproviders : cfg->nidentities;
	if (idx == c->priv->cap[t]) {
		size_t cap = c->priv->cap[t] ? 2 * c->priv->cap[t] : 8;

		if (t == SEC_PROVIDER)
			cfg->providers = xrealloc(cfg->providers, cap * sections[t].size);
		else
			cfg->identities = xrealloc(cfg->identities, cap * sections[t].size);
		c->priv->meta[t] = xrealloc(c->priv->meta[t], cap * sizeof(*c->priv->meta[t]));
		c->priv->cap[t] = cap;
	}
	head = section_at(cfg, t, idx);
	memset(head, 0, sections[t].size);
	memset(&c->priv->meta[t][idx], 0, sizeof(c->priv->meta[t][idx]));
	c->priv->meta[t][idx].first = c->priv->nentries;
	head->name = xstrndup(name, nlen);
	*(const char **)(void *)((char *)head + sections[t].file_off) = c->file;
	*(int *)(void *)((char *)head + sections[t].line_off) = c->lineno;
	if (t == SEC_PROVIDER)
		cfg->nproviders++;
	else
		cfg->nidentities++;
	index_add(cfg, t, idx);
	c->sec = (enum section_type)t;
	c->sec_idx = idx;
	return 0;
}

/* ---- keys ---- */

static int handle_defaults_key(struct config_ctx *c, const char *key, const char *raw)
{
	char *v, tmp[80];

	if (strcmp(key, "identity") != 0)
		return unknown_key(c, key);
	if (c->priv->defaults_identity_line)
		return fail_here(c, "duplicate key identity (first set on line %d)",
		                 c->priv->defaults_identity_line);
	c->priv->defaults_identity_line = c->lineno;
	if (expand_vars(c, raw, &v) < 0)
		return -1;
	if (*v && !valid_name(v, strlen(v))) {
		fail_here(c, "identity \"%s\" is not a valid identity or provider name",
		          SHOW(v, tmp));
		free(v);
		return -1;
	}
	if (*v)
		c->cfg->default_identity = v;
	else
		free(v);
	return 0;
}

static int add_entry(struct config_ctx *c, const char *key, const char *raw)
{
	struct config_private *pv = c->priv;

	if (c->sec == SEC_SKIP)
		return 0;
	if (c->sec == SEC_NONE) {
		char tmp[80];

		fail_here(c, "key \"%s\" outside any section", SHOW(key, tmp));
		config_hint(c, "put keys under [defaults], [provider NAME] or [identity NAME]");
		return -1;
	}
	if (c->sec == SEC_DEFAULTS)
		return handle_defaults_key(c, key, raw);
	if (pv->nentries == pv->entries_cap) {
		pv->entries_cap = pv->entries_cap ? 2 * pv->entries_cap : 64;
		pv->entries = xrealloc(pv->entries, pv->entries_cap * sizeof(*pv->entries));
	}
	pv->entries[pv->nentries].key = key;
	pv->entries[pv->nentries].raw = raw;
	pv->entries[pv->nentries].line = c->lineno;
	pv->nentries++;
	pv->meta[c->sec][c->sec_idx].n++;
	return 0;
}

/* ---- the lexer ---- */

/* A syntax error (config_open judges the sections before it first, as they come first). */
static int syntax_error(struct config_ctx *c, const char *msg, const char *hint)
{
	config_fail_at(c, c->lineno, "%s", msg);
	if (hint)
		config_hint(c, "%s", hint);
	return -1;
}

/* One physical line, s to e (e is '\n' or the end of the data; both may be written). */
static int handle_line(struct config_ctx *c, char *s, char *e)
{
	char *p, *sep, *key_end, *value;
	char msg[64];

	if (c->lineno == 1 && e - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (s < e && isspace((unsigned char)*s))
		s++;
	if (s == e || *s == ';' || *s == '#')
		return 0;
	/* An inline comment: ';' after a blank. */
	for (p = s + 1; p < e && (p = memchr(p, ';', (size_t)(e - p))) != NULL; p++) {
		if (is_blank(p[-1])) {
			e = p;
			break;
		}
	}
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';

	if (*s == '[') {
		char *close = memchr(s, ']', (size_t)(e - s));

		if (!close)
			return syntax_error(c, "missing ']' in the section header", NULL);
		if (close + 1 != e)
			return syntax_error(c, "unexpected text after ']'", NULL);
		return begin_section(c, s + 1, (size_t)(close - s - 1));
	}
	/* The first '=' or ':'. */
	sep = memchr(s, '=', (size_t)(e - s));
	p = memchr(s, ':', (size_t)((sep ? sep : e) - s));
	if (p)
		sep = p;
	if (!sep)
		return syntax_error(c, "expected \"key = value\" or a [section] header",
		                    c->lineno > 1 ? "a value cannot continue on the next line"
		                                  : NULL);
	key_end = sep;
	while (key_end > s && isspace((unsigned char)key_end[-1]))
		key_end--;
	if (key_end == s) {
		snprintf(msg, sizeof(msg), "missing key before '%c'", *sep);
		return syntax_error(c, msg, NULL);
	}
	value = sep + 1;
	while (value < e && isspace((unsigned char)*value))
		value++;
	*key_end = '\0';
	return add_entry(c, s, value);
}

static int lex(struct config_ctx *c, char *data, size_t len)
{
	char *s = data, *end = data + len;

	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		char *e = nl ? nl : end;

		c->lineno++;
		if (handle_line(c, s, e) < 0) {
			const char *f = s;

			if (!c->priv->collect)
				return -1;
			/* Read on; the lines under a refused header belong to no section. */
			while (f < e && (isspace((unsigned char)*f) || (unsigned char)*f >= 0x80))
				f++;
			if (*f == '[')
				c->sec = SEC_SKIP;
		}
		s = nl ? nl + 1 : end;
	}
	return 0;
}

/* ---- whole-file checks ---- */

static void list_names(const struct config *cfg, int providers, int identities, char *out,
                       size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; identities && i < cfg->nidentities && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "",
		                      cfg->identities[i].name);
	for (size_t i = 0; providers && i < cfg->nproviders && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "",
		                      cfg->providers[i].name);
}

/* ---- checking sections ---- */

static void ctx_init(struct config_ctx *c, struct config *cfg, okc_err *err)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->priv = cfg->priv;
	c->file = cfg->path;
	c->err = err;
	c->sec = SEC_NONE;
}

static void ctx_section(struct config_ctx *c, int t, size_t i)
{
	const struct section_meta *m = &c->priv->meta[t][i];

	c->sec = (enum section_type)t;
	c->sec_idx = i;
	/* NULL when the file has no key line at all: no offset is added to it. */
	c->entries = c->priv->entries ? c->priv->entries + m->first : NULL;
	c->nentries = m->n;
	c->lineno = section_line(section_at(c->cfg, t, i), t);
}

static void mark_broken(struct section_meta *m, const okc_err *err)
{
	m->state = BROKEN;
	if (!m->err)
		m->err = xmalloc(sizeof(*m->err));
	*m->err = *err;
}

/* Stage one of a section: its keys set and judged, required keys, groups, defaults and the
 * kind's check (flush: only its lines, which end at a syntax error). */
static int check_keys(struct config *cfg, int t, size_t i, int flush, okc_err *err)
{
	struct section_meta *m = &cfg->priv->meta[t][i];
	struct config_ctx c;

	if (m->state == BROKEN) {
		*err = *m->err;
		return -1;
	}
	if (m->state != UNCHECKED)
		return 0;
	ctx_init(&c, cfg, err);
	ctx_section(&c, t, i);
	/* Collecting, the required keys are judged after a bad one too. */
	if ((set_keys(&c) == 0 || cfg->priv->collect) && !flush)
		finish_section(&c);
	if (c.failed) {
		mark_broken(m, err);
		return -1;
	}
	m->state = KEYS_SET;
	return 0;
}

/* Stage one for every section in the order of the file, until the first error.
 * last_partial: the last section ends at a syntax error. */
static int check_all_keys(struct config *cfg, int last_partial, okc_err *err)
{
	size_t i = 0, j = 0, n = cfg->nproviders + cfg->nidentities;
	int failed = 0;

	while (i + j < n) {
		int t = j >= cfg->nidentities || (i < cfg->nproviders &&
		                                  cfg->providers[i].line < cfg->identities[j].line)
		            ? SEC_PROVIDER
		            : SEC_IDENTITY;
		size_t k = t == SEC_PROVIDER ? i++ : j++;

		if (check_keys(cfg, t, k, last_partial && i + j == n, err) < 0) {
			if (!cfg->priv->collect)
				return -1;
			failed = 1;
		}
	}
	return failed ? -1 : 0;
}

/* Stage two of identity i: its provider (stage one done for it too) and the kind's check
 * of it. Errors through c: the one on the lowest line is kept when c serves several. */
static int check_refs(struct config_ctx *c, size_t i)
{
	struct config *cfg = c->cfg;
	struct identity_cfg *id = &cfg->identities[i];
	int line = config_key_line(c, id, "provider");
	long pi = index_find(cfg, SEC_PROVIDER, id->provider_name, strlen(id->provider_name));
	char names[400];

	if (pi < 0) {
		list_names(cfg, 1, 0, names, sizeof(names));
		config_fail_at(c, line, "identity %s: no provider named %s", id->name,
		               id->provider_name);
		config_hint(c, "%s%s", names[0] ? "providers: " : "",
		            names[0] ? names : "add a [provider NAME] section");
		return -1;
	}
	if (check_keys(cfg, SEC_PROVIDER, (size_t)pi, 0, c->err) < 0) {
		c->failed = 1; /* the provider's own error */
		return -1;
	}
	id->provider = &cfg->providers[pi];
	c->sec = SEC_IDENTITY;
	c->sec_idx = i;
	c->lineno = line;
	if (id->kind->check_provider && id->kind->check_provider(c, id, id->provider) < 0)
		return -1;
	return 0;
}

/* A section made ready to use, checked alone (config_open's lazy way). */
static int ready(struct config *cfg, int t, size_t i, okc_err *err)
{
	struct section_meta *m = &cfg->priv->meta[t][i];
	struct config_ctx c;

	if (m->state == CHECKED)
		return 0;
	if (check_keys(cfg, t, i, 0, err) < 0)
		return -1;
	if (t == SEC_IDENTITY) {
		ctx_init(&c, cfg, err);
		if (check_refs(&c, i) < 0 || c.failed) {
			mark_broken(m, err);
			return -1;
		}
	}
	m->state = CHECKED;
	return 0;
}

static void defaults_fail(struct config_ctx *c)
{
	char names[400];

	list_names(c->cfg, 1, 1, names, sizeof(names));
	config_fail_at(c, c->priv->defaults_identity_line,
	               "[defaults] identity %s names no identity or provider",
	               c->cfg->default_identity);
	config_hint(c, "%s%s", names[0] ? "names: " : "",
	            names[0] ? names : "add an [identity NAME] section");
}

static int default_resolves(const struct config *cfg)
{
	const char *d = cfg->default_identity;

	return !d || index_find(cfg, SEC_IDENTITY, d, strlen(d)) >= 0 ||
	       index_find(cfg, SEC_PROVIDER, d, strlen(d)) >= 0;
}

/* config_load_all: a file a key names (CK_FILE) exists and is safe: a regular file of the
 * user's that others cannot write (nor read, CK_PRIVATE). Only absolute paths: a value
 * that is not one (PEM text) is no file. */
static void check_file_key(struct config_ctx *c, const void *section, const struct config_key *k,
                           const char *path)
{
	int line = config_key_line(c, section, k->name);
	char q[600];
	struct stat st;

	if (!path || path[0] != '/')
		return;
	if (stat(path, &st) < 0) {
		config_fail_at(c, line, "%s %s: %s", k->name, path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		config_fail_at(c, line, "%s %s: not a regular file", k->name, path);
		return;
	}
	if (st.st_uid != my_euid()) {
		config_fail_at(c, line, "%s %s: is owned by another user (uid %ld)", k->name, path,
		               (long)st.st_uid);
		config_hint(c, "run: chown %ld %s", (long)my_euid(),
		            shell_quoted(path, q, sizeof(q)));
		return;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    ((k->flags & CK_PRIVATE) && (st.st_mode & (S_IRGRP | S_IROTH)))) {
		config_fail_at(c, line, "%s %s: is %s by group or others", k->name, path,
		               st.st_mode & (S_IWGRP | S_IWOTH) ? "writable" : "readable");
		config_hint(c, "run: chmod %s %s", (k->flags & CK_PRIVATE) ? "600" : "go-w",
		            shell_quoted(path, q, sizeof(q)));
	}
}

static void check_files(struct config_ctx *c)
{
	struct config *cfg = c->cfg;

	for (int t = 0; t < 2; t++) {
		size_t n = t == SEC_PROVIDER ? cfg->nproviders : cfg->nidentities;

		for (size_t i = 0; i < n; i++) {
			struct section_head *head = section_at(cfg, t, i);
			const struct config_key *lists[3] = {sections[t].own, sections[t].common,
			                                     head->kind ? head->kind->keys : NULL};

			if (cfg->priv->meta[t][i].state == BROKEN || !head->kind)
				continue;
			c->sec = (enum section_type)t;
			c->sec_idx = i;
			for (int l = 0; l < 3; l++) {
				for (const struct config_key *k = lists[l]; k && k->name; k++) {
					void *obj =
					    (k->flags & CK_COMMON) ? (void *)head : head->kind_cfg;

					if ((k->flags & CK_FILE) && (k->flags & CK_STRING) && obj)
						check_file_key(c, head, k, *FIELD(obj, k, char *));
				}
			}
		}
	}
	c->sec = SEC_NONE;
}

int config_check(struct config *cfg, okc_err *err)
{
	struct config_private *pv = cfg->priv;
	struct config_ctx c;

	if (check_all_keys(cfg, 0, err) < 0 && !pv->collect)
		return -1;
	/* References, known once every section is: the lowest line wins. */
	ctx_init(&c, cfg, err);
	for (size_t i = 0; i < cfg->nidentities; i++) {
		enum section_state st = pv->meta[SEC_IDENTITY][i].state;

		/* Collecting: a broken identity said why; one whose provider is broken is not
		 * judged again (the provider's error is said once, at its line). */
		if (st != CHECKED && st != BROKEN)
			check_refs(&c, i);
	}
	if (!default_resolves(cfg))
		defaults_fail(&c);
	if (pv->collect) {
		check_files(&c);
		if (pv->nerrors) {
			okc_fail(err, OKC_EXIT_USAGE, "%s", pv->errors[0].text);
			if (pv->errors[0].hint)
				okc_hint(err, "%s", pv->errors[0].hint);
			return -1;
		}
	}
	if (c.failed)
		return -1;
	for (int t = 0; t < 2; t++) {
		size_t n = t == SEC_PROVIDER ? cfg->nproviders : cfg->nidentities;

		for (size_t i = 0; i < n; i++)
			cfg->priv->meta[t][i].state = CHECKED;
	}
	return 0;
}

size_t config_check_each(struct config *cfg)
{
	size_t broken = 0;
	okc_err err;

	for (int t = 0; t < 2; t++) {
		size_t n = t == SEC_PROVIDER ? cfg->nproviders : cfg->nidentities;

		for (size_t i = 0; i < n; i++)
			broken += ready(cfg, t, i, &err) < 0;
	}
	return broken;
}

const okc_err *config_section_error(const struct config *cfg, const void *section)
{
	struct config_ctx c;
	const struct section_meta *m;

	if (!cfg || !cfg->priv)
		return NULL;
	memset(&c, 0, sizeof(c));
	c.cfg = (struct config *)(uintptr_t)cfg;
	c.priv = cfg->priv;
	m = meta_of(&c, section, NULL);
	return m && m->state == BROKEN ? m->err : NULL;
}

int config_section_key_line(const struct config *cfg, const void *section, const char *key)
{
	struct config_ctx c;

	if (!cfg || !cfg->priv)
		return 0;
	memset(&c, 0, sizeof(c));
	c.cfg = (struct config *)(uintptr_t)cfg;
	c.priv = cfg->priv;
	return config_key_line(&c, section, key);
}

/* ---- the file ---- */

/* Opens and reads the file, refusing one that others could have written. The file may be a
 * symlink (dotfile managers): the target is what is checked, through the open descriptor. */
static int read_config_file(const char *path, char **data, size_t *len, struct stat *st,
                            okc_err *err)
{
	struct buf b = BUF_INIT;
	char q[600];
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			okc_fail(err, OKC_EXIT_USAGE, "%s: no configuration file", path);
			okc_hint(err, "run: oktacred init");
			return -1;
		}
		return okc_fail(err, OKC_EXIT_USAGE, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, st) < 0) {
		okc_fail(err, OKC_EXIT_USAGE, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st->st_mode)) {
		okc_fail(err, OKC_EXIT_USAGE, "%s: is a directory, not a configuration file", path);
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		okc_fail(err, OKC_EXIT_USAGE, "%s: not a regular file", path);
		goto fail;
	}
	if (st->st_uid != my_euid()) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: is owned by another user (uid %ld)", path,
		         (long)st->st_uid);
		okc_hint(err, "it must be yours and not writable by others: run: chown %ld %s",
		         (long)my_euid(), shell_quoted(path, q, sizeof(q)));
		goto fail;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: is writable by group or others", path);
		okc_hint(err, "run: chmod 600 %s", shell_quoted(path, q, sizeof(q)));
		goto fail;
	}
	if (st->st_size > CONFIG_MAX_SIZE) {
		okc_fail(err, OKC_EXIT_USAGE, "%s: larger than 1 MiB", path);
		goto fail;
	}
	/* Room for the whole file at once: no growing (each a copy and a wipe) on the way. */
	buf_reserve(&b, (size_t)st->st_size + 256);
	if (buf_read_fd(&b, fd, CONFIG_MAX_SIZE) < 0) {
		if (errno == EFBIG)
			okc_fail(err, OKC_EXIT_USAGE, "%s: larger than 1 MiB", path);
		else
			okc_fail(err, OKC_EXIT_USAGE, "%s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	*len = b.len;
	*data = buf_detach(&b);
	return 0;
fail:
	buf_free(&b);
	close(fd);
	return -1;
}

static int open_config(const char *path, int collect, struct config **out, okc_err *err)
{
	struct config_ctx ctx;
	struct config *cfg;
	struct stat st;
	char *data = NULL, q[600];
	size_t len = 0;
	const char *nul;
	int rc;

	*out = NULL;
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->priv = xcalloc(1, sizeof(*cfg->priv));
	rc = path ? paths_expand_home(path, &cfg->path, err) : paths_config_file(&cfg->path, err);
	if (rc < 0 || read_config_file(cfg->path, &data, &len, &st, err) < 0) {
		config_free(cfg);
		return -1;
	}
	cfg->priv->data = data;
	cfg->priv->len = len;
	cfg->priv->collect = collect;
	cfg->priv->mode = (unsigned)st.st_mode;
	ctx_init(&ctx, cfg, err);

	nul = memchr(data, '\0', len);
	if (nul) {
		int line = 1;

		for (const char *p = data; p < nul; p++)
			line += *p == '\n';
		config_fail_at(&ctx, line, "contains a NUL byte: not a text file");
	} else if (lex(&ctx, data, len) < 0) {
		/* The sections before the error come first: an error of theirs wins. */
		okc_err first;

		if (!collect &&
		    check_all_keys(cfg, ctx.sec == SEC_PROVIDER || ctx.sec == SEC_IDENTITY,
		                   &first) < 0)
			*err = first;
	}
	if (collect) { /* config_load_all checks the rest */
		*out = cfg;
		return ctx.failed ? -1 : 0;
	}
	if (!ctx.failed && (st.st_mode & (S_IRGRP | S_IROTH))) {
		/* Others may read it: it must not hold a secret of its own, which only checking
		 * every section can tell. A broken section stays for its users to find (its
		 * secret, if any, is found once it is fixed). */
		config_check_each(cfg);
		if (cfg->priv->secret_key) {
			okc_fail(err, OKC_EXIT_FAIL,
			         "%s: holds %s and is readable by group or others", cfg->path,
			         cfg->priv->secret_key);
			okc_hint(err, "run: chmod 600 %s", shell_quoted(cfg->path, q, sizeof(q)));
			ctx.failed = 1;
		}
	}
	if (ctx.failed) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int config_open(const char *path, struct config **out, okc_err *err)
{
	return open_config(path, 0, out, err);
}

int config_load_all(const char *path, struct config **out, okc_err *err)
{
	struct config *cfg;
	char q[600];
	int rc;

	if (open_config(path, 1, out, err) < 0 && !*out)
		return -1;
	cfg = *out;
	rc = config_check(cfg, err);
	if (rc == 0 && !cfg->nproviders && !cfg->nidentities)
		return config_empty(cfg, err);
	if (rc == 0 && cfg->priv->secret_key && (cfg->priv->mode & (S_IRGRP | S_IROTH))) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: holds %s and is readable by group or others",
		         cfg->path, cfg->priv->secret_key);
		okc_hint(err, "run: chmod 600 %s", shell_quoted(cfg->path, q, sizeof(q)));
		return -1;
	}
	return rc;
}

int config_load(const char *path, struct config **out, okc_err *err)
{
	if (config_open(path, out, err) < 0)
		return -1;
	if (config_check(*out, err) < 0) {
		config_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* The strings the keys of lists stored in head and its kind's struct. */
static void free_fields(struct section_head *head, const struct config_key *const lists[3])
{
	for (int i = 0; i < 3; i++) {
		for (const struct config_key *k = lists[i]; k && k->name; k++) {
			void *obj = (k->flags & CK_COMMON) ? (void *)head : head->kind_cfg;
			char **field;

			if (!(k->flags & CK_STRING) || !obj)
				continue;
			field = FIELD(obj, k, char *);
			if ((k->flags & CK_SECRET) == CK_SECRET)
				free_secret(*field);
			else
				free(*field);
			*field = NULL;
		}
	}
}

static void free_section(struct section_head *head, int t, int checked)
{
	const struct config_key *lists[3];

	if (!checked) { /* nothing was set */
		free(head->name);
		return;
	}
	lists[0] = sections[t].own;
	lists[1] = sections[t].common;
	lists[2] = head->kind ? head->kind->keys : NULL;
	free_fields(head, lists);
	if (head->kind && head->kind->free && head->kind_cfg)
		head->kind->free(head->kind_cfg);
	free(head->kind_cfg);
	free(head->name);
}

/* ---- editing the file ---- */

static const char *skip_blanks(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	return s;
}

/* A "key = value" line (s..e, without its newline) of that key. */
static int line_sets(const char *s, const char *e, const char *key)
{
	const char *sep, *k;

	s = skip_blanks(s, e);
	if (s == e || *s == ';' || *s == '#' || *s == '[')
		return 0;
	for (sep = s; sep < e && *sep != '=' && *sep != ':'; sep++)
		;
	if (sep == e)
		return 0;
	for (k = sep; k > s && isspace((unsigned char)k[-1]); k--)
		;
	return (size_t)(k - s) == strlen(key) && memcmp(s, key, (size_t)(k - s)) == 0;
}

/* A section header: 1 for [TYPE NAME], 2 for another, 0 for no header. */
static int line_header(const char *s, const char *e, const char *type, const char *name)
{
	size_t tn = strlen(type), nn = strlen(name);
	const char *close;

	s = skip_blanks(s, e);
	if (s == e || *s != '[')
		return 0;
	close = memchr(s, ']', (size_t)(e - s));
	if (!close)
		return 0;
	s = skip_blanks(s + 1, close);
	if ((size_t)(close - s) < tn + 1 || memcmp(s, type, tn) != 0 || !is_blank(s[tn]))
		return 2;
	s = skip_blanks(s + tn, close);
	while (close > s && is_blank(close[-1]))
		close--;
	return (size_t)(close - s) == nn && memcmp(s, name, nn) == 0 ? 1 : 2;
}

int config_file_set(const char *path, const char *type, const char *name, const char *key,
                    const char *value, okc_err *err)
{
	struct buf old = BUF_INIT, text = BUF_INIT;
	char *target = realpath(path, NULL), *dir = NULL, *slash;
	size_t i, at = 0, cut = 0;
	int fd, in = 0, seen = 0, found = 0, rc = -1;
	struct stat st;

	if (!target || stat(target, &st) < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot change %s: %s", path, strerror(errno));
	fd = open(target, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || buf_read_fd(&old, fd, CONFIG_MAX_SIZE) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "cannot read %s: %s", target, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	/* The place: the key's line in the section, else after its last setting. */
	for (i = 0; i < old.len;) {
		const char *s = old.data + i, *nl = memchr(s, '\n', old.len - i);
		const char *e = nl ? nl : old.data + old.len, *t = skip_blanks(s, e);
		size_t next = nl ? (size_t)(nl - old.data) + 1 : old.len;
		int h = line_header(s, e, type, name);

		if (h && in)
			break;
		if (h == 1) {
			in = seen = 1;
			at = next;
		} else if (in && line_sets(s, e, key)) {
			found = 1;
			at = i;
			cut = next;
			break;
		} else if (in && t < e && *t != ';' && *t != '#') {
			at = next;
		}
		i = next;
	}
	if (!seen) {
		okc_fail(err, OKC_EXIT_FAIL, "%s has no [%s %s] section", target, type, name);
		goto out;
	}
	if (!found)
		cut = at;
	buf_append(&text, old.data, at);
	if (at > 0 && old.data[at - 1] != '\n')
		buf_putc(&text, '\n');
	buf_printf(&text, "%s = %s\n", key, value);
	buf_append(&text, old.data + cut, old.len - cut);
	slash = strrchr(target, '/');
	dir = xstrndup(target, slash && slash != target ? (size_t)(slash - target) : 1);
	rc = store_replace_file(dir, slash ? slash + 1 : target, text.data, text.len,
	                        st.st_mode & 07777, err);
out:
	buf_free(&old);
	buf_free(&text);
	free(target);
	free(dir);
	return rc;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nproviders; i++)
		free_section((struct section_head *)(void *)&cfg->providers[i], SEC_PROVIDER,
		             !cfg->priv || cfg->priv->meta[SEC_PROVIDER][i].state != UNCHECKED);
	for (size_t i = 0; i < cfg->nidentities; i++)
		free_section((struct section_head *)(void *)&cfg->identities[i], SEC_IDENTITY,
		             !cfg->priv || cfg->priv->meta[SEC_IDENTITY][i].state != UNCHECKED);
	if (cfg->priv) {
		struct config_private *pv = cfg->priv;

		for (int t = 0; t < 2; t++) {
			size_t n = t == SEC_PROVIDER ? cfg->nproviders : cfg->nidentities;

			for (size_t i = 0; i < n; i++) {
				free(pv->meta[t][i].keys);
				free(pv->meta[t][i].err);
			}
			free(pv->meta[t]);
			free(pv->slot[t]);
		}
		for (size_t i = 0; i < pv->nwarnings; i++)
			free(pv->warnings[i].text);
		for (size_t i = 0; i < pv->nerrors; i++) {
			free(pv->errors[i].text);
			free(pv->errors[i].hint);
		}
		free(pv->errors);
		free(pv->warnings);
		free(pv->entries);
		/* It may hold a secret: one written in the file, in a section never checked. */
		if (pv->data)
			wipe(pv->data, pv->len);
		free(pv->data);
		free(pv);
	}
	free(cfg->providers);
	free(cfg->identities);
	free(cfg->default_identity);
	free(cfg->path);
	free(cfg);
}

static const char *section_string(const void *section, int t, const char *key)
{
	const struct section_head *head = section;
	const struct config_key *k = find_key(t, head->kind, key);
	const void *obj;

	if (!k || !(k->flags & CK_STRING))
		return NULL;
	obj = (k->flags & CK_COMMON) ? section : head->kind_cfg;
	return obj ? *(char *const *)(const void *)((const char *)obj + k->off) : NULL;
}

const char *config_provider_string(const struct provider_cfg *p, const char *key)
{
	return section_string(p, SEC_PROVIDER, key);
}

const char *config_identity_string(const struct identity_cfg *id, const char *key)
{
	return section_string(id, SEC_IDENTITY, key);
}

static long find(const struct config *cfg, int t, const char *name)
{
	size_t n;

	if (!cfg || !name)
		return -1;
	n = t == SEC_PROVIDER ? cfg->nproviders : cfg->nidentities;
	if (cfg->priv)
		return index_find(cfg, t, name, strlen(name));
	for (size_t i = 0; i < n; i++)
		if (strcmp(section_name(cfg, t, i), name) == 0)
			return (long)i;
	return -1;
}

const struct provider_cfg *config_find_provider(const struct config *cfg, const char *name)
{
	long i = cfg ? find(cfg, SEC_PROVIDER, name) : -1;

	return i < 0 ? NULL : &cfg->providers[i];
}

const struct identity_cfg *config_find_identity(const struct config *cfg, const char *name)
{
	long i = cfg ? find(cfg, SEC_IDENTITY, name) : -1;

	return i < 0 ? NULL : &cfg->identities[i];
}

int config_empty(const struct config *cfg, okc_err *err)
{
	okc_fail(err, OKC_EXIT_USAGE, "%s: no providers or identities", cfg->path);
	okc_hint(err, "run: oktacred init");
	return -1;
}

int config_resolve(const struct config *ccfg, const char *name,
                   const struct identity_cfg **identity, const struct provider_cfg **provider,
                   okc_err *err)
{
	/* Sections are checked when first used: the configuration is const to callers. */
	struct config *cfg = (struct config *)(uintptr_t)ccfg;
	char names[400];
	int by_default = 0;
	long i;

	*identity = NULL;
	*provider = NULL;
	if (!cfg->nproviders && !cfg->nidentities)
		return config_empty(cfg, err);
	if (!name) {
		name = cfg->default_identity;
		by_default = 1;
	}
	if (!name) {
		list_names(cfg, 1, 1, names, sizeof(names));
		okc_fail(err, OKC_EXIT_USAGE,
		         "no identity or provider named, and %s has no [defaults] identity",
		         cfg->path);
		if (names[0])
			okc_hint(err, "name one of: %s", names);
		else
			okc_hint(err, "add an [identity NAME] or [provider NAME] section");
		return -1;
	}
	i = find(cfg, SEC_IDENTITY, name);
	if (i >= 0) {
		if (cfg->priv && ready(cfg, SEC_IDENTITY, (size_t)i, err) < 0)
			return -1;
		*identity = &cfg->identities[i];
		*provider = (*identity)->provider
		                ? (*identity)->provider
		                : config_find_provider(cfg, (*identity)->provider_name);
		return 0;
	}
	i = find(cfg, SEC_PROVIDER, name);
	if (i >= 0) {
		if (cfg->priv && ready(cfg, SEC_PROVIDER, (size_t)i, err) < 0)
			return -1;
		*provider = &cfg->providers[i];
		return 0;
	}
	if (by_default && cfg->priv) {
		struct config_ctx c;

		ctx_init(&c, cfg, err);
		defaults_fail(&c);
		return -1;
	}
	list_names(cfg, 1, 1, names, sizeof(names));
	okc_fail(err, OKC_EXIT_USAGE, "%s: no identity or provider of that name in %s", name,
	         cfg->path);
	if (names[0])
		okc_hint(err, "name one of: %s", names);
	return -1;
}
