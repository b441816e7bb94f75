/* term.c: the stream for the person at the keyboard, and terminal abilities. */
#include "oktacred/term.h"

#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "oktacred/banned.h"

FILE *term_user_stream(void)
{
	static FILE *tty;
	int fd;

	if (isatty(STDERR_FILENO))
		return stderr;
	if (tty)
		return tty;
	fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		tty = fdopen(fd, "w");
		if (tty) {
			setvbuf(tty, NULL, _IOLBF, 0);
			return tty;
		}
		close(fd);
	}
	return stderr;
}

int term_is_tty(FILE *stream)
{
	return stream && isatty(fileno(stream));
}

int term_size(FILE *stream, int *cols, int *rows)
{
	struct winsize ws;

	if (!term_is_tty(stream) || ioctl(fileno(stream), TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 ||
	    ws.ws_row == 0)
		return -1;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return 0;
}

int term_utf8(void)
{
	static int cached = -1;
	const char *cs;

	if (cached >= 0)
		return cached;
	if (!setlocale(LC_CTYPE, "")) {
		cached = 0;
		return 0;
	}
	cs = nl_langinfo(CODESET);
	cached = cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	/* Back to "C" so nothing else (number formats, ctype) changes under us. */
	setlocale(LC_CTYPE, "C");
	return cached;
}

int term_graphical(void)
{
#ifdef __APPLE__
	return 1;
#else
	const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");

	return (d && *d) || (w && *w);
#endif
}
