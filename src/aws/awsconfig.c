/* awsconfig.c: the AWS config file's profiles that run `oktacred credential-process`:
 * their text, and their merge into ~/.aws/config, touching only oktacred's own profiles
 * and keeping every other byte (`oktacred aws-config`). _XOPEN_SOURCE for realpath(3): a
 * linked AWS config file is replaced where the link points. */
#define _XOPEN_SOURCE 700

#include "oktacred/awsconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/front.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

/* More than any AWS config file a person writes; a bound on what is read. */
#define AWSCONFIG_MAX (4u * 1024 * 1024)

/* The keys an oktacred profile sets; the others of a managed profile are the user's. */
static const char *const own_keys[] = {"credential_process", "region"};

void awsconfig_add(struct awsconfig *ac, const char *name, const char *identity, const char *role,
                   const char *region)
{
	struct awsconfig_profile *p;

	ac->profiles = xrealloc(ac->profiles, (ac->n + 1) * sizeof(*ac->profiles));
	p = &ac->profiles[ac->n++];
	p->name = xstrdup(name);
	p->identity = xstrdup(identity);
	p->role = role ? xstrdup(role) : NULL;
	p->region = region ? xstrdup(region) : NULL;
}

void awsconfig_free(struct awsconfig *ac)
{
	if (!ac)
		return;
	for (size_t i = 0; i < ac->n; i++) {
		free(ac->profiles[i].name);
		free(ac->profiles[i].identity);
		free(ac->profiles[i].role);
		free(ac->profiles[i].region);
	}
	free(ac->profiles);
	free(ac->exe);
	free(ac->config);
	memset(ac, 0, sizeof(*ac));
}

/* ---- the program to run ---- */

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int same_file(const char *path, const struct stat *self)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == self->st_dev &&
	       st.st_ino == self->st_ino;
}

/* argv0 as a shell found it: absolute, relative to the working directory, or the first
 * entry of PATH (absolute ones only) holding that file. NULL when none is the file self
 * (when self is known). */
static char *find_argv0(const char *argv0, const struct stat *self)
{
	const char *path = getenv("PATH"), *s;
	char cwd[PATH_MAX];

	if (!argv0 || !*argv0)
		return NULL;
	if (strchr(argv0, '/')) {
		char *abs;

		if (argv0[0] == '/')
			abs = xstrdup(argv0);
		else if (getcwd(cwd, sizeof(cwd)))
			abs = xasprintf("%s/%s", strcmp(cwd, "/") ? cwd : "",
			                str_starts(argv0, "./") ? argv0 + 2 : argv0);
		else
			return NULL;
		if (!self || same_file(abs, self))
			return abs;
		free(abs);
		return NULL;
	}
	for (s = path; s && *s;) {
		size_t n = strcspn(s, ":");

		if (n > 0 && s[0] == '/') {
			char *cand = xasprintf("%.*s/%s", (int)n, s, argv0);

			if (access(cand, X_OK) == 0 && (!self || same_file(cand, self)))
				return cand;
			free(cand);
		}
		s += n;
		if (*s == ':')
			s++;
	}
	return NULL;
}

int awsconfig_exe(const char *argv0, char **out, okc_err *err)
{
	char self[PATH_MAX];
	struct stat st;
	/* The front's file when the front handed this command over (front.h). */
	long n = front_self_exe(self, sizeof(self));
	int have_self = n > 0 && stat(self, &st) == 0;
	char *exe;

	*out = NULL;
	exe = find_argv0(argv0, have_self ? &st : NULL);
	if (!exe && n > 0 && self[0] == '/')
		exe = xstrdup(self);
	if (!exe)
		return okc_fail(err, OKC_EXIT_FAIL,
		                "cannot tell where this oktacred is (no /proc/self/exe, and %s is "
		                "not found in PATH)",
		                argv0 && *argv0 ? argv0 : "its name");
	if (has_control(exe)) {
		char *shown = text_escape_dup(exe);

		okc_fail(err, OKC_EXIT_FAIL,
		         "the path of oktacred (%s) has a control character, which an AWS config "
		         "value cannot hold",
		         shown);
		free(shown);
		free(exe);
		return -1;
	}
	*out = exe;
	return 0;
}

int awsconfig_set_config(struct awsconfig *ac, const char *path, okc_err *err)
{
	char cwd[PATH_MAX];

	if (has_control(path)) {
		char *shown = text_escape_dup(path);

		okc_fail(err, OKC_EXIT_FAIL,
		         "the configuration's path (%s) has a control character, which an AWS "
		         "config value cannot hold",
		         shown);
		free(shown);
		return -1;
	}
	free(ac->config);
	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		ac->config = xstrdup(path);
	else
		ac->config = xasprintf("%s/%s", strcmp(cwd, "/") ? cwd : "",
		                       str_starts(path, "./") ? path + 2 : path);
	return 0;
}

/* ---- text ---- */

void awsconfig_quote(struct buf *out, const char *word)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                           "0123456789_./:=@%+,-";
	const char *p;

	if (*word && strspn(word, safe) == strlen(word)) {
		buf_puts(out, word);
		return;
	}
	buf_putc(out, '\'');
	for (p = word; *p; p++) {
		if (*p == '\'')
			buf_puts(out, "'\\''");
		else
			buf_putc(out, *p);
	}
	buf_putc(out, '\'');
}

/* The header, the marker and oktacred's keys of one profile. */
static void render_profile(const struct awsconfig *ac, const struct awsconfig_profile *p,
                           struct buf *out)
{
	if (strcmp(p->name, "default") == 0)
		buf_puts(out, "[default]\n");
	else
		buf_printf(out, "[profile %s]\n", p->name);
	buf_puts(out, AWSCONFIG_MARKER "\n");
	buf_puts(out, "credential_process = ");
	awsconfig_quote(out, ac->exe);
	if (ac->config) {
		buf_puts(out, " --config ");
		awsconfig_quote(out, ac->config);
	}
	buf_puts(out, " credential-process ");
	awsconfig_quote(out, p->identity);
	if (p->role) {
		buf_puts(out, " --role ");
		awsconfig_quote(out, p->role);
	}
	buf_putc(out, '\n');
	if (p->region)
		buf_printf(out, "region = %s\n", p->region);
}

void awsconfig_render(const struct awsconfig *ac, struct buf *out)
{
	for (size_t i = 0; i < ac->n; i++) {
		if (i)
			buf_putc(out, '\n');
		render_profile(ac, &ac->profiles[i], out);
	}
}

/* ---- reading the file ---- */

struct line {
	const char *s;
	size_t len;  /* with its newline, if any */
	size_t tlen; /* without the newline and trailing blanks (and a CR) */
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static struct line *split_lines(const char *text, size_t len, size_t *n)
{
	struct line *v = NULL;
	size_t cap = 0, i = 0;

	*n = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		struct line *l;

		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		l = &v[(*n)++];
		l->s = text + i;
		l->len = end - i;
		l->tlen = nl ? l->len - 1 : l->len;
		while (l->tlen > 0 && is_blank(l->s[l->tlen - 1]))
			l->tlen--;
		i = end;
	}
	return v;
}

/* Where the text of l starts after leading blanks. */
static size_t indent(const struct line *l)
{
	size_t k = 0;

	while (k < l->tlen && is_blank(l->s[k]))
		k++;
	return k;
}

static int is_header(const struct line *l)
{
	size_t k = indent(l);

	return k < l->tlen && l->s[k] == '[' && memchr(l->s + k, ']', l->tlen - k);
}

/* The profile a section header names, as botocore reads it: [default] is "default",
 * [profile NAME] (NAME maybe quoted) is NAME; other sections (sso-session, services, a
 * bare name) name none: NULL. Allocated. */
static char *header_profile(const struct line *l)
{
	const char *s = l->s + indent(l) + 1, *e = l->s + l->tlen;

	while (e > s && e[-1] != ']')
		e--;
	e--; /* the last ']' */
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	if ((size_t)(e - s) == 7 && memcmp(s, "default", 7) == 0)
		return xstrdup("default");
	if (e - s < 8 || memcmp(s, "profile", 7) != 0 || !is_blank(s[7]))
		return NULL;
	s += 8;
	while (s < e && is_blank(*s))
		s++;
	if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) {
		s++;
		e--;
	}
	return s < e ? xstrndup(s, (size_t)(e - s)) : NULL;
}

static int is_comment(const struct line *l)
{
	size_t k = indent(l);

	return k < l->tlen && (l->s[k] == '#' || l->s[k] == ';');
}

static int is_marker(const struct line *l)
{
	size_t k = indent(l), m = strlen(AWSCONFIG_MARKER);

	return l->tlen - k >= m && memcmp(l->s + k, AWSCONFIG_MARKER, m) == 0;
}

/* Where the '=' or ':' of a "key = value" line is, or 0 when l is none. */
static size_t setting_sep(const struct line *l)
{
	size_t e = 0;

	if (indent(l) > 0 || is_comment(l) || is_header(l))
		return 0;
	while (e < l->tlen && l->s[e] != '=' && l->s[e] != ':')
		e++;
	return e < l->tlen ? e : 0;
}

static int is_setting(const struct line *l)
{
	return setting_sep(l) > 0;
}

/* A "key = value" (or "key: value") line whose key is one oktacred sets. */
static int is_own_key(const struct line *l)
{
	size_t e = setting_sep(l);

	if (e == 0)
		return 0;
	while (e > 0 && is_blank(l->s[e - 1]))
		e--;
	for (size_t i = 0; i < ARRAY_SIZE(own_keys); i++)
		if (strlen(own_keys[i]) == e && strncasecmp(l->s, own_keys[i], e) == 0)
			return 1;
	return 0;
}

/* A line that continues the value of the key before it: indented, not blank. */
static int is_continuation(const struct line *l)
{
	size_t k = indent(l);

	return k > 0 && k < l->tlen;
}

struct section {
	size_t head; /* the header's line */
	size_t end;  /* the line after the section's last */
	char *profile;
};

static struct section *find_sections(const struct line *lines, size_t n, size_t *ns)
{
	struct section *v = NULL;
	int in_value = 0;

	*ns = 0;
	for (size_t i = 0; i < n; i++) {
		/* An indented line after a setting continues its value, even "[...]" (as
		 * configparser reads it). */
		if (in_value && is_continuation(&lines[i]))
			continue;
		in_value = is_setting(&lines[i]);
		if (!is_header(&lines[i]))
			continue;
		if (*ns)
			v[*ns - 1].end = i;
		v = xrealloc(v, (*ns + 1) * sizeof(*v));
		v[*ns].head = i;
		v[*ns].end = n;
		v[*ns].profile = header_profile(&lines[i]);
		(*ns)++;
	}
	return v;
}

/* A managed section: header, marker, oktacred's keys, then the section's other lines. */
static void rewrite_section(const struct awsconfig *ac, const struct awsconfig_profile *p,
                            const struct line *lines, const struct section *sec, struct buf *out)
{
	int dropping = 0;

	render_profile(ac, p, out);
	for (size_t i = sec->head + 1; i < sec->end; i++) {
		const struct line *l = &lines[i];

		if (dropping && is_continuation(l))
			continue;
		dropping = 0;
		if (is_marker(l))
			continue;
		if (is_own_key(l)) {
			dropping = 1;
			continue;
		}
		buf_append(out, l->s, l->len);
	}
}

int awsconfig_merge(const char *text, size_t len, const struct awsconfig *ac, int force,
                    const char *path, struct buf *out, okc_err *err)
{
	size_t nl, ns, i, k;
	struct line *lines = split_lines(text, len, &nl);
	struct section *secs = find_sections(lines, nl, &ns);
	/* For each section, the profile of ac that replaces it, or -1. */
	long *owner = xcalloc(ns + 1, sizeof(*owner));
	char *found = xcalloc(ac->n + 1, 1);
	int rc = -1, appended = 0;

	for (i = 0; i < ns; i++)
		owner[i] = -1;
	for (k = 0; k < ac->n; k++) {
		const struct awsconfig_profile *p = &ac->profiles[k];

		for (i = 0; i < ns; i++) {
			const struct section *s = &secs[i];

			if (!str_eq(s->profile, p->name))
				continue;
			if (found[k]) {
				okc_fail(err, OKC_EXIT_FAIL,
				         "%s:%zu: profile %s is defined a second time; aws-config "
				         "does not guess which one to change",
				         path, s->head + 1, p->name);
				okc_hint(err, "remove one of them from %s", path);
				goto out;
			}
			found[k] = 1;
			if (!force && !(s->head + 1 < s->end && is_marker(&lines[s->head + 1]))) {
				okc_fail(
				    err, OKC_EXIT_FAIL,
				    "%s:%zu: profile %s is not managed by oktacred; left as it is",
				    path, s->head + 1, p->name);
				okc_hint(
				    err,
				    "rename the identity or the profile, or replace the profile: "
				    "oktacred aws-config --write --force");
				goto out;
			}
			owner[i] = (long)k;
		}
	}

	for (i = 0; i < (ns ? secs[0].head : nl); i++)
		buf_append(out, lines[i].s, lines[i].len);
	for (i = 0; i < ns; i++) {
		if (owner[i] >= 0) {
			rewrite_section(ac, &ac->profiles[owner[i]], lines, &secs[i], out);
			continue;
		}
		for (k = secs[i].head; k < secs[i].end; k++)
			buf_append(out, lines[k].s, lines[k].len);
	}
	for (k = 0; k < ac->n; k++) {
		if (found[k])
			continue;
		if (!appended && out->len > 0) {
			/* A blank line between what was there and the new profiles. */
			if (out->data[out->len - 1] != '\n')
				buf_putc(out, '\n');
			if (nl > 0 && lines[nl - 1].tlen > indent(&lines[nl - 1]))
				buf_putc(out, '\n');
		} else if (appended) {
			buf_putc(out, '\n');
		}
		render_profile(ac, &ac->profiles[k], out);
		appended = 1;
	}
	if (!out->data)
		buf_puts(out, ""); /* NUL-terminated, also when empty */
	rc = 0;
out:
	for (i = 0; i < ns; i++)
		free(secs[i].profile);
	free(secs);
	free(lines);
	free(owner);
	free(found);
	return rc;
}

/* ---- the file ---- */

int awsconfig_path(char **out, okc_err *err)
{
	const char *env = getenv("AWS_CONFIG_FILE");

	return paths_expand_home(env && *env ? env : "~/.aws/config", out, err);
}

/* mkdir -p with mode 0700 for what is missing. */
static int make_dirs(const char *dir, okc_err *err)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST) {
				rc = okc_fail(err, OKC_EXIT_FAIL, "cannot create %s: %s", p,
				              strerror(errno));
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

static int read_config(const char *path, struct buf *old, okc_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return okc_fail(err, OKC_EXIT_FAIL, "cannot read %s: %s", path, strerror(errno));
	rc = buf_read_fd(old, fd, AWSCONFIG_MAX);
	if (rc < 0)
		okc_fail(err, OKC_EXIT_FAIL, "cannot read %s: %s", path,
		         errno == EFBIG ? "larger than 4 MiB" : strerror(errno));
	close(fd);
	return rc;
}

int awsconfig_write(const char *path, const struct awsconfig *ac, int force, int *changed,
                    char **backup, okc_err *err)
{
	struct buf old = BUF_INIT, text = BUF_INIT;
	char *target = NULL, *dir = NULL, *slash, *bak = NULL;
	const char *base;
	struct stat st;
	mode_t mode = 0600;
	int exists, rc = -1;

	*changed = 0;
	if (backup)
		*backup = NULL;
	/* A config kept in a dotfiles repository stays a link: the file it names is replaced. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		target = realpath(path, NULL);
		if (!target)
			return okc_fail(err, OKC_EXIT_FAIL, "%s: cannot follow the link: %s", path,
			                strerror(errno));
	} else {
		target = xstrdup(path);
	}
	exists = lstat(target, &st) == 0;
	if (!exists && errno != ENOENT) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: %s", target, strerror(errno));
		goto out;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		okc_fail(err, OKC_EXIT_FAIL, "%s is not a regular file", target);
		goto out;
	}
	if (exists && st.st_uid != my_euid()) {
		okc_fail(err, OKC_EXIT_FAIL, "%s belongs to another user (uid %ld); not changed",
		         target, (long)st.st_uid);
		goto out;
	}
	if (exists) {
		mode = st.st_mode & 07777;
		if (read_config(target, &old, err) < 0)
			goto out;
	}
	if (awsconfig_merge(old.data ? old.data : "", old.len, ac, force, target, &text, err) < 0)
		goto out;
	rc = 0;
	if (exists && text.len == old.len && memcmp(text.data, old.data, old.len) == 0)
		goto out;

	slash = strrchr(target, '/');
	dir = slash ? (slash == target ? xstrdup("/") : xstrndup(target, (size_t)(slash - target)))
	            : xstrdup(".");
	base = slash ? slash + 1 : target;
	rc = -1;
	if (!exists && make_dirs(dir, err) < 0)
		goto out;
	if (exists) {
		char *name = xasprintf("%s.oktacred-bak", base);

		bak = paths_join(dir, name);
		rc = store_replace_file(dir, name, old.data, old.len, 0600, err);
		free(name);
		if (rc < 0)
			goto out;
	}
	rc = store_replace_file(dir, base, text.data, text.len, mode, err);
	if (rc == 0) {
		*changed = 1;
		if (backup) {
			*backup = bak;
			bak = NULL;
		}
	}
out:
	buf_free(&old);
	buf_free(&text);
	free(target);
	free(dir);
	free(bak);
	return rc;
}
