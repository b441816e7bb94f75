/* jwt.c: base64url coding and the claims of an unverified JWT. */
#include "oktacred/jwt.h"

#include "oktacred/json.h"
#include <stdlib.h>
#include <string.h>

#include "oktacred/json.h"
#include "oktacred/util.h"

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

int base64url_decode(const char *in, size_t len, struct buf *out)
{
	unsigned long acc = 0;
	int bits = 0;
	size_t i;

	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	buf_reserve(out, len / 4 * 3 + 2);
	for (i = 0; i < len; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

int base64url_encode(const void *in, size_t len, struct buf *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = in;
	unsigned long acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf_putc(out, alphabet[(acc >> bits) & 0x3f]);
		}
	}
	if (bits > 0)
		buf_putc(out, alphabet[(acc << (6 - bits)) & 0x3f]);
	return 0;
}

/* A string claim, or the first of a list of them ("aud" may be one); else NULL. */
static char *claim_string(const struct json *obj, const char *key)
{
	const struct json *list = json_member(obj, key);
	const struct json *first = json_is(list, JSON_ARRAY) ? json_index(list, 0) : NULL;
	const char *s;

	if (json_get_string(obj, key, &s) == 1)
		return xstrdup(s);
	return json_is(first, JSON_STRING) && first->str ? xstrdup(first->str) : NULL;
}

/* A time claim (seconds since 1970), or 0. */
static time_t claim_time(const struct json *obj, const char *key)
{
	double d;

	return json_get_number(obj, key, 0, 1e12, &d) == 1 ? (time_t)d : 0;
}

int jwt_claims_parse(const char *jwt, struct jwt_claims *out, okc_err *err)
{
	const char *dot1, *dot2;
	struct buf payload = BUF_INIT;
	const struct json *groups, *g;
	struct json *root;

	memset(out, 0, sizeof(*out));
	dot1 = jwt ? strchr(jwt, '.') : NULL;
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload) < 0 ||
	    !payload.data) {
		buf_free(&payload);
		return okc_fail(err, OKC_EXIT_FAIL, "the token is not a JWT");
	}
	root = json_parse(payload.data, payload.len);
	buf_free(&payload);
	if (!json_is(root, JSON_OBJECT)) {
		json_free(root);
		return okc_fail(err, OKC_EXIT_FAIL, "the token's claims are not a JSON object");
	}
	out->iss = claim_string(root, "iss");
	out->sub = claim_string(root, "sub");
	out->aud = claim_string(root, "aud");
	out->email = claim_string(root, "email");
	out->name = claim_string(root, "name");
	out->preferred_username = claim_string(root, "preferred_username");
	out->exp = claim_time(root, "exp");
	out->iat = claim_time(root, "iat");
	groups = json_member(root, "groups");
	if (json_is(groups, JSON_ARRAY)) {
		out->groups = xcalloc((size_t)json_count(groups) + 1, sizeof(char *));
		json_each (g, groups) {
			if (json_is(g, JSON_STRING) && g->str)
				out->groups[out->ngroups++] = xstrdup(g->str);
		}
	}
	json_free(root);
	return 0;
}

void jwt_claims_free(struct jwt_claims *c)
{
	size_t i;

	if (!c)
		return;
	free(c->iss);
	free(c->sub);
	free(c->aud);
	free(c->email);
	free(c->name);
	free(c->preferred_username);
	for (i = 0; i < c->ngroups; i++)
		free(c->groups[i]);
	free(c->groups);
	memset(c, 0, sizeof(*c));
}
