/* fuzz_tokens_json.c: tokens_from_json (tokens.json from disk, which may be corrupt): no
 * crash or leak, a corrupt file is exit 3, and what it accepts is written back unchanged. */
#include <string.h>

#include "oktacred/tokens.h"
#include "fuzz.h"
#include "tokens_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tokens *t = NULL;
	okc_err err;

	memset(&err, 0, sizeof(err));
	if (tokens_from_json((const char *)data, size, &t, &err) < 0) {
		FUZZ_CHECK(t == NULL && err.code == OKC_EXIT_LOGIN, "corrupt: exit 3, nothing out");
		FUZZ_CHECK(fuzz_printable(err.msg), "the message is printable");
		return 0;
	}
	FUZZ_CHECK(t != NULL, "success gives tokens");
	fuzz_tokens_round_trip(t);
	tokens_free(t);
	return 0;
}
