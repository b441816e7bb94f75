/* provider.h: how tokens are obtained, one implementation per provider kind
 * (src/providers/): the device-code session, the service account's client
 * credentials, the API token from the environment. */
#ifndef OKTACRED_PROVIDER_H
#define OKTACRED_PROVIDER_H

#include "oktacred/err.h"
#include "oktacred/refresh.h"
#include "oktacred/tokens.h"

struct provider_cfg;

struct provider_ops {
	/* Tokens fit to hand out: the needed token fresh (refreshed or fetched under the
	 * provider's lock when needed). For okta/api-token, access_token holds the SSWS
	 * token, token_type is "SSWS" and expires_at is 0 (it does not expire). */
	int (*tokens)(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
	              okc_err *err);
};

extern const struct provider_ops provider_device_code;
extern const struct provider_ops provider_service_account;
extern const struct provider_ops provider_api_token;

/* The ops for p's kind, then their tokens(). */
int provider_tokens(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
                    okc_err *err);

#endif
