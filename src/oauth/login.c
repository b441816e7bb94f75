/* login.c: the interactive device-flow login: the code shown where the person can see it,
 * the approval awaited, the tokens saved, whoever derived something from the previous
 * session told. */
#include "oktacred/login.h"

#include <stdio.h>
#include <string.h>

#include "oktacred/browser.h"
#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/device_flow.h"
#include "oktacred/idtoken.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/qr.h"
#include "oktacred/refresh.h"
#include "oktacred/term.h"
#include "oktacred/util.h"

static void show_code(const struct device_auth *da, int no_qr, FILE *out)
{
	const char *complete = da->verification_uri_complete;

	fprintf(out, "\nTo sign in, open %s and enter the code %s\n", da->verification_uri,
	        da->user_code);
	if (complete)
		fprintf(out, "or open %s\n", complete);
	if (!no_qr && complete) {
		okc_err qerr;

		fputs("or scan this code with your phone:\n\n", out);
		if (qr_print(out, complete, term_utf8(), log_color() && term_is_tty(out), &qerr) <
		    0)
			log_warn("%s", qerr.msg);
	}
	fputs("\nWaiting for approval (Ctrl-C to cancel)...\n", out);
	fflush(out);
}

/* The person behind the tokens, for the closing message: escaped, as the claims are the
 * identity provider's text. */
static void describe_user(const struct tokens *t, char *out, size_t n)
{
	struct jwt_claims c;
	okc_err err;

	snprintf(out, n, "%s", "(no ID token)");
	if (!t->id_token || jwt_claims_parse(t->id_token, &c, &err) < 0)
		return;
	if (c.email || c.sub)
		text_escape(out, n, c.email ? c.email : c.sub);
	else
		snprintf(out, n, "%s", "(unknown subject)");
	jwt_claims_free(&c);
}

static int existing_session(const struct provider_cfg *p, okc_err *err)
{
	struct tokens *t = NULL;
	char who[256], left[32];
	long remaining;
	int rc = cache_load(p, &t, err);

	if (rc != 0)
		return rc; /* OKC_NOENT: log in; -1: unsafe state, stop */
	if (tokens_session_over(t, p, now_utc())) {
		log_verbose("%s: the session is older than session_duration: logging in again",
		            p->name);
		tokens_free(t);
		return OKC_NOENT;
	}
	remaining = tokens_access_left(t, now_utc());
	if (remaining <= p->refresh_before) {
		int has_refresh = t->refresh_token != NULL;

		tokens_free(t);
		t = NULL;
		if (!has_refresh)
			return OKC_NOENT;
		/* A refreshable session is as good as a valid one: no need to ask the person. */
		if (refresh_ensure(p, NEED_ACCESS_TOKEN, &t, err) < 0)
			return err->code == OKC_EXIT_LOGIN ? OKC_NOENT : -1;
		remaining = tokens_access_left(t, now_utc());
		log_info("%s: refreshed the existing session", p->name);
	}
	describe_user(t, who, sizeof(who));
	time_format_left(remaining, left, sizeof(left));
	log_info("already logged in to %s as %s (access token valid for %s); use --force to log "
	         "in again",
	         p->name, who, left);
	tokens_free(t);
	return 0;
}

int login_interactive(const struct provider_cfg *p, const struct login_opts *o, okc_err *err)
{
	struct device_auth da;
	struct tokens *t = NULL;
	struct lock lk = LOCK_INIT;
	char who[256];
	FILE *out = o->out ? o->out : term_user_stream();
	okc_err derr;
	int rc;

	if (!o->force) {
		rc = existing_session(p, err);
		if (rc <= 0)
			return rc;
	}
	/* Before anyone is asked to approve anything, the tokens need a place to go: a state
	 * directory that is safe and writable (not a symlink, not read-only, not full). The
	 * lock is not held during the login: refreshers of this provider must not wait on a
	 * person. */
	if (cache_check_writable(p, err) < 0)
		return -1;
	if (device_flow_start(p, &da, err) < 0)
		return -1;
	show_code(&da, o->no_qr, out);
	if (!o->no_browser &&
	    browser_open(da.verification_uri_complete ? da.verification_uri_complete
	                                              : da.verification_uri) == 0)
		log_verbose("opened the verification page in a browser");
	rc = device_flow_poll(p, &da, &t, err);
	device_auth_free(&da);
	if (rc < 0)
		return -1;
	rc = cache_lock(p, &lk, err);
	/* OIDC Core 3.1.3.7: the ID token is checked before anything is saved (the JWKS
	 * cache is written under the lock). */
	if (rc == 0 && t->id_token)
		rc = idtoken_verify(p, t->id_token, NULL, err);
	if (rc == 0)
		rc = cache_save(p, t, err);
	lock_release(&lk);
	if (rc == 0) {
		/* After the provider's lock is released: the lock order is identity, then
		 * provider. */
		if (o->session_changed && o->session_changed(p, t->session, &derr) < 0)
			log_warn("%s", derr.msg);
		describe_user(t, who, sizeof(who));
		fprintf(out, "Logged in to %s as %s.\n", p->org_url, who);
		fflush(out);
	}
	tokens_free(t);
	return rc;
}
