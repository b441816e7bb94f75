/* spawn.c: runs commands interleaved, round after round, and prints per run the command's
 * index, the wall time in microseconds and the child's peak RSS in KiB.
 *   spawn [-m] ROUNDS CMD1 [ARGS...] [--- CMD2 [ARGS...]]...
 * Each round runs every command once, starting with a different one each round, so that
 * a slow moment of the machine falls on all of them alike and the per-round ratios pair
 * like with like.
 * Peak memory: a child's ru_maxrss includes the memory of the process it was spawned from
 * (Linux records the old address space's high-water mark at exec), so it says more about
 * the spawner than about the command. With -m each run is traced instead: stopped at its
 * exit (PTRACE_O_TRACEEXIT), while its address space still exists, its own VmHWM is read
 * from /proc. The stops cost time, so -m runs are for memory and plain runs for time. */
#define _GNU_SOURCE /* wait4 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 16

/* The VmHWM line of /proc/PID/status, in KiB; -1 if absent. */
static long vm_hwm_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* One traced run: returns the exit status, *kib the command's own peak RSS. */
static int traced_run(char **cmd, int devnull, long *kib)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execve(cmd[0], cmd, environ);
		_exit(127);
	}
	*kib = -1;
	for (;;) {
		if (waitpid(pid, &status, 0) < 0)
			return -1;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return status;
		if (WIFSTOPPED(status)) {
			int sig = WSTOPSIG(status);

			if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
				*kib = vm_hwm_kib(pid);
				sig = 0;
			} else if (sig == SIGTRAP) { /* the stop after execve */
				ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_TRACEEXIT);
				sig = 0;
			}
			ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
		}
	}
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	char **cmds[MAX_CMDS];
	int ncmds = 0, runs, round, i, devnull, memory = 0;

	if (argc > 1 && strcmp(argv[1], "-m") == 0) {
		memory = 1;
		argv++;
		argc--;
	}
	if (argc < 3 || (runs = atoi(argv[1])) <= 0)
		return 2;
	cmds[ncmds++] = argv + 2;
	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "---") == 0) {
			argv[i] = NULL;
			if (i + 1 >= argc || ncmds == MAX_CMDS)
				return 2;
			cmds[ncmds++] = argv + i + 1;
		}
	devnull = open("/dev/null", O_RDWR);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	for (round = 0; round < runs; round++) {
		for (i = 0; i < ncmds; i++) {
			int c = (round + i) % ncmds;
			struct timespec t0, t1;
			struct rusage ru;
			pid_t pid;
			int status;

			if (memory) {
				long kib;

				status = traced_run(cmds[c], devnull, &kib);
				if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
					fprintf(stderr, "%s exited with %d\n", cmds[c][0], status);
					return 1;
				}
				printf("%d 0 %ld\n", c, kib);
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if (posix_spawn(&pid, cmds[c][0], &fa, NULL, cmds[c], environ) != 0)
				return 3;
			if (wait4(pid, &status, 0, &ru) < 0)
				return 3;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "%s exited with %d\n", cmds[c][0], status);
				return 1;
			}
			printf("%d %ld %ld\n", c,
			       (long)((t1.tv_sec - t0.tv_sec) * 1000000L +
			              (t1.tv_nsec - t0.tv_nsec) / 1000),
			       ru.ru_maxrss);
		}
	}
	return 0;
}
