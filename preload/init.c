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
 * provides stay the parent's (provider.c).  The locks and the fork
 * handlers are state.c's; each module hands it a hook.
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
#include "epset.h"
#include "fdtab.h"
#include "init.h"
#include "fdops.h"
#include "identify.h"
#include "state.h"
#include "pool.h"
#include "provider.h"
#include "real.h"
#include "resolve.h"
#include "stdio.h"
#include "uaccess.h"

/* What a fork's child drops, once its locks are free (state.h). */
static void
creds_child(void)
{
	creds_refresh();
}

static const struct st_fork_hook creds_fork_hook = {ST_FDTAB, NULL, NULL,
						    creds_child};

static void
fork_hooks(void)
{
	st_on_fork(&bconn_fork_hook);
	st_on_fork(&pool_fork_hook);
	st_on_fork(&chan_fork_hook);
	st_on_fork(&provider_fork_hook);
	st_on_fork(&epset_fork_hook);
	st_on_fork(&stdio_fork_hook);
	st_on_fork(&creds_fork_hook);
	st_init();
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
	fork_hooks();
	identify_all();
	stdio_std_update(0);
	stdio_std_update(1);
	stdio_std_update(2);
}
