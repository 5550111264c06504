/*
 * test_programs.c - unmodified programs against a real provider.
 *
 * cat, head, dd, bash, python3, sed and sort run under the preload (as
 * schemerun would start them) against scheme-memfs; schemerun and
 * schemectl are run as a user would.  Outputs are compared byte for byte
 * with the same program on an ordinary file where one exists.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define S "tp"

static struct run_result *r;

static void
start_world(void)
{
	h_world_start(S);
}

static void
setup(void)
{
	r = calloc(1, sizeof(*r));
}

static void
teardown(void)
{
	free(r);
}

#define RUN(...)                                                               \
	do {                                                                   \
		char *argv_[] = {__VA_ARGS__, NULL};                           \
		h_run(r, true, NULL, 20, argv_);                               \
	} while (0)

#define SH(script)                                                             \
	do {                                                                   \
		h_sh(r, script);                                               \
		ck_assert_msg(r->status == 0, "%s: status %d, stderr: %s",     \
			      script, r->status, r->err);                      \
	} while (0)

START_TEST(cat_prints_what_provider_serves)
{
	RUN((char *)"cat", (char *)S ":world");
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "Hello, world!\n");
	RUN((char *)"cat", (char *)"/scheme/" S "/world");
	ck_assert_str_eq(r->out, "Hello, world!\n");
	RUN((char *)"cat", (char *)S ":missing");
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "No such file or directory"));
}
END_TEST

START_TEST(cat_lists_schemes)
{
	RUN((char *)"cat", (char *)":");
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "event\nirq\ntime\n" S "\n");
}
END_TEST

/* The README's smallest provider, as a user would run it. */
START_TEST(hello_provider)
{
	pid_t hello = h_start_provider(TEST_HELLO, "greet");

	ck_assert_int_gt(hello, 0);
	RUN((char *)"cat", (char *)"greet:world");
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "Hello, world!\n");
	SH("python3 -c 'print(open(\"greet:python\").read(), end=\"\")'");
	ck_assert_str_eq(r->out, "Hello, python!\n");
	RUN((char *)"cat", (char *)":");
	ck_assert_str_eq(r->out, "event\ngreet\nirq\ntime\n" S "\n");
	ck_assert_int_eq(h_stop(hello), 128 + 15); /* it has no handler */
}
END_TEST

START_TEST(bash_redirections)
{
	SH("echo hi > " S ":b1; cat < " S ":b1");
	ck_assert_str_eq(r->out, "hi\n");
	SH("echo one > " S ":b2; echo two >> " S ":b2; cat " S ":b2");
	ck_assert_str_eq(r->out, "one\ntwo\n");
	SH("exec 3<>" S ":b3; echo fd3 >&3; exec 3>&-; cat " S ":b3");
	ck_assert_str_eq(r->out, "fd3\n");
	SH("exec 4<" S ":world; read -r line <&4; echo \"[$line]\"");
	ck_assert_str_eq(r->out, "[Hello, world!]\n");
	SH("cat <<< 'here string' > " S ":b4; cat " S ":b4");
	ck_assert_str_eq(r->out, "here string\n");
	/* The fd crosses exec into cat, which bash starts for `<`. */
	SH("bash -c 'cat < " S ":world'");
	ck_assert_str_eq(r->out, "Hello, world!\n");
}
END_TEST

START_TEST(head_and_stdio_tools)
{
	SH("printf 'l1\\nl2\\nl3\\n' > " S ":lines; head -n 2 " S ":lines");
	ck_assert_str_eq(r->out, "l1\nl2\n");
	SH("head -c 5 " S ":world");
	ck_assert_str_eq(r->out, "Hello");
	/* stdio readers of a scheme stdin (sed, sort use FILE streams). */
	SH("sed 's/world/scheme/' < " S ":world");
	ck_assert_str_eq(r->out, "Hello, scheme!\n");
	SH("printf 'b\\na\\nc\\n' > " S ":unsorted; sort < " S ":unsorted");
	ck_assert_str_eq(r->out, "a\nb\nc\n");
	SH("printf 'x\\ny\\n' | sed s/x/X/ > " S ":sedout; cat " S ":sedout");
	ck_assert_str_eq(r->out, "X\ny\n");
}
END_TEST

/*
 * dd with block sizes, skip and seek: same bytes as on a plain file.
 * Block sizes are page multiples because dd asks aligned_alloc for sizes
 * that are not, which C17 and glibc allow and AddressSanitizer (preloaded
 * into dd by the sanitizer build) refuses.
 */
START_TEST(dd_matches_plain_file)
{
	char script[2048];

	snprintf(script, sizeof(script),
		 "set -e; cd %s; head -c 409600 /dev/urandom > src;"
		 "dd if=src of=" S ":dd bs=4096 status=none;"
		 "cmp src " S ":dd;"
		 "dd if=" S ":dd bs=8192 skip=3 count=5 status=none > a;"
		 "dd if=src bs=8192 skip=3 count=5 status=none > b;"
		 "cmp a b;"
		 "cp src plain;"
		 "dd if=/dev/zero of=" S ":dd bs=4096 seek=7 count=3 "
		 "conv=notrunc status=none;"
		 "dd if=/dev/zero of=plain bs=4096 seek=7 count=3 "
		 "conv=notrunc status=none;"
		 "cmp plain " S ":dd; echo same",
		 h_dir());
	SH(script);
	ck_assert_str_eq(r->out, "same\n");
}
END_TEST

START_TEST(python_open_read_write)
{
	SH("python3 -c 'print(open(\"" S ":world\").read(), end=\"\")'");
	ck_assert_str_eq(r->out, "Hello, world!\n");
	SH("python3 - <<'EOF'\n"
	   "import os\n"
	   "with open('" S ":py', 'w') as f: f.write('text\\nlines\\n')\n"
	   "with open('" S
	   ":py') as f: assert f.readlines() == ['text\\n', 'lines\\n']\n"
	   "with open('" S
	   ":pyb', 'wb') as f: f.write(bytes(range(256)) * 64)\n"
	   "with open('" S
	   ":pyb', 'rb') as f: assert f.read() == bytes(range(256)) * 64\n"
	   "fd = os.open('" S
	   ":pyos', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)\n"
	   "assert os.write(fd, b'0123456789') == 10\n"
	   "assert os.lseek(fd, 2, os.SEEK_SET) == 2\n"
	   "assert os.read(fd, 3) == b'234'\n"
	   "assert os.fstat(fd).st_size == 10\n"
	   "os.lseek(fd, 0, os.SEEK_SET)\n"
	   "pid = os.fork()\n"
	   "if pid == 0:\n"
	   "    os._exit(0 if os.read(fd, 4) == b'0123' else 1)\n"
	   "_, st = os.waitpid(pid, 0)\n"
	   "assert st == 0\n"
	   "assert os.read(fd, 2) == b'45'\n"
	   "print('ok')\n"
	   "EOF");
	ck_assert_str_eq(r->out, "ok\n");
}
END_TEST

/* Python's select.select and selectors (epoll) on scheme fds. */
START_TEST(python_select_and_selectors)
{
	SH("python3 - <<'EOF'\n"
	   "import os, select, selectors, time\n"
	   "fd = os.open('" S ":stream', os.O_RDONLY | os.O_NONBLOCK)\n"
	   "while True:\n"
	   "    try: os.read(fd, 4096)\n"
	   "    except BlockingIOError: break\n"
	   "def later(data):\n"
	   "    if os.fork() == 0:\n"
	   "        time.sleep(0.2)\n"
	   "        w = os.open('" S ":stream', os.O_WRONLY)\n"
	   "        os.write(w, data); os._exit(0)\n"
	   "r, w, x = select.select([fd], [], [], 0.2)\n"
	   "assert r == [], r\n"
	   "later(b'abc')\n"
	   "r, w, x = select.select([fd], [], [], 5)\n"
	   "assert r == [fd], r\n"
	   "assert os.read(fd, 10) == b'abc'\n"
	   "os.wait()\n"
	   "sel = selectors.DefaultSelector()\n"
	   "sel.register(fd, selectors.EVENT_READ, 'tok')\n"
	   "assert sel.select(0.2) == []\n"
	   "later(b'12345')\n"
	   "ev = sel.select(5)\n"
	   "assert [(k.data, m) for k, m in ev] == [('tok', "
	   "selectors.EVENT_READ)]\n"
	   "assert os.read(fd, 2) == b'12'\n"
	   "assert len(sel.select(1)) == 1  # level-triggered: data left\n"
	   "assert os.read(fd, 10) == b'345'\n"
	   "assert sel.select(0.2) == []\n"
	   "os.wait()\n"
	   "print(type(sel).__name__, 'ok')\n"
	   "EOF");
	ck_assert_str_eq(r->out, "EpollSelector ok\n");
}
END_TEST

/*
 * The provider's event-driven mode (the Redox daemon loop on event:):
 * its stream says EAGAIN until its timer produces a line, and a reader
 * waiting in select() or in a blocking read is woken by the post.
 */
START_TEST(event_driven_provider)
{
	pid_t ev = h_start_provider_args(TEST_MEMFS, "--events", "--tick",
					 "100", "tpe");

	ck_assert_int_gt(ev, 0);
	SH("python3 - <<'EOF'\n"
	   "import os, select\n"
	   "fd = os.open('tpe:stream', os.O_RDONLY | os.O_NONBLOCK)\n"
	   "while True:\n"
	   "    try: os.read(fd, 4096)\n"
	   "    except BlockingIOError: break\n"
	   "r, w, x = select.select([fd], [], [], 5)\n"
	   "assert r == [fd]\n"
	   "assert os.read(fd, 100).startswith(b'tick ')\n"
	   "os.set_blocking(fd, True)\n"
	   "assert os.read(fd, 100).startswith(b'tick ')  # waits for a post\n"
	   "print('ok')\n"
	   "EOF");
	ck_assert_str_eq(r->out, "ok\n");
	SH("cat tpe:world");
	ck_assert_str_eq(r->out, "Hello, world!\n");
	ck_assert_int_eq(h_stop(ev), 0);
}
END_TEST

/*
 * tail -f follows a scheme file as it grows (inotify cannot watch a
 * scheme path, so tail polls; it says so on stderr).
 */
START_TEST(tail_follows)
{
	SH("printf 'one\\n' > " S ":tlog;"
	   "tail -f " S ":tlog > " S ":tout 2>/dev/null & t=$!;"
	   "sleep 0.3; printf 'two\\n' >> " S ":tlog;"
	   "for i in $(seq 50); do grep -q two " S ":tout && break;"
	   " sleep 0.1; done; kill $t; cat " S ":tout");
	ck_assert_str_eq(r->out, "one\ntwo\n");
}
END_TEST

START_TEST(schemerun_runs_and_propagates_status)
{
	char *argv[] = {(char *)TEST_SCHEMERUN, (char *)"cat",
			(char *)S ":world", NULL};
	char *argv2[] = {(char *)TEST_SCHEMERUN, (char *)"--",	   (char *)"sh",
			 (char *)"-c",		 (char *)"exit 7", NULL};
	char *argv3[] = {(char *)TEST_SCHEMERUN, (char *)"no-such-command-x",
			 NULL};

	h_run(r, false, NULL, 20, argv);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "Hello, world!\n");
	h_run(r, false, NULL, 20, argv2);
	ck_assert_int_eq(r->status, 7);
	h_run(r, false, NULL, 20, argv3);
	ck_assert_int_eq(r->status, 127);
	ck_assert_ptr_nonnull(strstr(r->err, "no-such-command-x"));
}
END_TEST

/*
 * What the preload cannot reach is served otherwise (a statically linked
 * program, Debian's ldconfig is static-pie, runs under the supervisor:
 * test_static), or refused with a reason: a set-user-ID one owned by
 * another user (the loader drops LD_PRELOAD for it).
 */
START_TEST(schemerun_refuses_what_preload_cannot_reach)
{
	char suid[200], cmd[800];
	char *stat_argv[] = {(char *)TEST_SCHEMERUN, (char *)"/sbin/ldconfig",
			     (char *)"--version", NULL};
	char *suid_argv[] = {(char *)TEST_SCHEMERUN, suid, NULL};

	h_run(r, false, NULL, 20, stat_argv);
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_ptr_nonnull(strstr(r->out, "ldconfig"));
	if (geteuid() != 0)
		return; /* cannot make a set-user-ID file of another owner */
	snprintf(suid, sizeof(suid), "%s/suid-true", h_dir());
	snprintf(cmd, sizeof(cmd),
		 "cp /bin/true '%s' && chown 65534 '%s' && chmod 4755 '%s'",
		 suid, suid, suid);
	ck_assert_int_eq(system(cmd), 0);
	h_run(r, false, NULL, 20, suid_argv);
	ck_assert_int_eq(r->status, 126);
	ck_assert_ptr_nonnull(strstr(r->err, "set-user-ID"));
}
END_TEST

START_TEST(schemectl_list_and_info)
{
	char *list[] = {(char *)TEST_SCHEMECTL, (char *)"list", NULL};
	char *info[] = {(char *)TEST_SCHEMECTL, (char *)"info", NULL};
	char *bad[] = {(char *)TEST_SCHEMECTL, (char *)"frobnicate", NULL};

	h_run(r, false, NULL, 10, list);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "event\nirq\ntime\n" S "\n");
	h_run(r, false, NULL, 10, info);
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "scheme " S " instance"));
	ck_assert_ptr_nonnull(strstr(r->out, "schemes 1\n"));
	h_run(r, false, NULL, 10, bad);
	ck_assert_int_eq(r->status, 2);
}
END_TEST

/* schemerun starts a broker when none answers; schemectl stops it. */
START_TEST(schemerun_starts_broker_schemectl_stops_it)
{
	char sock[128], *env_sock = strdup(h_socket());
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	snprintf(sock, sizeof(sock), "%s/own.sock", h_dir());
	char *run[] = {(char *)TEST_SCHEMERUN, (char *)"--socket", sock,
		       (char *)"cat",	       (char *)":",	   NULL};
	char *stop[] = {(char *)TEST_SCHEMECTL, (char *)"--socket", sock,
			(char *)"stop", NULL};
	h_run(r, false, NULL, 20, run);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out,
			 "event\nirq\ntime\n"); /* only the built-in ones */
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	h_run(r, false, NULL, 20, stop);
	ck_assert_int_eq(r->status, 0);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), -1);
	close(fd);
	h_run(r, false, NULL, 20, stop); /* nobody to stop */
	ck_assert_int_eq(r->status, 3);
	ck_assert_str_eq(h_socket(), env_sock);
	free(env_sock);
}
END_TEST

static Suite *
programs_suite(void)
{
	Suite *s = suite_create("programs");
	TCase *tc = tcase_create("real");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cat_prints_what_provider_serves);
	tcase_add_test(tc, cat_lists_schemes);
	tcase_add_test(tc, hello_provider);
	tcase_add_test(tc, bash_redirections);
	tcase_add_test(tc, head_and_stdio_tools);
	tcase_add_test(tc, dd_matches_plain_file);
	tcase_add_test(tc, python_open_read_write);
	tcase_add_test(tc, python_select_and_selectors);
	tcase_add_test(tc, tail_follows);
	tcase_add_test(tc, event_driven_provider);
	tcase_add_test(tc, schemerun_runs_and_propagates_status);
	tcase_add_test(tc, schemerun_refuses_what_preload_cannot_reach);
	tcase_add_test(tc, schemectl_list_and_info);
	tcase_add_test(tc, schemerun_starts_broker_schemectl_stops_it);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(programs_suite());
}
