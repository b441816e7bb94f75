/* test_json.c: src/lib/json.c: the parser (what it refuses as much as what it reads), the
 * tree, the printer, the typed member getters. */
#include <criterion/criterion.h>
#include <string.h>

#include "oktacred/json.h"

static struct json *parse(const char *text)
{
	struct json *root = json_parse_object(text, strlen(text));

	cr_assert_not_null(root, "%s", text);
	return root;
}

Test(json, get_string_absent_null_wrong_type)
{
	struct json *root = parse("{\"s\": \"v\", \"n\": null, \"x\": 1}");
	const char *s = "untouched";

	cr_assert_eq(json_get_string(root, "s", &s), 1);
	cr_assert_str_eq(s, "v");
	cr_assert_eq(json_get_string(root, "n", &s), 0, "null is absent");
	cr_assert_null(s);
	cr_assert_eq(json_get_string(root, "missing", &s), 0);
	cr_assert_eq(json_get_string(root, "x", &s), -1);
	cr_assert_null(s);
	cr_assert_eq(json_get_string(NULL, "s", &s), 0);
	json_free_secret(root);
}

Test(json, get_number_range_and_type)
{
	struct json *root = parse("{\"n\": 5, \"s\": \"5\", \"z\": null}");
	double d = -1;

	cr_assert_eq(json_get_number(root, "n", 1, 10, &d), 1);
	cr_assert_eq(d, 5);
	d = -1;
	cr_assert_eq(json_get_number(root, "n", 6, 10, &d), -1, "out of range");
	cr_assert_eq(json_get_number(root, "s", 0, 10, &d), -1);
	cr_assert_eq(json_get_number(root, "z", 0, 10, &d), -1, "null is not a number");
	cr_assert_eq(json_get_number(root, "missing", 0, 10, &d), 0);
	cr_assert_eq(d, -1, "untouched");
	json_free_secret(root);
}

Test(json, get_bool_and_time)
{
	struct json *root = parse("{\"t\": true, \"f\": false, \"one\": 1, "
	                          "\"at\": \"2026-01-15T12:00:00Z\", \"bad\": \"yesterday\"}");
	int b = -1;
	time_t t = 0;

	cr_assert_eq(json_get_bool(root, "t", &b), 1);
	cr_assert_eq(b, 1);
	cr_assert_eq(json_get_bool(root, "f", &b), 1);
	cr_assert_eq(b, 0);
	cr_assert_eq(json_get_bool(root, "one", &b), -1);
	cr_assert_eq(json_get_bool(root, "missing", &b), 0);
	cr_assert_eq(json_get_time(root, "at", &t), 1);
	cr_assert_eq(t, 1768478400);
	cr_assert_eq(json_get_time(root, "bad", &t), -1);
	cr_assert_eq(json_get_time(root, "t", &t), -1);
	cr_assert_eq(json_get_time(root, "missing", &t), 0);
	json_free_secret(root);
}

static char *printed(const struct json *v, int pretty)
{
	struct buf b = BUF_INIT;

	json_print(v, pretty, &b);
	return buf_detach(&b);
}

/* Parses text and prints it back compactly. */
static char *roundtrip(const char *text)
{
	struct json *v = json_parse(text, strlen(text));
	char *s;

	cr_assert_not_null(v, "%s", text);
	s = printed(v, 0);
	json_free(v);
	return s;
}

Test(json, reads_every_kind_of_value)
{
	struct json *v = parse("{\"s\":\"x\",\"n\":-1.5e2,\"t\":true,\"f\":false,\"z\":null,"
	                       "\"a\":[1,[],{}],\"o\":{\"k\":\"v\"}}");
	struct json *a = json_member(v, "a");

	cr_assert_eq(json_count(v), 7);
	cr_assert_eq(json_member(v, "n")->num, -150);
	cr_assert(json_is(json_member(v, "z"), JSON_NULL));
	cr_assert(json_is_bool(json_member(v, "f")));
	cr_assert_eq(json_count(a), 3);
	cr_assert(json_is(json_index(a, 1), JSON_ARRAY));
	cr_assert_null(json_index(a, 3));
	cr_assert_str_eq(json_member(json_member(v, "o"), "k")->str, "v");
	cr_assert_null(json_member(a, "k"), "an array has no members");
	json_free(v);
}

Test(json, refuses_what_is_not_json)
{
	static const char *bad[] = {
	    "",
	    " ",
	    "{",
	    "{\"a\":1,}",
	    "[1,]",
	    "[1 2]",
	    "{\"a\" 1}",
	    "{a:1}",
	    "'x'",
	    "01",
	    "1.",
	    ".5",
	    "-",
	    "1e",
	    "+1",
	    "0x10",
	    "NaN",
	    "Infinity",
	    "1e999",
	    "tru",
	    "nul",
	    "\"abc",
	    "\"a\tb\"",
	    "\"\\x\"",
	    "\"\\u12\"",
	    "\"\\u0000\"",
	    "\"\\ud800\"",
	    "\"\\udc00\"",
	    "\"\\ud800\\u0041\"",
	    "\"\xc3\"",
	    "\"\xc0\xaf\"",
	    "\"\xed\xa0\x80\"",
	    "\"\xf4\x90\x80\x80\"",
	    "\"\xff\"",
	    "{} {}",
	    "[] x",
	    "\"a\"\"b\"",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_null(json_parse(bad[i], strlen(bad[i])), "accepted: %s", bad[i]);
	cr_assert_null(json_parse("\"a\0b\"", 5), "a raw NUL");
	cr_assert_null(json_parse("1", 0));
	cr_assert_null(json_parse_object("[1]", 3), "not an object");
}

Test(json, nesting_is_limited)
{
	char deep[2 * JSON_MAX_DEPTH + 3];
	struct json *v;
	int n;

	for (n = JSON_MAX_DEPTH; n <= JSON_MAX_DEPTH + 1; n++) {
		memset(deep, '[', (size_t)n);
		memset(deep + n, ']', (size_t)n);
		v = json_parse(deep, 2 * (size_t)n);
		if (n == JSON_MAX_DEPTH)
			cr_assert_not_null(v, "%d levels", n);
		else
			cr_assert_null(v, "%d levels", n);
		json_free(v);
	}
}

Test(json, decodes_escapes_and_utf8)
{
	static const char text[] = "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xc3\xa9\"";
	struct json *v = json_parse(text, sizeof(text) - 1);

	cr_assert_not_null(v);
	cr_assert_eq(v->len, 16);
	cr_assert_eq(memcmp(v->str, "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9", 16), 0);
	json_free(v);
}

Test(json, prints_what_it_read)
{
	char *s = roundtrip(" { \"a\" : [ 1 , 2.5 , -0 , 1e3, 1E-2 ] , \"b\" : { } , \"c\":[ ] } ");

	cr_assert_str_eq(s, "{\"a\":[1,2.5,0,1000,0.01],\"b\":{},\"c\":[]}");
	free(s);
	s = roundtrip("\"\\u0001\\u001f\\u007f\\\"\\\\/\xc3\xa9\\n\"");
	cr_assert_str_eq(s, "\"\\u0001\\u001f\x7f\\\"\\\\/\xc3\xa9\\n\"");
	free(s);
	s = roundtrip("[0.1,1234567890123,1e300,-2.2250738585072014e-308,1764700000]");
	cr_assert_str_eq(s, "[0.1,1234567890123,1e+300,-2.2250738585072014e-308,1764700000]");
	free(s);
}

Test(json, pretty_printing_indents_by_two)
{
	struct json *v = parse("{\"a\":[1,{}],\"b\":\"x\"}");
	char *s = printed(v, 1);

	cr_assert_str_eq(s, "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": \"x\"\n}");
	free(s);
	json_free(v);
}

Test(json, builds_detaches_and_copies)
{
	struct json *o = json_new(JSON_OBJECT), *arr, *d, *c;
	struct buf b = BUF_INIT;

	json_add_string(o, "s", "v");
	json_add_string(o, "skipped", NULL);
	json_add_number(o, "n", 3);
	json_add_bool(o, "t", 1);
	json_add_null(o, "z");
	json_add_time(o, "at", 1768478400);
	arr = json_add_array(o, "arr");
	json_append(arr, json_new_string("x"));
	json_append(arr, json_new_number(0.5));
	json_add_object(o, "o");
	json_print_secret(o, &b);
	cr_assert_str_eq(b.data, "{\"s\":\"v\",\"n\":3,\"t\":true,\"z\":null,"
	                         "\"at\":\"2026-01-15T12:00:00Z\",\"arr\":[\"x\",0.5],\"o\":{}}\n");
	buf_free(&b);

	c = json_copy(o);
	d = json_detach(o, "o"); /* the last: the tail moves back */
	cr_assert_not_null(d);
	cr_assert_null(d->key);
	json_add_number(o, "after", 1);
	json_free(json_detach(o, "s")); /* the first */
	cr_assert_null(json_detach(o, "s"));
	json_print(o, 0, &b);
	cr_assert_str_eq(b.data, "{\"n\":3,\"t\":true,\"z\":null,\"at\":\"2026-01-15T12:00:00Z\","
	                         "\"arr\":[\"x\",0.5],\"after\":1}");
	buf_free(&b);
	json_print(c, 0, &b);
	cr_assert(strstr(b.data, "\"s\":\"v\"") && strstr(b.data, "\"o\":{}"), "%s", b.data);
	buf_free(&b);
	json_free(d);
	json_free(c);
	json_free_secret(o);
}

Test(json, duplicate_members_first_wins)
{
	struct json *v = parse("{\"a\":1,\"a\":2}");

	cr_assert_eq(json_member(v, "a")->num, 1);
	cr_assert_eq(json_count(v), 2);
	json_free(v);
}

Test(json, nul_detection)
{
	cr_assert(json_has_nul("\"\\u0000\"", 8));
	cr_assert_not(json_has_nul("\"\\\\u0000\"", 9), "an escaped backslash, then text");
	cr_assert(json_has_nul("a\0b", 3));
	cr_assert_not(json_has_nul("abc", 3));
}
