/* sts.c: AssumeRoleWithWebIdentity: the unsigned Query POST, the XML answer read with
 * libxml2 (the only file that includes it; dlopen()ed by the first answer read, so the
 * cached path never maps it), and RoleSessionName's rules. */
#include "oktacred/sts.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oktacred/buf.h"
#include "oktacred/dl.h"
#include "oktacred/http.h"
#include "oktacred/log.h"
#include "oktacred/redact.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

#define STS_NS             "https://sts.amazonaws.com/doc/2011-06-15/"
#define STS_VERSION        "2011-06-15"
#define STS_ACTION         "AssumeRoleWithWebIdentity"
#define DEFAULT_TRIES      3
#define DEFAULT_BACKOFF_MS 1000L
#define MAX_BACKOFF_MS     3600000L
#define SESSION_NAME_MAX   64

#define LIBXML_SYMBOLS(X)                                                                          \
	X(xmlInitParser)                                                                           \
	X(xmlReadMemory)                                                                           \
	X(xmlDocGetRootElement)                                                                    \
	X(xmlDictOwns)                                                                             \
	X(xmlFreeDoc)

DL_LIBRARY(libxml2, LIBXML_SYMBOLS, "libxml2", "libxml2 (Debian/Ubuntu, Fedora, Homebrew)",
           "libxml2.so.2", "libxml2.so.16", "libxml2.2.dylib");

#define xmlInitParser        (*sym_xmlInitParser)
#define xmlReadMemory        (*sym_xmlReadMemory)
#define xmlDocGetRootElement (*sym_xmlDocGetRootElement)
#define xmlDictOwns          (*sym_xmlDictOwns)
#define xmlFreeDoc           (*sym_xmlFreeDoc)

/* Loads libxml2 and initialises its parser once. */
static int libxml_load(okc_err *err)
{
	static int initialised;

	if (dl_open(&libxml2, err) < 0)
		return -1;
	if (!initialised) {
		xmlInitParser();
		initialised = 1;
	}
	return 0;
}

/* ---- RoleSessionName ---- */

static int session_char_ok(unsigned char c)
{
	return isalnum(c) || (c && strchr("+=,.@_-", c));
}

static void append_sanitised(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		if (*p < 0x80 && session_char_ok(*p)) {
			buf_putc(b, (char)*p++);
			continue;
		}
		buf_putc(b, '_');
		/* One '_' for a whole UTF-8 sequence: skip its continuation bytes. */
		if (*p++ >= 0xc0)
			while ((*p & 0xc0) == 0x80)
				p++;
	}
}

char *sts_session_name(const char *tmpl, const char *email, const char *sub,
                       const char *preferred_username)
{
	struct buf b = BUF_INIT;
	const char *t = tmpl && *tmpl ? tmpl : "{email}";

	if (!email || !*email)
		email = sub; /* DESIGN.md 3: {sub} when the ID token has no email */
	while (*t) {
		if (str_starts(t, "{email}")) {
			append_sanitised(&b, email);
			t += 7;
		} else if (str_starts(t, "{sub}")) {
			append_sanitised(&b, sub);
			t += 5;
		} else if (str_starts(t, "{preferred_username}")) {
			append_sanitised(&b, preferred_username);
			t += 20;
		} else {
			char one[2] = {*t++, '\0'};

			append_sanitised(&b, one);
		}
	}
	if (b.len == 0)
		buf_puts(&b, "oktacred");
	if (b.len < 2)
		buf_putc(&b, '_');
	if (b.len > SESSION_NAME_MAX) {
		b.len = SESSION_NAME_MAX;
		b.data[b.len] = '\0';
	}
	return buf_detach(&b);
}

/* ---- the XML answer ---- */

void sts_credentials_free(struct sts_credentials *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	free_secret(c->secret_access_key);
	free_secret(c->session_token);
	free(c->assumed_role_arn);
	memset(c, 0, sizeof(*c));
}

/* Sets *why; returns -1. */
static int malformed(const char **why, const char *what)
{
	*why = what;
	return -1;
}

/* The parser's copies of the text (the credentials among them) are wiped before the tree
 * is freed. Strings interned in the document's dictionary are shared and never secrets. */
static void wipe_tree(xmlDocPtr doc, xmlNodePtr n)
{
	for (; n; n = n->next) {
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content &&
		    !(doc->dict && xmlDictOwns(doc->dict, n->content)))
			wipe(n->content, strlen((const char *)n->content));
		if (n->type == XML_ELEMENT_NODE)
			wipe_tree(doc, n->children);
	}
}

static int name_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 &&
	       (!n->ns || !n->ns->href || strcmp((const char *)n->ns->href, STS_NS) == 0);
}

/* The one child element called name; NULL when there is none, or (with *dup set) more
 * than one. */
static xmlNode *child(const xmlNode *parent, const char *name, int *dup)
{
	xmlNode *c, *found = NULL;

	for (c = parent ? parent->children : NULL; c; c = c->next) {
		if (!name_is(c, name))
			continue;
		if (found)
			*dup = 1;
		found = c;
	}
	return found;
}

/* The element's text: only text and CDATA children, surrounding whitespace trimmed, at
 * most max bytes; with vschar, printable ASCII without spaces. NULL when it is not that. */
static char *text_of(const xmlNode *el, size_t max, int vschar)
{
	struct buf b = BUF_INIT;
	const xmlNode *c;
	size_t start, end, i;
	char *s;

	if (!el)
		return NULL;
	for (c = el->children; c; c = c->next) {
		if (c->type == XML_COMMENT_NODE)
			continue;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			goto bad;
		if (c->content)
			buf_puts(&b, (const char *)c->content);
		if (b.len > max + 64)
			goto bad;
	}
	if (!b.data)
		goto bad;
	for (start = 0; start < b.len && isspace((unsigned char)b.data[start]); start++)
		;
	for (end = b.len; end > start && isspace((unsigned char)b.data[end - 1]); end--)
		;
	if (end == start || end - start > max)
		goto bad;
	for (i = start; vschar && i < end; i++) {
		unsigned char ch = (unsigned char)b.data[i];

		if (ch > 0x7e || ch < 0x21)
			goto bad;
	}
	s = xstrndup(b.data + start, end - start);
	buf_free(&b);
	return s;
bad:
	buf_free(&b);
	return NULL;
}

/* RFC 3339 / ISO 8601 as STS writes it: 2026-01-15T12:00:00Z, with optional fractional
 * seconds and a numeric offset instead of Z. */
static int parse_expiration(const char *s, time_t *out)
{
	char base[21];
	const char *p;
	time_t t;
	long off = 0;

	if (strlen(s) < 20)
		return -1;
	memcpy(base, s, 19);
	base[19] = 'Z';
	base[20] = '\0';
	if (time_parse_utc(base, &t) < 0)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		if (strlen(p) != 6 || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) || p[3] != ':' || !isdigit((unsigned char)p[4]) ||
		    !isdigit((unsigned char)p[5]))
			return -1;
		off = sign * (((p[1] - '0') * 10 + (p[2] - '0')) * 3600L +
		              ((p[4] - '0') * 10 + (p[5] - '0')) * 60L);
		if (off > 24 * 3600L || off < -24 * 3600L)
			return -1;
	} else if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0) {
		return -1;
	}
	*out = t - (time_t)off;
	return 0;
}

static int access_key_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 16 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

static void copy_text(char *dst, size_t n, const xmlNode *el)
{
	char *s = text_of(el, 4096, 0);

	text_escape(dst, n, s ? s : "");
	free(s);
}

/* The message is printed: one that quotes a secret of the request `sent` (the
 * WebIdentityToken) gets it redacted, before it is cut to size. */
static void copy_message(char *dst, size_t n, const xmlNode *el, const struct buf *sent)
{
	char *s = text_of(el, 4096, 0);
	struct buf red = BUF_INIT;

	if (s && sent) {
		redact_echoes(&red, s, strlen(s), sent->data, sent->len, NULL);
		text_escape(dst, n, red.data);
	} else {
		text_escape(dst, n, s); /* NULL: "" */
	}
	buf_free(&red);
	free_secret(s);
}

static int parse_error(const xmlNode *root, const struct buf *sent, struct sts_error *serr,
                       const char **why)
{
	int dup = 0;
	const xmlNode *e = child(root, "Error", &dup);

	if (!e || dup)
		return malformed(why, "an ErrorResponse without one Error");
	copy_text(serr->type, sizeof(serr->type), child(e, "Type", &dup));
	copy_text(serr->code, sizeof(serr->code), child(e, "Code", &dup));
	copy_message(serr->message, sizeof(serr->message), child(e, "Message", &dup), sent);
	copy_text(serr->request_id, sizeof(serr->request_id), child(root, "RequestId", &dup));
	if (!serr->code[0])
		return malformed(why, "an ErrorResponse without an error code");
	return STS_ERROR;
}

static int parse_success(const xmlNode *root, struct sts_credentials *out, const char **why)
{
	int dup = 0;
	const xmlNode *r = child(root, "AssumeRoleWithWebIdentityResult", &dup);
	const xmlNode *c = child(r, "Credentials", &dup);
	const xmlNode *u = child(r, "AssumedRoleUser", &dup);
	char *exp = NULL;
	const char *bad = NULL;

	memset(out, 0, sizeof(*out));
	if (!r || !c || dup)
		return malformed(why, "no AssumeRoleWithWebIdentityResult/Credentials");
	out->access_key_id = text_of(child(c, "AccessKeyId", &dup), 128, 1);
	out->secret_access_key = text_of(child(c, "SecretAccessKey", &dup), 1024, 1);
	out->session_token = text_of(child(c, "SessionToken", &dup), STS_MAX_SESSION_TOKEN, 1);
	exp = text_of(child(c, "Expiration", &dup), 64, 1);
	if (u)
		out->assumed_role_arn = text_of(child(u, "Arn", &dup), 2048, 1);
	if (dup)
		bad = "a field appears twice";
	else if (!out->access_key_id || !access_key_ok(out->access_key_id))
		bad = "a missing or malformed AccessKeyId";
	else if (!out->secret_access_key)
		bad = "a missing or malformed SecretAccessKey";
	else if (!out->session_token)
		bad = "a missing or malformed SessionToken";
	else if (!exp || parse_expiration(exp, &out->expiration) < 0)
		bad = "a missing or malformed Expiration";
	free(exp);
	if (bad) {
		sts_credentials_free(out);
		return malformed(why, bad);
	}
	return 0;
}

static int ci_starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix), i;

	if (n < k)
		return 0;
	for (i = 0; i < k; i++)
		if (tolower((unsigned char)s[i]) != prefix[i])
			return 0;
	return 1;
}

/* Where a DTD could declare entities: never parsed at all. */
static int has_doctype(const char *body, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (body[i] == '<' && body[i + 1] == '!' && !ci_starts(body + i, len - i, "<!--") &&
		    !ci_starts(body + i, len - i, "<![cdata["))
			return 1;
	return 0;
}

static int looks_like_html(const char *body, size_t len)
{
	while (len && isspace((unsigned char)*body)) {
		body++;
		len--;
	}
	return ci_starts(body, len, "<!doctype html") || ci_starts(body, len, "<html");
}

/* sent: the request form this answers (NULL: unknown), for copy_message. */
static int parse(const char *body, size_t len, const struct buf *sent, struct sts_credentials *out,
                 struct sts_error *serr, const char **why)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!body || len == 0)
		return malformed(why, "an empty body");
	if (len > STS_MAX_BODY)
		return malformed(why, "a body that is too large");
	if (memchr(body, '\0', len))
		return malformed(why, "a NUL byte");
	if (looks_like_html(body, len))
		return malformed(why, "an HTML page");
	if (has_doctype(body, len))
		return malformed(why, "a document type declaration");
	doc = xmlReadMemory(body, (int)len, "sts.xml", NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return malformed(why, "not well-formed XML");
	root = xmlDocGetRootElement(doc);
	if (doc->intSubset || doc->extSubset)
		rc = malformed(why, "a document type declaration");
	else if (name_is(root, "AssumeRoleWithWebIdentityResponse"))
		rc = parse_success(root, out, why);
	else if (name_is(root, "ErrorResponse"))
		rc = parse_error(root, sent, serr, why);
	else
		rc = malformed(why, "an unexpected root element");
	wipe_tree(doc, doc->children);
	xmlFreeDoc(doc);
	return rc;
}

int sts_parse_response(const char *body, size_t len, struct sts_credentials *out,
                       struct sts_error *serr, okc_err *err)
{
	const char *why = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (libxml_load(err) < 0)
		return -1;
	rc = parse(body, len, NULL, out, serr, &why);
	if (rc < 0)
		okc_fail(err, OKC_EXIT_NETWORK, "STS answered %s, not an STS answer", why);
	return rc;
}

/* ---- the request ---- */

static void build_form(const struct sts_request *r, struct buf *form)
{
	char dur[24];

	http_form_add(form, "Action", STS_ACTION);
	http_form_add(form, "Version", STS_VERSION);
	http_form_add(form, "RoleArn", r->role_arn);
	http_form_add(form, "RoleSessionName", r->session_name);
	http_form_add(form, "WebIdentityToken", r->web_identity_token);
	if (r->duration > 0) {
		snprintf(dur, sizeof(dur), "%ld", r->duration);
		http_form_add(form, "DurationSeconds", dur);
	}
}

/* STS says the request may succeed when tried again. */
static int transient(const struct sts_error *e)
{
	return strcmp(e->code, "IDPCommunicationError") == 0 ||
	       strcmp(e->code, "Throttling") == 0 || strcmp(e->code, "ThrottlingException") == 0;
}

/* One POST and its answer judged. */
static int attempt(const struct sts_request *r, const struct buf *form, const char *host,
                   struct sts_credentials *out, struct sts_error *serr, okc_err *err)
{
	struct http_opts opts = {0};
	struct http_request req = {0};
	struct http_response resp = {0};
	const char *ca = getenv("AWS_CA_BUNDLE"), *why = NULL;
	int rc;

	opts.ca_bundle = ca && *ca ? ca : NULL;
	opts.max_body = STS_MAX_BODY;
	if (r->timeout_ms > 0) {
		opts.timeout_ms = r->timeout_ms;
		opts.connect_timeout_ms = r->timeout_ms < 10000 ? r->timeout_ms : 10000;
	}
	req.method = "POST";
	req.url = r->endpoint;
	req.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	req.accept = "text/xml";
	req.body = form->data;
	req.body_len = form->len;
	if (http_request(&opts, &req, &resp, err) < 0) {
		http_response_free(&resp);
		/* http.c's hint names a provider's ca_bundle; STS's CAs are AWS_CA_BUNDLE. */
		if (strstr(err->hint, "ca_bundle"))
			okc_hint(err, "for a private CA, set AWS_CA_BUNDLE=FILE");
		/* http.c's message names the host, and says what went wrong with it. */
		return okc_wrap(err, "STS");
	}
	memset(serr, 0, sizeof(*serr));
	rc = parse(resp.body.data, resp.body.len, form, out, serr, &why);
	serr->http_status = resp.status;
	if (rc == 0 && resp.status != 200) {
		sts_credentials_free(out);
		rc = okc_fail(err, OKC_EXIT_NETWORK, "STS at %s answered HTTP %ld with credentials",
		              host, resp.status);
	} else if (rc == STS_ERROR && resp.status >= 500) {
		rc =
		    okc_fail(err, OKC_EXIT_NETWORK, "STS at %s is failing (HTTP %ld): %s%s%s", host,
		             resp.status, serr->code, serr->message[0] ? ": " : "", serr->message);
	} else if (rc == STS_ERROR && resp.status < 400) {
		rc =
		    okc_fail(err, OKC_EXIT_NETWORK, "STS at %s answered HTTP %ld with an error: %s",
		             host, resp.status, serr->code);
	} else if (rc < 0) {
		char ct[64];

		text_escape(ct, sizeof(ct), resp.content_type ? resp.content_type : "none");
		okc_fail(err, OKC_EXIT_NETWORK,
		         "STS at %s answered HTTP %ld with %s (Content-Type %s), not an STS answer",
		         host, resp.status, why, ct);
	}
	http_response_free(&resp);
	return rc;
}

int sts_assume_role(const struct sts_request *r, struct sts_credentials *out,
                    struct sts_error *serr, okc_err *err)
{
	struct buf form = BUF_INIT;
	char host[256];
	int tries = r->max_attempts > 0 ? r->max_attempts : DEFAULT_TRIES;
	long first_wait = r->backoff_ms > 0 ? r->backoff_ms : DEFAULT_BACKOFF_MS;
	long nap;
	int n, rc;

	memset(out, 0, sizeof(*out));
	memset(serr, 0, sizeof(*serr));
	if (libxml_load(err) < 0)
		return -1;
	http_url_host(r->endpoint, host, sizeof(host));
	build_form(r, &form);
	for (n = 1;; n++) {
		log_verbose("STS %s: AssumeRoleWithWebIdentity %s as %s", host, r->role_arn,
		            r->session_name);
		rc = attempt(r, &form, host, out, serr, err);
		if (rc != STS_ERROR || !transient(serr))
			break;
		if (n >= tries) {
			rc = okc_fail(err, OKC_EXIT_NETWORK,
			              "STS at %s: %s%s%s (after %d attempts)", host, serr->code,
			              serr->message[0] ? ": " : "", serr->message, n);
			break;
		}
		nap = backoff_delay_ms(n, first_wait, MAX_BACKOFF_MS);
		log_verbose("STS %s: %s; trying again in %.1f s (attempt %d of %d)", host,
		            serr->code, (double)nap / 1000.0, n + 1, tries);
		if (sig_sleep_ms(nap) < 0) {
			rc = okc_fail(err, OKC_EXIT_INTERRUPTED, "interrupted");
			break;
		}
	}
	buf_free(&form);
	return rc;
}
