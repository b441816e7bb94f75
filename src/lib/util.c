/* util.c: wiping, allocation that aborts on exhaustion, the escaping of server text for
 * terminals and logs, durations and times. */
#include "oktacred/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/buf.h"

void wipe(void *p, size_t n)
{
	if (!p)
		return;
	memset(p, 0, n);
	/* A compiler barrier, so the stores above are not dropped as dead (the memset is
	 * known to touch p, and the barrier says p's memory is read afterwards). */
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

void free_secret(char *s)
{
	if (!s)
		return;
	wipe(s, strlen(s));
	free(s);
}

void out_of_memory(void)
{
	fputs("oktacred: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		out_of_memory();
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* The length of the valid UTF-8 sequence of a character from U+00A0 up at s (len bytes
 * left), or 0: C1 controls, overlong forms, surrogates, beyond U+10FFFF, cut short. */
static size_t utf8_char_len(const unsigned char *s, size_t len)
{
	unsigned long cp;
	size_t n, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len < n)
		return 0;
	cp = s[0] & (0x3fu >> (n - 1));
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The next piece of s (len > 0 bytes left) as it is shown: one character kept, or one
 * byte escaped. Fills out, returns its length; *used: the bytes of s it stands for. */
static size_t escape_next(const char *s, size_t len, char out[4], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = (unsigned char)*s;
	size_t n;

	*used = 1;
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	if (c == '\t' || c == '\n' || c == '\r') {
		out[0] = '\\';
		out[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		return 2;
	}
	n = utf8_char_len((const unsigned char *)s, len);
	if (n) {
		memcpy(out, s, n);
		*used = n;
		return n;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

void text_escape(char *dst, size_t n, const char *src)
{
	size_t len = src ? strlen(src) : 0, o = 0;

	if (!n)
		return;
	while (len) {
		char piece[4];
		size_t used, k = escape_next(src, len, piece, &used);

		if (k >= n - o)
			break;
		memcpy(dst + o, piece, k);
		o += k;
		src += used;
		len -= used;
	}
	dst[o] = '\0';
}

int text_escape_buf(struct buf *out, const char *s, size_t len)
{
	while (len) {
		char piece[4];
		size_t used, k = escape_next(s, len, piece, &used);

		buf_append(out, piece, k);
		s += used;
		len -= used;
	}
	return 0;
}

char *text_escape_dup(const char *s)
{
	struct buf b = BUF_INIT;

	if (!s)
		return NULL;
	text_escape_buf(&b, s, strlen(s));
	return buf_detach(&b);
}

/* Jitter needs no cryptographic quality: xorshift64*, seeded from the clock and pid. */
static unsigned long long jitter(unsigned long long max)
{
	static unsigned long long state;

	if (!state) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		state = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec ^
		        ((unsigned long long)getpid() << 40);
		state |= 1;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1DULL % (max + 1);
}

long backoff_delay_ms(int attempt, long base_ms, long cap_ms)
{
	long ceiling = base_ms > 0 ? base_ms : 0;
	int i;

	for (i = 1; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	return ceiling > 0 ? (long)jitter((unsigned long long)ceiling) : 0;
}

int parse_duration(const char *s, long *seconds)
{
	long total = 0;
	int any = 0;

	if (!s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	while (*s && !isspace((unsigned char)*s)) {
		char *end;
		long n, unit = 1;

		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || n < 0 || n > 1000000000L)
			return -1;
		switch (*end) {
		case 's':
			unit = 1;
			end++;
			break;
		case 'm':
			unit = 60;
			end++;
			break;
		case 'h':
			unit = 3600;
			end++;
			break;
		case 'd':
			unit = 86400;
			end++;
			break;
		default:
			/* A bare number is seconds, but only as the whole value. */
			if (any || (*end && !isspace((unsigned char)*end)))
				return -1;
		}
		if (n > (1000000000L - total) / unit)
			return -1;
		total += n * unit;
		any = 1;
		s = end;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (!any || *s)
		return -1;
	*seconds = total;
	return 0;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm),
 * so we need neither timegm (not POSIX) nor TZ games. */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static int is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Two or four ASCII digits at s: sscanf's %d would also take a sign or a space. */
static int digits(const char *s, int n)
{
	int v = 0;

	while (n--) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

int time_parse_utc(const char *s, time_t *out)
{
	int y, mo, d, h, mi, sec, mdays;
	static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (!s || strlen(s) != 20)
		return -1;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    sec < 0 || sec > 60)
		return -1;
	mdays = month_days[mo - 1] + (mo == 2 && is_leap(y));
	if (d > mdays)
		return -1;
	/* A leap second (:60) is accepted, as RFC 3339 allows, and counts as the next
	 * minute's :00 (time_t has no leap seconds). */
	*out = (time_t)days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (time_t)h * 3600 +
	       (time_t)mi * 60 + sec;
	return 0;
}

/* days_from_civil's inverse (the same author's civil_from_days). */
static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

/* v as n decimal digits at out, zero-padded (v < 10^n). */
static void put_digits(char *out, int n, unsigned long v)
{
	while (n--) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* By arithmetic, not gmtime_r: glibc's reads TZ and /etc/localtime on its first call,
 * which a UTC time never needs (three syscalls and a file on every cached command). */
void time_format_utc(time_t t, char out[21])
{
	long days = (long)(t / 86400), secs = (long)(t % 86400), y;
	unsigned m, d;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		y = 1970;
		m = d = 1;
		secs = 0;
	}
	memcpy(out, "0000-00-00T00:00:00Z", 21);
	put_digits(out, 4, (unsigned long)y);
	put_digits(out + 5, 2, m);
	put_digits(out + 8, 2, d);
	put_digits(out + 11, 2, (unsigned long)secs / 3600);
	put_digits(out + 14, 2, (unsigned long)secs / 60 % 60);
	put_digits(out + 17, 2, (unsigned long)secs % 60);
}

void time_format_left(long s, char *out, size_t outlen)
{
	if (s <= 0)
		snprintf(out, outlen, "expired");
	else if (s < 60)
		snprintf(out, outlen, "%lds", s);
	else if (s < 3600)
		snprintf(out, outlen, "%ldm", s / 60);
	else if (s < 86400)
		snprintf(out, outlen, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(out, outlen, "%ldd%ldh", s / 86400, (s % 86400) / 3600);
}

time_t now_utc(void)
{
	return time(NULL);
}

uid_t my_euid(void)
{
	static _Atomic long euid = -1; /* atomic: exec --server's threads ask too */
	long v = euid;

	if (v < 0)
		euid = v = (long)geteuid();
	return (uid_t)v;
}

long long now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

static volatile int threaded;

void threads_started(void)
{
	threaded = 1;
}

int threads_running(void)
{
	return threaded;
}

int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int mem_eq_ct(const char *a, size_t an, const char *b, size_t bn)
{
	volatile unsigned char d = (unsigned char)(an != bn);
	size_t i;

	for (i = 0; i < an && i < bn; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int str_eq_ct(const char *a, const char *b)
{
	return mem_eq_ct(a, strlen(a), b, strlen(b));
}

int str_starts(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t str_distance(const char *a, const char *b)
{
	enum { MAXLEN = 64 };
	size_t d[MAXLEN + 1][MAXLEN + 1];
	size_t n = strlen(a), m = strlen(b), i, j;

	if (n > MAXLEN || m > MAXLEN)
		return SIZE_MAX;
	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++) {
		for (j = 1; j <= m; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[n][m];
}
