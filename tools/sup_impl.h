/*
 * sup_impl.h - what the supervisor's files share (see sup.h).
 *
 *	sup_filter.c	the BPF program, from the table's call numbers
 *	sup_serve.c	the listener loop: one notification at a time, the
 *			program's memory and ids, the answers
 *	sup_calls.c	the table: for each call, where its paths are and
 *			how it is made on the view
 */
#ifndef TOOLS_SUP_IMPL_H
#define TOOLS_SUP_IMPL_H

#include <limits.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SUP_NCALLS_MAX 64

/* One notification being served. */
struct sup_req {
	const struct seccomp_notif *n;
	int listener;
	int mem;		/* /proc/TID/mem of the caller */
	const char *view;	/* the mount point */
	const char *prog;	/* for messages */
	char path[2][PATH_MAX]; /* the view's paths of its paths */
	char asked[PATH_MAX];	/* its first path, as it gave it */
	mode_t umask;		/* the caller's */
};

/* How a served call is answered. */
struct sup_answer {
	int64_t val;  /* >= 0 a value, < 0 -errno */
	int fd;	      /* >= 0: place this fd in the caller */
	bool cloexec; /* ... close-on-exec */
};

struct sup_call {
	long nr;
	const char *name;
	signed char path, path2; /* argument index of each path, -1: none */
	void (*serve)(struct sup_req *, struct sup_answer *);
};

size_t sup_ncalls(void);
long sup_call_nr(size_t i);
const struct sup_call *sup_call_find(long nr);

/* The caller's memory, through its /proc/TID/mem (0 or -errno). */
int sup_peek(struct sup_req *rq, uint64_t addr, void *buf, size_t len);
/* A string of at most len bytes with its NUL: 0, -EFAULT, -ENAMETOOLONG. */
int sup_peek_string(struct sup_req *rq, uint64_t addr, char *buf, size_t len);
int sup_poke(struct sup_req *rq, uint64_t addr, const void *buf, size_t len);

/* One line on stderr, "prog: pid N: ...". */
void sup_say(const struct sup_req *rq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
