/* tokens.h: an OAuth token set, its JSON forms (the token endpoint's answer and
 * tokens.json), and the expiry arithmetic. Pure data: no disk, no network. */
#ifndef OKTACRED_TOKENS_H
#define OKTACRED_TOKENS_H

#include <time.h>
#include "oktacred/buf.h"
#include "oktacred/err.h"

struct provider_cfg;

struct tokens {
	char *access_token;  /* secret */
	char *token_type;    /* "Bearer" */
	char *refresh_token; /* secret; NULL when none */
	char *id_token;      /* secret; NULL when none */
	char *scope;         /* granted scope, NULL when the answer had none */
	long expires_in;     /* as answered (seconds) */
	time_t expires_at;   /* absolute: obtained_at + expires_in */
	time_t obtained_at;
	time_t refresh_expires_at; /* 0: unknown (Okta does not say) */
	/* When the session began (its login; a service account's first grant): kept by
	 * every refresh, for session_duration. 0: unknown. */
	time_t session_started_at;
	/* The cache key: what the tokens were obtained with (DESIGN.md section 4). */
	char *org_url;
	char *client_id;
	char *authorization_server;
	char *scopes; /* requested scopes */
	/* Which session these tokens belong to: a random id made when a login (or a service
	 * account's first grant) is saved, kept by every refresh. What was derived from a
	 * session (AWS credentials) records it, and is used only while it is still current. */
	char *session;
	/* How the session's login was made: "device", "browser" or "paste"; kept by every
	 * refresh. NULL: unknown (a file from before the field, a service account). */
	char *flow;
};

/* Wipes every secret, frees everything; NULL is fine. */
void tokens_free(struct tokens *t);
/* RFC 6749 appendix A: a token is VSCHAR (%x20-7E), and not empty. Nothing else may reach
 * an HTTP header or a shell's environment, whether it came from a server, tokens.json or
 * the keyring. */
int tokens_is_vschar(const char *s);

/* Parses a token endpoint success answer (RFC 6749 5.1). access_token (string) is
 * required; token_type, refresh_token, id_token, scope optional strings; expires_in a
 * positive number (absent: 3600); refresh_expires_in honoured when present. Wrong types
 * are errors (exit 4: "the identity provider's token answer has a bad \"FIELD\""). Sets
 * obtained_at = now. A JSON null counts as absent; the tokens must be RFC 6749 VSCHAR
 * (printable ASCII: nothing that could split an HTTP header or a shell line); token_type
 * absent: "Bearer"; expires_in and refresh_expires_in at most 10 years. */
int tokens_from_response(const char *json, size_t len, time_t now, struct tokens **out,
                         okc_err *err);

/* tokens.json, DESIGN.md section 4: access_token, token_type, expires_in, expires_at
 * (RFC 3339 UTC), refresh_token, id_token, scope, obtained_at, refresh_token_expires_at
 * (when known), org_url, client_id, authorization_server, scopes, session,
 * session_started_at (when known), flow (when known). with_secrets 0 leaves out access_token,
 * refresh_token and id_token (the keyring keeps them). */
int tokens_to_json(const struct tokens *t, int with_secrets, struct buf *out);
/* Parses tokens.json. Every field type-checked; expires_at required; the refresh token's
 * expiry also under its earlier name refresh_expires_at (refresh_token_expires_at wins).
 * A file without session_started_at (saved before the field existed) is taken to have
 * begun its session at obtained_at, its latest refresh. A file that is not
 * this (bad JSON, wrong types) is -1 with exit 3 ("corrupt"). Secrets may be absent
 * (keyring mode); the caller fills them. Unknown keys are ignored (a newer version's
 * file stays readable); a NUL byte or anything after the object is corrupt. */
int tokens_from_json(const char *json, size_t len, struct tokens **out, okc_err *err);

/* Tokens renewed from old belong to old's session (a refresh, not a new login): its id and
 * its start. */
void tokens_continue_session(struct tokens *fresh, const struct tokens *old);
/* 1 when t's session began at least p's session_duration ago (0: no limit), else 0. */
int tokens_session_over(const struct tokens *t, const struct provider_cfg *p, time_t now);

/* Seconds until the access token expires (negative when expired). */
long tokens_access_left(const struct tokens *t, time_t now);
/* 1 when the tokens were obtained with p's org_url, client_id, authorization_server and
 * scopes, and are DPoP-bound (token_type DPoP) exactly when p has dpop = true, else 0. Strings
 * compare exactly (NULL equals only NULL); scopes compare as sets (RFC 6749 3.3: order does not
 * matter), so "openid email" matches "email  openid". */
int tokens_match_provider(const struct tokens *t, const struct provider_cfg *p);
/* Records p's cache key in t (replacing what was there). */
void tokens_set_provider(struct tokens *t, const struct provider_cfg *p);

#endif
