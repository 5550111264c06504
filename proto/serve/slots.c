/*
 * slots.c - see slots.h.  Key layout: bits 0-31 are index + 1 (so no key
 * is 0), bits 32-55 the generation.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "slots.h"

static int
grow(struct slots *s)
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

uint64_t
slots_put(struct slots *s, void *obj)
{
	uint32_t i;

	if (s->nfree > 0) {
		i = s->freelist[--s->nfree];
	} else {
		if (s->used == s->cap && grow(s) < 0)
			return 0;
		i = s->used++;
	}
	s->obj[i] = obj;
	return (uint64_t)(s->gen[i] & SLOTS_GEN_MASK) << 32 | (uint64_t)(i + 1);
}

void
slots_del(struct slots *s, uint64_t key)
{
	uint32_t i = (uint32_t)key - 1;

	if (slots_get(s, key) == NULL)
		return;
	s->obj[i] = NULL;
	s->gen[i]++;
	s->freelist[s->nfree++] = i;
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
