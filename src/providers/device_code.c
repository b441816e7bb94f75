/* device_code.c: a person's session from `oktacred login`, kept fresh by refresh.c. */
#include "oktacred/provider.h"

static int device_code_tokens(const struct provider_cfg *p, enum refresh_need need,
                              struct tokens **out, okc_err *err)
{
	return refresh_ensure(p, need, out, err);
}

const struct provider_ops provider_device_code = {device_code_tokens};
