/* fuzz_token_response.c: tokens_from_response (the token endpoint's JSON answer, straight
 * from the network): no crash or leak; what it accepts is well-formed and survives tokens.json. */
#include <string.h>

#include "oktacred/tokens.h"
#include "fuzz.h"
#include "tokens_check.h"

#define NOW ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tokens *t = NULL;
	okc_err err;

	memset(&err, 0, sizeof(err));
	if (tokens_from_response((const char *)data, size, NOW, &t, &err) < 0) {
		FUZZ_CHECK(t == NULL && err.code == OKC_EXIT_NETWORK,
		           "refused: exit 4, nothing out");
		FUZZ_CHECK(fuzz_printable(err.msg), "the message is printable");
		return 0;
	}
	FUZZ_CHECK(t && t->access_token && t->token_type, "access_token and token_type set");
	FUZZ_CHECK(t->obtained_at == NOW && t->expires_in >= 1 &&
	               t->expires_at == NOW + t->expires_in,
	           "expiry arithmetic");
	FUZZ_CHECK(t->expires_in <= 10L * 366 * 86400, "expires_in at most 10 years");
	FUZZ_CHECK(t->refresh_expires_at == 0 || t->refresh_expires_at > NOW,
	           "refresh_expires_at in the future");
	fuzz_tokens_round_trip(t);
	tokens_free(t);
	return 0;
}
