/*
 * bench_rawsys.c - what a system call made by a program's own `syscall`
 * instruction costs through the preload's trap (see bench.c).
 *
 * A child (bench run again, SCHEME_BENCH_RAWSYS set) runs under the
 * preload with SCHEME_RAWSYS=trap: it times statx of a scheme path (the
 * minimal provider's file) and of an ordinary file, each made by its own
 * instruction (trapped: syscall user dispatch, SIGSYS, served by the
 * preload) and through libc's statx() (not trapped), interleaved, and
 * writes the four medians to its stdout.  The target: the
 * trapped call on a scheme path at most 2x the same call through libc.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MAXREP 32

enum var { V_TRAP, V_LIBC, V_N };
enum file { F_SCHEME, F_DISK, F_N };

static const char *const var_names[V_N] = {"own instruction, trapped",
					   "libc's statx()"};
static const char *const file_names[F_N] = {"scheme path", "ordinary file"};

static double res[F_N][V_N][BENCH_NPLACE][MAXREP];

/* statx by a `syscall` instruction of this file's, outside libc. */
static long
own_statx(const char *path, struct statx *stx)
{
	register long r10 __asm__("r10") = STATX_BASIC_STATS;
	register long r8 __asm__("r8") = (long)stx;
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"((long)SYS_statx), "D"((long)AT_FDCWD), "S"(path),
			   "d"(0L), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return r;
}

static int
once(enum var v, const char *path)
{
	struct statx stx;

	if (v == V_TRAP)
		return own_statx(path, &stx) == 0 ? 0 : -1;
	return statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx);
}

static double
time_var(enum var v, const char *path, uint64_t *lat, int n)
{
	for (int i = 0; i < n / 10 + 5; i++)
		if (once(v, path) < 0)
			return -1;
	for (int i = 0; i < n; i++) {
		uint64_t t = bench_now();

		if (once(v, path) < 0)
			return -1;
		lat[i] = bench_now() - t;
	}
	return bench_median_us(lat, n);
}

/* The child: SCHEME_BENCH_RAWSYS is "N SCHEMEPATH DISKPATH". */
int
bench_rawsys_child(void)
{
	const char *arg = getenv("SCHEME_BENCH_RAWSYS");
	char paths[F_N][256];
	double f[F_N][V_N];
	uint64_t *lat;
	int n;

	if (arg == NULL ||
	    sscanf(arg, "%d %255s %255s", &n, paths[0], paths[1]) != 3 ||
	    n <= 0 || (lat = calloc((size_t)n, sizeof(*lat))) == NULL)
		return 2;
	for (int k = 0; k < F_N * V_N; k++) /* the order alternates */
		f[k / V_N][k % V_N] =
		    time_var((enum var)(k % V_N), paths[k / V_N], lat, n);
	for (int k = 0; k < F_N * V_N; k++)
		printf("%f\n", f[k / V_N][k % V_N]);
	return 0;
}

/* One child run at the placement the caller set: 0, or -1. */
static int
run_child(const char *scheme, const char *disk, double out[F_N][V_N])
{
	char arg[600], exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int p[2], st;
	pid_t pid;
	FILE *in;

	if (n < 0 || pipe(p) < 0)
		return -1;
	exe[n] = '\0';
	snprintf(arg, sizeof(arg), "%d %s %s", bench.rt, scheme, disk);
	if ((pid = fork()) < 0)
		bench_die("fork");
	if (pid == 0) {
		dup2(p[1], 1);
		setenv("SCHEME_BENCH_RAWSYS", arg, 1);
		setenv("SCHEME_RAWSYS", "trap", 1);
		setenv("LD_PRELOAD", bench_preload(), 1);
		if (SCHEME_ASAN_RUNTIME[0] != '\0')
			/* LeakSanitizer's own calls are outside libc: they
			 * trap, and its thread-stopping does not survive it */
			setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		execl(exe, "bench", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	in = fdopen(p[0], "r");
	for (int k = 0; k < F_N * V_N; k++)
		if (in == NULL ||
		    fscanf(in, "%lf", &out[k / V_N][k % V_N]) != 1)
			out[k / V_N][k % V_N] = -1;
	if (in != NULL)
		fclose(in);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void
bench_rawsys(void)
{
	static double f[F_N][V_N][BENCH_NPLACE];
	int reps = bench.repeats < MAXREP ? bench.repeats : MAXREP;
	char scheme[64], disk[300];
	double one[F_N][V_N];
	pid_t prov;
	int fd;

	snprintf(disk, sizeof(disk), "%s/rawsys.file", bench_dir());
	if ((fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		bench_die(disk);
	close(fd);
	for (int r = 0; r < reps; r++)
		for (int q = 0; q < BENCH_NPLACE; q++) {
			int pl = r % 2 ? BENCH_NPLACE - 1 - q : q;

			bench_place(pl);
			snprintf(scheme, sizeof(scheme), "benchrs%d%d", r, pl);
			prov = bprov_start(scheme);
			strcat(scheme, ":file");
			if (run_child(scheme, disk, one) < 0)
				bench_die("the rawsys child");
			bench_kill(prov);
			for (int i = 0; i < F_N; i++)
				for (int v = 0; v < V_N; v++)
					res[i][v][pl][r] = one[i][v];
		}
	bench_place(BENCH_UNPINNED);
	unlink(disk);
	for (int i = 0; i < F_N; i++)
		for (int v = 0; v < V_N; v++)
			for (int p = 0; p < BENCH_NPLACE; p++)
				f[i][v][p] =
				    bench_median_of(res[i][v][p], reps);
	printf("\nstatx made by the program's own instruction (SCHEME_RAWSYS="
	       "trap)\nagainst libc's statx(): median of %d repeats' medians "
	       "of %d; us;\nx: to libc's, in the same repeat\n",
	       reps, bench.rt);
	printf("  %-40s %15s  %15s\n", "", "one CPU", "unpinned");
	for (int i = 0; i < F_N; i++)
		for (int v = 0; v < V_N; v++) {
			printf("  %-13s %-26s", file_names[i], var_names[v]);
			for (int p = 0; p < BENCH_NPLACE; p++) {
				bench_cell(f[i][v][p], 0, 7);
				if (v == V_TRAP)
					printf(" %6.2fx",
					       f[i][v][p] / f[i][V_LIBC][p]);
				else
					printf(" %7s", "");
				printf(p == 0 ? " " : "\n");
			}
		}
	bench_target("one CPU: trapped statx of a scheme path / libc's",
		     f[F_SCHEME][V_TRAP][BENCH_ONE_CPU] /
			 f[F_SCHEME][V_LIBC][BENCH_ONE_CPU],
		     2.0, "issue 16's target");
}
