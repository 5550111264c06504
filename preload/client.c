/*
 * client.c - scheme paths and fds, as requests on this thread's channel.
 *
 * A description is known by (broker, instance, key): from the answer to
 * the open, or for an fd that arrived by exec or SCM_RIGHTS from its
 * provider (identify.c).  The provider answers requests for it only on
 * channels that proved they hold it: the one it was opened on, and any
 * other that sent the fd itself over SCM_RIGHTS (WIRE_OP_ATTACH), which
 * is what a forked child or a thread does once, on its first call, and
 * what identify.c does for a process that got the fd by exec or
 * SCM_RIGHTS.
 *
 * Blocking.  A provider answers a blocking read either late (it keeps the
 * request) or with EAGAIN.  EAGAIN reaches the program only on an
 * O_NONBLOCK file; otherwise we wait (WIRE_OP_WAIT) until the provider
 * posts an event for the description, and ask again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/wire/wire.h"
#include "attrcache.h"
#include "chan.h"
#include "client.h"
#include "hidden.h"
#include "fdops.h"
#include "hot.h"
#include "pool.h"
#include "real.h"
#include "uaccess.h"
#include "wrap.h"

static atomic_uint cached_umask = 022;

void
sc_umask_set(mode_t m)
{
	atomic_store(&cached_umask, m & 0777);
}

/*
 * Each request that may change a file moves this process's generation
 * before it is sent and once it is answered (attrcache.c "Coherence"):
 * sc_call(), sc_open_once() and sc_at() do so around call(), open_once()
 * and at_once().
 */
static inline int call(int fd, struct sfd *e, struct wire_req *req,
		       const struct iovec *in, int nin, struct iovec *out,
		       int nout, struct wire_rep *rep, int sendfd, int *rfd);
static int open_once(const struct scheme_path *sp, int flags, mode_t mode,
		     struct sc_desc *d);
static int64_t at_once(const struct scheme_path *sp, struct sc_at *a);

/*
 * One request on a description.  Reconnects when the cached channel turns
 * out dead, attaches the channel when the provider asks, and says EBADF
 * when the provider is gone for good.  Fills *rep; returns 0 or -errno.
 */
int
sc_call(int fd, struct sfd *e, struct wire_req *req,
	  const struct iovec *in, int nin, struct iovec *out, int nout,
	  struct wire_rep *rep, int sendfd, int *rfd)
{
	bool changes = wire_op_changes(req->op);
	int r;

	if (changes)
		ac_drop();
	r = call(fd, e, req, in, nin, out, nout, rep, sendfd, rfd);
	if (changes)
		ac_drop();
	return r;
}

static inline int
call(int fd, struct sfd *e, struct wire_req *req, const struct iovec *in,
     int nin, struct iovec *out, int nout, struct wire_rep *rep, int sendfd,
     int *rfd)
{
	struct wire_req att;
	struct wire_rep arep;
	struct chan *ch;
	int tries, r;
	bool fresh;

	for (tries = 0; tries < 4; tries++) {
		r = chan_by_inst(e->broker, e->inst, &ch);
		if (r < 0)
			return r == -ENOMEM ? r : -EBADF;
		/*
		 * A provider that is exiting closes its fds one by one: a
		 * channel the broker handed over a moment before its
		 * registration closed hangs up unanswered.  Nothing was done
		 * on it (it was never attached), so ask the broker again: it
		 * says EBADF once it has seen the provider go.
		 */
		fresh = ch->seq == 0;
		r = chan_call(ch, req, in, nin, out, nout, rep, rfd,
			      MSG_CMSG_CLOEXEC, sendfd);
		if (r == -ENOTCONN || (r == -EIO && fresh))
			continue;
		if (r < 0)
			return r;
		if (rep->status != WIRE_NOTATTACHED) {
			chan_release(ch);
			return 0;
		}
		if (rfd != NULL && *rfd >= 0)
			REAL(close)(*rfd);
		wire_req_init(&att, WIRE_OP_ATTACH, e->key);
		r = chan_call(ch, &att, NULL, 0, NULL, 0, &arep, NULL,
			      MSG_CMSG_CLOEXEC, fd);
		if (r == -ENOTCONN)
			continue;
		if (r < 0)
			return r;
		chan_release(ch);
		if ((int64_t)arep.result < 0)
			return -EBADF;
	}
	return -EIO;
}

/* Wait until the provider posts an event newer than gen. */
COLD static int
wait_event(int fd, struct sfd *e, uint64_t gen)
{
	struct wire_req req;
	struct wire_rep rep;

	wire_req_init(&req, WIRE_OP_WAIT, e->key);
	req.arg[2] = gen;
	return sc_call(fd, e, &req, NULL, 0, NULL, 0, &rep, -1, NULL);
}

/*
 * A request whose answer is a value; EAGAIN waits unless O_NONBLOCK.  A
 * sending sets req's seq, len and flags (WIRE_REQ_DRAIN): seq and len are
 * set anew by the next, flags are put back as they were.
 */
static int64_t
ask(int fd, struct sfd *e, struct wire_req *req, const struct iovec *in,
    int nin, struct iovec *out, int nout, struct wire_rep *rep)
{
	uint32_t flags = req->flags;
	int64_t res;
	int r;

	for (;;) {
		r = sc_call(fd, e, req, in, nin, out, nout, rep, -1, NULL);
		if (r < 0)
			return r;
		res = (int64_t)rep->result;
		if (res != -EAGAIN || (rep->dflags & O_NONBLOCK))
			return res;
		if ((r = wait_event(fd, e, rep->gen)) < 0)
			return r;
		req->flags = flags;
	}
}

/* The same, for a request of b, c, d (b: the description). */
static int64_t
simple(int fd, struct sfd *e, uint32_t op, uint64_t c, uint64_t d,
       const struct iovec *in, int nin, struct iovec *out, int nout,
       struct wire_rep *rep)
{
	struct wire_req req;

	wire_req_init(&req, op, e->key);
	req.arg[1] = c;
	req.arg[2] = d;
	return ask(fd, e, &req, in, nin, out, nout, rep);
}

/*
 * Where a read or write is: the file's own offset (SYS_READ, SYS_WRITE),
 * or one of its own with preadv2(2)'s flags (SYS_READ2, SYS_WRITE2).
 */
struct at {
	uint32_t op;
	off_t off;
	int rwf;
};

static const struct at at_file[2] = {{SYS_READ, 0, 0}, {SYS_WRITE, 0, 0}};

static int64_t
ask_at(int fd, struct sfd *e, const struct at *at, size_t done, size_t len,
       const struct iovec *in, int nin, struct iovec *out, int nout,
       struct wire_rep *rep)
{
	struct wire_req req;

	wire_req_init(&req, at->op, e->key);
	if (at->op == SYS_READ2 || at->op == SYS_WRITE2) {
		req.arg[0] = (uint32_t)at->rwf;
		req.arg[1] = (uint64_t)at->off + done;
	}
	req.arg[2] = len;
	return ask(fd, e, &req, in, nin, out, nout, rep);
}

/*
 * The part of iov[] (at most WIRE_MAX_DATA bytes, from skip) one message
 * carries, into part[]: its buffers, cut where the program's memory
 * stops being usable as the kernel would use it.  A read or write of the
 * kernel's stops at the first byte it cannot reach, short, and says
 * EFAULT only when that is the first (uaccess.h).  The number of parts,
 * their bytes in *total, or -EFAULT.  The array itself was checked by
 * the caller.
 */
static inline int
iov_part(const struct iovec *iov, int n, size_t skip, struct iovec *part,
	 size_t *total, bool write)
{
	size_t len, ok;
	int i, k = 0;
	char *base;

	*total = 0;
	for (i = 0; i < n && k < CHAN_MAX_IOV && *total < WIRE_MAX_DATA; i++) {
		len = iov[i].iov_len;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		base = (char *)iov[i].iov_base + skip;
		len -= skip;
		skip = 0;
		if (len > WIRE_MAX_DATA - *total)
			len = WIRE_MAX_DATA - *total;
		ok = write ? ua_write_span(base, len) : ua_read_span(base, len);
		if (ok > 0) {
			part[k].iov_base = base;
			part[k++].iov_len = ok;
			*total += ok;
		}
		if (ok < len)
			return k > 0 ? k : -EFAULT;
	}
	return k;
}

/*
 * A read returns what one answer holds (at most WIRE_MAX_DATA bytes).
 * iov[] is checked already: the program's by readv_at, or our own.
 */
static inline ssize_t
read_parts(int fd, struct sfd *e, const struct iovec *iov, int iovcnt,
	   const struct at *at)
{
	struct iovec part[CHAN_MAX_IOV];
	struct wire_rep rep;
	size_t total;
	int64_t res;
	int k;

	if ((k = iov_part(iov, iovcnt, 0, part, &total, true)) < 0)
		return k;
	res = ask_at(fd, e, at, 0, total, NULL, 0, part, k, &rep);
	if (res > 0 && (uint64_t)res != rep.len)
		return -EIO; /* the data did not come with the count */
	return res;
}

static ssize_t
readv_at(int fd, struct sfd *e, const struct iovec *iov, int iovcnt,
	 const struct at *at)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	if (ua_read_ok(iov, (size_t)iovcnt * sizeof(*iov)) < 0)
		return -EFAULT;
	return read_parts(fd, e, iov, iovcnt, at);
}

ssize_t
sc_readv(int fd, struct sfd *e, const struct iovec *iov, int iovcnt)
{
	return readv_at(fd, e, iov, iovcnt, &at_file[0]);
}

/* read() of one buffer (fdops.h): no iovec of the program's to check. */
HOT ssize_t
sc_read(int fd, struct sfd *e, void *buf, size_t n)
{
	struct iovec iov = {buf, n};
	int saved = errno;

	return wrap_ret(read_parts(fd, e, &iov, 1, &at_file[0]), saved);
}

/*
 * A write goes out in parts; it stops at the first short or failed one.
 * A positioned one's parts are each atomic, not the whole of it, as a
 * kernel's write of more than a page may be interleaved with others.
 */
static inline ssize_t
write_parts(int fd, struct sfd *e, const struct iovec *iov, int iovcnt,
	    size_t want, const struct at *at)
{
	struct iovec part[CHAN_MAX_IOV];
	struct wire_rep rep;
	size_t total, done = 0;
	int64_t res;
	int k;

	do {
		if ((k = iov_part(iov, iovcnt, done, part, &total, false)) < 0)
			return done > 0 ? (ssize_t)done : k;
		res = ask_at(fd, e, at, done, total, part, k, NULL, 0, &rep);
		if (res < 0)
			return done > 0 ? (ssize_t)done : res;
		if ((uint64_t)res > total)
			return -EIO;
		done += (size_t)res;
	} while ((size_t)res == total && done < want);
	return (ssize_t)done;
}

static ssize_t
writev_at(int fd, struct sfd *e, const struct iovec *iov, int iovcnt,
	  const struct at *at)
{
	size_t want = 0;
	int i;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	if (ua_read_ok(iov, (size_t)iovcnt * sizeof(*iov)) < 0)
		return -EFAULT;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - want)
			return -EINVAL;
		want += iov[i].iov_len;
	}
	return write_parts(fd, e, iov, iovcnt, want, at);
}

ssize_t
sc_writev(int fd, struct sfd *e, const struct iovec *iov, int iovcnt)
{
	return writev_at(fd, e, iov, iovcnt, &at_file[1]);
}

/* write() of one buffer (fdops.h), as sc_read. */
HOT ssize_t
sc_write(int fd, struct sfd *e, const void *buf, size_t n)
{
	struct iovec iov = {(void *)buf, n};
	int saved = errno;

	if (n > SSIZE_MAX)
		return wrap_ret(-EINVAL, saved);
	return wrap_ret(write_parts(fd, e, &iov, 1, n, &at_file[1]), saved);
}

/*
 * Redox's old way, as relibc did before SYS_READ2: seek, read, and seek
 * back.  Unlike a kernel pread this is not atomic against other users of
 * the offset: only for a provider that does not serve SYS_READ2.
 */
static ssize_t
seek_io(int fd, struct sfd *e, const struct iovec *iov, int iovcnt, off_t off,
	bool write)
{
	off_t cur, r;
	ssize_t n;

	if ((cur = sc_lseek(fd, e, 0, SEEK_CUR)) < 0)
		return cur;
	if ((r = sc_lseek(fd, e, off, SEEK_SET)) < 0)
		return r;
	n = write ? sc_writev(fd, e, iov, iovcnt)
		  : sc_readv(fd, e, iov, iovcnt);
	if ((r = sc_lseek(fd, e, cur, SEEK_SET)) < 0 && n >= 0)
		return r;
	return n;
}

/*
 * pread, pwrite and their vector, 64 and 2 forms: one SYS_READ2 or
 * SYS_WRITE2 carrying the offset, so atomic and one round trip, the
 * file's offset left alone.  A provider that does not serve them (told
 * once per channel: chan.c) gets the old way, seek_io().  rwf is
 * preadv2's flags; -1 as offset there is the file's own (the caller's).
 */
ssize_t
sc_preadv(int fd, struct sfd *e, const struct iovec *iov, int iovcnt,
	  off_t off, int rwf, bool write)
{
	struct at at = {write ? SYS_WRITE2 : SYS_READ2, off, rwf};
	ssize_t n;

	if (off < 0)
		return -EINVAL;
	n = write ? writev_at(fd, e, iov, iovcnt, &at)
		  : readv_at(fd, e, iov, iovcnt, &at);
	if (n != -ENOSYS)
		return n;
	return seek_io(fd, e, iov, iovcnt, off, write);
}

off_t
sc_lseek(int fd, struct sfd *e, off_t off, int whence)
{
	struct wire_rep rep;

	return simple(fd, e, SYS_LSEEK, (uint64_t)off, (uint64_t)whence, NULL,
		      0, NULL, 0, &rep);
}

/* As on Redox, the device number says which scheme. */
dev_t
scheme_dev(uint64_t inst)
{
	return makedev(0, 0xf0000 | (unsigned)(inst & 0xffff));
}

int
sc_fstat(int fd, struct sfd *e, struct stat *st)
{
	struct iovec out = {st, sizeof(*st)};
	struct wire_rep rep;
	int64_t r;

	r = simple(fd, e, SYS_FSTAT, 0, sizeof(*st), NULL, 0, &out, 1, &rep);
	if (r < 0)
		return (int)r;
	if (rep.len != sizeof(*st))
		return -EIO;
	st->st_dev = scheme_dev(e->inst);
	return 0;
}

int
sc_fcntl(int fd, struct sfd *e, int cmd, uint64_t arg)
{
	struct wire_rep rep;

	return (int)simple(fd, e, SYS_FCNTL, (uint64_t)cmd, arg, NULL, 0, NULL,
			   0, &rep);
}

int
sc_fsync(int fd, struct sfd *e)
{
	struct wire_rep rep;

	return (int)simple(fd, e, SYS_FSYNC, 0, 0, NULL, 0, NULL, 0, &rep);
}

int
sc_ftruncate(int fd, struct sfd *e, off_t len)
{
	struct wire_rep rep;

	if (len < 0)
		return -EINVAL;
	return (int)simple(fd, e, SYS_FTRUNCATE, (uint64_t)len, 0, NULL, 0,
			   NULL, 0, &rep);
}

/*
 * fallocate(2) as the provider serves it (SYS_FALLOCATE); one that does
 * not says ENOSYS (scheme.h "Optional requests"), which is EOPNOTSUPP
 * here, so that posix_fallocate writes instead.  The kernel's checks on
 * the range come first.
 */
int
sc_fallocate(int fd, struct sfd *e, int mode, off_t off, off_t len)
{
	struct wire_req req;
	struct wire_rep rep;
	int64_t r;

	if (off < 0 || len <= 0)
		return -EINVAL;
	if (off > INT64_MAX - len)
		return -EFBIG;
	wire_req_init(&req, SYS_FALLOCATE, e->key);
	req.arg[0] = (uint32_t)mode;
	req.arg[1] = (uint64_t)off;
	req.arg[2] = (uint64_t)len;
	r = ask(fd, e, &req, NULL, 0, NULL, 0, &rep);
	return r == -ENOSYS ? -EOPNOTSUPP : (int)r;
}

/*
 * The file system's figures (Redox's fstatvfs); a provider that has none
 * gives zeros but for the block and name sizes.
 */
int
sc_fstatvfs(int fd, struct sfd *e, struct statvfs *sv)
{
	struct iovec out = {sv, sizeof(*sv)};
	struct wire_rep rep;
	int64_t r;

	memset(sv, 0, sizeof(*sv));
	r = simple(fd, e, SYS_FSTATVFS, 0, sizeof(*sv), NULL, 0, &out, 1, &rep);
	if (r == -ENOSYS || r == -EOPNOTSUPP || (r == 0 && sv->f_bsize == 0)) {
		memset(sv, 0, sizeof(*sv));
		sv->f_bsize = sv->f_frsize = 4096;
		sv->f_namemax = 255;
		return 0;
	}
	if (r < 0)
		return (int)r;
	return rep.len == sizeof(*sv) ? 0 : -EIO;
}

/* The provider's name for the open file ("name:path"): bytes in buf. */
int
sc_fpath(int fd, struct sfd *e, char *buf, size_t len)
{
	struct iovec out = {buf, len};
	struct wire_rep rep;
	int64_t r;

	r = simple(fd, e, SYS_FPATH, 0, len, NULL, 0, &out, 1, &rep);
	if (r < 0)
		return (int)r;
	return rep.len <= len ? (int)rep.len : -EIO;
}

/*
 * The directory's next entries with their types (SYS_GETDENTS), as
 * struct scheme_dirent records in buf: the bytes, 0 at the end, or
 * -ENOSYS when its provider does not list that way (it said so once on
 * this thread's channel: the caller reads the listing as text).
 */
ssize_t
sc_getdents(int fd, struct sfd *e, void *buf, size_t len)
{
	struct iovec out = {buf, len};
	struct wire_rep rep;
	int64_t r;

	if (chan_lacks(e->broker, e->inst, CHAN_LACKS_DENTS))
		return -ENOSYS;
	r = simple(fd, e, SYS_GETDENTS, 0, len, NULL, 0, &out, 1, &rep);
	if (r == -ENOSYS || r == -EOPNOTSUPP) {
		chan_set_lacks(e->broker, e->inst, CHAN_LACKS_DENTS);
		return -ENOSYS;
	}
	if (r > 0 && (uint64_t)r != rep.len)
		return -EIO; /* the entries did not come with the count */
	return r;
}

/*
 * The same with each entry's struct stat (SYS_GETDENTS_STAT), asked only
 * of a provider that granted a cache; -ENOSYS when it does not list so
 * (then not asked again in this process).
 */
ssize_t
sc_getdents_stat(int fd, struct sfd *e, void *buf, size_t len)
{
	struct iovec out = {buf, len};
	struct wire_rep rep;
	int64_t r;

	if (!ac_lists_stat(e->inst))
		return -ENOSYS;
	r = simple(fd, e, SYS_GETDENTS_STAT, 0, len, NULL, 0, &out, 1, &rep);
	if (r == -ENOSYS || r == -EOPNOTSUPP) {
		ac_lists_stat_none(e->inst);
		return -ENOSYS;
	}
	if (r > 0 && (uint64_t)r != rep.len)
		return -EIO;
	return r;
}

/*
 * The scheme's change count (WIRE_OP_GENS, proto/serve/gens.c), mapped
 * read-only for good: what a kept stat is checked against.  NULL if
 * the channel's provider has none to give.
 */
static const _Atomic uint64_t *
gens_map(struct chan *ch)
{
	struct wire_req req;
	struct wire_rep rep;
	void *m = MAP_FAILED;
	int r, fd = -1;

	wire_req_init(&req, WIRE_OP_GENS, 0);
	r = chan_call(ch, &req, NULL, 0, NULL, 0, &rep, &fd, MSG_CMSG_CLOEXEC,
		      -1);
	if (r == 0 && (int64_t)rep.result == 0 && fd >= 0)
		m = REAL(mmap)(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED,
			       fd, 0);
	if (fd >= 0)
		REAL(close)(fd);
	return m == MAP_FAILED ? NULL : m;
}

/*
 * Remember what a provider answered to SYS_FGRANT (on ch's scheme); a
 * grant comes with the change count, or is no grant.
 */
static void
grant_learn(struct chan *ch, int64_t answer)
{
	const _Atomic uint64_t *count = NULL, *old;

	if (answer > 0 && (uint32_t)answer > 0)
		count = gens_map(ch);
	old = ac_grant_set(ch->inst, answer, count);
	if (old != NULL) /* another scheme's, forgotten to make room */
		REAL(munmap)((void *)old, sizeof(uint64_t));
}

/*
 * What sp's scheme (instance inst) lets this process keep: asked once
 * (SYS_FGRANT on its root, in one round trip) and remembered in
 * attrcache.c.  Returns the attributes' milliseconds, 0 for none.
 */
uint32_t
sc_grant(const struct scheme_path *sp, uint64_t inst)
{
	struct scheme_path root = *sp;
	struct sc_at a = {.oflags = O_PATH, .op = SYS_FGRANT};
	struct chan *ch;
	uint32_t ms;
	int64_t r;

	if (!ac_granted(inst, &ms)) {
		root.rest = "";
		root.restlen = 0;
		r = sc_at(&root, &a);
		if (r == SC_PASS || r == SC_SEPARATE)
			r = -ENOSYS;
		if (r == -ENOTCONN || r == -EIO || r == -ENOMEM ||
		    chan_by_name(sp->name, &ch) < 0)
			return 0;
		if (ch->inst == inst)
			grant_learn(ch, r);
		chan_release(ch);
	}
	ac_grant_name(inst, sp->name);
	return ac_granted(inst, &ms) ? ms : 0;
}

/* The same, asked on an open file of the scheme. */
uint32_t
sc_grant_fd(int fd, struct sfd *e)
{
	struct wire_rep rep;
	struct chan *ch;
	uint32_t ms;
	int64_t r;

	if (ac_granted(e->inst, &ms))
		return ms;
	r = simple(fd, e, SYS_FGRANT, 0, 0, NULL, 0, NULL, 0, &rep);
	if (r == -EBADF || r == -EIO || r == -ENOMEM ||
	    chan_by_inst(e->broker, e->inst, &ch) < 0)
		return 0;
	grant_learn(ch, r);
	chan_release(ch);
	return ac_granted(e->inst, &ms) ? ms : 0;
}

/* Metadata: Redox's fchmod, fchown, futimens, frename and flink. */
int
sc_fchmod(int fd, struct sfd *e, mode_t mode)
{
	struct wire_rep rep;

	return (int)simple(fd, e, SYS_FCHMOD, mode & 07777, 0, NULL, 0, NULL, 0,
			   &rep);
}

int
sc_fchown(int fd, struct sfd *e, uid_t uid, gid_t gid)
{
	struct wire_rep rep;

	return (int)simple(fd, e, SYS_FCHOWN, (uint32_t)uid, (uint32_t)gid,
			   NULL, 0, NULL, 0, &rep);
}

int
sc_futimens(int fd, struct sfd *e, const struct timespec ts[2])
{
	struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	struct iovec in = {(void *)(ts != NULL ? ts : now), sizeof(now)};
	struct wire_rep rep;

	return (int)simple(fd, e, SYS_FUTIMENS, 0, sizeof(now), &in, 1, NULL, 0,
			   &rep);
}

/* The new path is within the same scheme, as Redox's frename. */
int
sc_frename(int fd, struct sfd *e, const char *path, size_t len)
{
	struct iovec in = {(void *)path, len};
	struct wire_rep rep;

	return (int)simple(fd, e, SYS_FRENAME, 0, len, &in, 1, NULL, 0, &rep);
}

/* A hard link: the new path is within the same scheme, as Redox's flink. */
int
sc_flink(int fd, struct sfd *e, const char *path, size_t len)
{
	struct iovec in = {(void *)path, len};
	struct wire_rep rep;

	return (int)simple(fd, e, SYS_FLINK, 0, len, &in, 1, NULL, 0, &rep);
}

/*
 * Open: the description's fd comes with the answer, at the lowest free
 * number, as open() would give, and *d says which it is (key 0: a kernel
 * fd the provider handed over, not a scheme file: the broker's VFIO
 * device for a driver).  Making it a record of the fd table is the open
 * routing's (route.c).  A channel found dead (its provider was replaced)
 * is replaced once.  An open that may make, empty or write a file counts
 * as a change.
 */
int
sc_open_once(const struct scheme_path *sp, int flags, mode_t mode,
	     struct sc_desc *d)
{
	bool changes = wire_open_changes((uint32_t)flags);
	int r;

	if (changes)
		ac_drop();
	r = open_once(sp, flags, mode, d);
	if (changes)
		ac_drop();
	return r;
}

static int
open_once(const struct scheme_path *sp, int flags, mode_t mode,
	  struct sc_desc *d)
{
	struct iovec in = {(void *)sp->rest, sp->restlen};
	struct pool_ticket t;
	struct wire_req req;
	struct wire_rep rep;
	struct chan *ch;
	int tries, r, cfd;
	bool offered;
	int64_t res;

	if (strcmp(sp->name, "event") == 0)
		return -EPERM; /* a queue is made here, not asked for (route.c) */
	if (NEEDS_MODE(flags))
		mode &= ~atomic_load(&cached_umask);
	else
		mode = 0;
	for (tries = 0; tries < 2; tries++) {
		r = chan_by_name(sp->name, &ch);
		if (r == -ENOENT || r == -ENOTCONN)
			return SC_PASS; /* no such scheme: an ordinary path */
		if (r < 0)
			return r;
		offered = pool_offer(ch->broker, ch->inst, &t);
		wire_req_init(&req, SYS_OPEN, offered ? t.key : 0);
		req.arg[2] = (uint32_t)(flags & ~O_CLOEXEC) |
			     (uint64_t)(mode & 07777) << 32;
		r = chan_call(ch, &req, &in, 1, NULL, 0, &rep, &cfd,
			      (flags & O_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0, -1);
		if (offered && r == 0 && rep.status == WIRE_REUSED &&
		    rep.key == t.key && cfd < 0 && (int64_t)rep.result >= 0) {
			cfd = pool_take(&t, flags & O_CLOEXEC);
			if (cfd < 0) { /* its file is open there: close it */
				chan_release(ch);
				return cfd;
			}
		} else if (offered) {
			pool_drop(&t);
		}
		if (r == -ENOTCONN)
			continue;
		if (r < 0)
			return r;
		res = (int64_t)rep.result;
		if (res >= 0 && cfd < 0)
			res = -EIO;
		if (res < 0) {
			chan_release(ch);
			if (cfd >= 0)
				REAL(close)(cfd);
			return (int)res;
		}
		d->broker = ch->broker;
		d->inst = ch->inst;
		d->key = rep.key;
		chan_release(ch);
		ac_fpath_forget(d->inst, d->key);
		return cfd;
	}
	return -EIO;
}

/*
 * A request on a path in one round trip: the serving code opens the path
 * for it, asks op on the handle and closes it (wire.h WIRE_OP_AT), so
 * the provider sees what it would for the three calls.  It names a path,
 * so it goes on the socket, where the kernel says who asks.  Returns op's
 * answer, -errno, SC_PASS (no such scheme) or SC_SEPARATE (the open was
 * answered with a kernel fd, which only an open of our own can take).
 */
int64_t
sc_at(const struct scheme_path *sp, struct sc_at *a)
{
	bool changes = wire_op_changes(a->op);
	int64_t r;

	if (changes)
		ac_drop();
	r = at_once(sp, a);
	if (changes)
		ac_drop();
	return r;
}

static int64_t
at_once(const struct scheme_path *sp, struct sc_at *a)
{
	struct iovec in[2] = {{(void *)a->in, a->inlen},
			      {(void *)sp->rest, sp->restlen}};
	struct iovec out = {a->out, a->outlen};
	struct wire_req req;
	struct wire_rep rep;
	struct chan *ch;
	int tries, r;

	if (strcmp(sp->name, "event") == 0)
		return -EPERM; /* the preload's own: nothing to ask */
	for (tries = 0; tries < 2; tries++) {
		r = chan_by_name(sp->name, &ch);
		if (r == -ENOENT || r == -ENOTCONN)
			return SC_PASS; /* no such scheme: an ordinary path */
		if (r < 0)
			return r;
		wire_req_init(&req, WIRE_OP_AT, 0);
		req.arg[0] = WIRE_AT_ARG0(a->op, a->oflags);
		req.arg[1] = a->c;
		req.arg[2] = a->d;
		r = chan_call(ch, &req, in + (a->inlen == 0),
			      1 + (a->inlen > 0), &out, a->out != NULL, &rep,
			      NULL, 0, -1);
		if (r == -ENOTCONN)
			continue;
		if (r < 0)
			return r;
		a->inst = ch->inst;
		chan_release(ch);
		if (rep.status == WIRE_SEPARATE)
			return SC_SEPARATE;
		a->got = rep.len;
		return (int64_t)rep.result;
	}
	return -EIO;
}

/*
 * What is ready now, of `flags` (EVENT_READ | EVENT_WRITE): the provider
 * is asked SYS_FEVENT.  `proof` is an fd that holds the description (the
 * program's fd, or a subscription socket of it).
 */
int
sc_query(int proof, struct sfd *e, uint32_t flags)
{
	struct wire_req req;
	struct wire_rep rep;
	int r;

	wire_req_init(&req, WIRE_OP_POLL, e->key);
	req.arg[1] = flags;
	req.arg[2] = 0; /* do not wait */
	r = sc_call(proof, e, &req, NULL, 0, NULL, 0, &rep, proof, NULL);
	if (r < 0)
		return r;
	return (int64_t)rep.result < 0 ? (int)rep.result
				       : (int)(rep.result & flags);
}

/*
 * A subscription to the description behind fd: a socket (hidden,
 * close-on-exec) down which the provider sends a struct wire_rec per
 * post of `flags`, the first at once if they are ready now.
 */
int
sc_subscribe(int fd, struct sfd *e, uint32_t flags)
{
	struct wire_req req;
	struct wire_rep rep;
	int r, sub = -1;

	pool_shared(); /* its subscriber holds it too */
	wire_req_init(&req, WIRE_OP_SUBSCRIBE, e->key);
	req.arg[1] = flags;
	r = sc_call(fd, e, &req, NULL, 0, NULL, 0, &rep, -1, &sub);
	if (r == 0 && (int64_t)rep.result < 0)
		r = (int)rep.result;
	if (r == 0 && sub < 0)
		r = -EIO;
	if (r < 0) {
		if (sub >= 0)
			REAL(close)(sub);
		return r;
	}
	return hidden_move(sub, NULL, NULL);
}

/* Records waiting on a subscription socket: their flags, and drained. */
uint32_t
sc_drain(int sub, bool *gone)
{
	struct wire_rec rec;
	uint32_t flags = 0;
	ssize_t n;
	int saved = errno;

	*gone = false;
	while ((n = REAL(recv)(sub, &rec, sizeof(rec), MSG_DONTWAIT)) > 0)
		if (n == sizeof(rec) && rec.magic == WIRE_MAGIC)
			flags |= rec.flags;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		*gone = true; /* the description, or its provider, ended */
	errno = saved;
	return flags;
}

/*
 * SYS_FMAP: the provider's answer to a mapping of *m.  Returns 0 with
 * *mfd an fd to map (close-on-exec, ours to close) and *m as the
 * provider left it (its offset in *mfd), or -errno; *dflags is the
 * description's status flags either way (its access mode decides what
 * a mapping may be, fd_map.c).
 */
int
sc_fmap(int fd, struct sfd *e, struct scheme_map *m, int *mfd,
	uint32_t *dflags)
{
	struct iovec in = {m, sizeof(*m)}, out = {m, sizeof(*m)};
	struct wire_req req;
	struct wire_rep rep;
	int r;

	*mfd = -1;
	wire_req_init(&req, SYS_FMAP, e->key);
	req.arg[2] = sizeof(*m);
	r = sc_call(fd, e, &req, &in, 1, &out, 1, &rep, -1, mfd);
	if (r == 0) {
		*dflags = rep.dflags;
		r = (int64_t)rep.result < 0 ? (int)rep.result : 0;
	}
	if (r == 0 && (*mfd < 0 || rep.len != sizeof(*m)))
		r = -EIO;
	if (r < 0 && *mfd >= 0) {
		REAL(close)(*mfd);
		*mfd = -1;
	}
	return r;
}
