/* device_flow.c: RFC 8628 device authorization and polling. */
#include "oktacred/device_flow.h"

#include "oktacred/json.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oktacred/config.h"
#include "oktacred/json.h"
#include "oktacred/log.h"
#include "oktacred/oauth.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

#define GRANT_DEVICE_CODE "urn:ietf:params:oauth:grant-type:device_code"
#define DEFAULT_INTERVAL  5   /* RFC 8628 3.2 */
#define MAX_INTERVAL      300 /* a server asking for more is broken; don't hang for hours */
#define SLOW_DOWN_STEP    5   /* RFC 8628 3.5 */

#define CLIENT_HINT                                                                                \
	"check client_id of provider %s, and that the Okta app is a Native app with the "          \
	"Device Authorization grant"

/* An OAuth error that says the client (the Okta app) is not set up for this flow. */
static int client_misconfigured(const char *error)
{
	return strcmp(error, "invalid_client") == 0 || strcmp(error, "unauthorized_client") == 0 ||
	       strcmp(error, "unsupported_grant_type") == 0;
}

void device_auth_free(struct device_auth *da)
{
	if (!da)
		return;
	free_secret(da->device_code);
	free(da->user_code);
	free(da->verification_uri);
	free(da->verification_uri_complete);
	memset(da, 0, sizeof(*da));
}

/* An optional string member (absent or null: NULL), not empty; printable ones only, since
 * they are shown on the terminal. */
static int get_str(const struct json *root, const char *key, int printable, char **out)
{
	const char *v, *s;
	int r = json_get_string(root, key, &v);

	*out = NULL;
	if (r <= 0)
		return r;
	if (!*v)
		return -1;
	for (s = v; printable && *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return -1;
	*out = xstrdup(v);
	return 0;
}

/* verification_uri_complete goes to a browser (xdg-open): a web page only, never a file:
 * URL or another scheme's handler. NULL (absent) is fine. */
static int web_url_or_null(const char *s)
{
	return !s || str_starts(s, "https://") || str_starts(s, "http://");
}

static int get_num(const struct json *root, const char *key, long min, long max, long *out)
{
	double d;
	int r = json_get_number(root, key, (double)min, (double)max, &d);

	if (r == 1)
		*out = (long)d;
	return r;
}

static int parse_device_answer(const struct buf *json, struct device_auth *da, okc_err *err)
{
	/* Strict: one object, nothing after it, no NUL that would cut a code short. */
	struct json *root = json_parse_object(json->data, json->len);
	const char *bad = NULL;

	da->interval = DEFAULT_INTERVAL;
	da->expires_in = 600;
	if (!root)
		bad = json->data && json_has_nul(json->data, json->len) ? "holds a NUL character"
		                                                        : "is not one JSON object";
	else if (get_str(root, "device_code", 0, &da->device_code) < 0 || !da->device_code)
		bad = "has no valid device_code";
	else if (get_str(root, "user_code", 1, &da->user_code) < 0 || !da->user_code)
		bad = "has no valid user_code";
	else if (get_str(root, "verification_uri", 1, &da->verification_uri) < 0 ||
	         !da->verification_uri ||
	         !(str_starts(da->verification_uri, "https://") ||
	           str_starts(da->verification_uri, "http://")))
		bad = "has no valid verification_uri";
	else if (get_str(root, "verification_uri_complete", 1, &da->verification_uri_complete) < 0)
		bad = "has a bad verification_uri_complete";
	else if (!web_url_or_null(da->verification_uri_complete))
		bad = "has a verification_uri_complete that is not a web URL";
	else if (get_num(root, "expires_in", 1, 86400, &da->expires_in) < 0)
		bad = "has a bad expires_in";
	else if (get_num(root, "interval", 0, 86400, &da->interval) < 0)
		bad = "has a bad interval";
	/* The device code is a secret: wipe the tree's copy. */
	json_free_secret(root);
	if (bad) {
		device_auth_free(da);
		return okc_fail(err, OKC_EXIT_NETWORK,
		                "the identity provider's device authorization answer %s", bad);
	}
	if (da->interval <= 0)
		da->interval = DEFAULT_INTERVAL;
	if (da->interval > MAX_INTERVAL)
		da->interval = MAX_INTERVAL;
	return 0;
}

int device_flow_start(const struct provider_cfg *p, struct device_auth *out, okc_err *err)
{
	struct oauth_endpoints ep;
	struct oauth_error oerr;
	struct buf form = BUF_INIT, json = BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (oauth_endpoints_for(p, &ep, err) < 0)
		return -1;
	http_form_add(&form, "client_id", p->client_id);
	http_form_add(&form, "scope", p->scopes);
	log_verbose("requesting a device code from %s", ep.device_authorize);
	rc = oauth_post(p, ep.device_authorize, &form, &json, &oerr, err);
	oauth_endpoints_free(&ep);
	buf_free(&form);
	if (rc == OAUTH_ERROR) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "the identity provider refused the device login: %s%s%s", oerr.error,
		         oerr.description[0] ? ": " : "", oerr.description);
		if (client_misconfigured(oerr.error)) {
			err->code = OKC_EXIT_USAGE;
			okc_hint(err, CLIENT_HINT, p->name);
		}
		return strcmp(oerr.error, "unauthorized_client") == 0 ? DEVICE_FLOW_REFUSED : -1;
	}
	if (rc < 0)
		return -1;
	rc = parse_device_answer(&json, out, err);
	buf_free(&json);
	out->answered_ms = now_mono_ms();
	return rc;
}

/* Whole seconds from now to deadline, rounded up; 0 once it has passed. */
static long seconds_until(long long deadline, long long now)
{
	return deadline > now ? (long)((deadline - now + 999) / 1000) : 0;
}

/* Sleeps until the monotonic time until (or a signal: -1), telling tick about the code's
 * lifetime (ending at deadline) each time its number of seconds changes. */
static int wait_until(long long until, long long deadline, device_flow_tick_fn tick, void *tick_arg)
{
	for (;;) {
		long long now = now_mono_ms();
		long step;

		if (tick)
			tick(seconds_until(deadline, now), tick_arg);
		if (now >= until)
			return 0;
		step = (long)(until - now);
		if (tick && deadline > now) {
			/* Wake when the count of seconds left goes down by one. */
			long next = (long)((deadline - now) % 1000);

			if (next > 0 && next < step)
				step = next;
			else if (next == 0 && step > 1000)
				step = 1000;
		}
		if (sig_sleep_ms(step) < 0)
			return -1;
	}
}

int device_flow_poll(const struct provider_cfg *p, const struct device_auth *da,
                     device_flow_tick_fn tick, void *tick_arg, struct tokens **out, okc_err *err)
{
	long long start = da->answered_ms ? da->answered_ms : now_mono_ms();
	long long deadline = start + da->expires_in * 1000LL, next_poll = start;
	long interval = da->interval;
	struct buf form = BUF_INIT;
	int rc = -1;

	http_form_add(&form, "client_id", p->client_id);
	http_form_add(&form, "grant_type", GRANT_DEVICE_CODE);
	http_form_add(&form, "device_code", da->device_code);
	for (;;) {
		struct oauth_error oerr;

		next_poll += interval * 1000LL;
		if (wait_until(next_poll, deadline, tick, tick_arg) < 0) {
			rc = okc_fail(err, OKC_EXIT_INTERRUPTED, "login interrupted");
			break;
		}
		if (now_mono_ms() >= deadline) {
			rc = okc_fail(err, OKC_EXIT_DENIED,
			              "login not completed: the code expired after %ld s",
			              da->expires_in);
			okc_hint(err, "run the login again and approve it sooner");
			break;
		}
		rc = oauth_token_request(p, &form, out, &oerr, err);
		/* The next poll: one interval after this answer, however long it took. */
		next_poll = now_mono_ms();
		if (rc != OAUTH_ERROR)
			break; /* tokens (0) or a failure the http module already retried */
		if (strcmp(oerr.error, "authorization_pending") == 0) {
			log_debug("authorization pending; next poll in %ld s", interval);
			continue;
		}
		if (strcmp(oerr.error, "slow_down") == 0) {
			interval += SLOW_DOWN_STEP;
			log_verbose("the identity provider asked to slow down; polling every %ld s",
			            interval);
			continue;
		}
		if (strcmp(oerr.error, "access_denied") == 0) {
			rc =
			    okc_fail(err, OKC_EXIT_DENIED, "login denied at the verification page");
		} else if (strcmp(oerr.error, "expired_token") == 0) {
			rc = okc_fail(
			    err, OKC_EXIT_DENIED,
			    "login not completed: the code expired before it was approved");
			okc_hint(err, "run the login again and approve it sooner");
		} else {
			/* Anything else is not the person's doing: the app's configuration
			 * (exit 2) or another refusal (exit 1), with the server's words. */
			int config = client_misconfigured(oerr.error);

			rc = okc_fail(err, config ? OKC_EXIT_USAGE : OKC_EXIT_FAIL,
			              "login failed: %s%s%s", oerr.error,
			              oerr.description[0] ? ": " : "", oerr.description);
			if (config)
				okc_hint(err, CLIENT_HINT, p->name);
		}
		break;
	}
	buf_free(&form);
	return rc;
}
