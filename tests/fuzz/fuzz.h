/* fuzz.h: what the libFuzzer targets share: the entry point's prototype and a property check
 * that aborts with its reason, so that libFuzzer keeps the input as a crash. */
#ifndef OKTACRED_FUZZ_H
#define OKTACRED_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, what)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__,   \
			        (what), #cond);                                                    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Printable ASCII: what a message to a terminal may hold of outside text. */
static inline int fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* One strict UTF-8 character (RFC 3629) at *s, written apart from the code under test:
 * its code point in *cp and *s moved past it; -1 for a bad sequence. */
static inline int fuzz_utf8_next(const unsigned char **s, unsigned *cp)
{
	const unsigned char *p = *s;
	int n, i;

	if (*p < 0x80) {
		*cp = *p;
		*s = p + 1;
		return 0;
	}
	if ((*p & 0xe0) == 0xc0) {
		n = 1;
		*cp = *p & 0x1f;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 2;
		*cp = *p & 0x0f;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 3;
		*cp = *p & 0x07;
	} else {
		return -1;
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 1 && *cp < 0x80) || (n == 2 && *cp < 0x800) || (n == 3 && *cp < 0x10000) ||
	    *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return -1;
	*s = p + n + 1;
	return 0;
}

/* What text_escape hands a terminal: valid UTF-8 without C0 controls, DEL or C1 controls
 * (U+0080-U+009F). */
static inline int fuzz_terminal_safe(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp;

	while (*s)
		if (fuzz_utf8_next(&s, &cp) < 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return 0;
	return 1;
}

#endif
