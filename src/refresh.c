/* refresh.c: keeping a session alive: the refresh_token grant under the provider's
 * lock, so that N concurrent callers make one request (Okta revokes the whole grant
 * when a rotated-out refresh token is presented again). */
#include "oktacred/refresh.h"

#include <string.h>

#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/util.h"

long refresh_token_left(const struct tokens *t, enum refresh_need need, time_t now)
{
	struct jwt_claims c;
	okc_err err;
	long left;

	if (need == NEED_ACCESS_TOKEN)
		return tokens_access_left(t, now);
	if (!t->id_token || jwt_claims_parse(t->id_token, &c, &err) < 0)
		return -1;
	left = c.exp ? (long)(c.exp - now) : -1;
	jwt_claims_free(&c);
	return left;
}

static int login_required(const struct provider_cfg *p, okc_err *err, const char *why)
{
	okc_fail(err, OKC_EXIT_LOGIN, "%s: %s", p->name, why);
	okc_hint(err, "run: oktacred login %s", p->name);
	return -1;
}

int refresh_grant(const struct provider_cfg *p, struct tokens **t, okc_err *err)
{
	struct oauth_error oerr;
	struct tokens *fresh = NULL;
	struct buf form = BUF_INIT;
	int rc;

	if (!*t)
		return login_required(p, err, "not logged in");
	if (!(*t)->refresh_token)
		return login_required(p, err, "the session has expired and has no refresh token");
	if (http_form_add(&form, "grant_type", "refresh_token") < 0 ||
	    http_form_add(&form, "refresh_token", (*t)->refresh_token) < 0 ||
	    http_form_add(&form, "client_id", p->client_id) < 0 ||
	    http_form_add(&form, "scope", p->scopes) < 0) {
		buf_free(&form);
		return okc_fail(err, OKC_EXIT_FAIL, "out of memory");
	}
	log_verbose("%s: refreshing the session", p->name);
	rc = oauth_token_request(p, &form, &fresh, &oerr, err);
	buf_free(&form);
	if (rc == OAUTH_ERROR) {
		if (strcmp(oerr.error, "invalid_grant") == 0) {
			okc_err ignored;

			/* The grant is dead (expired, revoked, or reuse detected): forget it. */
			cache_delete(p, &ignored);
			return login_required(p, err,
			                      "the session has ended (the identity provider "
			                      "rejected the refresh token)");
		}
		return okc_fail(err, OKC_EXIT_FAIL, "%s: refresh refused: %s%s%s", p->name,
		                oerr.error, oerr.description[0] ? ": " : "", oerr.description);
	}
	if (rc < 0)
		return okc_wrap(err, "%s: cannot refresh the session", p->name);
	if (!fresh->refresh_token) {
		/* No rotation: the old refresh token stays valid. */
		fresh->refresh_token = (*t)->refresh_token;
		fresh->refresh_expires_at = (*t)->refresh_expires_at;
		(*t)->refresh_token = NULL;
	}
	if (!fresh->id_token) {
		fresh->id_token = (*t)->id_token;
		(*t)->id_token = NULL;
	}
	if (cache_save(p, fresh, err) < 0) {
		tokens_free(fresh);
		return -1;
	}
	tokens_free(*t);
	*t = fresh;
	return 0;
}

int refresh_with(const struct provider_cfg *p, enum refresh_need need, int force,
                 refresh_renew_fn renew, struct tokens **out, okc_err *err)
{
	struct tokens *t = NULL;
	struct lock lk = LOCK_INIT;
	int rc;

	*out = NULL;
	if (!force) {
		rc = cache_load(p, &t, err);
		if (rc < 0)
			return -1;
		if (rc == 0 && refresh_token_left(t, need, now_utc()) > p->refresh_before) {
			*out = t;
			return 0;
		}
		/* No session to refresh: say so without taking (or creating) the lock. */
		if (rc == OKC_NOENT && renew == refresh_grant)
			return login_required(p, err, "not logged in");
		tokens_free(t);
		t = NULL;
	}
	if (cache_lock(p, &lk, err) < 0)
		return -1;
	/* Read again under the lock: another process may have renewed meanwhile. */
	rc = cache_load(p, &t, err);
	if (rc == OKC_NOENT ||
	    (rc == 0 && (force || refresh_token_left(t, need, now_utc()) <= p->refresh_before)))
		rc = renew(p, &t, err);
	else if (rc == 0)
		log_verbose("%s: another process renewed the tokens", p->name);
	lock_release(&lk);
	if (rc < 0) {
		tokens_free(t);
		return -1;
	}
	if (refresh_token_left(t, need, now_utc()) <= 0) {
		tokens_free(t);
		return login_required(p, err,
		                      need == NEED_ID_TOKEN
		                          ? "the identity provider returned no fresh ID "
		                            "token (is openid in scopes?)"
		                          : "the new access token is already expired");
	}
	*out = t;
	return 0;
}

int refresh_ensure(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
                   okc_err *err)
{
	return refresh_with(p, need, 0, refresh_grant, out, err);
}

int refresh_force(const struct provider_cfg *p, struct tokens **out, okc_err *err)
{
	return refresh_with(p, NEED_ACCESS_TOKEN, 1, refresh_grant, out, err);
}
