/*
 * test_systemd.c - schemed started by socket activation, as
 * schemed.socket starts it: by systemd-socket-activate (the systemd
 * package's tool for exactly this), and by this suite playing systemd's
 * part where it must keep the socket across two brokers or pass an fd
 * systemd would not.
 *
 * The activated broker must not exist before the first connection, must
 * serve schemerun's providers and programs, must leave the socket to
 * whoever passed it, and must refuse an fd that is not one listening
 * AF_UNIX SOCK_SEQPACKET socket with a line saying what is wrong.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../proto/wire/sockpath.h"
#include "harness.h"

#define ACTIVATE "systemd-socket-activate"

static char *
log_path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s.log", h_dir(), name);
	return p;
}

static bool
log_has(const char *name, const char *what)
{
	size_t len;
	char *buf = h_read_file(log_path(name), &len);
	bool r = buf != NULL && strstr(buf, what) != NULL;

	free(buf);
	return r;
}

/* Wait up to 5 s for path to be a socket. */
static bool
socket_appears(const char *path)
{
	struct stat st;

	for (int i = 0; i < 500; i++) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return true;
		h_sleep_ms(10);
	}
	return false;
}

/* The program pid runs now (its /proc/PID/exe), or "". */
static const char *
exe_of(pid_t pid)
{
	static char exe[PATH_MAX];
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	return exe;
}

static bool
runs_schemed(pid_t pid)
{
	char want[PATH_MAX];

	return realpath(TEST_SCHEMED, want) != NULL &&
	       strcmp(exe_of(pid), want) == 0;
}

/*
 * systemd-socket-activate listening at our socket (SOCK_SEQPACKET, or
 * SOCK_STREAM as ListenStream= would), schemed to start on a connection.
 */
static pid_t
start_activator(bool seqpacket)
{
	char env[256];
	char *argv[12] = {(char *)ACTIVATE,
			  (char *)"-l",
			  (char *)h_socket(),
			  (char *)"-E",
			  env,
			  (char *)"-E",
			  (char *)"ASAN_OPTIONS=detect_leaks=1:exitcode=23"};
	int out, n = 7;
	pid_t pid;

	if (seqpacket)
		argv[n++] = (char *)"--seqpacket";
	argv[n++] = (char *)TEST_SCHEMED;
	argv[n] = NULL;
	snprintf(env, sizeof(env), "SCHEME_SOCKET=%s", h_socket());
	out = open(log_path("broker"),
		   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	pid = h_spawn(argv, false, out);
	close(out);
	ck_assert_msg(socket_appears(h_socket()),
		      ACTIVATE " did not listen (is the systemd package "
			       "installed? tools/install-deps.sh)");
	return pid;
}

/*
 * Start schemed as systemd does: fds[0..n) at 3.., LISTEN_FDS, and
 * LISTEN_PID (the child's pid, or pid 1's when `for_us` is false).
 */
static pid_t
activate(const int *fds, int n, bool for_us)
{
	char *argv[] = {(char *)TEST_SCHEMED, (char *)"--socket",
			(char *)h_socket(), NULL};
	char num[32];
	int out, i, hi[4];
	pid_t pid;

	out = open(log_path("broker"),
		   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if ((pid = fork()) != 0) {
		close(out);
		return pid;
	}
	dup2(out, 1);
	dup2(out, 2);
	for (i = 0; i < n; i++) /* out of the way of 3.. first */
		hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100);
	for (i = 0; i < n; i++)
		dup2(hi[i], 3 + i); /* without close-on-exec */
	snprintf(num, sizeof(num), "%d", n);
	setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%d", for_us ? (int)getpid() : 1);
	setenv("LISTEN_PID", num, 1);
	if (TEST_ASAN_RUNTIME[0] != '\0')
		setenv("ASAN_OPTIONS", "detect_leaks=1:exitcode=23", 1);
	h_exec(argv, false);
}

static int
make_socket(int type, const char *path, bool listening)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	if (path[0] == '@') { /* abstract */
		strcpy(sa.sun_path + 1, path + 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				  strlen(path));
	} else {
		strcpy(sa.sun_path, path);
	}
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	if (listening)
		ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

static void
run_ok(struct run_result *r, char *const argv[])
{
	h_run(r, false, NULL, 20, argv);
	ck_assert_msg(r->status == 0, "%s: status %d\n%s%s", argv[1], r->status,
		      r->out, r->err);
}

/*
 * The first connection starts the broker: before it, the process that
 * listens is systemd-socket-activate and nothing else; after it, that
 * process is schemed, serving a provider and a program run by schemerun.
 */
START_TEST(activated_on_first_use)
{
	struct run_result *r = calloc(1, sizeof(*r));
	char *prov[] = {(char *)TEST_SCHEMERUN, (char *)TEST_HELLO,
			(char *)"greet", NULL};
	char *cat[] = {(char *)TEST_SCHEMERUN, (char *)"cat",
		       (char *)"greet:systemd", NULL};
	pid_t act, hello;
	int i;

	h_setup_env();
	act = start_activator(true);
	h_sleep_ms(200);
	ck_assert_msg(!runs_schemed(act) && strstr(exe_of(act), ACTIVATE),
		      "before any connection pid %d runs %s", (int)act,
		      exe_of(act));
	ck_assert(!log_has("broker", "listening on"));

	hello = h_spawn(prov, false, -1);
	for (i = 0; i < 500 && !h_scheme_exists("greet"); i++)
		h_sleep_ms(10);
	ck_assert_msg(h_scheme_exists("greet"), "the provider did not come up");
	ck_assert_msg(runs_schemed(act), "pid %d runs %s", (int)act,
		      exe_of(act));
	ck_assert(log_has("broker", "socket from systemd"));
	run_ok(r, cat);
	ck_assert_str_eq(r->out, "Hello, systemd!\n");

	h_stop(hello);
	ck_assert_int_eq(h_stop(act), 0);
	ck_assert_msg(socket_appears(h_socket()),
		      "the broker removed the socket systemd owns");
	free(r);
}
END_TEST

/*
 * systemd keeps the socket when the broker exits, and starts another on
 * the next connection: that one serves connections made while no broker
 * ran, and has none of the old broker's schemes, whose providers read
 * end-of-file and exit.  (A provider caught in a call to the old broker
 * reconnects, and waits for the new one, as under systemd.)
 */
START_TEST(restarted_broker_keeps_socket)
{
	int lfd, early;
	pid_t b1, b2, hello;

	h_setup_env();
	lfd = make_socket(SOCK_SEQPACKET, h_socket(), true);
	b1 = activate(&lfd, 1, true);
	hello = h_start_provider(TEST_HELLO, "greet");
	ck_assert_int_gt(hello, 0);
	ck_assert_int_eq(h_stop(b1), 0);
	ck_assert(socket_appears(h_socket()));

	early = sockpath_connect(h_socket()); /* queued: nobody accepts */
	ck_assert_int_ge(early, 0);
	b2 = activate(&lfd, 1, true);
	ck_assert_msg(h_wait_exit(hello, 20) >= 0,
		      "the provider did not see its scheme end");
	ck_assert(!h_scheme_listed(early, "greet"));
	ck_assert(h_scheme_listed(early, "time"));
	close(early);
	ck_assert_int_eq(h_stop(b2), 0);
	close(lfd);
}
END_TEST

static const struct {
	const char *what;
	int type; /* 0: a pipe */
	const char *path;
	bool listening;
	int count;
	const char *says;
} wrong[] = {
    {"a pipe", 0, NULL, false, 1, "is not a socket"},
    {"a stream socket", SOCK_STREAM, "s", true, 1, "not a SOCK_SEQPACKET"},
    {"a datagram socket", SOCK_DGRAM, "s", false, 1, "not a SOCK_SEQPACKET"},
    {"a socket not listening", SOCK_SEQPACKET, "s", false, 1,
     "is not listening"},
    {"an abstract socket", SOCK_SEQPACKET, "@scheme-test-abstract", true, 1,
     "not bound to a path"},
    {"two sockets", SOCK_SEQPACKET, "s", true, 2, "passed 2 fds"},
};

/* An fd systemd should not have passed: refused at start, saying why. */
START_TEST(refuses_wrong_fd)
{
	char path[128];
	int fds[2], p[2];
	pid_t pid;

	h_setup_env();
	if (wrong[_i].type == 0) {
		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		fds[0] = p[0];
	} else {
		snprintf(path, sizeof(path), "%s/%s", h_dir(), wrong[_i].path);
		if (wrong[_i].path[0] == '@')
			snprintf(path, sizeof(path), "%s%d", wrong[_i].path,
				 (int)getpid());
		fds[0] = fds[1] =
		    make_socket(wrong[_i].type, path, wrong[_i].listening);
	}
	pid = activate(fds, wrong[_i].count, true);
	ck_assert_msg(h_wait_exit(pid, 10) == 1, "%s was not refused",
		      wrong[_i].what);
	ck_assert_msg(log_has("broker", wrong[_i].says),
		      "%s: the log does not say \"%s\"", wrong[_i].what,
		      wrong[_i].says);
	ck_assert_msg(access(h_socket(), F_OK) < 0,
		      "%s: a socket was made anyway", wrong[_i].what);
}
END_TEST

/* The same through systemd-socket-activate: a unit with ListenStream=. */
START_TEST(activator_stream_refused)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pid_t act;
	int fd;

	h_setup_env();
	act = start_activator(false);
	strcpy(sa.sun_path, h_socket());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(h_wait_exit(act, 10), 1);
	ck_assert(log_has("broker", "not a SOCK_SEQPACKET"));
	close(fd);
}
END_TEST

/* LISTEN_PID names another process: the fds are not ours to take. */
START_TEST(passed_to_another_pid)
{
	char path[128];
	int lfd, fd;
	pid_t b;

	h_setup_env();
	snprintf(path, sizeof(path), "%s/other", h_dir());
	lfd = make_socket(SOCK_SEQPACKET, path, true);
	b = activate(&lfd, 1, false);
	for (int i = 0; i < 500 && (fd = sockpath_connect(h_socket())) < 0; i++)
		h_sleep_ms(10);
	ck_assert_msg(fd >= 0, "the broker did not listen on --socket");
	close(fd);
	ck_assert(!log_has("broker", "from systemd"));
	ck_assert_int_eq(h_stop(b), 0);
	close(lfd);
}
END_TEST

static Suite *
systemd_suite(void)
{
	Suite *s = suite_create("systemd");
	TCase *tc = tcase_create("activation");

	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, activated_on_first_use);
	tcase_add_test(tc, restarted_broker_keeps_socket);
	tcase_add_loop_test(tc, refuses_wrong_fd, 0,
			    sizeof(wrong) / sizeof(wrong[0]));
	tcase_add_test(tc, activator_stream_refused);
	tcase_add_test(tc, passed_to_another_pid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(systemd_suite());
}
