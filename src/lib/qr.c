/* qr.c: QR codes for the terminal with libqrencode, which is dlopen()ed by the first code
 * drawn (only a login draws one). */
#include "oktacred/qr.h"

#include <qrencode.h>
#include <stdlib.h>

#include "oktacred/dl.h"
#include "oktacred/util.h"

#define QRENCODE_SYMBOLS(X)                                                                        \
	X(QRcode_encodeString)                                                                     \
	X(QRcode_free)

DL_LIBRARY(libqrencode, QRENCODE_SYMBOLS, "libqrencode",
           "libqrencode4 (Debian/Ubuntu), qrencode-libs (Fedora), qrencode (Homebrew)",
           "libqrencode.so.4");

#define QRcode_encodeString (*sym_QRcode_encodeString)
#define QRcode_free         (*sym_QRcode_free)

#define QUIET 2 /* modules of quiet zone on each side (4 is the standard; 2 scans fine) */

/* 1 when the module at (x, y), quiet zone included, is light. */
static int light(const QRcode *qr, int x, int y)
{
	int w = qr->width;

	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= w || y >= w)
		return 1;
	return !(qr->data[y * w + x] & 1);
}

/* text as a QR code, or NULL with err set. */
static QRcode *encode(const char *text, okc_err *err)
{
	QRcode *qr;

	if (dl_open(&libqrencode, err) < 0)
		return NULL;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (!qr)
		okc_fail(err, OKC_EXIT_FAIL, "cannot draw the QR code");
	return qr;
}

int qr_size(const char *text, int utf8, int *cols, int *rows, okc_err *err)
{
	QRcode *qr = encode(text, err);
	int size;

	if (!qr)
		return -1;
	size = qr->width + 2 * QUIET;
	*cols = utf8 ? size : 2 * size;
	*rows = utf8 ? (size + 1) / 2 : size;
	QRcode_free(qr);
	return 0;
}

int qr_print(FILE *out, const char *text, int utf8, int color, okc_err *err)
{
	QRcode *qr;
	int size, x, y;

	qr = encode(text, err);
	if (!qr)
		return -1;
	size = qr->width + 2 * QUIET;
	for (y = 0; y < size; y += utf8 ? 2 : 1) {
		if (color)
			fputs("\033[40;97m", out); /* white on black: light modules as ink */
		for (x = 0; x < size; x++) {
			int top = light(qr, x, y);
			int bottom = y + 1 < size ? light(qr, x, y + 1) : 0;

			if (!utf8)
				fputs(top ? "##" : "  ", out);
			else if (top && bottom)
				fputs("\xe2\x96\x88", out); /* full block */
			else if (top)
				fputs("\xe2\x96\x80", out); /* upper half */
			else if (bottom)
				fputs("\xe2\x96\x84", out); /* lower half */
			else
				fputc(' ', out);
		}
		if (color)
			fputs("\033[0m", out);
		fputc('\n', out);
	}
	QRcode_free(qr);
	return 0;
}
