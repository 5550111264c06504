/*
 * test_mmap.c - mmap of scheme files (issue 14 item 2): SYS_FMAP answered
 * with a memfd by scheme-memfs, and the private copy the preload makes
 * for a provider that does not answer.
 *
 * The suite runs under the preload against three providers: scheme-memfs
 * serving "mm" (it answers SYS_FMAP with the file's memfd), the same with
 * --no-map serving "nm" (it answers ENOSYS: the fallback), and
 * scheme-hello serving "hi" (no SYS_LSEEK either: nothing to copy from).
 * A second process is a fork that opens the file itself, so that the
 * mapping it shares is reached through its own SYS_FMAP, not inherited.
 * What a touch of a page past the end does is seen in a child: SIGBUS.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define S  "mm" /* answers SYS_FMAP */
#define NM "nm" /* scheme-memfs --no-map */
#define HI "hi" /* scheme-hello */
#define PG 4096

static pid_t nomap, hello;

static void
start_world(void)
{
	h_world_start(S);
	nomap = h_start_provider_args(TEST_MEMFS, "--no-map", NULL, NULL, NM);
	hello = h_start_provider(TEST_HELLO, HI);
	if (nomap < 0 || hello < 0)
		abort();
}

static void
stop_world(void)
{
	h_stop(hello); /* it has no SIGTERM handler: 143 is its end */
	if (nomap > 0)
		h_stop_daemon(nomap, "scheme-memfs --no-map");
	hello = nomap = -1;
	h_world_stop();
}

/* scheme:name, made afresh with len bytes: byte i is 'a' + i % 26. */
static int
make_file(const char *scheme, const char *name, size_t len, int flags)
{
	char path[128], *buf = malloc(len + 1);
	int fd;

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + i % 26);
	snprintf(path, sizeof(path), "%s:%s", scheme, name);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	free(buf);
	if (flags != O_RDWR) { /* reopened as asked */
		close(fd);
		fd = open(path, flags);
		ck_assert_msg(fd >= 0, "reopen %s: %s", path, strerror(errno));
	}
	return fd;
}

static int
reopen(const char *scheme, const char *name, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s:%s", scheme, name);
	fd = open(path, flags);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

/* n bytes of the file at off, by pread (through the provider). */
static void
file_bytes(int fd, off_t off, char *buf, size_t n)
{
	ck_assert_int_eq(pread(fd, buf, n, off), (ssize_t)n);
}

/* The signal a touch of p kills a child with (0: it did not). */
static int
touch_signal(volatile char *p)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the kernel's own death, not a sanitizer's report of it */
		struct sigaction dfl = {.sa_handler = SIG_DFL};

		sigaction(SIGBUS, &dfl, NULL);
		(void)p[0];
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/*
 * Two processes, each opening and mapping the file itself, share its
 * pages: what one writes the other reads at once, both ways.
 */
START_TEST(shared_between_processes)
{
	int fd = make_file(S, "shared", 2 * PG, O_RDWR), up[2], down[2];
	char *m, c;
	pid_t pid;
	int st;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(m[PG + 1], 'a' + (PG + 1) % 26);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int f = reopen(S, "shared", O_RDWR);
		char *q = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			       f, 0);

		close(f);
		EXPECT(q != MAP_FAILED);
		memcpy(q + 100, "child", 5);
		EXPECT(write(up[1], "1", 1) == 1);
		EXPECT(read(down[0], &c, 1) == 1);
		EXPECT(memcmp(q + PG, "parent", 6) == 0);
		_exit(0);
	}
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_mem_eq(m + 100, "child", 5);
	memcpy(m + PG, "parent", 6);
	ck_assert_int_eq(write(down[1], "1", 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(munmap(m, 2 * PG), 0);
	close(fd);
	close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}
END_TEST

/* A shared mapping and read()/write() through the provider are one file. */
START_TEST(shared_and_read_write)
{
	int fd = make_file(S, "rw", PG, O_RDWR), other;
	char buf[8];
	char *m;

	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	memcpy(m + 10, "mapped", 6);
	other = reopen(S, "rw", O_RDWR);
	file_bytes(other, 10, buf, 6);
	ck_assert_mem_eq(buf, "mapped", 6);
	ck_assert_int_eq(pwrite(other, "written", 7, 200), 7);
	ck_assert_mem_eq(m + 200, "written", 7);
	ck_assert_int_eq(msync(m, PG, MS_SYNC), 0);
	ck_assert_int_eq(msync(m, PG, MS_ASYNC | MS_INVALIDATE), 0);
	ck_assert_int_eq(munmap(m, PG), 0);
	file_bytes(fd, 10, buf, 6); /* the writes outlive the mapping */
	ck_assert_mem_eq(buf, "mapped", 6);
	close(other);
	close(fd);
}
END_TEST

/* MAP_PRIVATE is copy-on-write: its writes reach neither file nor others. */
START_TEST(private_is_copy_on_write)
{
	int fd = make_file(S, "priv", PG, O_RDONLY);
	char buf[8], *m, *shared;

	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	shared = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(shared, MAP_FAILED);
	memcpy(m, "PRIVATE", 7);
	ck_assert_mem_eq(shared, "abcdefg", 7);
	file_bytes(fd, 0, buf, 7);
	ck_assert_mem_eq(buf, "abcdefg", 7);
	munmap(m, PG);
	munmap(shared, PG);
	close(fd);
}
END_TEST

/*
 * What the open file allows, as on Linux: nothing of O_WRONLY, a writable
 * MAP_SHARED only of O_RDWR without O_APPEND; and a read-only file's
 * shared mapping cannot be made writable later (its fd is read-only).
 */
START_TEST(access_modes)
{
	int ro = make_file(S, "acc", PG, O_RDONLY);
	int wo = reopen(S, "acc", O_WRONLY),
	    ap = reopen(S, "acc", O_RDWR | O_APPEND);
	char *m;

	errno = 0;
	ck_assert_ptr_eq(
	    mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0),
	    MAP_FAILED);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_ptr_eq(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0),
			 MAP_FAILED);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_ptr_eq(
	    mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ap, 0),
	    MAP_FAILED);
	ck_assert_int_eq(errno, EACCES);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(mprotect(m, PG, PROT_READ | PROT_WRITE), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_int_eq(munmap(m, PG), 0);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, ap, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	munmap(m, PG);
	close(ro), close(wo), close(ap);
}
END_TEST

/* An offset maps from there; bad arguments say what the kernel says. */
START_TEST(offsets_and_arguments)
{
	int fd = make_file(S, "off", 3 * PG, O_RDWR), dir;
	char *m;

	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(m[0], 'a' + (2 * PG) % 26);
	ck_assert_int_eq(m[PG - 1], 'a' + (3 * PG - 1) % 26);
	munmap(m, PG);
	m = mmap64(NULL, PG, PROT_READ, MAP_PRIVATE, fd, PG);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(m[0], 'a' + PG % 26);
	munmap(m, PG);
	errno = 0;
	ck_assert_ptr_eq(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 100),
			 MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0),
			 MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(mmap(NULL, PG, PROT_READ, 0, fd, 0), MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	dir = open(S ":", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dir, 0);
	ck_assert_ptr_eq(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dir, 0),
			 MAP_FAILED);
	ck_assert_int_eq(errno, ENODEV);
	close(dir);
	close(fd);
}
END_TEST

/*
 * mremap, mprotect and munmap are the kernel's on the mapping: the file
 * grown by ftruncate is reached by growing the mapping; a page past the
 * end after a shrink raises SIGBUS, the rest of the last page reads 0.
 */
START_TEST(remap_protect_truncate)
{
	int fd = make_file(S, "trunc", PG, O_RDWR);
	char *m;

	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(ftruncate(fd, 3 * PG), 0);
	m = mremap(m, PG, 3 * PG, MREMAP_MAYMOVE);
	ck_assert_ptr_ne(m, MAP_FAILED);
	memcpy(m + 2 * PG, "grown", 5);
	ck_assert_int_eq(m[PG], 0);
	ck_assert_int_eq(mprotect(m, 3 * PG, PROT_READ), 0);
	ck_assert_int_eq(touch_signal(m + 2 * PG), 0);
	ck_assert_int_eq(mprotect(m, 3 * PG, PROT_READ | PROT_WRITE), 0);
	ck_assert_int_eq(ftruncate(fd, 100), 0);
	ck_assert_int_eq(touch_signal(m + PG), SIGBUS);
	ck_assert_int_eq(m[99], 'a' + 99 % 26);
	ck_assert_int_eq(m[100], 0);
	ck_assert_int_eq(munmap(m, 3 * PG), 0);
	close(fd);
}
END_TEST

/* A mapping longer than the file: the pages past its end raise SIGBUS. */
START_TEST(past_the_end)
{
	int fd = make_file(S, "short", 10, O_RDONLY);
	char *m = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);

	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(m[9], 'j');
	ck_assert_int_eq(m[10], 0);
	ck_assert_int_eq(touch_signal(m + PG), SIGBUS);
	munmap(m, 2 * PG);
	close(fd);
}
END_TEST

/* A mapping outlives the fd, and nothing is left open after either. */
START_TEST(no_fd_kept)
{
	int before = h_count_fds(), fd = make_file(S, "kept", PG, O_RDWR);
	char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char buf[4];

	ck_assert_ptr_ne(m, MAP_FAILED);
	close(fd);
	ck_assert_int_eq(h_count_fds(), before);
	memcpy(m, "late", 4);
	fd = reopen(S, "kept", O_RDONLY);
	file_bytes(fd, 0, buf, 4);
	ck_assert_mem_eq(buf, "late", 4);
	close(fd);
	munmap(m, PG);
	fd = make_file(NM, "kept", PG, O_RDONLY);
	m = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	close(fd);
	munmap(m, PG);
	ck_assert_int_eq(h_count_fds(), before);
}
END_TEST

/*
 * A provider that does not answer: a private copy of the range, readable
 * (private and read-only shared), writable privately, never coherent with
 * later writes; a writable shared mapping says ENODEV, and a read-only
 * shared copy cannot be made writable.
 */
START_TEST(fallback_private_copy)
{
	int fd = make_file(NM, "copy", 2 * PG + 10, O_RDWR);
	char buf[8], *m, *r;

	errno = 0;
	ck_assert_ptr_eq(
	    mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
	    MAP_FAILED);
	ck_assert_int_eq(errno, ENODEV);
	r = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, PG);
	ck_assert_ptr_ne(r, MAP_FAILED);
	ck_assert_int_eq(r[0], 'a' + PG % 26);
	ck_assert_int_eq(r[PG + 9], 'a' + (2 * PG + 9) % 26);
	ck_assert_int_eq(r[PG + 10], 0);
	ck_assert_int_eq(mprotect(r, PG, PROT_READ | PROT_WRITE), -1);
	ck_assert_int_eq(errno, EACCES);
	m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_mem_eq(m, "abcdef", 6);
	memcpy(m, "PRIVATE", 7);
	file_bytes(fd, 0, buf, 7);
	ck_assert_mem_eq(buf, "abcdefg", 7);
	ck_assert_int_eq(touch_signal(m + 3 * PG), SIGBUS);
	ck_assert_int_eq(pwrite(fd, "LATER", 5, PG), 5);
	ck_assert_int_eq(r[0], 'a' + PG % 26); /* not coherent: documented */
	ck_assert_int_eq(msync(r, PG, MS_SYNC), 0);
	munmap(m, 4 * PG);
	munmap(r, 2 * PG);
	close(fd);
	fd = reopen(NM, "copy", O_WRONLY); /* the access mode still judges */
	ck_assert_ptr_eq(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0),
			 MAP_FAILED);
	ck_assert_int_eq(errno, EACCES);
	close(fd);
	fd = reopen(NM, "copy", O_RDONLY);
	ck_assert_ptr_eq(
	    mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
	    MAP_FAILED);
	ck_assert_int_eq(errno, EACCES);
	close(fd);
}
END_TEST

/* scheme-hello answers neither SYS_FMAP nor SYS_LSEEK: nothing to copy. */
START_TEST(fallback_needs_seek)
{
	int fd = open(HI ":world", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	errno = 0;
	ck_assert_ptr_eq(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0),
			 MAP_FAILED);
	ck_assert_int_eq(errno, ENODEV);
	close(fd);
}
END_TEST

/*
 * Whether a write lock (F_SETLK) one process holds on a scheme file keeps
 * another out: the locks of scheme files are not this suite's (today
 * each open file is a socket of its own, whose locks exclude nobody).
 */
static bool
locks_exclude(void)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = make_file(S, "lockprobe", 1, O_RDWR), st;
	pid_t pid;

	ck_assert_int_eq(fcntl(fd, F_SETLK, &fl), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int f = reopen(S, "lockprobe", O_RDWR);

		_exit(fcntl(f, F_SETLK, &fl) < 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	close(fd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * sqlite in WAL mode, four writer processes at once and a reader: every
 * process maps the -shm MAP_SHARED and they coordinate through it (and
 * through fcntl locks, so the case needs those to exclude: it says so
 * and checks nothing where they do not).  Every row is there, once, and
 * the database is whole.
 */
START_TEST(sqlite_wal_processes)
{
	static const char script[] =
	    "set -e; db=/scheme/" S "/w.db; rm -f $db $db-wal $db-shm\n"
	    "sqlite3 $db 'PRAGMA journal_mode=WAL; CREATE TABLE t(p, i);'\n"
	    "for p in 1 2 3 4; do\n"
	    "  { echo '.timeout 20000'; for i in $(seq 1 100); do\n"
	    "    echo \"INSERT INTO t VALUES($p,$i);\"; done; } |\n"
	    "    sqlite3 $db >/dev/null &\n"
	    "done\n"
	    "for k in 1 2 3 4 5; do sqlite3 -cmd '.timeout 20000' $db \\\n"
	    "  'SELECT count(*) >= 0 FROM t;' >/dev/null; done\n"
	    "wait\n"
	    "sqlite3 $db 'SELECT count(*), count(DISTINCT p*1000+i) FROM t;"
	    " PRAGMA integrity_check;'\n";
	struct run_result *r;

	if (!locks_exclude()) {
		fprintf(stderr, "sqlite_wal_processes: fcntl locks of scheme "
				"files do not exclude here; not run\n");
		return;
	}
	r = malloc(sizeof(*r));
	ck_assert_ptr_nonnull(r);
	h_sh(r, script);
	ck_assert_msg(r->status == 0 && strstr(r->out, "400|400\nok\n"),
		      "status %d\n%.*s%.*s", r->status, (int)r->outlen, r->out,
		      (int)r->errlen, r->err);
	free(r);
}
END_TEST

static Suite *
mmap_suite(void)
{
	Suite *s = suite_create("mmap");
	TCase *tc = tcase_create("fmap");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_world, stop_world);
	tcase_add_test(tc, shared_between_processes);
	tcase_add_test(tc, shared_and_read_write);
	tcase_add_test(tc, private_is_copy_on_write);
	tcase_add_test(tc, access_modes);
	tcase_add_test(tc, offsets_and_arguments);
	tcase_add_test(tc, remap_protect_truncate);
	tcase_add_test(tc, past_the_end);
	tcase_add_test(tc, no_fd_kept);
	tcase_add_test(tc, fallback_private_copy);
	tcase_add_test(tc, fallback_needs_seek);
	tcase_add_test(tc, sqlite_wal_processes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(mmap_suite());
}
