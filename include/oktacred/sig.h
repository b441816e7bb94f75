/* sig.h: SIGINT/SIGTERM as a flag that long waits (polling, backoff, HTTP
 * transfers, lock waits) check, so Ctrl-C ends cleanly with exit 130. */
#ifndef OKTACRED_SIG_H
#define OKTACRED_SIG_H

/* Installs the handlers (no SA_RESTART, so blocking calls return EINTR). */
void sig_install(void);
/* Non-zero once SIGINT or SIGTERM arrived. */
int sig_interrupted(void);
/* Sleeps up to ms milliseconds; returns -1 early when interrupted, else 0. */
int sig_sleep_ms(long ms);

#endif
