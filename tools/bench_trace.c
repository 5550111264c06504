/*
 * bench_trace.c - what schemectl trace costs a scheme (see bench.c).
 *
 * Two minimal providers (bench_prov.c) serve two schemes; one is traced
 * by a real `schemectl trace`, printing its lines into a file as a user's
 * would, the other is not.  Read 8 B and open+close are timed on each,
 * interleaved within a repeat, at both placements (the tracer runs where
 * the provider does).  Nobody tracing, the serving code's only work is a
 * test that no tracer is there: the untraced scheme's figures are the
 * ones `bench rtt` gives, and comparing two builds' `bench rtt` shows the
 * tracing code itself costs nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAXREP 32

enum op { OP_R8, OP_OC, OP_N };
enum var { V_PLAIN, V_TRACED, V_N };

static const char *const op_names[OP_N] = {"read 8 B", "open+close"};
static const char *const var_names[V_N] = {"not traced", "traced"};

struct tworld {
	pid_t prov[V_N], tracer;
	char path[V_N][96];
	char out[PATH_MAX]; /* the tracer's lines */
	int fd[V_N];
};

static double res[V_N][OP_N][BENCH_NPLACE][MAXREP];

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* schemectl trace NAME > w->out, in place once it has seen a request. */
static void
tracer_start(struct tworld *w, const char *name)
{
	char prog[PATH_MAX], exe[PATH_MAX];
	struct timespec ms = {0, 1000000};
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int out, i;

	if (n < 0)
		bench_die("readlink /proc/self/exe");
	exe[n] = '\0';
	snprintf(prog, sizeof(prog), "%s/schemectl", dirname(exe));
	snprintf(w->out, sizeof(w->out), "%s/trace.out", bench_dir());
	out = open(w->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		bench_die(w->out);
	if ((w->tracer = fork()) < 0)
		bench_die("fork");
	if (w->tracer == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(out, 1);
		dup2(null, 2);
		unsetenv("LD_PRELOAD"); /* as a user runs it */
		execl(prog, "schemectl", "trace", name, (char *)NULL);
		_exit(127);
	}
	close(out);
	for (i = 0; i < 5000 && size_of(w->out) <= 0; i++) {
		close(open(w->path[V_TRACED], O_RDONLY | O_CLOEXEC));
		if (waitpid(w->tracer, NULL, WNOHANG) == w->tracer)
			break;
		nanosleep(&ms, NULL);
	}
	if (size_of(w->out) <= 0) {
		errno = ETIMEDOUT;
		bench_die("starting schemectl trace");
	}
}

static void
world_start(struct tworld *w, int rep, int pl)
{
	char name[64];

	memset(w, 0, sizeof(*w));
	for (int v = 0; v < V_N; v++) {
		snprintf(name, sizeof(name), "benchtr%d%d%d", v, rep, pl);
		w->prov[v] = bprov_start(name);
		snprintf(w->path[v], sizeof(w->path[v]), "%s:file", name);
		if ((w->fd[v] = open(w->path[v], O_RDONLY | O_CLOEXEC)) < 0)
			bench_die(w->path[v]);
	}
	snprintf(name, sizeof(name), "benchtr%d%d%d", V_TRACED, rep, pl);
	tracer_start(w, name);
}

static void
world_stop(struct tworld *w)
{
	bench_kill(w->tracer);
	unlink(w->out);
	for (int v = 0; v < V_N; v++) {
		close(w->fd[v]);
		bench_kill(w->prov[v]);
	}
}

static int
op_once(const struct tworld *w, int v, enum op op)
{
	char buf[8];
	int f;

	if (op == OP_R8)
		return read(w->fd[v], buf, 8) == 8 ? 0 : -1;
	if ((f = open(w->path[v], O_RDONLY)) < 0)
		return -1;
	return close(f);
}

static double
time_op(const struct tworld *w, int v, enum op op)
{
	int i, n = bench.rt;

	for (i = 0; i < n / 10 + 5; i++)
		if (op_once(w, v, op) < 0)
			bench_die(w->path[v]);
	for (i = 0; i < n; i++) {
		uint64_t t = bench_now();

		if (op_once(w, v, op) < 0)
			bench_die(w->path[v]);
		sh->lat[i] = bench_now() - t;
	}
	return bench_median_us(sh->lat, n);
}

static void
run_world(int rep, int pl)
{
	struct tworld w;

	bench_place(pl);
	world_start(&w, rep, pl);
	for (int k = 0; k < V_N * OP_N; k++) {
		int i = rep % 2 ? V_N * OP_N - 1 - k : k;

		res[i / OP_N][i % OP_N][pl][rep] =
		    time_op(&w, i / OP_N, (enum op)(i % OP_N));
	}
	world_stop(&w);
}

void
bench_trace(void)
{
	static double f[V_N][OP_N][BENCH_NPLACE];
	int reps = bench.repeats < MAXREP ? bench.repeats : MAXREP;

	for (int r = 0; r < reps; r++)
		for (int p = 0; p < BENCH_NPLACE; p++)
			run_world(r, r % 2 ? BENCH_NPLACE - 1 - p : p);
	bench_place(BENCH_UNPINNED);
	for (int v = 0; v < V_N; v++)
		for (int o = 0; o < OP_N; o++)
			for (int p = 0; p < BENCH_NPLACE; p++)
				f[v][o][p] =
				    bench_median_of(res[v][o][p], reps);
	printf("\nschemectl trace: median of %d repeats' medians of %d; us;\n"
	       "x: traced to not traced, in the same repeat\n",
	       reps, bench.rt);
	printf("  %-26s %15s  %15s\n", "", "one CPU", "unpinned");
	printf("  %-26s %7s %7s  %7s %7s\n", "", "time", "x", "time", "x");
	for (int o = 0; o < OP_N; o++)
		for (int v = 0; v < V_N; v++) {
			printf("  %-11s %-14s", op_names[o], var_names[v]);
			for (int p = 0; p < BENCH_NPLACE; p++) {
				printf(" %7.1f", f[v][o][p]);
				if (v == V_TRACED)
					printf(" %6.2fx",
					       f[v][o][p] / f[V_PLAIN][o][p]);
				else
					printf(" %7s", "");
				printf(p == 0 ? " " : "\n");
			}
		}
}
