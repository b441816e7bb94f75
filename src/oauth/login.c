/* login.c: the interactive login: the flow chosen (device, browser, paste), the code or
 * the sign-in address shown where the person can see it, the approval awaited, the tokens
 * saved, whoever derived something from the previous session told. */
#include "oktacred/login.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/authcode.h"
#include "oktacred/browser.h"
#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/device_flow.h"
#include "oktacred/discovery.h"
#include "oktacred/idtoken.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/qr.h"
#include "oktacred/refresh.h"
#include "oktacred/sig.h"
#include "oktacred/term.h"
#include "oktacred/util.h"

/* The code, emphasised where the person reads it on a terminal that may have colour. */
static void show_user_code(const char *code, FILE *out)
{
	if (log_color_for(out))
		fprintf(out, "\033[1m%s\033[0m", code);
	else
		fputs(code, out);
}

/* A QR code of url, when it fits the terminal whole (a cut or wrapped code does not scan;
 * a line stays free under it). Not a terminal, or one that does not say its size: drawn
 * as it is. */
static void show_qr(const char *url, FILE *out)
{
	int utf8 = term_utf8(), cols, rows, need_cols, need_rows;
	okc_err qerr;

	if (term_size(out, &cols, &rows) == 0) {
		if (qr_size(url, utf8, &need_cols, &need_rows, &qerr) < 0) {
			log_warn("%s", qerr.msg);
			return;
		}
		if (need_cols > cols || need_rows >= rows) {
			fprintf(out,
			        "(no QR code: it needs %dx%d characters and the terminal is %dx%d; "
			        "enlarge the window or open the URL above)\n",
			        need_cols, need_rows + 1, cols, rows);
			return;
		}
	}
	fputs("or scan this code with your phone:\n\n", out);
	if (qr_print(out, url, utf8, log_color_for(out), &qerr) < 0)
		log_warn("%s", qerr.msg);
}

static void show_code(const struct device_auth *da, int no_qr, FILE *out)
{
	const char *complete = da->verification_uri_complete;

	fprintf(out, "\nTo sign in, open %s and enter the code ", da->verification_uri);
	show_user_code(da->user_code, out);
	fputc('\n', out);
	if (complete)
		fprintf(out, "or open %s\n", complete);
	if (!no_qr && complete)
		show_qr(complete, out);
	fputc('\n', out);
	fflush(out);
}

/* Opens the verification page unless told not to, and says whether it did. */
static void open_browser(const struct device_auth *da, int no_browser, FILE *out)
{
	const char *url =
	    da->verification_uri_complete ? da->verification_uri_complete : da->verification_uri;

	if (no_browser)
		fputs("No browser opened (--no-browser).\n", out);
	else if (!term_graphical())
		fputs("No browser opened: no graphical session (DISPLAY and WAYLAND_DISPLAY are "
		      "unset).\n",
		      out);
	else if (browser_open(url) == 0)
		fputs("Opened the verification page in your browser.\n", out);
	else
		fputs("Could not open a browser: open the URL yourself.\n", out);
}

/* "10 min", "1 min 2 s", "45 s". */
static void format_lifetime(long s, char *out, size_t n)
{
	if (s < 60)
		snprintf(out, n, "%ld s", s);
	else if (s % 60 == 0)
		snprintf(out, n, "%ld min", s / 60);
	else
		snprintf(out, n, "%ld min %ld s", s / 60, s % 60);
}

/* The code's remaining lifetime while the poll waits: on a terminal one line rewritten in
 * place whenever the number of seconds changes; elsewhere (a log, a pipe) a line each
 * time a whole minute is reached, so that a captured output does not fill up. */
struct countdown {
	FILE *out;
	int tty;
	long shown;     /* the seconds on the terminal's line; -1: none yet */
	long next_mark; /* not a terminal: the next whole minute to say, in seconds; 0: none */
};

static void countdown_tick(long left, void *arg)
{
	struct countdown *c = arg;

	if (c->tty) {
		if (left == c->shown)
			return;
		c->shown = left;
		if (left >= 3600)
			fprintf(c->out, "\r\033[Kthe code expires in %ld:%02ld:%02ld", left / 3600,
			        left % 3600 / 60, left % 60);
		else
			fprintf(c->out, "\r\033[Kthe code expires in %ld:%02ld", left / 60,
			        left % 60);
		fflush(c->out);
		if (c->out == stderr)
			log_status_line(1);
		return;
	}
	if (c->next_mark <= 0 || left > c->next_mark || left <= 0)
		return;
	fprintf(c->out, "the code expires in %ld min\n", (left + 59) / 60);
	fflush(c->out);
	c->next_mark = ((left + 59) / 60 - 1) * 60;
}

static void countdown_start(struct countdown *c, FILE *out, long lifetime)
{
	char when[32];

	c->out = out;
	/* A terminal that cannot move its cursor gets the lines a log gets. */
	c->tty = term_is_tty(out) && !str_eq(getenv("TERM"), "dumb");
	c->shown = -1;
	c->next_mark = lifetime > 0 ? (lifetime - 1) / 60 * 60 : 0;
	fputs("Waiting for approval (Ctrl-C to cancel)...\n", out);
	if (!c->tty) {
		format_lifetime(lifetime, when, sizeof(when));
		fprintf(out, "the code expires in %s\n", when);
	}
	fflush(out);
}

/* The countdown's line gives way to what comes next: the result, or the error. */
static void countdown_end(struct countdown *c)
{
	if (c->tty && c->shown >= 0) {
		fputs("\r\033[K", c->out);
		fflush(c->out);
	}
	log_status_line(0);
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

/* When the session ends, as far as is known: the first of session_duration's end and the
 * refresh token's expiry; without a refresh token, the access token's. 0: it renews
 * itself for as long as the Okta policy allows, which Okta does not say. */
static time_t session_end(const struct provider_cfg *p, const struct tokens *t)
{
	time_t end, start;

	if (!t->refresh_token)
		return t->expires_at;
	end = t->refresh_expires_at;
	if (p->session_duration > 0) {
		start = t->session_started_at ? t->session_started_at : t->obtained_at;
		if (!end || start + p->session_duration < end)
			end = start + p->session_duration;
	}
	return end;
}

/* Who logged in where, until when, and what to run next. */
static void show_result(const struct provider_cfg *p, const struct tokens *t, const char *next,
                        FILE *out)
{
	struct oauth_endpoints ep;
	struct tm tm;
	char who[256], when[64], left[32];
	time_t end = session_end(p, t), now = now_utc();
	okc_err ignored;
	int have_ep = oauth_endpoints_for(p, &ep, &ignored) == 0;

	describe_user(t, who, sizeof(who));
	fprintf(out, "Logged in to %s (%s) as %s", p->name, have_ep ? ep.issuer : p->org_url, who);
	if (end > 0) {
		if (!localtime_r(&end, &tm) ||
		    !strftime(when, sizeof(when), "%Y-%m-%d %H:%M %Z", &tm))
			time_format_utc(end, when);
		time_format_left((long)(end - now), left, sizeof(left));
		fprintf(out, "; session valid until %s (%s%s)%s.\n", when, end > now ? "in " : "",
		        left, t->refresh_token ? "" : ": no refresh token, log in again then");
	} else {
		time_format_left(tokens_access_left(t, now), left, sizeof(left));
		fprintf(out,
		        "; the access token is valid for %s and renewed with the refresh token "
		        "for as long as the Okta policy allows.\n",
		        left);
	}
	if (next)
		fprintf(out, "next: %s\n", next);
	fflush(out);
	if (have_ep)
		oauth_endpoints_free(&ep);
}

static int existing_session(const struct provider_cfg *p, const char *next, okc_err *err)
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
	if (next)
		log_info("next: %s", next);
	tokens_free(t);
	return 0;
}

enum flow { FLOW_DEVICE, FLOW_BROWSER, FLOW_PASTE };
static const char *const flow_names[] = {"device", "browser", "paste"};

/* The flow: --flow, else the provider's flow key; auto asks the server (its discovery
 * document, then the device authorization itself) and says what it chose. A device flow
 * auto started is handed on in da (*started 1). */
static int choose_flow(const struct provider_cfg *p, const struct login_opts *o, FILE *out,
                       struct device_auth *da, int *started, enum flow *f, okc_err *err)
{
	const char *flow = o->flow ? o->flow : config_provider_string(p, "flow");
	struct oauth_discovery d;
	okc_err derr;
	int rc;

	*started = 0;
	if (flow && strcmp(flow, "device") == 0) {
		*f = FLOW_DEVICE;
		return 0;
	}
	if (flow && (strcmp(flow, "browser") == 0 || strcmp(flow, "paste") == 0)) {
		*f = strcmp(flow, "browser") == 0 ? FLOW_BROWSER : FLOW_PASTE;
		return 0;
	}
	*f = FLOW_BROWSER;
	/* A discovery document that cannot be read leaves the device flow to say what is
	 * wrong with the server. */
	if (oauth_discover(p, &d, &derr) == 0) {
		int offered = d.device_authorization_endpoint != NULL;

		oauth_discovery_free(&d);
		if (!offered) {
			fprintf(out, "Signing in with the browser (flow = auto: the authorization "
			             "server offers no device authorization).\n");
			return 0;
		}
	} else {
		oauth_discovery_free(&d); /* its url, kept for messages */
		log_verbose("%s", derr.msg);
	}
	rc = device_flow_start(p, da, err);
	if (rc == DEVICE_FLOW_REFUSED) {
		log_verbose("%s", err->msg);
		okc_err_clear(err);
		fprintf(out, "Signing in with the browser (flow = auto: the identity provider "
		             "refused the device grant for this app).\n");
		return 0;
	}
	if (rc < 0)
		return -1;
	*started = 1;
	*f = FLOW_DEVICE;
	fprintf(out, "Signing in with the device code (flow = auto).\n");
	return 0;
}

static void show_url(const struct authcode *ac, int paste, FILE *out)
{
	if (paste)
		fprintf(out,
		        "\nTo sign in, open this address in a browser, on any machine:\n\n  %s\n\n"
		        "After the sign-in the browser is sent to %s, a page that will not load "
		        "unless oktacred listens on that machine: that is expected. Copy the "
		        "address from the browser's address bar, paste it here (or only its code) "
		        "and press Enter:\n",
		        ac->url, ac->redirect_uri);
	else
		fprintf(
		    out,
		    "\nTo sign in, open this address in a browser on this machine:\n\n  %s\n\n"
		    "Waiting for the browser to come back to %s (Ctrl-C to cancel)...\n"
		    "(If Okta says the redirect URI is not allowed, add it to the app's sign-in "
		    "redirect URIs.)\n",
		    ac->url, ac->redirect_uri);
	fflush(out);
}

/* Where the paste is read: the terminal the person sees the prompt on (stdin when it is
 * one; /dev/tty when the prompt went there), else stdin. *opened: a descriptor to close. */
static int paste_fd(FILE *out, int *opened)
{
	*opened = -1;
	if (!isatty(STDIN_FILENO) && out != stderr && term_is_tty(out)) {
		*opened = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
		if (*opened >= 0)
			return *opened;
	}
	return STDIN_FILENO;
}

/* The authorization code flow (browser or paste) up to its tokens, and the nonce their ID
 * token must carry. Signals are deferred on return 0 (sig_defer): the code is spent. */
static int run_authcode(const struct provider_cfg *p, const struct login_opts *o, FILE *out,
                        int paste, struct tokens **t, char **nonce, okc_err *err)
{
	struct authcode ac;
	struct loopback lb = {{-1, -1}};
	const char *redirect = config_provider_string(p, "redirect_uri");
	long long deadline = now_mono_ms() + AUTHCODE_DEADLINE_S * 1000;
	char *code = NULL;
	int rc, fd, opened;

	if (authcode_start(p, redirect ? redirect : AUTHCODE_DEFAULT_REDIRECT, &ac, err) < 0)
		return -1;
	/* Listening before the address is shown: a busy port is said at once. */
	if (!paste && authcode_listen(p, &ac, &lb, err) < 0) {
		authcode_free(&ac);
		return -1;
	}
	show_url(&ac, paste, out);
	if (paste) {
		fd = paste_fd(out, &opened);
		rc = authcode_read_paste(&ac, fd, deadline, &code, err);
		if (opened >= 0)
			close(opened);
	} else {
		if (!o->no_browser && browser_open(ac.url) == 0)
			log_verbose("opened the sign-in page in a browser");
		rc = authcode_wait_browser(&ac, &lb, deadline, &code, err);
	}
	loopback_close(&lb);
	if (rc == 0) {
		sig_defer(1);
		rc = authcode_exchange(p, &ac, code, t, err);
		if (rc < 0)
			sig_defer(0);
	}
	free_secret(code);
	if (rc == 0)
		*nonce = xstrdup(ac.nonce);
	authcode_free(&ac);
	return rc;
}

static int run_device(const struct provider_cfg *p, const struct login_opts *o, FILE *out,
                      struct device_auth *da, struct tokens **t, okc_err *err)
{
	struct countdown cd;
	int rc;

	show_code(da, o->no_qr, out);
	open_browser(da, o->no_browser, out);
	countdown_start(&cd, out, da->expires_in);
	rc = device_flow_poll(p, da, countdown_tick, &cd, t, err);
	countdown_end(&cd);
	device_auth_free(da);
	return rc;
}

int login_interactive(const struct provider_cfg *p, const struct login_opts *o, okc_err *err)
{
	struct device_auth da;
	struct tokens *t = NULL;
	struct lock lk = LOCK_INIT;
	char *nonce = NULL;
	FILE *out = o->out ? o->out : term_user_stream();
	okc_err derr;
	enum flow flow;
	int rc, started;

	if (!o->force) {
		rc = existing_session(p, o->next, err);
		if (rc <= 0)
			return rc;
	}
	/* Before anyone is asked to approve anything, the tokens need a place to go: a state
	 * directory that is safe and writable (not a symlink, not read-only, not full). The
	 * lock is not held during the login: refreshers of this provider must not wait on a
	 * person. */
	if (cache_check_writable(p, err) < 0)
		return -1;
	if (choose_flow(p, o, out, &da, &started, &flow, err) < 0)
		return -1;
	if (flow == FLOW_DEVICE) {
		if (!started && device_flow_start(p, &da, err) < 0)
			return -1;
		rc = run_device(p, o, out, &da, &t, err);
		if (rc == 0)
			sig_defer(1);
	} else {
		rc = run_authcode(p, o, out, flow == FLOW_PASTE, &t, &nonce, err);
	}
	if (rc < 0)
		return -1;
	/* From the token answer until it is saved, a signal waits: the grant is spent. */
	free(t->flow);
	t->flow = xstrdup(flow_names[flow]);
	rc = cache_lock(p, &lk, err);
	/* OIDC Core 3.1.3.7: the ID token is checked before anything is saved (the JWKS
	 * cache is written under the lock). */
	if (rc == 0 && t->id_token)
		rc = idtoken_verify_nonce(p, t->id_token, nonce, NULL, err);
	if (rc == 0)
		rc = cache_save(p, t, err);
	lock_release(&lk);
	sig_defer(0);
	free(nonce);
	if (rc == 0) {
		/* After the provider's lock is released: the lock order is identity, then
		 * provider. */
		if (o->session_changed && o->session_changed(p, t->session, &derr) < 0)
			log_warn("%s", derr.msg);
		show_result(p, t, o->next, out);
		if (sig_interrupted())
			rc = okc_fail(err, OKC_EXIT_INTERRUPTED,
			              "login interrupted (after its tokens were saved)");
	}
	tokens_free(t);
	return rc;
}
