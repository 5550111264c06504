/*
 * state.h - the preload's locks, and what a fork does with them.
 *
 * Every lock of the preload is one of these, taken with st_lock() and
 * given back with st_unlock().  They are listed in the one order they may
 * be taken: a thread holding one takes only later ones.  No lock is held
 * across a request to a provider, a flush of a stream or any other wait
 * on another process, but the two marked "across calls" (ST_NS, ST_BCONN),
 * which only a fork's child may find held: it resets them.
 *
 * Fork.  The prepare handler takes every other lock in order, so the
 * child finds every structure whole; then each lock is made anew in the
 * child (held by the forking thread or by nobody, it is free), and the
 * hooks modules registered with st_on_fork() run, in registration order,
 * to drop what is the parent's (its broker connection, its channels, its
 * parked files).  _Fork() runs no handlers: its child gets the same
 * reset, without the guarantee that no structure was half changed.
 */
#ifndef PRELOAD_STATE_H
#define PRELOAD_STATE_H

enum st_lock {
	ST_NS,	       /* setrens: across broker calls (ns.c) */
	ST_BCONN,      /* the broker connection: across calls (bconn.c) */
	ST_BCONN_PATH, /* where the broker is (bconn.c) */
	ST_SPAWN,      /* posix_spawn's scheme opens (wrap_proc.c) */
	ST_STDIO,      /* the std streams swapped (stdio.c) */
	ST_STDIO_OURS, /* our cookie streams (stdio.c) */
	ST_CWD,	       /* a scheme working directory (resolve.c) */
	ST_POOL,       /* parked files (pool.c) */
	ST_PROVIDERS,  /* the schemes this process provides (provider.c) */
	ST_CHANS,      /* every channel of the process (chan.c) */
	ST_FDTAB,      /* the fd table's writers (fdtab.c) */
	ST_ATTR,       /* kept stats and fd paths (attrcache.c) */
	ST_NLOCKS
};

void st_lock(enum st_lock l);
void st_unlock(enum st_lock l);

/*
 * Run at a fork, with the locks up to and including `at` taken: prepare
 * and parent (may be NULL) for locks a module keeps per object, child
 * for what the child must drop.
 */
struct st_fork_hook {
	enum st_lock at;
	void (*prepare)(void);
	void (*parent)(void);
	void (*child)(void);
};

void st_on_fork(const struct st_fork_hook *h);
void st_init(void);
void st_fork_child(void);

#endif
