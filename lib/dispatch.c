/*
 * dispatch.c - libscheme: scheme_dispatch(), a request decoded and handed
 * to the provider's member of struct scheme_ops (see <scheme/scheme.h>).
 *
 * One table, indexed by the request's Redox call number (the low 16 bits
 * of SYS_*; the bits above are Redox's class and argument kinds), holds
 * for each kind the full SYS_* value, checked, and the function that
 * decodes its arguments and calls the member.  A request whose number is
 * past the table, or whose full value is not the entry's, is unknown:
 * -ENOSYS, as a NULL member.
 *
 * Decoding is where a packet is checked before any member sees it, so a
 * member never meets a path that is not a C string, a NULL buffer with a
 * length, a struct too small or misaligned for its type, or a whence or
 * cmd cut short by a cast.  The system never sends such requests; a
 * member is still spared them (a made-up packet in a test, a bug).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <scheme/scheme.h>

#include "compat.h"

typedef int64_t call_fn(const struct scheme_ops *o, void *ctx,
			const struct scheme_packet *p);

/* A path: b (or c), NUL-terminated at [len] with no NUL before. */
static int
path_arg(uint64_t addr, uint64_t len, const char **path)
{
	const char *s = (const char *)(uintptr_t)addr;

	if (s == NULL)
		return -EFAULT;
	if (len >= SIZE_MAX || s[len] != '\0' || strnlen(s, len) != len)
		return -EINVAL;
	*path = s;
	return 0;
}

/* A buffer of len bytes at addr; none at all may be NULL. */
static int
buf_ok(uint64_t addr, uint64_t len)
{
	return addr == 0 && len > 0 ? -EFAULT : 0;
}

/* Room for a struct of size bytes and alignment align at addr. */
static int
struct_ok(uint64_t addr, uint64_t len, size_t size, size_t align)
{
	if (len < size)
		return -EINVAL;
	if (addr == 0 || addr % align != 0)
		return -EFAULT;
	return 0;
}

static int64_t
call_open(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	const char *path;
	int r;

	if (o->open == NULL)
		return -ENOSYS;
	if ((r = path_arg(p->b, p->c, &path)) < 0)
		return r;
	return o->open(ctx, p, path, p->d);
}

static int64_t
call_unlink(const struct scheme_ops *o, void *ctx,
	    const struct scheme_packet *p)
{
	const char *path;
	int r;

	if (o->unlink == NULL)
		return -ENOSYS;
	if ((r = path_arg(p->b, p->c, &path)) < 0)
		return r;
	return o->unlink(ctx, p, path);
}

static int64_t
call_rmdir(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	const char *path;
	int r;

	if (o->rmdir == NULL)
		return -ENOSYS;
	if ((r = path_arg(p->b, p->c, &path)) < 0)
		return r;
	return o->rmdir(ctx, p, path);
}

static int64_t
call_dup(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->dup == NULL)
		return -ENOSYS;
	if (buf_ok(p->c, p->d) < 0)
		return -EFAULT;
	return o->dup(ctx, p, p->b, (const void *)(uintptr_t)p->c,
		      (size_t)p->d);
}

static int64_t
call_read(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->read == NULL)
		return -ENOSYS;
	if (buf_ok(p->c, p->d) < 0)
		return -EFAULT;
	return o->read(ctx, p, p->b, (void *)(uintptr_t)p->c, (size_t)p->d);
}

static int64_t
call_write(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->write == NULL)
		return -ENOSYS;
	if (buf_ok(p->c, p->d) < 0)
		return -EFAULT;
	return o->write(ctx, p, p->b, (const void *)(uintptr_t)p->c,
			(size_t)p->d);
}

static int64_t
call_lseek(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->lseek == NULL)
		return -ENOSYS;
	if (p->d > INT_MAX)
		return -EINVAL;
	return o->lseek(ctx, p, p->b, (int64_t)p->c, (int)p->d);
}

static int64_t
call_fcntl(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->fcntl == NULL)
		return -ENOSYS;
	if (p->c > INT_MAX)
		return -EINVAL;
	return o->fcntl(ctx, p, p->b, (int)p->c, p->d);
}

static int64_t
call_fevent(const struct scheme_ops *o, void *ctx,
	    const struct scheme_packet *p)
{
	if (o->fevent == NULL)
		return -ENOSYS;
	return o->fevent(ctx, p, p->b, p->c);
}

static int64_t
call_fpath(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->fpath == NULL)
		return -ENOSYS;
	if (buf_ok(p->c, p->d) < 0)
		return -EFAULT;
	return o->fpath(ctx, p, p->b, (void *)(uintptr_t)p->c, (size_t)p->d);
}

static int64_t
call_fstat(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	struct stat *st = (struct stat *)(uintptr_t)p->c;
	int r;

	if (o->fstat == NULL)
		return -ENOSYS;
	if ((r = struct_ok(p->c, p->d, sizeof(*st), alignof(struct stat))) < 0)
		return r;
	memset(st, 0, sizeof(*st));
	return o->fstat(ctx, p, p->b, st);
}

static int64_t
call_fstatvfs(const struct scheme_ops *o, void *ctx,
	      const struct scheme_packet *p)
{
	struct statvfs *st = (struct statvfs *)(uintptr_t)p->c;
	int r;

	if (o->fstatvfs == NULL)
		return -ENOSYS;
	if ((r = struct_ok(p->c, p->d, sizeof(*st), alignof(struct statvfs))) <
	    0)
		return r;
	memset(st, 0, sizeof(*st));
	return o->fstatvfs(ctx, p, p->b, st);
}

static int64_t
call_fsync(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->fsync == NULL)
		return -ENOSYS;
	return o->fsync(ctx, p, p->b);
}

static int64_t
call_ftruncate(const struct scheme_ops *o, void *ctx,
	       const struct scheme_packet *p)
{
	if (o->ftruncate == NULL)
		return -ENOSYS;
	return o->ftruncate(ctx, p, p->b, (int64_t)p->c);
}

static int64_t
call_fchmod(const struct scheme_ops *o, void *ctx,
	    const struct scheme_packet *p)
{
	if (o->fchmod == NULL)
		return -ENOSYS;
	return o->fchmod(ctx, p, p->b, (uint32_t)p->c);
}

/* uid and gid as chown(2)'s: (uint32_t)-1 leaves one alone. */
static int64_t
call_fchown(const struct scheme_ops *o, void *ctx,
	    const struct scheme_packet *p)
{
	if (o->fchown == NULL)
		return -ENOSYS;
	return o->fchown(ctx, p, p->b, (uint32_t)p->c, (uint32_t)p->d);
}

static int64_t
call_frename(const struct scheme_ops *o, void *ctx,
	     const struct scheme_packet *p)
{
	const char *path;
	int r;

	if (o->frename == NULL)
		return -ENOSYS;
	if ((r = path_arg(p->c, p->d, &path)) < 0)
		return r;
	return o->frename(ctx, p, p->b, path);
}

static int64_t
call_flink(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	const char *path;
	int r;

	if (o->flink == NULL)
		return -ENOSYS;
	if ((r = path_arg(p->c, p->d, &path)) < 0)
		return r;
	return o->flink(ctx, p, p->b, path);
}

/* No bytes at all: utimensat(2)'s NULL times, both now. */
static int64_t
call_futimens(const struct scheme_ops *o, void *ctx,
	      const struct scheme_packet *p)
{
	const struct timespec *ts = (const struct timespec *)(uintptr_t)p->c;
	int r;

	if (o->futimens == NULL)
		return -ENOSYS;
	if (p->d == 0)
		return o->futimens(ctx, p, p->b, NULL);
	if ((r = struct_ok(p->c, p->d, 2 * sizeof(*ts),
			   alignof(struct timespec))) < 0)
		return r;
	return o->futimens(ctx, p, p->b, ts);
}

/*
 * The optional requests (scheme.h): their arguments in a struct scheme_io
 * at c, marked served here for a member that exists, so that the member
 * (and a deferred answer) need not.  A NULL member leaves it unmarked:
 * the client does without.
 */
static struct scheme_io *
io_arg(const struct scheme_packet *p, int *err)
{
	struct scheme_io *io = (struct scheme_io *)(uintptr_t)p->c;

	if ((*err = struct_ok(p->c, p->d, sizeof(*io), alignof(uint64_t))) < 0)
		return NULL;
	if (io->offset > INT64_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	io->served = SCHEME_SERVED;
	return io;
}

static int64_t
call_read2(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	struct scheme_io *io;
	int r;

	if (o->read2 == NULL)
		return -ENOSYS;
	if ((io = io_arg(p, &r)) == NULL)
		return r;
	if (buf_ok(io->buf, io->len) < 0)
		return -EFAULT;
	return o->read2(ctx, p, p->b, (void *)(uintptr_t)io->buf,
			(size_t)io->len, io->offset, io->flags);
}

static int64_t
call_write2(const struct scheme_ops *o, void *ctx,
	    const struct scheme_packet *p)
{
	struct scheme_io *io;
	int r;

	if (o->write2 == NULL)
		return -ENOSYS;
	if ((io = io_arg(p, &r)) == NULL)
		return r;
	if (buf_ok(io->buf, io->len) < 0)
		return -EFAULT;
	return o->write2(ctx, p, p->b, (const void *)(uintptr_t)io->buf,
			 (size_t)io->len, io->offset, io->flags);
}

/* fallocate(2)'s own checks: a range of at least a byte, inside 2^63. */
static int64_t
call_fallocate(const struct scheme_ops *o, void *ctx,
	       const struct scheme_packet *p)
{
	struct scheme_io *io;
	int r;

	if (o->fallocate == NULL)
		return -ENOSYS;
	if ((io = io_arg(p, &r)) == NULL)
		return r;
	if (io->len == 0 || io->len > INT64_MAX)
		return -EINVAL;
	if (io->offset > INT64_MAX - io->len)
		return -EFBIG;
	return o->fallocate(ctx, p, p->b, io->flags, io->offset, io->len);
}

/* A lock the provider keeps (scheme.h "Locks"): marked served, as io_arg. */
static int64_t
call_lock(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	struct scheme_lock *lk = (struct scheme_lock *)(uintptr_t)p->c;
	int r;

	if (o->lock == NULL)
		return -ENOSYS;
	if ((r = struct_ok(p->c, p->d, sizeof(*lk), alignof(uint64_t))) < 0)
		return r;
	lk->served = SCHEME_SERVED;
	if (lk->cmd < SCHEME_LOCK_GET || lk->cmd > SCHEME_LOCK_RELEASE_ALL ||
	    lk->kind < SCHEME_LOCK_POSIX || lk->kind > SCHEME_LOCK_FLOCK ||
	    lk->start < 0 || lk->end < lk->start)
		return -EINVAL;
	return o->lock(ctx, p, p->b, lk);
}

/* Nobody waits for it: without a member, there is nothing to do. */
static int64_t
call_close(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->close == NULL)
		return 0;
	return o->close(ctx, p, p->b);
}

/* Redox's struct Map, which the member may change (its offset). */
static int64_t
call_fmap(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	int r;

	if (o->fmap == NULL)
		return -ENOSYS;
	if ((r = struct_ok(p->c, p->d, sizeof(struct scheme_map),
			   alignof(struct scheme_map))) < 0)
		return r;
	return o->fmap(ctx, p, p->b, (struct scheme_map *)(uintptr_t)p->c);
}

#define NUM(kind) ((kind) % 0x10000) /* the low 16 bits: Redox's number */

static int64_t
call_grant(const struct scheme_ops *o, void *ctx, const struct scheme_packet *p)
{
	if (o->grant == NULL)
		return -ENOSYS;
	return o->grant(ctx, p, p->b);
}

static const struct request {
	uint64_t kind;
	call_fn *call;
} requests[NUM(SYS_FPATH) + 1] = {
    [NUM(SYS_OPEN)] = {SYS_OPEN, call_open},
    [NUM(SYS_UNLINK)] = {SYS_UNLINK, call_unlink},
    [NUM(SYS_RMDIR)] = {SYS_RMDIR, call_rmdir},
    [NUM(SYS_DUP)] = {SYS_DUP, call_dup},
    [NUM(SYS_READ)] = {SYS_READ, call_read},
    [NUM(SYS_WRITE)] = {SYS_WRITE, call_write},
    [NUM(SYS_LSEEK)] = {SYS_LSEEK, call_lseek},
    [NUM(SYS_FCNTL)] = {SYS_FCNTL, call_fcntl},
    [NUM(SYS_FEVENT)] = {SYS_FEVENT, call_fevent},
    [NUM(SYS_FPATH)] = {SYS_FPATH, call_fpath},
    [NUM(SYS_FSTAT)] = {SYS_FSTAT, call_fstat},
    [NUM(SYS_FSTATVFS)] = {SYS_FSTATVFS, call_fstatvfs},
    [NUM(SYS_FSYNC)] = {SYS_FSYNC, call_fsync},
    [NUM(SYS_FTRUNCATE)] = {SYS_FTRUNCATE, call_ftruncate},
    [NUM(SYS_FCHMOD)] = {SYS_FCHMOD, call_fchmod},
    [NUM(SYS_FCHOWN)] = {SYS_FCHOWN, call_fchown},
    [NUM(SYS_FRENAME)] = {SYS_FRENAME, call_frename},
    [NUM(SYS_FLINK)] = {SYS_FLINK, call_flink},
    [NUM(SYS_FUTIMENS)] = {SYS_FUTIMENS, call_futimens},
    [NUM(SYS_CLOSE)] = {SYS_CLOSE, call_close},
    [NUM(SYS_FMAP)] = {SYS_FMAP, call_fmap},
    [NUM(SYS_READ2)] = {SYS_READ2, call_read2},
    [NUM(SYS_WRITE2)] = {SYS_WRITE2, call_write2},
    [NUM(SYS_FALLOCATE)] = {SYS_FALLOCATE, call_fallocate},
    [NUM(SYS_LOCK)] = {SYS_LOCK, call_lock},
    [NUM(SYS_FGRANT)] = {SYS_FGRANT, call_grant},
};

int64_t
scheme_dispatch_0_3(const struct scheme_ops *ops, void *ctx,
		    struct scheme_packet *p)
{
	static const struct scheme_ops none;
	const struct request *r = NULL;
	int64_t res;

	if (NUM(p->a) < sizeof(requests) / sizeof(requests[0]))
		r = &requests[NUM(p->a)];
	if (r == NULL || r->call == NULL || r->kind != p->a)
		res = -ENOSYS;
	else
		res = r->call(ops != NULL ? ops : &none, ctx, p);
	if (res != SCHEME_DEFER)
		p->a = (uint64_t)res;
	return res;
}

/*
 * Older builds pass a shorter struct scheme_ops: SCHEME_0.1's ended with
 * close, SCHEME_0.2's with lock.  Its members are copied into a whole
 * one (the rest NULL) before anything reads past them.  New builds bind
 * to SCHEME_0.3 (libscheme.map).
 */
#define OPS_0_1 offsetof(struct scheme_ops, fmap)
#define OPS_0_2 offsetof(struct scheme_ops, grant)

static const struct scheme_ops *
ops_old(const struct scheme_ops *old, struct scheme_ops *whole, size_t len)
{
	if (old == NULL)
		return NULL;
	memset(whole, 0, sizeof(*whole));
	memcpy(whole, old, len);
	return whole;
}

const struct scheme_ops *
scheme_ops_0_1(const struct scheme_ops *old, struct scheme_ops *whole)
{
	return ops_old(old, whole, OPS_0_1);
}

const struct scheme_ops *
scheme_ops_0_2(const struct scheme_ops *old, struct scheme_ops *whole)
{
	return ops_old(old, whole, OPS_0_2);
}

int64_t
scheme_dispatch_0_1(const struct scheme_ops *ops, void *ctx,
		    struct scheme_packet *p)
{
	struct scheme_ops whole;

	return scheme_dispatch_0_3(scheme_ops_0_1(ops, &whole), ctx, p);
}

int64_t
scheme_dispatch_0_2(const struct scheme_ops *ops, void *ctx,
		    struct scheme_packet *p)
{
	struct scheme_ops whole;

	return scheme_dispatch_0_3(scheme_ops_0_2(ops, &whole), ctx, p);
}

__asm__(".symver scheme_dispatch_0_1, scheme_dispatch@SCHEME_0.1");
__asm__(".symver scheme_dispatch_0_2, scheme_dispatch@SCHEME_0.2");
__asm__(".symver scheme_dispatch_0_3, scheme_dispatch@@SCHEME_0.3");
