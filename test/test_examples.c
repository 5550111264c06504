/*
 * test_examples.c - the example providers (scheme-hello, scheme-memfs,
 * scheme-irqdrv) as commands: --help on stdout and --version with exit 0,
 * a usage error in one line on stderr with exit 2, no crash on odd
 * argument lists; run without the preload, one line naming schemerun, a
 * non-zero exit and nothing left on disk; and --help under the preload
 * registers no scheme.  What they serve is tested by the suites that use
 * them (test_client, test_compat, test_chaos, test_device...).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const struct example {
	const char *path, *name;
} examples[] = {
    {TEST_HELLO, "scheme-hello"},
    {TEST_MEMFS, "scheme-memfs"},
    {TEST_IRQDRV, "scheme-irqdrv"},
};
#define NEXAMPLES (sizeof(examples) / sizeof(examples[0]))

static struct run_result *r;
static char cwd[256];

/* Each case runs in a directory of its own, which must stay empty. */
static void
setup(void)
{
	r = calloc(1, sizeof(*r));
	snprintf(cwd, sizeof(cwd), "%s/cwd-XXXXXX", h_dir());
	ck_assert_ptr_nonnull(mkdtemp(cwd));
	ck_assert_int_eq(chdir(cwd), 0);
}

static void
teardown(void)
{
	free(r);
}

#define MAXARGS 10

/* ex with the arguments in a (NULL ends them). */
static void
run_args(const struct example *ex, const char *const *a, bool preload)
{
	char *argv[MAXARGS + 2] = {(char *)ex->path};

	for (int i = 0; i < MAXARGS && a[i] != NULL; i++)
		argv[i + 1] = (char *)a[i];
	h_run(r, preload, NULL, 10, argv);
	ck_assert_msg(!r->timed_out, "%s %s: timed out", ex->name,
		      a[0] ? a[0] : "");
}

static void
run(const struct example *ex, const char *arg, bool preload)
{
	const char *a[] = {arg, NULL};

	run_args(ex, a, preload);
}

static int
lines(const char *s, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* Nothing was made in the working directory (no ":name" file). */
static void
assert_dir_empty(const char *what)
{
	DIR *d = opendir(".");
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strcmp(e->d_name, ".") == 0 ||
				  strcmp(e->d_name, "..") == 0,
			      "%s left '%s' behind", what, e->d_name);
	closedir(d);
}

START_TEST(help_on_stdout)
{
	const struct example *ex = &examples[_i];
	char usage[64];

	snprintf(usage, sizeof(usage), "usage: %s ", ex->name);
	run(ex, "--help", false);
	ck_assert_int_eq(r->status, 0);
	ck_assert_msg(strncmp(r->out, usage, strlen(usage)) == 0, "%s", r->out);
	ck_assert_msg(strstr(r->out, "schemerun") != NULL, "%s", r->out);
	ck_assert_uint_eq(r->errlen, 0);
	run(ex, "-h", false);
	ck_assert_int_eq(r->status, 0);
	ck_assert(strncmp(r->out, usage, strlen(usage)) == 0);
	assert_dir_empty(ex->name);
}
END_TEST

START_TEST(version_is_the_projects)
{
	const struct example *ex = &examples[_i];
	char want[128];

	snprintf(want, sizeof(want), "%s (scheme) %s\n", ex->name,
		 SCHEME_VERSION);
	run(ex, "--version", false);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, want);
	ck_assert_uint_eq(r->errlen, 0);
	run(ex, "-V", false);
	ck_assert_str_eq(r->out, want);
	assert_dir_empty(ex->name);
}
END_TEST

/* Usage errors, by example: one line on stderr, exit 2. */
static const struct bad {
	int ex;
	const char *a[MAXARGS];
} bad[] = {
    {0, {"--nope"}},
    {0, {"-x"}},
    {0, {"a", "b"}},
    {0, {"--", "a", "b"}},
    {0, {"--version=1"}},
    {1, {"--nope"}},
    {1, {"-xh"}},
    {1, {"--tick"}},
    {1, {"--tick", "soon"}},
    {1, {"--tick", "0"}},
    {1, {"--tick="}},
    {1, {"--events=yes"}},
    {1, {"--help=x"}},
    {1, {"a", "b"}},
    {1, {"--events", "a", "--tick", "5"}},
    {2, {NULL}},
    {2, {"--nope", "irq:3"}},
    {2, {"--name"}},
    {2, {"-n"}},
    {2, {"--timeout", "-5", "irq:3"}},
    {2, {"--timeout", "", "irq:3"}},
    {2, {"--model", "pdp11", "irq:3"}},
    {2,
     {"irq:0", "irq:1", "irq:2", "irq:3", "irq:4", "irq:5", "irq:6", "irq:7",
      "irq:8"}}, /* more vectors than a driver takes */
    {2, {"--name", "x"}},
};

START_TEST(usage_error_one_line)
{
	const struct bad *b = &bad[_i];
	const struct example *ex = &examples[b->ex];
	char prefix[64];

	run_args(ex, b->a, false);
	snprintf(prefix, sizeof(prefix), "%s: ", ex->name);
	ck_assert_msg(r->status == 2, "%s %s: status %d: %s", ex->name,
		      b->a[0] ? b->a[0] : "", r->status, r->err);
	ck_assert_uint_eq(r->outlen, 0);
	ck_assert_msg(lines(r->err, r->errlen) == 1 &&
			  r->err[r->errlen - 1] == '\n',
		      "not one line: %s", r->err);
	ck_assert_msg(strncmp(r->err, prefix, strlen(prefix)) == 0, "%s",
		      r->err);
	assert_dir_empty(ex->name);
}
END_TEST

/* Started as a user would without schemerun: refused, nothing made. */
static const struct plain {
	int ex;
	const char *a[MAXARGS];
} plain[] = {
    {0, {NULL}},
    {0, {"world"}},
    {0, {"--", "-dash"}},
    {1, {NULL}},
    {1, {"files"}},
    {1, {"--events", "ev"}},
    {1, {"--tick", "5"}},
    {2, {"irq:3"}},
    {2, {"--name", "d", "irq:0"}},
    {2, {"-m", "edu", "irq:pci/0000:00:03.0/msi/0"}},
};

START_TEST(no_preload_fails_loudly)
{
	const struct plain *p = &plain[_i];
	const struct example *ex = &examples[p->ex];

	run_args(ex, p->a, false);
	ck_assert_msg(r->status != 0 && r->status < 128, "%s: status %d",
		      ex->name, r->status);
	ck_assert_msg(lines(r->err, r->errlen) == 1, "not one line: %s",
		      r->err);
	ck_assert_msg(strstr(r->err, "schemerun") != NULL, "%s", r->err);
	ck_assert_uint_eq(r->outlen, 0);
	assert_dir_empty(ex->name);
}
END_TEST

/* Under the preload, --help is help: no scheme called "--help". */
START_TEST(help_registers_nothing)
{
	const struct example *ex = &examples[_i];

	run(ex, "--help", true);
	ck_assert_int_eq(r->status, 0);
	run(ex, "--version", true);
	ck_assert_int_eq(r->status, 0);
	ck_assert(!h_scheme_exists("--help"));
	ck_assert(!h_scheme_exists("--version"));
	ck_assert(!h_scheme_exists("-h"));
	assert_dir_empty(ex->name);
}
END_TEST

static void
world_start(void)
{
	h_world_start(NULL);
}

static Suite *
examples_suite(void)
{
	Suite *s = suite_create("examples");
	TCase *tc = tcase_create("command line");
	TCase *tw = tcase_create("under the preload");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, help_on_stdout, 0, NEXAMPLES);
	tcase_add_loop_test(tc, version_is_the_projects, 0, NEXAMPLES);
	tcase_add_loop_test(tc, usage_error_one_line, 0,
			    sizeof(bad) / sizeof(bad[0]));
	tcase_add_loop_test(tc, no_preload_fails_loudly, 0,
			    sizeof(plain) / sizeof(plain[0]));
	suite_add_tcase(s, tc);

	tcase_set_timeout(tw, 30);
	tcase_add_unchecked_fixture(tw, world_start, h_world_stop);
	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_add_loop_test(tw, help_registers_nothing, 0, NEXAMPLES);
	suite_add_tcase(s, tw);
	return s;
}

int
main(void)
{
	return h_main(examples_suite());
}
