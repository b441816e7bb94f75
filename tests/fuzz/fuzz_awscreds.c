/* fuzz_awscreds.c: awscreds_from_json (aws/<identity>/credentials.json from disk, which may
 * be corrupt): no crash or leak, a corrupt file is exit 1, and what it accepts is written
 * back by awscreds_to_json and read again unchanged. */
#include <string.h>

#include "oktacred/awscreds.h"
#include "oktacred/util.h"
#include "fuzz.h"

static int vschar(const char *s)
{
	if (!s)
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awscreds *c = NULL, *back = NULL;
	struct buf json = BUF_INIT;
	okc_err err;

	memset(&err, 0, sizeof(err));
	if (awscreds_from_json((const char *)data, size, &c, &err) < 0) {
		FUZZ_CHECK(c == NULL && err.code == OKC_EXIT_FAIL, "corrupt: exit 1, nothing out");
		FUZZ_CHECK(fuzz_printable(err.msg), "the message is printable");
		return 0;
	}
	FUZZ_CHECK(c && c->access_key_id && c->secret_access_key && c->session_token && c->role_arn,
	           "required fields");
	FUZZ_CHECK(vschar(c->access_key_id) && vschar(c->secret_access_key) &&
	               vschar(c->session_token) && vschar(c->role_arn) &&
	               vschar(c->assumed_role_arn) && vschar(c->session_name),
	           "credentials are VSCHAR");
	FUZZ_CHECK(c->choice == AWSCREDS_ROLE_FIXED || c->choice == AWSCREDS_ROLE_ONLY ||
	               c->choice == AWSCREDS_ROLE_CHOSEN,
	           "a known role choice");
	FUZZ_CHECK(awscreds_to_json(c, &json) == 0, "awscreds_to_json");
	FUZZ_CHECK(awscreds_from_json(json.data, json.len, &back, &err) == 0, "reads back");
	FUZZ_CHECK(str_eq(c->access_key_id, back->access_key_id) &&
	               str_eq(c->secret_access_key, back->secret_access_key) &&
	               str_eq(c->session_token, back->session_token) &&
	               str_eq(c->role_arn, back->role_arn) &&
	               str_eq(c->assumed_role_arn, back->assumed_role_arn) &&
	               str_eq(c->session_name, back->session_name) &&
	               str_eq(c->provider, back->provider) && str_eq(c->org_url, back->org_url) &&
	               str_eq(c->client_id, back->client_id) &&
	               str_eq(c->authorization_server, back->authorization_server) &&
	               str_eq(c->sts_endpoint, back->sts_endpoint) &&
	               c->expiration == back->expiration && c->obtained_at == back->obtained_at &&
	               c->choice == back->choice,
	           "round trip");
	awscreds_free(back);
	awscreds_free(c);
	buf_free(&json);
	return 0;
}
