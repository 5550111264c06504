/*
 * test_client.c - a program using schemes through plain POSIX calls.
 *
 * This binary runs under the preload (ctest sets LD_PRELOAD), against a
 * broker and scheme-memfs providers it starts itself.  Each case asserts
 * results and errno, as an unmodified program would see them.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* A blocking read waits for data a writer provides later; O_NONBLOCK
 * turns the wait into EAGAIN. */
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
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} u;
	struct iovec iov = {(char *)"x", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	if (pid == 0) {
		char buf[16] = {0}, c;
		struct iovec ri = {&c, 1};
		struct msghdr rm = {.msg_iov = &ri,
				    .msg_iovlen = 1,
				    .msg_control = u.buf,
				    .msg_controllen = sizeof(u.buf)};
		int got;

		close(fd); /* only the received copy remains here */
		if (recvmsg(sv[1], &rm, 0) != 1)
			_exit(2);
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof(got));
		_exit(read(got, buf, sizeof(buf)) == 7 &&
			      strcmp(buf, "passed\n") == 0
			  ? 0
			  : 1);
	}
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	CMSG_FIRSTHDR(&m)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&m)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), &fd, sizeof(int));
	ck_assert_int_eq(sendmsg(sv[0], &m, 0), 1);
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

static Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("posix");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, open_read_close);
	tcase_add_test(tc, scheme_dir_form);
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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(client_suite());
}
