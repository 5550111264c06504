/*
 * deadline.c - see deadline.h.  What is left is rounded up, so a wait
 * never ends early for want of a fraction of a millisecond.
 */
#define _GNU_SOURCE
#include "deadline.h"

void
deadline_start(struct deadline *d, long ms)
{
	d->never = ms < 0;
	if (d->never)
		return; /* no clock to read: every request's serve_read */
	clock_gettime(CLOCK_MONOTONIC, &d->at);
	d->at.tv_sec += ms / 1000;
	d->at.tv_nsec += (ms % 1000) * 1000000L;
	if (d->at.tv_nsec >= 1000000000L) {
		d->at.tv_sec++;
		d->at.tv_nsec -= 1000000000L;
	}
}

/* -1 for ever; 0 once passed; else whole milliseconds, rounded up. */
long
deadline_left(const struct deadline *d)
{
	struct timespec now;
	long ms;

	if (d->never)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (d->at.tv_sec - now.tv_sec) * 1000 +
	     (d->at.tv_nsec - now.tv_nsec + 999999) / 1000000;
	return ms > 0 ? ms : 0;
}
