/* tokens_check.h: the tokens.json round trip both token fuzz targets check: whatever was
 * parsed is written with tokens_to_json and read back unchanged. */
#ifndef OKTACRED_FUZZ_TOKENS_CHECK_H
#define OKTACRED_FUZZ_TOKENS_CHECK_H

#include <string.h>

#include "oktacred/tokens.h"
#include "oktacred/util.h"
#include "fuzz.h"

static inline int fuzz_vschar(const char *s)
{
	if (!s)
		return 1;
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static inline void fuzz_tokens_round_trip(const struct tokens *t)
{
	struct buf json = BUF_INIT;
	struct tokens *back = NULL;
	okc_err err;

	FUZZ_CHECK(fuzz_vschar(t->access_token) && fuzz_vschar(t->refresh_token) &&
	               fuzz_vschar(t->id_token) && fuzz_vschar(t->token_type),
	           "tokens are RFC 6749 VSCHAR");
	FUZZ_CHECK(tokens_to_json(t, 1, &json) == 0, "tokens_to_json");
	FUZZ_CHECK(json.len > 0 && json.data[json.len - 1] == '\n',
	           "tokens.json ends in a newline");
	FUZZ_CHECK(tokens_from_json(json.data, json.len, &back, &err) == 0,
	           "tokens.json reads back");
	FUZZ_CHECK(str_eq(t->access_token, back->access_token) &&
	               str_eq(t->refresh_token, back->refresh_token) &&
	               str_eq(t->id_token, back->id_token) &&
	               str_eq(t->token_type, back->token_type) && str_eq(t->scope, back->scope) &&
	               str_eq(t->org_url, back->org_url) && str_eq(t->client_id, back->client_id) &&
	               str_eq(t->authorization_server, back->authorization_server) &&
	               str_eq(t->scopes, back->scopes),
	           "strings round-trip");
	FUZZ_CHECK(t->expires_at == back->expires_at && t->obtained_at == back->obtained_at &&
	               t->refresh_expires_at == back->refresh_expires_at &&
	               t->expires_in == back->expires_in,
	           "times round-trip");
	tokens_free(back);
	/* Without secrets: readable, and none of them in the file. */
	buf_reset(&json);
	FUZZ_CHECK(tokens_to_json(t, 0, &json) == 0, "tokens_to_json without secrets");
	FUZZ_CHECK(tokens_from_json(json.data, json.len, &back, &err) == 0,
	           "metadata-only tokens.json reads back");
	FUZZ_CHECK(!back->access_token && !back->refresh_token && !back->id_token,
	           "no secret without with_secrets");
	tokens_free(back);
	buf_free(&json);
}

#endif
