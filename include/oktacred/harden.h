/* harden.h: process hardening at start-up (no core dumps, not ptrace-able, private
 * files), and its undoing for a child that `exec` starts. */
#ifndef OKTACRED_HARDEN_H
#define OKTACRED_HARDEN_H

/* RLIMIT_CORE soft limit 0, PR_SET_DUMPABLE 0 (Linux), umask 077. */
void harden_process(void);
/* Puts back the caller's umask and core-dump limit, so that the program `exec` runs gets
 * the environment it would have had without us. (Dumpable resets on execve by itself.) */
void harden_restore_for_exec(void);

#endif
