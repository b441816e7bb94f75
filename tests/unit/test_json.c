/* test_json.c: the typed member getters of src/json.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "oktacred/json.h"

static cJSON *parse(const char *text)
{
	cJSON *root = json_parse_object(text, strlen(text));

	cr_assert_not_null(root, "%s", text);
	return root;
}

Test(json, get_string_absent_null_wrong_type)
{
	cJSON *root = parse("{\"s\": \"v\", \"n\": null, \"x\": 1}");
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
	cJSON *root = parse("{\"n\": 5, \"s\": \"5\", \"z\": null}");
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
	cJSON *root = parse("{\"t\": true, \"f\": false, \"one\": 1, "
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
