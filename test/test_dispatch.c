/*
 * test_dispatch.c - unit suite for libscheme's provider helper:
 * scheme_dispatch() with made-up packets (each request kind decoded into
 * its member's arguments, NULL members, unknown kinds, deferring, requests
 * refused before any member sees them), scheme_serve() over a socket pair,
 * the no-preload check (scheme_preloaded, scheme_create) and the names
 * the library exports.  Runs without the preload.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

/* What the last member called was given. */
static struct call {
	const char *op;
	void *ctx;
	const struct scheme_packet *p;
	uint64_t handle;
	const void *ptr;
	size_t len;
	int64_t s; /* offset, length */
	uint64_t u, v;
	int calls;
} last;
static int64_t result = 42; /* what the members return */

static int64_t
seen(const char *op, void *ctx, const struct scheme_packet *p, uint64_t h,
     const void *ptr, size_t len)
{
	last.op = op;
	last.ctx = ctx;
	last.p = p;
	last.handle = h;
	last.ptr = ptr;
	last.len = len;
	last.calls++;
	return result;
}

static int64_t
r_open(void *ctx, const struct scheme_packet *p, const char *path,
       uint64_t flags)
{
	last.u = flags;
	return seen("open", ctx, p, 0, path, 0);
}

static int64_t
r_read(void *ctx, const struct scheme_packet *p, uint64_t h, void *buf,
       size_t len)
{
	return seen("read", ctx, p, h, buf, len);
}

static int64_t
r_write(void *ctx, const struct scheme_packet *p, uint64_t h, const void *buf,
	size_t len)
{
	return seen("write", ctx, p, h, buf, len);
}

static int64_t
r_lseek(void *ctx, const struct scheme_packet *p, uint64_t h, int64_t off,
	int whence)
{
	last.s = off;
	last.u = (uint64_t)whence;
	return seen("lseek", ctx, p, h, NULL, 0);
}

static int64_t
r_fcntl(void *ctx, const struct scheme_packet *p, uint64_t h, int cmd,
	uint64_t arg)
{
	last.u = (uint64_t)cmd;
	last.v = arg;
	return seen("fcntl", ctx, p, h, NULL, 0);
}

static int64_t
r_fevent(void *ctx, const struct scheme_packet *p, uint64_t h, uint64_t flags)
{
	last.u = flags;
	return seen("fevent", ctx, p, h, NULL, 0);
}

static int64_t
r_fpath(void *ctx, const struct scheme_packet *p, uint64_t h, void *buf,
	size_t len)
{
	return seen("fpath", ctx, p, h, buf, len);
}

static int64_t
r_fstat(void *ctx, const struct scheme_packet *p, uint64_t h, struct stat *st)
{
	last.u = st->st_size == 0 && st->st_mode == 0; /* zeroed */
	st->st_size = 1234;
	return seen("fstat", ctx, p, h, st, 0);
}

static int64_t
r_fstatvfs(void *ctx, const struct scheme_packet *p, uint64_t h,
	   struct statvfs *st)
{
	last.u = st->f_bsize == 0 && st->f_namemax == 0;
	st->f_bsize = 4096;
	return seen("fstatvfs", ctx, p, h, st, 0);
}

static int64_t
r_fsync(void *ctx, const struct scheme_packet *p, uint64_t h)
{
	return seen("fsync", ctx, p, h, NULL, 0);
}

static int64_t
r_ftruncate(void *ctx, const struct scheme_packet *p, uint64_t h, int64_t len)
{
	last.s = len;
	return seen("ftruncate", ctx, p, h, NULL, 0);
}

static int64_t
r_fchmod(void *ctx, const struct scheme_packet *p, uint64_t h, uint32_t mode)
{
	last.u = mode;
	return seen("fchmod", ctx, p, h, NULL, 0);
}

static int64_t
r_fchown(void *ctx, const struct scheme_packet *p, uint64_t h, uint32_t uid,
	 uint32_t gid)
{
	last.u = uid;
	last.v = gid;
	return seen("fchown", ctx, p, h, NULL, 0);
}

static int64_t
r_frename(void *ctx, const struct scheme_packet *p, uint64_t h,
	  const char *path)
{
	return seen("frename", ctx, p, h, path, 0);
}

static int64_t
r_flink(void *ctx, const struct scheme_packet *p, uint64_t h, const char *path)
{
	return seen("flink", ctx, p, h, path, 0);
}

static int64_t
r_grant(void *ctx, const struct scheme_packet *p, uint64_t h)
{
	return seen("grant", ctx, p, h, NULL, 0);
}

static int64_t
r_futimens(void *ctx, const struct scheme_packet *p, uint64_t h,
	   const struct timespec *ts)
{
	return seen("futimens", ctx, p, h, ts, 0);
}

static int64_t
r_dup(void *ctx, const struct scheme_packet *p, uint64_t h, const void *buf,
      size_t len)
{
	return seen("dup", ctx, p, h, buf, len);
}

static int64_t
r_unlink(void *ctx, const struct scheme_packet *p, const char *path)
{
	return seen("unlink", ctx, p, 0, path, 0);
}

static int64_t
r_rmdir(void *ctx, const struct scheme_packet *p, const char *path)
{
	return seen("rmdir", ctx, p, 0, path, 0);
}

static int64_t
r_close(void *ctx, const struct scheme_packet *p, uint64_t h)
{
	return seen("close", ctx, p, h, NULL, 0);
}

static int64_t
r_read2(void *ctx, const struct scheme_packet *p, uint64_t h, void *buf,
	size_t len, uint64_t off, uint32_t flags)
{
	last.s = (int64_t)off;
	last.u = flags;
	return seen("read2", ctx, p, h, buf, len);
}

static int64_t
r_write2(void *ctx, const struct scheme_packet *p, uint64_t h,
	 const void *buf, size_t len, uint64_t off, uint32_t flags)
{
	last.s = (int64_t)off;
	last.u = flags;
	return seen("write2", ctx, p, h, buf, len);
}

static int64_t
r_fallocate(void *ctx, const struct scheme_packet *p, uint64_t h,
	    uint32_t mode, uint64_t off, uint64_t len)
{
	last.s = (int64_t)off;
	last.u = mode;
	last.v = len;
	return seen("fallocate", ctx, p, h, NULL, 0);
}

static int64_t
r_lock(void *ctx, const struct scheme_packet *p, uint64_t h,
       struct scheme_lock *lk)
{
	return seen("lock", ctx, p, h, lk, 0);
}

static const struct scheme_ops all = {
    .open = r_open,
    .read = r_read,
    .write = r_write,
    .lseek = r_lseek,
    .fcntl = r_fcntl,
    .fevent = r_fevent,
    .fpath = r_fpath,
    .fstat = r_fstat,
    .fstatvfs = r_fstatvfs,
    .fsync = r_fsync,
    .ftruncate = r_ftruncate,
    .fchmod = r_fchmod,
    .fchown = r_fchown,
    .frename = r_frename,
    .futimens = r_futimens,
    .dup = r_dup,
    .unlink = r_unlink,
    .rmdir = r_rmdir,
    .close = r_close,
    .read2 = r_read2,
    .write2 = r_write2,
    .fallocate = r_fallocate,
    .flink = r_flink,
    .lock = r_lock,
    .grant = r_grant,
};

static const uint64_t kinds[] = {
    SYS_OPEN,	   SYS_READ,	  SYS_WRITE,  SYS_LSEEK,    SYS_FCNTL,
    SYS_FEVENT,	   SYS_FPATH,	  SYS_FSTAT,  SYS_FSTATVFS, SYS_FSYNC,
    SYS_FTRUNCATE, SYS_FCHMOD,	  SYS_FCHOWN, SYS_FRENAME,  SYS_FUTIMENS,
    SYS_DUP,	   SYS_UNLINK,	  SYS_RMDIR,  SYS_CLOSE,    SYS_READ2,
    SYS_WRITE2,	   SYS_FALLOCATE, SYS_FLINK,  SYS_LOCK,   SYS_FGRANT,
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int ctx_token;
static char path[] = "dir/file";
static _Alignas(16) char buf[512];
static struct scheme_io io; /* c of the optional requests */
static struct scheme_lock lk; /* c of SYS_LOCK */

static void
reset(void)
{
	memset(&last, 0, sizeof(last));
	memset(buf, 0, sizeof(buf));
	result = 42;
}

static struct scheme_packet
pkt(uint64_t kind, uint64_t b, uint64_t c, uint64_t d)
{
	return (struct scheme_packet){.id = 77,
				      .pid = 123,
				      .uid = 1000,
				      .gid = 100,
				      .a = kind,
				      .b = b,
				      .c = c,
				      .d = d};
}

static uint64_t
addr(const void *ptr)
{
	return (uint64_t)(uintptr_t)ptr;
}

/* A request of that kind, with arguments it can be decoded from. */
static struct scheme_packet
valid(uint64_t kind)
{
	switch (kind) {
	case SYS_OPEN:
	case SYS_UNLINK:
	case SYS_RMDIR:
		return pkt(kind, addr(path), 8, 0);
	case SYS_FRENAME:
	case SYS_FLINK:
		return pkt(kind, 1, addr(path), 8);
	case SYS_LSEEK:
	case SYS_FCNTL:
		return pkt(kind, 1, 0, 0);
	case SYS_READ2:
	case SYS_WRITE2:
	case SYS_FALLOCATE:
		io = (struct scheme_io){.offset = 4096,
					.len = sizeof(buf),
					.buf = kind != SYS_FALLOCATE ? addr(buf) : 0};
		return pkt(kind, 1, addr(&io), sizeof(io));
	case SYS_LOCK:
		lk = (struct scheme_lock){.cmd = SCHEME_LOCK_SET,
					  .kind = SCHEME_LOCK_POSIX,
					  .type = F_WRLCK,
					  .end = 9,
					  .owner = 123};
		return pkt(kind, 1, addr(&lk), sizeof(lk));
	default: /* the buffer fits any struct or bytes asked */
		return pkt(kind, 1, addr(buf), sizeof(buf));
	}
}

/* Dispatch p to `all`; the member named op must have been called once. */
static void
call(struct scheme_packet *p, const char *op)
{
	int64_t r;

	reset();
	r = scheme_dispatch(&all, &ctx_token, p);
	ck_assert_int_eq(r, 42);
	ck_assert_uint_eq(p->a, 42);
	ck_assert_int_eq(last.calls, 1);
	ck_assert_str_eq(last.op, op);
	ck_assert_ptr_eq(last.ctx, &ctx_token);
	ck_assert_ptr_eq(last.p, p);
}

/* Dispatch p to `all`: refused with err, no member called. */
static void
refused(struct scheme_packet p, int err)
{
	reset();
	ck_assert_int_eq(scheme_dispatch(&all, &ctx_token, &p), -err);
	ck_assert_int_eq((int64_t)p.a, -err);
	ck_assert_int_eq(last.calls, 0);
}

START_TEST(paths_decoded)
{
	struct scheme_packet p =
	    pkt(SYS_OPEN, addr(path), 8, O_CREAT | O_RDWR | (0640ull << 32));

	call(&p, "open");
	ck_assert_ptr_eq(last.ptr, path);
	ck_assert_uint_eq(last.u, O_CREAT | O_RDWR | (0640ull << 32));
	ck_assert_uint_eq(p.id, 77); /* the rest of the packet is left */
	ck_assert_uint_eq(p.b, addr(path));
	p = pkt(SYS_UNLINK, addr(path), 8, 0);
	call(&p, "unlink");
	ck_assert_ptr_eq(last.ptr, path);
	p = pkt(SYS_RMDIR, addr(path), 8, 0);
	call(&p, "rmdir");
	ck_assert_ptr_eq(last.ptr, path);
	p = pkt(SYS_FRENAME, 5, addr(path), 8);
	call(&p, "frename");
	ck_assert_uint_eq(last.handle, 5);
	ck_assert_ptr_eq(last.ptr, path);
	p = pkt(SYS_FLINK, 6, addr(path), 8);
	call(&p, "flink");
	ck_assert_uint_eq(last.handle, 6);
	ck_assert_ptr_eq(last.ptr, path);
	p = pkt(SYS_OPEN, addr(""), 0, O_RDONLY); /* the root */
	call(&p, "open");
	ck_assert_str_eq(last.ptr, "");
}
END_TEST

START_TEST(buffers_decoded)
{
	struct scheme_packet p = pkt(SYS_READ, 3, addr(buf), 100);

	call(&p, "read");
	ck_assert_uint_eq(last.handle, 3);
	ck_assert_ptr_eq(last.ptr, buf);
	ck_assert_uint_eq(last.len, 100);
	p = pkt(SYS_WRITE, 4, addr(buf), 7);
	call(&p, "write");
	ck_assert_uint_eq(last.handle, 4);
	ck_assert_ptr_eq(last.ptr, buf);
	ck_assert_uint_eq(last.len, 7);
	p = pkt(SYS_FPATH, 5, addr(buf), 64);
	call(&p, "fpath");
	ck_assert_ptr_eq(last.ptr, buf);
	ck_assert_uint_eq(last.len, 64);
	p = pkt(SYS_DUP, 6, addr(buf), 3);
	call(&p, "dup");
	ck_assert_uint_eq(last.handle, 6);
	ck_assert_ptr_eq(last.ptr, buf);
	ck_assert_uint_eq(last.len, 3);
	p = pkt(SYS_READ, 3, 0,
		0); /* no bytes, no buffer: asked all the same */
	call(&p, "read");
	ck_assert_uint_eq(last.len, 0);
}
END_TEST

START_TEST(numbers_decoded)
{
	struct scheme_packet p = pkt(SYS_LSEEK, 9, (uint64_t)-5, SEEK_END);

	call(&p, "lseek");
	ck_assert_uint_eq(last.handle, 9);
	ck_assert_int_eq(last.s, -5);
	ck_assert_uint_eq(last.u, SEEK_END);
	p = pkt(SYS_FCNTL, 9, F_SETFL, O_NONBLOCK);
	call(&p, "fcntl");
	ck_assert_uint_eq(last.u, F_SETFL);
	ck_assert_uint_eq(last.v, O_NONBLOCK);
	p = pkt(SYS_FEVENT, 9, EVENT_READ | EVENT_WRITE, 0);
	call(&p, "fevent");
	ck_assert_uint_eq(last.u, EVENT_READ | EVENT_WRITE);
	p = pkt(SYS_FSYNC, 9, 0, 0);
	call(&p, "fsync");
	ck_assert_uint_eq(last.handle, 9);
	p = pkt(SYS_FTRUNCATE, 9, 1ull << 40, 0);
	call(&p, "ftruncate");
	ck_assert_int_eq(last.s, 1ll << 40);
	p = pkt(SYS_FTRUNCATE, 9, (uint64_t)-1, 0); /* the member judges */
	call(&p, "ftruncate");
	ck_assert_int_eq(last.s, -1);
	p = pkt(SYS_FCHMOD, 9, 04755, 0);
	call(&p, "fchmod");
	ck_assert_uint_eq(last.u, 04755);
	p = pkt(SYS_FCHOWN, 9, (uint32_t)-1, 100); /* -1: leave the uid */
	call(&p, "fchown");
	ck_assert_uint_eq(last.u, UINT32_MAX);
	ck_assert_uint_eq(last.v, 100);
}
END_TEST

START_TEST(structs_decoded)
{
	struct stat *st = (struct stat *)buf;
	struct statvfs *sv = (struct statvfs *)buf;
	struct timespec *ts = (struct timespec *)buf;
	struct scheme_packet p;

	memset(buf, 0xAA, sizeof(buf));
	p = pkt(SYS_FSTAT, 2, addr(buf), sizeof(*st));
	reset();
	memset(buf, 0xAA, sizeof(buf)); /* the member gets it zeroed */
	ck_assert_int_eq(scheme_dispatch(&all, NULL, &p), 42);
	ck_assert_str_eq(last.op, "fstat");
	ck_assert_ptr_eq(last.ptr, buf);
	ck_assert_uint_eq(last.u, 1);
	ck_assert_int_eq(st->st_size, 1234);
	p = pkt(SYS_FSTATVFS, 2, addr(buf), sizeof(*sv) + 8);
	reset();
	memset(buf, 0xAA, sizeof(buf));
	ck_assert_int_eq(scheme_dispatch(&all, NULL, &p), 42);
	ck_assert_str_eq(last.op, "fstatvfs");
	ck_assert_uint_eq(last.u, 1);
	ck_assert_uint_eq(sv->f_bsize, 4096);
	p = pkt(SYS_FUTIMENS, 2, addr(buf), 2 * sizeof(*ts));
	call(&p, "futimens");
	ck_assert_ptr_eq(last.ptr, ts);
	p = pkt(SYS_FUTIMENS, 2, 0, 0); /* no times: both now */
	call(&p, "futimens");
	ck_assert_ptr_null(last.ptr);
}
END_TEST

/* What the system never sends is refused before a member sees it. */
START_TEST(bad_arguments_refused)
{
	static char unterminated[4] = {'a', 'b', 'c', 'd'};
	static char nul_inside[] = "ab\0cd";

	refused(pkt(SYS_OPEN, 0, 0, 0), EFAULT);
	refused(pkt(SYS_OPEN, addr(unterminated), 3, 0), EINVAL);
	refused(pkt(SYS_OPEN, addr(nul_inside), 5, 0), EINVAL);
	refused(pkt(SYS_UNLINK, addr(nul_inside), 5, 0), EINVAL);
	refused(pkt(SYS_RMDIR, 0, 4, 0), EFAULT);
	refused(pkt(SYS_FRENAME, 1, addr(nul_inside), 5), EINVAL);
	refused(pkt(SYS_FLINK, 1, addr(unterminated), 3), EINVAL);
	refused(pkt(SYS_READ, 1, 0, 10), EFAULT);
	refused(pkt(SYS_WRITE, 1, 0, 10), EFAULT);
	refused(pkt(SYS_FPATH, 1, 0, 10), EFAULT);
	refused(pkt(SYS_DUP, 1, 0, 10), EFAULT);
	refused(pkt(SYS_LSEEK, 1, 0, (uint64_t)INT_MAX + 1), EINVAL);
	refused(pkt(SYS_FCNTL, 1, (uint64_t)INT_MAX + 1, 0), EINVAL);
	refused(pkt(SYS_FSTAT, 1, addr(buf), sizeof(struct stat) - 1), EINVAL);
	refused(pkt(SYS_FSTAT, 1, addr(buf + 1), sizeof(struct stat)), EFAULT);
	refused(pkt(SYS_FSTAT, 1, 0, sizeof(struct stat)), EFAULT);
	refused(pkt(SYS_FSTATVFS, 1, addr(buf), 8), EINVAL);
	refused(pkt(SYS_FUTIMENS, 1, addr(buf), sizeof(struct timespec)),
		EINVAL);
	refused(pkt(SYS_FUTIMENS, 1, addr(buf + 4), 32), EFAULT);
}
END_TEST

START_TEST(null_members_enosys)
{
	static const struct scheme_ops none;
	struct scheme_packet p;

	for (size_t i = 0; i < NKINDS; i++) {
		p = valid(kinds[i]);
		/* Nobody waits for a close: without a member, 0. */
		ck_assert_int_eq(scheme_dispatch(&none, NULL, &p),
				 kinds[i] == SYS_CLOSE ? 0 : -ENOSYS);
		ck_assert_int_eq((int64_t)p.a,
				 kinds[i] == SYS_CLOSE ? 0 : -ENOSYS);
		p.a = kinds[i];
		ck_assert_int_eq(scheme_dispatch(NULL, NULL, &p),
				 kinds[i] == SYS_CLOSE ? 0 : -ENOSYS);
	}
}
END_TEST

START_TEST(every_kind_reaches_its_member)
{
	static const char *names[] = {
	    "open",   "read",	 "write",    "lseek",	  "fcntl",     "fevent",
	    "fpath",  "fstat",	 "fstatvfs", "fsync",	  "ftruncate", "fchmod",
	    "fchown", "frename", "futimens", "dup",	  "unlink",    "rmdir",
	    "close",  "read2",	 "write2",   "fallocate", "flink",     "lock",     "grant",
	};
	struct scheme_packet p;

	for (size_t i = 0; i < NKINDS; i++) {
		p = valid(kinds[i]);
		call(&p, names[i]);
	}
}
END_TEST

START_TEST(unknown_kinds_enosys)
{
	const uint64_t odd[] = {
	    0,
	    1,
	    SYS_READ % 0x10000,	     /* Redox's number without the class */
	    SYS_READ | (1ull << 32), /* more bits than any kind has */
	    SYS_OPEN ^ 0x10000000,   /* the number of one, another class */
	    0x20000000 | 0x3A1,	     /* past the last number */
	    0x2000FFFF,
	    UINT64_MAX,
	};

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		refused(pkt(odd[i], addr(path), 8, 0), ENOSYS);
}
END_TEST

/*
 * The optional requests: offset, length, buffer and flags out of their
 * struct scheme_io, which is marked served for a member, and only then;
 * what fallocate(2) and pread(2) would refuse is refused.
 */
START_TEST(io_decoded)
{
	static const struct scheme_ops none;
	struct scheme_packet p;

	p = valid(SYS_READ2);
	io.flags = RWF_DSYNC;
	call(&p, "read2");
	ck_assert_ptr_eq(last.ptr, buf);
	ck_assert_uint_eq(last.len, sizeof(buf));
	ck_assert_int_eq(last.s, 4096);
	ck_assert_uint_eq(last.u, RWF_DSYNC);
	ck_assert_uint_eq(io.served, SCHEME_SERVED);
	p = valid(SYS_WRITE2);
	call(&p, "write2");
	ck_assert_ptr_eq(last.ptr, buf);
	ck_assert_uint_eq(io.served, SCHEME_SERVED);
	p = valid(SYS_FALLOCATE);
	io.flags = FALLOC_FL_KEEP_SIZE;
	call(&p, "fallocate");
	ck_assert_uint_eq(last.u, FALLOC_FL_KEEP_SIZE);
	ck_assert_uint_eq(last.v, sizeof(buf));
	ck_assert_uint_eq(io.served, SCHEME_SERVED);

	for (size_t i = 0; i < 3; i++) { /* a NULL member: not served */
		p = valid((uint64_t[]){SYS_READ2, SYS_WRITE2, SYS_FALLOCATE}[i]);
		ck_assert_int_eq(scheme_dispatch(&none, NULL, &p), -ENOSYS);
		ck_assert_uint_eq(io.served, 0);
	}
	p = valid(SYS_READ2);
	p.d = sizeof(io) - 1;
	refused(p, EINVAL);
	p = valid(SYS_READ2);
	io.offset = (uint64_t)INT64_MAX + 1;
	refused(p, EINVAL);
	p = valid(SYS_WRITE2);
	io.buf = 0;
	refused(p, EFAULT);
	p = valid(SYS_FALLOCATE);
	io.len = 0;
	refused(p, EINVAL);
	p = valid(SYS_FALLOCATE);
	io.offset = INT64_MAX - 10;
	io.len = 11;
	refused(p, EFBIG);
}
END_TEST

/*
 * SYS_LOCK: the member gets the request's own struct, marked served; a
 * NULL member leaves it unmarked (the system keeps the locks).
 */
START_TEST(lock_decoded)
{
	static const struct scheme_ops none;
	struct scheme_packet p = valid(SYS_LOCK);

	call(&p, "lock");
	ck_assert_ptr_eq(last.ptr, &lk);
	ck_assert_uint_eq(last.handle, 1);
	ck_assert_uint_eq(lk.served, SCHEME_SERVED);
	p = valid(SYS_LOCK);
	ck_assert_int_eq(scheme_dispatch(&none, NULL, &p), -ENOSYS);
	ck_assert_uint_eq(lk.served, 0);
	p = valid(SYS_LOCK);
	p.d = sizeof(lk) - 1;
	refused(p, EINVAL);
	p = valid(SYS_LOCK);
	lk.cmd = SCHEME_LOCK_RELEASE_ALL + 1;
	refused(p, EINVAL);
	ck_assert_uint_eq(lk.served, SCHEME_SERVED); /* known, refused */
	p = valid(SYS_LOCK);
	lk.start = 10; /* past its end */
	refused(p, EINVAL);
}
END_TEST

/*
 * A provider built with SCHEME_0.1's header passes a struct that ends
 * with close: the old symbols read no further (ASan would see it: the
 * struct is allocated to its old size) and answer the new kinds ENOSYS.
 */
START_TEST(old_struct_served)
{
	void *lib = dlopen("libscheme.so.0", RTLD_NOW | RTLD_NOLOAD);
	size_t old = offsetof(struct scheme_ops, read2);
	int64_t (*dispatch01)(const struct scheme_ops *, void *,
			      struct scheme_packet *);
	struct scheme_ops *ops = malloc(old);
	struct scheme_packet p;

	ck_assert_ptr_nonnull(lib);
	ck_assert_ptr_nonnull(ops);
	memcpy(ops, &all, old);
	*(void **)&dispatch01 = dlvsym(lib, "scheme_dispatch", "SCHEME_0.1");
	ck_assert_ptr_nonnull(dispatch01);
	p = valid(SYS_READ);
	reset();
	ck_assert_int_eq(dispatch01(ops, NULL, &p), 42);
	ck_assert_str_eq(last.op, "read");
	p = valid(SYS_READ2);
	reset();
	ck_assert_int_eq(dispatch01(ops, NULL, &p), -ENOSYS);
	ck_assert_int_eq(last.calls, 0);
	ck_assert_uint_eq(io.served, 0);
	p = valid(SYS_FLINK);
	reset();
	ck_assert_int_eq(dispatch01(ops, NULL, &p), -ENOSYS);
	ck_assert_int_eq(last.calls, 0);
	p = valid(SYS_LOCK);
	reset();
	ck_assert_int_eq(dispatch01(ops, NULL, &p), -ENOSYS);
	ck_assert_int_eq(last.calls, 0);
	ck_assert_uint_eq(lk.served, 0); /* the system keeps its locks */
	free(ops);
	dlclose(lib);
}
END_TEST

/*
 * One built with SCHEME_0.2's, which ends with flink: its symbols read
 * no further, and answer SYS_FGRANT ENOSYS (nothing is cached).
 */
START_TEST(struct_0_2_served)
{
	void *lib = dlopen("libscheme.so.0", RTLD_NOW | RTLD_NOLOAD);
	size_t old = offsetof(struct scheme_ops, grant);
	int64_t (*dispatch02)(const struct scheme_ops *, void *,
			      struct scheme_packet *);
	struct scheme_ops *ops = malloc(old);
	struct scheme_packet p;

	ck_assert_ptr_nonnull(lib);
	ck_assert_ptr_nonnull(ops);
	memcpy(ops, &all, old);
	*(void **)&dispatch02 = dlvsym(lib, "scheme_dispatch", "SCHEME_0.2");
	ck_assert_ptr_nonnull(dispatch02);
	p = valid(SYS_FLINK);
	reset();
	ck_assert_int_eq(dispatch02(ops, NULL, &p), 42);
	ck_assert_str_eq(last.op, "flink");
	p = valid(SYS_FGRANT);
	reset();
	ck_assert_int_eq(dispatch02(ops, NULL, &p), -ENOSYS);
	ck_assert_int_eq(last.calls, 0);
	free(ops);
	dlclose(lib);
}
END_TEST

static struct scheme_packet kept;

static int64_t
keep(void *ctx, const struct scheme_packet *p, uint64_t h, void *b, size_t n)
{
	kept = *p;
	return SCHEME_DEFER;
}

START_TEST(deferred_request_left_alone)
{
	static const struct scheme_ops ops = {.read = keep};
	struct scheme_packet p = pkt(SYS_READ, 3, addr(buf), 10), before = p;

	ck_assert_int_eq(scheme_dispatch(&ops, NULL, &p), SCHEME_DEFER);
	ck_assert_mem_eq(&p, &before, sizeof(p)); /* no answer in it */
	ck_assert_mem_eq(&kept, &before, sizeof(p));
	ck_assert(SCHEME_DEFER < -4095); /* never a value or an errno */
}
END_TEST

START_TEST(close_answered_like_any)
{
	struct scheme_packet p = pkt(SYS_CLOSE, 12, 0, 0);

	reset();
	result = -EBADF; /* the value is ignored, but it is what was said */
	ck_assert_int_eq(scheme_dispatch(&all, NULL, &p), -EBADF);
	ck_assert_str_eq(last.op, "close");
	ck_assert_uint_eq(last.handle, 12);
	ck_assert_int_eq((int64_t)p.a, -EBADF);
}
END_TEST

/* scheme_serve() ------------------------------------------------------- */

/* Reads of odd handles are kept, of even ones answered ten times h. */
static int64_t
s_read(void *ctx, const struct scheme_packet *p, uint64_t h, void *b, size_t n)
{
	if (h % 2) {
		kept = *p;
		return SCHEME_DEFER;
	}
	return (int64_t)h * 10;
}

START_TEST(serve_one_batch)
{
	static const struct scheme_ops ops = {.read = s_read};
	struct scheme_packet in[5], out[8];
	int sv[2];
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (int i = 0; i < 4; i++) {
		in[i] = pkt(SYS_READ, (uint64_t)i, addr(buf), 1);
		in[i].id = 100 + (uint64_t)i;
	}
	in[4] = pkt(0x1234, 0, 0, 0);
	in[4].id = 104;
	ck_assert_int_eq(write(sv[0], in, sizeof(in)), sizeof(in));
	ck_assert_int_eq(scheme_serve(sv[1], &ops, NULL), 5);
	n = read(sv[0], out, sizeof(out));
	ck_assert_int_eq(n, 3 * sizeof(out[0])); /* 1 and 3 kept */
	ck_assert_uint_eq(out[0].id, 100);
	ck_assert_uint_eq(out[0].a, 0);
	ck_assert_uint_eq(out[1].id, 102);
	ck_assert_uint_eq(out[1].a, 20);
	ck_assert_uint_eq(out[2].id, 104);
	ck_assert_int_eq((int64_t)out[2].a, -ENOSYS);
	ck_assert_uint_eq(kept.id, 103);
	close(sv[0]); /* the scheme is gone: end-of-file */
	ck_assert_int_eq(scheme_serve(sv[1], &ops, NULL), 0);
	close(sv[1]);
}
END_TEST

START_TEST(serve_nothing_queued)
{
	int sv[2];

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	errno = 0;
	ck_assert_int_eq(scheme_serve(sv[1], &all, NULL), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(write(sv[0], "short", 5), 5); /* not a packet */
	ck_assert_int_eq(scheme_serve(sv[1], &all, NULL), -1);
	ck_assert_int_eq(errno, EPROTO);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Without the preload ----------------------------------------------------- */

START_TEST(no_preload_creates_nothing)
{
	char dir[] = "/tmp/scheme-dispatch-XXXXXX";
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(scheme_preloaded(), 0);
	errno = 0;
	ck_assert_int_eq(scheme_create("x", 0), -1);
	ck_assert_int_eq(errno, ENOSYS);
	ck_assert_int_eq(stat(":x", &st), -1); /* no file called :x */
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(scheme_create("", 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(rmdir(dir), 0); /* and nothing else either */
}
END_TEST

/*
 * The library exports its API, each name under its version, and nothing
 * else: what nm(1) lists as defined in its dynamic symbol table.
 * scheme_dispatch and scheme_serve are there three times: SCHEME_0.1's,
 * for the struct scheme_ops that ended with close, SCHEME_0.2's, for the
 * one that ended with flink, and SCHEME_0.3's, the default.
 */
START_TEST(exported_names)
{
	static const char *api[] = {"getns@@SCHEME_0.1",
				    "setrens@@SCHEME_0.1",
				    "mkns@@SCHEME_0.1",
				    "scheme_create@@SCHEME_0.1",
				    "scheme_preloaded@@SCHEME_0.1",
				    "scheme_dispatch@SCHEME_0.1",
				    "scheme_serve@SCHEME_0.1",
				    "scheme_dispatch@SCHEME_0.2",
				    "scheme_serve@SCHEME_0.2",
				    "scheme_dispatch@@SCHEME_0.3",
				    "scheme_serve@@SCHEME_0.3"};
	void *lib = dlopen("libscheme.so.0", RTLD_NOW | RTLD_NOLOAD);
	char cmd[PATH_MAX + 64], line[256], name[128];
	size_t napi = sizeof(api) / sizeof(api[0]), found = 0;
	Dl_info info;
	FILE *nm;

	ck_assert_ptr_nonnull(lib);
	for (size_t i = 0; i < napi; i++) {
		char fn[64];
		const char *at = strchr(api[i], '@');

		snprintf(fn, sizeof(fn), "%.*s", (int)(at - api[i]), api[i]);
		ck_assert_msg(dlvsym(lib, fn, at + 1 + (at[1] == '@')) != NULL,
			      "%s is not exported", api[i]);
	}
	ck_assert(dladdr(dlsym(lib, "scheme_dispatch"), &info) != 0);
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", info.dli_fname);
	ck_assert_ptr_nonnull(nm = popen(cmd, "r"));
	while (fgets(line, sizeof(line), nm) != NULL) {
		char type;
		bool known = false;

		ck_assert_int_eq(sscanf(line, "%*s %c %127s", &type, name), 2);
		if (type == 'A') /* the version node itself */
			continue;
		for (size_t i = 0; i < napi; i++)
			known |= strcmp(name, api[i]) == 0;
		ck_assert_msg(known, "%s is exported", name);
		found++;
	}
	ck_assert_int_eq(pclose(nm), 0);
	ck_assert_uint_eq(found, napi);
	dlclose(lib);
}
END_TEST

static Suite *
dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc = tcase_create("dispatch");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, paths_decoded);
	tcase_add_test(tc, buffers_decoded);
	tcase_add_test(tc, numbers_decoded);
	tcase_add_test(tc, structs_decoded);
	tcase_add_test(tc, bad_arguments_refused);
	tcase_add_test(tc, null_members_enosys);
	tcase_add_test(tc, every_kind_reaches_its_member);
	tcase_add_test(tc, io_decoded);
	tcase_add_test(tc, lock_decoded);
	tcase_add_test(tc, old_struct_served);
	tcase_add_test(tc, struct_0_2_served);
	tcase_add_test(tc, unknown_kinds_enosys);
	tcase_add_test(tc, deferred_request_left_alone);
	tcase_add_test(tc, close_answered_like_any);
	tcase_add_test(tc, serve_one_batch);
	tcase_add_test(tc, serve_nothing_queued);
	tcase_add_test(tc, no_preload_creates_nothing);
	tcase_add_test(tc, exported_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(dispatch_suite());
}
