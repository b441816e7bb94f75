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

#endif
