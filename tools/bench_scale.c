/*
 * bench_scale.c - one provider against many clients, many open files and
 * many registered schemes (see bench.c).
 *
 * Concurrency: 1, 2, 8 and 64 client processes read 8 bytes at a time
 * from one single-threaded provider, all starting together (a pipe whose
 * write end the parent closes wakes them at once); the figures are the
 * throughput over the run and the p50 and p99 of every request's latency.
 * The same runs are made again while another process holds 10,000 files
 * of the same provider open.
 *
 * State: the cost of a read, of an open+close and of a first open in a
 * new thread (which connects through the broker) with one open file and
 * one scheme, with 10,000 open files, and with 1,000 other schemes
 * registered.  A request on a description finds it by its key in a slot
 * array, and a thread's channel by a short list; the broker is asked
 * only for a thread's first channel to a scheme; none of it should grow
 * with the population.  What does grow is in the kernel: each open file
 * binds an abstract socket name, and bind() and the autobind of a new
 * channel walk a hash chain of those names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MAXCLIENTS 64
#define MAXREP	   8

static const int nclients[] = {1, 2, 8, 64};
#define NCONC 4

struct conc {
	double tput, p50, p99;
};

static uint64_t *ends; /* each client's end time, shared */
static struct conc conc[2][NCONC][BENCH_NPLACE][MAXREP];

enum { ST_READ, ST_OC, ST_THREAD, ST_N };
enum { COND_BASE, COND_HANDLES, COND_SCHEMES, COND_N };
static double state[ST_N][COND_N][BENCH_NPLACE][MAXREP];

/* Hold `n` files of path open until `go` reads EOF. */
static void
holder(const char *path, int n, int ready, int go)
{
	char c;
	int i;

	bench_raise_nofile();
	for (i = 0; i < n; i++)
		if (open(path, O_RDONLY) < 0)
			_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

/* Keep `n` schemes registered until `go` reads EOF. */
static void
registrar(int n, int ready, int go)
{
	char name[64], c;
	int i;

	bench_raise_nofile();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), ":benchreg%d_%d", (int)getpid(),
			 i);
		if (open(name, O_CREAT | O_RDWR | O_CLOEXEC, 0600) < 0)
			_exit(1);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

static void
client(const char *path, int k, int n, int ready, int go)
{
	int fd = open(path, O_RDWR), i;
	uint64_t *lat = sh->lat + (size_t)k * (size_t)n;
	char b[8], c;

	if (fd < 0)
		_exit(1);
	for (i = 0; i < 20; i++)
		if (read(fd, b, 8) != 8)
			_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
	for (i = 0; i < n; i++) {
		uint64_t t = bench_now();

		if (read(fd, b, 8) != 8)
			_exit(1);
		lat[i] = bench_now() - t;
	}
	ends[k] = bench_now();
	_exit(0);
}

static struct conc
run_clients(const char *path, int nc)
{
	int rd[2], go[2], k, n = bench.total / nc, st, bad = 0;
	struct conc c = {-1, -1, -1};
	pid_t pids[MAXCLIENTS];
	uint64_t t0, t1 = 0;

	if (pipe2(rd, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		bench_die("pipe");
	for (k = 0; k < nc; k++)
		if ((pids[k] = fork()) == 0) {
			close(rd[0]);
			close(go[1]);
			client(path, k, n, rd[1], go[0]);
		}
	close(rd[1]);
	close(go[0]);
	bad = bench_wait_ready(rd[0], nc) < 0;
	t0 = bench_now();
	close(go[1]); /* go */
	close(rd[0]);
	for (k = 0; k < nc; k++)
		if (waitpid(pids[k], &st, 0) != pids[k] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad = 1;
	if (bad)
		return c;
	for (k = 0; k < nc; k++)
		t1 = ends[k] > t1 ? ends[k] : t1;
	c.tput = (double)n * nc / ((double)(t1 - t0) / 1e9);
	c.p99 = bench_pct_us(sh->lat, n * nc, 99);
	c.p50 = bench_pct_us(sh->lat, n * nc, 50);
	return c;
}

static double
time_read(int fd, int n)
{
	char b[8];
	int i;

	for (i = 0; i < n; i++) {
		uint64_t t = bench_now();

		if (read(fd, b, 8) != 8)
			return -1;
		sh->lat[i] = bench_now() - t;
	}
	return bench_median_us(sh->lat, n);
}

static double
time_oc(const char *path, int n)
{
	int i, fd;

	for (i = 0; i < n; i++) {
		uint64_t t = bench_now();

		if ((fd = open(path, O_RDONLY)) < 0)
			return -1;
		close(fd);
		sh->lat[i] = bench_now() - t;
	}
	return bench_median_us(sh->lat, n);
}

/* A new thread's open+close of path, timed inside it. */
static void *
first_open(void *path)
{
	uint64_t t = bench_now();
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return (void *)(uintptr_t)0;
	close(fd);
	return (void *)(uintptr_t)(bench_now() - t);
}

/*
 * A thread's first open+close of path, in ns (0: it failed): the thread
 * is made and joined untimed.  A new thread has no channel of its own:
 * it takes one a thread gone left (chan.c) or asks the broker.
 */
uint64_t
bench_thread_oc(const char *path)
{
	pthread_t th;
	void *ns;

	if (pthread_create(&th, NULL, first_open, (void *)path) != 0 ||
	    pthread_join(th, &ns) != 0)
		return 0;
	return (uint64_t)(uintptr_t)ns;
}

static double
time_thread(const char *path, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((sh->lat[i] = bench_thread_oc(path)) == 0)
			return -1;
	return bench_median_us(sh->lat, n);
}

static void
time_state(const char *path, int fd, int cond, int pl, int r)
{
	int n = bench.rt;

	time_read(fd, n / 10);
	state[ST_READ][cond][pl][r] = time_read(fd, n);
	state[ST_OC][cond][pl][r] = time_oc(path, n);
	state[ST_THREAD][cond][pl][r] = time_thread(path, n / 4);
}

/* Start a holder or a registrar; its `go` pipe's write end, or -1. */
static int
population(int handles, const char *path, pid_t *pid)
{
	int rd[2], go[2];

	if (pipe2(rd, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		bench_die("pipe");
	if ((*pid = fork()) < 0)
		bench_die("fork");
	if (*pid == 0) {
		close(rd[0]);
		close(go[1]);
		if (handles)
			holder(path, bench.handles, rd[1], go[0]);
		registrar(bench.schemes, rd[1], go[0]);
	}
	close(rd[1]);
	close(go[0]);
	if (bench_wait_ready(rd[0], 1) < 0) {
		fprintf(stderr, "bench: could not %s\n",
			handles ? "open the files" : "register the schemes");
		close(go[1]);
		waitpid(*pid, NULL, 0);
		go[1] = -1;
	}
	close(rd[0]);
	return go[1];
}

static void
population_end(int go, pid_t pid)
{
	if (go < 0)
		return;
	close(go);
	waitpid(pid, NULL, 0);
}

static void
one_repeat(int r, int pl)
{
	char name[64], path[80];
	int i, fd, go;
	pid_t prov, pid;

	snprintf(name, sizeof(name), "benchsc%d%d", r, pl);
	snprintf(path, sizeof(path), "%s:file", name);
	prov = bprov_start(name);
	if ((fd = open(path, O_RDWR)) < 0)
		bench_die(path);
	for (i = 0; i < NCONC; i++)
		conc[0][i][pl][r] = run_clients(path, nclients[i]);
	time_state(path, fd, COND_BASE, pl, r);
	go = population(0, path, &pid);
	time_state(path, fd, COND_SCHEMES, pl, r);
	population_end(go, pid);
	go = population(1, path, &pid);
	time_state(path, fd, COND_HANDLES, pl, r);
	for (i = 0; i < NCONC; i++)
		conc[1][i][pl][r] = run_clients(path, nclients[i]);
	population_end(go, pid);
	close(fd);
	bench_kill(prov);
}

static struct conc
conc_fig(int h, int i, int pl, int reps)
{
	double t[MAXREP], a[MAXREP], b[MAXREP];
	struct conc c;
	int r;

	for (r = 0; r < reps; r++) {
		t[r] = conc[h][i][pl][r].tput;
		a[r] = conc[h][i][pl][r].p50;
		b[r] = conc[h][i][pl][r].p99;
		if (t[r] < 0)
			return conc[h][i][pl][r];
	}
	c.tput = bench_median_of(t, reps);
	c.p50 = bench_median_of(a, reps);
	c.p99 = bench_median_of(b, reps);
	return c;
}

static void
print_conc_cells(int h, int i, int reps)
{
	struct conc c;
	int pl;

	for (pl = 0; pl < BENCH_NPLACE; pl++) {
		c = conc_fig(h, i, pl, reps);
		printf("%s", pl ? "  " : "");
		if (c.tput < 0)
			printf(" %10s %7s %7s", "failed", "-", "-");
		else
			printf(" %10.0f %7.1f %7.1f", c.tput, c.p50, c.p99);
	}
	printf("\n");
}

static void
print_conc(int reps)
{
	int h, i;

	printf("\nscale: clients reading 8 B from one provider, %d requests "
	       "per run; median of %d\n",
	       bench.total, reps);
	printf("  %-7s %-10s %26s  %26s\n", "", "", "one CPU", "unpinned");
	printf("  %-7s %-10s %10s %7s %7s  %10s %7s %7s\n", "clients",
	       "open files", "req/s", "p50 us", "p99 us", "req/s", "p50 us",
	       "p99 us");
	for (h = 0; h < 2; h++)
		for (i = 0; i < NCONC; i++) {
			printf("  %-7d %-10d", nclients[i],
			       nclients[i] + 1 + (h ? bench.handles : 0));
			print_conc_cells(h, i, reps);
		}
}

static double
state_fig(int what, int cond, int pl, int reps)
{
	return bench_median_all(state[what][cond][pl], reps);
}

static const char *const state_names[] = {"read 8 B", "open+close",
					  "first open in a new thread"};
static char state_what[2][ST_N][96];

static void
print_state(int reps)
{
	double v[COND_N];
	int w, pl, c;

	printf("\ncost per request against the population, p50 us (x: to "
	       "1 file, 1 scheme)\n");
	printf("  %-28s %-9s %8s %17s %17s\n", "", "", "1 file", "+files",
	       "+schemes");
	printf("  %-28s %-9s %8s %8d %8s %8d\n", "", "", "", bench.handles, "",
	       bench.schemes);
	for (w = 0; w < ST_N; w++)
		for (pl = 0; pl < BENCH_NPLACE; pl++) {
			for (c = 0; c < COND_N; c++)
				v[c] = state_fig(w, c, pl, reps);
			printf("  %-28s %-9s %8.1f %8.1f %7.2fx %8.1f %7.2fx\n",
			       pl ? "" : state_names[w],
			       pl ? "unpinned" : "one CPU", v[0],
			       v[COND_HANDLES], v[COND_HANDLES] / v[0],
			       v[COND_SCHEMES], v[COND_SCHEMES] / v[0]);
		}
	for (w = 0; w < ST_N - 1; w++) {
		snprintf(state_what[0][w], sizeof(state_what[0][w]),
			 "one CPU: %s, %d files / 1", state_names[w],
			 bench.handles);
		snprintf(state_what[1][w], sizeof(state_what[1][w]),
			 "one CPU: %s, %d schemes / 1", state_names[w],
			 bench.schemes);
		v[0] = state_fig(w, COND_BASE, 0, reps);
		bench_target(state_what[0][w],
			     state_fig(w, COND_HANDLES, 0, reps) / v[0], 1.25,
			     "must not grow; 25% for noise");
		bench_target(state_what[1][w],
			     state_fig(w, COND_SCHEMES, 0, reps) / v[0], 1.25,
			     "must not grow; 25% for noise");
	}
}

void
bench_scale(void)
{
	int reps = bench.repeats < 3 ? bench.repeats : 3, r, p, pl;

	ends = mmap(NULL, MAXCLIENTS * sizeof(*ends), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ends == MAP_FAILED)
		bench_die("mmap");
	bench_raise_nofile();
	for (r = 0; r < reps; r++)
		for (p = 0; p < BENCH_NPLACE; p++) {
			pl = r % 2 ? BENCH_NPLACE - 1 - p : p;
			bench_place(pl);
			one_repeat(r, pl);
		}
	bench_place(BENCH_UNPINNED);
	print_conc(reps);
	print_state(reps);
	munmap(ends, MAXCLIENTS * sizeof(*ends));
}
