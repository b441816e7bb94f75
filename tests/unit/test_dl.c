/* test_dl.c: src/dl.c, the on-demand loading of optional libraries: the first soname that
 * works, the typed pointers it fills, and what a missing or broken library is said to be. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oktacred/dl.h"
#include "oktacred/util.h"

DL_SYMBOL(cos)
DL_SYMBOL(floor)
static void *sym_absent; /* a symbol that no libm has */

/* DL_ENTRY brings its own comma. */
/* clang-format off */
static const struct dl_sym libm_syms[] = {
	DL_ENTRY(cos)
	DL_ENTRY(floor)
};
static const struct dl_sym broken_syms[] = {
	DL_ENTRY(cos)
	{"oktacred_no_such_symbol", &sym_absent},
};
/* clang-format on */

Test(dl, first_soname_that_opens_fills_the_table)
{
	struct dl_lib lib = {
	    .name = "libm",
	    .sonames = {"liboktacred-test-absent.so.0", "libm.so.6", NULL},
	    .packages = "libc6",
	    .syms = libm_syms,
	    .nsyms = ARRAY_SIZE(libm_syms),
	};
	okc_err err = {0};

	cr_assert_eq(dl_open(&lib, &err), 0, "%s", err.msg);
	cr_assert_not_null(lib.handle);
	cr_assert_not_null(sym_cos);
	cr_assert_float_eq(sym_cos(0.0), 1.0, 1e-12);
	cr_assert_float_eq(sym_floor(2.5), 2.0, 1e-12);
	/* Loaded once: a second call does nothing. */
	cr_assert_eq(dl_open(&lib, &err), 0);
}

Test(dl, absent_library_names_the_package)
{
	struct dl_lib lib = {
	    .name = "libexample",
	    .sonames = {"liboktacred-test-absent.so.0", "liboktacred-test-absent.so.1", NULL},
	    .packages = "libexample0 (Debian/Ubuntu), example (Homebrew)",
	    .syms = libm_syms,
	    .nsyms = ARRAY_SIZE(libm_syms),
	};
	okc_err err = {0};

	cr_assert_eq(dl_open(&lib, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert_null(lib.handle);
	/* The first soname's error: the preferred one is the one to install. */
	cr_assert(str_starts(err.msg, "libexample is not installed (liboktacred-test-absent.so.0: "
	                              "cannot open shared object file"),
	          "%s", err.msg);
	cr_assert(strstr(err.msg, "): install libexample0 (Debian/Ubuntu), example (Homebrew)"),
	          "%s", err.msg);
	cr_assert_null(strchr(err.msg, '\n'));
}

Test(dl, missing_symbol_is_a_broken_library_and_leaves_no_pointer)
{
	struct dl_lib lib = {
	    .name = "libm",
	    .sonames = {"libm.so.6", NULL},
	    .packages = "libc6",
	    .syms = broken_syms,
	    .nsyms = ARRAY_SIZE(broken_syms),
	};
	okc_err err = {0};

	sym_cos = NULL;
	cr_assert_eq(dl_open(&lib, &err), -1);
	cr_assert_null(lib.handle);
	cr_assert_null(sym_cos, "no half-filled table");
	cr_assert(str_starts(err.msg, "libm is too old or broken ("), "%s", err.msg);
	cr_assert(strstr(err.msg, "oktacred_no_such_symbol"), "%s", err.msg);
	cr_assert(strstr(err.msg, "): install libc6"), "%s", err.msg);
}

/* Writes dir/libexample.so.0, which is text, not ELF; returns its path. */
static char *garbage_library(char *dir)
{
	char *path;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	path = xasprintf("%s/libexample.so.0", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not an ELF file, but long enough to have a header to read and refuse\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

Test(dl, file_that_is_not_a_library)
{
	char dir[] = "/tmp/okc-dl-XXXXXX";
	char *path = garbage_library(dir);
	struct dl_lib lib = {
	    .name = "libexample",
	    .sonames = {path, NULL},
	    .packages = "libexample0",
	    .syms = libm_syms,
	    .nsyms = ARRAY_SIZE(libm_syms),
	};
	okc_err err = {0};
	int rc = dl_open(&lib, &err);

	unlink(path);
	rmdir(dir);
	free(path);
	cr_assert_eq(rc, -1);
	cr_assert(str_starts(err.msg, "libexample cannot be loaded ("), "%s", err.msg);
	cr_assert(strstr(err.msg, "): install libexample0"), "%s", err.msg);
}
