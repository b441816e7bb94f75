/* sts.h: AWS STS AssumeRoleWithWebIdentity: the unsigned Query request and its XML answer.
 * sts.c is the only file that includes libxml2. */
#ifndef OKTACRED_STS_H
#define OKTACRED_STS_H

#include <stddef.h>
#include <time.h>
#include "oktacred/err.h"

/* Temporary credentials as STS answered them. */
struct sts_credentials {
	char *access_key_id;
	char *secret_access_key; /* secret */
	char *session_token;     /* secret */
	time_t expiration;
	char *assumed_role_arn; /* AssumedRoleUser/Arn, or NULL */
};

/* An STS error answer (ErrorResponse/Error), printable ASCII only. */
struct sts_error {
	long http_status;
	char type[16];     /* "Sender", "Receiver", or empty */
	char code[64];     /* "InvalidIdentityToken", ... */
	char message[384]; /* may be empty */
	char request_id[64];
};

#define STS_ERROR 2 /* return value: STS answered an error (struct sts_error filled) */

/* Caps on what an answer may hold. */
#define STS_MAX_BODY          (256 * 1024)
#define STS_MAX_SESSION_TOKEN (64 * 1024)

struct sts_request {
	const char *endpoint; /* https://sts.REGION.amazonaws.com/ or sts_endpoint */
	const char *role_arn;
	const char *session_name; /* already sanitised (sts_session_name) */
	const char *web_identity_token;
	long duration;    /* DurationSeconds, 900..43200 */
	int max_attempts; /* for IDPCommunicationError and Throttling; 0: 3 */
	long backoff_ms;  /* first wait between those attempts; 0: 1000 (doubles, jittered) */
	long timeout_ms;  /* one HTTP attempt, connecting included; 0: http.c's defaults */
};

/* Parses an answer body. Returns 0 with out filled (the caller frees it with
 * sts_credentials_free) for an AssumeRoleWithWebIdentityResponse whose credentials are all
 * there and well-formed; STS_ERROR with serr filled (http_status left as it was) for an
 * ErrorResponse; -1 (exit 4) for anything else: not XML, an HTML page, a DOCTYPE (never
 * expanded), a missing or malformed field. Secrets in the parser's tree are wiped. */
int sts_parse_response(const char *body, size_t len, struct sts_credentials *out,
                       struct sts_error *serr, okc_err *err);

/* POSTs Action=AssumeRoleWithWebIdentity (Version 2011-06-15, unsigned, form-encoded;
 * the token only in the body) and reads the answer. http.c retries connection failures,
 * 5xx and 429; here IDPCommunicationError and Throttling are retried with backoff up to
 * max_attempts. Returns 0 with out filled; STS_ERROR with serr filled for an error STS
 * answered with a 4xx (the caller judges it; the code is printable); -1 otherwise:
 * exit 4 when STS is unreachable, failing (a 5xx, even with an STS error body) or
 * answering something that is not STS XML (a message that names the host, the HTTP status
 * and the kind of body); exit 130 on SIGINT. */
int sts_assume_role(const struct sts_request *req, struct sts_credentials *out,
                    struct sts_error *serr, okc_err *err);

/* RoleSessionName from a template ({email}, {sub}, {preferred_username}; a NULL claim is
 * empty, and {email} without an email claim is the sub), sanitised to what STS accepts:
 * each character outside [A-Za-z0-9+=,.@_-] (a UTF-8 sequence counts as one) becomes
 * '_', the result is cut to 64 characters, and one shorter than 2 is padded with '_'
 * ("oktacred" when empty). Returns a malloc'd string. */
char *sts_session_name(const char *tmpl, const char *email, const char *sub,
                       const char *preferred_username);

void sts_credentials_free(struct sts_credentials *c); /* wipes the secrets */

#endif
