/* browser.h: opening the verification page, only where a person can see it. */
#ifndef OKTACRED_BROWSER_H
#define OKTACRED_BROWSER_H

/* In a graphical session, starts $BROWSER (or xdg-open, or open on macOS) on url,
 * detached, without a shell and with its output discarded. Returns 0 when a program
 * was started (its exec succeeded), -1 otherwise; never an error for the caller. */
int browser_open(const char *url);

#endif
