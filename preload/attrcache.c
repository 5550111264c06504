/*
 * attrcache.c - see attrcache.h and scheme.h "Caching".
 *
 * What a provider grants (SYS_FGRANT, asked once per process and scheme
 * instance: client.c sc_grant) says how long a stat's answer may be
 * used again: attr_ms for a struct stat, neg_ms for ENOENT.  Answers are
 * kept in one table per process, shared by its threads, a slot per key
 * (a hash of scheme, path and follow or not: a newer answer replaces an
 * older one in its slot), so its memory is bounded (AC_SLOTS), and
 * allocated at the first answer kept.  Paths of fds (SYS_FPATH, which
 * each *at call on a directory fd asks, resolve.c) are kept the same
 * way by description, in a smaller table.
 *
 * Coherence.  Every answer is kept with what was current when its
 * request was sent: the scheme's change count (proto/serve/gens.c: the
 * serving code moves it, in a page every client maps read-only, around
 * each request of any client that may change a file) and this process's
 * generation (moved likewise around each such request of its own:
 * wire_op_changes(), in client.c and paths.c).  It is used again only
 * while both are unchanged and its deadline is ahead, and it is not kept
 * at all if either moved while it was asked.  So no answer that may
 * predate a change made through the scheme is used once the change is
 * done, whoever made it; the generation also covers a stat one thread
 * makes while another's change is in flight.  What is seen late (at most
 * the time granted) is what the provider changes on its own.
 *
 * Lock: ST_ATTR, a leaf, held only to copy a slot in or out.  A fork's
 * child keeps the table and the generation, which are its own from then
 * on: what it changes moves its generation, not the parent's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scheme/scheme.h>

#include "../proto/wire/wire.h"
#include "attrcache.h"
#include "state.h"

#define AC_SLOTS   4096 /* kept stats: a power of two */
#define AC_PATHS   64	/* kept fd paths */
#define AC_PATHMAX 256
#define AC_GRANTS  8 /* scheme instances whose grant is known */
#define AC_NAMEMAX 65

struct ac_slot {
	uint64_t hash, gen, inst, count;
	int64_t deadline; /* ns, CLOCK_MONOTONIC_COARSE */
	int err;	  /* 0: st holds the answer; else -ENOENT */
	uint16_t len;
	char key[AC_KEYMAX];
	struct stat st;
};

struct ac_path {
	uint64_t inst, key, gen, count;
	int64_t deadline;
	int n;
	char path[AC_PATHMAX];
};

struct ac_grant {
	uint64_t inst; /* 0: free */
	uint32_t attr_ms, neg_ms;
	bool no_dents_stat;	       /* SYS_GETDENTS_STAT said ENOSYS */
	const _Atomic uint64_t *count; /* the scheme's change count */
	char name[AC_NAMEMAX];	       /* the scheme's, once known */
};

static atomic_uint_fast64_t gen = 1;
static struct ac_slot *slots; /* under ST_ATTR */
static struct ac_path paths[AC_PATHS];
static struct ac_grant grants[AC_GRANTS];
static unsigned grant_next;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* FNV-1a over the key's bytes. */
static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

/*
 * "name\0rest[/entry]\0F" (F: follow or not): false when it is too long
 * to keep.
 */
bool
ac_key(struct ac_key *k, const char *name, const char *rest, size_t restlen,
       const char *entry, size_t elen, bool nofollow)
{
	size_t nl = strlen(name), need;

	need = nl + 1 + restlen + (entry != NULL ? 1 + elen : 0) + 2;
	if (need > AC_KEYMAX)
		return false;
	k->len = 0;
	memcpy(k->s, name, nl + 1);
	k->len = nl + 1;
	memcpy(k->s + k->len, rest, restlen);
	k->len += restlen;
	if (entry != NULL) {
		if (restlen > 0)
			k->s[k->len++] = '/';
		memcpy(k->s + k->len, entry, elen);
		k->len += elen;
	}
	k->s[k->len++] = '\0';
	k->s[k->len++] = nofollow ? 'L' : 'F';
	k->hash = hash(k->s, k->len);
	return true;
}

uint64_t
ac_gen(void)
{
	return atomic_load_explicit(&gen, memory_order_acquire);
}

void
ac_drop(void)
{
	atomic_fetch_add_explicit(&gen, 1, memory_order_acq_rel);
}

static struct ac_grant *
grant_of(uint64_t inst)
{
	for (size_t i = 0; i < AC_GRANTS; i++)
		if (grants[i].inst == inst && inst != 0)
			return &grants[i];
	return NULL;
}

bool
ac_granted(uint64_t inst, uint32_t *attr_ms)
{
	struct ac_grant *g;
	bool known;

	st_lock(ST_ATTR);
	g = grant_of(inst);
	known = g != NULL;
	*attr_ms = known ? g->attr_ms : 0;
	st_unlock(ST_ATTR);
	return known;
}

static uint32_t
ms_of(uint64_t v)
{
	return v < SCHEME_GRANT_MAX_MS ? (uint32_t)v : SCHEME_GRANT_MAX_MS;
}

/*
 * The answer to SYS_FGRANT: -errno (nothing granted) or SCHEME_GRANT;
 * count is the scheme's change count, mapped (without it nothing is
 * kept: no other process's change could be seen before the grant runs
 * out).  Returns the count of the instance whose place it took (NULL if
 * none), which nothing reads any more: the caller unmaps it.
 */
const _Atomic uint64_t *
ac_grant_set(uint64_t inst, int64_t answer, const _Atomic uint64_t *count)
{
	const _Atomic uint64_t *old;
	struct ac_grant *g;

	st_lock(ST_ATTR);
	if ((g = grant_of(inst)) == NULL)
		g = &grants[grant_next++ % AC_GRANTS];
	old = g->count;
	*g = (struct ac_grant){.inst = inst};
	if (answer > 0 && count != NULL) {
		g->attr_ms = ms_of((uint32_t)answer);
		g->neg_ms = ms_of((uint64_t)answer >> 32);
		g->count = count;
	}
	st_unlock(ST_ATTR);
	return old != count ? old : NULL;
}

/* The scheme's name, for ac_snap_name(): the latest instance has it. */
void
ac_grant_name(uint64_t inst, const char *name)
{
	struct ac_grant *g;

	st_lock(ST_ATTR);
	if ((g = grant_of(inst)) != NULL && strcmp(g->name, name) != 0) {
		for (size_t i = 0; i < AC_GRANTS; i++)
			if (strcmp(grants[i].name, name) == 0)
				grants[i].name[0] = '\0';
		snprintf(g->name, sizeof(g->name), "%s", name);
	}
	st_unlock(ST_ATTR);
}

bool
ac_lists_stat(uint64_t inst)
{
	struct ac_grant *g;
	bool yes;

	st_lock(ST_ATTR);
	g = grant_of(inst);
	yes = g != NULL && g->attr_ms > 0 && !g->no_dents_stat;
	st_unlock(ST_ATTR);
	return yes;
}

void
ac_lists_stat_none(uint64_t inst)
{
	struct ac_grant *g;

	st_lock(ST_ATTR);
	if ((g = grant_of(inst)) != NULL)
		g->no_dents_stat = true;
	st_unlock(ST_ATTR);
}

/* Whether g's count still says c (under ST_ATTR). */
static bool
unchanged(const struct ac_grant *g, uint64_t c)
{
	return g != NULL && g->count != NULL &&
	       atomic_load_explicit(g->count, memory_order_acquire) == c;
}

static bool
snap(const struct ac_grant *g, struct ac_snap *sn)
{
	if (g == NULL || g->count == NULL || g->attr_ms == 0)
		return false;
	sn->inst = g->inst;
	sn->gen = ac_gen();
	sn->count = atomic_load_explicit(g->count, memory_order_acquire);
	return true;
}

/*
 * What an answer about to be asked will be kept against: false if the
 * scheme (by instance, or by name) grants nothing.
 */
bool
ac_snap_inst(uint64_t inst, struct ac_snap *sn)
{
	bool ok;

	st_lock(ST_ATTR);
	ok = snap(grant_of(inst), sn);
	st_unlock(ST_ATTR);
	return ok;
}

bool
ac_snap_name(const char *name, struct ac_snap *sn)
{
	bool ok = false;

	st_lock(ST_ATTR);
	for (size_t i = 0; i < AC_GRANTS && !ok; i++)
		if (grants[i].inst != 0 && strcmp(grants[i].name, name) == 0)
			ok = snap(&grants[i], sn);
	st_unlock(ST_ATTR);
	return ok;
}

/* 0 (st filled) or -ENOENT when kept and still valid, else AC_MISS. */
int
ac_get(const struct ac_key *k, struct stat *st)
{
	const struct ac_slot *s;
	int r = AC_MISS;

	st_lock(ST_ATTR);
	if (slots != NULL) {
		s = &slots[k->hash & (AC_SLOTS - 1)];
		if (s->hash == k->hash && s->len == k->len &&
		    s->gen == ac_gen() && memcmp(s->key, k->s, k->len) == 0 &&
		    s->deadline - now_ns() > 0 &&
		    unchanged(grant_of(s->inst), s->count)) {
			r = s->err;
			if (r == 0)
				*st = s->st;
		}
	}
	st_unlock(ST_ATTR);
	return r;
}

/*
 * Keep an answer (st, or err -ENOENT) asked after sn was taken, for as
 * long as its provider granted; nothing if anything changed meanwhile.
 */
void
ac_put(const struct ac_key *k, const struct stat *st, int err,
       const struct ac_snap *sn)
{
	struct ac_grant *gr;
	struct ac_slot *s;
	uint32_t ms;

	if (err != 0 && err != -ENOENT)
		return;
	st_lock(ST_ATTR);
	gr = grant_of(sn->inst);
	ms = gr == NULL ? 0 : err == 0 ? gr->attr_ms : gr->neg_ms;
	if (ms > 0 && slots == NULL)
		slots = calloc(AC_SLOTS, sizeof(*slots));
	if (ms > 0 && slots != NULL && sn->gen == ac_gen() &&
	    unchanged(gr, sn->count)) {
		s = &slots[k->hash & (AC_SLOTS - 1)];
		s->hash = k->hash;
		s->gen = sn->gen;
		s->inst = sn->inst;
		s->count = sn->count;
		s->deadline = now_ns() + (int64_t)ms * 1000000;
		s->err = err;
		s->len = (uint16_t)k->len;
		memcpy(s->key, k->s, k->len);
		if (err == 0)
			s->st = *st;
	}
	st_unlock(ST_ATTR);
}

static struct ac_path *
path_slot(uint64_t inst, uint64_t key)
{
	return &paths[(hash((const char *)&key, sizeof(key)) ^ inst) %
		      AC_PATHS];
}

/* An fd's path (its description: inst, key), if kept: bytes in buf. */
bool
ac_fpath_get(uint64_t inst, uint64_t key, char *buf, size_t len, int *n)
{
	const struct ac_path *p;
	bool hit = false;

	st_lock(ST_ATTR);
	p = path_slot(inst, key);
	if (p->inst == inst && p->key == key && p->gen == ac_gen() &&
	    p->deadline - now_ns() > 0 && (size_t)p->n <= len &&
	    unchanged(grant_of(inst), p->count)) {
		memcpy(buf, p->path, (size_t)p->n);
		*n = p->n;
		hit = true;
	}
	st_unlock(ST_ATTR);
	return hit;
}

/*
 * A description's key may be given again to another open (a parked one
 * reused, pool.c): what was kept under it is another file's.
 */
void
ac_fpath_forget(uint64_t inst, uint64_t key)
{
	struct ac_path *p;

	st_lock(ST_ATTR);
	p = path_slot(inst, key);
	if (p->inst == inst && p->key == key)
		p->key = 0;
	st_unlock(ST_ATTR);
}

void
ac_fpath_put(uint64_t key, const char *path, int n, const struct ac_snap *sn)
{
	struct ac_grant *gr;
	struct ac_path *p;

	if (n < 0 || n > AC_PATHMAX || key == 0)
		return;
	st_lock(ST_ATTR);
	gr = grant_of(sn->inst);
	if (gr != NULL && gr->attr_ms > 0 && sn->gen == ac_gen() &&
	    unchanged(gr, sn->count)) {
		p = path_slot(sn->inst, key);
		p->inst = sn->inst;
		p->key = key;
		p->gen = sn->gen;
		p->count = sn->count;
		p->deadline = now_ns() + (int64_t)gr->attr_ms * 1000000;
		p->n = n;
		memcpy(p->path, path, (size_t)n);
	}
	st_unlock(ST_ATTR);
}
