/* main.c: process hardening, then the command line. */
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "oktacred/cli.h"
#include "oktacred/sig.h"

/* Secrets live in this process's memory: no core dumps, no ptrace by other processes
 * of the same user, and files created private. */
static void harden(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
#ifdef __linux__
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	umask(077);
}

int main(int argc, char **argv)
{
	harden();
	sig_install();
	return cli_main(argc, argv);
}
