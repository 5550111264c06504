/*
 * init.c - start-up and fork.
 *
 * The constructor resolves the real functions, recognises scheme fds the
 * process was born with, and swaps the std streams over any of them.
 * Calls that arrive before it (from other constructors) resolve what they
 * need on their own (REAL).
 *
 * Fork: the child must not use the parent's broker connection or
 * channels (replies would go to whichever process reads first), so it
 * closes its copies and makes its own on first need; schemes the parent
 * provides stay the parent's (provider.c).  Lock order, taken in this
 * order by prepare: bconn, chan, providers (then each scheme's), fdtab.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bconn.h"
#include "chan.h"
#include "client.h"
#include "creds.h"
#include "fdtab.h"
#include "init.h"
#include "io.h"
#include "ns.h"
#include "pool.h"
#include "provider.h"
#include "real.h"
#include "resolve.h"
#include "stdio.h"
#include "uaccess.h"

static void
prepare(void)
{
	ns_atfork_prepare();
	bconn_atfork_prepare();
	pool_atfork_prepare();
	chan_atfork_prepare();
	provider_atfork_prepare();
	fdtab_atfork_prepare();
}

static void
parent(void)
{
	fdtab_atfork_parent();
	provider_atfork_parent();
	chan_atfork_parent();
	pool_atfork_parent();
	bconn_atfork_parent();
	ns_atfork_parent();
}

void
init_atfork_child(void)
{
	fdtab_atfork_child();
	bconn_atfork_child();
	chan_atfork_child();
	pool_atfork_child();
	provider_atfork_child();
	ns_atfork_child();
	creds_refresh();
}

__attribute__((constructor)) static void
preload_init(void)
{
	mode_t m;

	real_init();
	ua_init();
	resolve_init();
	creds_refresh();
	bconn_init();
	env_capture();
	m = REAL(umask)(0); /* no getumask(); no other thread exists yet */
	REAL(umask)(m);
	sc_umask_set(m);
	pthread_atfork(prepare, parent, init_atfork_child);
	identify_all();
	stdio_std_update(0);
	stdio_std_update(1);
	stdio_std_update(2);
}
