/*
 * slots.h - objects named by 56-bit keys that are never reused soon.
 *
 * A key is a slot index plus the slot's generation, bumped each time the
 * slot is emptied, so a key held past its object's life (in a queued epoll
 * event, in a client's fd table, in a provider's late answer) finds nothing
 * instead of a newer object.
 */
#ifndef PROTO_SLOTS_H
#define PROTO_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#define SLOTS_KEY_BITS 56

struct slots {
	void **obj;
	uint32_t *gen;
	uint32_t *freelist;
	uint32_t nfree, cap, used;
};

#define SLOTS_GEN_MASK ((1u << (SLOTS_KEY_BITS - 32)) - 1)

uint64_t slots_put(struct slots *s, void *obj);

/*
 * The object of key, or NULL.  Inline: every request looks up a few (its
 * channel, its description, its record when answered).
 */
static inline void *
slots_get(const struct slots *s, uint64_t key)
{
	uint32_t i = (uint32_t)key - 1;

	if ((uint32_t)key == 0 || i >= s->used || key >> SLOTS_KEY_BITS)
		return NULL;
	if ((uint32_t)(key >> 32) != (s->gen[i] & SLOTS_GEN_MASK))
		return NULL;
	return s->obj[i];
}

void slots_del(struct slots *s, uint64_t key);
void slots_free(struct slots *s);

#endif
