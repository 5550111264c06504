/*
 * slots.c - see slots.h: making room, and freeing the table.  The rest,
 * on every request's path, is inline in slots.h.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "slots.h"

int
slots_grow(struct slots *s)
{
	uint32_t ncap = s->cap ? s->cap * 2 : 64;
	void **obj;
	uint32_t *gen, *fl;

	if (ncap < s->cap || ncap > UINT32_MAX - 2)
		return -1;
	obj = reallocarray(s->obj, ncap, sizeof(*obj));
	if (obj == NULL)
		return -1;
	s->obj = obj;
	gen = reallocarray(s->gen, ncap, sizeof(*gen));
	if (gen == NULL)
		return -1;
	s->gen = gen;
	fl = reallocarray(s->freelist, ncap, sizeof(*fl));
	if (fl == NULL)
		return -1;
	s->freelist = fl;
	for (uint32_t i = s->cap; i < ncap; i++) {
		s->obj[i] = NULL;
		s->gen[i] = 0;
	}
	s->cap = ncap;
	return 0;
}

void
slots_free(struct slots *s)
{
	free(s->obj);
	free(s->gen);
	free(s->freelist);
	s->obj = NULL;
	s->gen = s->freelist = NULL;
	s->cap = s->used = s->nfree = 0;
}
