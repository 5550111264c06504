/*
 * test_rawsys.c - system calls made by number reach schemes (issue 16
 * item 1).
 *
 * test/rawsys/prog.c makes its calls through libc's syscall() function
 * (served by the preload's syscall(), always) or with a `syscall`
 * instruction of its own (served by the SIGSYS trap, with
 * SCHEME_RAWSYS=trap), on a disk directory and on scheme-memfs by both
 * path forms: the output must be the same line for line.  Then threads,
 * a fork's child and an exec'd program trap too; a program's own SIGSYS
 * handler still gets the SIGSYS that are not traps, and blocking SIGSYS
 * does not kill it.  test/rawsys/fs.js runs node's fs API (libuv makes
 * statx, copy_file_range and close through syscall()) the same way.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define S "rs"

static char disk[4096];

static void
start_world(void)
{
	h_world_start(S);
	snprintf(disk, sizeof(disk), "%s/disk", h_dir());
	mkdir(disk, 0755);
}

/* PROG HOW WHAT DIR under the preload, trapping or not; it must exit 0. */
static void
prog(struct run_result *r, bool trap, const char *how, const char *what,
     const char *dir)
{
	char *argv[] = {(char *)"env",
			(char *)(trap ? "SCHEME_RAWSYS=trap" : "A=b"),
			(char *)TEST_RAWSYS_PROG,
			(char *)how,
			(char *)what,
			(char *)dir,
			NULL};

	h_run(r, true, NULL, 20, argv);
	ck_assert_msg(!r->timed_out && r->status == 0,
		      "%s %s %s: status %d\nout: %s\nerr: %s", how, what, dir,
		      r->status, r->out, r->err);
}

static void
same_as_disk(bool trap, const char *how)
{
	static struct run_result want, got;
	const char *dirs[] = {"/scheme/" S, S ":"};
	size_t i;

	prog(&want, false, "libc", "files", disk);
	ck_assert_ptr_nonnull(strstr(want.out, "names: g\n"));
	for (i = 0; i < 2; i++) {
		prog(&got, trap, how, "files", dirs[i]);
		ck_assert_msg(strcmp(want.out, got.out) == 0,
			      "%s on %s:\n%s\nwant (disk):\n%s", how, dirs[i],
			      got.out, want.out);
	}
}

START_TEST(libc_syscall)
{
	same_as_disk(false, "libc");
}
END_TEST

START_TEST(libc_syscall_trapping)
{
	same_as_disk(true, "libc");
}
END_TEST

START_TEST(instruction_trapped)
{
	same_as_disk(true, "asm");
}
END_TEST

/* DATA into PATH, by sh under the preload. */
static void
put(const char *path, const char *data)
{
	struct run_result r;
	char script[4400];

	snprintf(script, sizeof(script), "printf '%s' > %s", data, path);
	h_sh(&r, script);
	ck_assert_msg(r.status == 0, "%s: %s", script, r.err);
}

/* PROG HOW WHAT PATH must print WANT. */
static void
expect(bool trap, const char *how, const char *what, const char *path,
       const char *want)
{
	struct run_result r;

	prog(&r, trap, how, what, path);
	ck_assert_str_eq(r.out, want);
}

#define FIVE "/scheme/" S "/five"
#define SIGSYS_OK                                                              \
	"sigaction reads back: theirs\ntheir handler: 1\n"                     \
	"size, SIGSYS blocked: 5\n"

/* Without the trap, a syscall instruction is the kernel's alone. */
START_TEST(instruction_without_trap)
{
	put(FIVE, "four\\n");
	expect(false, "asm", "size", S ":five", "size: -2\n");
	expect(false, "libc", "size", S ":five", "size: 5\n");
}
END_TEST

/*
 * io_uring is refused at setup (ENOSYS, as a kernel without it), by
 * number through libc, by instruction when trapped, and through
 * liburing; SCHEME_IO_URING=1 lets it through.  Its operations would
 * pass every wrapper: a write on a scheme fd would vanish.
 */
START_TEST(io_uring_refused)
{
	static const char refused[] =
	    "io_uring_setup: Function not implemented\n";
	struct run_result r;
	char *allow[] = {(char *)"env",
			 (char *)"SCHEME_IO_URING=1",
			 (char *)TEST_RAWSYS_PROG,
			 (char *)"libc",
			 (char *)"uring",
			 (char *)"-",
			 NULL};

	prog(&r, false, "libc", "uring", "-");
	ck_assert_msg(strncmp(r.out, refused, sizeof(refused) - 1) == 0, "%s",
		      r.out);
	if (strstr(r.out, "liburing: not here") == NULL)
		ck_assert_ptr_nonnull(strstr(
		    r.out, "io_uring_queue_init: Function not implemented\n"));
	prog(&r, true, "asm", "uring", "-");
	ck_assert_msg(strncmp(r.out, refused, sizeof(refused) - 1) == 0, "%s",
		      r.out);
	prog(&r, false, "asm", "uring", "-"); /* not trapped: the kernel's */
	ck_assert_ptr_nonnull(strstr(r.out, "io_uring_setup: an fd\n"));
	h_run(&r, true, NULL, 20, allow);
	ck_assert_ptr_nonnull(strstr(r.out, "io_uring_setup: an fd\n"));
	if (strstr(r.out, "liburing: not here") == NULL)
		ck_assert_ptr_nonnull(
		    strstr(r.out, "io_uring_queue_init: a ring\n"));
}
END_TEST

START_TEST(threads_fork_exec)
{
	put(FIVE, "four\\n");
	expect(true, "asm", "threads", FIVE, "threads: 0 wrong\n");
	expect(true, "asm", "fork", S ":five", "fork child: ok\n");
	expect(true, "asm", "exec", S ":five", "size: 5\n");
}
END_TEST

START_TEST(own_sigsys_handler)
{
	char path[4200];

	put(FIVE, "four\\n");
	expect(true, "asm", "sigsys", S ":five", SIGSYS_OK);
	/* Without the trap, the same program on a disk file. */
	snprintf(path, sizeof(path), "%s/five", disk);
	put(path, "four\\n");
	expect(false, "asm", "sigsys", path, SIGSYS_OK);
}
END_TEST

static bool
have_node(void)
{
	return access("/usr/bin/node", X_OK) == 0 ||
	       access("/usr/bin/nodejs", X_OK) == 0;
}

static void
node(struct run_result *r, bool trap, const char *dir, const char *canon)
{
	char *argv[] = {(char *)"env",
			(char *)(trap ? "SCHEME_RAWSYS=trap" : "A=b"),
			(char *)"node",
			(char *)TEST_RAWSYS_FS_JS,
			(char *)dir,
			(char *)canon,
			NULL};

	h_run(r, true, NULL, 30, argv);
	ck_assert_msg(!r->timed_out && r->status == 0,
		      "node on %s: status %d\nout: %s\nerr: %s", dir, r->status,
		      r->out, r->err);
}

/* Node's output on the disk, without the line left out for name:path. */
static void
node_disk(struct run_result *want, bool colon)
{
	char *line;

	node(want, false, disk, NULL);
	if (colon && (line = strstr(want->out, "realpathSync D/js/f\n")))
		memmove(line, line + 20, strlen(line + 20) + 1);
}

static void
node_case(bool trap)
{
	static struct run_result want, got;

	if (!have_node()) {
		fprintf(stderr, "test_rawsys: no node, skipped\n");
		return;
	}
	node_disk(&want, false);
	ck_assert_ptr_nonnull(strstr(want.out, "promises.rm recursive false"));
	node(&got, trap, "/scheme/" S, NULL);
	ck_assert_msg(strcmp(want.out, got.out) == 0, "got:\n%s\nwant:\n%s",
		      got.out, want.out);
	node_disk(&want, true);
	node(&got, trap, S ":", "/scheme/" S);
	ck_assert_msg(strcmp(want.out, got.out) == 0, "got:\n%s\nwant:\n%s",
		      got.out, want.out);
}

START_TEST(node_fs)
{
	node_case(false);
}
END_TEST

START_TEST(node_fs_trapping)
{
	node_case(true);
}
END_TEST

/*
 * Rust's std::fs (test/rawsys/fs.rs) on both path forms, line for line
 * as on the disk.
 */
START_TEST(rust_fs)
{
	static struct run_result want, got;
	const char *dirs[] = {"/scheme/" S, S ":"};
	char *argv[] = {(char *)TEST_RUST_FS, NULL, NULL};

	if (TEST_RUST_FS[0] == '\0') {
		fprintf(stderr,
			"test_rawsys: no rustc at build time, skipped\n");
		return;
	}
	argv[1] = disk;
	h_run(&want, true, NULL, 30, argv);
	ck_assert_msg(want.status == 0 &&
			  strstr(want.out, "read_dir \"c:file f:file\"\n"),
		      "disk: %d\n%s%s", want.status, want.out, want.err);
	for (size_t i = 0; i < 2; i++) {
		argv[1] = (char *)dirs[i];
		h_run(&got, true, NULL, 30, argv);
		ck_assert_msg(got.status == 0 && strcmp(want.out, got.out) == 0,
			      "%s: status %d\ngot:\n%s\nwant:\n%s%s", dirs[i],
			      got.status, got.out, want.out, got.err);
	}
}
END_TEST

static Suite *
rawsys_suite(void)
{
	Suite *s = suite_create("rawsys");
	TCase *tc = tcase_create("rawsys");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, libc_syscall);
	tcase_add_test(tc, libc_syscall_trapping);
	tcase_add_test(tc, instruction_trapped);
	tcase_add_test(tc, instruction_without_trap);
	tcase_add_test(tc, io_uring_refused);
	tcase_add_test(tc, threads_fork_exec);
	tcase_add_test(tc, own_sigsys_handler);
	tcase_add_test(tc, node_fs);
	tcase_add_test(tc, node_fs_trapping);
	tcase_add_test(tc, rust_fs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(rawsys_suite());
}
