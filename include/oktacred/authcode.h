/* authcode.h: the OAuth 2.0 authorization code grant of a native app (RFC 6749 4.1,
 * RFC 8252) with PKCE (RFC 7636, S256), a random state and an OpenID Connect nonce: the
 * authorization URL, the redirect's answer checked, the code exchanged with the verifier.
 * The answer comes to a loopback listener (the browser flow) or is pasted by the person
 * (the paste flow). No display here: the caller shows the URL. */
#ifndef OKTACRED_AUTHCODE_H
#define OKTACRED_AUTHCODE_H

#include <stddef.h>

#include "oktacred/err.h"
#include "oktacred/loopback.h"
#include "oktacred/tokens.h"

struct provider_cfg;

/* The redirect URI when the provider sets none. Okta compares it exactly with those
 * registered on the app: the port is part of it. */
#define AUTHCODE_DEFAULT_REDIRECT "http://localhost:8000/callback"
/* How long the person has to sign in: as long as Okta's device codes live. */
#define AUTHCODE_DEADLINE_S 600L

struct authcode {
	char *verifier; /* secret: the PKCE code verifier, 43 base64url characters */
	char *state;
	char *nonce;
	char *redirect_uri;
	char *issuer; /* what the answer's iss (RFC 9207), when sent, must be */
	char *url;    /* the authorization URL the person opens */
};

/* Splits a redirect URI http://HOST[:PORT]/PATH whose HOST is localhost, 127.0.0.1 or
 * [::1] into host ("::1" without brackets), port (80 when absent) and path (from its
 * '/'). Returns 0, or -1 with *why what is wrong. */
int authcode_redirect_parse(const char *uri, char *host, size_t hostn, int *port, const char **path,
                            const char **why);

/* New verifier, state and nonce (getrandom), and the authorization URL for p. */
int authcode_start(const struct provider_cfg *p, const char *redirect_uri, struct authcode *out,
                   okc_err *err);

/* Listens on the redirect URI's loopback address and port. A busy port is exit 1 naming
 * the port and p's redirect_uri key. */
int authcode_listen(const struct provider_cfg *p, const struct authcode *ac, struct loopback *lb,
                    okc_err *err);

/* The redirect's answer: its query ("code=...&state=..."). Returns 0 with *code (free it
 * with free_secret); AUTHCODE_WRONG_STATE (err set) when its state is not this login's;
 * -1 with err: error=access_denied exit 5, another error exit 1 (the server's words,
 * escaped), an issuer that is not p's exit 1, no code exit 4. */
#define AUTHCODE_WRONG_STATE 2
int authcode_answer(const struct authcode *ac, const char *query, char **code, okc_err *err);

/* The browser flow: serves lb until the redirect with this login's state arrives (other
 * requests are answered and refused), answers the browser with a page that it may be
 * closed, and returns 0 with *code; or -1: authcode_answer's errors, interrupted (130),
 * the deadline (exit 5). */
int authcode_wait_browser(const struct authcode *ac, struct loopback *lb, long long deadline_ms,
                          char **code, okc_err *err);

/* The paste flow: reads one line from fd: the address the browser was sent to (or its
 * query), checked as authcode_answer does, or the code alone (no state to check then).
 * A wrong state is exit 1. */
int authcode_read_paste(const struct authcode *ac, int fd, long long deadline_ms, char **code,
                        okc_err *err);

/* Exchanges code for tokens at p's token endpoint, with the verifier. The code is good
 * once: the caller defers signals (sig_defer) until the answer is saved. Errors:
 * invalid_grant exit 1, the app's configuration exit 2, unreachable exit 4. */
int authcode_exchange(const struct provider_cfg *p, const struct authcode *ac, const char *code,
                      struct tokens **out, okc_err *err);

void authcode_free(struct authcode *ac);

#endif
