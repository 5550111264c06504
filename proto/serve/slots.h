/*
 * slots.h - objects named by 56-bit keys that are never reused soon.
 *
 * A key is a slot index plus the slot's generation, bumped each time the
 * slot is emptied, so a key held past its object's life (in a queued epoll
 * event, in a client's fd table, in a provider's late answer) finds nothing
 * instead of a newer object.  Key layout: bits 0-31 are index + 1 (so no
 * key is 0), bits 32-55 the generation.
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

/* Room for more slots (slots.c): 0, or -1 with nothing changed. */
int slots_grow(struct slots *s);
void slots_free(struct slots *s);

/*
 * The three below are inline: every request takes a slot for its record,
 * looks up a few keys (its channel, its description, its record when
 * answered), and gives the slot back.
 */

/* A key for obj, or 0 when there is no room. */
static inline uint64_t
slots_put(struct slots *s, void *obj)
{
	uint32_t i;

	if (s->nfree > 0) {
		i = s->freelist[--s->nfree];
	} else {
		if (s->used == s->cap && slots_grow(s) < 0)
			return 0;
		i = s->used++;
	}
	s->obj[i] = obj;
	return (uint64_t)(s->gen[i] & SLOTS_GEN_MASK) << 32 | (uint64_t)(i + 1);
}

/* The object of key, or NULL. */
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

/* Empty key's slot, if it is key's; its next key will be another. */
static inline void
slots_del(struct slots *s, uint64_t key)
{
	uint32_t i = (uint32_t)key - 1;

	if (slots_get(s, key) == NULL)
		return;
	s->obj[i] = NULL;
	s->gen[i]++;
	s->freelist[s->nfree++] = i;
}

#endif
