/*
 * time.c - the time: scheme, as Redox's (src/scheme/time.rs).
 *
 *	time:1		CLOCK_REALTIME		(others: ENOENT)
 *	time:4		CLOCK_MONOTONIC
 *
 * Reading gives one struct scheme_timespec per 16 bytes: the current time.
 * Writing gives absolute deadlines, any number at once; each fires one
 * EVENT_READ post when reached, earliest first; one already past fires at
 * once.  SYS_FEVENT says EVENT_READ while a deadline has fired since the
 * last read (Redox says nothing until the post; saying it keeps
 * level-triggered pollers correct, and edge consumers see no difference).
 *
 * One timerfd per clock (TFD_TIMER_ABSTIME) is armed for the earliest
 * deadline of all open files, kept in a heap: no polling loop, and no
 * epoll source per open file.  A deadline of a file closed since is
 * recognised by its slot key and dropped; when such orphans are half the
 * heap, it is compacted, so open-write-close loops cannot grow it.
 *
 * Bounded: an open file has at most MAX_PER_FILE deadlines waiting, and
 * all files together MAX_TOTAL.  A write past either takes what fits and
 * returns that count, or ENOSPC when nothing fits, logged at most once a
 * minute.  Not EAGAIN: from a provider it makes a blocking client (the
 * preload) wait for a post on this file and ask again, and when the room
 * is held by other files' deadlines no post may ever come; Redox's time:
 * never blocks a writer.  ENOSPC is write(2)'s "no room for the data",
 * with a short count first, as write(2) gives it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../proto/serve/slots.h"
#include "broker.h"
#include "log.h"

#define CLOCK_ID_REALTIME  1 /* Redox's numbers */
#define CLOCK_ID_MONOTONIC 4
#define MAX_PER_FILE	   4096	     /* deadlines waiting, per open file */
#define MAX_TOTAL	   (1 << 18) /* in all: 6 MiB of heap at most */
#define WARN_EVERY	   60	     /* seconds between lines of one kind */

struct timefile {
	int clock;	  /* index in clocks[] */
	uint64_t fired;	  /* deadlines reached since the last read */
	uint32_t waiting; /* its deadlines in the heap */
};

struct deadline_ent {
	struct timespec at;
	uint64_t key; /* the open file's slot */
};

struct tclock {
	struct src src; /* SRC_TIMER: the timerfd */
	clockid_t id;
	int redox_id;
	struct deadline_ent *heap;
	size_t n, cap;
	size_t orphans; /* deadlines of files closed since */
};

static struct slots files;
static struct tclock clocks[2] = {
    {.id = CLOCK_REALTIME, .redox_id = CLOCK_ID_REALTIME},
    {.id = CLOCK_MONOTONIC, .redox_id = CLOCK_ID_MONOTONIC},
};

static int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

static void
heap_swap(struct tclock *c, size_t i, size_t j)
{
	struct deadline_ent t = c->heap[i];

	c->heap[i] = c->heap[j];
	c->heap[j] = t;
}

static int
heap_push(struct tclock *c, const struct timespec *at, uint64_t key)
{
	size_t i;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct deadline_ent *h =
		    reallocarray(c->heap, ncap, sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		c->heap = h;
		c->cap = ncap;
	}
	i = c->n++;
	c->heap[i] = (struct deadline_ent){*at, key};
	while (i > 0 && ts_cmp(&c->heap[i].at, &c->heap[(i - 1) / 2].at) < 0) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

static void
sift_down(struct tclock *c, size_t i)
{
	size_t l;

	for (;;) {
		size_t m = i;

		l = 2 * i + 1;
		if (l < c->n && ts_cmp(&c->heap[l].at, &c->heap[m].at) < 0)
			m = l;
		if (l + 1 < c->n &&
		    ts_cmp(&c->heap[l + 1].at, &c->heap[m].at) < 0)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(c, i, m);
		i = m;
	}
}

static void
heap_pop(struct tclock *c)
{
	c->heap[0] = c->heap[--c->n];
	sift_down(c, 0);
}

/* Drop the deadlines of closed files, and memory the heap no longer needs. */
static void
heap_compact(struct tclock *c)
{
	struct deadline_ent *h;
	size_t i, j = 0;

	for (i = 0; i < c->n; i++)
		if (slots_get(&files, c->heap[i].key) != NULL)
			c->heap[j++] = c->heap[i];
	c->n = j;
	c->orphans = 0;
	for (i = c->n / 2; i-- > 0;)
		sift_down(c, i);
	if (c->cap > 64 && c->n < c->cap / 4 &&
	    (h = reallocarray(c->heap, c->cap / 2, sizeof(*h))) != NULL) {
		c->heap = h;
		c->cap /= 2;
	}
}

/* The timerfd follows the earliest deadline (or is disarmed). */
static void
arm(struct tclock *c)
{
	struct itimerspec it = {{0, 0}, {0, 0}};

	if (c->n > 0) {
		it.it_value = c->heap[0].at;
		if (it.it_value.tv_sec == 0 && it.it_value.tv_nsec == 0)
			it.it_value.tv_nsec = 1; /* 0 would disarm */
	}
	if (timerfd_settime(c->src.fd, TFD_TIMER_ABSTIME, &it, NULL) < 0)
		log_warnx("time: timerfd_settime: %s", strerror(errno));
}

/* Every deadline now reached: one post each for its open file. */
static void
expire(struct broker *b, struct tclock *c)
{
	struct timespec now;
	struct timefile *f;
	uint64_t key;

	clock_gettime(c->id, &now);
	while (c->n > 0 && ts_cmp(&c->heap[0].at, &now) <= 0) {
		key = c->heap[0].key;
		heap_pop(c);
		if ((f = slots_get(&files, key)) != NULL) {
			f->waiting--;
			f->fired++;
			builtin_post(&b->time, key, EVENT_READ);
		} else if (c->orphans > 0) {
			c->orphans--;
		}
	}
	arm(c);
}

void
time_fire(struct broker *b, struct src *src)
{
	struct tclock *c = (struct tclock *)src;
	uint64_t n;

	if (read(c->src.fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warnx("time: timerfd read: %s", strerror(errno));
	expire(b, c);
}

static int64_t
time_open(const struct scheme_packet *p)
{
	const char *path = (const char *)(uintptr_t)p->b;
	struct timefile *f;
	char *end;
	long id;
	int c;

	errno = 0;
	id = strtol(path, &end, 10);
	if (p->c == 0 || *end != '\0' || errno != 0)
		return -ENOENT;
	if (id == CLOCK_ID_REALTIME)
		c = 0;
	else if (id == CLOCK_ID_MONOTONIC)
		c = 1;
	else
		return -ENOENT;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->clock = c;
	uint64_t key = slots_put(&files, f);
	if (key == 0) {
		free(f);
		return -ENOMEM;
	}
	return (int64_t)key;
}

static int64_t
time_read(struct timefile *f, const struct scheme_packet *p)
{
	struct scheme_timespec *out = (struct scheme_timespec *)(uintptr_t)p->c;
	size_t i, n = p->d / sizeof(*out);
	struct timespec now;

	memset(out, 0, n * sizeof(*out)); /* the padding too */
	for (i = 0; i < n; i++) {
		clock_gettime(clocks[f->clock].id, &now);
		out[i].tv_sec = now.tv_sec;
		out[i].tv_nsec = (int32_t)now.tv_nsec;
	}
	f->fired = 0;
	return (int64_t)(n * sizeof(*out));
}

/* A refusal for lack of room, said at most once a minute per kind. */
static int
full(int kind, uint64_t pid)
{
	static time_t last[2];
	static uint64_t quiet[2];
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last[kind] != 0 && now.tv_sec - last[kind] < WARN_EVERY) {
		quiet[kind]++;
		return -ENOSPC;
	}
	last[kind] = now.tv_sec ? now.tv_sec : 1;
	log_warnx("time: pid %llu hit the cap on deadlines waiting %s (%d): "
		  "ENOSPC; %llu other refusals since the last line",
		  (unsigned long long)pid, kind ? "in all" : "on one file",
		  kind ? MAX_TOTAL : MAX_PER_FILE,
		  (unsigned long long)quiet[kind]);
	quiet[kind] = 0;
	return -ENOSPC;
}

/* Room for one more deadline of f, compacting first if that makes it. */
static int
room(const struct timefile *f, uint64_t pid)
{
	if (f->waiting >= MAX_PER_FILE)
		return full(0, pid);
	if (clocks[0].n + clocks[1].n < MAX_TOTAL)
		return 0;
	for (int i = 0; i < 2; i++)
		if (clocks[i].orphans > 0)
			heap_compact(&clocks[i]);
	return clocks[0].n + clocks[1].n < MAX_TOTAL ? 0 : full(1, pid);
}

/* One deadline from the client's bytes: 0, or -errno. */
static int
push_one(struct timefile *f, uint64_t key, const char *in, uint64_t pid)
{
	struct scheme_timespec t;
	struct timespec at;
	int r;

	memcpy(&t, in, sizeof(t));
	if (t.tv_nsec < 0 || t.tv_nsec >= 1000000000 || t.tv_sec < 0)
		return -EINVAL;
	if ((r = room(f, pid)) < 0)
		return r;
	at.tv_sec = t.tv_sec;
	at.tv_nsec = t.tv_nsec;
	if ((r = heap_push(&clocks[f->clock], &at, key)) < 0)
		return r;
	f->waiting++;
	return 0;
}

/*
 * Deadlines, as many as the bytes hold: the count taken (short at the
 * first that is bad or does not fit), or that one's error if none was.
 */
static int64_t
time_write(struct broker *b, struct timefile *f, uint64_t key,
	   const struct scheme_packet *p)
{
	const char *in = (const char *)(uintptr_t)p->c;
	size_t i, sz = sizeof(struct scheme_timespec), n = p->d / sz;
	int r = 0;

	for (i = 0; i < n; i++)
		if ((r = push_one(f, key, in + i * sz, p->pid)) < 0)
			break;
	expire(b, &clocks[f->clock]); /* fires what is past; arms the rest */
	if (i == 0 && r < 0)
		return r;
	return (int64_t)(i * sz);
}

static int64_t
time_op(struct broker *b, struct timefile *f, uint64_t key,
	const struct scheme_packet *p)
{
	struct stat *st;
	int n;

	switch (p->a) {
	case SYS_READ:
		return time_read(f, p);
	case SYS_WRITE:
		return time_write(b, f, key, p);
	case SYS_FEVENT:
		return f->fired ? EVENT_READ : 0;
	case SYS_FCNTL:
	case SYS_FSYNC:
		return 0;
	case SYS_FPATH:
		n = snprintf((char *)(uintptr_t)p->c, p->d, "time:%d",
			     clocks[f->clock].redox_id);
		return n < (int)p->d ? n : (int64_t)p->d;
	case SYS_FSTAT:
		st = (struct stat *)(uintptr_t)p->c;
		st->st_mode = S_IFCHR | 0666;
		return 0;
	default:
		return -ENOSYS;
	}
}

/* Its deadlines go when they come up, or when orphans are half the heap. */
static void
time_close(struct timefile *f, uint64_t key)
{
	struct tclock *c = &clocks[f->clock];

	c->orphans += f->waiting;
	slots_del(&files, key);
	free(f);
	if (c->n >= 64 && c->orphans > c->n / 2) {
		heap_compact(c);
		arm(c); /* the earliest may have been an orphan */
	}
}

static int64_t
time_handle(struct broker *b, struct builtin *bi, const struct scheme_packet *p)
{
	struct timefile *f;

	if (p->a == SYS_OPEN)
		return time_open(p);
	if ((f = slots_get(&files, p->b)) == NULL)
		return -EBADF;
	if (p->a == SYS_CLOSE) {
		time_close(f, p->b);
		return 0;
	}
	return time_op(b, f, p->b, p);
}

int
time_init(struct broker *b)
{
	int i, r;

	for (i = 0; i < 2; i++) {
		clocks[i].src.kind = SRC_TIMER;
		clocks[i].src.fd =
		    timerfd_create(clocks[i].id, TFD_NONBLOCK | TFD_CLOEXEC);
		if (clocks[i].src.fd < 0)
			return -errno;
		if ((r = broker_watch(b, &clocks[i].src)) < 0)
			return r;
	}
	b->time.handle = time_handle;
	return builtin_start(b, &b->time, "time", INST_TIME);
}

void
time_free(struct broker *b)
{
	uint32_t i;

	builtin_stop(&b->time);
	for (i = 0; i < 2; i++) {
		close(clocks[i].src.fd);
		free(clocks[i].heap);
	}
	for (i = 0; i < files.used; i++)
		free(files.obj[i]);
	slots_free(&files);
}
