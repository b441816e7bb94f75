/* sig.c: SIGINT, SIGTERM and SIGHUP become a flag that every long wait checks; while a
 * request that rotates state is in flight they are deferred (DESIGN.md section 4). SIGPIPE
 * is ignored while a command's status is a child's (exec), and set back for the child. */
#include "oktacred/sig.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "oktacred/banned.h"

static volatile sig_atomic_t received; /* the first signal's number, 0: none */
static volatile sig_atomic_t deferring;

static const int handled[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction callers[sizeof(handled) / sizeof(handled[0])]; /* before ours */
static int installed;

static void on_signal(int signo)
{
	if (!received)
		received = signo;
}

void sig_install(void)
{
	struct sigaction sa;
	size_t i;

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], &sa, &callers[i]);
	installed = 1;
}

void sig_restore_for_exec(void)
{
	size_t i;

	if (!installed)
		return;
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], &callers[i], NULL);
	installed = 0;
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
	return received != 0;
}

int sig_abort_transfer(void)
{
	return received != 0 && !deferring;
}

void sig_defer(int on)
{
	deferring = on != 0;
}

int sig_deferred(void)
{
	return deferring != 0;
}

int sig_exit_code(void)
{
	return received ? 128 + received : 130;
}

int sig_sleep_ms(long ms)
{
	struct timespec ts, rem;

	if (received)
		return -1;
	if (ms <= 0)
		return 0;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &rem) < 0) {
		if (errno != EINTR || received)
			return -1;
		ts = rem;
	}
	return received ? -1 : 0;
}
