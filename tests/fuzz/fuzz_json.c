/* fuzz_json.c: json_parse on arbitrary bytes: no crash or leak; what it accepts holds no
 * NUL and is valid UTF-8 in every string; printing it and parsing the print gives a tree
 * that prints the same (compact and indented alike); json_copy prints the same too. */
#include <string.h>

#include "oktacred/buf.h"
#include "oktacred/json.h"
#include "fuzz.h"

static void check_strings(const struct json *v)
{
	const struct json *it;
	const unsigned char *s;
	unsigned cp;

	if (v->type == JSON_STRING) {
		FUZZ_CHECK(strlen(v->str) == v->len, "no NUL inside a string");
		for (s = (const unsigned char *)v->str; *s;)
			FUZZ_CHECK(fuzz_utf8_next(&s, &cp) == 0, "strings are valid UTF-8");
	}
	if (v->key)
		for (s = (const unsigned char *)v->key; *s;)
			FUZZ_CHECK(fuzz_utf8_next(&s, &cp) == 0, "keys are valid UTF-8");
	json_each (it, v)
		check_strings(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json *v = json_parse((const char *)data, size), *again, *copy;
	struct buf a = BUF_INIT, b = BUF_INIT;
	int pretty;

	if (!v)
		return 0;
	check_strings(v);
	for (pretty = 0; pretty <= 1; pretty++) {
		json_print(v, pretty, &a);
		again = json_parse(a.data, a.len);
		FUZZ_CHECK(again != NULL, "the print parses");
		json_print(again, pretty, &b);
		FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
		           "print, parse, print: the same text");
		json_free(again);
		buf_reset(&a);
		buf_reset(&b);
	}
	copy = json_copy(v);
	json_print(v, 0, &a);
	json_print(copy, 0, &b);
	FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "a copy prints the same");
	json_free(copy);
	json_free_secret(v);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
