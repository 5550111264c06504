/*
 * bench - figures and ratios against baselines measured in the same run.
 *
 *	bench [--quick] [rtt] [fuse] [scale] [memory] [events] [timers] [view]
 *	      [trace] [tree] [rawsys]
 *	bench --help | --version
 *
 * With no part named, all of them run.
 *
 * rtt: round trips of one request and its answer, against a pipe round
 * trip (the floor): read and write of 8 bytes and of 64 KiB and
 * open+close on a scheme served by a minimal plain-C provider, and an
 * ordinary one-byte read() of /dev/zero with and without the preload.
 * fuse: the same operations on a minimal low-level libfuse file system
 * that the tool mounts itself, with the single- and the multi-threaded
 * loop (skipped, saying why, without libfuse or /dev/fuse).  Run
 * together, rtt and fuse interleave and their targets compare them.
 * scale: 1, 2, 8 and 64 concurrent clients against one provider
 * (throughput, p50 and p99), and the cost of a request with 10,000 open
 * files or 1,000 registered schemes against one of each.
 * memory: resident memory of the broker, the provider and the client
 * before and after 10,000 files are opened.
 * events: the latency from a provider's post (SYS_FEVENT) to the wake-up
 * of a consumer blocked in read() on an event: queue, against a pipe
 * write waking a process blocked in epoll_wait().
 * timers: how late a time:4 deadline's event arrives on an event: queue,
 * against a timerfd armed for the same absolute time and read directly.
 * view: read, open+close and stat through the kernel-visible view
 * (scheme-fuse), against the preload and the minimal FUSE file system
 * (bench_view.c).
 * trace: read and open+close on a scheme `schemectl trace` traces,
 * against one nobody traces (bench_trace.c).
 * tree: everyday commands (find, ls -lR, du, grep -r, tar, cat, cp -r and
 * rm -rf) on a tree of 1,000 files of 4 KiB and one of 64 MiB, on the
 * local disk, on a passthrough FUSE file system over it (bench_ptfs.c)
 * and on a scheme served by scheme-memfs (bench_tree.c).
 * rawsys: statx of a scheme path and of an ordinary file made by the
 * program's own `syscall` instruction, trapped and served by the preload
 * (SCHEME_RAWSYS=trap), against libc's statx() (bench_rawsys.c).
 *
 * Each figure is measured with every process pinned to CPU 0 and with
 * every process free to run anywhere; the variants are interleaved within
 * each repeat and the figure is the median of the repeats' medians.  The
 * tool starts its own broker on a socket in a temporary directory and
 * runs its parts under the preload (it re-executes itself for them).  It
 * asserts nothing: it prints, and the targets' PASS or MISS is
 * information, never the exit status.  --quick runs few iterations and
 * smaller populations (CI).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../proto/wire/sockpath.h"
#include "bench.h"
#include "cli.h"
#include "paths.h"

struct bench_opts bench = {
    .iters = 4000,
    .repeats = 7,
    .rt = 3000,
    .handles = 10000,
    .schemes = 1000,
    .total = 40000,
};
struct shared *sh;

static struct {
	const char *what, *basis;
	double ratio, limit;
} targets[32];
static int ntargets;

uint64_t
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
set_affinity(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0) {
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	} else {
		CPU_SET(cpu, &set);
	}
	sched_setaffinity(pid, sizeof(set), &set);
}

/*
 * Every thread of a process that was started before the placement was
 * chosen (the broker, a daemon a part keeps across placements); threads
 * it makes later inherit the affinity of the one making them.
 */
void
bench_place_pid(pid_t pid, int placement)
{
	int cpu = placement == BENCH_ONE_CPU ? 0 : -1;
	struct dirent *de;
	char path[64];
	DIR *d;

	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			set_affinity(atoi(de->d_name), cpu);
	closedir(d);
}

/*
 * Pin this process (and so every child it forks from now on) and the
 * broker to CPU 0, or free them all.
 */
void
bench_place(int placement)
{
	const char *b = getenv("SCHEME_BENCH_BROKER");

	set_affinity(0, placement == BENCH_ONE_CPU ? 0 : -1);
	if (b != NULL)
		bench_place_pid(atoi(b), placement);
}

void
bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The pct-th percentile of n samples in ns, in µs (v is sorted). */
double
bench_pct_us(uint64_t *v, int n, double pct)
{
	int i = (int)(pct / 100.0 * (double)(n - 1) + 0.5);

	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (double)v[i] / 1000.0;
}

double
bench_median_us(uint64_t *v, int n)
{
	return bench_pct_us(v, n, 50);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_median_of(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* The median of n repeats' figures, or -1 if one is missing (< 0). */
double
bench_median_all(double *v, int n)
{
	for (int i = 0; i < n; i++)
		if (v[i] < 0)
			return -1;
	return bench_median_of(v, n);
}

/* A table cell w wide: a figure, a ratio (with its x), or - for none. */
void
bench_cell(double v, int ratio, int w)
{
	if (v <= 0)
		printf(" %*s", w, "-");
	else if (ratio)
		printf(" %*.2fx", w - 1, v);
	else
		printf(" %*.1f", w, v);
}

const char *
bench_dir(void)
{
	const char *d = getenv("SCHEME_BENCH_DIR");

	return d != NULL ? d : "/tmp";
}

/* The preload as launch() set it (helpers run with and without it). */
const char *
bench_preload(void)
{
	const char *p = getenv("SCHEME_BENCH_PRELOAD");

	return p != NULL ? p : "";
}

void
bench_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Resident memory of pid in KiB, or -1. */
long
bench_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Up to five seconds for path to appear (a scheme registered, a file
 * system mounted) while pid, which makes it, lives.
 */
int
bench_path_ready(const char *path, pid_t pid)
{
	struct timespec ms = {0, 1000000};
	struct stat st;

	for (int i = 0; i < 5000; i++) {
		if (stat(path, &st) == 0)
			return 1;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 0;
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* n children say they are ready by a byte each; EOF means one failed. */
int
bench_wait_ready(int fd, int n)
{
	char c;
	ssize_t r;

	while (n > 0) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			return -1;
		n--;
	}
	return 0;
}

/*
 * In a child just forked from parent: signal sig when parent ends, so
 * that a helper does not outlive a run stopped by ^C or killed (a FUSE
 * daemon told SIGTERM unmounts).  A parent already gone ends it at once.
 */
void
bench_tie(pid_t parent, int sig)
{
	if (prctl(PR_SET_PDEATHSIG, sig) < 0 || getppid() != parent)
		_exit(126);
}

void
bench_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void
bench_target(const char *what, double ratio, double limit, const char *basis)
{
	if (ntargets == (int)(sizeof(targets) / sizeof(targets[0])))
		return;
	targets[ntargets].what = what;
	targets[ntargets].basis = basis;
	targets[ntargets].ratio = ratio;
	targets[ntargets++].limit = limit;
}

void
bench_targets_print(void)
{
	int i;

	if (ntargets == 0)
		return;
	printf("\ntargets (ratios from this run; information only)\n");
	printf("  %-50s %8s %8s\n", "", "ratio", "limit");
	for (i = 0; i < ntargets; i++) {
		if (targets[i].ratio <= 0) {
			printf("  %-50s %8s %7.2fx  n/a: %s\n", targets[i].what,
			       "-", targets[i].limit, targets[i].basis);
			continue;
		}
		printf("  %-50s %7.2fx %7.2fx  %s  (%s)\n", targets[i].what,
		       targets[i].ratio, targets[i].limit,
		       targets[i].ratio <= targets[i].limit ? "PASS" : "MISS",
		       targets[i].basis);
	}
}

static void
cpu_model(char *buf, size_t len)
{
	char line[512], *p;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown CPU");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "model name", 10) == 0 &&
		    (p = strchr(line, ':')) != NULL) {
			p += strspn(p, ": \t");
			p[strcspn(p, "\n")] = '\0';
			snprintf(buf, len, "%s", p);
			break;
		}
	fclose(f);
}

static void
machine(void)
{
	char model[256], load[64] = "?";
	struct utsname u;
	FILE *f;

	uname(&u);
	cpu_model(model, sizeof(model));
	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(load, sizeof(load), f) != NULL)
			load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	printf("machine: %s %s %s %s, %ld CPUs online, %s\n", u.nodename,
	       u.sysname, u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN),
	       model);
	printf("load average at start: %s\n", load);
	printf("method: median of %d repeats' medians, variants interleaved;"
	       " \"one CPU\" pins every\nprocess (and the broker) to CPU 0 "
	       "with sched_setaffinity, \"unpinned\" allows all CPUs\n",
	       bench.repeats);
}

static pid_t
start_broker(const char *schemed, const char *sock)
{
	pid_t broker = fork();
	int i, fd;

	if (broker == 0) {
		int log = open("/dev/null", O_WRONLY);

		dup2(log, 2); /* its log would only interleave with ours */
		execl(schemed, "schemed", "--socket", sock, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if ((fd = sockpath_connect(sock)) >= 0) {
			close(fd);
			break;
		}
		usleep(10000);
	}
	return broker;
}

static volatile sig_atomic_t run_pid;

static void
forward(int sig)
{
	if (run_pid > 0)
		kill((pid_t)run_pid, sig);
}

/*
 * ^C, SIGTERM or SIGHUP stop the run, not us: we pass them on (the
 * terminal has already sent ^C to the whole group) and still tidy up
 * after it.  A signal we were started ignoring stays ignored.
 */
static void
forward_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};
	struct sigaction old;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

/* Start a broker of our own, then run ourselves again under the preload. */
static int
launch(char **argv)
{
	char lib[4096], schemed[4096], dir[] = "/tmp/scheme-bench-XXXXXX";
	char sock[128], pre[8192], num[32];
	pid_t broker, pid;
	int st;

	if (paths_find(lib, sizeof(lib), PATHS_PRELOAD) < 0 ||
	    paths_find(schemed, sizeof(schemed), PATHS_SCHEMED) < 0 ||
	    mkdtemp(dir) == NULL)
		bench_die("finding the preload and schemed");
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	setenv("SCHEME_SOCKET", sock, 1);
	broker = start_broker(schemed, sock);
	snprintf(pre, sizeof(pre), "%s%s%s", SCHEME_ASAN_RUNTIME,
		 SCHEME_ASAN_RUNTIME[0] ? ":" : "", lib);
	snprintf(num, sizeof(num), "%d", (int)broker);
	setenv("SCHEME_BENCH_BROKER", num, 1);
	setenv("SCHEME_BENCH_DIR", dir, 1);
	setenv("SCHEME_BENCH_PRELOAD", pre, 1);
	setenv("LD_PRELOAD", pre, 1);
	setenv("SCHEME_BENCH_CHILD", "1", 1);
	/*
	 * scale's 10,000 open files are one process's: its providers must
	 * not cap a process at its share of their fds (proto/serve.h).
	 */
	setenv("SCHEME_MAX_HANDLES", "1000000", 1);
	fflush(stdout);
	forward_signals();
	pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	run_pid = pid;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	bfuse_cleanup(dir); /* mounts a crashed run may have left */
	btree_cleanup(dir); /* and the tree's files */
	kill(broker, SIGTERM);
	waitpid(broker, NULL, 0);
	unlink(sock);
	rmdir(dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

enum {
	PART_RTT = 1,
	PART_FUSE = 2,
	PART_SCALE = 4,
	PART_MEMORY = 8,
	PART_EVENTS = 16,
	PART_TIMERS = 32,
	PART_VIEW = 64,
	PART_TRACE = 128,
	PART_TREE = 256,
	PART_RAWSYS = 512
};

static const char *const part_names[] = {"rtt",	   "fuse",   "scale",
					 "memory", "events", "timers",
					 "view",   "trace",  "tree",
					 "rawsys"};
#define NPARTS (int)(sizeof(part_names) / sizeof(part_names[0]))

static void
quick(void)
{
	bench.quick = 1;
	bench.iters = 300;
	bench.repeats = 3;
	bench.rt = 200;
	bench.handles = 1000;
	bench.schemes = 100;
	bench.total = 2000;
}

static const char usage_text[] =
    "usage: bench [--quick] [PART...]\n"
    "Figures and ratios against baselines measured in the same run; it\n"
    "starts its own broker and providers (and a FUSE file system, with\n"
    "libfuse3 and /dev/fuse).  With no PART named, all of them run:\n"
    "\n"
    "  rtt     round trips: read, write, open+close, against a pipe\n"
    "  fuse    the same on a minimal libfuse file system\n"
    "  scale   1 to 64 clients against one provider; 10,000 files open\n"
    "  memory  resident memory of the broker, provider and client\n"
    "  events  a provider's post to an event: reader's wake-up\n"
    "  timers  how late a time:4 deadline arrives\n"
    "  view    the kernel-visible view (scheme-fuse) against the preload\n"
    "          and FUSE\n"
    "  trace   what schemectl trace costs a traced scheme\n"
    "  tree    find, ls -lR, du, grep, tar, cat, cp on a tree of files:\n"
    "          native, FUSE passthrough, scheme-memfs\n"
    "  rawsys  statx by the program's own instruction, through the\n"
    "          preload's trap, against libc's statx()\n"
    "\n"
    "  -q, --quick    few iterations and small populations (CI)\n"
    "  -h, --help     print this and exit\n"
    "  -V, --version  print the version and exit\n"
    "\n"
    "PASS and MISS are information: the exit status is 0 unless the\n"
    "run itself fails (2: usage).\n";

static int
parse(int argc, char **argv, int *parts)
{
	int i, k;

	*parts = 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			cli_help();
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0)
			cli_version();
		if (strcmp(argv[i], "--quick") == 0 ||
		    strcmp(argv[i], "-q") == 0) {
			quick();
			continue;
		}
		for (k = 0; k < NPARTS && strcmp(argv[i], part_names[k]) != 0;
		     k++)
			;
		if (k == NPARTS)
			cli_usage_error(argv[i][0] == '-'
					    ? "unknown option '%s'"
					    : "unknown part '%s'",
					argv[i]);
		*parts |= 1 << k;
	}
	if (*parts == 0)
		*parts = (1 << NPARTS) - 1;
	return 0;
}

int
main(int argc, char **argv)
{
	int parts;

	cli_init("bench", usage_text);
	if (getenv("SCHEME_BENCH_ZERO") != NULL)
		return bench_zero_child();
	if (getenv("SCHEME_BENCH_RAWSYS") != NULL)
		return bench_rawsys_child();
	if (getenv("SCHEME_BENCH_PTFS") != NULL)
		return bench_ptfs_child(argc, argv);
	if (parse(argc, argv, &parts) < 0)
		return 2;
	if (getenv("SCHEME_BENCH_CHILD") == NULL)
		return launch(argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		bench_die("mmap");
	setvbuf(stdout, NULL, _IOLBF, 0);
	machine();
	if (parts & (PART_RTT | PART_FUSE))
		bench_rtt(parts & PART_RTT, parts & PART_FUSE);
	if (parts & PART_SCALE)
		bench_scale();
	if (parts & PART_MEMORY)
		bench_memory();
	if (parts & PART_EVENTS)
		bench_events();
	if (parts & PART_TIMERS)
		bench_timers();
	if (parts & PART_VIEW)
		bench_view();
	if (parts & PART_TRACE)
		bench_trace();
	if (parts & PART_TREE)
		bench_tree();
	if (parts & PART_RAWSYS)
		bench_rawsys();
	bench_targets_print();
	return 0;
}
