/* provider.c: dispatch to the provider kinds. */
#include "oktacred/provider.h"

#include "oktacred/config.h"

int provider_tokens(const struct provider_cfg *p, enum refresh_need need, struct tokens **out,
                    okc_err *err)
{
	const struct provider_ops *ops = &provider_device_code;

	if (p->kind == PROVIDER_SERVICE_ACCOUNT)
		ops = &provider_service_account;
	else if (p->kind == PROVIDER_API_TOKEN)
		ops = &provider_api_token;
	return ops->tokens(p, need, out, err);
}
