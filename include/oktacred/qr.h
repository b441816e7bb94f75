/* qr.h: a QR code drawn in the terminal. qr.c is the only file that includes
 * <qrencode.h>, and loads libqrencode with the first code (dl.h): without it, qr_print
 * fails with what to install. */
#ifndef OKTACRED_QR_H
#define OKTACRED_QR_H

#include <stdio.h>
#include "oktacred/err.h"

/* Draws text as a QR code with a quiet zone. utf8: half blocks, two module rows per
 * line; else "##" per module, one row per line. color: explicit black-on-white ANSI
 * colours, so the code scans on light and dark terminals alike; without colour the
 * light modules are drawn (right for the common light-on-dark terminal). */
int qr_print(FILE *out, const char *text, int utf8, int color, okc_err *err);
/* The columns and lines qr_print(text, utf8) takes, so that a caller can tell whether it
 * fits the terminal (a code cut or wrapped does not scan). Errors as qr_print. */
int qr_size(const char *text, int utf8, int *cols, int *rows, okc_err *err);

#endif
