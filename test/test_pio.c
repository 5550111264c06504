/*
 * test_pio.c - positioned I/O in one request, fallocate, and copies that
 * move all they are asked (issue 14 items 5 and 6).
 *
 * Runs under the preload against a broker, scheme-memfs ("pio") and three
 * small raw providers of its own, forked from the fixture, which count
 * the requests they read by kind in shared memory:
 *
 *	pc	serves SYS_READ2 and SYS_WRITE2 (marks them served): a pread
 *		must be one request
 *	pz	answers 0 to every request it does not know, as a careless
 *		provider may: a pread must not be taken for end-of-file, and
 *		the client must fall back, asking READ2 once per channel
 *	pn	answers -ENOSYS to what it does not know
 *
 * The atomicity case runs two threads on one open file of memfs, one
 * reading by offset while the other seeks and reads: with a seek, a
 * read and a seek back (the old way) both go wrong within a few hundred
 * rounds.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

#define S "pio" /* memfs */

/* The raw providers --------------------------------------------------- */

enum mode { SERVES, ZERO, NOSYS, NMODES };
static const char *const names[NMODES] = {"pc", "pz", "pn"};

#define NUM(op)	 ((op) % 0x400) /* Redox's number: one counter each */
#define MAXFILE	 (2 * 1024 * 1024)
#define HANDLES	 64

struct counts {
	atomic_ulong by[0x400];
};
static struct counts *counts; /* NMODES of them, shared with the forks */
static pid_t raw_pids[NMODES];

static struct {
	char data[MAXFILE];
	size_t size;
	uint64_t pos[HANDLES];
	bool used[HANDLES];
} file;

static int64_t
at_most(void *dst, uint64_t off, uint64_t len)
{
	size_t n;

	if (off >= file.size)
		return 0;
	n = file.size - off < len ? file.size - off : len;
	memcpy(dst, file.data + off, n);
	return (int64_t)n;
}

static int64_t
put_at(const void *src, uint64_t off, uint64_t len)
{
	if (off + len > MAXFILE)
		return -EFBIG;
	if (off > file.size)
		memset(file.data + file.size, 0, off - file.size);
	memcpy(file.data + off, src, len);
	if (off + len > file.size)
		file.size = off + len;
	return (int64_t)len;
}

static int64_t
raw_open(const struct scheme_packet *p)
{
	for (int h = 0; h < HANDLES; h++)
		if (!file.used[h]) {
			file.used[h] = true;
			file.pos[h] = 0;
			if ((uint32_t)p->d & O_TRUNC)
				file.size = 0;
			return h;
		}
	return -EMFILE;
}

static int64_t
raw_seek(uint64_t h, int64_t off, uint64_t whence)
{
	int64_t base = whence == SEEK_CUR   ? (int64_t)file.pos[h]
		       : whence == SEEK_END ? (int64_t)file.size
					    : 0;

	if (whence > SEEK_END || base + off < 0)
		return -EINVAL;
	file.pos[h] = (uint64_t)(base + off);
	return (int64_t)file.pos[h];
}

/* What the provider of mode m answers p, on a handle it knows. */
static int64_t
raw_io(enum mode m, const struct scheme_packet *p, uint64_t h)
{
	struct scheme_io *io = (struct scheme_io *)(uintptr_t)p->c;
	int64_t r;

	switch (p->a) {
	case SYS_READ:
		r = at_most((void *)(uintptr_t)p->c, file.pos[h], p->d);
		file.pos[h] += (uint64_t)r;
		return r;
	case SYS_WRITE:
		r = put_at((void *)(uintptr_t)p->c, file.pos[h], p->d);
		file.pos[h] += r > 0 ? (uint64_t)r : 0;
		return r;
	case SYS_LSEEK:
		return raw_seek(h, (int64_t)p->c, p->d);
	case SYS_FSTAT:
		((struct stat *)(uintptr_t)p->c)->st_mode = S_IFREG | 0644;
		((struct stat *)(uintptr_t)p->c)->st_size = (off_t)file.size;
		return 0;
	case SYS_FCNTL:
		return 0;
	case SYS_CLOSE:
		file.used[h] = false;
		return 0;
	case SYS_READ2:
	case SYS_WRITE2:
		if (m != SERVES)
			break;
		io->served = SCHEME_SERVED;
		return p->a == SYS_READ2
			   ? at_most((void *)(uintptr_t)io->buf, io->offset,
				     io->len)
			   : put_at((void *)(uintptr_t)io->buf, io->offset,
				    io->len);
	default:
		break;
	}
	return m == ZERO ? 0 : -ENOSYS;
}

static void
raw_serve(enum mode m)
{
	struct counts *c = &counts[m];
	struct scheme_packet p;
	char path[16];
	int fd;

	signal(SIGTERM, SIG_DFL); /* not the harness's: h_stop ends us */
	snprintf(path, sizeof(path), ":%s", names[m]);
	if ((fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600)) < 0)
		_exit(1);
	while (read(fd, &p, sizeof(p)) == sizeof(p)) {
		atomic_fetch_add(&c->by[NUM(p.a)], 1);
		if (p.a == SYS_OPEN)
			p.a = (uint64_t)raw_open(&p);
		else if (p.b >= HANDLES || !file.used[p.b])
			p.a = (uint64_t)-EBADF;
		else
			p.a = (uint64_t)raw_io(m, &p, p.b);
		if (write(fd, &p, sizeof(p)) != sizeof(p))
			_exit(1);
	}
	_exit(0);
}

static void
start_world(void)
{
	h_world_start(S);
	counts = mmap(NULL, NMODES * sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		abort();
	for (int m = 0; m < NMODES; m++) {
		if ((raw_pids[m] = fork()) == 0)
			raw_serve((enum mode)m);
		for (int i = 0; i < 200 && !h_scheme_exists(names[m]); i++)
			h_sleep_ms(10);
	}
}

static void
stop_world(void)
{
	for (int m = 0; m < NMODES; m++)
		if (raw_pids[m] > 0)
			h_stop(raw_pids[m]);
	h_world_stop();
}

static unsigned long
count(enum mode m, uint32_t op)
{
	return atomic_load(&counts[m].by[NUM(op)]);
}

static void
zero_counts(enum mode m)
{
	for (size_t i = 0; i < 0x400; i++)
		atomic_store(&counts[m].by[i], 0);
}

/* Files ---------------------------------------------------------------- */

static int
open_in(const char *scheme, const char *name, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s:%s", scheme, name);
	fd = open(path, flags | O_CREAT, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

/* n records of 8 bytes, "%07zu\n": record i at offset 8 i. */
static int
records(const char *scheme, const char *name, size_t n)
{
	int fd = open_in(scheme, name, O_RDWR | O_TRUNC);
	char *buf = malloc(n * 8 + 1);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++)
		snprintf(buf + i * 8, 9, "%07zu\n", i);
	ck_assert_int_eq(write(fd, buf, n * 8), (ssize_t)(n * 8));
	free(buf);
	return fd;
}

static void
is_record(const char *got, size_t i)
{
	char want[9];

	snprintf(want, sizeof(want), "%07zu\n", i);
	ck_assert_msg(memcmp(got, want, 8) == 0, "record %zu read as %.8s", i,
		      got);
}

/* Every form, at offsets, the file's offset left alone -------------------- */

static void
every_form(const char *scheme)
{
	int fd = records(scheme, "forms", 64);
	char b[32], c[32];
	struct iovec iv[2] = {{b, 8}, {c, 8}};

	ck_assert_int_eq(lseek(fd, 100, SEEK_SET), 100);
	ck_assert_int_eq(pread(fd, b, 8, 8 * 5), 8);
	is_record(b, 5);
	ck_assert_int_eq(pread64(fd, b, 8, 8 * 6), 8);
	is_record(b, 6);
	ck_assert_int_eq(preadv(fd, iv, 2, 8 * 7), 16);
	is_record(b, 7);
	is_record(c, 8);
	ck_assert_int_eq(preadv64(fd, iv, 2, 8 * 9), 16);
	is_record(c, 10);
	ck_assert_int_eq(preadv2(fd, iv, 1, 8 * 11, 0), 8);
	is_record(b, 11);
	ck_assert_int_eq(preadv64v2(fd, iv, 1, 8 * 12, RWF_HIPRI), 8);
	is_record(b, 12);
	ck_assert_int_eq(pwrite(fd, "0000013\n", 8, 8 * 13), 8);
	ck_assert_int_eq(pwrite64(fd, "AAAAAAA\n", 8, 8 * 14), 8);
	iv[0] = (struct iovec){(char *)"BBBB", 4};
	iv[1] = (struct iovec){(char *)"BBB\n", 4};
	ck_assert_int_eq(pwritev(fd, iv, 2, 8 * 15), 8);
	ck_assert_int_eq(pwritev64(fd, iv, 2, 8 * 16), 8);
	ck_assert_int_eq(pwritev2(fd, iv, 2, 8 * 17, RWF_DSYNC), 8);
	ck_assert_int_eq(pwritev64v2(fd, iv, 2, 8 * 18, 0), 8);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 100);
	ck_assert_int_eq(pread(fd, b, 8, 8 * 14), 8);
	ck_assert_int_eq(memcmp(b, "AAAAAAA\n", 8), 0);
	for (int i = 15; i <= 18; i++) {
		ck_assert_int_eq(pread(fd, b, 8, 8 * i), 8);
		ck_assert_int_eq(memcmp(b, "BBBBBBB\n", 8), 0);
	}
	/* Past the end: 0, not an error; a write there fills with zeros. */
	ck_assert_int_eq(pread(fd, b, 8, 8 * 64), 0);
	ck_assert_int_eq(pwrite(fd, "z", 1, 8 * 64 + 3), 1);
	ck_assert_int_eq(pread(fd, b, 8, 8 * 64), 4);
	ck_assert_int_eq(memcmp(b, "\0\0\0z", 4), 0);
	/* preadv2 at -1 is the file's offset, and moves it. */
	iv[0] = (struct iovec){b, 8};
	ck_assert_int_eq(lseek(fd, 8 * 3, SEEK_SET), 24);
	ck_assert_int_eq(preadv2(fd, iv, 1, -1, 0), 8);
	is_record(b, 3);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 32);
	/* What the kernel refuses. */
	errno = 0;
	ck_assert_int_eq(pread(fd, b, 8, -1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(preadv2(fd, iv, 1, 0, 0x40000000), -1);
	ck_assert_int_eq(errno, EOPNOTSUPP);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 32);
	close(fd);
}

START_TEST(forms_on_memfs)
{
	every_form(S);
}
END_TEST

START_TEST(forms_on_a_raw_provider)
{
	every_form("pc");
}
END_TEST

/* memfs: O_APPEND writes at the end (Linux's pwrite), O_RDONLY cannot. */
START_TEST(memfs_write_rules)
{
	int fd = records(S, "app", 4), ro;
	char b[40];

	close(fd);
	fd = open_in(S, "app", O_WRONLY | O_APPEND);
	ck_assert_int_eq(pwrite(fd, "tail", 4, 0), 4);
	close(fd);
	ro = open_in(S, "app", O_RDONLY);
	ck_assert_int_eq(pread(ro, b, sizeof(b), 0), 36);
	ck_assert_int_eq(memcmp(b + 32, "tail", 4), 0);
	errno = 0;
	ck_assert_int_eq(pwrite(ro, "x", 1, 0), -1);
	ck_assert_int_eq(errno, EBADF);
	close(ro);
}
END_TEST

/* One request per pread and pwrite, whatever its size ---------------------- */

START_TEST(one_request_each)
{
	int fd = records("pc", "rtt", 16384);
	char *b = malloc(65536);

	zero_counts(SERVES);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(pread(fd, b, 8, 8 * i), 8);
		is_record(b, (size_t)i);
		ck_assert_int_eq(pread(fd, b, 65536, 8 * i), 65536);
		is_record(b, (size_t)i);
		ck_assert_int_eq(pwrite(fd, b, 8, 8 * i), 8);
	}
	ck_assert_uint_eq(count(SERVES, SYS_READ2), 100);
	ck_assert_uint_eq(count(SERVES, SYS_WRITE2), 50);
	ck_assert_uint_eq(count(SERVES, SYS_LSEEK), 0);
	ck_assert_uint_eq(count(SERVES, SYS_READ), 0);
	ck_assert_uint_eq(count(SERVES, SYS_WRITE), 0);
	free(b);
	close(fd);
}
END_TEST

/* Atomic: another thread moving the offset changes nothing ----------------- */

#define ROUNDS	 2000
#define NRECORDS 512

static atomic_int wrong;

static void *
seeker(void *arg)
{
	int fd = *(int *)arg;
	char b[9];

	for (int i = 0; i < ROUNDS; i++) {
		size_t k = (size_t)(i * 7919) % NRECORDS;

		if (lseek(fd, (off_t)(8 * k), SEEK_SET) != (off_t)(8 * k) ||
		    read(fd, b, 8) != 8 || (b[8] = '\0', atoi(b)) != (int)k)
			atomic_fetch_add(&wrong, 1);
	}
	return NULL;
}

START_TEST(pread_is_atomic)
{
	int fd = records(S, "atomic", NRECORDS);
	pthread_t t;
	char b[9];
	int n;

	atomic_store(&wrong, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, seeker, &fd), 0);
	for (int i = 0; i < ROUNDS; i++) {
		size_t k = (size_t)(i * 104729) % NRECORDS;

		if (pread(fd, b, 8, (off_t)(8 * k)) != 8 ||
		    (b[8] = '\0', atoi(b)) != (int)k)
			atomic_fetch_add(&wrong, 1);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	n = atomic_load(&wrong);
	ck_assert_msg(n == 0, "%d of %d reads at the wrong place", n,
		      2 * ROUNDS);
	close(fd);
}
END_TEST

/* A provider that does not serve READ2: the old way, asked once ------------ */

static void
falls_back(enum mode m)
{
	int fd = records(names[m], "fb", 64);
	char b[16];

	zero_counts(m);
	ck_assert_int_eq(lseek(fd, 40, SEEK_SET), 40);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(pread(fd, b, 8, 8 * i), 8);
		is_record(b, (size_t)i);
		ck_assert_int_eq(pwrite(fd, b, 8, 8 * (i + 20)), 8);
	}
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 40);
	ck_assert_int_eq(pread(fd, b, 8, 8 * 25), 8);
	is_record(b, 5);
	/* Asked once each on this thread's channel, then remembered. */
	ck_assert_uint_eq(count(m, SYS_READ2), 1);
	ck_assert_uint_eq(count(m, SYS_WRITE2), 1);
	ck_assert_uint_eq(count(m, SYS_READ), 11);
	ck_assert_uint_eq(count(m, SYS_WRITE), 10);
	/* Past the end is still 0 there, by the old way. */
	ck_assert_int_eq(pread(fd, b, 8, 8 * 1000), 0);
	close(fd);
}

START_TEST(fallback_when_unknowns_get_zero)
{
	falls_back(ZERO);
}
END_TEST

START_TEST(fallback_when_unknowns_get_enosys)
{
	falls_back(NOSYS);
}
END_TEST

/* fallocate ------------------------------------------------------------- */

static off_t
size_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_size;
}

START_TEST(fallocate_on_memfs)
{
	int fd = records(S, "fa", 4), ro;
	char b[16];

	ck_assert_int_eq(fallocate(fd, 0, 0, 100), 0);
	ck_assert_int_eq(size_of(fd), 100);
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1000), 0);
	ck_assert_int_eq(size_of(fd), 100);
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE,
				   8, 8),
			 0);
	ck_assert_int_eq(pread(fd, b, 16, 0), 16);
	is_record(b, 0);
	ck_assert_int_eq(memcmp(b + 8, "\0\0\0\0\0\0\0\0", 8), 0);
	ck_assert_int_eq(size_of(fd), 100);
	ck_assert_int_eq(posix_fallocate(fd, 50, 150), 0);
	ck_assert_int_eq(size_of(fd), 200);
	ck_assert_int_eq(posix_fallocate(fd, 0, 10), 0); /* never shrinks */
	ck_assert_int_eq(size_of(fd), 200);
	errno = 0;
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), -1);
	ck_assert_int_eq(errno, EOPNOTSUPP);
	ck_assert_int_eq(fallocate(fd, 0, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(posix_fallocate(fd, -1, 10), EINVAL);
	ro = open_in(S, "fa", O_RDONLY);
	ck_assert_int_eq(fallocate(ro, 0, 0, 1000), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(posix_fallocate(ro, 0, 1000), EBADF);
	close(ro);
	close(fd);
}
END_TEST

/* Not served: EOPNOTSUPP, and posix_fallocate writes instead. */
START_TEST(fallocate_not_served)
{
	for (int m = ZERO; m <= NOSYS; m++) {
		int fd = records(names[m], "fa", 4);

		errno = 0;
		ck_assert_int_eq(fallocate(fd, 0, 0, 100), -1);
		ck_assert_int_eq(errno, EOPNOTSUPP);
		ck_assert_int_eq(size_of(fd), 32);
		errno = 1234;
		ck_assert_int_eq(posix_fallocate(fd, 10, 90), 0);
		ck_assert_int_eq(errno, 1234);
		ck_assert_int_eq(size_of(fd), 100);
		ck_assert_int_eq(posix_fallocate(fd, 0, 50), 0);
		ck_assert_int_eq(size_of(fd), 100);
		close(fd);
	}
}
END_TEST

/* Copies: all of a 1 MiB file in one call, as from a disk ----------------- */

#define MIB (1024 * 1024)

static char *
pattern(void)
{
	char *b = malloc(MIB);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < MIB; i++)
		b[i] = (char)(i * 31 + i / 4096);
	return b;
}

/* A file of the pattern: on memfs (scheme) or on the disk (else). */
static int
mib_file(const char *scheme, const char *name, const char *pat)
{
	char path[256];
	int fd;

	if (scheme != NULL) {
		fd = open_in(scheme, name, O_RDWR | O_TRUNC);
	} else {
		snprintf(path, sizeof(path), "%s/%s", h_dir(), name);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		ck_assert_int_ge(fd, 0);
	}
	ck_assert_int_eq(write(fd, pat, MIB), MIB);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
same_as(int fd, const char *pat)
{
	char *b = malloc(MIB + 1);
	size_t got = 0;
	ssize_t n;

	while ((n = pread(fd, b + got, MIB + 1 - got, (off_t)got)) > 0)
		got += (size_t)n;
	ck_assert_uint_eq(got, MIB);
	ck_assert(memcmp(b, pat, MIB) == 0);
	free(b);
}

START_TEST(sendfile_moves_all)
{
	char *pat = pattern();
	const char *from[2] = {S, NULL}; /* memfs, then the disk to compare */

	for (int i = 0; i < 2; i++) {
		int in = mib_file(from[i], "sf-in", pat);
		int out = mib_file(NULL, "sf-out", pat);
		off_t off = 0;

		ck_assert_int_eq(ftruncate(out, 0), 0);
		ck_assert_int_eq(sendfile(out, in, NULL, MIB), MIB);
		ck_assert_int_eq(lseek(in, 0, SEEK_CUR), MIB);
		same_as(out, pat);
		ck_assert_int_eq(ftruncate(out, 0), 0);
		ck_assert_int_eq(lseek(out, 0, SEEK_SET), 0);
		ck_assert_int_eq(sendfile(out, in, &off, 2 * MIB), MIB);
		ck_assert_int_eq(off, MIB);
		same_as(out, pat);
		close(in);
		close(out);
	}
	free(pat);
}
END_TEST

START_TEST(copy_file_range_moves_all)
{
	char *pat = pattern();
	int in = mib_file(S, "cf-in", pat);
	int out = mib_file(S, "cf-out", pat);
	int disk = mib_file(NULL, "cf-disk", pat);
	off64_t ioff = 0, ooff = 0;

	ck_assert_int_eq(ftruncate(out, 0), 0);
	ck_assert_int_eq(copy_file_range(in, &ioff, out, &ooff, MIB, 0), MIB);
	ck_assert_int_eq(ioff, MIB);
	ck_assert_int_eq(ooff, MIB);
	same_as(out, pat);
	ck_assert_int_eq(ftruncate(disk, 0), 0);
	ck_assert_int_eq(copy_file_range(in, NULL, disk, NULL, MIB, 0), MIB);
	ck_assert_int_eq(lseek(in, 0, SEEK_CUR), MIB);
	same_as(disk, pat);
	close(in);
	close(out);
	close(disk);
	free(pat);
}
END_TEST

/* splice moves what a pipe holds, as from a disk file: no more. */
START_TEST(splice_moves_a_pipeful)
{
	char *pat = pattern();
	int in = mib_file(S, "sp-in", pat), p[2];
	int disk = mib_file(NULL, "sp-disk", pat);
	ssize_t a, b;

	ck_assert_int_eq(pipe(p), 0);
	a = splice(disk, NULL, p[1], NULL, MIB, 0);
	ck_assert_int_gt(a, 0);
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(close(p[1]), 0);
	ck_assert_int_eq(pipe(p), 0);
	b = splice(in, NULL, p[1], NULL, MIB, 0);
	ck_assert_int_eq(b, a);
	close(p[0]);
	close(p[1]);
	close(in);
	close(disk);
	free(pat);
}
END_TEST

/* sqlite3 reads and writes its pages by offset ---------------------------- */

START_TEST(sqlite_by_offset)
{
	struct run_result *r = malloc(sizeof(*r));
	const char *out;

	if (system("command -v sqlite3 >/dev/null 2>&1") != 0)
		ck_abort_msg("sqlite3 is not installed: tools/install-deps.sh");
	out = h_sh_out(r, "db=/scheme/" S "/pages.db; rm -f $db; "
			  "sqlite3 $db 'PRAGMA page_size=1024; "
			  "CREATE TABLE t(i INTEGER, s TEXT);' && "
			  "for i in 1 2 3 4 5; do echo \"INSERT INTO t "
			  "SELECT value, printf('%0400d', value) FROM "
			  "generate_series($i*200, $i*200+199);\"; done | "
			  "sqlite3 $db && sqlite3 $db 'SELECT count(*), "
			  "sum(i) FROM t; PRAGMA integrity_check;'");
	ck_assert_str_eq(out, "1000|699500\nok\n");
	free(r);
}
END_TEST

static Suite *
pio_suite(void)
{
	Suite *s = suite_create("pio");
	TCase *tc = tcase_create("pio");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_world, stop_world);
	tcase_add_test(tc, forms_on_memfs);
	tcase_add_test(tc, forms_on_a_raw_provider);
	tcase_add_test(tc, memfs_write_rules);
	tcase_add_test(tc, one_request_each);
	tcase_add_test(tc, pread_is_atomic);
	tcase_add_test(tc, fallback_when_unknowns_get_zero);
	tcase_add_test(tc, fallback_when_unknowns_get_enosys);
	tcase_add_test(tc, fallocate_on_memfs);
	tcase_add_test(tc, fallocate_not_served);
	tcase_add_test(tc, sendfile_moves_all);
	tcase_add_test(tc, copy_file_range_moves_all);
	tcase_add_test(tc, splice_moves_a_pipeful);
	tcase_add_test(tc, sqlite_by_offset);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(pio_suite());
}
