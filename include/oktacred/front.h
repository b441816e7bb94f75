/* front.h: the small static front binary and its hand-off to the full one (docs/DESIGN.md,
 * "The front and the full binary").
 *
 * ./oktacred (installed as BINDIR/oktacred) is built from the same sources as the full
 * dynamic binary, but statically and without dlopen(): it serves what a valid cache answers
 * (token, env, credential-process, credential, status --short) and execs the full binary
 * (OKTACRED_FULL, else BINDIR/../libexec/oktacred/oktacred or build/oktacred-full next to
 * the front, else LIBEXECDIR/oktacred/oktacred as configured at build time) with the same
 * argv and environment for anything else, before it has written a byte, taken a lock or
 * changed a file. In the full binary (and the sanitizer, fuzz and unit-test builds) every
 * function here but front_self_exe is a no-op. */
#ifndef OKTACRED_FRONT_H
#define OKTACRED_FRONT_H

#include <stddef.h>

/* The front's main: from now on front_handoff execs. argv is kept for the exec;
 * installed_full is where `make install` put the full binary (tried last). */
void front_enable(char **argv, const char *installed_full);
/* 1 when this is the front, until it hands off. */
int front_active(void);
/* 1 when the front serves this command line itself: one of the commands above, and none of
 * -v, --verbose, --debug, -h, --help, --version, "--". Anything it does not recognise is
 * the full binary's. */
int front_serves(int argc, char **argv);
/* In the front: execs the full binary now, its caller's umask, core limit
 * (harden_restore_for_exec) and SIGINT/SIGTERM/SIGHUP dispositions (sig_restore_for_exec)
 * put back; `why` (what needed it) is for the message of a failed exec,
 * which ends the process with exit 1. A no-op in the full binary. */
void front_handoff(const char *why);
/* The full binary's main: remembers (and removes from the environment) the front's path
 * that a hand-off passed on, so that this process names the front, not itself, where it
 * writes its own path (kubeconfig, aws-config). */
void front_adopt(void);
/* This program's file as the user runs it: the front's path after a hand-off, else
 * /proc/self/exe's target. Returns its length, or -1 (no /proc, or too long for n). */
long front_self_exe(char *buf, size_t n);

#endif
