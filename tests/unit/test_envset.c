/* test_envset.c: src/envset.c: the set/clear model, each format's exact output, and values
 * read back byte for byte by the real shells (dash, bash, fish; zsh, busybox when present),
 * Python's json and python-dotenv, and reference parsers for PowerShell, compose, systemd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/envset.h"
#include "oktacred/util.h"

#include "helpers.h"

/* ---------- helpers ---------- */

static char *render(const struct envset *e, enum env_format f, int unset_all)
{
	struct buf b = BUF_INIT;
	char *s;

	cr_assert_eq(envset_render(e, f, unset_all, &b), 0);
	s = buf_detach(&b);
	cr_assert_not_null(s);
	return s;
}

static char *quote(int (*fn)(struct buf *, const char *), const char *v)
{
	struct buf b = BUF_INIT;
	char *s;

	cr_assert_eq(fn(&b, v), 0);
	s = buf_detach(&b);
	cr_assert_not_null(s);
	return s;
}

/* Printable form of bytes for failure messages (caller frees). */
static char *show(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n && i < 400; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf_putc(&b, (char)c);
		else
			buf_printf(&b, "\\x%02x", c);
	}
	return buf_detach(&b);
}

static void assert_bytes(const char *what, const char *want, size_t wn, const char *got, size_t gn)
{
	if (wn == gn && memcmp(want, got, wn) == 0)
		return;
	cr_assert_fail("%s:\n want [%s]\n got  [%s]", what, show(want, wn), show(got, gn));
}

/* Temporary directories of the running test, removed by its .fini even when it fails. */
static char *tmpdirs[4];
static size_t n_tmpdirs;

static char *make_tmpdir(void)
{
	char *d = xstrdup("/tmp/oktacred-envset.XXXXXX");

	cr_assert_lt(n_tmpdirs, ARRAY_SIZE(tmpdirs));
	cr_assert_not_null(mkdtemp(d), "mkdtemp: %s", strerror(errno));
	tmpdirs[n_tmpdirs++] = d;
	return d;
}

static void rm_tmpdirs(void)
{
	while (n_tmpdirs) {
		test_rmtree(tmpdirs[--n_tmpdirs]);
		free(tmpdirs[n_tmpdirs]);
	}
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Runs argv (no shell in between) with envp and stdin from /dev/null; stdout into out.
 * Returns the exit status, 128+N for a signal, -1 when it could not start. */
static int run(char *const argv[], char *const envp[], struct buf *out)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], st;
	pid_t pid;
	char chunk[65536];
	ssize_t n;

	cr_assert_eq(pipe(pfd), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addclose(&fa, pfd[1]);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert_gt(n, 0);
		cr_assert_eq(buf_append(out, chunk, (size_t)n), 0);
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		cr_assert_eq(errno, EINTR);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The value of name in a NUL-separated NAME=VALUE list (env -0), or NULL. */
static const char *env0_get(const struct buf *b, const char *name, size_t *len)
{
	size_t nl = strlen(name), i = 0;

	while (b->data && i < b->len) {
		const char *entry = b->data + i;
		size_t el = strlen(entry);

		if (el > nl && memcmp(entry, name, nl) == 0 && entry[nl] == '=') {
			*len = el - nl - 1;
			return entry + nl + 1;
		}
		i += el + 1;
	}
	return NULL;
}

/* Deterministic PRNG (splitmix64): the same values on every run and machine. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
	return (size_t)(rng() % n);
}

/* 1..200 bytes, none NUL; half of the bytes drawn from the ones quoting is about. */
static char *random_bytes(void)
{
	static const char nasty[] = "'\"\\$`!%\n\r\t (){}[];&|<>*?#~=-,:/";
	size_t n = 1 + rng_below(200), i;
	char *s = xmalloc(n + 1);

	for (i = 0; i < n; i++) {
		switch (rng_below(4)) {
		case 0:
		case 1: s[i] = nasty[rng_below(sizeof(nasty) - 1)]; break;
		case 2: s[i] = (char)(0x80 + rng_below(0x80)); break;
		default: s[i] = (char)(1 + rng_below(255)); break;
		}
	}
	s[n] = '\0';
	return s;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | (cp >> 6)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | (cp >> 12)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | (cp >> 18)));
		buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* 1..100 code points of valid UTF-8: ASCII specials and controls, PowerShell's quote
 * look-alikes, and code points of every length (no surrogates, no NUL). */
static char *random_utf8(void)
{
	static const char ascii[] = "'\"\\$`!%\n\r\t\x01\x1b\x7f (){}#=az";
	static const uint32_t wide[] = {0xe9,   0x2018, 0x2019, 0x201a, 0x201b,  0x201c,  0xfeff,
	                                0x2028, 0xfffd, 0xf600, 0xf6ff, 0x1f511, 0x10ffff};
	struct buf b = BUF_INIT;
	size_t n = 1 + rng_below(100), i;

	for (i = 0; i < n; i++) {
		uint32_t cp;

		switch (rng_below(4)) {
		case 0: cp = (uint32_t)(unsigned char)ascii[rng_below(sizeof(ascii) - 1)]; break;
		case 1: cp = wide[rng_below(ARRAY_SIZE(wide))]; break;
		case 2: cp = (uint32_t)(1 + rng_below(0x7ff)); break;
		default:
			do
				cp = (uint32_t)(1 + rng_below(0x10ffff));
			while (cp >= 0xd800 && cp <= 0xdfff);
			break;
		}
		put_utf8(&b, cp);
	}
	return buf_detach(&b);
}

static int utf8_ok(const char *s)
{
	/* The module's own check is static; json render is its public face. */
	struct envset e;
	struct buf b = BUF_INIT;
	int r;

	envset_init(&e);
	envset_put(&e, "X", s, 0);
	r = envset_render(&e, ENV_JSON, 0, &b);
	buf_free(&b);
	envset_free(&e);
	return r == 0;
}

/* ---------- the values every round trip carries ---------- */

struct values {
	char **v;
	size_t n;
};

static void values_add(struct values *vs, char *owned)
{
	vs->v = xrealloc(vs->v, (vs->n + 1) * sizeof(*vs->v));
	vs->v[vs->n++] = owned;
}

static void values_free(struct values *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		free(vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

static const char *const fixed_nasty[] = {
    "",
    " ",
    "'",
    "''",
    "\"",
    "\\",
    "\\\\",
    "a\\",
    "\\'",
    "'\\",
    "it's",
    "$HOME",
    "${HOME}",
    "${HOME:-x}",
    "$(id)",
    "`id`",
    "$((1+1))",
    "$$",
    "!",
    "!!",
    "!$",
    "%PATH%",
    "%s%n%%",
    "\n",
    "\n\n",
    "a\n",
    "\na",
    "\r",
    "\r\n",
    "a\rb",
    "\t",
    " lead",
    "trail ",
    "*",
    "?",
    "[a]",
    "~",
    "~root",
    "#c",
    "a #b",
    ";",
    "&",
    "|",
    "<>",
    "{a,b}",
    "-e",
    "-n",
    "--",
    "=",
    "a=b",
    "\\n",
    "\\t",
    "\\r",
    "\\$",
    "\\\"",
    "\\\\'",
    "\\0101",
    "set -e K",
    "end",
    "' end '",
    "\xc3\xa9t\xc3\xa9",              /* été */
    "\xe6\x97\xa5\xe6\x9c\xac",       /* 日本 */
    "\xf0\x9f\x94\x91",               /* U+1F511 */
    "\xe2\x80\x98quoted\xe2\x80\x99", /* ‘quoted’ */
    "\xe2\x80\x9a\xe2\x80\x9b",       /* ‚‛ */
    "'\xe2\x80\x99",                  /* '’ */
    "\xe2\x80\x9c\xe2\x80\x9d",       /* “” */
    "\xef\x98\x80\xef\x9b\xbf",       /* U+F600, U+F6FF: fish's own encoding of raw bytes */
    "\x01\x02\x1b[31mred\x1b[0m\x7f",
    "\x80",
    "\xff",
    "\xc3",
    "\xed\xa0\x80",
    "\xc0\xaf",
    "a\xfe\xfe\xff b",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_", /* a JWT's shape */
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+=",
};

/* Commands that must never run; the file they would create is checked afterwards. */
static void add_injections(struct values *vs, const char *pwned)
{
	static const char *const forms[] = {
	    "$(touch @P@)",     "`touch @P@`",
	    "'; touch @P@; '",  "\"; touch @P@; \"",
	    "'$(touch @P@)'",   "\\'; touch @P@; echo \\'",
	    "(touch @P@)",      "'(touch @P@)'",
	    "x\ntouch @P@\n",   "'\ntouch @P@\n'",
	    "\\\ntouch @P@",    "'\\''; touch @P@ #",
	    "\\'; touch @P@ #", "$(touch @P@)\\",
	    "\"$(touch @P@)\"", "'; Remove-Item x; touch @P@; '",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		struct buf b = BUF_INIT;
		const char *at = strstr(forms[i], "@P@");

		buf_append(&b, forms[i], (size_t)(at - forms[i]));
		buf_puts(&b, pwned);
		buf_puts(&b, at + 3);
		values_add(vs, buf_detach(&b));
	}
}

/* The fixed values, the injections and count random byte strings. */
static void values_build(struct values *vs, const char *pwned, size_t count, uint64_t seed)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixed_nasty); i++)
		values_add(vs, xstrdup(fixed_nasty[i]));
	add_injections(vs, pwned);
	{
		/* One long value, well past any line buffer. */
		char *big = xmalloc(70001);
		size_t k;

		for (k = 0; k < 70000; k++)
			big[k] = "a'\\\n$\"\x80"[k % 7];
		big[70000] = '\0';
		values_add(vs, big);
	}
	rng_state = seed;
	for (i = 0; i < count; i++)
		values_add(vs, random_bytes());
}

static char *var_name(size_t i)
{
	return xasprintf("V%zu", i);
}

/* ---------- the model ---------- */

Test(envset, put_keeps_order_and_replaces)
{
	struct envset e;

	envset_init(&e);
	cr_assert_eq(e.n, 0);
	envset_put(&e, "A", "1", 0);
	envset_put(&e, "B", "2", 1);
	envset_put(&e, "C", NULL, 0);
	envset_put(&e, "A", "3", 1);
	cr_assert_eq(e.n, 3);
	cr_assert_str_eq(e.vars[0].name, "A");
	cr_assert_str_eq(e.vars[0].value, "3");
	cr_assert_eq(e.vars[0].secret, 1);
	cr_assert_str_eq(e.vars[1].name, "B");
	cr_assert_null(e.vars[2].value);

	envset_put(&e, "B", NULL, 0); /* a later clear replaces a set */
	cr_assert_eq(e.n, 3);
	cr_assert_null(e.vars[1].value);
	envset_put(&e, "C", "now", 0); /* and a later set replaces a clear */
	cr_assert_str_eq(e.vars[2].value, "now");

	envset_free(&e);
	cr_assert_eq(e.n, 0);
	cr_assert_null(e.vars);
	envset_free(&e);   /* twice is fine */
	envset_free(NULL); /* and NULL */
}

Test(envset, put_copies_its_arguments)
{
	struct envset e;
	char name[] = "NAME", value[] = "value";

	envset_init(&e);
	envset_put(&e, name, value, 1);
	name[0] = 'X';
	value[0] = 'X';
	cr_assert_str_eq(e.vars[0].name, "NAME");
	cr_assert_str_eq(e.vars[0].value, "value");
	envset_free(&e);
}

Test(envset, parse_format)
{
	static const struct {
		const char *s;
		enum env_format f;
	} ok[] = {
	    {"sh", ENV_SH},
	    {"bash", ENV_SH},
	    {"zsh", ENV_SH},
	    {"fish", ENV_FISH},
	    {"powershell", ENV_POWERSHELL},
	    {"pwsh", ENV_POWERSHELL},
	    {"json", ENV_JSON},
	    {"dotenv", ENV_DOTENV},
	};
	static const char *const bad[] = {"", "SH", "csh", "cmd", "json ", "env", "dot-env"};
	enum env_format f;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		f = (enum env_format) - 1;
		cr_assert_eq(envset_parse_format(ok[i].s, &f), 0, "%s", ok[i].s);
		cr_assert_eq(f, ok[i].f, "%s", ok[i].s);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(envset_parse_format(bad[i], &f), -1, "%s", bad[i]);
	cr_assert_eq(envset_parse_format(NULL, &f), -1);
}

/* ---------- each format's exact output ---------- */

static void simple_set(struct envset *e)
{
	envset_init(e);
	envset_put(e, "OKTA_ORG_URL", "https://company.okta.com", 0);
	envset_put(e, "OKTA_API_TOKEN", NULL, 0);
	envset_put(e, "_X1", "a b", 1);
}

Test(envset, render_simple_each_format)
{
	static const struct {
		enum env_format f;
		const char *set, *unset;
	} want[] = {
	    {ENV_SH,
	     "export OKTA_ORG_URL='https://company.okta.com'\n"
	     "unset OKTA_API_TOKEN\n"
	     "export _X1='a b'\n",
	     "unset OKTA_ORG_URL\nunset OKTA_API_TOKEN\nunset _X1\n"},
	    {ENV_FISH,
	     "set -gx OKTA_ORG_URL 'https://company.okta.com'\n"
	     "set -e OKTA_API_TOKEN\n"
	     "set -gx _X1 'a b'\n",
	     "set -e OKTA_ORG_URL\nset -e OKTA_API_TOKEN\nset -e _X1\n"},
	    {ENV_POWERSHELL,
	     "$Env:OKTA_ORG_URL = 'https://company.okta.com'\n"
	     "Remove-Item Env:OKTA_API_TOKEN -ErrorAction SilentlyContinue\n"
	     "$Env:_X1 = 'a b'\n",
	     "Remove-Item Env:OKTA_ORG_URL -ErrorAction SilentlyContinue\n"
	     "Remove-Item Env:OKTA_API_TOKEN -ErrorAction SilentlyContinue\n"
	     "Remove-Item Env:_X1 -ErrorAction SilentlyContinue\n"},
	    {ENV_JSON,
	     "{\"set\": {\"OKTA_ORG_URL\": \"https://company.okta.com\", \"_X1\": \"a b\"}, "
	     "\"unset\": [\"OKTA_API_TOKEN\"]}\n",
	     "{\"set\": {}, \"unset\": [\"OKTA_ORG_URL\", \"OKTA_API_TOKEN\", \"_X1\"]}\n"},
	    {ENV_DOTENV, "OKTA_ORG_URL=\"https://company.okta.com\"\n_X1=\"a b\"\n", ""},
	};
	struct envset e;
	size_t i;

	simple_set(&e);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		char *s = render(&e, want[i].f, 0);
		char *u = render(&e, want[i].f, 1);

		cr_assert_str_eq(s, want[i].set, "format %d", (int)want[i].f);
		cr_assert_str_eq(u, want[i].unset, "format %d --unset", (int)want[i].f);
		free(s);
		free(u);
	}
	envset_free(&e);
}

Test(envset, render_empty_set)
{
	struct envset e;
	struct buf b = BUF_INIT;

	envset_init(&e);
	cr_assert_eq(envset_render(&e, ENV_SH, 0, &b), 0);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(envset_render(&e, ENV_JSON, 0, &b), 0);
	cr_assert_str_eq(b.data, "{\"set\": {}, \"unset\": []}\n");
	buf_free(&b);
	envset_free(&e);
}

Test(envset, render_appends)
{
	struct envset e;
	struct buf b = BUF_INIT;

	envset_init(&e);
	envset_put(&e, "A", "1", 0);
	buf_puts(&b, "# before\n");
	cr_assert_eq(envset_render(&e, ENV_SH, 0, &b), 0);
	cr_assert_str_eq(b.data, "# before\nexport A='1'\n");
	buf_free(&b);
	envset_free(&e);
}

Test(envset, render_refuses_bad_names)
{
	static const char *const bad[] = {"",    "1A", "A-B",      "A B", "A=B", "A.B",
	                                  "A\n", "$A", "\xc3\xa9", "A'",  "A;B", "-e"};
	static const char *const good[] = {"A", "_", "_1", "a_b_C9", "OKTA_API_TOKEN"};
	enum env_format f;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		for (f = ENV_SH; f <= ENV_DOTENV; f++) {
			struct envset e;
			struct buf b = BUF_INIT;

			envset_init(&e);
			envset_put(&e, "GOOD", "v", 0);
			envset_put(&e, bad[i], "v", 0);
			buf_puts(&b, "kept");
			cr_assert_eq(envset_render(&e, f, 0, &b), -1, "[%s] %d", bad[i], (int)f);
			cr_assert_eq(envset_render(&e, f, 1, &b), -1, "[%s] %d", bad[i], (int)f);
			/* A cleared variable with a bad name is refused too. */
			envset_put(&e, bad[i], NULL, 0);
			cr_assert_eq(envset_render(&e, f, 0, &b), -1, "[%s] %d", bad[i], (int)f);
			cr_assert_str_eq(b.data, "kept", "nothing written on failure");
			buf_free(&b);
			envset_free(&e);
		}
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		for (f = ENV_SH; f <= ENV_DOTENV; f++) {
			struct envset e;
			struct buf b = BUF_INIT;

			envset_init(&e);
			envset_put(&e, good[i], "v", 0);
			cr_assert_eq(envset_render(&e, f, 0, &b), 0, "[%s] %d", good[i], (int)f);
			buf_free(&b);
			envset_free(&e);
		}
	}
}

/* ---------- the quoting of each shell, exactly ---------- */

Test(envset, quote_sh)
{
	static const char *const cases[][2] = {
	    {"", "''"},
	    {"plain", "'plain'"},
	    {"it's", "'it'\\''s'"},
	    {"''", "''\\'''\\'''"},
	    {"a\\", "'a\\'"},
	    {"$(id) `id` ${X} \"q\" !x %p", "'$(id) `id` ${X} \"q\" !x %p'"},
	    {"l1\nl2\r\t", "'l1\nl2\r\t'"},
	    {"\xff\x80\xc3\xa9", "'\xff\x80\xc3\xa9'"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *q = quote(envset_quote_sh, cases[i][0]);

		cr_assert_str_eq(q, cases[i][1], "case %zu", i);
		free(q);
	}
}

Test(envset, quote_fish)
{
	static const char *const cases[][2] = {
	    {"", "''"},
	    {"plain", "'plain'"},
	    {"it's", "'it\\'s'"},
	    {"a\\", "'a\\\\'"},
	    {"\\'", "'\\\\\\''"},
	    {"\\n", "'\\\\n'"},
	    {"$(id) (id) `id` \"q\" !x %p", "'$(id) (id) `id` \"q\" !x %p'"},
	    {"l1\nl2\r\t", "'l1\nl2\r\t'"},
	    {"\xff\x80", "'\xff\x80'"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *q = quote(envset_quote_fish, cases[i][0]);

		cr_assert_str_eq(q, cases[i][1], "case %zu", i);
		free(q);
	}
}

Test(envset, quote_powershell)
{
	static const char *const cases[][2] = {
	    {"", "''"},
	    {"plain", "'plain'"},
	    {"it's", "'it''s'"},
	    {"'", "''''"},
	    {"$Env:X `n \"q\" \\", "'$Env:X `n \"q\" \\'"},
	    {"\xe2\x80\x98x\xe2\x80\x99", "'\xe2\x80\x98\xe2\x80\x98x\xe2\x80\x99\xe2\x80\x99'"},
	    {"\xe2\x80\x9a\xe2\x80\x9b", "'\xe2\x80\x9a\xe2\x80\x9a\xe2\x80\x9b\xe2\x80\x9b'"},
	    /* Double quotes and their look-alikes mean nothing in a verbatim string. */
	    {"\xe2\x80\x9c\xe2\x80\x9d\xe2\x80\x97", "'\xe2\x80\x9c\xe2\x80\x9d\xe2\x80\x97'"},
	    /* A truncated sequence is neither a quote nor a reason to read past the end. */
	    {"\xe2\x80", "'\xe2\x80'"},
	    {"\xe2", "'\xe2'"},
	    {"l1\nl2", "'l1\nl2'"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *q = quote(envset_quote_powershell, cases[i][0]);

		cr_assert_str_eq(q, cases[i][1], "case %zu", i);
		free(q);
	}
}

Test(envset, quote_dotenv)
{
	static const char *const cases[][2] = {
	    {"", "\"\""},
	    {"plain", "\"plain\""},
	    {"a\"b", "\"a\\\"b\""},
	    {"a\\", "\"a\\\\\""},
	    {"$X ${X} $(id)", "\"\\$X \\${X} \\$(id)\""},
	    {"l1\nl2\tt\rx", "\"l1\nl2\tt\\rx\""},
	    {"'`!#%", "\"'`!#%\""},
	    {"\xff\xc3\xa9", "\"\xff\xc3\xa9\""},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *q = quote(envset_quote_dotenv, cases[i][0]);

		cr_assert_str_eq(q, cases[i][1], "case %zu", i);
		free(q);
	}
}

Test(envset, quote_refuses_null)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(envset_quote_sh(&b, NULL), -1);
	cr_assert_eq(envset_quote_fish(&b, NULL), -1);
	cr_assert_eq(envset_quote_powershell(&b, NULL), -1);
	cr_assert_eq(envset_quote_dotenv(&b, NULL), -1);
	cr_assert_eq(b.len, 0);
	buf_free(&b);
}

Test(envset, json_escapes)
{
	struct envset e;
	char *s;

	envset_init(&e);
	envset_put(&e, "A", "q\"b\\s/\x01\n\r\t\x1f\x7f \xc3\xa9\xe2\x80\x98\xf0\x9f\x94\x91", 0);
	s = render(&e, ENV_JSON, 0);
	cr_assert_str_eq(s, "{\"set\": {\"A\": \"q\\\"b\\\\s/\\u0001\\u000a\\u000d\\u0009\\u001f"
	                    "\\u007f \xc3\xa9\xe2\x80\x98\xf0\x9f\x94\x91\"}, \"unset\": []}\n");
	free(s);
	envset_free(&e);
}

Test(envset, json_refuses_invalid_utf8)
{
	static const char *const bad[] = {
	    "\x80",
	    "\xff",
	    "a\xc3",
	    "\xc3(",
	    "\xc0\xaf",
	    "\xc1\xbf",
	    "\xe0\x80\xaf",
	    "\xed\xa0\x80",
	    "\xed\xbf\xbf",
	    "\xf0\x80\x80\xaf",
	    "\xf4\x90\x80\x80",
	    "\xf5\x80\x80\x80",
	    "\xe2\x82",
	    "\xf0\x9f\x94",
	};
	static const char *const good[] = {"\x7f",         "\xc2\x80",         "\xdf\xbf",
	                                   "\xe0\xa0\x80", "\xed\x9f\xbf",     "\xee\x80\x80",
	                                   "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct envset e;
		struct buf b = BUF_INIT;

		envset_init(&e);
		envset_put(&e, "A", bad[i], 0);
		buf_puts(&b, "kept");
		cr_assert_eq(envset_render(&e, ENV_JSON, 0, &b), -1, "bad %zu", i);
		cr_assert_str_eq(b.data, "kept");
		/* The other formats carry the bytes; --unset has no value to print. */
		cr_assert_eq(envset_render(&e, ENV_JSON, 1, &b), 0, "bad %zu --unset", i);
		cr_assert_eq(envset_render(&e, ENV_SH, 0, &b), 0);
		cr_assert_eq(envset_render(&e, ENV_DOTENV, 0, &b), 0);
		buf_free(&b);
		envset_free(&e);
	}
	for (i = 0; i < ARRAY_SIZE(good); i++)
		cr_assert(utf8_ok(good[i]), "good %zu", i);
}

/* ---------- envset_apply ---------- */

Test(envset, apply_sets_and_clears)
{
	struct envset e;

	cr_assert_eq(setenv("OKC_T_CLEAR", "old", 1), 0);
	cr_assert_eq(setenv("OKC_T_REPLACE", "old", 1), 0);
	envset_init(&e);
	envset_put(&e, "OKC_T_NEW", "a 'b' $c\n\xff", 1);
	envset_put(&e, "OKC_T_REPLACE", "new", 0);
	envset_put(&e, "OKC_T_CLEAR", NULL, 0);
	envset_put(&e, "OKC_T_ABSENT", NULL, 0);
	envset_put(&e, "OKC_T_EMPTY", "", 0);
	cr_assert_eq(envset_apply(&e), 0);
	cr_assert_str_eq(getenv("OKC_T_NEW"), "a 'b' $c\n\xff");
	cr_assert_str_eq(getenv("OKC_T_REPLACE"), "new");
	cr_assert_str_eq(getenv("OKC_T_EMPTY"), "");
	cr_assert_null(getenv("OKC_T_CLEAR"));
	cr_assert_null(getenv("OKC_T_ABSENT"));
	envset_free(&e);
}

Test(envset, apply_refuses_bad_names_changing_nothing)
{
	struct envset e;

	cr_assert_eq(setenv("OKC_T_KEEP", "old", 1), 0);
	envset_init(&e);
	envset_put(&e, "OKC_T_KEEP", NULL, 0);
	envset_put(&e, "OKC_T_SET", "v", 0);
	envset_put(&e, "BAD=NAME", "v", 0);
	cr_assert_eq(envset_apply(&e), -1);
	cr_assert_str_eq(getenv("OKC_T_KEEP"), "old");
	cr_assert_null(getenv("OKC_T_SET"));
	envset_free(&e);
}

/* ---------- real shells ---------- */

struct shell {
	const char *label;
	const char *path;
	enum env_format format;
	int required;
	/* argv: path, these, the script's path, NULL */
	const char *args[5];
};

#define SH_SOURCE ". \"$1\" && exec /usr/bin/env -0"

static const struct shell shells[] = {
    {"dash", "/usr/bin/dash", ENV_SH, 1, {"-c", SH_SOURCE, "dash", NULL}},
    {"bash", "/bin/bash", ENV_SH, 1, {"--norc", "--noprofile", "-c", SH_SOURCE, "bash"}},
    {"fish",
     "/usr/bin/fish",
     ENV_FISH,
     1,
     /* Not `; and`: `set -e` of an absent variable leaves status 4 (see the report). A
      * script that does not parse runs nothing, which the values show. */
     {"--no-config", "-c", "source $argv[1]; exec /usr/bin/env -0", NULL}},
    {"zsh", "/usr/bin/zsh", ENV_SH, 0, {"-f", "-c", SH_SOURCE, "zsh", NULL}},
    {"busybox", "/usr/bin/busybox", ENV_SH, 0, {"sh", "-c", SH_SOURCE, "sh", NULL}},
};

static const struct shell *shell_find(const char *label)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shells); i++)
		if (strcmp(shells[i].label, label) == 0)
			return &shells[i];
	cr_assert_fail("no shell %s", label);
	return NULL;
}

/* Sources script in the shell and returns its exported environment (env -0). */
static void shell_run(const struct shell *sh, const char *dir, const char *script,
                      const char *locale, struct buf *env0)
{
	char *path = xasprintf("%s/script", dir);
	char *argv[8];
	char *envp[9];
	size_t i, a = 0;
	int st;

	test_write_file(path, script, strlen(script), 0600);
	argv[a++] = (char *)sh->path;
	for (i = 0; i < ARRAY_SIZE(sh->args) && sh->args[i]; i++)
		argv[a++] = (char *)sh->args[i];
	argv[a++] = path;
	argv[a] = NULL;
	envp[0] = "PATH=/usr/bin:/bin";
	envp[1] = xasprintf("HOME=%s", dir);
	envp[2] = xasprintf("XDG_CONFIG_HOME=%s", dir);
	envp[3] = xasprintf("XDG_DATA_HOME=%s", dir);
	envp[4] = xasprintf("LC_ALL=%s", locale);
	envp[5] = "OKC_GONE1=was set";
	envp[6] = "OKC_GONE2=was set too";
	envp[7] = "OKC_STAYS=untouched";
	envp[8] = NULL;
	buf_reset(env0);
	st = run(argv, envp, env0);
	cr_assert_eq(st, 0, "%s (%s): exit status %d", sh->label, locale, st);
	for (i = 1; i <= 4; i++)
		free(envp[i]);
	free(path);
}

static void shell_roundtrip(const char *label)
{
	static const char *const locales[] = {"C.UTF-8", "C"};
	const struct shell *sh = shell_find(label);
	struct values vs = {NULL, 0};
	struct envset e, undo;
	struct buf env0 = BUF_INIT;
	char *dir, *pwned, *script, *both;
	size_t i, l, len;

	if (!exists(sh->path)) {
		if (sh->required)
			cr_assert_fail("%s is not installed (%s): scripts/deps.sh installs it",
			               sh->label, sh->path);
		cr_skip_test("%s is not installed", sh->label);
	}
	dir = make_tmpdir();
	pwned = xasprintf("%s/pwned", dir);
	values_build(&vs, pwned, 400, 0x5eed0001);

	envset_init(&e);
	envset_init(&undo);
	for (i = 0; i < vs.n; i++) {
		char *name = var_name(i);

		envset_put(&e, name, vs.v[i], 1);
		envset_put(&undo, name, vs.v[i], 1);
		free(name);
	}
	envset_put(&e, "OKC_GONE1", NULL, 0);
	envset_put(&e, "OKC_NEVER_SET", NULL, 0);
	envset_put(&e, "OKC_GONE2", NULL, 0);
	script = render(&e, sh->format, 0);

	for (l = 0; l < ARRAY_SIZE(locales); l++) {
		shell_run(sh, dir, script, locales[l], &env0);
		cr_assert(!exists(pwned), "%s ran a command hidden in a value", sh->label);
		for (i = 0; i < vs.n; i++) {
			char *name = var_name(i);
			const char *got = env0_get(&env0, name, &len);
			char *what = xasprintf("%s (%s): %s", sh->label, locales[l], name);

			cr_assert_not_null(got, "%s is missing", what);
			assert_bytes(what, vs.v[i], strlen(vs.v[i]), got, len);
			free(what);
			free(name);
		}
		cr_assert_null(env0_get(&env0, "OKC_GONE1", &len), "%s: still set", sh->label);
		cr_assert_null(env0_get(&env0, "OKC_GONE2", &len), "%s: still set", sh->label);
		cr_assert_null(env0_get(&env0, "OKC_NEVER_SET", &len));
		cr_assert_not_null(env0_get(&env0, "OKC_STAYS", &len));
	}

	/* --unset undoes the set: both the variables it set and those it cleared. */
	{
		char *u = render(&e, sh->format, 1);

		both = xasprintf("%s%s", script, u);
		free(u);
	}
	shell_run(sh, dir, both, "C.UTF-8", &env0);
	for (i = 0; i < vs.n; i++) {
		char *name = var_name(i);

		cr_assert_null(env0_get(&env0, name, &len), "%s --unset: %s left", sh->label, name);
		free(name);
	}
	cr_assert_null(env0_get(&env0, "OKC_GONE1", &len));
	cr_assert_not_null(env0_get(&env0, "OKC_STAYS", &len));

	cr_assert(!exists(pwned), "%s ran a command hidden in a value", sh->label);
	free(both);
	free(script);
	buf_free(&env0);
	envset_free(&e);
	envset_free(&undo);
	values_free(&vs);
	free(pwned);
}

Test(envset_shell, roundtrip_dash, .timeout = 60, .fini = rm_tmpdirs)
{
	shell_roundtrip("dash");
}

Test(envset_shell, roundtrip_bash, .timeout = 60, .fini = rm_tmpdirs)
{
	shell_roundtrip("bash");
}

Test(envset_shell, roundtrip_fish, .timeout = 60, .fini = rm_tmpdirs)
{
	shell_roundtrip("fish");
}

Test(envset_shell, roundtrip_zsh, .timeout = 60, .fini = rm_tmpdirs)
{
	shell_roundtrip("zsh");
}

Test(envset_shell, roundtrip_busybox_ash, .timeout = 60, .fini = rm_tmpdirs)
{
	shell_roundtrip("busybox");
}

/* A single quote next to a value's end, its start, and a lone one: each variable on its
 * own, so that one bad quote cannot be hidden by the next variable re-balancing it. */
Test(envset_shell, each_nasty_value_alone, .timeout = 120, .fini = rm_tmpdirs)
{
	static const char *const labels[] = {"dash", "bash", "fish"};
	struct buf env0 = BUF_INIT;
	char *dir = make_tmpdir();
	char *pwned = xasprintf("%s/pwned", dir);
	struct values vs = {NULL, 0};
	size_t s, i, len;

	values_build(&vs, pwned, 0, 0);
	for (s = 0; s < ARRAY_SIZE(labels); s++) {
		const struct shell *sh = shell_find(labels[s]);

		for (i = 0; i < vs.n; i++) {
			struct envset e;
			char *script;
			const char *got;

			envset_init(&e);
			envset_put(&e, "K", vs.v[i], 0);
			script = render(&e, sh->format, 0);
			shell_run(sh, dir, script, "C.UTF-8", &env0);
			cr_assert(!exists(pwned), "%s ran a command hidden in value %zu", sh->label,
			          i);
			got = env0_get(&env0, "K", &len);
			cr_assert_not_null(got, "%s: value %zu lost", sh->label, i);
			assert_bytes(sh->label, vs.v[i], strlen(vs.v[i]), got, len);
			free(script);
			envset_free(&e);
		}
	}
	cr_assert(!exists(pwned), "a shell ran a command hidden in a value");
	buf_free(&env0);
	values_free(&vs);
	free(pwned);
}

/* ---------- JSON, read back by Python's json ---------- */

#define PY "/usr/bin/python3"

/* Prints NAME=VALUE\0 for each of "set", then -NAME\0 for each of "unset". */
static const char py_json[] =
    "import json, sys\n"
    "d = json.loads(open(sys.argv[1], 'rb').read())\n"
    "assert list(d) == ['set', 'unset'], list(d)\n"
    "o = sys.stdout.buffer\n"
    "for k, v in d['set'].items(): o.write(k.encode() + b'=' + v.encode() + b'\\0')\n"
    "for k in d['unset']: o.write(b'-' + k.encode() + b'=\\0')\n";

static void python_run(const char *code, const char *dir, const char *data, size_t n,
                       struct buf *out)
{
	char *path = xasprintf("%s/input", dir);
	char *argv[] = {PY, "-c", (char *)code, path, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "PYTHONIOENCODING=utf-8", NULL};
	int st;

	cr_assert(exists(PY), PY " is needed");
	test_write_file(path, data, n, 0600);
	buf_reset(out);
	st = run(argv, envp, out);
	cr_assert_eq(st, 0, "python exited %d", st);
	free(path);
}

Test(envset_json, python_reads_back_every_value, .timeout = 60, .fini = rm_tmpdirs)
{
	struct values vs = {NULL, 0};
	struct envset e;
	struct buf out = BUF_INIT;
	char *dir = make_tmpdir(), *json;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(fixed_nasty); i++)
		if (utf8_ok(fixed_nasty[i]))
			values_add(&vs, xstrdup(fixed_nasty[i]));
	rng_state = 0x5eed0002;
	for (i = 0; i < 500; i++)
		values_add(&vs, random_utf8());
	envset_init(&e);
	for (i = 0; i < vs.n; i++) {
		char *name = var_name(i);

		envset_put(&e, name, vs.v[i], 1);
		free(name);
	}
	envset_put(&e, "GONE", NULL, 0);
	json = render(&e, ENV_JSON, 0);
	python_run(py_json, dir, json, strlen(json), &out);
	for (i = 0; i < vs.n; i++) {
		char *name = var_name(i);
		const char *got = env0_get(&out, name, &len);

		cr_assert_not_null(got, "json: %s missing", name);
		assert_bytes(name, vs.v[i], strlen(vs.v[i]), got, len);
		free(name);
	}
	cr_assert_not_null(env0_get(&out, "-GONE", &len), "GONE not in unset");
	cr_assert_null(env0_get(&out, "GONE", &len), "GONE in set");
	free(json);

	/* --unset lists every name and sets nothing. */
	json = render(&e, ENV_JSON, 1);
	python_run(py_json, dir, json, strlen(json), &out);
	for (i = 0; i < vs.n; i++) {
		char *name = var_name(i), *unset = xasprintf("-%s", name);

		cr_assert_null(env0_get(&out, name, &len), "--unset sets %s", name);
		cr_assert_not_null(env0_get(&out, unset, &len), "--unset misses %s", name);
		free(name);
		free(unset);
	}
	cr_assert_not_null(env0_get(&out, "-GONE", &len));
	free(json);

	buf_free(&out);
	envset_free(&e);
	values_free(&vs);
}

/* The module's idea of valid UTF-8 is Python's (strict: no surrogates, no overlongs). */
Test(envset_json, utf8_check_agrees_with_python, .timeout = 60, .fini = rm_tmpdirs)
{
	static const char py_utf8[] =
	    "import sys\n"
	    "for s in open(sys.argv[1], 'rb').read().split(b'\\0')[:-1]:\n"
	    "    try: s.decode('utf-8'); sys.stdout.write('1')\n"
	    "    except UnicodeDecodeError: sys.stdout.write('0')\n";
	struct buf in = BUF_INIT, out = BUF_INIT;
	char *dir = make_tmpdir();
	char **vals = xcalloc(2000, sizeof(*vals));
	size_t i, nvalid = 0;

	rng_state = 0x5eed0003;
	for (i = 0; i < 2000; i++) {
		/* Mostly valid text with a few bytes flipped, so both answers come up. */
		if (i % 2) {
			vals[i] = random_bytes();
		} else {
			size_t n;

			vals[i] = random_utf8();
			n = strlen(vals[i]);
			if (i % 4 == 0) {
				unsigned char *p = (unsigned char *)vals[i] + rng_below(n);

				*p = (unsigned char)(*p ^ (1u << rng_below(8)));
				if (!*p)
					*p = 0x80;
			}
		}
		buf_append(&in, vals[i], strlen(vals[i]) + 1);
	}
	python_run(py_utf8, dir, in.data, in.len, &out);
	cr_assert_eq(out.len, 2000);
	for (i = 0; i < 2000; i++) {
		int ours = utf8_ok(vals[i]);

		nvalid += (size_t)ours;
		cr_assert_eq(ours, out.data[i] == '1', "value %zu: [%s]", i,
		             show(vals[i], strlen(vals[i])));
		free(vals[i]);
	}
	cr_assert(nvalid > 200 && nvalid < 1800, "%zu valid of 2000", nvalid);
	free(vals);
	buf_free(&in);
	buf_free(&out);
}

/* ---------- PowerShell: a reference reader from the language specification ---------- */

/* Section 2.3.5.2: single-quote-character is U+0027 or U+2018..U+201B. Returns its length
 * in UTF-8, or 0. */
static size_t ref_ps_quote(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	if (u[0] == '\'')
		return 1;
	if (u[0] == 0xe2 && u[1] == 0x80 && u[2] >= 0x98 && u[2] <= 0x9b)
		return 3;
	return 0;
}

/* verbatim-string-literal: a quote, then parts: any character but a quote, or two quotes
 * standing for one (PowerShell's tokenizer keeps the second), then a closing quote.
 * Reads from *p (at the opening quote); returns the value, or NULL on a syntax error. */
static char *ref_ps_verbatim(const char **p)
{
	struct buf v = BUF_INIT;
	const char *s = *p;
	size_t q = ref_ps_quote(s), q2;

	if (!q)
		return NULL;
	s += q;
	for (;;) {
		if (!*s) {
			buf_free(&v);
			return NULL; /* unterminated */
		}
		q = ref_ps_quote(s);
		if (!q) {
			buf_putc(&v, *s++);
			continue;
		}
		q2 = ref_ps_quote(s + q);
		if (!q2)
			break;
		buf_append(&v, s + q, q2);
		s += q + q2;
	}
	*p = s + q;
	return buf_detach(&v);
}

static size_t ref_name(const char *s)
{
	size_t n = 0;

	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
	       (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
		n++;
	return n;
}

/* Applies a rendered PowerShell script to env (an envset standing for Env:). Returns 0, or
 * -1 on anything the grammar would not accept as these two statements. */
static int ref_ps_run(const char *s, struct envset *env)
{
	static const char rm[] = "Remove-Item Env:", rm_tail[] = " -ErrorAction SilentlyContinue\n";

	while (*s) {
		size_t n;
		char *name, *value;

		if (strncmp(s, "$Env:", 5) == 0) {
			s += 5;
			n = ref_name(s);
			if (!n || strncmp(s + n, " = ", 3) != 0)
				return -1;
			name = xstrndup(s, n);
			s += n + 3;
			value = ref_ps_verbatim(&s);
			if (!value || *s != '\n') {
				free(name);
				free(value);
				return -1;
			}
			s++;
			envset_put(env, name, value, 0);
			free(name);
			free(value);
		} else if (strncmp(s, rm, sizeof(rm) - 1) == 0) {
			s += sizeof(rm) - 1;
			n = ref_name(s);
			if (!n || strncmp(s + n, rm_tail, sizeof(rm_tail) - 1) != 0)
				return -1;
			name = xstrndup(s, n);
			envset_put(env, name, NULL, 0);
			free(name);
			s += n + sizeof(rm_tail) - 1;
		} else {
			return -1;
		}
	}
	return 0;
}

static const char *envset_get(const struct envset *e, const char *name, int *found)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (strcmp(e->vars[i].name, name) == 0) {
			*found = 1;
			return e->vars[i].value;
		}
	}
	*found = 0;
	return NULL;
}

Test(envset_powershell, reference_reader_reads_back_every_value)
{
	struct values vs = {NULL, 0};
	struct envset e, env;
	char *script;
	size_t i;
	int found;

	values_build(&vs, "/nonexistent/pwned", 300, 0x5eed0004);
	rng_state = 0x5eed0005;
	for (i = 0; i < 300; i++)
		values_add(&vs, random_utf8()); /* rich in U+2018..U+201B */
	envset_init(&e);
	envset_init(&env);
	envset_put(&env, "OKC_GONE", "was set", 0);
	for (i = 0; i < vs.n; i++) {
		char *name = var_name(i);

		envset_put(&e, name, vs.v[i], 1);
		free(name);
	}
	envset_put(&e, "OKC_GONE", NULL, 0);
	script = render(&e, ENV_POWERSHELL, 0);
	cr_assert_eq(ref_ps_run(script, &env), 0, "the script does not parse");
	for (i = 0; i < vs.n; i++) {
		char *name = var_name(i);
		const char *got = envset_get(&env, name, &found);

		cr_assert(found && got, "%s missing", name);
		assert_bytes(name, vs.v[i], strlen(vs.v[i]), got, strlen(got));
		free(name);
	}
	envset_get(&env, "OKC_GONE", &found);
	cr_assert(found && !envset_get(&env, "OKC_GONE", &found), "OKC_GONE not removed");
	free(script);

	/* And each value alone, so a quote cannot pair up with the next variable's. */
	for (i = 0; i < vs.n; i++) {
		struct envset one, got;
		const char *v;

		envset_init(&one);
		envset_init(&got);
		envset_put(&one, "K", vs.v[i], 0);
		script = render(&one, ENV_POWERSHELL, 0);
		cr_assert_eq(ref_ps_run(script, &got), 0, "value %zu does not parse", i);
		v = envset_get(&got, "K", &found);
		cr_assert(found && v);
		assert_bytes("alone", vs.v[i], strlen(vs.v[i]), v, strlen(v));
		free(script);
		envset_free(&one);
		envset_free(&got);
	}

	/* The reader is strict enough to catch an undoubled look-alike quote. */
	script = xstrdup("$Env:K = 'a\xe2\x80\x99"
	                 "b'\n");
	cr_assert_eq(ref_ps_run(script, &env), -1);
	free(script);

	envset_free(&e);
	envset_free(&env);
	values_free(&vs);
}

/* ---------- dotenv ---------- */

/* docker compose v2's reader (compose-go dotenv, parser.go extractQuotedValue and
 * expandEscapes, then template substitution): in double quotes, \" drops its backslash
 * while scanning; then \a \b \f \n \r \t \v \" \\ and \0NNN are decoded and \$ becomes a
 * literal $; a bare $ would be interpolated. Returns the value, or NULL when the text
 * would not read back as one literal value. */
static char *ref_compose_value(const char **p)
{
	struct buf raw = BUF_INIT, v = BUF_INIT;
	const char *s = *p;
	int esc = 0;
	size_t i;

	if (*s++ != '"')
		return NULL;
	for (;; s++) {
		if (!*s) {
			buf_free(&raw);
			return NULL;
		}
		if (esc) {
			esc = 0;
			if (*s != '"')
				buf_putc(&raw, '\\');
			buf_putc(&raw, *s);
		} else if (*s == '\\') {
			esc = 1;
		} else if (*s == '"') {
			break;
		} else {
			buf_putc(&raw, *s);
		}
	}
	*p = s + 1;
	buf_putc(&raw, '\0');
	raw.len--;
	for (i = 0; i < raw.len; i++) {
		char c = raw.data[i], d = raw.data[i + 1];

		if (c == '$') {
			buf_free(&raw);
			buf_free(&v);
			return NULL; /* compose would interpolate it */
		}
		if (c != '\\' || !d || !strchr("abfnrtv$\"\\0", d)) {
			buf_putc(&v, c);
			continue;
		}
		i++;
		switch (d) {
		case 'a': buf_putc(&v, '\a'); break;
		case 'b': buf_putc(&v, '\b'); break;
		case 'f': buf_putc(&v, '\f'); break;
		case 'n': buf_putc(&v, '\n'); break;
		case 'r': buf_putc(&v, '\r'); break;
		case 't': buf_putc(&v, '\t'); break;
		case 'v': buf_putc(&v, '\v'); break;
		case '0': {
			unsigned o = 0, k = 0;

			while (k < 3 && raw.data[i + 1] >= '0' && raw.data[i + 1] <= '7') {
				o = o * 8 + (unsigned)(raw.data[++i] - '0');
				k++;
			}
			buf_putc(&v, (char)o);
			break;
		}
		default: buf_putc(&v, d); break; /* $ " \ */
		}
	}
	buf_free(&raw);
	return buf_detach(&v);
}

/* systemd's EnvironmentFile= reader (env-file.c, DOUBLE_QUOTE_VALUE): \" \\ \` \$ lose
 * their backslash, backslash-newline is dropped, any other \X stays two bytes. */
static char *ref_systemd_value(const char **p)
{
	struct buf v = BUF_INIT;
	const char *s = *p;

	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		if (!*s) {
			buf_free(&v);
			return NULL;
		}
		if (*s != '\\') {
			buf_putc(&v, *s);
			continue;
		}
		s++;
		if (!*s) {
			buf_free(&v);
			return NULL;
		}
		if (strchr("\"\\`$", *s)) {
			buf_putc(&v, *s);
		} else if (*s != '\n') {
			buf_putc(&v, '\\');
			buf_putc(&v, *s);
		}
	}
	*p = s + 1;
	return buf_detach(&v);
}

/* Reads NAME="..."\n lines into env with one of the value readers above. */
static int ref_dotenv_run(const char *s, char *(*value_fn)(const char **), struct envset *env)
{
	while (*s) {
		size_t n = ref_name(s);
		char *name, *value;

		if (!n || s[n] != '=')
			return -1;
		name = xstrndup(s, n);
		s += n + 1;
		value = value_fn(&s);
		if (!value || *s != '\n') {
			free(name);
			free(value);
			return -1;
		}
		s++;
		envset_put(env, name, value, 0);
		free(name);
		free(value);
	}
	return 0;
}

static void dotenv_reference_roundtrip(char *(*value_fn)(const char **), int no_cr)
{
	struct values vs = {NULL, 0}, kept = {NULL, 0};
	struct envset e, env;
	char *script;
	size_t i;
	int found;

	values_build(&vs, "/nonexistent/pwned", 500, 0x5eed0006);
	for (i = 0; i < vs.n; i++)
		if (!no_cr || !strchr(vs.v[i], '\r'))
			values_add(&kept, xstrdup(vs.v[i]));
	cr_assert_gt(kept.n, 100);
	envset_init(&e);
	envset_init(&env);
	for (i = 0; i < kept.n; i++) {
		char *name = var_name(i);

		envset_put(&e, name, kept.v[i], 1);
		free(name);
	}
	envset_put(&e, "OKC_GONE", NULL, 0); /* left out: dotenv cannot clear */
	script = render(&e, ENV_DOTENV, 0);
	cr_assert_null(strstr(script, "OKC_GONE"));
	cr_assert_eq(ref_dotenv_run(script, value_fn, &env), 0, "the file does not parse");
	cr_assert_eq(env.n, kept.n);
	for (i = 0; i < kept.n; i++) {
		char *name = var_name(i);
		const char *got = envset_get(&env, name, &found);

		cr_assert(found && got, "%s missing", name);
		assert_bytes(name, kept.v[i], strlen(kept.v[i]), got, strlen(got));
		free(name);
	}
	free(script);
	envset_free(&e);
	envset_free(&env);
	values_free(&vs);
	values_free(&kept);
}

Test(envset_dotenv, compose_reference_reads_back_every_value)
{
	dotenv_reference_roundtrip(ref_compose_value, 0);
}

Test(envset_dotenv, systemd_reference_reads_back_values_without_cr)
{
	dotenv_reference_roundtrip(ref_systemd_value, 1);
}

/* python-dotenv (the `dotenv` module), when installed: every value it can hold, which is
 * valid UTF-8 without $ (it keeps \$ as is) and not ending in a backslash (see
 * envset_quote_dotenv). */
Test(envset_dotenv, python_dotenv_reads_back, .timeout = 60, .fini = rm_tmpdirs)
{
	static const char py_dotenv[] = "import sys\n"
	                                "from dotenv import dotenv_values\n"
	                                "o = sys.stdout.buffer\n"
	                                "for k, v in dotenv_values(sys.argv[1]).items():\n"
	                                "    o.write(k.encode() + b'=' + v.encode() + b'\\0')\n";
	char *argv[] = {PY, "-c", "import dotenv", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct values vs = {NULL, 0}, kept = {NULL, 0};
	struct buf out = BUF_INIT;
	struct envset e;
	char *dir, *script;
	size_t i, len;

	if (!exists(PY) || run(argv, envp, &out) != 0)
		cr_skip_test("python3-dotenv is not installed");
	dir = make_tmpdir();
	values_build(&vs, "/nonexistent/pwned", 300, 0x5eed0007);
	rng_state = 0x5eed0008;
	for (i = 0; i < 300; i++)
		values_add(&vs, random_utf8());
	for (i = 0; i < vs.n; i++) {
		size_t n = strlen(vs.v[i]);

		if (utf8_ok(vs.v[i]) && !strchr(vs.v[i], '$') && !(n && vs.v[i][n - 1] == '\\'))
			values_add(&kept, xstrdup(vs.v[i]));
	}
	cr_assert_gt(kept.n, 200);
	envset_init(&e);
	for (i = 0; i < kept.n; i++) {
		char *name = var_name(i);

		envset_put(&e, name, kept.v[i], 1);
		free(name);
	}
	script = render(&e, ENV_DOTENV, 0);
	python_run(py_dotenv, dir, script, strlen(script), &out);
	for (i = 0; i < kept.n; i++) {
		char *name = var_name(i);
		const char *got = env0_get(&out, name, &len);

		cr_assert_not_null(got, "python-dotenv: %s missing", name);
		assert_bytes(name, kept.v[i], strlen(kept.v[i]), got, len);
		free(name);
	}
	free(script);
	buf_free(&out);
	envset_free(&e);
	values_free(&vs);
	values_free(&kept);
}
