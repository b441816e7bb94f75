/* refresh.h: ensure_fresh, the one way every command gets a token it can hand out
 * (DESIGN.md section 4, "Refresh"). */
#ifndef OKTACRED_REFRESH_H
#define OKTACRED_REFRESH_H

#include "oktacred/err.h"
#include "oktacred/tokens.h"

struct provider_cfg;

enum refresh_need {
	NEED_ACCESS_TOKEN, /* the access token must have more than refresh_before left */
	NEED_ID_TOKEN      /* the ID token must (AWS federation) */
};

/* Returns the provider's tokens with the needed token fresh. Without a lock while more
 * than refresh_window is left; otherwise under the provider's lock: read again (another
 * process may have refreshed), refresh with grant_type=refresh_token, keep the old refresh
 * token only when none came back, write atomically. A refresh that is due while the token
 * has not expired (advisory) gets 10 s in all (lock wait included); when it fails for the
 * provider's sake (unreachable, 5xx, 429, too slow) the cached token is returned with one
 * warning on stderr. Errors: no session or the session is over (invalid_grant; the dead
 * tokens are removed) → exit 3 with "run: oktacred login NAME"; provider unreachable and
 * the token expired → exit 4, the cache untouched. */
int refresh_ensure(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
                   okc_err *err);

/* Refreshes now, whatever is left (`oktacred refresh`, the systemd timer). */
int refresh_force(const struct provider_cfg *p, struct tokens **out, okc_err *err);

/* Renews the tokens; the caller holds the provider's lock. *t is the cached tokens (NULL
 * when there are none) and is replaced on success, after the new ones were saved. */
typedef int (*refresh_renew_fn)(const struct provider_cfg *p, struct tokens **t, okc_err *err);

/* The refresh_token grant (a refresh_renew_fn): no session or no refresh token is exit 3. */
int refresh_grant(const struct provider_cfg *p, struct tokens **t, okc_err *err);

/* The ensure-fresh pattern with any way of renewing (the service account's client
 * credentials use it too). force: renew whatever is left. */
int refresh_with(const struct provider_cfg *p, enum refresh_need need, int force,
                 refresh_renew_fn renew, struct tokens **out, okc_err *err);

/* After a service called *t's ID token expired although we thought it fresh (STS's
 * ExpiredTokenException): under the provider's lock, the cached tokens when another
 * process refreshed meanwhile, else a refresh now. *t is replaced. No session: exit 3. */
int refresh_after_rejection(const struct provider_cfg *p, struct tokens **t, okc_err *err);

/* Seconds the needed token has left (negative: expired; the ID token's exp claim). */
long refresh_token_left(const struct tokens *t, enum refresh_need need, time_t now);
/* The needed token is renewed when it has this many seconds left or fewer:
 * min(refresh_before, half its lifetime from issue to expiry), so that a 5-minute token is
 * not renewed on every call and a renewed token is never due at once. */
long refresh_window(const struct provider_cfg *p, const struct tokens *t, enum refresh_need need);

#endif
