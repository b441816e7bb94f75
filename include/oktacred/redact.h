/* redact.h: what the --debug trace and the excerpts in error messages may show of a request
 * or an answer. Redaction fails closed: a value is shown only when its name is on an
 * allow-list of names that never carry a secret; every other value is replaced by
 * "<redacted>", so a new secret field from a server is hidden without a change here.
 *
 * The allow-lists (src/lib/redact.c has them with the reasons):
 * - JSON keys: token_type, issued_token_type, expires_in, interval, scope, error,
 *   error_description, error_uri, errorCode, errorSummary, errorLink, errorId,
 *   verification_uri, issuer, jwks_uri, Version, AccessKeyId, Expiration, and any key
 *   ending in "_endpoint" or "_supported" (server metadata). Exact, case-sensitive.
 * - form fields: grant_type, scope, client_id, client_assertion_type, token_type_hint,
 *   response_type, redirect_uri, state, code_challenge_method, subject_token_type,
 *   requested_token_type, actor_token_type, audience, resource, and STS's Action, Version,
 *   RoleArn, RoleSessionName, DurationSeconds. Exact (after percent-decoding),
 *   case-sensitive.
 * - header lines: Content-Type, Content-Length, Content-Encoding, Transfer-Encoding, Date,
 *   Retry-After, Cache-Control, Pragma, Expires, Vary, Connection, Keep-Alive, Accept,
 *   Accept-Encoding, Host, User-Agent, Server, Expect, X-Rate-Limit-Limit,
 *   X-Rate-Limit-Remaining, X-Rate-Limit-Reset, X-Okta-Request-Id, X-Amzn-RequestId,
 *   X-Amz-Request-Id, and Location (its query redacted as a form, its fragment hidden).
 *   Names are case-insensitive, as in HTTP.
 *
 * Every function appends to out (whose data is then never NULL, even when nothing was
 * appended); out of memory aborts, as in buf.h. */
#ifndef OKTACRED_REDACT_H
#define OKTACRED_REDACT_H

#include <stddef.h>
#include "oktacred/buf.h"

/* The marker that stands for every hidden value. */
#define REDACTED "<redacted>"

/* application/x-www-form-urlencoded (a body or a query string): every field is shown as its
 * key (as sent) followed by "=<redacted>", unless the key is allow-listed (the field is kept
 * as sent) or the value is empty (nothing to hide: kept). A segment without '=' is kept only
 * when it is an allow-listed key, else it reads "<redacted>". The '&' separators stay. */
void redact_form(struct buf *out, const char *text, size_t len);
/* JSON, parsed (json.h) and printed compactly: objects and arrays are walked at any depth
 * and every key is shown; a string or number is shown only when the key it is under (the
 * nearest one, for the elements of an array) is allow-listed, else it reads "<redacted>" (a
 * JSON string, so the output stays valid JSON); in a string shown, every echo of a string
 * hidden (of 8 bytes or more) reads "<redacted>" too (a device answer's user code in a
 * verification URI). true, false, null and "" are shown: they
 * hide nothing. Text that is not exactly one JSON value (invalid, truncated, trailing data,
 * a NUL byte or a \u0000 escape) shows only its length: "<N bytes of invalid JSON>". */
void redact_json(struct buf *out, const char *text, size_t len);
/* One HTTP header line; trailing CR/LF are kept. An allow-listed header is kept as it is
 * (Location: its query through redact_form, its fragment hidden); any other header reads
 * "Name: <redacted>". A status line ("HTTP/...") is kept; any other line without a ':', and
 * a folded continuation line (starting with white space), reads "<redacted>". */
void redact_header(struct buf *out, const char *line, size_t len);
/* A body given its Content-Type: JSON (a media type holding "json", or none or another one
 * when the body starts with '{' or '[') through redact_json, a form through redact_form.
 * Anything else shows only its length: "<N bytes of XML>" for XML, "<N bytes of TYPE>" for
 * another media type TYPE, "<N bytes>" without one. An empty body is "". */
void redact_body(struct buf *out, const char *content_type, const char *text, size_t len);
/* For what a server says about a request it was sent (an OAuth error_description, an STS
 * message, the answer in the --debug trace): appends text to out with every echo of a
 * secret the request carried replaced by "<redacted>". The secrets are the values of the
 * fields of the form-encoded `form` that redact_form hides (decoded), and `extra` (a Basic
 * password; NULL: none); only those of 8 bytes or more are looked for. */
void redact_echoes(struct buf *out, const char *text, size_t len, const char *form, size_t form_len,
                   const char *extra);
/* A server's answer to a form-encoded request, for the --debug trace: redact_body, then
 * redact_echoes of what the request (form, extra as above) carried. */
void redact_answer(struct buf *out, const char *content_type, const char *text, size_t len,
                   const char *form, size_t form_len, const char *extra);
/* The same answer for the short excerpt an error message quotes when an answer is not what
 * was expected (an HTML error page from a proxy, a JSON error of another kind): JSON that
 * parses and forms as redact_body; other text (invalid JSON included) is kept, so the user
 * sees what came back, but every word of 20 or more characters from the alphabets tokens
 * are written in (base64, base64url, percent-encoding, JWT dots; '=' and '&' included, so a
 * "name=value" pair goes whole) reads "<redacted>", whatever name it stands under. Then
 * redact_echoes as for redact_answer. */
void redact_excerpt(struct buf *out, const char *content_type, const char *text, size_t len,
                    const char *form, size_t form_len, const char *extra);

#endif
