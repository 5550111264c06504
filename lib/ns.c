/*
 * ns.c - libscheme: getns(), setrens(), mkns() for providers.
 *
 * A provider links with -lscheme (pkg-config --libs scheme) and runs under
 * the preload, which defines the same three names and, being loaded first,
 * is what the calls reach: it holds the broker connection and the
 * namespace token they act on.  These definitions are reached only when
 * the preload is not loaded: there is no broker connection and no scheme
 * to restrict, and each call says so with ENOSYS rather than pretending.
 */
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
