/*
 * lock.c - fcntl record locks (F_SETLK, F_SETLKW, F_GETLK), open file
 * description locks (F_OFD_*) and flock on scheme files.
 *
 * The kernel cannot see that two scheme fds are one file (each is a socket
 * of its own), so the locks are kept where every open of the file meets:
 * in the serving code of its scheme (proto/serve/locks.c), by the file's
 * identity.  Here a call becomes WIRE_OP_LOCK with the range made
 * absolute (whence resolved against the offset or the size, as the kernel
 * does), and the answer becomes the program's.  Who owns the lock is for
 * the serving code to say: the process the kernel vouches for (POSIX), or
 * the description (OFD, flock).
 *
 * Waiting.  A request that must wait (F_SETLKW, flock without LOCK_NB) is
 * first asked without waiting: most find the file free, and that answer
 * also attaches this thread's channel to the description.  If it must
 * wait, it waits in the serving code, on our channel, kept there; a
 * signal ends our wait (EINTR; with SA_RESTART the kernel restarts the
 * receive, as it restarts fcntl), and the wait is then withdrawn
 * (WIRE_OP_CANCEL).  A grant that crossed the withdrawal is kept: the
 * lock was taken before the signal won, and the call succeeds.  The
 * serving code finds deadlocks (EDEADLK) among waiters it holds.
 *
 * Closing.  Any close of an fd of a file ends its process's POSIX locks
 * on it, whichever description the fd is (fcntl(2)).  Only the process
 * knows it closed an fd, so a process that has taken a POSIX lock tells
 * the serving code before each close of a scheme fd (WIRE_LK_CLOSE); one
 * that never took one, or a forked child (its parent's locks are not
 * its), pays nothing.  The end of the process and the end of a
 * description are seen where the locks are kept.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/file.h>

#include "../proto/wire/wire.h"
#include "chan.h"
#include "client.h"
#include "creds.h"
#include "lock.h"
#include "uaccess.h"

/* The pid of this process once it has taken a POSIX lock; else 0. */
static _Atomic uint32_t posix_pid;

static uint32_t
my_pid(void)
{
	struct wire_creds cr;

	creds_get(&cr);
	return cr.pid;
}

/* One request answered at once; a GET's answer is copied into *wl. */
static int
lock_call(int fd, struct sfd *e, struct wire_lock *wl)
{
	struct wire_lock ans;
	struct iovec in = {wl, sizeof(*wl)}, out = {&ans, sizeof(ans)};
	struct wire_req req;
	struct wire_rep rep;
	bool get = wl->cmd == WIRE_LK_GET;
	int r;

	wire_req_init(&req, WIRE_OP_LOCK, e->key);
	r = sc_call(fd, e, &req, &in, 1, get ? &out : NULL, get, &rep, -1,
		    NULL);
	if (r < 0)
		return r;
	if ((int64_t)rep.result < 0)
		return (int)(int64_t)rep.result;
	if (get && rep.len != sizeof(ans))
		return -EIO;
	if (get)
		*wl = ans;
	return 0;
}

/*
 * The wait itself, kept in the serving code on this thread's channel
 * (attached by the attempt before).  -ENOTCONN: no usable channel, try
 * again from the start.
 */
static int
wait_on(struct sfd *e, const struct wire_lock *wl)
{
	struct iovec in = {(void *)wl, sizeof(*wl)};
	struct chan *ch = chan_idle(e->broker, e->inst);
	struct wire_req req, can;
	struct wire_rep rep;
	int64_t res = -EINTR;
	bool withdrawn = false;
	ssize_t n;

	if (ch == NULL)
		return -ENOTCONN;
	wire_req_init(&req, WIRE_OP_LOCK, e->key);
	if (chan_send(ch, &req, &in, 1, -1) < 0)
		return -ENOTCONN;
	for (;;) {
		n = chan_recv(ch, &rep, NULL, 0, NULL, MSG_CMSG_CLOEXEC);
		if (n == -EINTR && !withdrawn) {
			wire_req_init(&can, WIRE_OP_CANCEL, 0);
			if (chan_send(ch, &can, NULL, 0, -1) < 0)
				return -EINTR; /* gone, and the wait with it */
			withdrawn = true;
			continue;
		}
		if (n == -EINTR)
			continue; /* finish the exchange: the channel stays clean */
		if (n < 0) {
			chan_drop(ch);
			return -EIO;
		}
		if (rep.seq == req.seq && rep.status == WIRE_NOTATTACHED &&
		    !withdrawn) {
			chan_release(ch);
			return -ENOTCONN;
		}
		if (rep.seq == req.seq)
			res = (int64_t)rep.result;
		if ((rep.seq == req.seq && !withdrawn) ||
		    (withdrawn && rep.seq == can.seq))
			break;
	}
	chan_release(ch);
	return (int)res;
}

static int
lock_wait(int fd, struct sfd *e, struct wire_lock *wl)
{
	int r;

	for (int tries = 0; tries < 4; tries++) {
		wl->cmd = WIRE_LK_SET;
		if ((r = lock_call(fd, e, wl)) != -EAGAIN)
			return r;
		wl->cmd = WIRE_LK_SETW;
		if ((r = wait_on(e, wl)) != -ENOTCONN)
			return r;
	}
	return -EIO;
}

/* The range of fl made absolute, as the kernel's flock_to_posix_lock. */
static int
lock_range(int fd, struct sfd *e, const struct flock *fl, struct wire_lock *wl)
{
	int64_t base = 0, start;
	struct stat st;
	int r;

	if (fl->l_whence == SEEK_CUR) {
		if ((base = sc_lseek(fd, e, 0, SEEK_CUR)) < 0)
			return (int)base;
	} else if (fl->l_whence == SEEK_END) {
		if ((r = sc_fstat(fd, e, &st)) < 0)
			return r;
		base = st.st_size;
	} else if (fl->l_whence != SEEK_SET) {
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, (int64_t)fl->l_start, &start))
		return -EOVERFLOW;
	if (start < 0)
		return -EINVAL;
	wl->start = start;
	wl->end = WIRE_LK_EOF;
	if (fl->l_len > 0) {
		if (fl->l_len - 1 > WIRE_LK_EOF - start)
			return -EOVERFLOW;
		wl->end = start + (fl->l_len - 1);
	} else if (fl->l_len < 0) {
		if (start + fl->l_len < 0)
			return -EINVAL;
		wl->end = start - 1;
		wl->start = start + fl->l_len;
	}
	return 0;
}

static void
found_to_flock(const struct wire_lock *wl, struct flock *fl)
{
	fl->l_type = wl->type;
	if (wl->type == F_UNLCK)
		return; /* the rest stays as the program gave it */
	fl->l_whence = SEEK_SET;
	fl->l_start = wl->start;
	fl->l_len = wl->end == WIRE_LK_EOF ? 0 : wl->end - wl->start + 1;
	fl->l_pid = wl->pid;
}

bool
lock_fcntl_cmd(int cmd)
{
	switch (cmd) {
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return true;
	default:
		return false;
	}
}

int
lock_fcntl(int fd, struct sfd *e, int cmd, struct flock *fl)
{
	bool ofd =
	    cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
	struct wire_lock wl = {.kind = ofd ? WIRE_LK_OFD : WIRE_LK_POSIX};
	int r;

	if ((get ? ua_write_ok(fl, sizeof(*fl)) : ua_read_ok(fl, sizeof(*fl))) <
	    0)
		return -EFAULT;
	if ((ofd && fl->l_pid != 0) ||
	    (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK &&
	     fl->l_type != F_UNLCK) ||
	    (get && fl->l_type == F_UNLCK))
		return -EINVAL;
	wl.type = fl->l_type;
	if ((r = lock_range(fd, e, fl, &wl)) < 0)
		return r;
	wl.cmd = get ? WIRE_LK_GET : WIRE_LK_SET;
	r = wait && fl->l_type != F_UNLCK ? lock_wait(fd, e, &wl)
					  : lock_call(fd, e, &wl);
	if (r == 0 && get)
		found_to_flock(&wl, fl);
	if (r == 0 && !ofd && !get && fl->l_type != F_UNLCK)
		atomic_store(&posix_pid, my_pid());
	if (ofd && !get)
		e->gen = 0; /* its close must reach the provider now */
	return r;
}

int
lock_flock(int fd, struct sfd *e, int op)
{
	struct wire_lock wl = {
	    .kind = WIRE_LK_FLOCK, .cmd = WIRE_LK_SET, .end = WIRE_LK_EOF};

	switch (op & ~LOCK_NB) {
	case LOCK_SH:
		wl.type = F_RDLCK;
		break;
	case LOCK_EX:
		wl.type = F_WRLCK;
		break;
	case LOCK_UN:
		wl.type = F_UNLCK;
		break;
	default:
		return -EINVAL;
	}
	/*
	 * A description that took a lock is not parked (pool.c): a parked
	 * file's PARK may wait for the next request (chan_pipe.c, Posts),
	 * and its locks must end with the close, not up to 200 µs later.
	 */
	e->gen = 0;
	if ((op & LOCK_NB) || wl.type == F_UNLCK)
		return lock_call(fd, e, &wl);
	return lock_wait(fd, e, &wl);
}

/* Before a close of fd by this process (see "Closing" above). */
void
lock_closing(int fd, struct sfd *e)
{
	struct wire_lock wl = {.kind = WIRE_LK_POSIX,
			       .cmd = WIRE_LK_CLOSE,
			       .type = F_UNLCK,
			       .end = WIRE_LK_EOF};
	uint32_t pid = atomic_load_explicit(&posix_pid, memory_order_relaxed);
	int saved = errno;

	if (pid == 0 || pid != my_pid())
		return;
	lock_call(fd, e, &wl);
	errno = saved;
}
