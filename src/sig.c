/* sig.c: SIGINT and SIGTERM become a flag that every long wait checks; SIGPIPE ignored while
 * a command's status is a child's (exec), and set back to its default for the child. */
#include "oktacred/sig.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int signo)
{
	(void)signo;
	interrupted = 1;
}

void sig_install(void)
{
	struct sigaction sa;

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void set_pipe(void (*handler)(int))
{
	struct sigaction sa;

	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
}

void sig_pipe_ignore(void)
{
	set_pipe(SIG_IGN);
}

void sig_pipe_default(void)
{
	set_pipe(SIG_DFL);
}

int sig_interrupted(void)
{
	return interrupted != 0;
}

int sig_sleep_ms(long ms)
{
	struct timespec ts, rem;

	if (interrupted)
		return -1;
	if (ms <= 0)
		return 0;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &rem) < 0) {
		if (errno != EINTR || interrupted)
			return -1;
		ts = rem;
	}
	return interrupted ? -1 : 0;
}
