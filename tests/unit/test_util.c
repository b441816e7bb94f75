/* test_util.c: durations, RFC 3339 times (round trips, leap days) and the display of
 * time left, from src/util.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "oktacred/util.h"

Test(util, parse_duration_units)
{
	static const struct {
		const char *in;
		long want;
	} ok[] = {
	    {"30s", 30},
	    {"5m", 300},
	    {"1h", 3600},
	    {"2h30m", 9000},
	    {"90", 90},
	    {"0", 0},
	    {"1d", 86400},
	    {"1d2h3m4s", 93784},
	    {" 15m ", 900},
	    {"12h", 43200},
	    {"1000000000", 1000000000L},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		long got = -1;

		cr_assert_eq(parse_duration(ok[i].in, &got), 0, "%s", ok[i].in);
		cr_assert_eq(got, ok[i].want, "%s: %ld", ok[i].in, got);
	}
}

Test(util, parse_duration_rejects)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "m",
	    "5x",
	    "-5m",
	    "+5m",
	    "1h30",
	    "5 m",
	    "1h 30m",
	    "1.5h",
	    "h1",
	    "99999999999m",
	    "1000000001",
	    "1e3",
	    "0x10",
	    "5m\n5",
	    "20000000000000000000",
	};
	size_t i;
	long got = 42;

	cr_assert_eq(parse_duration(NULL, &got), -1);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(parse_duration(bad[i], &got), -1, "accepted \"%s\"", bad[i]);
	cr_assert_eq(got, 42, "a rejected value must not be stored");
}

Test(util, time_parse_known_values)
{
	time_t t;

	cr_assert_eq(time_parse_utc("1970-01-01T00:00:00Z", &t), 0);
	cr_assert_eq(t, 0);
	cr_assert_eq(time_parse_utc("2026-01-15T12:00:00Z", &t), 0);
	cr_assert_eq(t, (time_t)1768478400);
	cr_assert_eq(time_parse_utc("2000-02-29T23:59:59Z", &t), 0);
	cr_assert_eq(t, (time_t)951868799);
	cr_assert_eq(time_parse_utc("2038-01-19T03:14:08Z", &t), 0);
	cr_assert_eq(t, (time_t)2147483648LL, "past 2^31 (time_t is 64 bits here)");
}

Test(util, time_parse_leap_days)
{
	time_t t, next;

	cr_assert_eq(time_parse_utc("2024-02-29T00:00:00Z", &t), 0);
	cr_assert_eq(time_parse_utc("2024-03-01T00:00:00Z", &next), 0);
	cr_assert_eq(next - t, 86400);
	cr_assert_eq(time_parse_utc("2000-02-29T00:00:00Z", &t), 0, "2000 is a leap year");
	cr_assert_eq(time_parse_utc("2025-02-29T00:00:00Z", &t), -1, "2025 is not");
	cr_assert_eq(time_parse_utc("2100-02-29T00:00:00Z", &t), -1, "2100 is not");
	cr_assert_eq(time_parse_utc("2023-02-29T00:00:00Z", &t), -1);
}

Test(util, time_parse_rejects)
{
	static const char *const bad[] = {
	    "",
	    "2026-01-15T12:00:00",
	    "2026-01-15T12:00:00z",
	    "2026-01-15 12:00:00Z",
	    "2026-01-15T12:00:00.5Z",
	    "2026-01-15T12:00:00+00:00",
	    "2026-13-15T12:00:00Z",
	    "2026-00-15T12:00:00Z",
	    "2026-01-32T12:00:00Z",
	    "2026-04-31T12:00:00Z",
	    "2026-01-00T12:00:00Z",
	    "2026-01-15T24:00:00Z",
	    "2026-01-15T12:60:00Z",
	    "2026-01-15T12:00:61Z",
	    "1969-12-31T23:59:59Z",
	    "2026-+1-15T12:00:00Z",
	    "2026- 1-15T12:00:00Z",
	    "+026-01-15T12:00:00Z",
	    "2026-01-15T-1:00:00Z",
	    "2026-01-15T12:00:00Zx",
	    "abcd-ef-ghTij:kl:mnZ",
	    "2026-01-0:T12:00:00Z",
	    "2026-01-15T1;:00:00Z",
	};
	size_t i;
	time_t t = 7;

	cr_assert_eq(time_parse_utc(NULL, &t), -1);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(time_parse_utc(bad[i], &t), -1, "accepted \"%s\"", bad[i]);
	cr_assert_eq(t, 7);
}

Test(util, time_format_known_values)
{
	char s[21];

	time_format_utc(0, s);
	cr_assert_str_eq(s, "1970-01-01T00:00:00Z");
	time_format_utc(1768478400, s);
	cr_assert_str_eq(s, "2026-01-15T12:00:00Z");
	time_format_utc(951868799, s);
	cr_assert_str_eq(s, "2000-02-29T23:59:59Z");
}

/* Every day from 1970 to 2110 at a few times of day: format then parse is the identity,
 * and parse then format gives the same text; this walks every leap day and every month
 * end, including the century years. */
Test(util, time_round_trip_every_day)
{
	static const long offsets[] = {0, 1, 43199, 86399};
	time_t day;

	for (day = 0; day < (time_t)51500 * 86400; day += 86400) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(offsets); i++) {
			time_t t = day + offsets[i], back = -1, again = -1;
			char s[21], s2[21];

			time_format_utc(t, s);
			cr_assert_eq(time_parse_utc(s, &back), 0, "%s", s);
			cr_assert_eq(back, t, "%s: %lld != %lld", s, (long long)back, (long long)t);
			time_format_utc(back, s2);
			cr_assert_str_eq(s, s2);
			cr_assert_eq(time_parse_utc(s2, &again), 0);
			cr_assert_eq(again, t);
		}
	}
}

Test(util, time_leap_second_is_next_minute)
{
	time_t a, b;

	cr_assert_eq(time_parse_utc("2016-12-31T23:59:60Z", &a), 0);
	cr_assert_eq(time_parse_utc("2017-01-01T00:00:00Z", &b), 0);
	cr_assert_eq(a, b);
}

Test(util, time_format_left)
{
	static const struct {
		long s;
		const char *want;
	} cases[] = {
	    {-5, "expired"},
	    {0, "expired"},
	    {1, "1s"},
	    {59, "59s"},
	    {60, "1m"},
	    {3599, "59m"},
	    {3600, "1h00m"},
	    {3720, "1h02m"},
	    {86399, "23h59m"},
	    {86400, "1d0h"},
	    {4 * 3600 + 3 * 86400, "3d4h"},
	    {400 * 86400, "400d0h"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[32];

		time_format_left(cases[i].s, out, sizeof(out));
		cr_assert_str_eq(out, cases[i].want, "%ld", cases[i].s);
	}
}

Test(util, time_format_left_truncates_safely)
{
	char out[4] = "xxx";

	time_format_left(3720, out, sizeof(out));
	cr_assert_str_eq(out, "1h0");
}

Test(util, str_helpers)
{
	cr_assert(str_eq(NULL, NULL));
	cr_assert_not(str_eq("a", NULL));
	cr_assert_not(str_eq(NULL, "a"));
	cr_assert(str_eq("a", "a"));
	cr_assert_not(str_eq("a", "b"));
	cr_assert(str_starts("https://x", "https://"));
	cr_assert_not(str_starts("http://x", "https://"));
	cr_assert_not(str_starts(NULL, "x"));
}

Test(util, free_secret_and_wipe)
{
	char buf[8] = "secret!";

	wipe(buf, sizeof(buf));
	cr_assert_eq(memcmp(buf, "\0\0\0\0\0\0\0\0", 8), 0);
	free_secret(NULL);
	free_secret(xstrdup("token"));
	cr_assert_null(xstrdup(NULL));
}
