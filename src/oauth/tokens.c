/* tokens.c: an OAuth token set and its two JSON forms: the token endpoint's answer and
 * tokens.json. The only place token JSON is read or written; every secret is wiped. */
#include "oktacred/tokens.h"

#include "oktacred/json.h"
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oktacred/config.h"
#include "oktacred/util.h"

/* Lifetimes beyond this are nonsense, and keep time arithmetic far from overflow. */
#define MAX_LIFETIME       (10L * 366 * 86400)
#define DEFAULT_EXPIRES_IN 3600L

int tokens_is_vschar(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

enum field_rule { FIELD_TEXT, FIELD_TOKEN };

/* The string members of struct tokens: their JSON keys, what they may hold, where they
 * go. The first ANSWER_STRINGS are those of the token endpoint's answer; tokens.json
 * holds them all. */
static const struct string_field {
	const char *key;
	enum field_rule rule;
	size_t offset;
} strings[] = {
    {"access_token", FIELD_TOKEN, offsetof(struct tokens, access_token)},
    {"token_type", FIELD_TOKEN, offsetof(struct tokens, token_type)},
    {"refresh_token", FIELD_TOKEN, offsetof(struct tokens, refresh_token)},
    {"id_token", FIELD_TOKEN, offsetof(struct tokens, id_token)},
    {"scope", FIELD_TEXT, offsetof(struct tokens, scope)},
    {"org_url", FIELD_TEXT, offsetof(struct tokens, org_url)},
    {"client_id", FIELD_TEXT, offsetof(struct tokens, client_id)},
    {"authorization_server", FIELD_TEXT, offsetof(struct tokens, authorization_server)},
    {"scopes", FIELD_TEXT, offsetof(struct tokens, scopes)},
    {"session", FIELD_TOKEN, offsetof(struct tokens, session)},
    {"flow", FIELD_TEXT, offsetof(struct tokens, flow)},
};
#define ANSWER_STRINGS 5

/* The first n strings[] as optional string members (absent or null: NULL), copied into
 * t. Returns 0, or -1 with *bad the key of a member of the wrong type or, for a token,
 * anything but VSCHAR. */
static int get_strings(const struct json *obj, size_t n, struct tokens *t, const char **bad)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char **field = (char **)((char *)t + strings[i].offset);
		const char *s;
		int r = json_get_string(obj, strings[i].key, &s);

		if (r < 0 || (r == 1 && strings[i].rule == FIELD_TOKEN && !tokens_is_vschar(s))) {
			*bad = strings[i].key;
			return -1;
		}
		*field = xstrdup(s);
	}
	return 0;
}

/* An optional whole number of seconds in [min, MAX_LIFETIME]. Absent: 0 (*out
 * untouched); present and good: 1; else -1. */
static int get_seconds(const struct json *obj, const char *key, long min, long *out)
{
	double d;
	int r = json_get_number(obj, key, (double)min, (double)MAX_LIFETIME, &d);

	if (r == 1)
		*out = (long)d;
	return r;
}

void tokens_free(struct tokens *t)
{
	if (!t)
		return;
	free_secret(t->access_token);
	free_secret(t->refresh_token);
	free_secret(t->id_token);
	free(t->token_type);
	free(t->scope);
	free(t->org_url);
	free(t->client_id);
	free(t->authorization_server);
	free(t->scopes);
	free(t->session);
	free(t->flow);
	wipe(t, sizeof(*t));
	free(t);
}

static int bad_answer(okc_err *err, const char *field)
{
	return okc_fail(err, OKC_EXIT_NETWORK,
	                "the identity provider's token answer has a bad \"%s\"", field);
}

/* The end of a parse: frees the tree; gives t to *out when rc is 0, else frees it. */
static int hand_over(struct json *root, struct tokens *t, int rc, struct tokens **out)
{
	json_free_secret(root);
	if (rc < 0)
		tokens_free(t);
	else
		*out = t;
	return rc;
}

int tokens_from_response(const char *json, size_t len, time_t now, struct tokens **out,
                         okc_err *err)
{
	struct tokens *t;
	struct json *root;
	const char *bad, *access;
	long secs;
	int rc = -1;

	*out = NULL;
	root = json_parse_object(json, len);
	if (!root)
		return okc_fail(err, OKC_EXIT_NETWORK,
		                "the identity provider's token answer is not a JSON object%s",
		                json && json_has_nul(json, len) ? " (it holds a NUL character)"
		                                                : "");
	t = xcalloc(1, sizeof(*t));
	t->obtained_at = now;
	if (!json_member(root, "access_token")) {
		okc_fail(err, OKC_EXIT_NETWORK,
		         "the identity provider's token answer has no \"access_token\"");
		goto out;
	}
	if (json_get_string(root, "access_token", &access) != 1) { /* null, or not a string */
		bad_answer(err, "access_token");
		goto out;
	}
	if (get_strings(root, ANSWER_STRINGS, t, &bad) < 0) {
		bad_answer(err, bad);
		goto out;
	}
	t->expires_in = DEFAULT_EXPIRES_IN;
	if (get_seconds(root, "expires_in", 1, &t->expires_in) < 0) {
		bad_answer(err, "expires_in");
		goto out;
	}
	secs = 0;
	switch (get_seconds(root, "refresh_expires_in", 1, &secs)) {
	case -1: bad_answer(err, "refresh_expires_in"); goto out;
	case 1: t->refresh_expires_at = now + secs; break;
	default: break;
	}
	if (!t->token_type)
		t->token_type = xstrdup("Bearer");
	t->expires_at = now + t->expires_in;
	rc = 0;
out:
	return hand_over(root, t, rc, out);
}

int tokens_to_json(const struct tokens *t, int with_secrets, struct buf *out)
{
	struct json *root = json_new(JSON_OBJECT);

	if (with_secrets)
		json_add_string(root, "access_token", t->access_token);
	json_add_string(root, "token_type", t->token_type);
	json_add_number(root, "expires_in", (double)t->expires_in);
	json_add_time(root, "expires_at", t->expires_at);
	if (with_secrets) {
		json_add_string(root, "refresh_token", t->refresh_token);
		json_add_string(root, "id_token", t->id_token);
	}
	json_add_string(root, "scope", t->scope);
	json_add_time(root, "obtained_at", t->obtained_at);
	if (t->refresh_expires_at)
		json_add_time(root, "refresh_token_expires_at", t->refresh_expires_at);
	json_add_string(root, "org_url", t->org_url);
	json_add_string(root, "client_id", t->client_id);
	json_add_string(root, "authorization_server", t->authorization_server);
	json_add_string(root, "scopes", t->scopes);
	json_add_string(root, "session", t->session);
	json_add_string(root, "flow", t->flow);
	if (t->session_started_at)
		json_add_time(root, "session_started_at", t->session_started_at);
	json_print_secret(root, out);
	json_free_secret(root);
	return 0;
}

static int corrupt(okc_err *err, const char *what)
{
	return okc_fail(err, OKC_EXIT_LOGIN, "the token cache is corrupt: %s", what);
}

int tokens_from_json(const char *json, size_t len, struct tokens **out, okc_err *err)
{
	struct tokens *t;
	struct json *root;
	const char *bad;
	int rc = -1, r, r2;

	*out = NULL;
	root = json_parse_object(json, len);
	if (!root)
		return corrupt(err, "not a JSON object");
	t = xcalloc(1, sizeof(*t));
	if (get_strings(root, ARRAY_SIZE(strings), t, &bad) < 0) {
		okc_fail(err, OKC_EXIT_LOGIN, "the token cache is corrupt: bad \"%s\"", bad);
		goto out;
	}
	if (json_get_time(root, "expires_at", &t->expires_at) != 1) {
		corrupt(err, "\"expires_at\" is missing or not a UTC time");
		goto out;
	}
	r = json_get_time(root, "obtained_at", &t->obtained_at);
	if (r < 0) {
		corrupt(err, "bad \"obtained_at\"");
		goto out;
	}
	/* The Atmos design's name, and the one files were written with before. */
	r2 = json_get_time(root, "refresh_token_expires_at", &t->refresh_expires_at);
	if (r2 < 0) {
		corrupt(err, "bad \"refresh_token_expires_at\"");
		goto out;
	}
	if (r2 == 0 && json_get_time(root, "refresh_expires_at", &t->refresh_expires_at) < 0) {
		corrupt(err, "bad \"refresh_expires_at\"");
		goto out;
	}
	if (json_get_time(root, "session_started_at", &t->session_started_at) < 0) {
		corrupt(err, "bad \"session_started_at\"");
		goto out;
	}

	switch (get_seconds(root, "expires_in", 0, &t->expires_in)) {
	case -1: corrupt(err, "bad \"expires_in\""); goto out;
	case 0:
		if (r == 1 && t->expires_at > t->obtained_at &&
		    t->expires_at - t->obtained_at <= MAX_LIFETIME)
			t->expires_in = (long)(t->expires_at - t->obtained_at);
		break;
	default: break;
	}
	/* A file from before sessions had ids: its login time names the session. */
	if (!t->session)
		t->session = xasprintf("obtained-%lld", (long long)t->obtained_at);
	rc = 0;
out:
	return hand_over(root, t, rc, out);
}

void tokens_continue_session(struct tokens *fresh, const struct tokens *old)
{
	if (!fresh->flow && old && old->flow)
		fresh->flow = xstrdup(old->flow);
	if (!fresh->session && old && old->session) {
		fresh->session = xstrdup(old->session);
		fresh->session_started_at =
		    old->session_started_at ? old->session_started_at : old->obtained_at;
	}
}

int tokens_session_over(const struct tokens *t, const struct provider_cfg *p, time_t now)
{
	/* A file from before the field: the session is at least as old as its last save. */
	time_t start = t->session_started_at ? t->session_started_at : t->obtained_at;

	return p->session_duration > 0 && start > 0 && now - start >= p->session_duration;
}

long tokens_access_left(const struct tokens *t, time_t now)
{
	return (long)(t->expires_at - now);
}

static int cmp_words(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scopes as a set (RFC 6749 3.3: order does not matter): the words sorted, duplicates
 * dropped, joined by one space. NULL and "" are both the empty set. */
static char *normalise_scopes(const char *s)
{
	char *copy = xstrdup(s ? s : "");
	char **words = xcalloc(strlen(copy) / 2 + 1, sizeof(*words));
	size_t n = 0, i, len = 0;
	char *p = copy, *out, *o;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
	qsort(words, n, sizeof(*words), cmp_words);
	for (i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	o = out = xmalloc(len + 1);
	for (i = 0; i < n; i++) {
		size_t w = strlen(words[i]);

		if (i > 0 && strcmp(words[i], words[i - 1]) == 0)
			continue;
		if (o != out)
			*o++ = ' ';
		memcpy(o, words[i], w);
		o += w;
	}
	*o = '\0';
	free(words);
	free(copy);
	return out;
}

int tokens_match_provider(const struct tokens *t, const struct provider_cfg *p)
{
	char *a, *b;
	int same;

	if (!str_eq(t->org_url, p->org_url) || !str_eq(t->client_id, p->client_id) ||
	    !str_eq(t->authorization_server, p->authorization_server))
		return 0;
	/* dpop = true wants DPoP-bound tokens: a bearer session (from before dpop was set) is
	 * none for it, nor a DPoP-bound one for a provider that no longer sends proofs. */
	if (!p->dpop != !(t->token_type && strcasecmp(t->token_type, "DPoP") == 0))
		return 0;
	a = normalise_scopes(t->scopes);
	b = normalise_scopes(p->scopes);
	same = strcmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}

void tokens_set_provider(struct tokens *t, const struct provider_cfg *p)
{
	free(t->org_url);
	free(t->client_id);
	free(t->authorization_server);
	free(t->scopes);
	t->org_url = xstrdup(p->org_url);
	t->client_id = xstrdup(p->client_id);
	t->authorization_server = xstrdup(p->authorization_server);
	t->scopes = xstrdup(p->scopes);
}
