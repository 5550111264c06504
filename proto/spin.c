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

/*
 * The recheck's clock is the coarse one (a tick's precision, about 4 ms,
 * is plenty for 100 ms): it is asked at every wait, and costs a third of
 * CLOCK_MONOTONIC's read.
 */
bool
spin_worth(void)
{
	struct timespec ts;
	uint64_t now;
	cpu_set_t set;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

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
