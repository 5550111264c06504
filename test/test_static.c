/*
 * test_static.c - programs the preload cannot reach, under schemerun:
 * served through the kernel-visible view by its seccomp supervisor
 * (tools/sup*.c), with scheme-memfs as the provider.
 *
 * A cc -static program, busybox-static and a Go program built with and
 * without cgo read, write and list scheme files by both path forms;
 * programs stored on a scheme run from the view; the program's pid,
 * signals and exit status are its own; what cannot be served is refused
 * in one line.  Each case checks, after the run, that the helper and any
 * view it mounted are gone: the suite is a child subreaper in each case,
 * so the detached helper and view daemon are its children to wait for.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define S  "st"
#define BB "/usr/local/bin/busybox-static"

static struct run_result *r;

#define SR(...)                                                                \
	do {                                                                   \
		char *argv_[] = {(char *)TEST_SCHEMERUN, __VA_ARGS__, NULL};   \
		h_run(r, false, NULL, 20, argv_);                              \
		ck_assert_msg(!r->timed_out, "schemerun: timed out");          \
	} while (0)

static bool
have(const char *file, const char *what)
{
	if (file[0] != '\0' && access(file, X_OK) == 0)
		return true;
	fprintf(stderr, "test_static: %s not found (%s): case skipped\n",
		file[0] ? file : "(not built)", what);
	return false;
}

/* The mounts of views schemerun made for a run (SOCK.view.XXXXXX). */
static bool
run_views_mounted(void)
{
	size_t len;
	char *s = h_read_file("/proc/self/mountinfo", &len), want[256];
	bool yes;

	snprintf(want, sizeof(want), "%s.view.", h_socket());
	yes = s != NULL && strstr(s, want) != NULL;
	free(s);
	return yes;
}

static void
setup(void)
{
	r = calloc(1, sizeof(*r));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* Every helper and view daemon we adopted has exited; no view is left. */
static void
teardown(void)
{
	struct timespec start, now;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (pid < 0 && errno == ECHILD)
			break;
		h_sleep_ms(10);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < 10);
	ck_assert_msg(pid < 0 && errno == ECHILD,
		      "a helper or a view daemon is still running");
	ck_assert_msg(!run_views_mounted(), "a run's view is still mounted");
	free(r);
}

static void
world_start(void)
{
	struct run_result rr;

	h_world_start(S);
	char *argv[] = {(char *)"sh", (char *)"-c",
			(char *)"echo hello > /scheme/" S "/world", NULL};
	h_run(&rr, true, NULL, 20, argv);
}

/* The static program of test_view in DIR (both forms), made first. */
START_TEST(cc_static_program)
{
	static const char *const dirs[] = {"/scheme/" S "/c1", S ":c2"};

	if (!have(TEST_VIEW_STATIC, "cc -static"))
		return;
	h_sh_out(r, "mkdir /scheme/" S "/c1 /scheme/" S "/c2 && "
		    "echo one > " S ":c1/world && echo two > " S ":c2/world");
	for (int i = 0; i < 2; i++) {
		SR((char *)TEST_VIEW_STATIC, (char *)dirs[i]);
		ck_assert_msg(r->status == 0, "%s: %d: %s", dirs[i], r->status,
			      r->err);
		ck_assert_str_eq(r->out + 4,
				 "written by a static program\n"
				 "mapped written by a static program\n"
				 "entry . dir\nentry .. dir\n"
				 "entry moved.txt file\n");
		ck_assert_int_eq(strncmp(r->out, i == 0 ? "one\n" : "two\n", 4),
				 0);
		ck_assert_str_eq(r->err, "");
	}
	ck_assert_str_eq(h_sh_out(r, "cat /scheme/" S "/c2/sdir/moved.txt"),
			 "written by a static program\n");
}
END_TEST

START_TEST(busybox_static)
{
	if (!have(BB, "sh tools/install-deps.sh"))
		return;
	SR((char *)BB, (char *)"sh", (char *)"-c",
	   (char *)"echo one > /scheme/" S "/bb1 && echo two > " S ":bb2 && "
		   "cat " S ":bb1 /scheme/" S "/bb2 && ls /scheme/" S
		   " | grep bb && ls " S ": | grep -c bb && "
		   "wc -c < " S ":bb2 && rm " S ":bb1 && ls /scheme/" S "/bb1");
	ck_assert_int_eq(r->status, 1); /* the last ls: it is gone */
	ck_assert_str_eq(r->out, "one\ntwo\nbb1\nbb2\n2\n4\n");
	ck_assert_ptr_nonnull(strstr(r->err, "No such file or directory"));
	ck_assert_str_eq(h_sh_out(r, "cat /scheme/" S "/bb2"), "two\n");
	/* Links, both kinds, made and read by the static program. */
	SR((char *)BB, (char *)"sh", (char *)"-c",
	   (char *)"ln -s bb2 /scheme/" S "/bbl && ln -s /scheme/" S "/bb2 " S
		   ":bba && ln " S ":bb2 /scheme/" S "/bbh && "
		   "readlink /scheme/" S "/bbl && readlink " S ":bba && cat " S
		   ":bbl /scheme/" S "/bba " S ":bbh && ls -l " S
		   ":bbl | cut -c1 && stat -c %h " S ":bbh");
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_str_eq(r->out,
			 "bb2\n/scheme/" S "/bb2\ntwo\ntwo\ntwo\nl\n2\n");
	ck_assert_str_eq(h_sh_out(r, "readlink /scheme/" S "/bba " S ":bbl"),
			 "/scheme/" S "/bb2\nbb2\n");
}
END_TEST

static void
go_files(const char *bin, const char *name)
{
	char put[64], get[64];

	if (!have(bin, "golang-go"))
		return;
	snprintf(put, sizeof(put), "/scheme/" S "/%s", name);
	snprintf(get, sizeof(get), S ":%s", name);
	SR((char *)bin, (char *)"put", put, (char *)"from go");
	ck_assert_msg(r->status == 0, "put: %s", r->err);
	SR((char *)bin, (char *)"cat", get);
	ck_assert_msg(r->status == 0, "cat: %s", r->err);
	ck_assert_str_eq(r->out, "from go");
	SR((char *)bin, (char *)"stat", get);
	ck_assert_str_eq(r->out, "regular 7\n");
	SR((char *)bin, (char *)"stat", (char *)S ":");
	ck_assert_str_eq(r->out, "directory\n");
	SR((char *)bin, (char *)"ls", (char *)"/scheme/" S);
	ck_assert_msg(strstr(r->out, name) != NULL, "ls: %s", r->out);
	SR((char *)bin, (char *)"cat", (char *)S ":nothing");
	ck_assert_int_eq(r->status, 1);
	ck_assert_str_eq(r->err,
			 "open st:nothing: no such file or directory\n");
}

START_TEST(go_without_cgo)
{
	go_files(TEST_GO_STATIC, "gostatic");
}
END_TEST

/* Dynamic, with libc: the preload sees no file call of Go's all the same. */
START_TEST(go_with_cgo)
{
	go_files(TEST_GO_CGO, "gocgo");
}
END_TEST

/*
 * A colon path whose prefix names no scheme is an ordinary file; one
 * that names a scheme is the scheme's, whatever the disk holds.
 */
START_TEST(colon_paths_on_disk)
{
	char script[512];

	if (!have(BB, "sh tools/install-deps.sh"))
		return;
	h_sh_ok(r, 10,
		"cd %s && echo disk > a:b.txt && echo disk > " S ":world",
		h_dir());
	snprintf(script, sizeof(script), "cd %s && cat a:b.txt " S ":world",
		 h_dir());
	SR((char *)BB, (char *)"sh", (char *)"-c", script);
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_str_eq(r->out, "disk\nhello\n");
}
END_TEST

/*
 * The helper acts as its own user: for a program that became another
 * (su, as root), scheme paths are refused, as the view itself would.
 */
START_TEST(other_user_refused)
{
	if (getuid() != 0 || !have(BB, "sh tools/install-deps.sh")) {
		fprintf(stderr, "test_static: other_user_refused needs root\n");
		return;
	}
	SR((char *)BB, (char *)"su", (char *)"-s", (char *)"/bin/sh",
	   (char *)"nobody", (char *)"-c", (char *)BB " cat " S ":world");
	ck_assert_int_eq(r->status, 1);
	ck_assert_msg(strstr(r->err, "can't open '" S ":world': Permission "
				     "denied") != NULL,
		      "%s", r->err);
}
END_TEST

/* schemerun /scheme/x/bin/tool: a dynamic binary, a static one, a script. */
START_TEST(exec_stored_on_a_scheme)
{
	h_sh_out(r,
		 "mkdir -p /scheme/" S "/bin && "
		 "cat /bin/echo > /scheme/" S "/bin/echo && "
		 "printf '#!/bin/sh\\necho script \"$1\"\\n' > " S ":bin/s && "
		 "chmod +x " S ":bin/echo " S ":bin/s");
	SR((char *)"/scheme/" S "/bin/echo", (char *)"hi");
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_str_eq(r->out, "hi\n");
	SR((char *)S ":bin/s", (char *)"arg");
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_str_eq(r->out, "script arg\n");
	SR((char *)"/scheme/" S "/bin/nope");
	ck_assert_int_eq(r->status, 127);
	ck_assert_str_eq(r->err, "schemerun: /scheme/" S
				 "/bin/nope: No such file or directory\n");
	if (!have(BB, "sh tools/install-deps.sh"))
		return;
	h_sh_out(r, "cat " BB " > /scheme/" S "/bin/busybox && "
		    "chmod +x /scheme/" S "/bin/busybox && "
		    "echo stored > /scheme/" S "/bb3");
	SR((char *)"/scheme/" S "/bin/busybox", (char *)"cat",
	   (char *)S ":bb3");
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_str_eq(r->out, "stored\n");
}
END_TEST

/* What a supervised program cannot be served: said, and failed. */
START_TEST(exec_and_chdir_from_supervised)
{
	if (!have(BB, "sh tools/install-deps.sh"))
		return;
	h_sh_out(r, "mkdir -p /scheme/" S "/bin && "
		    "cat /bin/true > /scheme/" S "/bin/true && "
		    "chmod +x /scheme/" S "/bin/true");
	SR((char *)BB, (char *)"sh", (char *)"-c",
	   (char *)"/scheme/" S "/bin/true");
	ck_assert_int_eq(r->status, 126);
	ck_assert_msg(strstr(r->err, "execve of a program stored on a scheme "
				     "(/scheme/" S "/bin/true)") != NULL,
		      "%s", r->err);
	SR((char *)BB, (char *)"sh", (char *)"-c",
	   (char *)"cd /scheme/" S " || exit 3");
	ck_assert_int_eq(r->status, 3);
	ck_assert_msg(strstr(r->err, "chdir to a scheme directory "
				     "(/scheme/" S ")") != NULL,
		      "%s", r->err);
}
END_TEST

/* The program is schemerun's pid; a signal ends it as itself. */
START_TEST(pid_and_signals_are_its_own)
{
	char script[1024], pidfile[256], *text;
	size_t len;
	pid_t pid;
	int st, i;

	if (!have(BB, "sh tools/install-deps.sh"))
		return;
	snprintf(pidfile, sizeof(pidfile), "%s/pid", h_dir());
	unlink(pidfile);
	snprintf(script, sizeof(script),
		 "echo $$ > %s.tmp && mv %s.tmp %s && cat " S
		 ":world >/dev/null"
		 " && exec sleep 30",
		 pidfile, pidfile, pidfile);
	char *argv[] = {(char *)TEST_SCHEMERUN, (char *)BB, (char *)"sh",
			(char *)"-c",		script,	    NULL};
	pid = h_spawn(argv, false, -1);
	for (i = 0; i < 500 && access(pidfile, F_OK) < 0; i++)
		h_sleep_ms(10);
	text = h_read_file(pidfile, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(atoi(text), pid);
	free(text);
	h_sleep_ms(100);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	SR((char *)BB, (char *)"sh", (char *)"-c", (char *)"kill -TERM $$");
	ck_assert_int_eq(r->status, 143);
	SR((char *)BB, (char *)"sh", (char *)"-c", (char *)"exit 7");
	ck_assert_int_eq(r->status, 7);
}
END_TEST

/* A dynamic program is the preload's, with no filter at all. */
START_TEST(dynamic_is_not_supervised)
{
	SR((char *)"grep", (char *)"^Seccomp:", (char *)"/proc/self/status");
	ck_assert_str_eq(r->out, "Seccomp:\t0\n");
	if (!have(BB, "sh tools/install-deps.sh"))
		return;
	SR((char *)BB, (char *)"grep",
	   (char *)"^Seccomp:", (char *)"/proc/self/status");
	ck_assert_str_eq(r->out, "Seccomp:\t2\n");
}
END_TEST

/* With the broker's view mounted (schemectl mount), no other is made. */
START_TEST(uses_the_brokers_view)
{
	char mnt[256];

	if (!have(TEST_VIEW_STATIC, "cc -static"))
		return;
	snprintf(mnt, sizeof(mnt), "%s/mnt", h_dir());
	mkdir(mnt, 0755);
	char *mount[] = {(char *)TEST_SCHEMECTL, (char *)"mount", mnt, NULL};
	h_run(r, false, NULL, 20, mount);
	ck_assert_msg(r->status == 0, "mount: %s", r->err);
	if (have(BB, "sh tools/install-deps.sh")) {
		SR((char *)BB, (char *)"cat", (char *)"/proc/self/mountinfo",
		   (char *)S ":world");
		ck_assert_msg(strstr(r->out, mnt) != NULL, "%s", r->out);
		ck_assert_msg(strstr(r->out, ".view.") == NULL, "%s", r->out);
	}
	char *umount[] = {(char *)TEST_SCHEMECTL, (char *)"umount", mnt, NULL};
	h_run(r, false, NULL, 20, umount);
	ck_assert_msg(r->status == 0, "umount: %s", r->err);
}
END_TEST

/* No FUSE device: one line, 126, nothing started. */
START_TEST(refused_without_fuse)
{
	char script[1024];

	if (getuid() != 0 || access("/usr/bin/unshare", X_OK) < 0) {
		fprintf(stderr, "test_static: not root or no unshare: "
				"refused_without_fuse skipped\n");
		return;
	}
	snprintf(script, sizeof(script),
		 "mount --bind /dev/null /dev/fuse && exec %s %s /scheme/" S,
		 TEST_SCHEMERUN, TEST_VIEW_STATIC);
	char *argv[] = {(char *)"unshare", (char *)"-m", (char *)"sh",
			(char *)"-c",	   script,	 NULL};
	h_run(r, false, NULL, 20, argv);
	ck_assert_int_eq(r->status, 126);
	ck_assert_msg(strstr(r->err, "FUSE is not available") != NULL &&
			  strchr(r->err, '\n') == r->err + r->errlen - 1,
		      "%s", r->err);
}
END_TEST

static Suite *
static_suite(void)
{
	Suite *s = suite_create("static");
	TCase *tc = tcase_create("supervised");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, world_start, h_world_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cc_static_program);
	tcase_add_test(tc, busybox_static);
	tcase_add_test(tc, colon_paths_on_disk);
	tcase_add_test(tc, other_user_refused);
	tcase_add_test(tc, go_without_cgo);
	tcase_add_test(tc, go_with_cgo);
	tcase_add_test(tc, exec_stored_on_a_scheme);
	tcase_add_test(tc, exec_and_chdir_from_supervised);
	tcase_add_test(tc, pid_and_signals_are_its_own);
	tcase_add_test(tc, dynamic_is_not_supervised);
	tcase_add_test(tc, uses_the_brokers_view);
	tcase_add_test(tc, refused_without_fuse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(static_suite());
}
