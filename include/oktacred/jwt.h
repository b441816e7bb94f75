/* jwt.h: base64url and the claims of a JWT, decoded without verification (for
 * display and expiry; the servers that consume the tokens verify them). */
#ifndef OKTACRED_JWT_H
#define OKTACRED_JWT_H

#include <stddef.h>
#include <time.h>
#include "oktacred/buf.h"
#include "oktacred/err.h"

/* Appends the decoded bytes; padding optional. Returns 0, or -1 on a bad character. */
int base64url_decode(const char *in, size_t len, struct buf *out);
/* Appends the unpadded base64url form. Always 0. */
int base64url_encode(const void *in, size_t len, struct buf *out);

struct jwt_claims {
	char *iss;
	char *sub;
	char *aud; /* the first audience when it is an array */
	char *email;
	char *name;
	char *preferred_username;
	char **groups; /* NULL-terminated; NULL when the claim is absent */
	size_t ngroups;
	time_t exp; /* 0 when absent */
	time_t iat;
};

/* Decodes header.payload.signature's payload. Claims of the wrong type are ignored
 * (treated as absent). Returns 0, or -1 (exit 1) when it is not a JWT. */
int jwt_claims_parse(const char *jwt, struct jwt_claims *out, okc_err *err);
void jwt_claims_free(struct jwt_claims *c);

#endif
