/*
 * handlers.c - what the program's signal handlers mean for the preload.
 *
 * A handler installed with SA_RESTART (signal() always sets it) makes
 * the kernel restart a read() it interrupts.  The serving code's direct
 * reads (proto/serve/serve.c) are such reads, where epoll_wait() would
 * fail with EINTR, and a provider that stops on a signal would not stop:
 * so provider.c asks here first.  Noted by sigaction() and signal()
 * (sigsys.c); never unset, since a program that had one is taken to keep
 * it.  A handler installed by a raw system call, or made restarting by
 * siginterrupt(), is not seen.
 */
#define _GNU_SOURCE
#include <stdatomic.h>

#include "handlers.h"

static atomic_bool restarting;

void
handlers_note(const struct sigaction *act)
{
	if (act != NULL && act->sa_handler != SIG_DFL &&
	    act->sa_handler != SIG_IGN && act->sa_handler != SIG_ERR &&
	    (act->sa_flags & SA_RESTART))
		atomic_store(&restarting, true);
}

bool
handlers_restart(void)
{
	return atomic_load_explicit(&restarting, memory_order_relaxed);
}
