/* harden.c: secrets live in this process's memory: no core dumps, no ptrace by other
 * processes of the same user, and every file created private. */
#include "oktacred/harden.h"

#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "oktacred/banned.h"

static mode_t saved_umask;
static struct rlimit saved_core;
static int saved;
static int hardened; /* harden_process ran: there is something to put back */

void harden_process(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CORE, &saved_core) == 0) {
		/* Only the soft limit: a lowered hard limit could not be raised for a child. */
		rl = saved_core;
		rl.rlim_cur = 0;
		setrlimit(RLIMIT_CORE, &rl);
		saved = 1;
	}
#ifdef __linux__
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	saved_umask = umask(077);
	hardened = 1;
}

void harden_restore_for_exec(void)
{
	if (!hardened)
		return;
	umask(saved_umask);
	if (saved)
		setrlimit(RLIMIT_CORE, &saved_core);
}
