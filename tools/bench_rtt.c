/*
 * bench_rtt.c - round trips: a pipe (the floor), a scheme, FUSE, and an
 * ordinary read() with and without the preload (see bench.c).
 *
 * Each repeat starts, for each placement, a pipe echo server, a provider
 * and the two FUSE daemons (the children inherit the placement), times
 * every variant one after the other, and stops them.  A variant's figure
 * for a repeat is the median of its round trips, each timed on its own;
 * the figure printed is the median over the repeats.
 *
 * The pipe server answers an 8-byte request {op, length}: with `length`
 * bytes for a read, with 8 bytes for a write (whose data follows the
 * request).  Its pipes hold 256 KiB, as the scheme's sockets hold a whole
 * message, so that no 64 KiB transfer is cut in two by a full buffer.
 *
 * The ordinary read() is timed in two helper processes, this program run
 * again with LD_PRELOAD empty and with the preload, by batches of 1000
 * one-byte reads of /dev/zero (one call is too short to time alone); the
 * two take turns batch by batch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define BIG	  (64 * 1024)
#define PIPE_SIZE (256 * 1024)
#define ZBATCH	  1000

enum op {
	OP_R8,
	OP_R64,
	OP_W8,
	OP_W64,
	OP_OC,
	OP_STAT,
	OP_FIRST, /* open+close, a new thread's first */
	OP_P8,	  /* pread: one SYS_READ2 */
	OP_P64,
	OP_OLD8, /* pread of a provider without it: seek, read, seek */
	OP_OLD64,
	OP_BARE,
	OP_PRELOADED
};
enum src { SRC_PIPE, SRC_SCHEME, SRC_FUSE1, SRC_FUSEM, SRC_ZERO, SRC_N };

struct row {
	enum src src;
	enum op op;
	const char *name;
};

static const struct row rows[] = {
    {SRC_PIPE, OP_R8, "pipe 8 B -> 8 B (the floor)"},
    {SRC_PIPE, OP_R64, "pipe 8 B -> 64 KiB"},
    {SRC_PIPE, OP_W64, "pipe 64 KiB -> 8 B"},
    {SRC_SCHEME, OP_R8, "scheme read 8 B"},
    {SRC_SCHEME, OP_R64, "scheme read 64 KiB"},
    {SRC_SCHEME, OP_W8, "scheme write 8 B"},
    {SRC_SCHEME, OP_W64, "scheme write 64 KiB"},
    {SRC_SCHEME, OP_OC, "scheme open+close"},
    {SRC_SCHEME, OP_FIRST, "scheme open+close, a thread's first"},
    {SRC_SCHEME, OP_STAT, "scheme stat of a path"},
    {SRC_SCHEME, OP_P8, "scheme pread 8 B"},
    {SRC_SCHEME, OP_P64, "scheme pread 64 KiB"},
    {SRC_SCHEME, OP_OLD8, "scheme pread 8 B, no READ2"},
    {SRC_SCHEME, OP_OLD64, "scheme pread 64 KiB, no READ2"},
    {SRC_FUSE1, OP_R8, "FUSE 1 thread: read 8 B"},
    {SRC_FUSE1, OP_R64, "FUSE 1 thread: read 64 KiB"},
    {SRC_FUSE1, OP_W8, "FUSE 1 thread: write 8 B"},
    {SRC_FUSE1, OP_W64, "FUSE 1 thread: write 64 KiB"},
    {SRC_FUSE1, OP_OC, "FUSE 1 thread: open+close"},
    {SRC_FUSE1, OP_STAT, "FUSE 1 thread: stat (attributes cached)"},
    {SRC_FUSEM, OP_R8, "FUSE multi-threaded: read 8 B"},
    {SRC_FUSEM, OP_R64, "FUSE multi-threaded: read 64 KiB"},
    {SRC_FUSEM, OP_W8, "FUSE multi-threaded: write 8 B"},
    {SRC_FUSEM, OP_W64, "FUSE multi-threaded: write 64 KiB"},
    {SRC_FUSEM, OP_OC, "FUSE multi-threaded: open+close"},
    {SRC_FUSEM, OP_STAT, "FUSE multi-threaded: stat (cached)"},
    {SRC_ZERO, OP_BARE, "read() 1 B of /dev/zero, no preload (ns)"},
    {SRC_ZERO, OP_PRELOADED, "read() 1 B of /dev/zero, preload (ns)"},
};
#define NROWS  (int)(sizeof(rows) / sizeof(rows[0]))
#define MAXREP 32

/* A process timing reads of /dev/zero on demand. */
struct zhelper {
	pid_t pid;
	int cmd, rep;
};

/* What the clients talk to in one repeat at one placement. */
struct world {
	int req, rep; /* the pipe server's request and reply pipes */
	pid_t pipe_pid, prov_pid, old_pid;
	char scheme[64], old[68]; /* old: its provider serves no READ2 */
	int sfd, ofd, ffd[2];
	struct bfuse fuse[2];
	int have_fuse[2];
	struct zhelper zero[2]; /* without and with the preload */
	double zero_ns[2];	/* their figures, once measured */
	double zero_p10[2];	/* and their fastest tenth of batches */
};

static char buf[PIPE_SIZE];
static double res[NROWS][BENCH_NPLACE][MAXREP];
static double zfast[BENCH_NPLACE][MAXREP]; /* preload / none, fastest */
static int want[SRC_N];

static int
readn(int fd, char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
pipe_server(int req, int rep)
{
	uint32_t hdr[2];

	for (;;) {
		if (readn(req, (char *)hdr, sizeof(hdr)) < 0)
			_exit(0);
		if (hdr[0] == OP_W64 && readn(req, buf, hdr[1]) < 0)
			_exit(1);
		if (write(rep, buf, hdr[0] == OP_R64 ? hdr[1] : 8) < 0)
			_exit(1);
	}
}

static void
pipe_start(struct world *w)
{
	int a[2], b[2];

	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
		bench_die("pipe");
	fcntl(a[1], F_SETPIPE_SZ, PIPE_SIZE);
	fcntl(b[1], F_SETPIPE_SZ, PIPE_SIZE);
	w->pipe_pid = fork();
	if (w->pipe_pid < 0)
		bench_die("fork");
	if (w->pipe_pid == 0) {
		close(a[1]);
		close(b[0]);
		pipe_server(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	w->req = a[1];
	w->rep = b[0];
}

static int
op_pipe(struct world *w, enum op op)
{
	uint32_t *hdr = (uint32_t *)buf;
	size_t out = 8, in = 8;

	hdr[0] = op;
	hdr[1] = op == OP_W8 ? 8 : BIG;
	if (op == OP_W64)
		out += BIG;
	if (op == OP_R64)
		in = BIG;
	if (write(w->req, buf, out) != (ssize_t)out)
		return -1;
	return readn(w->rep, buf, in);
}

static int
op_file(int fd, const char *path, enum op op)
{
	struct stat st;
	int f;

	switch (op) {
	case OP_R8:
		return read(fd, buf, 8) == 8 ? 0 : -1;
	case OP_R64:
		return read(fd, buf, BIG) == BIG ? 0 : -1;
	case OP_W8:
		return write(fd, buf, 8) == 8 ? 0 : -1;
	case OP_W64:
		return write(fd, buf, BIG) == BIG ? 0 : -1;
	case OP_STAT:
		return stat(path, &st);
	case OP_P8:
	case OP_OLD8:
		return pread(fd, buf, 8, 4096) == 8 ? 0 : -1;
	case OP_P64:
	case OP_OLD64:
		return pread(fd, buf, BIG, 4096) == BIG ? 0 : -1;
	default:
		if ((f = open(path, O_RDONLY)) < 0)
			return -1;
		return close(f);
	}
}

static int
op_once(struct world *w, const struct row *r)
{
	char path[300];

	switch (r->src) {
	case SRC_PIPE:
		return op_pipe(w, r->op);
	case SRC_SCHEME:
		snprintf(path, sizeof(path), "%s:file", w->scheme);
		return op_file(r->op == OP_OLD8 || r->op == OP_OLD64 ? w->ofd
								     : w->sfd,
			       path, r->op);
	default:
		return op_file(w->ffd[r->src - SRC_FUSE1],
			       w->fuse[r->src - SRC_FUSE1].file, r->op);
	}
}

/*
 * One round trip, timed (ns).  A thread's first open is timed inside a
 * thread made for it (bench_thread_oc), its making and joining not.
 */
static int
timed(struct world *w, const struct row *r, uint64_t *ns)
{
	char path[300];
	uint64_t t;

	if (r->op == OP_FIRST) {
		snprintf(path, sizeof(path), "%s:file", w->scheme);
		*ns = bench_thread_oc(path);
		return *ns > 0 ? 0 : -1;
	}
	t = bench_now();
	if (op_once(w, r) < 0)
		return -1;
	*ns = bench_now() - t;
	return 0;
}

/* The median of n timed round trips after a few untimed ones, in µs. */
static double
time_row(struct world *w, const struct row *r)
{
	int i, n = bench.rt;

	for (i = 0; i < n / 10 + 5; i++)
		if (timed(w, r, &sh->lat[0]) < 0)
			return -1;
	for (i = 0; i < n; i++)
		if (timed(w, r, &sh->lat[i]) < 0)
			return -1;
	return bench_median_us(sh->lat, n);
}

/*
 * Helper process: on each byte from its command pipe, a batch of
 * one-byte reads of /dev/zero; it answers with the batch's ns.
 */
int
bench_zero_child(void)
{
	int fd = open("/dev/zero", O_RDONLY), i, cmd, rep;
	const char *fds = getenv("SCHEME_BENCH_ZERO");
	uint64_t t;
	char c;

	if (fd < 0 || sscanf(fds, "%d,%d", &cmd, &rep) != 2)
		return 1;
	while (read(cmd, &c, 1) == 1) {
		t = bench_now();
		for (i = 0; i < ZBATCH; i++)
			if (read(fd, &c, 1) != 1)
				return 1;
		t = bench_now() - t;
		if (write(rep, &t, sizeof(t)) != sizeof(t))
			return 1;
	}
	return 0;
}

/* A helper run with LD_PRELOAD empty or the preload's. */
static void
zero_start(struct zhelper *z, int preload)
{
	int cmd[2], rep[2];
	char fds[32];

	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0)
		bench_die("pipe");
	z->pid = fork();
	if (z->pid < 0)
		bench_die("fork");
	if (z->pid == 0) {
		fcntl(cmd[0], F_SETFD, 0);
		fcntl(rep[1], F_SETFD, 0);
		snprintf(fds, sizeof(fds), "%d,%d", cmd[0], rep[1]);
		setenv("SCHEME_BENCH_ZERO", fds, 1);
		setenv("LD_PRELOAD", preload ? bench_preload() : "", 1);
		execl("/proc/self/exe", "bench", (char *)NULL);
		_exit(127);
	}
	close(cmd[0]);
	close(rep[1]);
	z->cmd = cmd[1];
	z->rep = rep[0];
}

static void
zero_stop(struct zhelper *z)
{
	close(z->cmd);
	close(z->rep);
	waitpid(z->pid, NULL, 0);
}

static int
zero_batch(struct zhelper *z, uint64_t *ns)
{
	if (write(z->cmd, "b", 1) != 1)
		return -1;
	return readn(z->rep, (char *)ns, sizeof(*ns));
}

/*
 * ns per one-byte read without and with the preload.  The two helpers'
 * batches alternate, so that whatever else the machine does lands on
 * both alike; each figure is the median of its batches.
 */
static void
time_zero(struct world *w)
{
	int b, k, nb = bench.quick ? 100 : 600;
	uint64_t *lat[2] = {sh->lat, sh->lat + nb};

	for (b = 0; b < nb; b++)
		for (k = 0; k < 2; k++) {
			int h = b % 2 ? 1 - k : k;

			if (zero_batch(&w->zero[h], &lat[h][b]) < 0) {
				w->zero_ns[0] = w->zero_ns[1] = -1;
				return;
			}
		}
	for (k = 0; k < 2; k++) {
		w->zero_ns[k] = bench_median_us(lat[k], nb) / ZBATCH * 1000.0;
		w->zero_p10[k] = bench_pct_us(lat[k], nb, 10) / ZBATCH * 1000.0;
	}
}

static int
open_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
	return fd;
}

/*
 * The servers first, then the client's files: a server forked later
 * would hold copies of the files and pipes it has no business with.
 */
static void
world_start(struct world *w, int rep, int pl)
{
	char path[128];
	int i;

	memset(w, 0, sizeof(*w));
	w->sfd = w->ofd = w->ffd[0] = w->ffd[1] = -1;
	for (i = 0; i < 2; i++)
		if (want[SRC_FUSE1 + i] &&
		    !(w->have_fuse[i] = bfuse_start(&w->fuse[i], i) == 0))
			want[SRC_FUSE1 + i] = 0; /* it says why at the end */
	if (want[SRC_SCHEME]) {
		snprintf(w->scheme, sizeof(w->scheme), "benchrt%d%d", rep, pl);
		w->prov_pid = bprov_start(w->scheme);
		snprintf(w->old, sizeof(w->old), "%so", w->scheme);
		w->old_pid = bprov_start_old(w->old);
	}
	pipe_start(w);
	if (want[SRC_ZERO])
		for (i = 0; i < 2; i++)
			zero_start(&w->zero[i], i);
	if (want[SRC_SCHEME]) {
		snprintf(path, sizeof(path), "%s:file", w->scheme);
		w->sfd = open_file(path);
		snprintf(path, sizeof(path), "%s:file", w->old);
		w->ofd = open_file(path);
	}
	for (i = 0; i < 2; i++)
		if (w->have_fuse[i])
			w->ffd[i] = open_file(w->fuse[i].file);
}

static void
world_stop(struct world *w)
{
	int i;

	close(w->req);
	close(w->rep);
	bench_kill(w->pipe_pid);
	if (w->sfd >= 0)
		close(w->sfd);
	bench_kill(w->prov_pid);
	if (w->ofd >= 0)
		close(w->ofd);
	bench_kill(w->old_pid);
	if (want[SRC_ZERO])
		for (i = 0; i < 2; i++)
			zero_stop(&w->zero[i]);
	for (i = 0; i < 2; i++) {
		if (w->ffd[i] >= 0)
			close(w->ffd[i]);
		if (w->have_fuse[i])
			bfuse_stop(&w->fuse[i]);
	}
}

static double
run_row(struct world *w, const struct row *r)
{
	if (!want[r->src])
		return -1;
	if (r->src == SRC_ZERO && w->zero_ns[0] == 0)
		time_zero(w); /* both rows at once */
	if (r->src == SRC_ZERO)
		return w->zero_ns[r->op == OP_PRELOADED];
	if (r->src == SRC_SCHEME && w->sfd < 0)
		return -1;
	if ((r->src == SRC_FUSE1 || r->src == SRC_FUSEM) &&
	    w->ffd[r->src - SRC_FUSE1] < 0)
		return -1;
	return time_row(w, r);
}

/*
 * One repeat at one placement: every row, in the opposite order on every
 * other repeat so that none is always first after a start.
 */
static void
run_world(int r, int pl)
{
	struct world w;
	int i, k;

	bench_place(pl);
	world_start(&w, r, pl);
	for (k = 0; k < NROWS; k++) {
		i = r % 2 ? NROWS - 1 - k : k;
		res[i][pl][r] = run_row(&w, &rows[i]);
	}
	zfast[pl][r] = w.zero_p10[0] > 0 ? w.zero_p10[1] / w.zero_p10[0] : -1;
	world_stop(&w);
}

static void
run_all(int reps)
{
	int r, p;

	for (r = 0; r < reps; r++)
		for (p = 0; p < BENCH_NPLACE; p++)
			run_world(r, r % 2 ? BENCH_NPLACE - 1 - p : p);
	bench_place(BENCH_UNPINNED);
}

/* A row's figure: the median of its repeats, or -1 if any failed. */
static double
fig(int row, int pl, int reps)
{
	for (int r = 0; r < reps; r++)
		if (res[row][pl][r] < 0)
			return -1;
	return bench_median_of(res[row][pl], reps);
}

static int
find(enum src src, enum op op)
{
	int i;

	for (i = 0; i < NROWS; i++)
		if (rows[i].src == src && rows[i].op == op)
			break;
	return i;
}

/* The row a row is compared with: the pipe carrying as much, or -1. */
static int
base_of(const struct row *r)
{
	if (r->src == SRC_ZERO)
		return r->op == OP_PRELOADED ? find(SRC_ZERO, OP_BARE) : -1;
	if (r->src == SRC_PIPE)
		return -1;
	if (r->op == OP_FIRST)
		return find(SRC_SCHEME, OP_OC); /* a later open */
	if (r->op == OP_P64 || r->op == OP_OLD64)
		return find(SRC_PIPE, OP_R64);
	if (r->op == OP_R64 || r->op == OP_W64)
		return find(SRC_PIPE, r->op);
	return find(SRC_PIPE, OP_R8);
}

/* FUSE's better loop for the same operation, or -1 if none ran. */
static double
fuse_best(double f[][BENCH_NPLACE], enum op op, int pl)
{
	double a = f[find(SRC_FUSE1, op)][pl], b = f[find(SRC_FUSEM, op)][pl];

	if (a < 0 || b < 0)
		return a < 0 ? b : a;
	return a < b ? a : b;
}

static void
print_row(int i, double f[][BENCH_NPLACE])
{
	const struct row *r = &rows[i];
	int b = base_of(r), pl;
	double fb;

	printf("  %-40s", r->name);
	for (pl = 0; pl < BENCH_NPLACE; pl++) {
		fb = r->src == SRC_SCHEME && r->op <= OP_OC
			 ? fuse_best(f, r->op, pl)
			 : -1;
		bench_cell(f[i][pl], 0, 8);
		bench_cell(b >= 0 && f[b][pl] > 0 ? f[i][pl] / f[b][pl] : -1, 1,
			   7);
		bench_cell(fb > 0 && f[i][pl] > 0 ? f[i][pl] / fb : -1, 1, 7);
		printf(pl == 0 ? "  " : "\n");
	}
}

static char basis[8][160];

static double
ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : -1;
}

static void
targets(double f[][BENCH_NPLACE], int reps)
{
	int pipe8 = find(SRC_PIPE, OP_R8), sr = find(SRC_SCHEME, OP_R8);
	int s64 = find(SRC_SCHEME, OP_R64), soc = find(SRC_SCHEME, OP_OC);
	int sf = find(SRC_SCHEME, OP_FIRST);
	int z0 = find(SRC_ZERO, OP_BARE), z1 = find(SRC_ZERO, OP_PRELOADED);
	double fo = fuse_best(f, OP_OC, 0), fr, f64, foc;

	if (!want[SRC_SCHEME])
		return; /* every target is about the scheme */
	bench_target("one CPU: scheme read 8 B / pipe round trip",
		     ratio(f[sr][0], f[pipe8][0]), 1.2, "the floor");
	bench_target("one CPU: scheme read 64 KiB / pipe of 64 KiB",
		     ratio(f[s64][0], f[find(SRC_PIPE, OP_R64)][0]), 2.0,
		     "pipe 8 B -> 64 KiB");
	if (fo > 0)
		snprintf(basis[0], sizeof(basis[0]), "FUSE's best here: %.2fx",
			 ratio(fo, f[pipe8][0]));
	else
		snprintf(basis[0], sizeof(basis[0]), "no FUSE to compare");
	bench_target("one CPU: scheme open+close / pipe round trip",
		     ratio(f[soc][0], f[pipe8][0]), 2.4, basis[0]);
	bench_target("one CPU: a thread's first open+close / a later one",
		     ratio(f[sf][0], f[soc][0]), 2.0, "thread made untimed");
	bench_target("unpinned: a thread's first open+close / a later one",
		     ratio(f[sf][1], f[soc][1]), 2.0, "thread made untimed");
	snprintf(basis[4], sizeof(basis[4]), "fastest tenth of batches: %.2fx",
		 bench_median_of(zfast[0], reps));
	bench_target("one CPU: read() of /dev/zero, preload / none",
		     ratio(f[z1][0], f[z0][0]), 1.05, basis[4]);
	fr = fuse_best(f, OP_R8, 1);
	f64 = fuse_best(f, OP_R64, 1);
	foc = fuse_best(f, OP_OC, 1);
	snprintf(basis[1], sizeof(basis[1]), "FUSE %.1f us", fr);
	snprintf(basis[2], sizeof(basis[2]), "FUSE %.1f us", f64);
	snprintf(basis[3], sizeof(basis[3]), "FUSE %.1f us", foc);
	bench_target("unpinned: scheme read 8 B / FUSE's best loop",
		     ratio(f[sr][1], fr), 1.0, fr > 0 ? basis[1] : "no FUSE");
	bench_target("unpinned: scheme read 64 KiB / FUSE's best loop",
		     ratio(f[s64][1], f64), 1.0,
		     f64 > 0 ? basis[2] : "no FUSE");
	bench_target("unpinned: scheme open+close / FUSE's best loop",
		     ratio(f[soc][1], foc), 1.0,
		     foc > 0 ? basis[3] : "no FUSE");
}

void
bench_rtt(int want_scheme, int want_fuse)
{
	static double f[NROWS][BENCH_NPLACE];
	int reps = bench.repeats < MAXREP ? bench.repeats : MAXREP, i, pl;
	const char *skip = want_fuse ? bfuse_skip() : NULL;

	want[SRC_PIPE] = 1;
	want[SRC_SCHEME] = want[SRC_ZERO] = want_scheme;
	want[SRC_FUSE1] = want[SRC_FUSEM] = want_fuse && skip == NULL;
	bench_raise_nofile();
	run_all(reps);
	skip = want_fuse ? bfuse_skip() : NULL; /* a mount may have failed */
	for (i = 0; i < NROWS; i++)
		for (pl = 0; pl < BENCH_NPLACE; pl++)
			f[i][pl] = fig(i, pl, reps);
	printf("\nround trips: median of %d repeats' medians of %d; us "
	       "unless (ns);\nx base: to the pipe carrying as much (or to no "
	       "preload; a thread's first open: to a later one);\nx FUSE: to "
	       "FUSE's better loop\n",
	       reps, bench.rt);
	if (want_fuse && skip == NULL)
		printf("FUSE: libfuse %s, low-level API, direct_io, names and "
		       "attributes cached,\nno flush; the scheme: one "
		       "provider thread reading up to 64 requests at once\n",
		       bfuse_version());
	printf("  %-40s %24s  %24s\n", "", "one CPU", "unpinned");
	printf("  %-40s %8s %7s %7s  %8s %7s %7s\n", "", "time", "x base",
	       "x FUSE", "time", "x base", "x FUSE");
	for (i = 0; i < NROWS; i++) {
		if (!want[rows[i].src] && rows[i].src != SRC_FUSE1 &&
		    rows[i].src != SRC_FUSEM)
			continue;
		if (want_fuse && skip != NULL && rows[i].src == SRC_FUSE1 &&
		    rows[i].op == OP_R8)
			printf("  FUSE: skipped: %s\n", skip);
		if (!want[rows[i].src])
			continue;
		print_row(i, f);
	}
	targets(f, reps);
}
