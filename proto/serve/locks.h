/*
 * locks.h - advisory file locks as Linux keeps them, for the files of one
 * scheme: POSIX record locks (fcntl F_SETLK, F_SETLKW, F_GETLK; lockf),
 * open file description locks (F_OFD_*) and flock(2) locks.
 *
 * A leaf: it knows files by an identity the caller gives (the provider's
 * st_dev and st_ino) and owners by number, and nothing of channels or
 * descriptions.  A request that must wait is kept with the caller's
 * cookie; when it can be granted, or is given up, the table says so
 * through the callbacks it was made with.
 *
 * Linux's rules, kept here:
 *
 *  - POSIX and OFD locks are byte ranges in one list per file and
 *    conflict with each other when their owners differ (a POSIX lock's
 *    owner is the process, an OFD lock's the open file description).
 *    Setting a range replaces what the owner held there, splitting and
 *    merging as needed; F_UNLCK of a range that holds nothing is no
 *    error.  flock locks are whole-file, owned by the description, and
 *    never meet the others.
 *  - A conflicting request fails with EAGAIN, or waits (F_SETLKW,
 *    flock without LOCK_NB).  Waiters are retried in arrival order
 *    whenever the file's locks shrink.  A POSIX waiter that would close
 *    a circle of POSIX owners each waiting for the next fails with
 *    EDEADLK instead (Linux follows at most 10 links; so do we).
 *  - Converting a flock lock is not atomic: the old lock goes first, as
 *    flock(2) says.
 */
#ifndef PROTO_SERVE_LOCKS_H
#define PROTO_SERVE_LOCKS_H

#include <stdbool.h>
#include <stdint.h>

/* Who owns a lock: a process (POSIX) or a description (OFD, flock). */
enum lk_kind { LK_POSIX = 1, LK_OFD, LK_FLOCK };

struct lk_owner {
	uint8_t kind; /* enum lk_kind */
	uint64_t id;  /* the pid, or the description's key */
	uint32_t pid; /* the process that asked (F_GETLK's l_pid) */
};

/* A file, as its provider names it. */
struct lk_file_id {
	uint64_t dev, ino;
};

#define LK_EOF INT64_MAX /* a range's end that is the end of any file */

/* One request: whence already resolved, end inclusive (LK_EOF: to the
 * end, whatever it grows to). */
enum lk_op { LK_GET = 1, LK_SET, LK_SETW };
struct lk_req {
	uint8_t op;   /* enum lk_op */
	int16_t type; /* F_RDLCK, F_WRLCK, F_UNLCK */
	int64_t start, end;
	struct lk_owner o;
};

/*
 * What F_GETLK finds: a conflicting lock, or type F_UNLCK.  A request
 * refused (EAGAIN) or kept (LK_WAITING) says the same of the lock in its
 * way, so that the caller may check its owner still lives.
 */
struct lk_found {
	int16_t type;
	int64_t start, end;
	int32_t pid; /* the holder's; -1 for an OFD or flock lock */
	struct lk_owner o;
};

#define LK_WAITING 1 /* lk_do: kept; the grant callback will answer */

struct lk_tab;

/*
 * grant(ctx, cookie, res): a kept request is answered (0: granted; or
 * -errno).  Called after the table has settled, never with a waiter
 * half-made; it may call back into the table.
 */
struct lk_tab *lk_new(void (*grant)(void *ctx, void *cookie, int res),
		      void *ctx);
void lk_free(struct lk_tab *t);
int lk_do(struct lk_tab *t, const struct lk_file_id *f, const struct lk_req *q,
	  void *cookie, struct lk_found *found);
void lk_release(struct lk_tab *t, const struct lk_file_id *f, uint8_t kind,
		uint64_t id);
void lk_release_all(struct lk_tab *t, uint8_t kind, uint64_t id);
bool lk_holds(struct lk_tab *t, uint8_t kind, uint64_t id);
void lk_cancel(struct lk_tab *t, bool (*match)(void *cookie, void *arg),
	       void *arg, void (*drop)(void *cookie));
size_t lk_count(const struct lk_tab *t);

#endif
