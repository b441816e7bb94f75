/* browser.c: a detached $BROWSER / xdg-open, never failing the login. */
#include "oktacred/browser.h"

#include <errno.h>
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
	int status, fds[2];
	ssize_t n;
	char c;

	if (!term_graphical())
		return -1;
	if (!prog || !*prog || strchr(prog, ' ') || strchr(prog, ':'))
	/* $BROWSER with arguments or a list is for a shell; we run no shell. */
#ifdef __APPLE__
		prog = "open";
#else
		prog = "xdg-open";
#endif
	/* The grandchild says through this pipe (closed on exec) when its exec failed, so
	 * that "started" means a program is running. */
	if (pipe(fds) < 0)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	/* Double fork so the browser is not our child and we never wait on it. */
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		pid_t grandchild = fork();

		if (grandchild != 0)
			_exit(grandchild < 0);
		int fd = open("/dev/null", O_RDWR);

		close(fds[0]);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		setsid();
		signal(SIGINT, SIG_DFL);
		execlp(prog, prog, url, (char *)NULL);
		(void)!write(fds[1], "x", 1);
		_exit(127);
	}
	close(fds[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		close(fds[0]);
		return -1;
	}
	/* EOF: the exec closed the grandchild's end; a byte: the exec failed. */
	do
		n = read(fds[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	return n == 0 ? 0 : -1;
}
