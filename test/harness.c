/*
 * harness.c - starting and stopping the real things tests run against
 * (see harness.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../proto/wire/sockpath.h"
#include "../proto/wire/wire.h"
#include "harness.h"

int h_daemon_failures;
static char dir[64];
static pid_t dir_owner;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/*
 * The directory goes when the process that made it exits (not the forked
 * test cases), unless a daemon failed: then its logs are what to read.
 */
static void
rm_dir(void)
{
	if (getpid() == dir_owner && h_daemon_failures == 0 &&
	    getenv("SCHEME_TEST_KEEP") == NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
h_dir(void)
{
	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/scheme-test-XXXXXX");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
		dir_owner = getpid();
		atexit(rm_dir);
	}
	return dir;
}

const char *
h_socket(void)
{
	static char s[128];

	snprintf(s, sizeof(s), "%s/sock", h_dir());
	return s;
}

void
h_setup_env(void)
{
	setenv("SCHEME_SOCKET", h_socket(), 1);
}

void
h_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * The environment a child gets.  "Without the preload" is an empty
 * LD_PRELOAD, not a missing one: a missing one is what the preload's exec
 * wrappers restore.
 */
static void
child_env(bool preload)
{
	char val[4096];

	if (preload) {
		snprintf(val, sizeof(val), "%s%s%s", TEST_ASAN_RUNTIME,
			 TEST_ASAN_RUNTIME[0] ? ":" : "", TEST_PRELOAD);
		setenv("LD_PRELOAD", val, 1);
	} else {
		setenv("LD_PRELOAD", "", 1);
	}
	setenv("SCHEME_SOCKET", h_socket(), 1);
}

/*
 * With SCHEME_TEST_VALGRIND=1 our own daemons run under memcheck; an error
 * or a leak makes them exit 99, which the fixtures that check the exit
 * status report.
 */
static void
exec_maybe_valgrind(char *const argv[])
{
	char *vg[16] = {(char *)"valgrind",
			(char *)"-q",
			(char *)"--error-exitcode=99",
			(char *)"--leak-check=full",
			(char *)"--errors-for-leak-kinds=definite",
			(char *)"--trace-children=no"};
	int n = 6;

	if (getenv("SCHEME_TEST_VALGRIND") != NULL &&
	    (strcmp(argv[0], TEST_SCHEMED) == 0 ||
	     strcmp(argv[0], TEST_MEMFS) == 0 ||
	     strcmp(argv[0], TEST_HELLO) == 0)) {
		while (*argv != NULL && n < 15)
			vg[n++] = *argv++;
		vg[n] = NULL;
		execvp("valgrind", vg);
	}
}

/* In a child: become argv, as h_spawn's children do. */
void
h_exec(char *const argv[], bool preload)
{
	child_env(preload);
	exec_maybe_valgrind(argv);
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

pid_t
h_spawn(char *const argv[], bool preload, int outfd)
{
	pid_t pid;

	(void)h_dir(); /* here, not in the child that execs (h_run) */
	if ((pid = fork()) != 0)
		return pid;
	if (outfd >= 0) {
		dup2(outfd, 1);
		dup2(outfd, 2);
	}
	h_exec(argv, preload);
}

static int
broker_connect(void)
{
	return sockpath_connect(h_socket());
}

pid_t
h_start_broker(void)
{
	return h_start_broker_with(NULL);
}

/* The broker, with extra options (NULL-terminated; NULL for none). */
pid_t
h_start_broker_with(char *const extra[])
{
	char *argv[16] = {(char *)TEST_SCHEMED, (char *)"--socket",
			  (char *)h_socket(), NULL};
	char log[128];
	pid_t pid;
	int fd, i, out;

	for (i = 0; extra != NULL && extra[i] != NULL && i < 12; i++)
		argv[3 + i] = extra[i];

	snprintf(log, sizeof(log), "%s/broker.log", h_dir());
	out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	/* Our daemon's leaks are ours: a leak makes its exit status 23. */
	if (TEST_ASAN_RUNTIME[0] != '\0')
		setenv("ASAN_OPTIONS", "detect_leaks=1:exitcode=23", 1);
	pid = h_spawn(argv, false, out);
	if (TEST_ASAN_RUNTIME[0] != '\0')
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	close(out);
	for (i = 0; i < 1500; i++) {
		if ((fd = broker_connect()) >= 0) {
			close(fd);
			return pid;
		}
		h_sleep_ms(10);
	}
	fprintf(stderr, "harness: the broker did not come up\n");
	h_stop(pid);
	return -1;
}

bool
h_scheme_exists(const char *name)
{
	int fd = broker_connect();
	bool r;

	if (fd < 0)
		return false;
	r = h_scheme_listed(fd, name);
	close(fd);
	return r;
}

/* Whether the broker lists `name`, asked on the connection fd. */
bool
h_scheme_listed(int fd, const char *name)
{
	char buf[sizeof(struct wire_ctl) + 4096], list[4096 + 2], want[80];
	struct wire_ctl req, *rep = (struct wire_ctl *)buf;
	struct iovec iov = {buf, sizeof(buf)};
	ssize_t n;

	wire_ctl_init(&req, WIRE_CTL_LIST);
	n = wire_send(fd, &req, sizeof(req), NULL, 0, -1, NULL, 0);
	if (n > 0)
		n = wire_recv(fd, &iov, 1, NULL, NULL, MSG_CMSG_CLOEXEC);
	if (n <= 0 || wire_ctl_check(rep, (size_t)n) < 0)
		return false;
	/* "\nname\n" matches whole lines, the first one too. */
	snprintf(list, sizeof(list), "\n%.*s", (int)rep->len,
		 buf + sizeof(*rep));
	snprintf(want, sizeof(want), "\n%s\n", name);
	return strstr(list, want) != NULL;
}

pid_t
h_start_memfs(const char *name)
{
	return h_start_provider(TEST_MEMFS, name);
}

/* A provider program of ours, under the preload, serving `name`. */
pid_t
h_start_provider(const char *prog, const char *name)
{
	return h_start_provider_args(prog, NULL, NULL, NULL, name);
}

/* The same, with up to three options before the name. */
pid_t
h_start_provider_args(const char *prog, const char *o1, const char *o2,
		      const char *o3, const char *name)
{
	char *argv[6] = {(char *)prog};
	char log[128];
	int k = 1;

	if (o1 != NULL)
		argv[k++] = (char *)o1;
	if (o2 != NULL)
		argv[k++] = (char *)o2;
	if (o3 != NULL)
		argv[k++] = (char *)o3;
	argv[k++] = (char *)name;
	argv[k] = NULL;
	pid_t pid;
	int i, out;

	snprintf(log, sizeof(log), "%s/memfs-%s.log", h_dir(), name);
	out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	pid = h_spawn(argv, true, out);
	close(out);
	for (i = 0; i < 1500; i++) {
		if (h_scheme_exists(name))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		h_sleep_ms(10);
	}
	fprintf(stderr, "harness: %s %s did not come up\n", prog, name);
	h_stop(pid);
	return -1;
}

int
h_wait_exit(pid_t pid, int seconds)
{
	int st, i;

	for (i = 0; i < seconds * 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st)
					     : 128 + WTERMSIG(st);
		h_sleep_ms(10);
	}
	return -1;
}

/*
 * Stop one of our daemons and count it as a failure unless it exits
 * cleanly (under valgrind or the sanitizers an error changes its status).
 */
void
h_stop_daemon(pid_t pid, const char *what)
{
	int st = h_stop(pid);

	if (st != 0) {
		fprintf(stderr, "harness: %s exited with status %d; see %s\n",
			what, st, h_dir());
		h_daemon_failures++;
	}
}

/* Stop by pid; returns how it ended (128 + signal if it had to be killed). */
int
h_stop(pid_t pid)
{
	int st;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	if ((st = h_wait_exit(pid, 10)) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		st = 128 + SIGKILL;
	}
	return st;
}

static void
collect(struct run_result *r, int outfd, int errfd, pid_t pid, int seconds)
{
	struct pollfd p[2] = {{outfd, POLLIN, 0}, {errfd, POLLIN, 0}};
	struct timespec start, now;
	ssize_t n;
	int st, open_fds = 2;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (open_fds > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= seconds) {
			r->timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *len = i ? &r->errlen : &r->outlen;
			size_t cap = i ? sizeof(r->err) : sizeof(r->out);

			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, buf + *len, cap - 1 - *len);
			if (n <= 0) {
				p[i].fd = -1;
				open_fds--;
			} else {
				*len += (size_t)n;
			}
		}
	}
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out[r->outlen] = '\0';
	r->err[r->errlen] = '\0';
}

void
h_run(struct run_result *r, bool preload, const char *input, int seconds,
      char *const argv[])
{
	int in[2], out[2], err[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	/*
	 * The child's SCHEME_SOCKET names h_dir(): made here, by a process
	 * that removes it at exit, not by the child, which execs (it was
	 * left behind, one a case, until CI's /tmp held 20,000).
	 */
	(void)h_dir();
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		r->status = -1;
		return;
	}
	pid = fork();
	if (pid == 0) {
		child_env(preload);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (input != NULL && write(in[1], input, strlen(input)) < 0)
		r->status = -1;
	close(in[1]);
	collect(r, out[0], err[0], pid, seconds);
	close(out[0]);
	close(err[0]);
}

void
h_sh(struct run_result *r, const char *script)
{
	char *argv[] = {(char *)"bash", (char *)"-c", (char *)script, NULL};

	h_run(r, true, NULL, 20, argv);
}

const char *
h_sh_out(struct run_result *r, const char *script)
{
	h_sh(r, script);
	ck_assert_msg(r->status == 0, "%s: status %d: %s", script, r->status,
		      r->err);
	return r->out;
}

void
h_sh_ok(struct run_result *r, int seconds, const char *fmt, ...)
{
	char script[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(script, sizeof(script), fmt, ap);
	va_end(ap);
	char *argv[] = {(char *)"sh", (char *)"-c", script, NULL};
	h_run(r, false, NULL, seconds, argv);
	ck_assert_msg(r->status == 0, "%s\nstatus %d\n%s%s", script, r->status,
		      r->out, r->err);
}

int
h_count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

char *
h_read_file(const char *path, size_t *len)
{
	char *buf = malloc(1 << 20);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0 || buf == NULL) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + *len, (1 << 20) - 1 - *len)) > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
	close(fd);
	return buf;
}

/* pid's resident memory (VmRSS) in KiB, or -1. */
long
h_rss_kb(pid_t pid)
{
	char path[64], *buf, *p;
	size_t len;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((buf = h_read_file(path, &len)) == NULL)
		return -1;
	if ((p = strstr(buf, "VmRSS:")) != NULL)
		kb = strtol(p + 6, NULL, 10);
	free(buf);
	return kb;
}

/* A counter from scheme-memfs's NAME:.stats, read by a real cat. */
long
h_stat_field(const char *scheme, const char *key)
{
	struct run_result *r = malloc(sizeof(*r));
	char path[128], *p;
	long v = -1;

	snprintf(path, sizeof(path), "%s:.stats", scheme);
	char *argv[] = {(char *)"cat", path, NULL};
	h_run(r, true, NULL, 10, argv);
	p = strstr(r->out, key);
	if (r->status == 0 && p != NULL)
		v = strtol(p + strlen(key), NULL, 10);
	free(r);
	return v;
}

pid_t h_broker = -1, h_memfs = -1;

void
h_world_start(const char *name)
{
	h_setup_env();
	h_broker = h_start_broker();
	if (h_broker < 0)
		abort();
	if (name != NULL && (h_memfs = h_start_memfs(name)) < 0)
		abort();
}

void
h_world_stop(void)
{
	if (h_memfs > 0)
		h_stop_daemon(h_memfs, "scheme-memfs");
	if (h_broker > 0)
		h_stop_daemon(h_broker, "schemed");
	h_memfs = h_broker = -1;
}

void
h_in_child(void (*fn)(void))
{
	pid_t pid;
	int st;

	(void)h_dir(); /* here, not in the child that ends by _exit */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "child failed (status %#x)", st);
}

int
h_become_nobody(void)
{
	gid_t g = 65534;

	if (setgroups(1, &g) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return -1;
	return 0;
}

void
h_send_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)"x", 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	ck_assert_int_eq(sendmsg(sock, &m, 0), 1);
}

int
h_recv_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char c;
	struct iovec iov = {&c, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	int fd;

	if (recvmsg(sock, &m, 0) != 1 || CMSG_FIRSTHDR(&m) == NULL)
		return -1;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(fd));
	return fd;
}

unsigned long
h_sock_ino(int fd)
{
	char path[64], link[64];
	unsigned long ino = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	ck_assert_int_eq(sscanf(link, "socket:[%lu]", &ino), 1);
	return ino;
}

/* Run a suite; fail if a test did, or a daemon did not exit cleanly. */
int
h_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed || h_daemon_failures ? 1 : 0;
}
