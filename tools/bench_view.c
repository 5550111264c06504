/*
 * bench_view.c - the kernel-visible view (scheme-fuse) against the
 * preload and against FUSE's floor (see bench.c).
 *
 * One provider (bench_prov.c) serves the scheme; it is reached four ways
 * and the same operations are timed on each: through the preload
 * (name:file), through the view as scheme-fuse mounts it (names and
 * attributes cached for 1 s, the default) and with --cache 0 (every
 * lookup and stat asked of the daemon, and by it of the provider), and
 * on bench's own minimal FUSE file system (bench_fuse.c: answers from
 * memory, direct_io, names and attributes cached), single- and
 * multi-threaded: what FUSE itself costs, with no provider behind it.
 *
 * The provider's file reports size 0, so the view reads it past the page
 * cache (as any file of size 0 opened read-only): every read is a FUSE
 * request, and the daemon's read through the preload, as on the minimal
 * FUSE file system every read is a request.  A file the page cache
 * holds is read at the kernel's speed, whatever serves it.
 *
 * The view's daemons are children of this process, so they run where it
 * is placed (one CPU or unpinned), as the provider and the FUSE daemons.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "paths.h"

#define BIG    (64 * 1024)
#define MAXREP 32

enum op { OP_R8, OP_R64, OP_OC, OP_STAT, OP_N };
enum src { SRC_PRELOAD, SRC_VIEW, SRC_VIEW0, SRC_FUSE1, SRC_FUSEM, SRC_N };

static const char *const op_names[OP_N] = {"read 8 B", "read 64 KiB",
					   "open+close", "stat"};
static const char *const src_names[SRC_N] = {
    "preload", "view", "view --cache 0", "FUSE 1 thread", "FUSE multi"};

struct vworld {
	pid_t prov;
	char scheme[64];
	char path[SRC_N][320]; /* the file, each way */
	int fd[SRC_N];
	struct bfuse view[2]; /* scheme-fuse, stopped as bench's own */
	struct bfuse fuse[2];
	bool have[SRC_N];
};

static char buf[BIG];
static double res[SRC_N][OP_N][BENCH_NPLACE][MAXREP];
static char why[512];

/* scheme-fuse -f [--cache 0] at <bench dir>/viewN; false if it cannot. */
static bool
view_start(struct bfuse *v, int k, const struct vworld *w, char *file,
	   size_t len)
{
	char prog[PATH_MAX];

	if (paths_find(prog, sizeof(prog), PATHS_VIEW) < 0) {
		snprintf(why, sizeof(why),
			 "scheme-fuse is not built (it "
			 "needs libfuse3)");
		return false;
	}
	snprintf(v->dir, sizeof(v->dir), "%s/view%d", bench_dir(), k);
	snprintf(file, len, "%s/%s/file", v->dir, w->scheme);
	if (mkdir(v->dir, 0700) < 0 && errno != EEXIST)
		bench_die(v->dir);
	if ((v->pid = fork()) < 0)
		bench_die("fork");
	if (v->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execl(prog, "scheme-fuse", "-f", "--cache", k ? "0" : "1", "--",
		      v->dir, (char *)NULL);
		_exit(127);
	}
	if (bench_path_ready(file, v->pid))
		return true;
	snprintf(why, sizeof(why), "scheme-fuse did not mount %s", v->dir);
	bench_kill(v->pid);
	v->pid = -1;
	return false;
}

static void
world_start(struct vworld *w, int rep, int pl)
{
	int i;

	memset(w, 0, sizeof(*w));
	snprintf(w->scheme, sizeof(w->scheme), "benchvw%d%d", rep, pl);
	w->prov = bprov_start(w->scheme);
	snprintf(w->path[SRC_PRELOAD], sizeof(w->path[0]), "%s:file",
		 w->scheme);
	w->have[SRC_PRELOAD] = true;
	for (i = 0; i < 2; i++) {
		w->have[SRC_VIEW + i] =
		    view_start(&w->view[i], i, w, w->path[SRC_VIEW + i],
			       sizeof(w->path[0]));
		w->have[SRC_FUSE1 + i] = bfuse_start(&w->fuse[i], i) == 0;
		if (w->have[SRC_FUSE1 + i])
			snprintf(w->path[SRC_FUSE1 + i], sizeof(w->path[0]),
				 "%s", w->fuse[i].file);
	}
	for (i = 0; i < SRC_N; i++) {
		w->fd[i] = -1;
		if (w->have[i] &&
		    (w->fd[i] = open(w->path[i], O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "bench: %s: %s\n", w->path[i],
				strerror(errno));
			w->have[i] = false;
		}
	}
}

static void
world_stop(struct vworld *w)
{
	for (int i = 0; i < SRC_N; i++)
		if (w->fd[i] >= 0)
			close(w->fd[i]);
	for (int i = 0; i < 2; i++) {
		if (w->have[SRC_VIEW + i])
			bfuse_stop(&w->view[i]);
		if (w->have[SRC_FUSE1 + i])
			bfuse_stop(&w->fuse[i]);
	}
	bench_kill(w->prov);
}

static int
op_once(const struct vworld *w, int src, enum op op)
{
	struct stat st;
	int f;

	switch (op) {
	case OP_R8:
		return read(w->fd[src], buf, 8) == 8 ? 0 : -1;
	case OP_R64:
		return read(w->fd[src], buf, BIG) == BIG ? 0 : -1;
	case OP_OC:
		if ((f = open(w->path[src], O_RDONLY)) < 0)
			return -1;
		return close(f);
	default:
		return stat(w->path[src], &st);
	}
}

/* The median of bench.rt timed operations after a few untimed ones. */
static double
time_op(const struct vworld *w, int src, enum op op)
{
	int i, n = bench.rt;

	if (!w->have[src])
		return -1;
	for (i = 0; i < n / 10 + 5; i++)
		if (op_once(w, src, op) < 0)
			return -1;
	for (i = 0; i < n; i++) {
		uint64_t t = bench_now();

		if (op_once(w, src, op) < 0)
			return -1;
		sh->lat[i] = bench_now() - t;
	}
	return bench_median_us(sh->lat, n);
}

/* One repeat at one placement, the order reversed every other repeat. */
static void
run_world(int rep, int pl)
{
	struct vworld w;
	int k, s, o;

	bench_place(pl);
	world_start(&w, rep, pl);
	for (k = 0; k < SRC_N * OP_N; k++) {
		int i = rep % 2 ? SRC_N * OP_N - 1 - k : k;

		s = i / OP_N;
		o = i % OP_N;
		res[s][o][pl][rep] = time_op(&w, s, (enum op)o);
	}
	world_stop(&w);
}

static void
cell(double v, int ratio)
{
	bench_cell(v, ratio, 7);
}

/* FUSE's better loop for op, or -1. */
static double
fuse_best(double f[][OP_N][BENCH_NPLACE], int o, int pl)
{
	double a = f[SRC_FUSE1][o][pl], b = f[SRC_FUSEM][o][pl];

	if (a < 0 || b < 0)
		return a < 0 ? b : a;
	return a < b ? a : b;
}

static void
print(double f[][OP_N][BENCH_NPLACE])
{
	int s, o, pl;
	double fb, pre;

	printf("  %-32s %23s  %23s\n", "", "one CPU", "unpinned");
	printf("  %-32s %7s %7s %7s  %7s %7s %7s\n", "", "time", "x prel.",
	       "x FUSE", "time", "x prel.", "x FUSE");
	for (s = 0; s < SRC_N; s++)
		for (o = 0; o < OP_N; o++) {
			printf("  %-14s %-17s", src_names[s], op_names[o]);
			for (pl = 0; pl < BENCH_NPLACE; pl++) {
				pre = f[SRC_PRELOAD][o][pl];
				fb = fuse_best(f, o, pl);
				cell(f[s][o][pl], 0);
				cell(s != SRC_PRELOAD && pre > 0 &&
					     f[s][o][pl] > 0
					 ? f[s][o][pl] / pre
					 : -1,
				     1);
				cell(s < SRC_FUSE1 && fb > 0 && f[s][o][pl] > 0
					 ? f[s][o][pl] / fb
					 : -1,
				     1);
				printf(pl == 0 ? " " : "\n");
			}
		}
}

void
bench_view(void)
{
	static double f[SRC_N][OP_N][BENCH_NPLACE];
	int reps = bench.repeats < MAXREP ? bench.repeats : MAXREP, r, p, s, o;

	bench_raise_nofile();
	for (r = 0; r < reps; r++)
		for (p = 0; p < BENCH_NPLACE; p++)
			run_world(r, r % 2 ? BENCH_NPLACE - 1 - p : p);
	bench_place(BENCH_UNPINNED);
	for (s = 0; s < SRC_N; s++)
		for (o = 0; o < OP_N; o++)
			for (p = 0; p < BENCH_NPLACE; p++)
				f[s][o][p] =
				    bench_median_all(res[s][o][p], reps);
	printf("\nthe view (scheme-fuse): median of %d repeats' medians of "
	       "%d; us;\nx prel.: to the same through the preload; x FUSE: "
	       "to the minimal FUSE\nfile system's better loop (direct_io, "
	       "answers from memory)\n",
	       reps, bench.rt);
	if (why[0] != '\0')
		printf("  the view: skipped: %s\n", why);
	if (bfuse_skip() != NULL)
		printf("  FUSE: skipped: %s\n", bfuse_skip());
	print(f);
}
