/*
 * test_client.c - a program using schemes through plain POSIX calls.
 *
 * This binary runs under the preload (ctest sets LD_PRELOAD), against a
 * broker and scheme-memfs providers it starts itself.  Each case asserts
 * results and errno, as an unmodified program would see them.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

#define S "tc" /* the suite's scheme */

static void
start_world(void)
{
	h_world_start(S);
}

static ssize_t
read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	return (ssize_t)got;
}

/* A fresh file in the suite's scheme holding `data`. */
static int
make_file(const char *name, const char *data, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), S ":%s", name);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC | flags, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	if (data != NULL) {
		ck_assert_int_eq(write(fd, data, strlen(data)),
				 (ssize_t)strlen(data));
		ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	}
	return fd;
}

static long
handles(void)
{
	char buf[256], *p;
	int fd = open(S ":.stats", O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	p = strstr(buf, "handles ");
	ck_assert_ptr_nonnull(p);
	return strtol(p + 8, NULL, 10);
}

/* The provider's handle count once it stops changing (bounded). */
static long
settled_handles(void)
{
	long h = handles(), prev = -1;

	for (int i = 0; i < 100 && h != prev; i++) {
		h_sleep_ms(30);
		prev = h;
		h = handles();
	}
	return h;
}

/* Wait (bounded) until the provider holds `want` handles. */
static long
wait_handles(long want)
{
	long h = -1;

	for (int i = 0; i < 300 && (h = handles()) != want; i++)
		h_sleep_ms(10);
	return h;
}

/* Open, read, close ---------------------------------------------------- */

START_TEST(open_read_close)
{
	char buf[64];
	int fd, fds = h_count_fds();

	errno = 4242;
	fd = open(S ":world", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(errno, 4242); /* untouched on success */
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 14);
	ck_assert_int_eq(memcmp(buf, "Hello, world!\n", 14), 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(errno, 4242);
	ck_assert_int_eq(h_count_fds(), fds);
}
END_TEST

START_TEST(scheme_dir_form)
{
	char buf[64];
	int fd = open("/scheme/" S "/world", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 14);
	close(fd);
	fd = openat(AT_FDCWD, S ":world", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);
}
END_TEST

START_TEST(create_write_seek_stat)
{
	struct stat st;
	char buf[32] = {0};
	int fd = make_file("csw", "0123456789", 0);

	ck_assert_int_eq(lseek(fd, 4, SEEK_SET), 4);
	ck_assert_int_eq(read(fd, buf, 3), 3);
	ck_assert_str_eq(buf, "456");
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 7);
	ck_assert_int_eq(lseek(fd, -2, SEEK_END), 8);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 10);
	ck_assert_int_eq(st.st_mode & 0777, 0644 & ~022);
	ck_assert_int_eq(ftruncate(fd, 3), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 3);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(fdatasync(fd), 0);
	ck_assert_int_eq(pwrite(fd, "ab", 2, 1), 2);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 8); /* pwrite kept it */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(pread(fd, buf, 10, 0), 3);
	ck_assert_str_eq(buf, "0ab");
	close(fd);
}
END_TEST

START_TEST(errors_have_errno)
{
	char buf[4];
	int fd;

	errno = 0;
	ck_assert_int_eq(open(S ":missing", O_RDONLY), -1);
	ck_assert_int_eq(errno, ENOENT);
	close(make_file("excl", NULL, 0));
	ck_assert_int_eq(open(S ":excl", O_CREAT | O_EXCL | O_RDWR, 0600), -1);
	ck_assert_int_eq(errno, EEXIST);
	fd = open(S ":world", O_RDONLY);
	ck_assert_int_eq(write(fd, "x", 1), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(lseek(fd, -100, SEEK_SET), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ftruncate(fd, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
	fd = open(S ":world", O_WRONLY);
	ck_assert_int_eq(read(fd, buf, 1), -1);
	ck_assert_int_eq(errno, EBADF);
	close(fd);
	/* Creating a scheme whose name is taken. */
	ck_assert_int_eq(open(":" S, O_CREAT | O_RDWR, 0600), -1);
	ck_assert_int_eq(errno, EEXIST);
}
END_TEST

START_TEST(unknown_scheme_is_a_file)
{
	char buf[32] = {0};
	int fd;

	ck_assert_int_eq(chdir(h_dir()), 0);
	fd = open("nosuch:file.txt", O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "on disk", 7), 7);
	close(fd);
	fd = open("nosuch:file.txt", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "on disk");
	close(fd);
	ck_assert_int_eq(access(h_dir(), F_OK), 0);
	ck_assert_int_eq(open("/scheme/nosuch/x", O_RDONLY), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(root_lists_schemes)
{
	char buf[4096] = {"\n"};
	int fd = open(":", O_RDONLY);
	struct stat st;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read_all(fd, buf + 1, sizeof(buf) - 2);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(buf, "\n" S "\n"));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	close(fd);
	fd = open("/scheme", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	memset(buf, 0, sizeof(buf));
	buf[0] = '\n';
	read_all(fd, buf + 1, sizeof(buf) - 2);
	ck_assert_ptr_nonnull(strstr(buf, "\n" S "\n"));
	close(fd);
}
END_TEST

START_TEST(stat_family)
{
	struct statx sx;
	struct stat st;
	int fd;

	ck_assert_int_eq(stat(S ":world", &st), 0);
	ck_assert_int_eq(st.st_size, 14);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(lstat("/scheme/" S "/world", &st), 0);
	ck_assert_int_eq(st.st_size, 14);
	ck_assert_int_eq(fstatat(AT_FDCWD, S ":world", &st, 0), 0);
	ck_assert_int_eq(st.st_size, 14);
	ck_assert_int_eq(statx(AT_FDCWD, S ":world", 0, STATX_SIZE, &sx), 0);
	ck_assert_uint_eq(sx.stx_size, 14);
	ck_assert(S_ISREG(sx.stx_mode));
	fd = open(S ":world", O_RDONLY);
	ck_assert_int_eq(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
	ck_assert_int_eq(st.st_size, 14);
	ck_assert_int_eq(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx), 0);
	ck_assert_uint_eq(sx.stx_size, 14);
	close(fd);
	errno = 0;
	ck_assert_int_eq(stat(S ":missing", &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Stat opens and closes: the provider keeps nothing. */
	ck_assert_int_eq(wait_handles(0), 0);
}
END_TEST

START_TEST(fcntl_flags)
{
	int fd = make_file("fl", "x", 0);

	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	ck_assert_int_eq(fcntl(fd, F_GETFD), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	/* ioctl: FIONBIO (Python's os.set_blocking) reaches the provider;
	 * what a scheme cannot answer is ENOTTY. */
	int off = 0, on = 1;
	struct termios t;
	ck_assert_int_eq(ioctl(fd, FIONBIO, &off), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(ioctl(fd, FIONBIO, &on), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	ck_assert_int_eq(ioctl(fd, TCGETS, &t), -1);
	ck_assert_int_eq(errno, ENOTTY);
	ck_assert_int_eq(isatty(fd), 0);
	close(fd);
}
END_TEST

/* A blocking read waits for data a writer provides later; O_NONBLOCK,
 * at the open or set later, turns the wait into EAGAIN. */
START_TEST(deferred_read_and_nonblock)
{
	char buf[32] = {0};
	pid_t pid;
	int fd = open(S ":fifo", O_RDONLY | O_NONBLOCK);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(fcntl(fd, F_SETFL, 0), 0);
	pid = fork();
	if (pid == 0) {
		int w = open(S ":fifo", O_WRONLY);

		h_sleep_ms(200);
		_exit(write(w, "later", 5) == 5 ? 0 : 1);
	}
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "later");
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	close(fd);
	/* opened blocking: a provider that keeps reads hears of F_SETFL */
	fd = open(S ":fifo", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(fd);
}
END_TEST

START_TEST(dups_share_one_description)
{
	long base = handles();
	char a[4] = {0}, b[4] = {0};
	int fd = make_file("dup", "abcdef", 0), d1, d2, d3;

	ck_assert_int_eq(handles(), base + 1);
	d1 = dup(fd);
	d2 = dup2(fd, 40);
	d3 = fcntl(fd, F_DUPFD_CLOEXEC, 50);
	ck_assert_int_ge(d1, 0);
	ck_assert_int_eq(d2, 40);
	ck_assert_int_ge(d3, 50);
	ck_assert_int_eq(dup3(fd, 60, O_CLOEXEC), 60);
	ck_assert_int_eq(fcntl(60, F_GETFD), FD_CLOEXEC);
	ck_assert_int_eq(read(fd, a, 3), 3);
	ck_assert_int_eq(read(d2, b, 3), 3); /* shared offset */
	ck_assert_str_eq(a, "abc");
	ck_assert_str_eq(b, "def");
	ck_assert_int_eq(handles(), base + 1); /* one description */
	close(fd);
	close(d1);
	close(d2);
	close(60);
	ck_assert_int_eq(lseek(d3, 0, SEEK_SET), 0); /* still open */
	ck_assert_int_eq(handles(), base + 1);
	close(d3);
	ck_assert_int_eq(wait_handles(base), base); /* SYS_CLOSE, once */
	/* dup2 over a scheme fd closes it like any fd. */
	fd = make_file("dup2", "x", 0);
	ck_assert_int_eq(dup2(0, fd), fd);
	ck_assert_int_eq(wait_handles(base), base);
	close(fd);
}
END_TEST

/*
 * Parent and child hammer one description with different requests: a
 * reply taken by the wrong process would surface as a wrong size or
 * wrong bytes.
 */
START_TEST(fork_shares_description_not_replies)
{
	char big[4097];
	pid_t pid;
	int fd, i, st;

	memset(big, 'A', 4096);
	big[4096] = '\0';
	fd = make_file("forked", big, 0);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < 2000; i++) {
			char c = 0;
			ssize_t n = read(fd, &c, 1);

			if (n == 0)
				lseek(fd, 0, SEEK_SET);
			else if (n != 1 || c != 'A')
				_exit(1);
		}
		_exit(0);
	}
	for (i = 0; i < 2000; i++) {
		struct stat s;

		ck_assert_int_eq(fstat(fd, &s), 0);
		ck_assert_int_eq(s.st_size, 4096);
		ck_assert(S_ISREG(s.st_mode));
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	close(fd);
}
END_TEST

static void *
reader_thread(void *arg)
{
	int fd = *(int *)arg;
	long bad = 0;

	for (int i = 0; i < 500; i++) {
		struct stat s;

		if (fstat(fd, &s) != 0 || s.st_size != 6)
			bad++;
	}
	return (void *)bad;
}

START_TEST(threads_share_fd)
{
	pthread_t t[4];
	void *bad;
	int fd = make_file("thr", "sixsix", 0);

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(
		    pthread_create(&t[i], NULL, reader_thread, &fd), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
	close(fd);
}
END_TEST

/* The fd survives exec: a shell reads it as its stdin. */
START_TEST(exec_keeps_fd)
{
	int fd = make_file("ex", "across exec\n", 0), p[2];
	char buf[64] = {0};
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 0);
		dup2(p[1], 1);
		execlp("cat", "cat", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	ck_assert_int_eq(read_all(p[0], buf, sizeof(buf) - 1), 12);
	ck_assert_str_eq(buf, "across exec\n");
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	close(p[0]);
	close(fd);
}
END_TEST

START_TEST(close_range_and_closefrom)
{
	long base = handles();
	int fd = make_file("cr", "x", 0), moved, st;
	pid_t pid;

	moved = dup2(fd, 100);
	close(fd);
	ck_assert_int_eq(close_range(90, 110, 0), 0);
	ck_assert_int_eq(fcntl(moved, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(wait_handles(base), base);
	/* The program closes everything; schemes keep working after. */
	pid = fork();
	if (pid == 0) {
		char buf[16];
		int f;

		closefrom(3);
		f = open(S ":world", O_RDONLY);
		_exit(f >= 0 && read(f, buf, sizeof(buf)) == 14 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(fd_passed_by_scm_rights)
{
	int fd = make_file("scm", "passed\n", 0), sv[2], st;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	if (pid == 0) {
		char buf[16] = {0};
		int got;

		close(fd); /* only the received copy remains here */
		if ((got = h_recv_fd(sv[1])) < 0)
			_exit(2);
		_exit(read(got, buf, sizeof(buf)) == 7 &&
			      strcmp(buf, "passed\n") == 0
			  ? 0
			  : 1);
	}
	h_send_fd(sv[0], fd);
	close(fd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(large_write_and_read)
{
	size_t len = 1 << 20;
	char *out = malloc(len), *in = malloc(len);
	struct stat st;
	int fd = make_file("large", NULL, 0);

	for (size_t i = 0; i < len; i++)
		out[i] = (char)(i * 7 + i / 4096);
	ck_assert_int_eq(write(fd, out, len), (ssize_t)len);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(read_all(fd, in, len), (ssize_t)len);
	ck_assert_int_eq(memcmp(in, out, len), 0);
	free(in);
	free(out);
	close(fd);
}
END_TEST

START_TEST(stdio_streams)
{
	char line[64];
	FILE *f = fopen(S ":stdio", "w");
	int fd;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fileno(f), 0);
	fprintf(f, "line %d\nsecond\n", 1);
	ck_assert_int_eq(fclose(f), 0);
	f = fopen(S ":stdio", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "line 1\n");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "second\n");
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
	fd = open(S ":stdio", O_RDONLY);
	f = fdopen(fd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fileno(f), fd);
	ck_assert_int_eq(fgetc(f), 'l');
	fclose(f);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* fclose closed it */
	ck_assert_ptr_null(fopen(S ":missing", "r"));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* stdout onto a scheme fd, as bash does for `echo hi > x:y`. */
START_TEST(stdout_redirected_by_dup2)
{
	int fd = make_file("redir", NULL, 0), saved = dup(1);
	char buf[32] = {0};

	ck_assert_int_eq(dup2(fd, 1), 1);
	printf("via printf\n");
	puts("via puts");
	fflush(stdout);
	ck_assert_int_eq(dup2(saved, 1), 1);
	close(saved);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(read_all(fd, buf, sizeof(buf) - 1), 20);
	ck_assert_str_eq(buf, "via printf\nvia puts\n");
	close(fd);
}
END_TEST

START_TEST(ordinary_fds_untouched)
{
	char path[128], buf[8] = {0};
	int p[2], fd;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "pipe", 4), 4);
	ck_assert_int_eq(read(p[0], buf, 4), 4);
	ck_assert_str_eq(buf, "pipe");
	snprintf(path, sizeof(path), "%s/plain", h_dir());
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "data", 4, 0), 4);
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), 4);
	errno = 0;
	ck_assert_int_eq(read(12345, buf, 1), -1);
	ck_assert_int_eq(errno, EBADF);
	close(fd);
	close(p[0]);
	close(p[1]);
}
END_TEST

static void
on_alarm(int sig)
{
}

/* A signal ends a blocked wait with EINTR; the next call works. */
START_TEST(signal_interrupts_wait)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	char buf[8];
	int fd = open(S ":fifo", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	alarm(1);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EINTR);
	close(fd);
	fd = open(S ":world", O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 8);
	close(fd);
}
END_TEST

/* The rest of the fd surface ------------------------------------------ */

static void
fill(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((i * 7 + seed) % 251);
}

/* copy_file_range, sendfile and splice, each way, with and without
 * offsets: the bytes arrive, and the offsets move as the kernel's do. */
START_TEST(copy_sendfile_splice)
{
	static char data[200000], back[200000];
	char tmp[256];
	int s = make_file("copysrc", NULL, 0), d, p[2];
	off64_t in_off, out_off;
	ssize_t n, total;

	fill(data, sizeof(data), 3);
	ck_assert_int_eq(write(s, data, sizeof(data)), (ssize_t)sizeof(data));
	ck_assert_int_eq(lseek(s, 0, SEEK_SET), 0);
	/* scheme -> disk, the fds' own offsets */
	snprintf(tmp, sizeof(tmp), "%s/copied", h_dir());
	d = open(tmp, O_CREAT | O_RDWR | O_TRUNC, 0600);
	for (total = 0;
	     (n = copy_file_range(s, NULL, d, NULL, 1 << 20, 0)) > 0;)
		total += n;
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(total, (ssize_t)sizeof(data));
	ck_assert_int_eq(pread(d, back, sizeof(back), 0),
			 (ssize_t)sizeof(back));
	ck_assert_int_eq(memcmp(data, back, sizeof(data)), 0);
	/* disk -> scheme, given offsets: the fds' own do not move */
	close(s);
	s = make_file("copydst", NULL, 0);
	in_off = 1000;
	out_off = 10;
	n = copy_file_range(d, &in_off, s, &out_off, 5000, 0);
	ck_assert_int_eq(n, 5000);
	ck_assert_int_eq(in_off, 6000);
	ck_assert_int_eq(out_off, 5010);
	ck_assert_int_eq(lseek(s, 0, SEEK_CUR), 0);
	ck_assert_int_eq(pread(s, back, 5000, 10), 5000);
	ck_assert_int_eq(memcmp(back, data + 1000, 5000), 0);
	ck_assert_int_eq(copy_file_range(d, NULL, s, NULL, 10, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* sendfile: scheme -> disk with an offset, disk -> scheme */
	in_off = 10;
	ck_assert_int_eq(sendfile(d, s, &in_off, 100), 100);
	ck_assert_int_eq(in_off, 110);
	ck_assert_int_eq(lseek(s, 0, SEEK_END), 5010);
	ck_assert_int_eq(lseek(d, 0, SEEK_SET), 0);
	ck_assert_int_eq(sendfile(s, d, NULL, 300), 300);
	ck_assert_int_eq(pread(s, back, 300, 5010), 300);
	ck_assert_int_eq(memcmp(back, data, 300), 0);
	/* splice: pipe -> scheme, scheme -> pipe */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "spliced", 7), 7);
	ck_assert_int_eq(lseek(s, 0, SEEK_SET), 0);
	ck_assert_int_eq(splice(p[0], NULL, s, NULL, 7, 0), 7);
	ck_assert_int_eq(lseek(s, 0, SEEK_SET), 0);
	ck_assert_int_eq(splice(s, NULL, p[1], NULL, 7, 0), 7);
	ck_assert_int_eq(read(p[0], back, 7), 7);
	ck_assert_int_eq(memcmp(back, "spliced", 7), 0);
	close(p[0]);
	close(p[1]);
	close(d);
	close(s);
}
END_TEST

/* mmap maps the file (test_mmap has the rest); fadvise is taken. */
START_TEST(mmap_maps_fadvise_ok)
{
	int fd = make_file("mapped", "some bytes", 0);
	char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_mem_eq(m, "some bytes", 10);
	ck_assert_int_eq(munmap(m, 4096), 0);
	ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
	ck_assert_int_eq(posix_fadvise(fd, 0, 0, 99), EINVAL);
	ck_assert_int_eq(posix_fadvise(12345, 0, 0, POSIX_FADV_NORMAL), EBADF);
	close(fd);
}
END_TEST

/* A vfork child's dup2 before exec must not touch the parent's table. */
START_TEST(vfork_child_redirects)
{
	int fd = make_file("vforked", "from the scheme\n", 0), p[2], st;
	char out[64] = "";
	struct stat before, after;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fstat(0, &before), 0);
	pid = vfork();
	if (pid == 0) {
		dup2(fd, 0);
		dup2(p[1], 1);
		execl("/bin/cat", "cat", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	ck_assert_int_gt(read_all(p[0], out, sizeof(out) - 1), 0);
	ck_assert_str_eq(out, "from the scheme\n");
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(fstat(0, &after), 0); /* still our own stdin */
	ck_assert_int_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0); /* still a scheme fd */
	close(p[0]);
	close(fd);
}
END_TEST

/* posix_spawn's open actions on scheme paths, and nothing left open. */
START_TEST(posix_spawn_opens_scheme_paths)
{
	char *argv[] = {(char *)"cat", NULL};
	posix_spawn_file_actions_t fa;
	long base;
	char out[64] = "";
	pid_t pid;
	int st, fd;

	close(make_file("spawnin", "spawned through a scheme\n", 0));
	base = settled_handles(); /* closes still on their way land first */
	ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
	ck_assert_int_eq(
	    posix_spawn_file_actions_addopen(&fa, 0, S ":spawnin", O_RDONLY, 0),
	    0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(
			     &fa, 1, "/scheme/" S "/spawnout",
			     O_WRONLY | O_CREAT | O_TRUNC, 0644),
			 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(
			     &fa, 2, S ":nodir/x", O_WRONLY | O_CREAT, 0644),
			 ENOENT); /* the open happens now: its error too */
	ck_assert_int_eq(posix_spawnp(&pid, "cat", &fa, NULL, argv, environ),
			 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(posix_spawn_file_actions_destroy(&fa), 0);
	fd = open(S ":spawnout", O_RDONLY);
	ck_assert_int_gt(read_all(fd, out, sizeof(out) - 1), 0);
	close(fd);
	ck_assert_str_eq(out, "spawned through a scheme\n");
	ck_assert_int_eq(wait_handles(base), base);
}
END_TEST

/* The directory calls a C program makes, on a scheme directory. */
static int
no_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

START_TEST(directory_calls)
{
	struct dirent **list, *e, ent, *res;
	char buf[4096], names[256] = "";
	long pos;
	int n, fd, seen = 0;
	DIR *d;

	ck_assert_int_eq(mkdir(S ":dc", 0755), 0);
	ck_assert_int_eq(mkdir(S ":dc", 0755), -1);
	ck_assert_int_eq(errno, EEXIST);
	close(make_file("dc/b", "b", 0));
	close(make_file("dc/a", "a", 0));
	ck_assert_int_eq(mkdir("/scheme/" S "/dc/sub", 0700), 0);
	/* scandir, sorted, with a filter */
	n = scandir(S ":dc", &list, no_dots, alphasort);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(list[0]->d_name, "a");
	ck_assert_str_eq(list[1]->d_name, "b");
	ck_assert_str_eq(list[2]->d_name, "sub");
	while (n-- > 0)
		free(list[n]);
	free(list);
	/* readdir, telldir/seekdir, rewinddir, readdir_r, dirfd */
	d = opendir(S ":dc");
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(e = readdir(d));
	pos = telldir(d);
	ck_assert_ptr_nonnull(e = readdir(d));
	strcpy(names, e->d_name);
	seekdir(d, pos);
	ck_assert_str_eq(readdir(d)->d_name, names);
	rewinddir(d);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	while (readdir_r(d, &ent, &res) == 0 && res != NULL)
		seen++;
#pragma GCC diagnostic pop
	ck_assert_int_eq(seen, 5); /* ".", "..", a, b, sub */
	ck_assert_int_ge(dirfd(d), 0);
	ck_assert_int_eq(closedir(d), 0);
	/* getdents64 straight, on an fd opened without O_DIRECTORY */
	fd = open(S ":dc", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = (int)getdents64(fd, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(getdents64(fd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(read(fd, buf, 1), -1); /* `cat dir`: EISDIR */
	ck_assert_int_eq(errno, EISDIR);
	close(fd);
	/* opendir of a file; rmdir of a full directory */
	ck_assert_ptr_null(opendir(S ":dc/a"));
	ck_assert_int_eq(errno, ENOTDIR);
	ck_assert_int_eq(rmdir(S ":dc"), -1);
	ck_assert_int_eq(errno, ENOTEMPTY);
	ck_assert_int_eq(rename(S ":dc/a", S ":dc/sub/a2"), 0);
	ck_assert_int_eq(access(S ":dc/sub/a2", R_OK | W_OK), 0);
	ck_assert_int_eq(access(S ":dc/a", F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(rename(S ":dc/b", "/tmp/nowhere"), -1);
	ck_assert_int_eq(errno, EXDEV);
}
END_TEST

/*
 * Hard links: SYS_FLINK within a scheme, in either path form; a symbolic
 * link followed only with AT_SYMLINK_FOLLOW; EXDEV to another scheme and
 * between a scheme and the disk, as across Linux file systems, and when a
 * symbolic link leads the old path to another scheme (rename too).
 */
START_TEST(hard_links)
{
	pid_t other = h_start_provider(TEST_MEMFS, "tc2");
	struct stat a, b;
	char disk[300], buf[8];
	int fd;

	ck_assert_int_gt(other, 0);
	fd = open(S ":hl", O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	ck_assert_int_eq(link(S ":hl", "/scheme/" S "/hl2"), 0);
	ck_assert_int_eq(stat(S ":hl", &a), 0);
	ck_assert_int_eq(stat(S ":hl2", &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_uint_eq(b.st_nlink, 2);
	ck_assert_int_eq(symlink("hl", S ":hsl"), 0);
	ck_assert_int_eq(
	    linkat(AT_FDCWD, S ":hsl", AT_FDCWD, S ":hl3", AT_SYMLINK_FOLLOW),
	    0);
	ck_assert_int_eq(link(S ":hsl", S ":hsl2"), 0);
	ck_assert_int_eq(lstat(S ":hl3", &b), 0);
	ck_assert(S_ISREG(b.st_mode) && b.st_nlink == 3);
	ck_assert_int_eq(lstat(S ":hsl2", &b), 0);
	ck_assert(S_ISLNK(b.st_mode) && b.st_nlink == 2);
	ck_assert_int_eq(link(S ":hl", "tc2:hl"), -1);
	ck_assert_int_eq(errno, EXDEV);
	/* a symbolic link on the old path leading to another scheme */
	close(open("tc2:f", O_WRONLY | O_CREAT, 0644));
	ck_assert_int_eq(symlink("/scheme/tc2", S ":hto2"), 0);
	ck_assert_int_eq(symlink("/scheme/tc2/f", S ":hto2f"), 0);
	ck_assert_int_eq(link(S ":hto2/f", S ":f"), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(
	    linkat(AT_FDCWD, S ":hto2f", AT_FDCWD, S ":f", AT_SYMLINK_FOLLOW),
	    -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(rename(S ":hto2/f", S ":f"), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(access("tc2:f", F_OK), 0);
	ck_assert_int_eq(access(S ":f", F_OK), -1);
	snprintf(disk, sizeof(disk), "%s/hl-disk", h_dir());
	ck_assert_int_eq(link(S ":hl", disk), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(link("/dev/null", S ":hnull"), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(link(S ":hl", S ":hl2"), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(link(S ":", S ":hroot"), -1);
	ck_assert_int_eq(errno, EPERM);
	/* the last name gone, the open file lives on */
	ck_assert_int_eq(unlink(S ":hl"), 0);
	ck_assert_int_eq(unlink(S ":hl2"), 0);
	ck_assert_int_eq(unlink(S ":hl3"), 0);
	ck_assert_int_eq(fstat(fd, &b), 0);
	ck_assert_uint_eq(b.st_nlink, 0);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 0), 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	close(fd);
	h_stop_daemon(other, "scheme-memfs");
}
END_TEST

/* Threads reading and appending on one fd at once: each byte once. */
struct share {
	int fd;
	long got, sum;
};

static void *
share_reader(void *arg)
{
	struct share *s = arg;
	unsigned char b[7];
	ssize_t n;

	while ((n = read(s->fd, b, sizeof(b))) > 0) {
		s->got += n;
		for (ssize_t i = 0; i < n; i++)
			s->sum += b[i];
	}
	return n < 0 ? (void *)1 : NULL;
}

static void *
share_appender(void *arg)
{
	struct share *s = arg;

	for (int i = 0; i < 100; i++)
		if (write(s->fd, "0123456789\n", 11) != 11)
			return (void *)1;
	return NULL;
}

START_TEST(threads_read_and_append_at_once)
{
	static char data[40000];
	struct share sh[4];
	pthread_t t[4];
	long got = 0, sum = 0, want = 0;
	struct stat st;
	void *bad;
	int fd = make_file("shared", NULL, 0), a;

	fill(data, sizeof(data), 9);
	for (size_t i = 0; i < sizeof(data); i++)
		want += (unsigned char)data[i];
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	for (int i = 0; i < 4; i++) {
		sh[i] = (struct share){fd, 0, 0};
		ck_assert_int_eq(
		    pthread_create(&t[i], NULL, share_reader, &sh[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_ptr_null(bad);
		got += sh[i].got;
		sum += sh[i].sum;
	}
	ck_assert_int_eq(got, (long)sizeof(data));
	ck_assert_int_eq(sum, want);
	close(fd);
	a = open(S ":appended", O_CREAT | O_WRONLY | O_TRUNC | O_APPEND, 0644);
	for (int i = 0; i < 4; i++) {
		sh[i] = (struct share){a, 0, 0};
		ck_assert_int_eq(
		    pthread_create(&t[i], NULL, share_appender, &sh[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
	ck_assert_int_eq(fstat(a, &st), 0);
	ck_assert_int_eq(st.st_size, 4 * 100 * 11);
	close(a);
}
END_TEST

/* How many of this process's fds are pipes. */
static int
pipe_fds(void)
{
	char path[300], link[64];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0 &&
		    (link[len] = '\0', strncmp(link, "pipe:", 5) == 0))
			n++;
	}
	closedir(d);
	return n;
}

/* Whether this process maps a channel's memfd for answers. */
static bool
maps_answers(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, "memfd:scheme-answers") != NULL;
	fclose(f);
	return found;
}

/*
 * A fresh thread's small reads and writes go by its channel's pipes (5
 * fds: the request and post pipes' two ends, the answer pipe's read
 * end), with the
 * answers' data in a memfd it maps; big writes by its socket,
 * interleaved, and every byte comes back right.
 */
static const char *const pipe_fails[] = {
    "no pipes after a small write", "big write",    "small read", "big read",
    "no end of file, or no memfd",  "pipes changed"};

static void *
pipe_user(void *arg)
{
	static char big[100000], back[100000];
	int fd = *(int *)arg, before = pipe_fds();
	char small[16];

	fill(big, sizeof(big), 5);
	if (write(fd, "0123456789", 10) != 10 || pipe_fds() != before + 5)
		return (void *)1;
	if (write(fd, big, sizeof(big)) != (ssize_t)sizeof(big) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		return (void *)2;
	if (read(fd, small, 8) != 8 || memcmp(small, "01234567", 8) != 0)
		return (void *)3;
	if (read(fd, small, 2) != 2 || memcmp(small, "89", 2) != 0 ||
	    read_all(fd, back, sizeof(back)) != (ssize_t)sizeof(back) ||
	    memcmp(back, big, sizeof(big)) != 0)
		return (void *)4;
	if (read(fd, small, 8) != 0 || !maps_answers())
		return (void *)5;
	return pipe_fds() == before + 5 ? NULL : (void *)6;
}

START_TEST(small_requests_go_by_pipe)
{
	int fd = make_file("piped", NULL, 0);
	pthread_t t;
	void *bad;

	ck_assert_int_eq(pthread_create(&t, NULL, pipe_user, &fd), 0);
	ck_assert_int_eq(pthread_join(t, &bad), 0);
	ck_assert_msg(bad == NULL, "%s", pipe_fails[(uintptr_t)bad - 1]);
	close(fd);
}
END_TEST


/*
 * A close by a program that then does nothing more with the scheme still
 * reaches the provider soon: the PARK that waits in the post pipe for the
 * next request (preload/chan_pipe.c, Posts) is read when the provider's
 * timer rings, within a fraction of a millisecond, not when the program
 * ends.  Counted by another process (a real cat), while the program
 * sleeps.  The program runs on one CPU, where closes are posted; the
 * preload notices its affinity within 100 ms (proto/spin.c).
 */
START_TEST(close_reaches_provider_while_idle)
{
	long base = h_stat_field(S, "handles "), now = -1;
	int go[2], status;
	pid_t pid;
	char c;

	ck_assert_int_ge(base, 0);
	ck_assert_int_eq(pipe(go), 0);
	if ((pid = fork()) == 0) {
		cpu_set_t one;
		int fd;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one) != 0)
			_exit(1);
		h_sleep_ms(150);
		fd = open(S ":idle", O_CREAT | O_RDWR | O_TRUNC, 0644);
		/* the write makes the pipes; the close is then posted */
		if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0 ||
		    write(go[1], "c", 1) != 1)
			_exit(1);
		h_sleep_ms(5000);
		_exit(0);
	}
	close(go[1]);
	ck_assert_int_eq(read(go[0], &c, 1), 1);
	close(go[0]);
	for (int i = 0; i < 40 && now != base; i++) {
		now = h_stat_field(S, "handles ");
		if (now != base)
			h_sleep_ms(50);
	}
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0); /* still idle */
	ck_assert_msg(now == base, "now %ld base %ld", now, base);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}
END_TEST

/* A thread's reads of fd, at its start: "spare" (chan.c's spares). */
static void *
spare_reader(void *arg)
{
	char buf[8] = {0};
	int fd = *(int *)arg;

	return pread(fd, buf, 5, 0) == 5 && strcmp(buf, "spare") == 0
		   ? NULL
		   : (void *)1;
}

static void
run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *bad;

	ck_assert_int_eq(pthread_create(&t, NULL, fn, arg), 0);
	ck_assert_int_eq(pthread_join(t, &bad), 0);
	ck_assert_ptr_null(bad);
}

/*
 * A thread's channel outlives it for the next thread (chan.c, spare):
 * the second thread's reads go by the pipes the first made (no new ones,
 * no broker round trip), while two threads at once each have their own;
 * a forked child has none of the parent's and makes its own.
 */
START_TEST(thread_channels_serve_later_threads)
{
	int fd = make_file("spare", "spare", 0), before = pipe_fds();
	pthread_t t[2];
	void *bad;
	pid_t pid;

	run_thread(spare_reader, &fd);
	ck_assert_int_eq(pipe_fds(), before + 5); /* kept */
	run_thread(spare_reader, &fd);
	ck_assert_int_eq(pipe_fds(), before + 5); /* taken, not made */
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, spare_reader, &fd),
				 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
	ck_assert_int_le(pipe_fds(), before + 10);
	if ((pid = fork()) == 0) {
		pthread_t c;

		if (pthread_create(&c, NULL, spare_reader, &fd) != 0 ||
		    pthread_join(c, &bad) != 0)
			_exit(2);
		_exit(bad == NULL ? 0 : 1);
	}
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	close(fd);
}
END_TEST

/* A thread's read of fd *arg, which waits until the thread is cancelled. */
static void *
waiting_reader(void *arg)
{
	char buf[8];

	if (read(*(int *)arg, buf, sizeof(buf)) < 0)
		return (void *)1;
	return (void *)2;
}

/* A thread's fstat (by the socket) and pread (by pipe) of NAME:world. */
static void *
world_reader(void *arg)
{
	char buf[8] = {0};
	struct stat st;
	int fd = *(int *)arg;

	return fstat(fd, &st) == 0 && st.st_size == 14 &&
		       pread(fd, buf, 5, 0) == 5 && memcmp(buf, "Hello", 5) == 0
		   ? NULL
		   : (void *)1;
}

/*
 * A thread cancelled while it waits in a read of NAME:name, whose answer
 * then comes late; the next thread must not get its channel (chan.c,
 * sparable), where it would take that answer for its own.
 */
static void
cancel_wait(const char *name)
{
	char path[64], buf[8];
	int fd, w, world = open(S ":world", O_RDONLY);
	pthread_t t;
	void *res;

	snprintf(path, sizeof(path), S ":%s", name);
	fd = open(path, O_RDONLY);
	w = open(path, O_WRONLY | O_NONBLOCK);
	ck_assert_int_ge(world, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(w, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, waiting_reader, &fd), 0);
	h_sleep_ms(200); /* it waits */
	ck_assert_int_eq(pthread_cancel(t), 0);
	ck_assert_int_eq(pthread_join(t, &res), 0);
	ck_assert_ptr_eq(res, PTHREAD_CANCELED);
	ck_assert_int_eq(write(w, "late", 4), 4); /* the wait's answer */
	run_thread(world_reader, &world);
	close(fd);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	while (read(fd, buf, sizeof(buf)) > 0) /* what no one took */
		;
	close(fd);
	close(w);
	close(world);
}

/* The fifo's read waits by pipe (the provider keeps it), the stream's on
 * the socket (WIRE_OP_WAIT, for the provider's post). */
START_TEST(cancelled_wait_leaves_no_late_answer)
{
	cancel_wait("fifo");
	cancel_wait("stream");
}
END_TEST

/* Opens and closes in a thread of its own, each open offering the socket
 * the close before parked: the pipes its channel made, counted.  The
 * first CHAN_REOPENS (preload/chan.h) go by the socket. */
#define CHAN_REOPENS_T 2
static void *
reopener(void *arg)
{
	int fd, *made = arg, before = pipe_fds();

	for (int i = 0; i < CHAN_REOPENS_T + 1; i++)
		if ((fd = open(S ":spare", O_RDONLY)) < 0 || close(fd) != 0)
			return (void *)1;
	*made = pipe_fds() - before;
	return NULL;
}

/*
 * Opens offering a parked file go by pipe even on a channel that no read
 * has upgraded, once it has reopened a few times (chan_pipe.c): such a
 * channel makes its pipes then.
 */
START_TEST(reopen_upgrades_channel)
{
	int fd = make_file("spare", "spare", 0), made = -1;

	close(fd);
	run_thread(reopener, &made);
	ck_assert_int_eq(made, 5);
}
END_TEST

static void
assert_reads(int fd, const char *want)
{
	char buf[32] = {0};

	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(want));
	ck_assert_str_eq(buf, want);
}

/*
 * A closed file's socket serves this process's next open of the scheme
 * (pool.h): same fd number, same socket, a new file behind it; the old
 * file is closed in the provider and opens again as itself.
 */
START_TEST(closed_file_socket_reused)
{
	int a = make_file("reuse-a", "first", 0), b;
	unsigned long ino = h_sock_ino(a);

	ck_assert_int_eq(close(a), 0);
	b = make_file("reuse-b", "second", 0);
	ck_assert_int_eq(b, a);
	ck_assert_uint_eq(h_sock_ino(b), ino);
	assert_reads(b, "second");
	a = open(S ":reuse-a", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(a, 0);
	assert_reads(a, "first");
	ck_assert_int_eq(fcntl(a, F_GETFD), FD_CLOEXEC);
	ck_assert_int_eq(fcntl(b, F_GETFD), 0);
	close(a);
	close(b);
}
END_TEST

/* After close and a new open, fd (shared before the close) still reads
 * its own file, and the new one has a socket of its own. */
static void
assert_not_reused(int fd, unsigned long ino, const char *name)
{
	int b = make_file(name, "new", 0);

	ck_assert_uint_ne(h_sock_ino(b), ino);
	assert_reads(fd, "old");
	close(b);
}

/*
 * A file that another fd or process may hold is never reused: a dup, a
 * fork's child, an fd sent with SCM_RIGHTS, a popen() child (clone,
 * past fork's handlers) each still read the old file after the close.
 */
START_TEST(shared_files_not_reused)
{
	char cmd[64], out[16] = {0};
	int a, d, sv[2], p[2], st;
	unsigned long ino;
	FILE *f;
	pid_t pid;

	a = make_file("shared-dup", "old", 0);
	ino = h_sock_ino(a);
	d = dup(a);
	close(a);
	assert_not_reused(d, ino, "shared-new1");
	close(d);

	a = make_file("shared-fork", "old", 0);
	ino = h_sock_ino(a);
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		char c, buf[8] = {0};

		_exit(read(p[0], &c, 1) == 1 && lseek(a, 0, SEEK_SET) == 0 &&
			      read(a, buf, sizeof(buf)) == 3 &&
			      strcmp(buf, "old") == 0
			  ? 0
			  : 1);
	}
	close(a);
	d = make_file("shared-new2", "new", 0);
	ck_assert_uint_ne(h_sock_ino(d), ino);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	close(d);
	close(p[0]);
	close(p[1]);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = make_file("shared-scm", "old", 0);
	ino = h_sock_ino(a);
	h_send_fd(sv[0], a);
	close(a);
	d = h_recv_fd(sv[1]);
	ck_assert_int_ge(d, 0);
	assert_not_reused(d, ino, "shared-new3");
	close(d);
	close(sv[0]);
	close(sv[1]);

	a = make_file("shared-popen", "old", 0);
	ino = h_sock_ino(a);
	snprintf(cmd, sizeof(cmd), "sleep 0.3; cat <&%d", a);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	close(a);
	d = make_file("shared-new4", "new", 0);
	ck_assert_uint_ne(h_sock_ino(d), ino);
	ck_assert_ptr_nonnull(fgets(out, sizeof(out), f));
	ck_assert_str_eq(out, "old");
	ck_assert_int_eq(pclose(f), 0);
	close(d);
}
END_TEST

/*
 * After seteuid() the provider sees the new user on the next open: our
 * cached credentials follow (the kernel would accept the old uid 0 while
 * it is still the real one).  As root only, as CI runs.
 */
START_TEST(seteuid_is_the_user_providers_see)
{
	struct stat st;
	int fd;

	if (getuid() != 0) {
		fprintf(stderr, "seteuid_is_the_user_providers_see: not root, "
				"skipped\n");
		return;
	}
	fd = make_file("owned-by-root", "x", 0); /* a parked file, too */
	close(fd);
	/* The root is root's 0755: nobody creates in a directory of all. */
	ck_assert_int_eq(mkdir(S ":for-all", 0777), 0);
	ck_assert_int_eq(chmod(S ":for-all", 0777), 0);
	ck_assert_int_eq(seteuid(65534), 0);
	fd = open(S ":for-all/owned-by-nobody", O_CREAT | O_RDWR | O_TRUNC,
		  0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(seteuid(0), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	close(fd);
	fd = make_file("owned-by-root-again", "x", 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	close(fd);
}
END_TEST

/*
 * A provider that stops on a signal whose handler signal() installed,
 * which restarts reads (SA_RESTART): its read of the scheme fd must still
 * end with EINTR, as epoll_wait's does, even on one CPU after a run of
 * requests by one pipe, where serve would otherwise read that pipe
 * directly (proto/serve/serve.c, Direct reads) and the kernel would
 * restart the read.
 */
static volatile sig_atomic_t sig_term;

static void
on_sig_term(int sig)
{
	(void)sig;
	sig_term = 1;
}

/* The test providers' answers to n bytes of packets: reads get 'x'. */
static void
answer(struct scheme_packet *p, ssize_t n)
{
	for (ssize_t i = 0; i < n / (ssize_t)sizeof(p[0]); i++) {
		if (p[i].a == SYS_READ) {
			memset((void *)(uintptr_t)p[i].c, 'x', p[i].d);
			p[i].a = p[i].d;
		} else {
			p[i].a = p[i].a == SYS_OPEN ? 1 : 0;
		}
	}
}

/* fn(ready) in a child, returned once it wrote to ready: its pid. */
static pid_t
fork_provider(void (*fn)(int))
{
	int go[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(go), 0);
	if ((pid = fork()) == 0)
		fn(go[1]);
	close(go[1]);
	ck_assert_int_eq(read(go[0], &c, 1), 1);
	close(go[0]);
	return pid;
}

static void
sig_provider(int ready)
{
	struct scheme_packet p[8];
	ssize_t n;
	int fd = open(":tc_sig", O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	signal(SIGTERM, on_sig_term);
	if (fd < 0 || write(ready, "r", 1) != 1)
		_exit(1);
	while (!sig_term && (n = read(fd, p, sizeof(p))) > 0) {
		answer(p, n);
		if (write(fd, p, (size_t)n) != n)
			_exit(1);
	}
	_exit(sig_term ? 0 : 2);
}

/*
 * On CPU 0 alone, fn's provider in a child (*pid), and 40 reads of path
 * from it: enough for the provider to read its requests directly (serve.c).
 * The fd read.
 */
static int
pinned_reads(void (*fn)(int), const char *path, pid_t *pid)
{
	cpu_set_t one;
	char buf[8];
	int fd;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	*pid = fork_provider(fn);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	return fd;
}

/* The child's exit status, or -1; killed, and the case failed, past ms. */
static int
provider_end(pid_t pid, int ms, const char *what)
{
	int status = 0, i;

	for (i = 0; i < ms / 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
		h_sleep_ms(50);
	if (i == ms / 50) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("the provider did not %s", what);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(provider_stops_on_a_restarting_signal)
{
	pid_t pid;
	int fd = pinned_reads(sig_provider, "tc_sig:f", &pid);

	kill(pid, SIGTERM);
	ck_assert_int_eq(provider_end(pid, 3000, "stop on SIGTERM"), 0);
	close(fd);
}
END_TEST

/*
 * A provider thread blocked in read() of its scheme fd is cancelled by
 * pthread_cancel, though a direct read is no cancellation point: the
 * preload's pthread_cancel wakes it (serve_wake).  The provider's main
 * thread then serves the next request itself: the channel goes on.  The
 * child says by its exit status what went wrong (3: not cancelled).
 */
static int cancel_fd, cancel_go[2], cancel_done[2];

static void *
cancel_worker(void *arg)
{
	struct scheme_packet p[8];
	ssize_t n;

	(void)arg;
	while ((n = read(cancel_fd, p, sizeof(p))) > 0) {
		answer(p, n);
		if (write(cancel_fd, p, (size_t)n) != n)
			break;
	}
	return NULL;
}

static void
cancel_provider(int ready)
{
	struct scheme_packet p[8];
	struct timespec until;
	pthread_t t;
	void *ret;
	ssize_t n;
	char c;

	cancel_fd = open(":tc_cancel", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (cancel_fd < 0 || pthread_create(&t, NULL, cancel_worker, NULL) ||
	    write(ready, "r", 1) != 1 || read(cancel_go[0], &c, 1) != 1)
		_exit(1);
	h_sleep_ms(100); /* the worker back in its (direct) read */
	if (pthread_cancel(t) != 0)
		_exit(2);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3;
	if (pthread_timedjoin_np(t, &ret, &until) != 0 ||
	    ret != PTHREAD_CANCELED)
		_exit(3);
	if (write(cancel_done[1], "d", 1) != 1 ||
	    (n = read(cancel_fd, p, sizeof(p))) <= 0)
		_exit(4);
	answer(p, n);
	_exit(write(cancel_fd, p, (size_t)n) == n ? 0 : 5);
}

START_TEST(provider_thread_cancelled_in_its_read)
{
	char buf[8];
	pid_t pid;
	int fd;

	ck_assert_int_eq(pipe(cancel_go), 0);
	ck_assert_int_eq(pipe(cancel_done), 0);
	fd = pinned_reads(cancel_provider, "tc_cancel:f", &pid);
	ck_assert_int_eq(write(cancel_go[1], "g", 1), 1);
	/* the worker is gone (or never will be: the child's status says) */
	if (poll(&(struct pollfd){.fd = cancel_done[0], .events = POLLIN}, 1,
		 5000) == 1)
		ck_assert_int_eq(read(fd, buf, sizeof(buf)),
				 (ssize_t)sizeof(buf));
	ck_assert_int_eq(provider_end(pid, 5000, "end"), 0);
	close(fd);
}
END_TEST

/*
 * A provider's read() and write() are the preload's own calls (fdops.h):
 * errno stays as it was when they succeed, through read(), __read_chk
 * (a fortified program's read) and readv alike; the child says which
 * went wrong by its exit status.
 */
ssize_t __read_chk(int, void *, size_t, size_t);

static void
errno_provider(int ready)
{
	struct scheme_packet p[8];
	struct iovec iov = {p, sizeof(p)};
	int fd = open(":tc_errno", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0 || write(ready, "r", 1) != 1)
		_exit(1);
	for (unsigned round = 0;; round++) {
		errno = 4242;
		if (round % 3 == 0)
			n = read(fd, p, sizeof(p));
		else if (round % 3 == 1)
			n = __read_chk(fd, p, sizeof(p), sizeof(p));
		else
			n = readv(fd, &iov, 1);
		if (n <= 0)
			_exit(n == 0 ? 0 : 2);
		if (errno != 4242)
			_exit(10 + round % 3);
		answer(p, n);
		errno = 4242;
		if (write(fd, p, (size_t)n) != n)
			_exit(3);
		if (errno != 4242)
			_exit(4);
	}
}

START_TEST(provider_calls_keep_errno)
{
	pid_t pid = fork_provider(errno_provider);
	int status = 0, fd, i;
	char buf[8];

	fd = open("tc_errno:f", O_RDONLY);
	for (i = 0; fd >= 0 && i < 12; i++)
		if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			break;
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = 0; /* still serving: nothing went wrong */
	}
	ck_assert_msg(status == 0, "the provider exited, status %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(i, 12);
	close(fd);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("posix");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, open_read_close);
	tcase_add_test(tc, scheme_dir_form);
	tcase_add_test(tc, hard_links);
	tcase_add_test(tc, create_write_seek_stat);
	tcase_add_test(tc, errors_have_errno);
	tcase_add_test(tc, unknown_scheme_is_a_file);
	tcase_add_test(tc, root_lists_schemes);
	tcase_add_test(tc, stat_family);
	tcase_add_test(tc, fcntl_flags);
	tcase_add_test(tc, deferred_read_and_nonblock);
	tcase_add_test(tc, dups_share_one_description);
	tcase_add_test(tc, fork_shares_description_not_replies);
	tcase_add_test(tc, threads_share_fd);
	tcase_add_test(tc, exec_keeps_fd);
	tcase_add_test(tc, close_range_and_closefrom);
	tcase_add_test(tc, fd_passed_by_scm_rights);
	tcase_add_test(tc, large_write_and_read);
	tcase_add_test(tc, stdio_streams);
	tcase_add_test(tc, stdout_redirected_by_dup2);
	tcase_add_test(tc, ordinary_fds_untouched);
	tcase_add_test(tc, signal_interrupts_wait);
	tcase_add_test(tc, copy_sendfile_splice);
	tcase_add_test(tc, mmap_maps_fadvise_ok);
	tcase_add_test(tc, vfork_child_redirects);
	tcase_add_test(tc, posix_spawn_opens_scheme_paths);
	tcase_add_test(tc, threads_read_and_append_at_once);
	tcase_add_test(tc, directory_calls);
	tcase_add_test(tc, small_requests_go_by_pipe);
	tcase_add_test(tc, close_reaches_provider_while_idle);
	tcase_add_test(tc, closed_file_socket_reused);
	tcase_add_test(tc, thread_channels_serve_later_threads);
	tcase_add_test(tc, cancelled_wait_leaves_no_late_answer);
	tcase_add_test(tc, reopen_upgrades_channel);
	tcase_add_test(tc, shared_files_not_reused);
	tcase_add_test(tc, seteuid_is_the_user_providers_see);
	tcase_add_test(tc, provider_stops_on_a_restarting_signal);
	tcase_add_test(tc, provider_thread_cancelled_in_its_read);
	tcase_add_test(tc, provider_calls_keep_errno);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(client_suite());
}
