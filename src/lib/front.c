/* front.c: the front binary's hand-off to the full one (see front.h). */
#include "oktacred/front.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/harden.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

/* The variable that carries the front's path to the full binary, which removes it. */
#define FRONT_EXE_VAR "OKTACRED_FRONT_EXE"

extern char **environ;

static char **front_argv; /* non-NULL: this is the front */
static const char *front_installed;
static char adopted[4096];

void front_enable(char **argv, const char *installed_full)
{
	front_argv = argv;
	front_installed = installed_full;
}

int front_active(void)
{
	return front_argv != NULL;
}

int front_serves(int argc, char **argv)
{
	static const char *const served[] = {"token", "env", "credential-process", "credential",
	                                     "status"};
	const char *cmd = NULL;
	int i, is_short = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		/* Its value is a file name wherever it comes (cli_main takes it after the
		 * command too): never the command, never --short. */
		if (strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(a, "--short") == 0)
			is_short = 1;
		if (strcmp(a, "--") == 0 || strcmp(a, "--verbose") == 0 ||
		    strcmp(a, "--debug") == 0 || strcmp(a, "--help") == 0 ||
		    strcmp(a, "--version") == 0 || (a[0] == '-' && a[1] != '-'))
			return 0;
		if (!cmd && a[0] != '-')
			cmd = a;
	}
	if (!cmd)
		return 0;
	if (strcmp(cmd, "status") == 0)
		return is_short;
	for (i = 0; i < (int)ARRAY_SIZE(served); i++)
		if (strcmp(cmd, served[i]) == 0)
			return 1;
	return 0;
}

long front_self_exe(char *buf, size_t n)
{
	ssize_t len;

	if (adopted[0]) {
		len = (ssize_t)strlen(adopted);
		if ((size_t)len >= n)
			return -1;
		memcpy(buf, adopted, (size_t)len + 1);
		return (long)len;
	}
	len = readlink("/proc/self/exe", buf, n - 1);
	if (len <= 0 || (size_t)len >= n - 1)
		return -1;
	buf[len] = '\0';
	return (long)len;
}

void front_adopt(void)
{
	const char *v = getenv(FRONT_EXE_VAR);

	if (v && v[0] == '/' && strlen(v) < sizeof(adopted))
		memcpy(adopted, v, strlen(v) + 1);
	unsetenv(FRONT_EXE_VAR);
}

/* Whether path and its directory belong to root or to us: a front copied into a directory
 * others can write to (/tmp) must not run what another user put next to it. */
static int ours(const char *path)
{
	const char *slash = strrchr(path, '/');
	uid_t me = geteuid();
	struct stat st;
	char *dir;
	int ok;

	if (stat(path, &st) < 0 || (st.st_uid != 0 && st.st_uid != me) || !slash)
		return 0;
	dir = xasprintf("%.*s", (int)(slash - path), path);
	ok = stat(dir, &st) == 0 && (st.st_uid == 0 || st.st_uid == me);
	free(dir);
	return ok;
}

/* The full binary: OKTACRED_FULL, else next to the front as installed
 * (BINDIR/../libexec/oktacred/oktacred), else in the build tree (build/oktacred-full),
 * else where the build said it would be installed. The two next to the front only when
 * they and their directories are root's or ours. */
static char *find_full(const char *self)
{
	static const char *const rel[] = {"../libexec/oktacred/oktacred", "build/oktacred-full"};
	const char *env = getenv("OKTACRED_FULL");
	const char *slash = strrchr(self, '/');
	size_t i;

	if (env && env[0])
		return xstrdup(env);
	for (i = 0; slash && i < ARRAY_SIZE(rel); i++) {
		char *cand = xasprintf("%.*s/%s", (int)(slash - self), self, rel[i]);

		if (access(cand, X_OK) == 0 && ours(cand))
			return cand;
		free(cand);
	}
	return front_installed && front_installed[0] == '/' ? xstrdup(front_installed) : NULL;
}

void front_handoff(const char *why)
{
	char self[4096];
	char *full, *shown;
	int e;

	if (!front_argv)
		return;
	/* The caller's signal dispositions first, then a look at the flag: a Ctrl-C that
	 * came while the front read the cache ends it here (the full binary would not know of
	 * it), and one from now on ends it (or the full binary until it installs its
	 * handlers) as it would have ended the full binary, instead of being lost. */
	sig_restore_for_exec();
	if (sig_interrupted())
		_exit(sig_exit_code());
	if (front_self_exe(self, sizeof(self)) < 0)
		self[0] = '\0';
	full = find_full(self);
	if (!full) {
		shown = text_escape_dup(self[0] ? self : "this one");
		fprintf(stderr,
		        "oktacred: the full oktacred program is not installed next to %s (needed "
		        "for %s): reinstall oktacred\n",
		        shown, why);
		_exit(1);
	}
	if (setenv(FRONT_EXE_VAR, self, 1) < 0) {
		fputs("oktacred: out of memory\n", stderr);
		_exit(1);
	}
	harden_restore_for_exec();
	execve(full, front_argv, environ);
	e = errno;
	shown = text_escape_dup(full); /* a path is shown escaped, as every path is */
	fprintf(stderr, "oktacred: cannot run %s (needed for %s): %s\n", shown, why, strerror(e));
	_exit(1);
}
