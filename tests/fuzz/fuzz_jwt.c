/* fuzz_jwt.c: jwt_claims_parse and base64url_decode on arbitrary text: no crash or leak;
 * base64url encode then decode gives the bytes back. The first byte picks the shape: an
 * arbitrary token, or a JWT built around arbitrary claims JSON (so that the JSON is explored
 * rather than the base64url around it). */
#include <string.h>

#include "oktacred/buf.h"
#include "oktacred/jwt.h"
#include "oktacred/util.h"
#include "fuzz.h"

static void parse_claims(const char *jwt)
{
	struct jwt_claims c;
	okc_err err;

	memset(&err, 0, sizeof(err));
	if (jwt_claims_parse(jwt, &c, &err) < 0) {
		FUZZ_CHECK(err.code == OKC_EXIT_FAIL && fuzz_printable(err.msg), "refused: exit 1");
		jwt_claims_free(&c);
		return;
	}
	FUZZ_CHECK(c.exp >= 0 && c.iat >= 0, "times are not negative");
	FUZZ_CHECK(c.ngroups == 0 || c.groups, "groups counted");
	for (size_t i = 0; i < c.ngroups; i++)
		FUZZ_CHECK(c.groups[i] != NULL, "every group is a string");
	FUZZ_CHECK(!c.groups || c.groups[c.ngroups] == NULL, "groups NULL-terminated");
	jwt_claims_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf text = BUF_INIT, dec = BUF_INIT, enc = BUF_INIT;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		/* Arbitrary claims in a well-formed envelope. */
		buf_puts(&text, "eyJhbGciOiJSUzI1NiJ9.");
		FUZZ_CHECK(base64url_encode(data + 1, size - 1, &text) == 0, "encode");
		buf_puts(&text, ".c2ln");
	} else {
		buf_append(&text, data + 1, size - 1);
	}
	if (text.data)
		parse_claims(text.data);

	/* base64url_decode on the raw bytes: any answer, never out of bounds. */
	base64url_decode((const char *)data + 1, size - 1, &dec);
	buf_free(&dec);

	/* The round trip. */
	FUZZ_CHECK(base64url_encode(data, size, &enc) == 0, "encode");
	FUZZ_CHECK(enc.len == (size * 4 + 2) / 3, "unpadded length");
	FUZZ_CHECK(base64url_decode(enc.data, enc.len, &dec) == 0, "decode what was encoded");
	FUZZ_CHECK(dec.len == size && memcmp(dec.data, data, size) == 0, "round trip");
	buf_free(&dec);
	buf_free(&enc);
	buf_free(&text);
	return 0;
}
