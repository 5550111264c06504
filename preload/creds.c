/*
 * creds.c - see creds.h.  Refreshed at start-up, in a forked child, and
 * when the kernel refuses a stale copy.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <unistd.h>

#include "creds.h"

static _Atomic uint64_t ids; /* euid << 32 | egid */
static _Atomic uint32_t mypid;

void
creds_refresh(void)
{
	atomic_store(&mypid, (uint32_t)getpid());
	atomic_store(&ids, (uint64_t)geteuid() << 32 | getegid());
}

void
creds_get(struct wire_creds *c)
{
	uint64_t v;

	if (atomic_load_explicit(&mypid, memory_order_relaxed) == 0)
		creds_refresh();
	v = atomic_load_explicit(&ids, memory_order_relaxed);
	c->pid = atomic_load_explicit(&mypid, memory_order_relaxed);
	c->uid = (uint32_t)(v >> 32);
	c->gid = (uint32_t)v;
}
