/* sig.h: SIGINT/SIGTERM/SIGHUP as a flag that long waits (polling, backoff, HTTP
 * transfers, lock waits) check, so Ctrl-C ends cleanly with exit 130 (143 for SIGTERM,
 * 129 for SIGHUP). While a request that rotates state is in flight (a refresh: Okta has
 * rotated the refresh token once it answers) the transfer is not aborted: the answer is
 * read and saved first, then the command ends with the signal's exit code. SIGPIPE for
 * exec. */
#ifndef OKTACRED_SIG_H
#define OKTACRED_SIG_H

/* Installs the handlers (no SA_RESTART, so blocking calls return EINTR). */
void sig_install(void);
/* Puts back the dispositions sig_install replaced (the caller's: default, or ignored), for
 * an exec of the full binary (front.h): a signal from now on does what it would have done
 * to it, instead of setting a flag that the exec loses. Then sig_interrupted() tells
 * whether one came before. */
void sig_restore_for_exec(void);
/* SIGPIPE ignored: a write to a closed stderr (our logs) or socket fails with EPIPE
 * instead of ending the process, whose status is a child's to pass on. */
void sig_pipe_ignore(void);
/* SIGPIPE at its default, before an exec: an ignored signal stays ignored across it, and
 * the command's `yes | head -1` would end `yes` with a write error, or a program that does
 * not check its writes never. Async-signal-safe. */
void sig_pipe_default(void);
/* Non-zero once SIGINT, SIGTERM or SIGHUP arrived (deferred or not). */
int sig_interrupted(void);
/* Non-zero when a transfer in progress should be aborted: a signal arrived and none is
 * being deferred. */
int sig_abort_transfer(void);
/* Starts (on) or ends (0) the deferral around a request whose answer must not be lost. */
void sig_defer(int on);
int sig_deferred(void);
/* 128 + the first signal's number (130 when none arrived). */
int sig_exit_code(void);
/* Sleeps up to ms milliseconds; returns -1 early when interrupted, else 0. */
int sig_sleep_ms(long ms);

#endif
