/* fuzz_sts.c: sts_parse_response on arbitrary bodies (what an STS endpoint, or whatever
 * answers in its place, sends): no crash or leak; credentials it accepts are complete, and an
 * error it reports holds printable ASCII only. */
#include <string.h>

#include "oktacred/sts.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_credentials c;
	struct sts_error serr;
	okc_err err;
	int rc;

	memset(&serr, 0, sizeof(serr));
	memset(&err, 0, sizeof(err));
	serr.http_status = 400;
	rc = sts_parse_response((const char *)data, size, &c, &serr, &err);
	if (rc == 0) {
		FUZZ_CHECK(c.access_key_id && c.secret_access_key && c.session_token,
		           "credentials are complete");
		FUZZ_CHECK(fuzz_printable(c.access_key_id) && fuzz_printable(c.secret_access_key) &&
		               fuzz_printable(c.session_token),
		           "credentials are printable");
		FUZZ_CHECK(strlen(c.session_token) <= STS_MAX_SESSION_TOKEN,
		           "session token capped");
		FUZZ_CHECK(!c.assumed_role_arn || fuzz_printable(c.assumed_role_arn),
		           "the role ARN is printable");
		sts_credentials_free(&c);
	} else if (rc == STS_ERROR) {
		FUZZ_CHECK(serr.http_status == 400, "http_status left as it was");
		FUZZ_CHECK(serr.code[0], "an error has a code");
		FUZZ_CHECK(memchr(serr.type, '\0', sizeof(serr.type)) &&
		               memchr(serr.code, '\0', sizeof(serr.code)) &&
		               memchr(serr.message, '\0', sizeof(serr.message)) &&
		               memchr(serr.request_id, '\0', sizeof(serr.request_id)),
		           "error fields are NUL-terminated");
		FUZZ_CHECK(fuzz_terminal_safe(serr.type) && fuzz_terminal_safe(serr.code) &&
		               fuzz_terminal_safe(serr.message) &&
		               fuzz_terminal_safe(serr.request_id),
		           "error fields are safe for a terminal");
		FUZZ_CHECK(!c.access_key_id && !c.secret_access_key && !c.session_token,
		           "no credentials with an error");
	} else {
		FUZZ_CHECK(rc == -1 && err.code == OKC_EXIT_NETWORK, "refused: exit 4");
		FUZZ_CHECK(!c.access_key_id && !c.secret_access_key && !c.session_token,
		           "nothing out when refused");
		FUZZ_CHECK(fuzz_terminal_safe(err.msg), "the message is safe for a terminal");
	}
	return 0;
}
