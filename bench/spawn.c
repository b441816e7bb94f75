/* spawn.c: runs a command N times and prints, per run, the wall time in microseconds and
 * the child's peak RSS in KiB. A small C parent matters: a child's ru_maxrss includes
 * the memory of the process it was forked from, so a Python parent would add its own. */
#define _GNU_SOURCE /* wait4 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	int runs, i, devnull;

	if (argc < 3 || (runs = atoi(argv[1])) <= 0)
		return 2;
	devnull = open("/dev/null", O_RDWR);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	for (i = 0; i < runs; i++) {
		struct timespec t0, t1;
		struct rusage ru;
		pid_t pid;
		int status;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0)
			return 3;
		if (wait4(pid, &status, 0, &ru) < 0)
			return 3;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "%s exited with %d\n", argv[2], status);
			return 1;
		}
		printf("%ld %ld\n",
		       (long)((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000),
		       ru.ru_maxrss);
	}
	return 0;
}
