/*
 * deadline.h - a wait bounded in milliseconds (-1: for ever), carried
 * across the loops that wait again after a wake-up with nothing to say.
 */
#ifndef PROTO_DEADLINE_H
#define PROTO_DEADLINE_H

#include <stdbool.h>
#include <time.h>

struct deadline {
	struct timespec at;
	bool never;
};

void deadline_start(struct deadline *d, long ms);
long deadline_left(const struct deadline *d);

#endif
