/* term.h: where messages meant for the person go (never stdout), and what the
 * terminal can show. */
#ifndef OKTACRED_TERM_H
#define OKTACRED_TERM_H

#include <stdio.h>

/* stderr when it is a terminal; else /dev/tty when the process has one (so a prompt
 * reaches the person even when stderr is captured, as under credential_process);
 * else stderr. The stream stays open for the life of the process. */
FILE *term_user_stream(void);
/* 1 when stream is a terminal. */
int term_is_tty(FILE *stream);
/* The size of the terminal stream is: 0 with *cols and *rows, or -1 when it is not a
 * terminal or does not say (a pseudo-terminal nobody sized reports 0 x 0). */
int term_size(FILE *stream, int *cols, int *rows);
/* 1 when LC_ALL/LC_CTYPE/LANG select a UTF-8 codeset. */
int term_utf8(void);
/* 1 when a graphical session is there to open a browser in (DISPLAY or
 * WAYLAND_DISPLAY on Unix; always on macOS). */
int term_graphical(void);

#endif
