/* refresh.c: keeping a session alive: the refresh_token grant under the provider's
 * lock, so that N concurrent callers make one request (Okta revokes the whole grant
 * when a rotated-out refresh token is presented again). */
#include "oktacred/refresh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/front.h"
#include "oktacred/http.h"
#include "oktacred/idtoken.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

/* A refresh token whose answer was lost is presented again only this soon after: inside
 * Okta's default grace period of 30 s for a rotated-out token, with room for a slow clock. */
#define RESEND_WINDOW_MS 25000L
/* A refresh that is only due, not needed, gets this long (lock wait and requests) before
 * the still-valid cached token is used instead. */
#define ADVISORY_BUDGET_MS 10000L

/* Set when the last refresh_grant in this process failed because the provider sent an
 * invalid ID token: not a failure "for the provider's sake" that an advisory refresh may
 * paper over with the cached token. */
static int token_rejected;

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

/* Seconds from issue to expiry of the needed token; -1 when unknown. */
static long token_lifetime(const struct tokens *t, enum refresh_need need)
{
	struct jwt_claims c;
	okc_err err;
	long life = -1;

	if (need == NEED_ACCESS_TOKEN)
		return t->obtained_at > 0 && t->expires_at > t->obtained_at
		           ? (long)(t->expires_at - t->obtained_at)
		           : -1;
	if (!t->id_token || jwt_claims_parse(t->id_token, &c, &err) < 0)
		return -1;
	if (c.iat > 0 && c.exp > c.iat)
		life = (long)(c.exp - c.iat);
	jwt_claims_free(&c);
	return life;
}

static long window_for(const struct provider_cfg *p, long life)
{
	return life > 0 && life / 2 < p->refresh_before ? life / 2 : p->refresh_before;
}

long refresh_window(const struct provider_cfg *p, const struct tokens *t, enum refresh_need need)
{
	return window_for(p, token_lifetime(t, need));
}

/* refresh_token_left <= refresh_window, with the ID token decoded once, not twice (every
 * cached command that needs it asks). */
static int is_due(const struct provider_cfg *p, const struct tokens *t, enum refresh_need need)
{
	time_t now = now_utc();
	struct jwt_claims c;
	okc_err err;
	long left = -1, life = -1;

	if (need == NEED_ACCESS_TOKEN)
		return tokens_access_left(t, now) <= window_for(p, token_lifetime(t, need));
	if (t->id_token && jwt_claims_parse(t->id_token, &c, &err) == 0) {
		left = c.exp ? (long)(c.exp - now) : -1;
		if (c.iat > 0 && c.exp > c.iat)
			life = (long)(c.exp - c.iat);
		jwt_claims_free(&c);
	}
	return left <= window_for(p, life);
}

static int login_required(const struct provider_cfg *p, okc_err *err, const char *why)
{
	okc_fail(err, OKC_EXIT_LOGIN, "%s: %s", p->name, why);
	okc_hint(err, "run: oktacred login %s", p->name);
	return -1;
}

/* A session past session_duration: over, whatever its refresh token would allow. */
static int session_over(const struct provider_cfg *p, okc_err *err)
{
	char d[32], why[128];

	time_format_left(p->session_duration, d, sizeof(d));
	snprintf(why, sizeof(why),
	         "the session has ended (it began more than session_duration = %s ago)", d);
	return login_required(p, err, why);
}

int refresh_grant(const struct provider_cfg *p, struct tokens **t, okc_err *err)
{
	struct http_limits *outer = http_limits_get(), lim = {0};
	struct oauth_error oerr;
	struct tokens *fresh = NULL;
	struct buf form = BUF_INIT;
	int rc;

	token_rejected = 0;
	if (!*t)
		return login_required(p, err, "not logged in");
	if (tokens_session_over(*t, p, now_utc()))
		return session_over(p, err);
	if (!(*t)->refresh_token)
		return login_required(p, err, "the session has expired and has no refresh token");
	/* RFC 6749 6: the scope asked for is the one granted (saved with the tokens), which
	 * may be less than the configured list; without it, the configured one. */
	http_form_add(&form, "grant_type", "refresh_token");
	http_form_add(&form, "refresh_token", (*t)->refresh_token);
	http_form_add(&form, "client_id", p->client_id);
	http_form_add(&form, "scope", (*t)->scope ? (*t)->scope : p->scopes);
	log_verbose("%s: refreshing the session", p->name);
	/* From here until the answer is saved a termination signal waits: once Okta has
	 * the request it may have rotated the refresh token, and losing its answer loses
	 * the session. */
	lim.deadline_ms = outer ? outer->deadline_ms : 0;
	lim.resend_window_ms = RESEND_WINDOW_MS;
	http_limits_set(&lim);
	sig_defer(1);
	rc = oauth_token_request(p, &form, &fresh, &oerr, err);
	http_limits_set(outer);
	buf_free(&form);
	if (rc == OAUTH_ERROR) {
		sig_defer(0);
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
	if (rc < 0) {
		sig_defer(0);
		if (sig_interrupted() && err->code != OKC_EXIT_INTERRUPTED)
			okc_wrap(err, "interrupted");
		if (sig_interrupted())
			err->code = OKC_EXIT_INTERRUPTED;
		if (lim.answer_lost) {
			okc_wrap(
			    err,
			    "%s: the answer to the refresh was lost; the identity provider may "
			    "have ended the session",
			    p->name);
			okc_hint(err,
			         "the next call finds out; if it says so, run: oktacred login %s",
			         p->name);
			return -1;
		}
		return okc_wrap(err, "%s: cannot refresh the session", p->name);
	}
	/* OIDC Core 3.1.3.7 (12.2 for a refresh): the new ID token is checked before
	 * anything is saved. A refused one leaves the cache as it was, although the refresh
	 * token in it may have been rotated out (the next refresh then says that the session
	 * has ended, which it has). */
	if (fresh->id_token && idtoken_verify(p, fresh->id_token, &token_rejected, err) < 0) {
		sig_defer(0);
		tokens_free(fresh);
		return -1;
	}
	if (!fresh->refresh_token) {
		/* No rotation: the old refresh token stays valid. */
		fresh->refresh_token = (*t)->refresh_token;
		fresh->refresh_expires_at = (*t)->refresh_expires_at;
		(*t)->refresh_token = NULL;
	}
	if (!fresh->scope) {
		/* RFC 6749 5.1: omitted when it is what was asked for, the granted one. */
		fresh->scope = (*t)->scope;
		(*t)->scope = NULL;
	}
	if (!fresh->id_token) {
		fresh->id_token = (*t)->id_token;
		(*t)->id_token = NULL;
	}
	tokens_continue_session(fresh, *t);
	rc = cache_save(p, fresh, err);
	sig_defer(0);
	if (rc < 0) {
		tokens_free(fresh);
		return -1;
	}
	tokens_free(*t);
	*t = fresh;
	if (sig_interrupted())
		return okc_fail(err, OKC_EXIT_INTERRUPTED,
		                "%s: interrupted (the refreshed session was saved first)", p->name);
	return 0;
}

/* A refresh that was only due failed: the cached token is still valid, and is used. */
static int use_cached(enum refresh_need need, struct tokens *t, struct tokens **out, okc_err *err)
{
	char left[32];
	long secs = refresh_token_left(t, need, now_utc());

	if (secs <= 0)
		return -1;
	time_format_left(secs, left, sizeof(left));
	log_warn("%s; using the cached %s (valid for %s)", err->msg,
	         need == NEED_ID_TOKEN ? "ID token" : "access token", left);
	okc_err_clear(err);
	*out = t;
	return 0;
}

/* Under the provider's lock: read again (another process may have renewed meanwhile) and
 * renew when it is still needed. budget_ms (0: none) bounds the lock wait and the
 * requests; a lock held too long then counts as a provider too slow (exit 4). On failure
 * *t may hold the cached tokens: the caller frees them. */
static int renew_locked(const struct provider_cfg *p, enum refresh_need need, int force,
                        refresh_renew_fn renew, long budget_ms, struct tokens **t, okc_err *err)
{
	struct http_limits lim = {0};
	struct lock lk = LOCK_INIT;
	int rc;

	*t = NULL;
	if (budget_ms > 0)
		lim.deadline_ms = now_mono_ms() + budget_ms;
	if (cache_lock_within(p, &lk, budget_ms, err) < 0) {
		if (budget_ms > 0 && err->code != OKC_EXIT_INTERRUPTED)
			err->code = OKC_EXIT_NETWORK;
		return -1;
	}
	rc = cache_load(p, t, err);
	if (rc == OKC_NOENT || (rc == 0 && (force || is_due(p, *t, need)))) {
		http_limits_set(budget_ms > 0 ? &lim : NULL);
		rc = renew(p, t, err);
		http_limits_set(NULL);
	} else if (rc == 0) {
		log_verbose("%s: another process renewed the tokens", p->name);
	}
	lock_release(&lk);
	return rc < 0 ? -1 : 0;
}

/* What the detached refresher tells its parent. */
struct detached_result {
	int rc;
	int rejected; /* token_rejected */
	okc_err err;
};

/* The refresher: in a session of its own (a Ctrl-C or a closed terminal of the caller does
 * not reach it), with nothing to print to, holding none of the caller's descriptors (the
 * socket of exec --server, a pipe someone waits on) but `keep`. */
static void detach(int keep)
{
	long fd, max = sysconf(_SC_OPEN_MAX);

	for (fd = STDERR_FILENO + 1; fd < (max > 0 && max < 4096 ? max : 4096); fd++)
		if (fd != keep)
			close((int)fd);
	fd = open("/dev/null", O_RDWR);
	setsid();
	signal(SIGPIPE, SIG_IGN);
	if (fd >= 0) {
		dup2((int)fd, STDIN_FILENO);
		dup2((int)fd, STDOUT_FILENO);
		dup2((int)fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close((int)fd);
	}
}

/* Reads the result within ms. Returns its size when it came, 0 when the refresher ended
 * without one, -1 on timeout or a signal. */
static ssize_t read_result(int fd, struct detached_result *r, long ms)
{
	long long deadline = now_mono_ms() + ms;
	size_t got = 0;

	while (got < sizeof(*r)) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline - now_mono_ms();
		ssize_t n;

		if (left <= 0 || sig_interrupted())
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue; /* EINTR or the time is up: looked at above */
		n = read(fd, (char *)r + got, sizeof(*r) - got);
		if (n == 0)
			return (ssize_t)got == (ssize_t)sizeof(*r) ? (ssize_t)got : 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* An advisory refresh: made by a child process that finishes it whatever happens to us, so
 * that the answer to a refresh that went out is saved even when we stop waiting after 10 s
 * (the rotated refresh token is in that answer). Only where fork() is safe: a process that
 * has loaded libsecret (token_store = keyring) has GLib's threads, and one serving `exec
 * --server` requests on threads has its own; both refresh here. */
static int renew_detached(const struct provider_cfg *p, enum refresh_need need,
                          refresh_renew_fn renew, struct tokens **t, okc_err *err)
{
	struct detached_result r;
	int fds[2];
	pid_t pid;
	ssize_t n;

	*t = NULL;
	if (p->token_store == TOKEN_STORE_KEYRING || threads_running() || pipe(fds) < 0)
		return renew_locked(p, need, 0, renew, ADVISORY_BUDGET_MS, t, err);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return renew_locked(p, need, 0, renew, ADVISORY_BUDGET_MS, t, err);
	}
	if (pid == 0) {
		close(fds[0]);
		detach(fds[1]);
		memset(&r, 0, sizeof(r));
		r.rc = renew_locked(p, need, 0, renew, 0, t, &r.err);
		r.rejected = token_rejected;
		tokens_free(*t);
		*t = NULL;
		if (write(fds[1], &r, sizeof(r)) < 0)
			r.rc = -1; /* nobody is listening any more: the tokens are saved all the
			              same */
		_exit(0);
	}
	close(fds[1]);
	n = read_result(fds[0], &r, ADVISORY_BUDGET_MS);
	close(fds[0]);
	if (n > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (r.rc < 0) {
			r.err.msg[sizeof(r.err.msg) - 1] = r.err.hint[sizeof(r.err.hint) - 1] =
			    '\0';
			*err = r.err;
			token_rejected = r.rejected;
			return -1;
		}
		return cache_load(p, t, err) == 0 ? 0 : login_required(p, err, "not logged in");
	}
	if (n == 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return okc_fail(err, OKC_EXIT_NETWORK, "%s: the refresh ended without an answer",
		                p->name);
	}
	log_verbose("%s: the refresh goes on in the background (pid %ld)", p->name, (long)pid);
	if (sig_interrupted())
		return okc_fail(err, OKC_EXIT_INTERRUPTED,
		                "%s: interrupted (the refresh goes on in the background)", p->name);
	return okc_fail(err, OKC_EXIT_NETWORK,
	                "%s: no answer from the identity provider within %ld s (the refresh goes "
	                "on in the background)",
	                p->name, ADVISORY_BUDGET_MS / 1000);
}

int refresh_with(const struct provider_cfg *p, enum refresh_need need, int force,
                 refresh_renew_fn renew, struct tokens **out, okc_err *err)
{
	struct tokens *t = NULL;
	int rc, advisory = 0;

	*out = NULL;
	if (!force) {
		rc = cache_load(p, &t, err);
		if (rc < 0)
			return -1;
		if (rc == 0 && tokens_session_over(t, p, now_utc())) {
			tokens_free(t);
			return session_over(p, err);
		}
		if (rc == 0 && !is_due(p, t, need)) {
			if (log_get_level() >= LOG_VERBOSE) {
				char left[32];

				time_format_left(refresh_token_left(t, need, now_utc()), left,
				                 sizeof(left));
				log_verbose("%s: cached, %s left", p->name, left);
			}
			*out = t;
			return 0;
		}
		/* No session to refresh: say so without taking (or creating) the lock. */
		if (rc == OKC_NOENT && renew == refresh_grant)
			return login_required(p, err, "not logged in");
		/* Due but not expired: a provider that fails or hangs must not cost the
		 * caller the token it still has (the AWS SDKs' advisory refresh). */
		advisory = rc == 0 && refresh_token_left(t, need, now_utc()) > 0;
		tokens_free(t);
		t = NULL;
	}
	/* A renewal (a fork, a lock, the network) is the full binary's: the front hands off
	 * before any of it. */
	front_handoff("a refresh");
	if (advisory) {
		token_rejected = 0;
		rc = renew_detached(p, need, renew, &t, err);
		/* An invalid ID token is never papered over: it is not the provider being
		 * slow or away. */
		if (rc < 0 && err->code == OKC_EXIT_NETWORK && !token_rejected) {
			okc_err lerr;

			/* A failed refresh left the cache as it was. */
			tokens_free(t);
			t = NULL;
			if (cache_load(p, &t, &lerr) == 0 && use_cached(need, t, out, err) == 0)
				return 0;
		}
	} else {
		rc = renew_locked(p, need, force, renew, 0, &t, err);
	}
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

int refresh_after_rejection(const struct provider_cfg *p, struct tokens **t, okc_err *err)
{
	struct tokens *cur = NULL;
	struct lock lk = LOCK_INIT;
	int rc;

	if (cache_lock(p, &lk, err) < 0)
		return -1;
	rc = cache_load(p, &cur, err);
	if (rc == OKC_NOENT) {
		okc_fail(err, OKC_EXIT_LOGIN, "%s: not logged in", p->name);
		okc_hint(err, "run: oktacred login %s", p->name);
		rc = -1;
	} else if (rc == 0) {
		if (str_eq(cur->id_token, (*t)->id_token))
			rc = refresh_grant(p, &cur, err);
		else
			log_verbose("%s: another process refreshed the ID token", p->name);
	}
	lock_release(&lk);
	if (rc < 0) {
		tokens_free(cur);
		return -1;
	}
	tokens_free(*t);
	*t = cur;
	return 0;
}
