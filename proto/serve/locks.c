/*
 * locks.c - advisory locks as Linux keeps them (see locks.h).
 *
 * Files are a tree by identity; each holds its byte-range locks (POSIX
 * and OFD together, as Linux's flc_posix) and its flock locks in two
 * lists, unsorted: a file has few.  Waiters are one list for the table,
 * in arrival order, each pointing at its file, so that the wait-for walk
 * of deadlock detection finds what an owner waits for in one pass.
 *
 * Reentrancy.  Granting a waiter answers a client, and answering may end
 * a channel, which cancels its waiters here.  So grants are not made
 * while the lists are being walked: a waiter that can go is moved to the
 * table's grant list, and every entry point delivers that list last,
 * taking each entry off before its callback runs.
 *
 * Bounds.  A table holds at most LK_MAX_LOCKS locks and an owner at most
 * LK_MAX_OWNER_FILE on one file (more is ENOLCK, as Linux says when its
 * lock table is full); waiters are bounded by the channels that keep
 * them (one each), which serve caps.  Nothing is changed by a request
 * that fails: the memory a split needs is taken before anything moves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include "locks.h"

#define LK_MAX_LOCKS	  (1u << 18)
#define LK_MAX_OWNER_FILE 4096u
#define LK_DEADLK_LINKS	  10 /* as Linux's MAX_DEADLK_ITERATIONS */

struct lk {
	struct lk_owner o;
	int16_t type;
	int64_t start, end;
	TAILQ_ENTRY(lk) link;
};

TAILQ_HEAD(lk_list, lk);

struct lk_file {
	struct lk_file_id id;
	struct lk_list ranges, flocks;
	unsigned nwait;
	RB_ENTRY(lk_file) link;
};

struct lk_wait {
	struct lk_file *f;
	struct lk_req q;
	void *cookie;
	int res;		 /* on the grant list: the answer */
	struct lk_owner blocker; /* whose lock it waits behind */
	TAILQ_ENTRY(lk_wait) link;
};

static int file_cmp(const struct lk_file *a, const struct lk_file *b);

static int
file_cmp(const struct lk_file *a, const struct lk_file *b)
{
	if (a->id.dev != b->id.dev)
		return a->id.dev < b->id.dev ? -1 : 1;
	return a->id.ino < b->id.ino ? -1 : a->id.ino > b->id.ino;
}

RB_HEAD(lk_files, lk_file);
RB_PROTOTYPE(lk_files, lk_file, link, file_cmp)
RB_GENERATE(lk_files, lk_file, link, file_cmp)

struct lk_tab {
	struct lk_files files;
	TAILQ_HEAD(, lk_wait) waits, granted;
	size_t nlocks;
	void (*grant)(void *ctx, void *cookie, int res);
	void *ctx;
};

struct lk_tab *
lk_new(void (*grant)(void *ctx, void *cookie, int res), void *ctx)
{
	struct lk_tab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	RB_INIT(&t->files);
	TAILQ_INIT(&t->waits);
	TAILQ_INIT(&t->granted);
	t->grant = grant;
	t->ctx = ctx;
	return t;
}

static bool
owner_eq(const struct lk_owner *a, const struct lk_owner *b)
{
	return a->kind == b->kind && a->id == b->id;
}

static bool
overlaps(const struct lk *l, int64_t s, int64_t e)
{
	return l->start <= e && s <= l->end;
}

/* Overlapping or adjacent: same-type ranges of one owner merge. */
static bool
touches(const struct lk *l, int64_t s, int64_t e)
{
	return (e == LK_EOF || l->start <= e + 1) &&
	       (l->end == LK_EOF || s <= l->end + 1);
}

static struct lk_file *
file_get(struct lk_tab *t, const struct lk_file_id *id, bool make)
{
	struct lk_file find = {.id = *id}, *f;

	f = RB_FIND(lk_files, &t->files, &find);
	if (f != NULL || !make)
		return f;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->id = *id;
	TAILQ_INIT(&f->ranges);
	TAILQ_INIT(&f->flocks);
	RB_INSERT(lk_files, &t->files, f);
	return f;
}

/* A file with no lock and no waiter is forgotten. */
static void
file_put(struct lk_tab *t, struct lk_file *f)
{
	if (f == NULL || f->nwait > 0 || !TAILQ_EMPTY(&f->ranges) ||
	    !TAILQ_EMPTY(&f->flocks))
		return;
	RB_REMOVE(lk_files, &t->files, f);
	free(f);
}

static void
lk_drop(struct lk_tab *t, struct lk_list *list, struct lk *l)
{
	TAILQ_REMOVE(list, l, link);
	free(l);
	t->nlocks--;
}

/* The first lock of another owner that q cannot live with. */
static const struct lk *
range_conflict(const struct lk_file *f, const struct lk_req *q)
{
	const struct lk *l;

	TAILQ_FOREACH(l, &f->ranges, link)
	if (!owner_eq(&l->o, &q->o) && overlaps(l, q->start, q->end) &&
	    (l->type == F_WRLCK || q->type == F_WRLCK))
		return l;
	return NULL;
}

/*
 * Set (or, F_UNLCK, clear) q's range for its owner, which conflicts with
 * nobody: what the owner held there is replaced, the parts outside stay
 * (a lock strictly around the range splits in two), and same-type locks
 * that touch the new one merge into it.
 */
static int
range_set(struct lk_tab *t, struct lk_file *f, const struct lk_req *q)
{
	int64_t s = q->start, e = q->end, ns = s, ne = e;
	struct lk *l, *tmp, *nw, *split;
	unsigned mine = 0;

	TAILQ_FOREACH(l, &f->ranges, link)
	mine += owner_eq(&l->o, &q->o);
	if (t->nlocks + 2 > LK_MAX_LOCKS ||
	    (q->type != F_UNLCK && mine >= LK_MAX_OWNER_FILE))
		return -ENOLCK;
	nw = malloc(sizeof(*nw));
	split = malloc(sizeof(*split));
	if (nw == NULL || split == NULL) {
		free(nw);
		free(split);
		return -ENOMEM;
	}
	TAILQ_FOREACH_SAFE(l, &f->ranges, link, tmp)
	{
		if (!owner_eq(&l->o, &q->o))
			continue;
		if (q->type != F_UNLCK && l->type == q->type &&
		    touches(l, s, e)) {
			ns = l->start < ns ? l->start : ns;
			ne = l->end > ne ? l->end : ne;
			lk_drop(t, &f->ranges, l);
		} else if (!overlaps(l, s, e)) {
			continue;
		} else if (l->start < s && l->end > e) {
			*split = *l;
			split->start = e + 1;
			TAILQ_INSERT_AFTER(&f->ranges, l, split, link);
			t->nlocks++;
			split = NULL;
			l->end = s - 1;
		} else if (l->start < s) {
			l->end = s - 1;
		} else if (l->end > e) {
			l->start = e + 1;
		} else {
			lk_drop(t, &f->ranges, l);
		}
	}
	if (q->type != F_UNLCK) {
		nw->o = q->o;
		nw->type = q->type;
		nw->start = ns;
		nw->end = ne;
		TAILQ_INSERT_TAIL(&f->ranges, nw, link);
		t->nlocks++;
		nw = NULL;
	}
	free(nw);
	free(split);
	return 0;
}

/*
 * flock: the owner's old lock goes first (a conversion is not atomic,
 * as flock(2) says), then the new one is taken if nobody else's is in
 * the way.
 */
static int
flock_try(struct lk_tab *t, struct lk_file *f, const struct lk_req *q,
	  struct lk_owner *blocker)
{
	struct lk *l, *nw;

	TAILQ_FOREACH(l, &f->flocks, link)
	if (owner_eq(&l->o, &q->o))
		break;
	if (l != NULL && l->type == q->type)
		return 0;
	if (l != NULL)
		lk_drop(t, &f->flocks, l);
	if (q->type == F_UNLCK)
		return 0;
	TAILQ_FOREACH(l, &f->flocks, link)
	if (l->type == F_WRLCK || q->type == F_WRLCK) {
		*blocker = l->o;
		return -EAGAIN;
	}
	if (t->nlocks + 1 > LK_MAX_LOCKS)
		return -ENOLCK;
	if ((nw = malloc(sizeof(*nw))) == NULL)
		return -ENOMEM;
	nw->o = q->o;
	nw->type = q->type;
	nw->start = 0;
	nw->end = LK_EOF;
	TAILQ_INSERT_TAIL(&f->flocks, nw, link);
	t->nlocks++;
	return 0;
}

/* 0: q holds now; -EAGAIN: blocker's lock is in the way; or -errno. */
static int
try_set(struct lk_tab *t, struct lk_file *f, const struct lk_req *q,
	struct lk_owner *blocker)
{
	const struct lk *c;

	if (q->o.kind == LK_FLOCK)
		return flock_try(t, f, q, blocker);
	if (q->type != F_UNLCK && (c = range_conflict(f, q)) != NULL) {
		*blocker = c->o;
		return -EAGAIN;
	}
	return range_set(t, f, q);
}

/*
 * Would a POSIX owner waiting behind blocker close a circle?  Follow
 * what each POSIX owner in the chain waits for (one waiter each: a
 * process's thread that waits is one of its own).
 */
static bool
deadlock(const struct lk_tab *t, const struct lk_owner *me,
	 struct lk_owner blocker)
{
	const struct lk_wait *w;

	if (me->kind != LK_POSIX)
		return false;
	for (int i = 0; i < LK_DEADLK_LINKS && blocker.kind == LK_POSIX; i++) {
		if (blocker.id == me->id)
			return true;
		TAILQ_FOREACH(w, &t->waits, link)
		if (owner_eq(&w->q.o, &blocker))
			break;
		if (w == NULL)
			return false;
		blocker = w->blocker;
	}
	return false;
}

/* The file's locks shrank: its waiters that can go now move to grants. */
static void
retry(struct lk_tab *t, struct lk_file *f)
{
	struct lk_wait *w, *tmp;
	int r;

	if (f->nwait == 0)
		return;
	TAILQ_FOREACH_SAFE(w, &t->waits, link, tmp)
	{
		if (w->f != f)
			continue;
		if ((r = try_set(t, f, &w->q, &w->blocker)) == -EAGAIN)
			continue;
		TAILQ_REMOVE(&t->waits, w, link);
		f->nwait--;
		w->res = r;
		w->f = NULL;
		TAILQ_INSERT_TAIL(&t->granted, w, link);
	}
}

/* Answer the grants made; a callback may call in again. */
static void
deliver(struct lk_tab *t)
{
	struct lk_wait *w;

	while ((w = TAILQ_FIRST(&t->granted)) != NULL) {
		TAILQ_REMOVE(&t->granted, w, link);
		t->grant(t->ctx, w->cookie, w->res);
		free(w);
	}
}

static int
check(const struct lk_req *q)
{
	if (q->o.kind < LK_POSIX || q->o.kind > LK_FLOCK || q->op < LK_GET ||
	    q->op > LK_SETW || q->start < 0 || q->end < q->start ||
	    (q->type != F_RDLCK && q->type != F_WRLCK && q->type != F_UNLCK) ||
	    (q->op == LK_GET && (q->type == F_UNLCK || q->o.kind == LK_FLOCK)))
		return -EINVAL;
	return 0;
}

static void
found_set(struct lk_found *found, const struct lk *c)
{
	found->type = F_UNLCK;
	if (c == NULL)
		return;
	found->type = c->type;
	found->start = c->start;
	found->end = c->end;
	found->pid = c->o.kind == LK_POSIX ? (int32_t)c->o.pid : -1;
	found->o = c->o;
}

/* The lock of blocker's that q met (for the caller's liveness check). */
static const struct lk *
blocker_lock(const struct lk_file *f, const struct lk_req *q,
	     const struct lk_owner *blocker)
{
	const struct lk_list *list =
	    q->o.kind == LK_FLOCK ? &f->flocks : &f->ranges;
	const struct lk *l;

	TAILQ_FOREACH(l, list, link)
	if (owner_eq(&l->o, blocker))
		return l;
	return NULL;
}

static int
wait_for(struct lk_tab *t, struct lk_file *f, const struct lk_req *q,
	 void *cookie, const struct lk_owner *blocker)
{
	struct lk_wait *w;

	if (deadlock(t, &q->o, *blocker))
		return -EDEADLK;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->f = f;
	w->q = *q;
	w->cookie = cookie;
	w->blocker = *blocker;
	f->nwait++;
	TAILQ_INSERT_TAIL(&t->waits, w, link);
	return LK_WAITING;
}

/*
 * One request on file id: 0 (F_GETLK's answer in *found), LK_WAITING
 * (kept with cookie: the grant callback answers it), or -errno.
 */
int
lk_do(struct lk_tab *t, const struct lk_file_id *id, const struct lk_req *q,
      void *cookie, struct lk_found *found)
{
	struct lk_owner blocker = {0};
	struct lk_file *f;
	int r;

	if ((r = check(q)) < 0)
		return r;
	f = file_get(t, id, q->op != LK_GET && q->type != F_UNLCK);
	if (q->op == LK_GET) {
		found_set(found, f != NULL ? range_conflict(f, q) : NULL);
		return 0;
	}
	if (f == NULL)
		return q->type == F_UNLCK ? 0 : -ENOMEM;
	r = try_set(t, f, q, &blocker);
	if (r == -EAGAIN)
		found_set(found, blocker_lock(f, q, &blocker));
	if (r == -EAGAIN && q->op == LK_SETW)
		r = wait_for(t, f, q, cookie, &blocker);
	retry(t, f); /* an unlock, a downgrade, a flock conversion */
	file_put(t, f);
	deliver(t);
	return r;
}

static void
drop_owner(struct lk_tab *t, struct lk_file *f, uint8_t kind, uint64_t id)
{
	struct lk_owner o = {.kind = kind, .id = id};
	struct lk_list *list = kind == LK_FLOCK ? &f->flocks : &f->ranges;
	struct lk *l, *tmp;

	TAILQ_FOREACH_SAFE(l, list, link, tmp)
	if (owner_eq(&l->o, &o))
		lk_drop(t, list, l);
	retry(t, f);
	file_put(t, f);
}

/* Every lock of one owner on one file goes (a close, a description's end). */
void
lk_release(struct lk_tab *t, const struct lk_file_id *id, uint8_t kind,
	   uint64_t oid)
{
	struct lk_file *f = file_get(t, id, false);

	if (f != NULL)
		drop_owner(t, f, kind, oid);
	deliver(t);
}

/* Every lock of one owner, on every file (a process's end). */
void
lk_release_all(struct lk_tab *t, uint8_t kind, uint64_t oid)
{
	struct lk_file *f, *tmp;

	RB_FOREACH_SAFE(f, lk_files, &t->files, tmp)
	drop_owner(t, f, kind, oid);
	deliver(t);
}

bool
lk_holds(struct lk_tab *t, uint8_t kind, uint64_t oid)
{
	struct lk_owner o = {.kind = kind, .id = oid};
	struct lk_file *f;
	const struct lk *l;

	RB_FOREACH(f, lk_files, &t->files)
	{
		const struct lk_list *list =
		    kind == LK_FLOCK ? &f->flocks : &f->ranges;

		TAILQ_FOREACH(l, list, link)
		if (owner_eq(&l->o, &o))
			return true;
	}
	return false;
}

/* Waiters whose cookie matches go unanswered; drop lets go of each. */
void
lk_cancel(struct lk_tab *t, bool (*match)(void *cookie, void *arg), void *arg,
	  void (*drop)(void *cookie))
{
	struct lk_wait *w, *tmp;

	TAILQ_FOREACH_SAFE(w, &t->waits, link, tmp)
	{
		if (!match(w->cookie, arg))
			continue;
		TAILQ_REMOVE(&t->waits, w, link);
		w->f->nwait--;
		file_put(t, w->f);
		drop(w->cookie);
		free(w);
	}
	deliver(t);
}

size_t
lk_count(const struct lk_tab *t)
{
	return t->nlocks;
}

void
lk_free(struct lk_tab *t)
{
	struct lk_file *f, *tmp;
	struct lk_wait *w;
	struct lk *l;

	if (t == NULL)
		return;
	while ((w = TAILQ_FIRST(&t->waits)) != NULL) {
		TAILQ_REMOVE(&t->waits, w, link);
		free(w);
	}
	while ((w = TAILQ_FIRST(&t->granted)) != NULL) {
		TAILQ_REMOVE(&t->granted, w, link);
		free(w);
	}
	RB_FOREACH_SAFE(f, lk_files, &t->files, tmp)
	{
		while ((l = TAILQ_FIRST(&f->ranges)) != NULL)
			lk_drop(t, &f->ranges, l);
		while ((l = TAILQ_FIRST(&f->flocks)) != NULL)
			lk_drop(t, &f->flocks, l);
		RB_REMOVE(lk_files, &t->files, f);
		free(f);
	}
	free(t);
}
