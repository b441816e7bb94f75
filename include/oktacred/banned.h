/* banned.h: C library functions that oktacred does not use, made compile errors (as in
 * git): each either writes past its destination when the source is longer (strcpy, strcat,
 * sprintf, vsprintf, gets), leaves it unterminated (strncpy, strncat), keeps hidden state
 * (strtok, the time functions without _r) or writes a static buffer shared by every caller
 * (gmtime, localtime, ctime, asctime). Use snprintf, memcpy with a known length, struct
 * buf, xstrndup, gmtime_r.
 *
 * The macros would break the library's own declarations of these names, so the headers
 * that declare them are included first: after that, including them again is a no-op and
 * this header may come anywhere. util.h and err.h include it (one of them reaches every
 * source file); a file that includes neither includes it itself. */
#ifndef OKTACRED_BANNED_H
#define OKTACRED_BANNED_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef strtok_r
#define strtok_r(x, y, z) BANNED(strtok_r)

#undef sprintf
#undef vsprintf
#define sprintf(...)  BANNED(sprintf)
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)

#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef ctime_r
#define ctime_r(t, buf) BANNED(ctime_r)
#undef asctime
#define asctime(t) BANNED(asctime)
#undef asctime_r
#define asctime_r(t, buf) BANNED(asctime_r)

#endif
