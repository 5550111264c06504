/*
 * preload_stubs.c - what resolve.c and dir.c need from the rest of the
 * preload, answered from the fuzz input (see preload_stubs.h).
 *
 * The stubs keep the contracts of the real functions (client.h, fdops.h):
 * >= 0 or -errno, a read fills at most the iovec it is given, SYS_FPATH
 * writes at most len bytes and no NUL.  They check that they are called
 * only on the fds that are scheme fds here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scheme/scheme.h>
#include <sys/sysmacros.h>

#include "../preload/attrcache.h"
#include "../preload/client.h"
#include "../preload/fdops.h"
#include "../preload/real.h"
#include "../preload/uaccess.h"
#include "fuzz.h"
#include "preload_stubs.h"

_Atomic(struct sfd *) *_Atomic fdtab_top[FDTAB_CHUNKS];
struct real_fns real_fn;
struct fake_provider fake;

static _Atomic(struct sfd *) chunk0[1u << FDTAB_CHUNK_BITS];
static struct sfd entries[2];

/* The reopened listing's fd is closed as a request's, past any table. */
static int
fake_close(int fd)
{
	if (fd != FAKE_REOPEN)
		fuzz_fail("close of fd %d", fd);
	fake.closes++;
	return 0;
}

void
real_init(void)
{
	real_fn.stat = stat;
	real_fn.close = fake_close;
	real_fn.getcwd = getcwd; /* resolve.c: "scheme/..." relative to ours */
	real_fn.readlink = readlink;
}

static struct sfd *
entry_of(int fd)
{
	if (fd != FAKE_FD && fd != FAKE_REOPEN)
		fuzz_fail("a call on fd %d, not a scheme fd here", fd);
	return &entries[fd - FAKE_FD];
}

static const struct sfd_ops fake_client_ops;

void
fake_fd_set(int fd, uint64_t key)
{
	struct sfd *e = entry_of(fd);

	atomic_store(&fdtab_top[0], chunk0);
	memset(e, 0, sizeof(*e));
	e->ops = &fake_client_ops;
	e->inst = 1;
	e->key = key;
	atomic_store(&chunk0[fd], e);
}

void
fake_fd_clear(int fd)
{
	entry_of(fd);
	atomic_store(&chunk0[fd], NULL);
}

ssize_t
sc_readv(int fd, struct sfd *e, const struct iovec *iov, int iovcnt)
{
	size_t n, left = fake.len - fake.pos;

	if ((fd == FAKE_FD && e != entry_of(fd)) ||
	    (fd == FAKE_REOPEN && e->key != 1000 + (uint64_t)fake.opens) ||
	    iovcnt != 1)
		fuzz_fail("sc_readv: fd %d, %d iovecs", fd, iovcnt);
	fake.reads++;
	if (fd == FAKE_FD && fake.eisdir && fake.reads == 1)
		return -EISDIR;
	if (fake.reads == fake.fail_read)
		return -EIO;
	n = iov[0].iov_len < left ? iov[0].iov_len : left;
	if (fake.chunk != 0 && n > fake.chunk)
		n = fake.chunk;
	/* Every byte of the buffer must be ours to write, not just n. */
	memset(iov[0].iov_base, 0xa5, iov[0].iov_len);
	memcpy(iov[0].iov_base, fake.text + fake.pos, n);
	fake.pos += n;
	return (ssize_t)n;
}

/* SYS_GETDENTS (or _STAT): the listing's bytes as they come, in chunks. */
static ssize_t
dents(int fd, struct sfd *e, void *buf, size_t len, bool served)
{
	size_t n, left = fake.len - fake.pos;

	if (!served)
		return -ENOSYS;
	if (e != entry_of(fd))
		fuzz_fail("sc_getdents: fd %d", fd);
	fake.reads++;
	if (fake.reads == fake.fail_read)
		return -EIO;
	n = len < left ? len : left;
	if (fake.chunk != 0 && n > fake.chunk)
		n = fake.chunk;
	memset(buf, 0xa5, len);
	memcpy(buf, fake.text + fake.pos, n);
	fake.pos += n;
	return (ssize_t)n;
}

ssize_t
sc_getdents(int fd, struct sfd *e, void *buf, size_t len)
{
	return dents(fd, e, buf, len, fake.typed);
}

ssize_t
sc_getdents_stat(int fd, struct sfd *e, void *buf, size_t len)
{
	return dents(fd, e, buf, len, fake.typed_stat);
}

/* SYS_FGRANT: a second, with a change count that never moves. */
uint32_t
sc_grant_fd(int fd, struct sfd *e)
{
	static _Atomic uint64_t count;

	if (e != entry_of(fd))
		fuzz_fail("sc_grant_fd: fd %d", fd);
	if (!fake.typed_stat)
		return 0;
	ac_grant_set(e->inst, SCHEME_GRANT(1000, 0), &count);
	return 1000;
}

dev_t
scheme_dev(uint64_t inst)
{
	return makedev(0, 0xf0000 | (unsigned)(inst & 0xffff));
}

int
sc_fstat(int fd, struct sfd *e, struct stat *st)
{
	if (e != entry_of(fd))
		fuzz_fail("sc_fstat: fd %d", fd);
	memset(st, 0, sizeof(*st));
	st->st_mode = fake.notdir ? S_IFREG | 0644 : S_IFDIR | 0755;
	return 0;
}

int
sc_fpath(int fd, struct sfd *e, char *buf, size_t len)
{
	size_t n;

	if (fake.fpath == NULL)
		return -ENOSYS;
	if (e != entry_of(fd))
		fuzz_fail("sc_fpath: fd %d", fd);
	n = fake.fpath_len < len ? fake.fpath_len : len;
	memcpy(buf, fake.fpath, n);
	return (int)n;
}

int
sc_open(const struct scheme_path *sp, int flags, mode_t mode,
	struct sc_desc *d)
{
	if ((flags & O_DIRECTORY) == 0)
		fuzz_fail("sc_open of a listing without O_DIRECTORY");
	if (strlen(sp->rest) != sp->restlen)
		fuzz_fail("sc_open: restlen %zu for %s", sp->restlen, sp->rest);
	fake.opens++;
	fake.pos = 0; /* a new open file lists from the start */
	d->broker = 0;
	d->inst = 1;
	d->key = 1000 + (uint64_t)fake.opens;
	return FAKE_REOPEN;
}

int
fd_close(int fd)
{
	fake_fd_clear(fd);
	if (fd == FAKE_REOPEN)
		fake.closes++;
	return 0;
}

off_t
fd_lseek(int fd, off_t off, int whence)
{
	entry_of(fd);
	if (off != 0 || whence != SEEK_SET)
		fuzz_fail("fd_lseek(%d, %lld, %d)", fd, (long long)off, whence);
	fake.pos = 0;
	fake.reads = 0;
	return 0;
}

/* A scheme file's ops, as far as the code under test calls them. */
static const struct sfd_ops fake_client_ops = {
    .kind = "scheme file",
    .requests = true,
    .readv = sc_readv,
    .fstat = sc_fstat,
    .fpath = sc_fpath,
};

/*
 * The program's memory, as uaccess.h checks it: here every pointer is
 * the fuzzer's own, good for as long as it says.
 */
bool
ua_known(const void *p, size_t n)
{
	return true;
}

ssize_t
ua_strnlen(const char *s, size_t max)
{
	return (ssize_t)strnlen(s, max);
}

size_t
ua_write_span(void *p, size_t n)
{
	return n;
}

/*
 * resolve.c's question before a ".." after a name (is it a link?): the
 * fake provider cannot say, so ".." is taken lexically, as resolve.c
 * does for a provider without links.
 */
int64_t
sc_at(const struct scheme_path *sp, struct sc_at *a)
{
	if (strlen(sp->rest) < sp->restlen)
		fuzz_fail("sc_at: restlen %zu for %s", sp->restlen, sp->rest);
	return -ENOSYS;
}

int
sc_readlink(const struct scheme_path *sp, char *out, size_t len)
{
	fuzz_fail("sc_readlink of %s: no link was said to be there", sp->rest);
	return -EINVAL;
}
