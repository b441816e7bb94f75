/* test_util.c: durations, RFC 3339 times (round trips, leap days) and the display of
 * time left, from src/util.c. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/buf.h"

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
	time_format_utc(-1, s);
	cr_assert_str_eq(s, "1969-12-31T23:59:59Z");
	time_format_utc(253402300799, s);
	cr_assert_str_eq(s, "9999-12-31T23:59:59Z");
	time_format_utc(253402300800, s); /* five digits do not fit: the fallback */
	cr_assert_str_eq(s, "1970-01-01T00:00:00Z");
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

/* ---- text_escape: server text for terminals and logs ---- */

/* Well-formed UTF-8 by the byte ranges of Unicode's table 3-7 (written apart from
 * util.c's decoder on purpose), without C0 controls, DEL or C1 controls. */
static int terminal_safe(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = s[0], lo = 0x80, hi = 0xbf;
		int n, i;

		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x7f) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			return 0;
		if (c == 0xc2)
			lo = 0xa0; /* U+0080-U+009F: C1 */
		else if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (s[1] < lo || s[1] > hi)
			return 0;
		for (i = 2; i < n; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		s += n;
	}
	return 1;
}

Test(util, text_escape_known_values)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"alice@example.com", "alice@example.com"},
	    {"", ""},
	    {"a\\b \"q\" ~", "a\\b \"q\" ~"}, /* printable ASCII as it is */
	    /* the window title, the clipboard (OSC 52), the screen, a C1 CSI */
	    {"\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"},
	    {"\x1b]52;c;Zm9v\x07", "\\x1b]52;c;Zm9v\\x07"},
	    {"\x1b[2J", "\\x1b[2J"},
	    {"\xc2\x9b"
	     "31m",
	     "\\xc2\\x9b31m"},
	    {"\xc2\x80\xc2\x9f\xc2\xa0", "\\xc2\\x80\\xc2\\x9f\xc2\xa0"}, /* C1 ends at U+009F */
	    {"a\tb\nc\rd", "a\\tb\\nc\\rd"},
	    {"\x01\x1f\x7f", "\\x01\\x1f\\x7f"},
	    /* names need not be ASCII: é, 日, U+FFFD, an emoji, U+10FFFF */
	    {"Zo\xc3\xab \xe6\x97\xa5 \xef\xbf\xbd \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
	     "Zo\xc3\xab \xe6\x97\xa5 \xef\xbf\xbd \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"},
	    /* not UTF-8: a lone continuation, bytes never used, overlong forms, a surrogate,
	     * beyond U+10FFFF, a sequence cut short (at the end and before ASCII) */
	    {"\x80", "\\x80"},
	    {"\xfe\xff", "\\xfe\\xff"},
	    {"\xc0\xaf\xc1\xbf", "\\xc0\\xaf\\xc1\\xbf"},
	    {"\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
	    {"\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"},
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"},
	    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
	    {"\xe6\x97", "\\xe6\\x97"},
	    {"\xe6\x97"
	     "A\xc3",
	     "\\xe6\\x97A\\xc3"},
	    /* an escaped C1 lead byte does not swallow the next character */
	    {"\xc2\xc3\xa9", "\\xc2\xc3\xa9"},
	};
	char out[128], *dup;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		text_escape(out, sizeof(out), cases[i].in);
		cr_assert_str_eq(out, cases[i].want, "case %zu", i);
		cr_assert(terminal_safe(out), "case %zu", i);
		dup = text_escape_dup(cases[i].in);
		cr_assert_str_eq(dup, cases[i].want, "case %zu", i);
		free(dup);
	}
	text_escape(out, sizeof(out), NULL);
	cr_assert_str_eq(out, "");
	cr_assert_null(text_escape_dup(NULL));
}

Test(util, text_escape_cuts_between_characters)
{
	/* pieces: "a" (1), é (2), ESC as \x1b (4), 😀 (4), "\n" as \n (2), "z" (1) */
	static const char in[] = "a\xc3\xa9\x1b\xf0\x9f\x98\x80\nz";
	static const char full[] = "a\xc3\xa9\\x1b\xf0\x9f\x98\x80\\nz";
	static const size_t ends[] = {0, 1, 3, 7, 11, 13, 14};
	char out[sizeof(full) + 4];
	size_t n, k;

	for (n = 1; n <= sizeof(out); n++) {
		size_t want = 0;

		memset(out, 'X', sizeof(out));
		text_escape(out, n, in);
		/* the longest run of whole pieces that fits with its NUL */
		for (k = 0; k < ARRAY_SIZE(ends); k++)
			if (ends[k] < n)
				want = ends[k];
		cr_assert_eq(strlen(out), want, "n %zu: %zu bytes", n, strlen(out));
		cr_assert_eq(memcmp(out, full, want), 0, "n %zu", n);
		cr_assert(terminal_safe(out), "n %zu", n);
	}
	memset(out, 'X', sizeof(out));
	text_escape(out, 0, in);
	cr_assert_eq(out[0], 'X', "n 0 writes nothing");
}

Test(util, text_escape_buf_appends_with_nul_bytes)
{
	struct buf b = BUF_INIT;

	cr_assert_eq(buf_puts(&b, "> "), 0);
	cr_assert_eq(text_escape_buf(&b, "a\0b\x1b\xc2\x9b", 6), 0);
	cr_assert_str_eq(b.data, "> a\\x00b\\x1b\\xc2\\x9b");
	cr_assert_eq(text_escape_buf(&b, "\xc3\xa9!", 1), 0, "a cut length cuts a sequence");
	cr_assert_str_eq(b.data, "> a\\x00b\\x1b\\xc2\\x9b\\xc3");
	buf_free(&b);
}

Test(util, text_escape_every_short_input_is_terminal_safe)
{
	char in[4] = {0}, out[32], bad[4] = {0};
	unsigned a, b, c;
	unsigned long nbad = 0;

	/* every 1- and 2-byte string, and every 3-byte one that starts a multi-byte form;
	 * one assertion at the end (criterion reports each one it is given) */
	for (a = 1; a < 256; a++) {
		in[0] = (char)a;
		for (b = 0; b < 256; b++) {
			in[1] = (char)b;
			for (c = 0; c < (a >= 0xc0 && b ? 256u : 1u); c++) {
				in[2] = (char)c;
				text_escape(out, sizeof(out), in);
				if (!terminal_safe(out) && !nbad++)
					memcpy(bad, in, sizeof(bad));
			}
		}
	}
	cr_assert_eq(nbad, 0, "%lu unsafe, the first from %02x %02x %02x", nbad,
	             (unsigned char)bad[0], (unsigned char)bad[1], (unsigned char)bad[2]);
}

Test(util, backoff_delay_doubles_to_the_cap_with_full_jitter)
{
	long max[5] = {0};
	int attempt, i;

	for (i = 0; i < 2000; i++) {
		for (attempt = 1; attempt <= 5; attempt++) {
			long d = backoff_delay_ms(attempt, 500, 3000);

			cr_assert_geq(d, 0);
			cr_assert_leq(d, attempt < 4 ? 500L << (attempt - 1) : 3000L,
			              "attempt %d: %ld", attempt, d);
			if (d > max[attempt - 1])
				max[attempt - 1] = d;
		}
	}
	/* 2000 draws of [0, 500] come near the top. */
	cr_assert_gt(max[0], 400);
	cr_assert_gt(max[4], 2500);
	cr_assert_eq(backoff_delay_ms(1, 0, 100), 0);
	cr_assert_eq(backoff_delay_ms(100, 1, 0), 0);
}

Test(util, str_distance_counts_edits_and_swaps)
{
	cr_assert_eq(str_distance("login", "login"), 0);
	cr_assert_eq(str_distance("logni", "login"), 1);
	cr_assert_eq(str_distance("stauts", "status"), 1);
	cr_assert_eq(str_distance("refesh", "refresh"), 1);
	cr_assert_eq(str_distance("", "env"), 3);
	cr_assert_eq(str_distance("xyzzy", "exec"), 5);
	char longer[80];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	cr_assert_eq(str_distance(longer, "a"), SIZE_MAX);
}
