/*
 * test_execview.c - programs stored on a scheme, executed by a program
 * under the preload (preload/execview.c): the exec wrappers give the
 * kernel the same file in the kernel-visible view, with scheme-memfs as
 * the provider.
 *
 * From a preloaded bash (and env, and python3 when there): a dynamic
 * binary, `#!/bin/sh` scripts and busybox-static, by /scheme/..., by
 * name:..., by a relative path in a scheme working directory and by PATH
 * search; exit status and output.  Without a view: EACCES and one line
 * saying how to get one; under schemerun, its own view (SCHEME_VIEW).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define S  "xv"
#define BB "/usr/local/bin/busybox-static"

static struct run_result *r;
static char mnt[128];

/* bash -c script, preloaded. */
static void
bash(const char *script)
{
	char *argv[] = {(char *)"bash", (char *)"-c", (char *)script, NULL};

	h_run(r, true, NULL, 20, argv);
	ck_assert_msg(!r->timed_out, "bash -c '%s': timed out", script);
}

/* bash -c script, preloaded, which must succeed: its stdout. */
static const char *
bash_ok(const char *script)
{
	bash(script);
	ck_assert_msg(r->status == 0, "bash -c '%s': %d: %s", script, r->status,
		      r->err);
	ck_assert_msg(r->err[0] == '\0', "bash -c '%s': %s", script, r->err);
	return r->out;
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

/* The programs, in scheme-memfs: made through the preload, as a user. */
static void
store(void)
{
	setup();
	h_sh_out(r,
		 "mkdir -p /scheme/" S "/bin && "
		 "cat /bin/echo > /scheme/" S "/bin/echo && "
		 "cat /bin/echo > /scheme/" S "/bin/xvtool && "
		 "printf '#!/bin/sh\\necho script \"$1\"\\n' > " S ":bin/s && "
		 "printf '#!/bin/sh\\necho failing\\nexit 7\\n' > " S
		 ":bin/fail && "
		 "echo plain > " S ":bin/plain && "
		 "chmod +x " S ":bin/echo " S ":bin/xvtool " S ":bin/s " S
		 ":bin/fail");
	if (access(BB, X_OK) == 0)
		h_sh_out(r, "cat " BB " > /scheme/" S "/bin/busybox && "
			    "chmod +x /scheme/" S "/bin/busybox");
	teardown();
}

static void
world_start(void)
{
	char *argv[] = {(char *)TEST_SCHEMECTL,
			(char *)"--socket",
			NULL,
			(char *)"mount",
			mnt,
			NULL};

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	h_world_start(S);
	store();
	snprintf(mnt, sizeof(mnt), "%s/mnt", h_dir());
	mkdir(mnt, 0755);
	argv[2] = (char *)h_socket();
	setup();
	h_run(r, false, NULL, 20, argv);
	ck_assert_msg(r->status == 0, "mount: %s", r->err);
	teardown();
}

static void
world_stop(void)
{
	char *argv[] = {(char *)TEST_SCHEMECTL,
			(char *)"--socket",
			(char *)h_socket(),
			(char *)"umount",
			mnt,
			NULL};

	setup();
	h_run(r, false, NULL, 20, argv);
	teardown();
	h_world_stop();
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the daemons we adopted */
		;
}

START_TEST(by_scheme_path)
{
	ck_assert_str_eq(bash_ok("/scheme/" S "/bin/echo hi; " S
				 ":bin/echo ho; /scheme/" S "/bin/s a; " S
				 ":bin/s b"),
			 "hi\nho\nscript a\nscript b\n");
	/* The exit status is the program's own. */
	bash("/scheme/" S "/bin/fail");
	ck_assert_int_eq(r->status, 7);
	ck_assert_str_eq(r->out, "failing\n");
	/* A missing one is missing, as on disk. */
	bash("/scheme/" S "/bin/nope");
	ck_assert_int_eq(r->status, 127);
	ck_assert_msg(strstr(r->err, "No such file or directory") != NULL, "%s",
		      r->err);
	/* Not executable: refused by the kernel, from the view's mode. */
	bash("/scheme/" S "/bin/plain");
	ck_assert_int_eq(r->status, 126);
	ck_assert_msg(strstr(r->err, "Permission denied") != NULL, "%s",
		      r->err);
}
END_TEST

START_TEST(relative_in_scheme_dir)
{
	ck_assert_str_eq(bash_ok("cd /scheme/" S "/bin && ./echo rel && "
				 "./s rel && cd .. && bin/echo up"),
			 "rel\nscript rel\nup\n");
}
END_TEST

/* bash searches PATH itself (stat, access), then execs the full path. */
START_TEST(path_search)
{
	ck_assert_str_eq(bash_ok("PATH=/scheme/" S "/bin:$PATH; "
				 "test -x /scheme/" S "/bin/xvtool && "
				 "! test -x /scheme/" S "/bin/plain && "
				 "xvtool found && s searched && "
				 "type -P xvtool"),
			 "found\nscript searched\n/scheme/" S "/bin/xvtool\n");
	/* env execs by execvp: our own search of the scheme directory. */
	ck_assert_str_eq(bash_ok("PATH=/usr/bin:/bin:/scheme/" S "/bin "
				 "env xvtool by-execvp && "
				 "env /scheme/" S "/bin/s by-env"),
			 "by-execvp\nscript by-env\n");
}
END_TEST

START_TEST(posix_spawn_and_system)
{
	if (access("/usr/bin/python3", X_OK) < 0) {
		fprintf(stderr, "test_execview: no python3: case skipped\n");
		return;
	}
	ck_assert_str_eq(
	    bash_ok("PATH=/scheme/" S "/bin:$PATH python3 -c '"
		    "import os, sys\n"
		    "p = os.posix_spawn(\"/scheme/" S "/bin/echo\", "
		    "[\"echo\", \"spawned\"], os.environ)\n"
		    "os.waitpid(p, 0)\n"
		    "p = os.posix_spawnp(\"xvtool\", [\"x\", \"spawnedp\"], "
		    "os.environ)\n"
		    "os.waitpid(p, 0)\n"
		    "sys.stdout.flush()\n"
		    "os.system(\"" S ":bin/s system\")\n'"),
	    "spawned\nspawnedp\nscript system\n");
}
END_TEST

START_TEST(busybox_static_stored)
{
	if (access(BB, X_OK) < 0) {
		fprintf(stderr, "test_execview: %s not found: case skipped\n",
			BB);
		return;
	}
	ck_assert_str_eq(bash_ok("/scheme/" S "/bin/busybox echo bb && "
				 "cd /scheme/" S " && bin/busybox echo rel"),
			 "bb\nrel\n");
}
END_TEST

/* --- Without a view of our broker's. */

static void
bare_start(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	h_world_start(S);
	store();
}

static void
bare_stop(void)
{
	h_world_stop();
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

START_TEST(no_view_says_how)
{
	bash("/scheme/" S "/bin/echo hi");
	ck_assert_int_eq(r->status, 126);
	ck_assert_str_eq(r->out, "");
	ck_assert_msg(strstr(r->err, "scheme: /scheme/" S "/bin/echo: a "
				     "program stored on a scheme") != NULL &&
			  strstr(r->err, "schemectl mount DIR") != NULL &&
			  strstr(r->err, "Permission denied") != NULL,
		      "%s", r->err);
}
END_TEST

/*
 * schemerun's own view, for a program stored on a scheme: what that
 * program execs from a scheme comes from the same view (SCHEME_VIEW).
 */
START_TEST(schemeruns_view)
{
	char *argv[] = {(char *)TEST_SCHEMERUN,
			(char *)"/scheme/" S "/bin/bash", (char *)"-c",
			(char *)"/scheme/" S "/bin/echo inner && "
				"echo $SCHEME_VIEW",
			NULL};

	bash_ok("cat /bin/bash > /scheme/" S "/bin/bash && "
		"chmod +x /scheme/" S "/bin/bash");
	setenv("SCHEME_SOCKET", h_socket(), 1);
	h_run(r, false, NULL, 20, argv);
	ck_assert_msg(r->status == 0, "%d: %s", r->status, r->err);
	ck_assert_msg(strncmp(r->out, "inner\n", 6) == 0 &&
			  strstr(r->out, ".view.") != NULL,
		      "%s", r->out);
	/* The helper unmounts the run's view when the program is gone. */
	while (waitpid(-1, NULL, 0) > 0)
		;
}
END_TEST

static Suite *
execview_suite(void)
{
	Suite *s = suite_create("execview");
	TCase *tc = tcase_create("from the view");
	TCase *tn = tcase_create("no view");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, world_start, world_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, by_scheme_path);
	tcase_add_test(tc, relative_in_scheme_dir);
	tcase_add_test(tc, path_search);
	tcase_add_test(tc, posix_spawn_and_system);
	tcase_add_test(tc, busybox_static_stored);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tn, 60);
	tcase_add_unchecked_fixture(tn, bare_start, bare_stop);
	tcase_add_checked_fixture(tn, setup, teardown);
	tcase_add_test(tn, no_view_says_how);
	tcase_add_test(tn, schemeruns_view);
	suite_add_tcase(s, tn);
	return s;
}

int
main(void)
{
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr, "test_execview: /dev/fuse: %s: skipped\n",
			strerror(errno));
		return 77;
	}
	return h_main(execview_suite());
}
