/*
 * bench.h - what the parts of bench share: the clock, where processes
 * run, medians, helper processes and the table of targets.
 *
 * Every part runs in the bench process under the preload (bench.c
 * re-executes itself for that), forks its servers and providers from it,
 * and times the calls it makes itself.  A part measures each variant with
 * every process pinned to CPU 0 and with every process free to run on any
 * CPU, interleaving the variants within a repeat; its figure is the
 * median of the repeats' medians.
 */
#ifndef TOOLS_BENCH_H
#define TOOLS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAXLAT (1 << 20)

enum { BENCH_ONE_CPU, BENCH_UNPINNED, BENCH_NPLACE };

/* A page shared with the children: their timings come back in it. */
struct shared {
	volatile uint64_t t0; /* when the post or write was made (ns) */
	volatile int ready;   /* the provider's scheme is up */
	uint64_t lat[BENCH_MAXLAT];
};

/* How long each part runs; --quick makes them small (CI). */
struct bench_opts {
	int quick;
	int iters;   /* events: wake-ups per repeat */
	int repeats; /* events, round trips */
	int rt;	     /* round trips per variant per repeat */
	int handles; /* open files held for scale and memory */
	int schemes; /* schemes registered for scale */
	int total;   /* requests per scale run, over all clients */
};

extern struct bench_opts bench;
extern struct shared *sh;

uint64_t bench_now(void);
uint64_t bench_thread_oc(const char *path); /* bench_scale.c */
void bench_place(int placement);
void bench_place_pid(pid_t pid, int placement);
void bench_die(const char *what);
double bench_median_us(uint64_t *v, int n);
double bench_pct_us(uint64_t *v, int n, double pct);
double bench_median_of(double *v, int n);
double bench_median_all(double *v, int n);
void bench_cell(double v, int ratio, int w);
const char *bench_dir(void);
const char *bench_preload(void);
void bench_raise_nofile(void);
long bench_rss_kb(pid_t pid);
int bench_wait_ready(int fd, int n);
int bench_path_ready(const char *path, pid_t pid);
void bench_tie(pid_t parent, int sig);
void bench_kill(pid_t pid);

/* A line of the final table: ratio against its limit, PASS or MISS. */
void bench_target(const char *what, double ratio, double limit,
		  const char *basis);
void bench_targets_print(void);

/* The minimal provider (bench_prov.c). */
pid_t bprov_start(const char *name);
pid_t bprov_start_old(const char *name);

/*
 * FUSE (bench_fuse.c): a mount at dir, single- or multi-threaded loop;
 * bfuse_stop() also stops bench_view.c's scheme-fuse daemons.
 */
struct bfuse {
	pid_t pid;
	char dir[256];
	char file[300];
};
int bfuse_start(struct bfuse *f, int mt);
void bfuse_stop(struct bfuse *f);
const char *bfuse_skip(void);
const char *bfuse_version(void);
void bfuse_cleanup(const char *dir);
int bfuse_ready(struct bfuse *f, int fd);

/*
 * The passthrough file system of `bench tree` (bench_ptfs.c): src mounted
 * at <bench dir>/ptfs, stopped with bfuse_stop(); the daemon is bench run
 * again without the preload, which calls bench_ptfs_child().
 */
int ptfs_start(struct bfuse *f, const char *src);
int bench_ptfs_child(int argc, char **argv);
void btree_cleanup(const char *dir);

/* The parts. */
void bench_events(void);
void bench_timers(void);
void bench_rtt(int want_scheme, int want_fuse);
void bench_scale(void);
void bench_memory(void);
void bench_view(void);
void bench_trace(void);
void bench_tree(void);
void bench_rawsys(void);
int bench_rawsys_child(void);
int bench_zero_child(void);

#endif
