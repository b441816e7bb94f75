/* sig.h: SIGINT/SIGTERM as a flag that long waits (polling, backoff, HTTP
 * transfers, lock waits) check, so Ctrl-C ends cleanly with exit 130; SIGPIPE for exec. */
#ifndef OKTACRED_SIG_H
#define OKTACRED_SIG_H

/* Installs the handlers (no SA_RESTART, so blocking calls return EINTR). */
void sig_install(void);
/* SIGPIPE ignored: a write to a closed stderr (our logs) or socket fails with EPIPE
 * instead of ending the process, whose status is a child's to pass on. */
void sig_pipe_ignore(void);
/* SIGPIPE at its default, before an exec: an ignored signal stays ignored across it, and
 * the command's `yes | head -1` would end `yes` with a write error, or a program that does
 * not check its writes never. Async-signal-safe. */
void sig_pipe_default(void);
/* Non-zero once SIGINT or SIGTERM arrived. */
int sig_interrupted(void);
/* Sleeps up to ms milliseconds; returns -1 early when interrupted, else 0. */
int sig_sleep_ms(long ms);

#endif
