/*
 * bench_tree.c - everyday commands on a tree of files, on the local disk,
 * on FUSE and on a scheme (see bench.c; issue 15).
 *
 * The tree T is 1,000 files of 4 KiB in 10 directories, d0 to d9, and one
 * file of 64 MiB, T/big; with --quick, 100 files and 4 MiB, so that CI's
 * run stays short (its figures are not the tree's, and it says so).  The
 * same bytes, lines of hex digits (text, and never "nomatch"), are put
 * three places:
 *  - native: T on the local disk, in bench's directory;
 *  - FUSE: bench's passthrough file system (bench_ptfs.c, libfuse's
 *    passthrough_ll with its default options) mounted over the directory
 *    holding that copy;
 *  - scheme: a copy written into scheme-memfs, the example provider,
 *    started under the preload with a scheme name of its own; T is
 *    /scheme/benchtree/T.
 *
 * Each workload is the real command, run as bench's child in the
 * directory holding T (for the scheme, cd /scheme/benchtree, which the
 * preload keeps across exec), its output to /dev/null.  The commands on
 * the disk and on FUSE run without the preload, those on the scheme
 * under it.  The cat of the small files is given their names as a shell
 * expands the glob (bench runs no shell).  GNU tar writing to /dev/null
 * reads no file's data (it knows the bytes would be thrown away), so
 * the tar workload is a walk that stats every file.  The copy is timed
 * as cp and rm together; the disk's file system is then synced, untimed,
 * so that its writeback does not land in the next figure.  A command
 * that fails (an exit status other than its usual one, or a signal,
 * among them the alarm of a command that runs over two minutes) is
 * shown as failing, with the first line it wrote on stderr, and not run
 * again on that variant.
 *
 * One untimed run of everything comes first: the figures are those of a
 * tree already read once, as a user's second command sees it.  Then each
 * of 5 runs (3 with --quick) times every workload on every variant at
 * each placement, the variants interleaved and their order reversed
 * every other run; a figure is the median of the runs.  The provider
 * and the FUSE daemon are started once and placed with bench.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "paths.h"

#define SCHEME	"benchtree"
#define NDIRS	10
#define SMALL	4096
#define CHUNK	(1 << 20)
#define MAXREP	32
#define ALARM_S 120
#define WHYLEN	160

enum var { V_NATIVE, V_FUSE, V_SCHEME, V_N };
enum wl { W_FIND, W_LS, W_DU, W_GREP, W_TAR, W_CAT, W_BIG, W_CP, W_N };

struct workload {
	const char *name;    /* as the tables show it */
	const char *argv[5]; /* W_CAT's is built: the tree's small files */
	int status;	     /* its exit status when it works */
};

static const struct workload wls[W_N] = {
    [W_FIND] = {"find T -type f", {"find", "T", "-type", "f"}, 0},
    [W_LS] = {"ls -lR T", {"ls", "-lR", "T"}, 0},
    [W_DU] = {"du -s T", {"du", "-s", "T"}, 0},
    [W_GREP] = {"grep -r nomatch T", {"grep", "-r", "nomatch", "T"}, 1},
    [W_TAR] = {"tar cf - T >/dev/null", {"tar", "cf", "-", "T"}, 0},
    [W_CAT] = {"cat T/*/*", {NULL}, 0},
    [W_BIG] = {"cat T/big", {"cat", "T/big"}, 0},
    [W_CP] = {"cp -r T T2; rm -rf T2", {"cp", "-r", "T", "T2"}, 0},
};
static const char *const rm_argv[] = {"rm", "-rf", "T2", NULL};
static const char *const var_names[V_N] = {"native", "FUSE", "scheme"};

struct tworld {
	int files;		  /* per directory */
	size_t big;		  /* bytes of T/big */
	char root[V_N][PATH_MAX]; /* the directory holding T, each way */
	int have[V_N];
	char skip[V_N][WHYLEN];
	pid_t self; /* bench, which the helpers and commands die with */
	pid_t memfs;
	struct bfuse fuse;
	char **cat;	    /* cat and the small files' names */
	char err[PATH_MAX]; /* the commands' stderr */
};

static double res[V_N][W_N][BENCH_NPLACE][MAXREP]; /* ms; < 0: failed */
static char fail[V_N][W_N][WHYLEN]; /* why it failed, once it has */

static int
nreps(void)
{
	return bench.quick ? 3 : 5;
}

/* Lines of 64 hex digits: text to grep, in which "nomatch" cannot be. */
static void
fill(char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = i % 65 == 64 ? '\n' : "0123456789abcdef"[x & 15];
	}
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	for (; n > 0; p += k, n -= (size_t)k)
		if ((k = write(fd, p, n)) <= 0)
			return -1;
	return 0;
}

/* path made of total bytes: chunk's n bytes again and again. */
static int
put_file(const char *path, const char *chunk, size_t n, size_t total)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	for (size_t done = 0; done < total; done += n)
		if (write_all(fd, chunk, total - done < n ? total - done : n) <
		    0) {
			close(fd);
			return -1;
		}
	return close(fd);
}

/* The tree under root; 0, or -1 with errno and the path in what. */
static int
make_tree(const struct tworld *w, const char *root, char *what, size_t len)
{
	static char chunk[CHUNK];
	int d, f;

	snprintf(what, len, "%s/T", root);
	if (mkdir(what, 0755) < 0)
		return -1;
	for (d = 0; d < NDIRS; d++) {
		snprintf(what, len, "%s/T/d%d", root, d);
		if (mkdir(what, 0755) < 0)
			return -1;
		for (f = 0; f < w->files; f++) {
			snprintf(what, len, "%s/T/d%d/f%03d", root, d, f);
			fill(chunk, SMALL, (uint32_t)(d * 1000 + f + 1));
			if (put_file(what, chunk, SMALL, SMALL) < 0)
				return -1;
		}
	}
	snprintf(what, len, "%s/T/big", root);
	fill(chunk, CHUNK, 0);
	return put_file(what, chunk, CHUNK, w->big);
}

/* argv of `cat T/ * / *` (without the spaces), in the glob's order. */
static char **
cat_argv(int files)
{
	char **v = calloc((size_t)(NDIRS * files + 2), sizeof(*v));
	int i = 0;

	if (v == NULL)
		bench_die("calloc");
	v[i++] = strdup("cat");
	for (int d = 0; d < NDIRS; d++)
		for (int f = 0; f < files; f++)
			if (asprintf(&v[i++], "T/d%d/f%03d", d, f) < 0)
				bench_die("asprintf");
	return v;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* The tree's files on the disk, as this run or a crashed one left them. */
void
btree_cleanup(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/tree", dir);
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	snprintf(path, sizeof(path), "%s/tree.err", dir);
	unlink(path);
}

/* scheme-memfs serving SCHEME, started under the preload. */
static int
memfs_start(struct tworld *w, char *why, size_t len)
{
	char prog[PATH_MAX], world[PATH_MAX + 8];

	if (paths_find(prog, sizeof(prog), PATHS_MEMFS) < 0) {
		snprintf(why, len, "scheme-memfs is not beside bench");
		return -1;
	}
	if ((w->memfs = fork()) < 0)
		bench_die("fork");
	if (w->memfs == 0) {
		int null = open("/dev/null", O_WRONLY);

		bench_tie(w->self, SIGTERM);
		dup2(null, 1);
		dup2(null, 2);
		execl(prog, "scheme-memfs", SCHEME, (char *)NULL);
		_exit(127);
	}
	snprintf(w->root[V_SCHEME], sizeof(w->root[0]), "/scheme/%s", SCHEME);
	snprintf(world, sizeof(world), "%s/world", w->root[V_SCHEME]);
	if (bench_path_ready(world, w->memfs))
		return 0;
	snprintf(why, len, "scheme-memfs did not serve %.100s",
		 w->root[V_SCHEME]);
	bench_kill(w->memfs);
	w->memfs = -1;
	return -1;
}

static void
tree_start(struct tworld *w)
{
	char what[PATH_MAX + 32];

	w->self = getpid();
	w->files = bench.quick ? 10 : 100;
	w->big = (bench.quick ? 4 : 64) << 20;
	w->cat = cat_argv(w->files);
	snprintf(w->err, sizeof(w->err), "%s/tree.err", bench_dir());
	snprintf(w->root[V_NATIVE], sizeof(w->root[0]), "%s/tree", bench_dir());
	if (mkdir(w->root[V_NATIVE], 0755) < 0 ||
	    make_tree(w, w->root[V_NATIVE], what, sizeof(what)) < 0)
		bench_die(what);
	w->have[V_NATIVE] = 1;
	if (ptfs_start(&w->fuse, w->root[V_NATIVE]) == 0) {
		snprintf(w->root[V_FUSE], sizeof(w->root[0]), "%s",
			 w->fuse.dir);
		w->have[V_FUSE] = 1;
	} else {
		snprintf(w->skip[V_FUSE], WHYLEN, "%s", bfuse_skip());
	}
	if (memfs_start(w, w->skip[V_SCHEME], WHYLEN) < 0)
		return;
	if (make_tree(w, w->root[V_SCHEME], what, sizeof(what)) < 0) {
		snprintf(w->skip[V_SCHEME], WHYLEN, "writing %.100s: %s", what,
			 strerror(errno));
		return;
	}
	w->have[V_SCHEME] = 1;
}

static void
tree_stop(struct tworld *w)
{
	if (w->fuse.pid > 0)
		bfuse_stop(&w->fuse);
	bench_kill(w->memfs);
	btree_cleanup(bench_dir());
	for (int i = 0; w->cat[i] != NULL; i++)
		free(w->cat[i]);
	free(w->cat);
}

/* The command's process: in v's directory, stderr to w->err. */
static void
child(const struct tworld *w, int v, const char *const *argv)
{
	int null = open("/dev/null", O_RDWR);
	int err = open(w->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	bench_tie(w->self, SIGKILL);
	dup2(null, 0);
	dup2(null, 1);
	dup2(err, 2);
	if (chdir(w->root[v]) < 0) {
		dprintf(2, "cd %s: %s\n", w->root[v], strerror(errno));
		_exit(126);
	}
	if (v != V_SCHEME)
		setenv("LD_PRELOAD", "", 1);
	else if (SCHEME_ASAN_RUNTIME[0] != '\0')
		/* The sanitizer's runtime is in programs we did not build: their
		 * leaks are theirs (tar's report, on a closed stderr, is lost
		 * and only its exit status 1 is left). */
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	alarm(ALARM_S); /* kept across exec */
	execvp(argv[0], (char *const *)argv);
	dprintf(2, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Why a command failed: its first line on stderr, and how it ended. */
static void
explain(const struct tworld *w, const char *cmd, int st, char *why, size_t len)
{
	char line[WHYLEN] = "";
	FILE *f = fopen(w->err, "r");

	if (f != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		fclose(f);
	}
	if (WIFSIGNALED(st))
		snprintf(why, len, "%s killed by signal %d%s%s", cmd,
			 WTERMSIG(st), line[0] ? ": " : "", line);
	else if (line[0] != '\0')
		snprintf(why, len, "%s", line);
	else
		snprintf(why, len, "%s: exit status %d", cmd, WEXITSTATUS(st));
}

/* argv run on v: its time in ms, or -1 and why. */
static double
run(const struct tworld *w, int v, const char *const *argv, int status,
    char *why, size_t len)
{
	uint64_t t = bench_now();
	pid_t pid = fork();
	int st;

	if (pid < 0)
		bench_die("fork");
	if (pid == 0)
		child(w, v, argv);
	if (waitpid(pid, &st, 0) < 0)
		bench_die("waitpid");
	t = bench_now() - t;
	if (WIFEXITED(st) && WEXITSTATUS(st) == status)
		return (double)t / 1e6;
	explain(w, argv[0], st, why, len);
	return -1;
}

static void
sync_disk(const struct tworld *w)
{
	int fd = open(w->root[V_NATIVE], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
}

/* Workload k on v once: ms, or -1 (fail[v][k] says why). */
static double
run_wl(const struct tworld *w, int v, int k)
{
	const char *const *argv =
	    k == W_CAT ? (const char *const *)w->cat : wls[k].argv;
	char why[WHYLEN], why_rm[WHYLEN];
	double ms, rm = 0;

	if (fail[v][k][0] != '\0')
		return -1;
	ms = run(w, v, argv, wls[k].status, why, sizeof(why));
	if (k == W_CP) {
		rm = run(w, v, (const char *const *)rm_argv, 0, why_rm,
			 sizeof(why_rm));
		if (ms >= 0 && rm < 0)
			memcpy(why, why_rm, sizeof(why));
		if (v != V_SCHEME)
			sync_disk(w);
	}
	if (ms < 0 || rm < 0) {
		snprintf(fail[v][k], WHYLEN, "%s", why);
		return -1;
	}
	return ms + rm;
}

static void
place(const struct tworld *w, int pl)
{
	bench_place(pl);
	bench_place_pid(w->memfs, pl);
	bench_place_pid(w->fuse.pid, pl);
}

/* Run r at placement pl: every workload on every variant. */
static void
one_run(const struct tworld *w, int r, int pl)
{
	place(w, pl);
	for (int k = 0; k < W_N; k++)
		for (int i = 0; i < V_N; i++) {
			int v = r % 2 ? V_N - 1 - i : i;

			res[v][k][pl][r] = w->have[v] ? run_wl(w, v, k) : -1;
		}
}

static double
fig(int v, int k, int pl)
{
	return bench_median_all(res[v][k][pl], nreps());
}

static const char *
fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return "?";
	switch ((unsigned long)sf.f_type) {
	case EXT4_SUPER_MAGIC:
		return "ext4";
	case TMPFS_MAGIC:
		return "tmpfs";
	case XFS_SUPER_MAGIC:
		return "xfs";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	default:
		return "another file system";
	}
}

static void
header(const struct tworld *w, int reps)
{
	printf("\ntree: commands on 10 directories of %d files of 4 KiB and "
	       "one file of %zu MiB\n(T/big); ms, median of %d runs; "
	       "x FUSE, x native: the scheme's time to theirs\n",
	       w->files, w->big >> 20, reps);
	if (bench.quick)
		printf("  --quick: a smaller tree and fewer runs than the "
		       "tree's (1,000 files, 64 MiB,\n  5 runs): these are "
		       "not its figures\n");
	printf("  native: %s (%s)\n", w->root[V_NATIVE],
	       fs_name(w->root[V_NATIVE]));
	printf("  FUSE: bench's passthrough over it (libfuse %s, "
	       "passthrough_ll's defaults)\n",
	       bfuse_version());
	printf("  scheme: %s, served by scheme-memfs\n", w->root[V_SCHEME]);
	for (int v = 0; v < V_N; v++)
		if (!w->have[v])
			printf("  %s: skipped: %s\n", var_names[v], w->skip[v]);
}

static void
cell(double v, int ratio)
{
	bench_cell(v, ratio, 8);
}

static void
table(int pl)
{
	double f[V_N];
	int k, v;

	printf("  %-24s %8s %8s %8s %8s %8s\n",
	       pl == BENCH_ONE_CPU ? "one CPU" : "unpinned", "native", "FUSE",
	       "scheme", "x FUSE", "x native");
	for (k = 0; k < W_N; k++) {
		printf("  %-24s", wls[k].name);
		for (v = 0; v < V_N; v++) {
			f[v] = fig(v, k, pl);
			cell(f[v], 0);
		}
		cell(f[V_SCHEME] > 0 && f[V_FUSE] > 0 ? f[V_SCHEME] / f[V_FUSE]
						      : -1,
		     1);
		cell(f[V_SCHEME] > 0 && f[V_NATIVE] > 0
			 ? f[V_SCHEME] / f[V_NATIVE]
			 : -1,
		     1);
		for (v = 0; v < V_N; v++)
			if (fail[v][k][0] != '\0')
				printf("  %s fails: %s", var_names[v],
				       fail[v][k]);
		printf("\n");
	}
}

void
bench_tree(void)
{
	static struct tworld w;
	int reps = nreps(), r, p, k, v;

	bench_place(BENCH_UNPINNED);
	tree_start(&w);
	for (k = 0; k < W_N; k++) /* the untimed run */
		for (v = 0; v < V_N; v++)
			if (w.have[v])
				run_wl(&w, v, k);
	for (r = 0; r < reps; r++)
		for (p = 0; p < BENCH_NPLACE; p++)
			one_run(&w, r, r % 2 ? BENCH_NPLACE - 1 - p : p);
	place(&w, BENCH_UNPINNED);
	header(&w, reps);
	table(BENCH_ONE_CPU);
	table(BENCH_UNPINNED);
	tree_stop(&w);
}
