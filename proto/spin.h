/*
 * spin.h - wait briefly awake before sleeping, when that pays.
 *
 * On this project's VM a wake-up across vCPUs costs about 20 µs, more
 * than a whole round trip on one CPU.  A client waiting for its answer,
 * and a provider waiting for the next request, therefore poll for up to
 * SPIN_NS (yielding the CPU between polls, so that a partner queued on
 * the same CPU runs at once) before they block, but only when the thread
 * may run on more than one CPU: pinned to one, polling could only delay
 * the partner.  tools/bench measures both placements.
 */
#ifndef PROTO_SPIN_H
#define PROTO_SPIN_H

#include <stdbool.h>
#include <stdint.h>

#define SPIN_NS 50000 /* 50 µs: a few wake-ups' worth */

/* Whether this thread may run on more than one CPU (cached briefly). */
bool spin_worth(void);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t spin_now(void);

/* One pause between polls: gives the CPU to whoever else wants it. */
void spin_pause(void);

#endif
