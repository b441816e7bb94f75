/* login.h: the interactive login (the device flow's code, QR code and approval, or the
 * browser and paste flows' authorization URL, shown to the person), shared by
 * `oktacred login` and an interactive credential-process. */
#ifndef OKTACRED_LOGIN_H
#define OKTACRED_LOGIN_H

#include <stdio.h>
#include "oktacred/err.h"

struct provider_cfg;

struct login_opts {
	int force;        /* log in even when the session is valid or refreshable */
	int no_browser;   /* never open a browser */
	int no_qr;        /* no QR code */
	FILE *out;        /* where the person reads the code; NULL: term_user_stream() */
	const char *next; /* the command to suggest once logged in, or NULL */
	/* Told that p's session changed to the one with id session (what was derived from
	 * the previous one may belong to another user), after the tokens were saved and the
	 * provider's lock released. Or NULL. */
	int (*session_changed)(const struct provider_cfg *p, const char *session, okc_err *err);
	/* "device", "browser" or "paste" (--flow); NULL: the provider's flow key (auto: the
	 * device flow when the server offers it to the app, else the browser). */
	const char *flow;
};

/* Logs p (a provider with a person's session) in: unless force, a valid or refreshable
 * session is reused (returns 0 with a message). Otherwise runs the flow (device: the code
 * on o->out: the URL, the code in bold on a terminal with colour, a QR code when it fits,
 * whether a browser was opened, then the code's lifetime counting down; browser: the
 * authorization URL on o->out and a loopback listener on the redirect URI; paste: the
 * URL, and the address the browser was sent to read from the terminal or stdin), checks
 * the ID token (with the nonce of the browser and paste flows), saves the tokens with the
 * flow's name under the provider's lock, calls o->session_changed, and says who logged in
 * where, until when the session holds, and o->next. Errors as device_flow_poll,
 * authcode.h and cache_save (exit 5 denied or expired, 130 interrupted). */
int login_interactive(const struct provider_cfg *p, const struct login_opts *o, okc_err *err);

#endif
