/* config.c: the INI configuration (DESIGN.md section 3) read with libinih into structs and
 * validated, every error as "FILE:LINE: message". The only file that includes <ini.h>. */
#include "oktacred/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "oktacred/buf.h"
#include "oktacred/paths.h"
#include "oktacred/util.h"

#define CONFIG_MAX_SIZE (1024 * 1024)
#define NAME_MAX_LEN    64
#define MAX_KEYS        16
#define DEFAULT_SCOPES  "openid profile email offline_access"

/*
 * How libinih is used. Whatever a distribution built it with, inih has a fixed line buffer
 * (Debian's libinih 55: 200 bytes, on the stack; a longer line is silently split into
 * several "lines", which also shifts every later line number), truncates section names to
 * 49 bytes, treats an indented line as the continuation of the previous value, and does
 * not tell the handler its line number or when a section starts. So it reads through
 * config_reader(), which hands it one physical line at a time, already normalised: BOM,
 * CR, leading blanks and comments removed (no line starts with a blank, so there are no
 * continuation lines), section headers checked and tracked here with their line, and a
 * value too long for inih's buffer kept aside (parse_ctx.long_value) while inih sees an
 * empty one. inih splits "key = value" and calls config_handler(); the line number is the
 * reader's count, which is exact because inih asks for exactly one line per call.
 */

enum section_type { SEC_NONE, SEC_DEFAULTS, SEC_PROVIDER, SEC_IDENTITY };

enum provider_key {
	PK_KIND,
	PK_ORG_URL,
	PK_CLIENT_ID,
	PK_AUTHZ_SERVER,
	PK_SCOPES,
	PK_TOKEN_STORE,
	PK_REFRESH_BEFORE,
	PK_BASE_PATH,
	PK_CA_BUNDLE,
	PK_PRIVATE_KEY,
	PK_PRIVATE_KEY_ID,
	PK_CLIENT_SECRET,
	PK_TOKEN_ENV,
	PK_TIMEOUT,
	PK_COUNT
};

enum identity_key {
	IK_KIND,
	IK_PROVIDER,
	IK_ROLE_ARN,
	IK_ROLE_MAP,
	IK_REGION,
	IK_DURATION,
	IK_SESSION_NAME,
	IK_STS_ENDPOINT,
	IK_INTERACTIVE,
	IK_COUNT
};

_Static_assert(PK_COUNT <= MAX_KEYS && IK_COUNT <= MAX_KEYS, "MAX_KEYS too small");

/* What the reader knows of a [provider] or [identity] section beyond its struct. */
struct section_meta {
	int kind;               /* -1 until a valid kind line */
	int key_line[MAX_KEYS]; /* 0: key absent; else the line it was set on */
};

struct parse_ctx {
	struct config *cfg;
	const char *file;
	okc_err *err;
	int failed; /* err holds the first error: stop */
	int err_line;
	/* input */
	const char *data;
	size_t len, pos;
	int lineno;
	char *long_value; /* this line's value when it did not fit inih's buffer */
	/* the section being read */
	enum section_type sec;
	size_t sec_idx;
	struct section_meta *pmeta; /* parallel to cfg->providers */
	struct section_meta *imeta; /* parallel to cfg->identities */
	int defaults_line;
	int defaults_identity_line;
	/* a secret written in the file itself, not through ${VAR}: which key, or NULL */
	const char *secret_key;
};

struct key_def {
	const char *name;
	unsigned kinds; /* bit (1 << kind) for each kind the key belongs to */
	int (*set)(struct parse_ctx *ctx, void *obj, const char *value, const char *raw);
};

/* ---- messages ---- */

static int fail_at(struct parse_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(struct parse_ctx *ctx, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	okc_fail(ctx->err, OKC_EXIT_USAGE, "%s:%d: %s", ctx->file, line, msg);
	ctx->failed = 1;
	ctx->err_line = line;
	return -1;
}

#define fail_here(ctx, ...) fail_at((ctx), (ctx)->lineno, __VA_ARGS__)

/* A string from the file made safe to print in a message: control and non-ASCII bytes as
 * '?', at most 64 characters. */
static const char *shown(const char *s, size_t n, char out[80])
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

#define SHOW(s, tmp) shown((s), strlen(s), (tmp))

/* A path quoted for a "run: ..." hint when the shell would split or expand it. */
static const char *shell_quoted(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	                    "/._-+,:@%=") == strlen(s))
		return s;
	if (outlen < 8)
		return s;
	out[o++] = '\'';
	for (p = s; *p && o + 6 < outlen; p++) {
		if (*p == '\'') {
			memcpy(out + o, "'\\''", 4);
			o += 4;
		} else {
			out[o++] = *p;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
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

/* Exactly four decimal octets, the first 127: nothing that a resolver could read as
 * another address (octal, short forms) passes. */
static int is_loopback_ipv4(const char *s, size_t n)
{
	size_t i = 0;
	int part;

	if (n < 4 || memcmp(s, "127.", 4) != 0)
		return 0;
	i = 4;
	for (part = 1; part < 4; part++) {
		size_t start = i;
		int v = 0;

		while (i < n && isdigit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (s[i++] - '0');
		if (i == start || v > 255)
			return 0;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

/*
 * Checks an http(s) URL and returns a normalised copy (scheme and host in lower case), or
 * NULL with *why set. https, or http for a loopback host (localhost, 127.0.0.0/8, [::1]).
 * origin_only: scheme://host[:port] with at most trailing slashes, which are dropped.
 * Otherwise a path may follow; a query or fragment never.
 */
static char *check_url(const char *url, int origin_only, const char **why)
{
	const char *host, *hend, *p, *rest;
	size_t slen, i;
	int http;
	char *out;

	if (has_space_or_control(url)) {
		*why = "contains spaces or control characters";
		return NULL;
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		http = 0;
		slen = 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		http = 1;
		slen = 7;
	} else {
		*why = "must start with https://";
		return NULL;
	}
	host = url + slen;
	rest = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(rest - host))) {
		*why = "must not contain a user name or password";
		return NULL;
	}
	if (*host == '[') {
		hend = memchr(host, ']', (size_t)(rest - host));
		if (!hend || hend == host + 1) {
			*why = "has a malformed [IPv6] host";
			return NULL;
		}
		for (p = host + 1; p < hend; p++) {
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.') {
				*why = "has a malformed [IPv6] host";
				return NULL;
			}
		}
		hend++;
	} else {
		hend = host;
		while (hend < rest &&
		       (isalnum((unsigned char)*hend) || *hend == '.' || *hend == '-'))
			hend++;
		if (hend == host || *host == '.' || *host == '-') {
			*why = "has no valid host name";
			return NULL;
		}
	}
	if (hend < rest && *hend == ':') {
		long port = 0;

		for (p = hend + 1; p < rest && isdigit((unsigned char)*p) && port <= 65535; p++)
			port = port * 10 + (*p - '0');
		if (p != rest || p == hend + 1 || port < 1 || port > 65535) {
			*why = "has an invalid port";
			return NULL;
		}
	} else if (hend != rest) {
		*why = "has an invalid character in the host name";
		return NULL;
	}
	if (http && !(((size_t)(hend - host) == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	              ((size_t)(hend - host) == 5 && memcmp(host, "[::1]", 5) == 0) ||
	              is_loopback_ipv4(host, (size_t)(hend - host)))) {
		*why = "must use https:// (http:// is only for localhost, 127.0.0.0/8 and [::1])";
		return NULL;
	}
	if (strpbrk(rest, "?#")) {
		*why = "must not have a query or fragment";
		return NULL;
	}
	if (origin_only && rest[strspn(rest, "/")] != '\0') {
		*why = "must be scheme://host[:port] without a path (a custom authorization "
		       "server is set with authorization_server)";
		return NULL;
	}
	out = xstrdup(url);
	for (i = 0; i < (size_t)(rest - url); i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	if (origin_only)
		out[rest - url] = '\0';
	return out;
}

/* arn:aws[-PARTITION]:iam::ACCOUNT(12 digits):role/[PATH/]NAME */
static int valid_role_arn(const char *s, size_t n)
{
	size_t i;

	if (n < 7 || memcmp(s, "arn:aws", 7) != 0)
		return 0;
	i = 7;
	while (i < n && (islower((unsigned char)s[i]) || s[i] == '-'))
		i++;
	if (n - i < 6 || memcmp(s + i, ":iam::", 6) != 0)
		return 0;
	i += 6;
	if (n - i < 12)
		return 0;
	for (size_t k = 0; k < 12; k++)
		if (!isdigit((unsigned char)s[i + k]))
			return 0;
	i += 12;
	if (n - i < 7 || memcmp(s + i, ":role/", 6) != 0)
		return 0;
	i += 6;
	if (s[n - 1] == '/')
		return 0;
	for (; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_/-", s[i]))
			return 0;
	return 1;
}

/* ---- ${VAR} expansion ---- */

/* Expands ${NAME} from the environment, "$$" to "$"; any other '$' is literal. The result
 * is not expanded again. */
static int expand_vars(struct parse_ctx *ctx, const char *raw, char **out)
{
	struct buf b = BUF_INIT;
	const char *p = raw;
	char tmp[80];
	int rc = 0;

	while (*p && rc == 0) {
		if (p[0] == '$' && p[1] == '$') {
			rc = buf_putc(&b, '$');
			p += 2;
		} else if (p[0] == '$' && p[1] == '{') {
			const char *name = p + 2, *close = strchr(name, '}');
			const char *val;
			char *var;

			if (!close) {
				buf_free(&b);
				fail_here(ctx, "unterminated ${ (no closing '}')");
				okc_hint(ctx->err, "write $$ for a literal $");
				return -1;
			}
			if (!valid_env_name(name, (size_t)(close - name))) {
				buf_free(&b);
				return fail_here(ctx, "${%s} is not a valid variable name",
				                 shown(name, (size_t)(close - name), tmp));
			}
			var = xstrndup(name, (size_t)(close - name));
			val = getenv(var);
			if (!val) {
				buf_free(&b);
				fail_here(ctx, "${%s} is not set", var);
				okc_hint(ctx->err,
				         "set %s in the environment, or write $$ for a literal $",
				         var);
				free(var);
				return -1;
			}
			free(var);
			rc = buf_puts(&b, val);
			p = close + 1;
		} else {
			rc = buf_putc(&b, *p++);
		}
	}
	/* Not buf_detach() for "": it hands back an unterminated block when nothing was
	 * appended. */
	if (rc == 0 && b.len == 0) {
		buf_free(&b);
		*out = xstrdup("");
		return 0;
	}
	if (rc == 0 && (*out = buf_detach(&b)) != NULL)
		return 0;
	buf_free(&b);
	okc_fail(ctx->err, OKC_EXIT_FAIL, "out of memory");
	ctx->failed = 1;
	return -1;
}

/* Whether a raw value has text of its own besides ${NAME} references, i.e. whether a
 * secret in it is written in the file. */
static int has_literal_text(const char *raw)
{
	const char *p = raw;

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

/* ---- provider keys ---- */

#define P_DC  (1u << PROVIDER_DEVICE_CODE)
#define P_SA  (1u << PROVIDER_SERVICE_ACCOUNT)
#define P_AT  (1u << PROVIDER_API_TOKEN)
#define P_ALL (P_DC | P_SA | P_AT)

static const struct key_def provider_keys[PK_COUNT];

static int set_provider_kind(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	static const char *const names[] = {"okta/device-code", "okta/service-account",
	                                    "okta/api-token"};
	struct provider_cfg *p = obj;
	struct section_meta *m = &ctx->pmeta[ctx->sec_idx];
	int k, first = 0, bad = -1;
	char tmp[80];

	(void)raw;
	for (k = 0; k < (int)ARRAY_SIZE(names); k++)
		if (strcmp(v, names[k]) == 0)
			break;
	if (k == (int)ARRAY_SIZE(names)) {
		if (strcmp(v, "okta/api-access") == 0 || strcmp(v, "aws/assume-role") == 0)
			return fail_here(ctx,
			                 "%s is an identity kind; a provider's kind is "
			                 "okta/device-code, okta/service-account or okta/api-token",
			                 v);
		return fail_here(ctx,
		                 "unknown provider kind \"%s\": use okta/device-code, "
		                 "okta/service-account or okta/api-token",
		                 SHOW(v, tmp));
	}
	p->kind = (enum provider_kind)k;
	m->kind = k;
	/* Keys read before the kind line that do not belong to this kind. */
	for (size_t i = 0; i < PK_COUNT; i++) {
		if (m->key_line[i] && !(provider_keys[i].kinds & (1u << k)) &&
		    (!first || m->key_line[i] < first)) {
			first = m->key_line[i];
			bad = (int)i;
		}
	}
	if (bad >= 0)
		return fail_at(ctx, first, "%s is not a key of %s providers",
		               provider_keys[bad].name, names[k]);
	return 0;
}

static int set_org_url(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;
	const char *why = NULL;
	char tmp[80];

	(void)raw;
	p->org_url = check_url(v, 1, &why);
	if (!p->org_url)
		return fail_here(ctx, "org_url \"%s\" %s", SHOW(v, tmp), why);
	return 0;
}

static int set_client_id(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;

	(void)raw;
	if (has_space_or_control(v))
		return fail_here(ctx, "client_id must not contain spaces");
	p->client_id = xstrdup(v);
	return 0;
}

static int set_authz_server(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;
	char tmp[80];
	size_t n = strlen(v);

	(void)raw;
	if (n > 64 ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != n)
		return fail_here(ctx,
		                 "authorization_server \"%s\" is not \"default\", \"org\" or an "
		                 "authorization server id (letters and digits)",
		                 SHOW(v, tmp));
	p->authorization_server = xstrdup(v);
	return 0;
}

/* Scope tokens (RFC 6749 3.3) separated by single spaces. */
static int set_scopes(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;
	char *out = xmalloc(strlen(v) + 1), *o = out;
	const char *s = v;

	(void)raw;
	while (*s) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		if (o != out)
			*o++ = ' ';
		while (*s && !is_blank(*s)) {
			if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e || *s == '"' ||
			    *s == '\\') {
				free(out);
				return fail_here(ctx, "scopes: invalid character in a scope name");
			}
			*o++ = *s++;
		}
	}
	*o = '\0';
	p->scopes = out;
	return 0;
}

static int set_token_store(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;
	char tmp[80];

	(void)raw;
	if (strcmp(v, "file") == 0)
		p->token_store = TOKEN_STORE_FILE;
	else if (strcmp(v, "keyring") == 0)
		p->token_store = TOKEN_STORE_KEYRING;
	else
		return fail_here(ctx, "token_store \"%s\": use file or keyring", SHOW(v, tmp));
	return 0;
}

static int set_refresh_before(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;
	char tmp[80];

	(void)raw;
	if (parse_duration(v, &p->refresh_before) < 0)
		return fail_here(ctx,
		                 "refresh_before \"%s\" is not a duration (like 30s, 5m or 1h)",
		                 SHOW(v, tmp));
	return 0;
}

/* The HTTP timeout of one request to the provider: whole seconds, 1s to 10m. */
static int set_timeout(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;
	char tmp[80];
	long t;

	(void)raw;
	if (parse_duration(v, &t) < 0)
		return fail_here(ctx, "timeout \"%s\" is not a duration (like 10s or 1m)",
		                 SHOW(v, tmp));
	if (t < 1 || t > 600)
		return fail_here(ctx, "timeout %s must be between 1s and 10m", SHOW(v, tmp));
	p->timeout = t;
	return 0;
}

/* A path with ~ expanded, which must then be absolute: a relative one would depend on the
 * directory oktacred happens to run in. */
static int set_path(struct parse_ctx *ctx, const char *key, const char *v, char **out)
{
	int secret = strcmp(key, "private_key") == 0;
	char tmp[80];

	if (paths_expand_home(v, out, ctx->err) < 0) {
		char msg[sizeof(ctx->err->msg)];

		memcpy(msg, ctx->err->msg, sizeof(msg));
		return fail_here(ctx, "%s: %s", key, msg);
	}
	if ((*out)[0] != '/') {
		free(*out);
		*out = NULL;
		/* A mangled key pasted in must not end up in the message. */
		if (secret)
			return fail_here(ctx,
			                 "private_key is neither PEM text (-----BEGIN ...) nor an "
			                 "absolute path (or one starting with ~/)");
		return fail_here(ctx, "%s \"%s\" must be an absolute path or start with ~/", key,
		                 SHOW(v, tmp));
	}
	return 0;
}

static int set_base_path(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	(void)raw;
	return set_path(ctx, "files.base_path", v, &((struct provider_cfg *)obj)->base_path);
}

static int set_ca_bundle(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	(void)raw;
	return set_path(ctx, "ca_bundle", v, &((struct provider_cfg *)obj)->ca_bundle);
}

static int set_private_key(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;

	if (str_starts(v, "-----BEGIN")) {
		p->private_key = xstrdup(v);
		if (str_starts(raw, "-----BEGIN") && !ctx->secret_key)
			ctx->secret_key = "a private key";
		return 0;
	}
	return set_path(ctx, "private_key", v, &p->private_key);
}

static int set_private_key_id(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;

	(void)raw;
	if (has_space_or_control(v))
		return fail_here(ctx, "private_key_id must not contain spaces");
	p->private_key_id = xstrdup(v);
	return 0;
}

static int set_client_secret(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;

	p->client_secret = xstrdup(v);
	if (has_literal_text(raw))
		ctx->secret_key = "a client_secret";
	return 0;
}

static int set_token_env(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct provider_cfg *p = obj;

	(void)raw;
	/* Not shown: people paste the token itself here. */
	if (!valid_env_name(v, strlen(v)))
		return fail_here(ctx, "token_env is not an environment variable name (it names the "
		                      "variable that holds the token, like OKTA_API_TOKEN)");
	p->token_env = xstrdup(v);
	return 0;
}

static const struct key_def provider_keys[PK_COUNT] = {
    [PK_KIND] = {"kind", P_ALL, set_provider_kind},
    [PK_ORG_URL] = {"org_url", P_ALL, set_org_url},
    [PK_CLIENT_ID] = {"client_id", P_DC | P_SA, set_client_id},
    [PK_AUTHZ_SERVER] = {"authorization_server", P_DC | P_SA, set_authz_server},
    [PK_SCOPES] = {"scopes", P_DC | P_SA, set_scopes},
    [PK_TOKEN_STORE] = {"token_store", P_ALL, set_token_store},
    [PK_REFRESH_BEFORE] = {"refresh_before", P_DC | P_SA, set_refresh_before},
    [PK_BASE_PATH] = {"files.base_path", P_ALL, set_base_path},
    [PK_CA_BUNDLE] = {"ca_bundle", P_ALL, set_ca_bundle},
    [PK_PRIVATE_KEY] = {"private_key", P_SA, set_private_key},
    [PK_PRIVATE_KEY_ID] = {"private_key_id", P_SA, set_private_key_id},
    [PK_CLIENT_SECRET] = {"client_secret", P_SA, set_client_secret},
    [PK_TOKEN_ENV] = {"token_env", P_AT, set_token_env},
    [PK_TIMEOUT] = {"timeout", P_ALL, set_timeout},
};

/* ---- identity keys ---- */

#define I_API (1u << IDENTITY_API_ACCESS)
#define I_AWS (1u << IDENTITY_AWS_ASSUME_ROLE)
#define I_ALL (I_API | I_AWS)

static const struct key_def identity_keys[IK_COUNT];

static int set_identity_kind(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	static const char *const names[] = {"okta/api-access", "aws/assume-role"};
	struct identity_cfg *id = obj;
	struct section_meta *m = &ctx->imeta[ctx->sec_idx];
	int k, first = 0, bad = -1;
	char tmp[80];

	(void)raw;
	for (k = 0; k < (int)ARRAY_SIZE(names); k++)
		if (strcmp(v, names[k]) == 0)
			break;
	if (k == (int)ARRAY_SIZE(names)) {
		if (str_starts(v, "okta/") &&
		    (strcmp(v + 5, "device-code") == 0 || strcmp(v + 5, "service-account") == 0 ||
		     strcmp(v + 5, "api-token") == 0))
			return fail_here(ctx,
			                 "%s is a provider kind; an identity's kind is "
			                 "okta/api-access or aws/assume-role",
			                 v);
		return fail_here(
		    ctx, "unknown identity kind \"%s\": use okta/api-access or aws/assume-role",
		    SHOW(v, tmp));
	}
	id->kind = (enum identity_kind)k;
	m->kind = k;
	for (size_t i = 0; i < IK_COUNT; i++) {
		if (m->key_line[i] && !(identity_keys[i].kinds & (1u << k)) &&
		    (!first || m->key_line[i] < first)) {
			first = m->key_line[i];
			bad = (int)i;
		}
	}
	if (bad >= 0)
		return fail_at(ctx, first, "%s is not a key of %s identities",
		               identity_keys[bad].name, names[k]);
	return 0;
}

static int set_identity_provider(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	char tmp[80];

	(void)raw;
	if (!valid_name(v, strlen(v)))
		return fail_here(ctx, "provider \"%s\" is not a valid provider name", SHOW(v, tmp));
	id->provider_name = xstrdup(v);
	return 0;
}

static int set_role_arn(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	char tmp[80];

	(void)raw;
	if (!valid_role_arn(v, strlen(v)))
		return fail_here(ctx,
		                 "role_arn \"%s\" is not an IAM role ARN "
		                 "(arn:aws:iam::123456789012:role/NAME)",
		                 SHOW(v, tmp));
	id->role_arn = xstrdup(v);
	return 0;
}

static void trim_span(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* "Group=arn, Group2=arn": groups compared case-insensitively, as Okta's are. */
static int set_role_map(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	const char *s = v;
	char tmp[80];
	int n = 0;

	(void)raw;
	for (;;) {
		const char *end = s + strcspn(s, ","), *gs = s, *ge, *as, *ae = end;
		const char *eq = memchr(s, '=', (size_t)(end - s));
		struct role_mapping *r;

		n++;
		if (!eq) {
			trim_span(&gs, &ae);
			if (gs == ae)
				return fail_here(ctx, "role_map: entry %d is empty", n);
			return fail_here(ctx, "role_map: entry %d \"%s\" is not GROUP=ROLE_ARN", n,
			                 shown(gs, (size_t)(ae - gs), tmp));
		}
		ge = eq;
		as = eq + 1;
		trim_span(&gs, &ge);
		trim_span(&as, &ae);
		if (gs == ge)
			return fail_here(ctx, "role_map: entry %d has no group before '='", n);
		if (!valid_role_arn(as, (size_t)(ae - as)))
			return fail_here(ctx,
			                 "role_map: entry %d: \"%s\" is not an IAM role ARN "
			                 "(arn:aws:iam::123456789012:role/NAME)",
			                 n, shown(as, (size_t)(ae - as), tmp));
		for (size_t i = 0; i < id->nroles; i++)
			if (strlen(id->roles[i].group) == (size_t)(ge - gs) &&
			    strncasecmp(id->roles[i].group, gs, (size_t)(ge - gs)) == 0)
				return fail_here(ctx, "role_map: group \"%s\" appears twice",
				                 shown(gs, (size_t)(ge - gs), tmp));
		id->roles = xrealloc(id->roles, (id->nroles + 1) * sizeof(*id->roles));
		r = &id->roles[id->nroles++];
		r->group = xstrndup(gs, (size_t)(ge - gs));
		r->role_arn = xstrndup(as, (size_t)(ae - as));
		if (!*end)
			break;
		s = end + 1;
	}
	id->role_map = xstrdup(v);
	return 0;
}

static int set_region(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	size_t n = strlen(v);
	char tmp[80];

	(void)raw;
	if (n > 32 || !islower((unsigned char)v[0]) ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return fail_here(ctx, "region \"%s\" is not an AWS region (like us-east-1)",
		                 SHOW(v, tmp));
	id->region = xstrdup(v);
	return 0;
}

static int set_duration(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	long d;
	char tmp[80];

	(void)raw;
	if (parse_duration(v, &d) < 0)
		return fail_here(ctx, "duration \"%s\" is not a duration (like 1h or 90m)",
		                 SHOW(v, tmp));
	if (d < 900 || d > 43200)
		return fail_here(ctx, "duration %s must be between 15m and 12h", SHOW(v, tmp));
	id->duration = d;
	return 0;
}

/* Literal characters STS accepts in a session name, and {email} / {sub} /
 * {preferred_username} from the ID token. */
static int set_session_name(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	const char *p = v;
	char tmp[80];

	(void)raw;
	while (*p) {
		if (*p == '{') {
			if (str_starts(p, "{email}")) {
				p += 7;
				continue;
			}
			if (str_starts(p, "{sub}")) {
				p += 5;
				continue;
			}
			if (str_starts(p, "{preferred_username}")) {
				p += 20;
				continue;
			}
			return fail_here(ctx,
			                 "session_name \"%s\": only {email}, {sub} and "
			                 "{preferred_username} can be substituted",
			                 SHOW(v, tmp));
		}
		if (!isalnum((unsigned char)*p) && !strchr("+=,.@_-", *p))
			return fail_here(
			    ctx,
			    "session_name \"%s\": use letters, digits and +=,.@_- besides "
			    "{email}, {sub} and {preferred_username}",
			    SHOW(v, tmp));
		p++;
	}
	id->session_name = xstrdup(v);
	return 0;
}

static int set_sts_endpoint(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	const char *why = NULL;
	char tmp[80];

	(void)raw;
	id->sts_endpoint = check_url(v, 0, &why);
	if (!id->sts_endpoint)
		return fail_here(ctx, "sts_endpoint \"%s\" %s", SHOW(v, tmp), why);
	return 0;
}

static int set_interactive(struct parse_ctx *ctx, void *obj, const char *v, const char *raw)
{
	struct identity_cfg *id = obj;
	char tmp[80];

	(void)raw;
	if (parse_bool(v, &id->interactive) < 0)
		return fail_here(ctx, "interactive \"%s\": use true or false", SHOW(v, tmp));
	return 0;
}

static const struct key_def identity_keys[IK_COUNT] = {
    [IK_KIND] = {"kind", I_ALL, set_identity_kind},
    [IK_PROVIDER] = {"provider", I_ALL, set_identity_provider},
    [IK_ROLE_ARN] = {"role_arn", I_AWS, set_role_arn},
    [IK_ROLE_MAP] = {"role_map", I_AWS, set_role_map},
    [IK_REGION] = {"region", I_AWS, set_region},
    [IK_DURATION] = {"duration", I_AWS, set_duration},
    [IK_SESSION_NAME] = {"session_name", I_AWS, set_session_name},
    [IK_STS_ENDPOINT] = {"sts_endpoint", I_AWS, set_sts_endpoint},
    [IK_INTERACTIVE] = {"interactive", I_ALL, set_interactive},
};

static int find_key(const struct key_def *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- sections ---- */

static const char *section_kind_name(enum section_type t, int kind)
{
	if (kind < 0)
		return "";
	return t == SEC_PROVIDER ? provider_kind_name((enum provider_kind)kind)
	                         : identity_kind_name((enum identity_kind)kind);
}

/* A required key: absent (reported at the section header) or set to "" (at its line). */
static int need_key(struct parse_ctx *ctx, struct section_meta *m, int key, const char *keyname,
                    const char *what, const char *name, int line, const char *kind)
{
	if (m->key_line[key])
		return fail_at(ctx, m->key_line[key], "%s is empty", keyname);
	return fail_at(ctx, line, "%s %s (%s) has no %s", what, name, kind, keyname);
}

static int end_provider(struct parse_ctx *ctx)
{
	struct provider_cfg *p = &ctx->cfg->providers[ctx->sec_idx];
	struct section_meta *m = &ctx->pmeta[ctx->sec_idx];
	const char *kn;

	if (m->kind < 0) {
		if (m->key_line[PK_KIND])
			fail_at(ctx, m->key_line[PK_KIND], "kind is empty");
		else
			fail_at(ctx, p->line, "provider %s has no kind", p->name);
		okc_hint(ctx->err,
		         "add: kind = okta/device-code (or okta/service-account, okta/api-token)");
		return -1;
	}
	kn = provider_kind_name(p->kind);
	if (!p->org_url)
		return need_key(ctx, m, PK_ORG_URL, "org_url", "provider", p->name, p->line, kn);
	if (p->kind != PROVIDER_API_TOKEN && !p->client_id)
		return need_key(ctx, m, PK_CLIENT_ID, "client_id", "provider", p->name, p->line,
		                kn);
	switch (p->kind) {
	case PROVIDER_DEVICE_CODE:
		if (!p->authorization_server)
			p->authorization_server = xstrdup("default");
		if (!p->scopes)
			p->scopes = xstrdup(DEFAULT_SCOPES);
		break;
	case PROVIDER_SERVICE_ACCOUNT:
		if (!p->authorization_server)
			p->authorization_server = xstrdup("org");
		if (!p->scopes)
			return need_key(ctx, m, PK_SCOPES, "scopes", "provider", p->name, p->line,
			                kn);
		if (p->private_key && p->client_secret) {
			int a = m->key_line[PK_PRIVATE_KEY], b = m->key_line[PK_CLIENT_SECRET];

			return fail_at(ctx, a > b ? a : b,
			               "provider %s: set private_key or client_secret, not both",
			               p->name);
		}
		if (!p->private_key && !p->client_secret) {
			if (m->key_line[PK_PRIVATE_KEY])
				return fail_at(ctx, m->key_line[PK_PRIVATE_KEY],
				               "private_key is empty");
			if (m->key_line[PK_CLIENT_SECRET])
				return fail_at(ctx, m->key_line[PK_CLIENT_SECRET],
				               "client_secret is empty");
			return fail_at(ctx, p->line,
			               "provider %s (%s) needs private_key or client_secret",
			               p->name, kn);
		}
		if (p->private_key_id && !p->private_key)
			return fail_at(ctx, m->key_line[PK_PRIVATE_KEY_ID],
			               "private_key_id is set but private_key is not");
		break;
	case PROVIDER_API_TOKEN:
		if (!p->token_env)
			return need_key(ctx, m, PK_TOKEN_ENV, "token_env", "provider", p->name,
			                p->line, kn);
		break;
	}
	return 0;
}

static int end_identity(struct parse_ctx *ctx)
{
	struct identity_cfg *id = &ctx->cfg->identities[ctx->sec_idx];
	struct section_meta *m = &ctx->imeta[ctx->sec_idx];
	const char *kn;

	if (m->kind < 0) {
		if (m->key_line[IK_KIND])
			fail_at(ctx, m->key_line[IK_KIND], "kind is empty");
		else
			fail_at(ctx, id->line, "identity %s has no kind", id->name);
		okc_hint(ctx->err, "add: kind = okta/api-access (or aws/assume-role)");
		return -1;
	}
	kn = identity_kind_name(id->kind);
	if (!id->provider_name)
		return need_key(ctx, m, IK_PROVIDER, "provider", "identity", id->name, id->line,
		                kn);
	if (id->kind == IDENTITY_AWS_ASSUME_ROLE) {
		if (id->role_arn && id->role_map) {
			int a = m->key_line[IK_ROLE_ARN], b = m->key_line[IK_ROLE_MAP];

			return fail_at(ctx, a > b ? a : b,
			               "identity %s: set role_arn or role_map, not both", id->name);
		}
		if (!id->role_arn && !id->role_map) {
			if (m->key_line[IK_ROLE_ARN])
				return fail_at(ctx, m->key_line[IK_ROLE_ARN], "role_arn is empty");
			if (m->key_line[IK_ROLE_MAP])
				return fail_at(ctx, m->key_line[IK_ROLE_MAP], "role_map is empty");
			return fail_at(ctx, id->line, "identity %s (%s) needs role_arn or role_map",
			               id->name, kn);
		}
		if (!id->session_name)
			id->session_name = xstrdup("{email}");
	}
	return 0;
}

/* Checks the section that just ended: required keys, defaults. */
static int end_section(struct parse_ctx *ctx)
{
	switch (ctx->sec) {
	case SEC_PROVIDER: return end_provider(ctx);
	case SEC_IDENTITY: return end_identity(ctx);
	default: return 0;
	}
}

/* The inside of "[...]": "defaults", "provider NAME" or "identity NAME". */
static int begin_section(struct parse_ctx *ctx, const char *s, size_t n)
{
	const char *e = s + n, *type, *tend, *name;
	struct config *cfg = ctx->cfg;
	size_t tlen, nlen;
	char tmp[80];

	if (end_section(ctx) < 0)
		return -1;
	trim_span(&s, &e);
	type = s;
	tend = type;
	while (tend < e && !isspace((unsigned char)*tend))
		tend++;
	tlen = (size_t)(tend - type);
	name = tend;
	trim_span(&name, &e);
	nlen = (size_t)(e - name);

	if (tlen == 8 && memcmp(type, "defaults", 8) == 0) {
		if (nlen)
			return fail_here(ctx, "[defaults] takes no name");
		if (ctx->defaults_line)
			return fail_here(ctx, "duplicate section [defaults] (first on line %d)",
			                 ctx->defaults_line);
		ctx->defaults_line = ctx->lineno;
		ctx->sec = SEC_DEFAULTS;
		return 0;
	}
	if (!((tlen == 8 && memcmp(type, "provider", 8) == 0) ||
	      (tlen == 8 && memcmp(type, "identity", 8) == 0))) {
		fail_here(ctx, "unknown section [%s]", shown(s, (size_t)(e - s), tmp));
		okc_hint(ctx->err, "sections are [defaults], [provider NAME] and [identity NAME]");
		return -1;
	}
	if (!nlen)
		return fail_here(ctx, "[%.*s] needs a name: [%.*s NAME]", (int)tlen, type,
		                 (int)tlen, type);
	if (!valid_name(name, nlen)) {
		fail_here(ctx, "invalid %.*s name \"%s\"", (int)tlen, type, shown(name, nlen, tmp));
		okc_hint(ctx->err,
		         "a name is 1 to %d of A-Z a-z 0-9 . _ - and does not start "
		         "with . or -",
		         NAME_MAX_LEN);
		return -1;
	}
	if (type[0] == 'p') {
		struct provider_cfg *p;

		for (size_t i = 0; i < cfg->nproviders; i++)
			if (strlen(cfg->providers[i].name) == nlen &&
			    memcmp(cfg->providers[i].name, name, nlen) == 0)
				return fail_here(
				    ctx, "duplicate section [provider %s] (first on line %d)",
				    cfg->providers[i].name, cfg->providers[i].line);
		cfg->providers = xrealloc(cfg->providers, (cfg->nproviders + 1) * sizeof(*p));
		ctx->pmeta = xrealloc(ctx->pmeta, (cfg->nproviders + 1) * sizeof(*ctx->pmeta));
		p = &cfg->providers[cfg->nproviders];
		memset(p, 0, sizeof(*p));
		memset(&ctx->pmeta[cfg->nproviders], 0, sizeof(*ctx->pmeta));
		ctx->pmeta[cfg->nproviders].kind = -1;
		p->name = xstrndup(name, nlen);
		p->token_store = TOKEN_STORE_FILE;
		p->refresh_before = 300;
		p->file = ctx->file;
		p->line = ctx->lineno;
		ctx->sec = SEC_PROVIDER;
		ctx->sec_idx = cfg->nproviders++;
	} else {
		struct identity_cfg *id;

		for (size_t i = 0; i < cfg->nidentities; i++)
			if (strlen(cfg->identities[i].name) == nlen &&
			    memcmp(cfg->identities[i].name, name, nlen) == 0)
				return fail_here(
				    ctx, "duplicate section [identity %s] (first on line %d)",
				    cfg->identities[i].name, cfg->identities[i].line);
		cfg->identities = xrealloc(cfg->identities, (cfg->nidentities + 1) * sizeof(*id));
		ctx->imeta = xrealloc(ctx->imeta, (cfg->nidentities + 1) * sizeof(*ctx->imeta));
		id = &cfg->identities[cfg->nidentities];
		memset(id, 0, sizeof(*id));
		memset(&ctx->imeta[cfg->nidentities], 0, sizeof(*ctx->imeta));
		ctx->imeta[cfg->nidentities].kind = -1;
		id->name = xstrndup(name, nlen);
		id->duration = 3600;
		id->file = ctx->file;
		id->line = ctx->lineno;
		ctx->sec = SEC_IDENTITY;
		ctx->sec_idx = cfg->nidentities++;
	}
	return 0;
}

/* ---- keys ---- */

static int unknown_key(struct parse_ctx *ctx, const char *key)
{
	char tmp[80], sec[100];
	int in_provider = find_key(provider_keys, PK_COUNT, key) >= 0;
	int in_identity = find_key(identity_keys, IK_COUNT, key) >= 0;

	switch (ctx->sec) {
	case SEC_DEFAULTS: snprintf(sec, sizeof(sec), "[defaults]"); break;
	case SEC_PROVIDER:
		snprintf(sec, sizeof(sec), "[provider %s]", ctx->cfg->providers[ctx->sec_idx].name);
		break;
	default:
		snprintf(sec, sizeof(sec), "[identity %s]",
		         ctx->cfg->identities[ctx->sec_idx].name);
		break;
	}
	if (ctx->sec != SEC_PROVIDER && in_provider)
		return fail_here(ctx, "%s is a key of providers, not of %s", key, sec);
	if (ctx->sec != SEC_IDENTITY && in_identity)
		return fail_here(ctx, "%s is a key of identities, not of %s", key, sec);
	if (ctx->sec != SEC_DEFAULTS && strcmp(key, "identity") == 0)
		return fail_here(ctx, "identity is a key of [defaults], not of %s", sec);
	return fail_here(ctx, "unknown key \"%s\" in %s", SHOW(key, tmp), sec);
}

static int handle_defaults_key(struct parse_ctx *ctx, const char *key, const char *raw)
{
	char *v, tmp[80];

	if (strcmp(key, "identity") != 0)
		return unknown_key(ctx, key);
	if (ctx->defaults_identity_line)
		return fail_here(ctx, "duplicate key identity (first set on line %d)",
		                 ctx->defaults_identity_line);
	ctx->defaults_identity_line = ctx->lineno;
	if (expand_vars(ctx, raw, &v) < 0)
		return -1;
	if (*v && !valid_name(v, strlen(v))) {
		fail_here(ctx, "identity \"%s\" is not a valid identity or provider name",
		          SHOW(v, tmp));
		free(v);
		return -1;
	}
	if (*v)
		ctx->cfg->default_identity = v;
	else
		free(v);
	return 0;
}

static int handle_key(struct parse_ctx *ctx, const char *key, const char *raw)
{
	const struct key_def *keys;
	struct section_meta *m;
	size_t nkeys;
	void *obj;
	char *v;
	int k, rc;

	if (ctx->sec == SEC_NONE) {
		char tmp[80];

		fail_here(ctx, "key \"%s\" outside any section", SHOW(key, tmp));
		okc_hint(ctx->err, "put keys under [defaults], [provider NAME] or [identity NAME]");
		return -1;
	}
	if (ctx->sec == SEC_DEFAULTS)
		return handle_defaults_key(ctx, key, raw);
	if (ctx->sec == SEC_PROVIDER) {
		keys = provider_keys;
		nkeys = PK_COUNT;
		m = &ctx->pmeta[ctx->sec_idx];
		obj = &ctx->cfg->providers[ctx->sec_idx];
	} else {
		keys = identity_keys;
		nkeys = IK_COUNT;
		m = &ctx->imeta[ctx->sec_idx];
		obj = &ctx->cfg->identities[ctx->sec_idx];
	}
	k = find_key(keys, nkeys, key);
	if (k < 0)
		return unknown_key(ctx, key);
	if (m->key_line[k])
		return fail_here(ctx, "duplicate key %s (first set on line %d)", key,
		                 m->key_line[k]);
	m->key_line[k] = ctx->lineno;
	if (m->kind >= 0 && !(keys[k].kinds & (1u << m->kind)))
		return fail_here(ctx, "%s is not a key of %s %s", key,
		                 section_kind_name(ctx->sec, m->kind),
		                 ctx->sec == SEC_PROVIDER ? "providers" : "identities");
	if (expand_vars(ctx, raw, &v) < 0)
		return -1;
	/* An empty value means "not set"; required keys are checked when the section ends. */
	rc = *v ? keys[k].set(ctx, obj, v, raw) : 0;
	free_secret(v);
	return rc;
}

/* inih calls this for each "key = value" line, after config_reader() handed it the line.
 * The line number is ctx->lineno whatever inih was built with. */
#if INI_HANDLER_LINENO
static int config_handler(void *user, const char *section, const char *name, const char *value,
                          int lineno)
#else
static int config_handler(void *user, const char *section, const char *name, const char *value)
#endif
{
	struct parse_ctx *ctx = user;

#if INI_HANDLER_LINENO
	(void)lineno;
#endif
	/* inih's section name is truncated at 49 bytes; ctx->sec is the real one. */
	(void)section;
	if (ctx->failed)
		return 0;
	/* Builds with INI_CALL_HANDLER_ON_NEW_SECTION call with name NULL: the reader has
	 * already seen the header. */
	if (!name)
		return 1;
	if (ctx->long_value)
		value = ctx->long_value;
	return handle_key(ctx, name, value ? value : "") < 0 ? 0 : 1;
}

/* ---- the reader inih reads through ---- */

/* Hands inih the next physical line, normalised (see the comment at the top), or NULL at
 * the end or after an error. */
static char *config_reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	const char *s, *e, *nl, *p, *sep;
	size_t outsz = num > 0 ? (size_t)num : 0, n;

	free_secret(ctx->long_value);
	ctx->long_value = NULL;
	if (ctx->failed || ctx->pos >= ctx->len || outsz < 16)
		return NULL;
	s = ctx->data + ctx->pos;
	nl = memchr(s, '\n', ctx->len - ctx->pos);
	e = nl ? nl : ctx->data + ctx->len;
	ctx->pos = (size_t)(e - ctx->data) + (nl ? 1 : 0);
	ctx->lineno++;

	if (ctx->lineno == 1 && e - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (s < e && isspace((unsigned char)*s))
		s++;
	if (s == e || *s == ';' || *s == '#') {
		str[0] = '\0';
		return str;
	}
	/* An inline comment: ';' after a blank, as inih has it. */
	for (p = s + 1; p < e; p++) {
		if (*p == ';' && is_blank(p[-1])) {
			e = p;
			break;
		}
	}
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);

	if (*s == '[') {
		const char *close = memchr(s, ']', n);

		if (!close) {
			fail_here(ctx, "missing ']' in the section header");
			return NULL;
		}
		if (close + 1 != e) {
			fail_here(ctx, "unexpected text after ']'");
			return NULL;
		}
		if (begin_section(ctx, s + 1, (size_t)(close - s - 1)) < 0)
			return NULL;
		/* Valid headers are short; inih only needs to see a section line. */
		memcpy(str, "[s]\n", 5);
		return str;
	}

	/* inih splits at the first '=' or ':'. */
	sep = s + strcspn(s, "=:");
	if (sep >= e) {
		fail_here(ctx, "expected \"key = value\" or a [section] header");
		if (ctx->lineno > 1)
			okc_hint(ctx->err, "a value cannot continue on the next line");
		return NULL;
	}
	p = sep;
	while (p > s && isspace((unsigned char)p[-1]))
		p--;
	if (p == s) {
		fail_here(ctx, "missing key before '%c'", *sep);
		return NULL;
	}
	if (n + 2 <= outsz) {
		memcpy(str, s, n);
		memcpy(str + n, "\n", 2);
		return str;
	}
	/* Longer than inih's line buffer: give it the key alone, keep the value here. */
	if ((size_t)(sep - s) + 3 > outsz) {
		fail_here(ctx, "line too long");
		return NULL;
	}
	p = sep + 1;
	while (p < e && isspace((unsigned char)*p))
		p++;
	ctx->long_value = xstrndup(p, (size_t)(e - p));
	memcpy(str, s, (size_t)(sep - s) + 1);
	memcpy(str + (sep - s) + 1, "\n", 2);
	return str;
}

/* ---- whole-file checks ---- */

/* Keeps the error with the lowest line (the checks below are not in line order). */
static void post_fail(struct parse_ctx *ctx, int line, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void post_fail(struct parse_ctx *ctx, int line, const char *hint, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (ctx->failed && ctx->err_line <= line)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail_at(ctx, line, "%s", msg);
	if (hint)
		okc_hint(ctx->err, "%s", hint);
}

static int has_scope(const char *scopes, const char *want)
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

/* References between sections, known once the whole file is read. */
static int check_references(struct parse_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	char names[400], hint[480];

	for (size_t i = 0; i < cfg->nidentities; i++) {
		struct identity_cfg *id = &cfg->identities[i];
		int line = ctx->imeta[i].key_line[IK_PROVIDER];
		const struct provider_cfg *p = config_find_provider(cfg, id->provider_name);
		size_t pi;

		if (!p) {
			list_names(cfg, 1, 0, names, sizeof(names));
			snprintf(hint, sizeof(hint), "%s%s", names[0] ? "providers: " : "",
			         names[0] ? names : "add a [provider NAME] section");
			post_fail(ctx, line, hint, "identity %s: no provider named %s", id->name,
			          id->provider_name);
			continue;
		}
		id->provider = p;
		pi = (size_t)(p - cfg->providers);
		if (id->kind == IDENTITY_AWS_ASSUME_ROLE && p->kind != PROVIDER_DEVICE_CODE)
			post_fail(
			    ctx, line, NULL,
			    "identity %s (aws/assume-role) needs an okta/device-code provider "
			    "for its ID token; %s is %s",
			    id->name, p->name, provider_kind_name(p->kind));
		else if (id->kind == IDENTITY_AWS_ASSUME_ROLE && !has_scope(p->scopes, "openid"))
			post_fail(ctx,
			          ctx->pmeta[pi].key_line[PK_SCOPES]
			              ? ctx->pmeta[pi].key_line[PK_SCOPES]
			              : p->line,
			          NULL,
			          "provider %s: scopes lack openid, which identity %s "
			          "(aws/assume-role) needs for its ID token",
			          p->name, id->name);
	}
	if (cfg->default_identity && !config_find_identity(cfg, cfg->default_identity) &&
	    !config_find_provider(cfg, cfg->default_identity)) {
		list_names(cfg, 1, 1, names, sizeof(names));
		snprintf(hint, sizeof(hint), "%s%s", names[0] ? "names: " : "",
		         names[0] ? names : "add an [identity NAME] section");
		post_fail(ctx, ctx->defaults_identity_line, hint,
		          "[defaults] identity %s names no identity or provider",
		          cfg->default_identity);
	}
	return ctx->failed ? -1 : 0;
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
			okc_hint(err, "create it; see: man oktacred-config");
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
	if (st->st_uid != geteuid()) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: is owned by another user (uid %ld)", path,
		         (long)st->st_uid);
		okc_hint(err, "it must be yours and not writable by others: run: chown %ld %s",
		         (long)geteuid(), shell_quoted(path, q, sizeof(q)));
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
	for (;;) {
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			okc_fail(err, OKC_EXIT_USAGE, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > CONFIG_MAX_SIZE) {
			okc_fail(err, OKC_EXIT_USAGE, "%s: larger than 1 MiB", path);
			wipe(chunk, sizeof(chunk));
			goto fail;
		}
		if (buf_append(&b, chunk, (size_t)r) < 0) {
			okc_fail(err, OKC_EXIT_FAIL, "out of memory");
			wipe(chunk, sizeof(chunk));
			goto fail;
		}
		wipe(chunk, (size_t)r);
	}
	close(fd);
	*len = b.len;
	if (b.len == 0) {
		buf_free(&b);
		*data = xstrdup("");
		return 0;
	}
	*data = buf_detach(&b);
	if (!*data)
		return okc_fail(err, OKC_EXIT_FAIL, "out of memory");
	return 0;
fail:
	buf_free(&b);
	close(fd);
	return -1;
}

static void free_data(char *data, size_t len)
{
	if (data) {
		wipe(data, len);
		free(data);
	}
}

int config_load(const char *path, struct config **out, okc_err *err)
{
	struct parse_ctx ctx;
	struct config *cfg;
	struct stat st;
	char *data = NULL, q[600];
	size_t len = 0;
	const char *nul;
	int rc;

	*out = NULL;
	cfg = xcalloc(1, sizeof(*cfg));
	rc = path ? paths_expand_home(path, &cfg->path, err) : paths_config_file(&cfg->path, err);
	if (rc < 0 || read_config_file(cfg->path, &data, &len, &st, err) < 0) {
		config_free(cfg);
		return -1;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.file = cfg->path;
	ctx.err = err;
	ctx.data = data;
	ctx.len = len;
	ctx.sec = SEC_NONE;

	nul = memchr(data, '\0', len);
	if (nul) {
		int line = 1;

		for (const char *p = data; p < nul; p++)
			line += *p == '\n';
		fail_at(&ctx, line, "contains a NUL byte: not a text file");
	} else {
		rc = ini_parse_stream(config_reader, &ctx, config_handler, &ctx);
		free_secret(ctx.long_value);
		ctx.long_value = NULL;
		/* The reader finds every syntax error inih could; this is only a safety net. */
		if (!ctx.failed && rc > 0)
			fail_at(&ctx, rc, "syntax error");
		if (!ctx.failed && rc < 0) {
			okc_fail(err, OKC_EXIT_FAIL, "%s: cannot parse (inih error %d)", cfg->path,
			         rc);
			ctx.failed = 1;
		}
		if (!ctx.failed)
			end_section(&ctx);
		if (!ctx.failed)
			check_references(&ctx);
	}
	if (!ctx.failed && ctx.secret_key && (st.st_mode & (S_IRGRP | S_IROTH))) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: holds %s and is readable by group or others",
		         cfg->path, ctx.secret_key);
		okc_hint(err, "run: chmod 600 %s", shell_quoted(cfg->path, q, sizeof(q)));
		ctx.failed = 1;
	}
	free_data(data, len);
	free(ctx.pmeta);
	free(ctx.imeta);
	if (ctx.failed) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nproviders; i++) {
		struct provider_cfg *p = &cfg->providers[i];

		free(p->name);
		free(p->org_url);
		free(p->client_id);
		free(p->authorization_server);
		free(p->scopes);
		free(p->base_path);
		free(p->ca_bundle);
		free_secret(p->private_key);
		free(p->private_key_id);
		free_secret(p->client_secret);
		free(p->token_env);
	}
	for (size_t i = 0; i < cfg->nidentities; i++) {
		struct identity_cfg *id = &cfg->identities[i];

		free(id->name);
		free(id->provider_name);
		free(id->role_arn);
		free(id->role_map);
		for (size_t r = 0; r < id->nroles; r++) {
			free(id->roles[r].group);
			free(id->roles[r].role_arn);
		}
		free(id->roles);
		free(id->region);
		free(id->session_name);
		free(id->sts_endpoint);
	}
	free(cfg->providers);
	free(cfg->identities);
	free(cfg->default_identity);
	free(cfg->path);
	free(cfg);
}

const struct provider_cfg *config_find_provider(const struct config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->nproviders; i++)
		if (strcmp(cfg->providers[i].name, name) == 0)
			return &cfg->providers[i];
	return NULL;
}

const struct identity_cfg *config_find_identity(const struct config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->nidentities; i++)
		if (strcmp(cfg->identities[i].name, name) == 0)
			return &cfg->identities[i];
	return NULL;
}

int config_resolve(const struct config *cfg, const char *name, const struct identity_cfg **identity,
                   const struct provider_cfg **provider, okc_err *err)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	char names[400];

	*identity = NULL;
	*provider = NULL;
	if (!name)
		name = cfg->default_identity;
	list_names(cfg, 1, 1, names, sizeof(names));
	if (!name) {
		okc_fail(err, OKC_EXIT_USAGE,
		         "no identity or provider named, and %s has no [defaults] identity",
		         cfg->path);
		if (names[0])
			okc_hint(err, "name one of: %s", names);
		else
			okc_hint(err, "add an [identity NAME] or [provider NAME] section");
		return -1;
	}
	id = config_find_identity(cfg, name);
	if (id) {
		*identity = id;
		*provider =
		    id->provider ? id->provider : config_find_provider(cfg, id->provider_name);
		return 0;
	}
	p = config_find_provider(cfg, name);
	if (p) {
		*provider = p;
		return 0;
	}
	okc_fail(err, OKC_EXIT_USAGE, "%s: no identity or provider of that name in %s", name,
	         cfg->path);
	if (names[0])
		okc_hint(err, "name one of: %s", names);
	return -1;
}

const char *provider_kind_name(enum provider_kind k)
{
	switch (k) {
	case PROVIDER_DEVICE_CODE: return "okta/device-code";
	case PROVIDER_SERVICE_ACCOUNT: return "okta/service-account";
	case PROVIDER_API_TOKEN: return "okta/api-token";
	}
	return "unknown";
}

const char *identity_kind_name(enum identity_kind k)
{
	switch (k) {
	case IDENTITY_API_ACCESS: return "okta/api-access";
	case IDENTITY_AWS_ASSUME_ROLE: return "aws/assume-role";
	}
	return "unknown";
}
