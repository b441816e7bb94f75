/* dl.h: optional libraries (libcurl, libcrypto, libqrencode, libsecret, libxml2) loaded on
 * first use by their one module, so that a command served from the cache never maps them. */
#ifndef OKTACRED_DL_H
#define OKTACRED_DL_H

#include <stddef.h>
#include "oktacred/err.h"

/* One symbol: its name and the address of the module's pointer that receives it. */
struct dl_sym {
	const char *name;
	void *slot;
};

struct dl_lib {
	const char *name;             /* "libcurl", for messages */
	const char *const sonames[4]; /* tried in order, NULL-terminated */
	const char *packages;         /* what to install, per system */
	const struct dl_sym *syms;    /* every one must resolve */
	size_t nsyms;
	void *handle; /* set by dl_open; never closed (GLib, OpenSSL cannot be unloaded) */
};

/* In a module, with X-macro list FOO_SYMBOLS(X) of the functions (or variables) it uses:
 *
 *     FOO_SYMBOLS(DL_SYMBOL)                 static pointers sym_f, typed from the header
 *     static const struct dl_sym foo_syms[] = {FOO_SYMBOLS(DL_ENTRY)};
 *     #define f (*sym_f)                     one per symbol: the call sites stay as written
 *
 * __typeof__ (a GNU extension that gcc and clang accept under -std=c11 -Wpedantic, as
 * systemd's DLSYM_PROTOTYPE does) takes each type from the library's own prototype, so a
 * pointer cannot drift from the header. A symbol that is a variable (xmlFree, g_utf8_skip)
 * works the same way: sym_v points at it. */
#define DL_SYMBOL(f) static __typeof__(f) *sym_##f;
#define DL_ENTRY(f)  {#f, &sym_##f},

/* All of the above but the #defines, and the module's struct dl_lib var, in one line:
 *
 *     DL_LIBRARY(libfoo, FOO_SYMBOLS, "libfoo", "libfoo1 (Debian/Ubuntu), ...",
 *                "libfoo.so.1", "libfoo.1.dylib");
 *
 * the sonames last, at most three. */
#define DL_LIBRARY(var, SYMBOLS, libname, install, ...)                                            \
	SYMBOLS(DL_SYMBOL)                                                                         \
	static const struct dl_sym var##_syms[] = {SYMBOLS(DL_ENTRY)};                             \
	static struct dl_lib var = {                                                               \
	    .name = libname,                                                                       \
	    .sonames = {__VA_ARGS__, NULL},                                                        \
	    .packages = install,                                                                   \
	    .syms = var##_syms,                                                                    \
	    .nsyms = sizeof(var##_syms) / sizeof(var##_syms[0]),                                   \
	}

/* Loads lib the first time (later calls return 0 at once): the first soname that opens
 * with every symbol resolved wins. Otherwise exit 1 and a one-line message naming the
 * library and the package to install, e.g. "libcurl is not installed (libcurl.so.4:
 * cannot open shared object file: No such file or directory): install libcurl4
 * (Debian/Ubuntu), libcurl (Fedora), curl (Homebrew)". Not thread-safe. Returns 0 or -1. */
int dl_open(struct dl_lib *lib, okc_err *err);

#endif
