/* log.h: messages to stderr by level, and the redaction of secrets that every
 * trace goes through. */
#ifndef OKTACRED_LOG_H
#define OKTACRED_LOG_H

#include <stddef.h>
#include "oktacred/buf.h"

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2, LOG_DEBUG = 3 };

void log_init(enum log_level level, int color);
enum log_level log_get_level(void);
int log_color(void); /* colour on: --no-color not given, NO_COLOR unset, stderr a tty */

/* "oktacred: " + message + "\n" on stderr. verbose/debug print only at that level. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug lines MUST already be redacted: pass text through the log_redact_* helpers. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Redaction: these append `text` to out with every secret value replaced by
 * "<redacted>". Return 0, or -1 on out-of-memory. */
/* application/x-www-form-urlencoded: values of access_token, refresh_token, id_token,
 * device_code, code, user_code, client_secret, client_assertion, token, password,
 * WebIdentityToken, subject_token. */
int log_redact_form(struct buf *out, const char *text, size_t len);
/* JSON (any nesting): string values of the same keys, plus "SecretAccessKey",
 * "SessionToken" and "Token" (AWS credentials; AccessKeyId is not a secret). */
int log_redact_json(struct buf *out, const char *text, size_t len);
/* One HTTP header line: the value of Authorization, Proxy-Authorization, Cookie and
 * Set-Cookie is redacted; other headers are kept. */
int log_redact_header(struct buf *out, const char *line, size_t len);
/* Picks the right one of the above for a body given its Content-Type (NULL: try JSON
 * when it starts with '{' or '[', else form); XML bodies redact the text of
 * SecretAccessKey, SessionToken and WebIdentityToken elements. */
int log_redact_body(struct buf *out, const char *content_type, const char *text, size_t len);
/* For what a server says about a request it was sent (an OAuth error_description, the
 * answer in the --debug trace): appends text to out with every echo of a secret the request
 * carried replaced by "<redacted>". The secrets are the values log_redact_form hides in the
 * form-encoded `form` (decoded), and `extra` (a Basic password; NULL: none); only those of
 * 8 bytes or more are looked for. */
int log_redact_echoes(struct buf *out, const char *text, size_t len, const char *form,
                      size_t form_len, const char *extra);
/* A server's answer to a form-encoded request: log_redact_body, then log_redact_echoes of
 * what the request (form, extra as above) carried. */
int log_redact_answer(struct buf *out, const char *content_type, const char *text, size_t len,
                      const char *form, size_t form_len, const char *extra);

#endif
