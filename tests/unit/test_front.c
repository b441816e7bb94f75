/* test_front.c: which command lines the static front serves itself (src/lib/front.c), and
 * that outside the front the hand-off is a no-op and the front's path is passed on. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/front.h"

static int serves(const char *line)
{
	char copy[256], *argv[16];
	int argc = 0;

	memcpy(copy, line, strlen(line) + 1);
	argv[argc++] = "oktacred";
	for (char *t = strtok(copy, " "); t && argc < 15; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return front_serves(argc, argv);
}

Test(front, serves_the_cached_commands)
{
	cr_assert(serves("token"));
	cr_assert(serves("token --json"));
	cr_assert(serves("token --id-token okta"));
	cr_assert(serves("env okta-admin --format json"));
	cr_assert(serves("--config /x/config credential-process aws-dev"));
	cr_assert(serves("--config=/x/config credential k8s"));
	cr_assert(serves("--no-color credential-process --role dev aws-dev"));
	cr_assert(serves("status --short"));
	cr_assert(serves("token --config /x/config --json"));
}

Test(front, hands_everything_else_over)
{
	cr_assert_not(serves(""));
	cr_assert_not(serves("status"));
	cr_assert_not(serves("status --json"));
	cr_assert_not(serves("login"));
	cr_assert_not(serves("refresh"));
	cr_assert_not(serves("exec okta-admin -- true"));
	cr_assert_not(serves("kubeconfig k8s"));
	cr_assert_not(serves("aws-config"));
	cr_assert_not(serves("version"));
	cr_assert_not(serves("help token"));
	cr_assert_not(serves("token -v"));
	cr_assert_not(serves("--verbose token"));
	cr_assert_not(serves("--debug token"));
	cr_assert_not(serves("token --help"));
	cr_assert_not(serves("-h"));
	cr_assert_not(serves("--version"));
	cr_assert_not(serves("token -- okta"));
	/* --config's value is no command: "token" here is a file name. */
	cr_assert_not(serves("--config token"));
	/* ...wherever it comes: this is `status` with the configuration file "--short". */
	cr_assert_not(serves("status --config --short"));
}

Test(front, no_handoff_outside_the_front)
{
	cr_assert_not(front_active());
	front_handoff("a test"); /* returns: this is no front */
}

Test(front, the_full_program_names_the_front)
{
	char buf[4096];

	setenv("OKTACRED_FRONT_EXE", "/usr/bin/oktacred", 1);
	front_adopt();
	cr_assert_null(getenv("OKTACRED_FRONT_EXE"), "taken out of the environment");
	cr_assert_eq(front_self_exe(buf, sizeof(buf)), (long)strlen("/usr/bin/oktacred"));
	cr_assert_str_eq(buf, "/usr/bin/oktacred");
	cr_assert_eq(front_self_exe(buf, 5), -1, "too long for the buffer");
}
