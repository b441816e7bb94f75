/* dl.c: dlopen() of an optional library on first use and its typed symbol table (see
 * dl.h); what a missing or broken library is said to be, with the package to install. */
#include "oktacred/dl.h"

#ifdef OKTACRED_FRONT
#include "oktacred/front.h"

/* The static front cannot dlopen() (glibc): needing a library is the full binary's work,
 * and this is the last moment before anything observable (front.h). */
int dl_open(struct dl_lib *lib, okc_err *err)
{
	front_handoff(lib->name);
	return okc_fail(err, OKC_EXIT_FAIL, "%s cannot be loaded by the front oktacred", lib->name);
}
#else

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* What the first failure said: the one the user should read is normally about the first
 * (preferred) soname. */
static void note(char *why, size_t n, const char *what)
{
	if (!why[0])
		snprintf(why, n, "%s", what ? what : "unknown error");
}

/* Fills every slot from handle; on a missing symbol says which in why and returns -1.
 * Copies the address with memcpy: POSIX guarantees that a data pointer can hold a
 * function's address, and memcpy avoids both ISO C's ban on converting void * to a
 * function pointer and an aliasing cast. */
static int resolve(void *handle, const struct dl_lib *lib, char *why, size_t n)
{
	size_t i;

	for (i = 0; i < lib->nsyms; i++) {
		void *p;

		dlerror();
		p = dlsym(handle, lib->syms[i].name);
		if (!p) {
			note(why, n, dlerror());
			return -1;
		}
		memcpy(lib->syms[i].slot, &p, sizeof(p));
	}
	return 0;
}

static void clear_slots(const struct dl_lib *lib)
{
	size_t i;
	void *none = NULL;

	for (i = 0; i < lib->nsyms; i++)
		memcpy(lib->syms[i].slot, &none, sizeof(none));
}

int dl_open(struct dl_lib *lib, okc_err *err)
{
	char why[512] = "";
	const char *const *so;
	const char *state = "cannot be loaded";
	int opened = 0;

	if (lib->handle)
		return 0;
	for (so = lib->sonames; *so; so++) {
		void *h = dlopen(*so, RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			note(why, sizeof(why), dlerror());
			continue;
		}
		/* One that opens but lacks a symbol is the news, not that another soname is
		 * absent: say that, and try the next soname. */
		if (!opened)
			why[0] = '\0';
		opened = 1;
		if (resolve(h, lib, why, sizeof(why)) == 0) {
			lib->handle = h;
			return 0;
		}
		clear_slots(lib);
		dlclose(h);
	}
	/* dlerror() speaks English unless glibc's translations are installed and LC_MESSAGES
	 * is set; then the message is only less specific. */
	if (opened)
		state = "is too old or broken";
	else if (strstr(why, "cannot open shared object file"))
		state = "is not installed";
	return okc_fail(err, OKC_EXIT_FAIL, "%s %s (%s): install %s", lib->name, state, why,
	                lib->packages);
}
#endif
