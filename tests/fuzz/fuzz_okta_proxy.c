/* fuzz_okta_proxy.c: okta_proxy_judge, which reads the request head any local process can
 * send to the Okta API proxy of `exec --server`: no read past the head (it is not
 * NUL-terminated here); a request passed on only with the secret, under an API path, with
 * none of the headers that must not go on. */
#include <string.h>
#include <strings.h>

#include "oktacred/okta_proxy.h"
#include "fuzz.h"

#define SECRET "s3cr3t"

static int contains(const uint8_t *d, size_t n, const char *s)
{
	size_t k = strlen(s);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(d + i, s, k) == 0)
			return 1;
	return 0;
}

/* Whether a line of the headers to pass on is named name. */
static int passes_on(const struct buf *h, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 0; i + k <= h->len; i++)
		if ((i == 0 || h->data[i - 1] == '\n') && strncasecmp(h->data + i, name, k) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct okta_proxy_req r;
	int status = okta_proxy_judge((const char *)data, size, SECRET, &r);

	FUZZ_CHECK(status == 0 || status == 400 || status == 401 || status == 403 ||
	               status == 405 || status == 411 || status == 413 || status == 431,
	           "a known status");
	if (status == 0) {
		FUZZ_CHECK(contains(data, size, SECRET), "the secret was sent");
		FUZZ_CHECK(r.target_len > 0 && r.target[0] == '/', "origin-form");
		FUZZ_CHECK(r.target_len >= 5 && (memcmp(r.target, "/api/", 5) == 0 ||
		                                 (r.target_len >= 8 && memcmp(r.target, "/oauth2/", 8) == 0) ||
		                                 (r.target_len >= 13 &&
		                                  memcmp(r.target, "/.well-known/", 13) == 0)),
		           "an API path");
		FUZZ_CHECK(r.content_length <= OKTA_PROXY_BODY_MAX, "the body cap");
		FUZZ_CHECK(!passes_on(&r.headers, "authorization:") && !passes_on(&r.headers, "host:") &&
		               !passes_on(&r.headers, "transfer-encoding:") &&
		               !passes_on(&r.headers, "content-length:") &&
		               !passes_on(&r.headers, "connection:"),
		           "no header that must not go on");
	}
	buf_free(&r.headers);
	return 0;
}
