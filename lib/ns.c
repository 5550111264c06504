/*
 * ns.c - libscheme: getns(), setrens(), mkns() for providers, and
 * scheme_preloaded(), which tells whether the preload is in the process.
 *
 * A provider links with -lscheme (pkg-config --libs scheme) and runs under
 * the preload, which defines the same three names and, being loaded first,
 * is what the calls reach: it holds the broker connection and the
 * namespace token they act on.  These definitions are reached only when
 * the preload is not loaded: there is no broker connection and no scheme
 * to restrict, and each call says so with ENOSYS rather than pretending.
 *
 * That is also how scheme_preloaded() knows.  The dynamic loader looks a
 * name up in the program first, then in LD_PRELOAD's libraries, then in
 * the libraries the program needs (us among them): the getns it finds is
 * ours exactly when nobody loaded before us defines one.  Our own is
 * compared by a hidden alias, an address nothing can interpose.  Nothing
 * is called: asking costs no broker connection, and works before anything
 * exists.
 *
 * One program fools the lookup: one linked without -fPIE that takes
 * getns's address gets an entry of its own (a "canonical PLT" entry, so
 * that the address compares equal everywhere), which the lookup finds
 * first whoever defines the function.  That entry jumps to the real
 * first definition, so then, and only then, we call it: the preload's
 * answers (a namespace, or ENOTCONN without a broker), ours says ENOSYS.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT, dladdr1 */
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <stddef.h>

#include <scheme/scheme.h>

long
getns(void)
{
	errno = ENOSYS;
	return -1;
}

int
setrens(long rns, long ens)
{
	(void)rns;
	(void)ens;
	errno = ENOSYS;
	return -1;
}

long
mkns(const char *const names[], size_t count)
{
	(void)names;
	(void)count;
	errno = ENOSYS;
	return -1;
}

extern __typeof__(getns) scheme_own_getns
    __attribute__((alias("getns"), visibility("hidden")));

int
scheme_preloaded(void)
{
	long (*first)(void) = (long (*)(void))dlsym(RTLD_DEFAULT, "getns");
	struct link_map *lm = NULL;
	Dl_info info;
	int saved = errno, r;

	if (first == NULL || first == scheme_own_getns)
		return 0;
	if (dladdr1((void *)first, &info, (void **)&lm, RTLD_DL_LINKMAP) == 0 ||
	    lm == NULL || lm->l_prev != NULL)
		return 1; /* a library loaded before us: the preload */
	r = first() >= 0 || errno != ENOSYS; /* the program's own entry */
	errno = saved;
	return r;
}
