/* device_flow.h: the OAuth 2.0 Device Authorization Grant (RFC 8628): the device
 * request and the polling loop, with slow_down, expiry and Ctrl-C. No display here:
 * the caller shows the code. */
#ifndef OKTACRED_DEVICE_FLOW_H
#define OKTACRED_DEVICE_FLOW_H

#include "oktacred/err.h"
#include "oktacred/tokens.h"

struct provider_cfg;

struct device_auth {
	char *device_code; /* secret */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete; /* NULL when the server sent none */
	long expires_in;                 /* seconds */
	long interval;                   /* seconds; 5 when the server sent none */
	long long answered_ms;           /* now_mono_ms() when the answer came: expiry counts
	                                  * from there */
};

/* Told how many whole seconds (rounded up; 0 once expired) the code has left: while the
 * poll waits, as soon as that number changes, and after each poll. */
typedef void (*device_flow_tick_fn)(long seconds_left, void *arg);

/* POSTs client_id and scope to the device authorization endpoint. Returns 0, -1 with
 * err, or DEVICE_FLOW_REFUSED (err set as for -1, exit 2) when the server answered
 * unauthorized_client: the app may not use the device grant (flow = auto then takes the
 * browser). */
#define DEVICE_FLOW_REFUSED (-2)
int device_flow_start(const struct provider_cfg *p, struct device_auth *out, okc_err *err);

/* Polls the token endpoint until the person approves (0, *out set), denies (exit 5),
 * the code expires (exit 5), or SIGINT (exit 130). The first poll comes one interval
 * after the device answer; slow_down adds 5 s to the interval for every later poll.
 * tick (or NULL) is told the code's remaining lifetime, for a countdown. */
int device_flow_poll(const struct provider_cfg *p, const struct device_auth *da,
                     device_flow_tick_fn tick, void *tick_arg, struct tokens **out, okc_err *err);

void device_auth_free(struct device_auth *da);

#endif
