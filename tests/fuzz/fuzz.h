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

/* What text_escape hands a terminal: valid UTF-8 without C0 controls, DEL or C1 controls
 * (U+0080-U+009F). */
static inline int fuzz_terminal_safe(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned cp;
		int n, i;

		if (*s < 0x20 || *s == 0x7f)
			return 0;
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			n = 1;
			cp = *s & 0x1f;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			cp = *s & 0x0f;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			cp = *s & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if (cp < 0xa0 || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

#endif
