/*
 * spin.c - see spin.h.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <time.h>

#include "spin.h"

#define RECHECK_NS 100000000 /* sched_setaffinity may move us: 100 ms */

static __thread uint64_t checked_at __attribute__((tls_model("initial-exec")));
static __thread bool worth __attribute__((tls_model("initial-exec")));

uint64_t
spin_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool
spin_worth(void)
{
	uint64_t now = spin_now();
	cpu_set_t set;

	if (checked_at == 0 || now - checked_at > RECHECK_NS) {
		checked_at = now;
		worth = sched_getaffinity(0, sizeof(set), &set) == 0 &&
			CPU_COUNT(&set) > 1;
	}
	return worth;
}

void
spin_pause(void)
{
	sched_yield();
}
