/* fuzz_credserver.c: credserver_judge, which reads the request head any local process can
 * send to `exec --server`'s loopback port: no read past the head (it is not NUL-terminated
 * here), and a 200 only for a GET of the path with exactly one Authorization header that
 * equals the token. */
#include <string.h>
#include <strings.h>

#include "oktacred/credserver.h"
#include "fuzz.h"

#define PATH  "/0123456789abcdef0123456789abcdef"
#define TOKEN "tok"

/* What a 200 needs, checked the simple way. */
static int authorised(const char *h, size_t n)
{
	const char *eol = memchr(h, '\n', n), *p;
	int seen = 0;

	if (n < 4 + strlen(PATH) || memcmp(h, "GET " PATH, 4 + strlen(PATH)) != 0 || !eol)
		return 0;
	if (h[4 + strlen(PATH)] != ' ' && h[4 + strlen(PATH)] != '?')
		return 0;
	for (p = eol + 1; p < h + n; p = eol + 1) {
		const char *end;

		eol = memchr(p, '\n', (size_t)(h + n - p));
		end = eol ? eol : h + n;
		if (end > p && end[-1] == '\r')
			end--;
		if (end == p)
			break;
		if (end - p >= 14 && strncasecmp(p, "authorization:", 14) == 0)
			seen++;
		if (!eol)
			break;
	}
	return seen == 1;
}

static int contains(const uint8_t *d, size_t n, const char *s)
{
	size_t k = strlen(s);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(d + i, s, k) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status = credserver_judge((const char *)data, size, PATH, TOKEN);

	FUZZ_CHECK(status == 200 || status == 400 || status == 403 || status == 404 ||
	               status == 405,
	           "a known status");
	if (status == 200) {
		FUZZ_CHECK(authorised((const char *)data, size), "200 only when authorised");
		FUZZ_CHECK(contains(data, size, TOKEN), "the token was sent");
	}
	return 0;
}
