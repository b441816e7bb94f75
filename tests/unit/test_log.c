/* test_log.c: log levels, prefixes and colour. The redaction of what --debug shows is
 * test_redact.c's. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/log.h"

/* ---- stderr capture ---- */

static FILE *cap_file;
static int cap_saved = -1;

static void capture_start(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	cr_assert_not_null(cap_file);
	cap_saved = dup(STDERR_FILENO);
	dup2(fileno(cap_file), STDERR_FILENO);
}

static char *capture_end(void)
{
	struct buf b = BUF_INIT;
	char chunk[512];
	size_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	rewind(cap_file);
	while ((n = fread(chunk, 1, sizeof(chunk), cap_file)) > 0)
		buf_append(&b, chunk, n);
	fclose(cap_file);
	return buf_detach(&b);
}

/* ---- levels ---- */

Test(log, normal_level_prefixes)
{
	char *out;

	log_init(LOG_NORMAL, 0);
	capture_start();
	log_error("config: %s", "broken");
	log_warn("careful");
	log_info("hello %d", 42);
	log_verbose("not shown");
	log_debug("not shown either");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: config: broken\n"
	                      "oktacred: warning: careful\n"
	                      "oktacred: hello 42\n");
	cr_expect_eq(log_get_level(), LOG_NORMAL);
	free(out);
}

Test(log, debug_level_shows_everything)
{
	char *out;

	log_init(LOG_DEBUG, 0);
	capture_start();
	log_verbose("v");
	log_debug("d");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: v\noktacred: debug: d\n");
	free(out);
}

Test(log, verbose_level_hides_debug)
{
	char *out;

	log_init(LOG_VERBOSE, 0);
	capture_start();
	log_verbose("v");
	log_debug("d");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: v\n");
	free(out);
}

Test(log, quiet_keeps_errors_only)
{
	char *out;

	log_init(LOG_QUIET, 0);
	capture_start();
	log_error("e");
	log_warn("w");
	log_info("i");
	out = capture_end();
	cr_expect_str_eq(out, "oktacred: e\n");
	free(out);
}

Test(log, no_colour_when_not_a_terminal_or_no_color)
{
	capture_start(); /* stderr is a file now */
	log_init(LOG_NORMAL, 1);
	cr_expect_eq(log_color(), 0);
	free(capture_end());
	setenv("NO_COLOR", "1", 1);
	log_init(LOG_NORMAL, 1);
	cr_expect_eq(log_color(), 0);
	log_init(LOG_NORMAL, 0);
	cr_expect_eq(log_color(), 0);
}

Test(log, a_message_clears_the_status_line_first)
{
	char *out;

	log_init(LOG_NORMAL, 0);
	capture_start();
	log_status_line(1);
	log_info("one");
	log_status_line(0);
	log_info("two");
	out = capture_end();
	cr_expect_str_eq(out, "\r\033[Koktacred: one\n"
	                      "oktacred: two\n");
	free(out);
}

Test(log, colour_for_another_stream_needs_a_terminal_and_no_no_color)
{
	FILE *f = tmpfile();

	cr_assert_not_null(f);
	unsetenv("NO_COLOR");
	log_init(LOG_NORMAL, 1);
	cr_expect_eq(log_color_for(f), 0); /* not a terminal */
	cr_expect_eq(log_color_for(NULL), 0);
	fclose(f);
}
