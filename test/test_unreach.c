/*
 * test_unreach.c - programs the preload cannot reach keep their data
 * (issue 13, item 4).
 *
 * A statically linked program (test/unreach/static.c, built with cc
 * -static) run by bash under the preload with scheme files on its
 * standard streams: the preload relays them through pipes (relay.c).
 * What must hold: stdin read from a scheme file, stdout and stderr
 * written to scheme files and read back at once in the same shell (the
 * relay has delivered before the shell sees the program end), the exit
 * status, a death by a signal and the pid are the program's, several
 * MiB go through, other scheme fds are closed for it, and nothing hangs.
 * A set-user-ID copy of cat run as root (the loader's secure mode) is
 * relayed the same way.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define S "ur"

static void
start_world(void)
{
	h_world_start(S);
}

static void
put_file(const char *path, const char *data)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

/* bash -c SCRIPT under the preload, STATIC being the static program. */
static void
run(struct run_result *r, const char *script)
{
	char full[4096];

	snprintf(full, sizeof(full), "STATIC=%s; %s", TEST_UNREACH_STATIC,
		 script);
	h_sh(r, full);
	ck_assert_msg(!r->timed_out, "timed out: %s\nstderr: %s", script,
		      r->err);
}

START_TEST(stdin_from_scheme)
{
	struct run_result r;

	put_file(S ":in", "hello\nworld\n");
	run(&r, "$STATIC cat < " S ":in");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "hello\nworld\n");
}
END_TEST

/* Written, then read back by the next command: twenty times over. */
START_TEST(stdout_stderr_read_back)
{
	struct run_result r;
	char want[512] = "";

	run(&r, "for i in $(seq 20); do $STATIC both > " S ":o$i 2> " S
		":e$i; cat " S ":o$i " S ":e$i; done");
	for (int i = 0; i < 20; i++)
		strcat(want, "out\nerr\n");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, want);
}
END_TEST

START_TEST(exit_status)
{
	struct run_result r;

	run(&r, "$STATIC exit 7 > " S ":x; echo status $?; cat " S ":x");
	ck_assert_str_eq(r.out, "status 7\nbye\n");
}
END_TEST

START_TEST(signal_death)
{
	struct run_result r;

	run(&r, "$STATIC kill 15 > " S ":k; echo status $?; cat " S ":k");
	ck_assert_str_eq(r.out, "status 143\nbye\n");
	run(&r, "$STATIC kill 9 > " S ":k9; echo status $?; cat " S ":k9");
	ck_assert_str_eq(r.out, "status 137\nbye\n");
}
END_TEST

START_TEST(large_output)
{
	struct run_result r;

	run(&r, "$STATIC big 8 > " S ":big; wc -c < " S ":big; md5sum < " S
		":big; $STATIC big 8 | md5sum");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "8388608\n", 8) == 0, "%s", r.out);
	ck_assert_int_eq(strlen(r.out), 8 + 2 * 36);
	ck_assert_int_eq(memcmp(r.out + 8, r.out + 8 + 36, 36), 0);
}
END_TEST

START_TEST(pid_is_the_programs)
{
	struct run_result r;
	long a = -1, b = -2;

	run(&r, "$STATIC pid > " S ":p & p=$!; wait $p; echo $p; cat " S ":p");
	ck_assert_int_eq(sscanf(r.out, "%ld\n%ld", &a, &b), 2);
	ck_assert_int_eq(a, b);
}
END_TEST

/*
 * Not a shell: this program forks, the child execs the static one with a
 * scheme file on stdout, and our waitpid returns once it is all there.
 */
START_TEST(waitpid_then_read)
{
	struct stat st;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(S ":w", O_CREAT | O_WRONLY | O_TRUNC, 0644);

		dup2(fd, 1);
		close(fd);
		execl(TEST_UNREACH_STATIC, "unreach_static", "big", "4",
		      (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(stat(S ":w", &st), 0);
	ck_assert_int_eq(st.st_size, 4 << 20);
}
END_TEST

/* system(): its child is the program (the shell execs it). */
START_TEST(system_then_read)
{
	char cmd[512], buf[64] = "";
	int fd;

	snprintf(cmd, sizeof(cmd), "exec %s both > %s 2>&1",
		 TEST_UNREACH_STATIC, S ":sys");
	ck_assert_int_eq(system(cmd), 0);
	fd = open(S ":sys", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "out\nerr\n");
	close(fd);
}
END_TEST

START_TEST(other_fds_closed)
{
	struct run_result r;

	put_file(S ":in3", "x\n");
	run(&r, "$STATIC fd 3 3< " S ":in3");
	ck_assert_str_eq(r.out, "closed\n");
}
END_TEST

/* A program that does not read all of stdin ends; so does its relay. */
START_TEST(unread_stdin_no_hang)
{
	struct run_result r;

	run(&r, "$STATIC big 4 > " S ":big4; $STATIC head < " S
		":big4 | wc -c; $STATIC exit 3 < " S ":big4; echo $?");
	ck_assert_str_eq(r.out, "256\nbye\n3\n");
}
END_TEST

/*
 * A set-user-ID program run by another user: the loader's secure mode
 * drops LD_PRELOAD (root runs a copy of cat set-user-ID to nobody).
 */
START_TEST(setuid_relayed)
{
	char cat[256], script[1024];
	struct run_result r;
	struct statvfs sv;

	snprintf(cat, sizeof(cat), "%s/suid-cat", h_dir());
	if (getuid() != 0 || statvfs(h_dir(), &sv) < 0 ||
	    (sv.f_flag & ST_NOSUID)) {
		fprintf(stderr, "setuid_relayed: skipped (not root, or "
				"nosuid)\n");
		return;
	}
	snprintf(script, sizeof(script),
		 "cp /bin/cat %s && chown 65534 %s && chmod 4755 %s", cat, cat,
		 cat);
	ck_assert_int_eq(system(script), 0);
	put_file(S ":su", "secure\n");
	snprintf(script, sizeof(script),
		 "%s < " S ":su > " S ":su2; cat " S ":su2", cat);
	h_sh(&r, script);
	ck_assert_str_eq(r.out, "secure\n");
}
END_TEST

static Suite *
unreach_suite(void)
{
	Suite *s = suite_create("unreach");
	TCase *tc = tcase_create("relay");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, stdin_from_scheme);
	tcase_add_test(tc, stdout_stderr_read_back);
	tcase_add_test(tc, exit_status);
	tcase_add_test(tc, signal_death);
	tcase_add_test(tc, large_output);
	tcase_add_test(tc, pid_is_the_programs);
	tcase_add_test(tc, waitpid_then_read);
	tcase_add_test(tc, system_then_read);
	tcase_add_test(tc, other_fds_closed);
	tcase_add_test(tc, unread_stdin_no_hang);
	tcase_add_test(tc, setuid_relayed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(unreach_suite());
}
