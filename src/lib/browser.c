/* browser.c: a detached $BROWSER / xdg-open, never failing the login. */
#include "oktacred/browser.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oktacred/banned.h"

#include "oktacred/term.h"

int browser_open(const char *url)
{
	const char *prog = getenv("BROWSER");
	pid_t pid;
	int status;

	if (!term_graphical())
		return -1;
	if (!prog || !*prog || strchr(prog, ' ') || strchr(prog, ':'))
	/* $BROWSER with arguments or a list is for a shell; we run no shell. */
#ifdef __APPLE__
		prog = "open";
#else
		prog = "xdg-open";
#endif
	/* Double fork so the browser is not our child and we never wait on it. */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		pid_t grandchild = fork();

		if (grandchild != 0)
			_exit(grandchild < 0);
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		setsid();
		signal(SIGINT, SIG_DFL);
		execlp(prog, prog, url, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}
