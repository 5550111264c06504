/*
 * test_compat.c - the compatibility suite: real programs on scheme paths,
 * compared byte for byte with the same programs on ordinary files.
 *
 * The cases are in test/compat/cases.txt, one block each:
 *
 *	## PROGRAM | OPERATION | what it checks
 *	shell lines (bash), using "$D"
 *	#> a line of expected output	(optional: see below)
 *
 * Each case runs twice under the preload, in a fresh directory $D holding
 * the same files (f: five lines, n: numbers, bin: 150 KiB of bytes, dir/
 * with a and b): once on disk, once as /scheme/cmp/CASE served by
 * scheme-memfs.  Exit status, stdout and stderr must be the same, with
 * $D's value replaced by "$D".  A case with "#>" lines runs only on the
 * scheme and must print exactly them (for what has no disk twin: the
 * root scheme, a stream path).
 *
 * Every result goes to build/compat/results.txt; the last case turns them
 * into the program x operation table (build/compat/table.md) and checks
 * that the README carries it (tools/compat-table.sh puts it there).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define MAX_CASES 256

static const char *const ops[] = {
    "read",	   "write",    "append", "seek",      "truncate", "copy",
    "directories", "metadata", "fds",	 "readiness", "errors",
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

struct tcase_ {
	char program[32];
	int op;
	char what[160];
	char *script;
	char *expect; /* NULL: compare with the disk */
	int line;
};

static struct tcase_ cases[MAX_CASES];
static int ncases;
static char results[512];

static const char seed[] =
    "set -e; mkdir \"$D\" \"$D/dir\"; "
    "printf 'one\\ntwo\\nthree\\nfour\\nfive\\n' > \"$D/f\"; "
    "printf '3\\n10\\n2\\n1\\n' > \"$D/n\"; "
    "python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * "
    "600)' > \"$D/bin\"; "
    "printf 'a\\n' > \"$D/dir/a\"; printf 'bb\\n' > \"$D/dir/b\"\n";

static char *
append(char *s, const char *line)
{
	size_t a = s ? strlen(s) : 0, b = strlen(line);
	char *n = realloc(s, a + b + 1);

	if (n == NULL)
		abort();
	memcpy(n + a, line, b + 1);
	return n;
}

static void
trim(char *s)
{
	char *e = s + strlen(s);

	while (e > s && (e[-1] == ' ' || e[-1] == '\n'))
		*--e = '\0';
}

/* Parse cases.txt; exits with a message on a malformed one. */
static void
load_cases(void)
{
	char path[512], line[4096], *f1, *f2, *f3;
	FILE *f;
	int no = 0;
	size_t k;

	snprintf(path, sizeof(path), "%s/test/compat/cases.txt",
		 TEST_SOURCE_DIR);
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		no++;
		if (strncmp(line, "## ", 3) == 0) {
			struct tcase_ *c = &cases[ncases];

			if (ncases == MAX_CASES)
				abort();
			f1 = strtok(line + 3, "|");
			f2 = strtok(NULL, "|");
			f3 = strtok(NULL, "\n");
			if (f1 == NULL || f2 == NULL || f3 == NULL) {
				fprintf(stderr,
					"%s:%d: want ## P | OP | what\n", path,
					no);
				exit(1);
			}
			trim(f1);
			trim(f2);
			while (*f2 == ' ')
				f2++;
			while (*f3 == ' ')
				f3++;
			snprintf(c->program, sizeof(c->program), "%s", f1);
			snprintf(c->what, sizeof(c->what), "%s", f3);
			for (k = 0; k < NOPS && strcmp(ops[k], f2) != 0; k++)
				;
			if (k == NOPS) {
				fprintf(stderr, "%s:%d: no operation \"%s\"\n",
					path, no, f2);
				exit(1);
			}
			c->op = (int)k;
			c->line = no;
			ncases++;
		} else if (ncases > 0 && strncmp(line, "#> ", 3) == 0) {
			cases[ncases - 1].expect =
			    append(cases[ncases - 1].expect, line + 3);
		} else if (ncases > 0 && strcmp(line, "#>\n") == 0) {
			cases[ncases - 1].expect =
			    append(cases[ncases - 1].expect, "\n");
		} else if (ncases > 0 && line[0] != '#') {
			cases[ncases - 1].script =
			    append(cases[ncases - 1].script, line);
		}
	}
	fclose(f);
}

/* Every occurrence of from in s, as to. */
static void
replace_all(char *s, size_t cap, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *p = s;

	while ((p = strstr(p, from)) != NULL) {
		size_t rest = strlen(p + fl);

		if ((size_t)(p - s) + tl + rest + 1 > cap)
			return;
		memmove(p + tl, p + fl, rest + 1);
		memcpy(p, to, tl);
		p += tl;
	}
}

struct run {
	int status;
	char out[65536], err[8192];
};

static void
run_side(const struct tcase_ *c, const char *d, const char *cwd,
	 struct run *out)
{
	struct run_result *r = malloc(sizeof(*r));
	char *script = NULL;
	char *argv[] = {(char *)"bash", (char *)"-c", NULL, NULL};

	mkdir(cwd, 0700);
	setenv("D", d, 1);
	script = append(script, "cd \"$CWD\" || exit 99\n(");
	script = append(script, seed);
	script =
	    append(script, ") || { echo 'seeding failed' >&2; exit 98; }\n");
	script = append(script, c->script);
	setenv("CWD", cwd, 1);
	argv[2] = script;
	h_run(r, true, NULL, 30, argv);
	out->status = r->timed_out ? -1 : r->status;
	snprintf(out->out, sizeof(out->out), "%.*s", (int)r->outlen, r->out);
	snprintf(out->err, sizeof(out->err), "%.*s", (int)r->errlen, r->err);
	replace_all(out->out, sizeof(out->out), d, "$D");
	replace_all(out->err, sizeof(out->err), d, "$D");
	free(script);
	free(r);
}

/*
 * Under the sanitizers every program carries ASan's allocator, which
 * aborts on an aligned_alloc that glibc accepts (cat and dd of coreutils
 * 9.1 make one): that is the program's, on disk and on a scheme alike.
 */
static bool
asan_refused(const struct run *r)
{
	return TEST_ASAN_RUNTIME[0] != '\0' &&
	       strstr(r->err, "invalid alignment requested in aligned_alloc");
}

static void
record(const struct tcase_ *c, bool ok)
{
	FILE *f = fopen(results, "a");

	if (f != NULL) {
		fprintf(f, "%s\t%s\t%s\t%s\n", c->program, ops[c->op],
			ok ? "PASS" : "FAIL", c->what);
		fclose(f);
	}
}

START_TEST(compat_case)
{
	const struct tcase_ *c = &cases[_i];
	struct run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char d[256], cwd[256];
	bool ok;

	snprintf(d, sizeof(d), "/scheme/cmp/c%d", _i);
	snprintf(cwd, sizeof(cwd), "%s/cwd-scheme-%d", h_dir(), _i);
	run_side(c, d, cwd, a);
	if (c->expect != NULL) {
		ok = a->status == 0 && strcmp(a->out, c->expect) == 0;
		record(c, ok);
		ck_assert_msg(
		    ok,
		    "%s | %s | %s (cases.txt:%d)\n"
		    "status %d\n--- want\n%s--- got\n%s--- stderr\n%s",
		    c->program, ops[c->op], c->what, c->line, a->status,
		    c->expect, a->out, a->err);
	} else {
		snprintf(d, sizeof(d), "%s/disk", h_dir());
		mkdir(d, 0700);
		snprintf(d, sizeof(d), "%s/disk/c%d", h_dir(), _i);
		snprintf(cwd, sizeof(cwd), "%s/cwd-disk-%d", h_dir(), _i);
		run_side(c, d, cwd, b);
		if (asan_refused(a) || asan_refused(b)) {
			fprintf(stderr,
				"%s | %s: the program's own allocation "
				"is refused by ASan; not compared\n",
				c->program, c->what);
			free(a);
			free(b);
			return;
		}
		ok = a->status == b->status && strcmp(a->out, b->out) == 0 &&
		     strcmp(a->err, b->err) == 0;
		record(c, ok);
		ck_assert_msg(ok,
			      "%s | %s | %s (cases.txt:%d)\n"
			      "--- on disk: status %d\n%s--- stderr\n%s"
			      "--- on the scheme: status %d\n%s--- stderr\n%s",
			      c->program, ops[c->op], c->what, c->line,
			      b->status, b->out, b->err, a->status, a->out,
			      a->err);
	}
	free(a);
	free(b);
}
END_TEST

/* The table, from the results of this run. */
static char *
make_table(void)
{
	int pass[MAX_CASES][NOPS] = {{0}}, fail[MAX_CASES][NOPS] = {{0}};
	char rows[MAX_CASES][32], line[512], *prog, *op, *res, *t = NULL;
	int nrows = 0, i, k;
	size_t j;
	FILE *f;

	for (i = 0; i < ncases; i++) { /* rows in the order of the cases */
		for (k = 0; k < nrows && strcmp(rows[k], cases[i].program); k++)
			;
		if (k == nrows)
			snprintf(rows[nrows++], sizeof(rows[0]), "%.31s",
				 cases[i].program);
	}
	if ((f = fopen(results, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		prog = strtok(line, "\t");
		op = strtok(NULL, "\t");
		res = strtok(NULL, "\t");
		if (prog == NULL || op == NULL || res == NULL)
			continue;
		for (k = 0; k < nrows && strcmp(rows[k], prog); k++)
			;
		for (j = 0; j < NOPS && strcmp(ops[j], op); j++)
			;
		if (k == nrows || j == NOPS)
			continue;
		if (strcmp(res, "PASS") == 0)
			pass[k][j]++;
		else
			fail[k][j]++;
	}
	fclose(f);
	t = append(t, "| program |");
	for (j = 0; j < NOPS; j++) {
		t = append(t, " ");
		t = append(t, ops[j]);
		t = append(t, " |");
	}
	t = append(t, "\n|---|");
	for (j = 0; j < NOPS; j++)
		t = append(t, ":-:|");
	t = append(t, "\n");
	for (k = 0; k < nrows; k++) {
		t = append(t, "| `");
		t = append(t, rows[k]);
		t = append(t, "` |");
		for (j = 0; j < NOPS; j++) {
			char cell[32] = "";

			if (fail[k][j] > 0)
				snprintf(cell, sizeof(cell), " ✗ %d/%d |",
					 pass[k][j], pass[k][j] + fail[k][j]);
			else if (pass[k][j] > 0)
				snprintf(cell, sizeof(cell), " ✓ |");
			else
				snprintf(cell, sizeof(cell), " |");
			t = append(t, cell);
		}
		t = append(t, "\n");
	}
	return t;
}

#define BEGIN_MARK "<!-- compat-table begin -->\n"
#define END_MARK   "<!-- compat-table end -->"

/* The README carries this run's table (tools/compat-table.sh). */
START_TEST(readme_has_the_table)
{
	char path[512], *table = make_table(), *readme, *b, *e;
	size_t len;
	FILE *f;

	ck_assert_ptr_nonnull(table);
	snprintf(path, sizeof(path), "%s/compat/table.md", TEST_BUILD_DIR);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(table, f);
	fclose(f);
	if (getenv("CK_RUN_CASE") != NULL || TEST_ASAN_RUNTIME[0] != '\0') {
		free(table); /* a partial run, or the sanitizer build */
		return;
	}
	snprintf(path, sizeof(path), "%s/README.md", TEST_SOURCE_DIR);
	readme = h_read_file(path, &len);
	ck_assert_ptr_nonnull(readme);
	b = strstr(readme, BEGIN_MARK);
	e = b != NULL ? strstr(b, END_MARK) : NULL;
	ck_assert_msg(b != NULL && e != NULL, "README.md has no %s",
		      BEGIN_MARK);
	b += strlen(BEGIN_MARK);
	ck_assert_msg((size_t)(e - b) == strlen(table) &&
			  memcmp(b, table, strlen(table)) == 0,
		      "README.md's compatibility table is not this run's: "
		      "run sh tools/compat-table.sh %s\n%s",
		      TEST_BUILD_DIR, table);
	free(readme);
	free(table);
}
END_TEST

static void
start_world(void)
{
	h_world_start("cmp");
}

int
main(void)
{
	Suite *s = suite_create("compat");
	TCase *tc = tcase_create("programs");
	TCase *tt = tcase_create("table");
	char dir[400];

	load_cases();
	setenv("COMPAT_STDIO", TEST_COMPAT_STDIO, 1);
	snprintf(dir, sizeof(dir), "%s/compat", TEST_BUILD_DIR);
	mkdir(dir, 0755);
	snprintf(results, sizeof(results), "%s/results.txt", dir);
	unlink(results);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, compat_case, 0, ncases);
	suite_add_tcase(s, tc);
	tcase_add_test(tt, readme_has_the_table);
	suite_add_tcase(s, tt);
	return h_main(s);
}
