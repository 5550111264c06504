/*
 * test_walk.c - a stat in one round trip, listings with types (issue 15
 * items 1 and 2), against a real broker, scheme-memfs and a provider of
 * the suite's own that counts what it is asked.
 *
 * The counting provider (a forked child of the suite, under the preload)
 * serves a root holding a directory "d" and a file "f" (and "slow", whose
 * open or fstat it can hold), logs each packet's kind and the path of each
 * open into shared memory, and counts the handles it holds.  As "wcount"
 * it answers SYS_GETDENTS; as "wtext" it does not (ENOSYS), and is listed
 * by reading, as Redox lists.  Neither grants a cache (SYS_FGRANT: ENOSYS);
 * as "wgrant" it grants one for stats and ENOENTs (a minute, unless a
 * case says), and f's mode may change under it (the provider's own
 * change, which no request made).
 *
 * Round trips are counted on the client: the call is made by this binary
 * re-run under strace (--call), between two marker writes, and the
 * messages it sends and receives in between (sendmsg, write, recvmsg,
 * read that succeed) are counted; pinned to one CPU, the client never
 * polls for its answer, so an unanswered recv does not show.  One round
 * trip is one message each way.  The provider must meanwhile have seen
 * OPEN, the request, CLOSE, and hold no handle after.
 *
 * Walks: find, du, ls -lR and tar over a tree on disk and a copy of it in
 * scheme-memfs give the same names, types and sizes.
 *
 * The cache a provider grants (issue 15 item 3, scheme.h "Caching"):
 * counted as packets on wgrant and wcount, and as opens (memfs's .stats)
 * on memfs, which grants 1 s and lists with attributes: a stat kept is
 * not asked again, a listing fills the stats that follow, changes made
 * through the scheme (the process's own, a forked child's, another
 * process's) are seen at once, the provider's own once the grant has
 * run out.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

#define LOGMAX 512

/* What the counting providers were asked, shared with the suite. */
struct shared {
	_Atomic int live;	   /* handles held */
	_Atomic int n;		   /* packets logged */
	_Atomic uint32_t hold;	   /* SYS_* of "slow" to hold until cleared */
	_Atomic int held;	   /* it is holding one now */
	_Atomic uint32_t grant_ms; /* what wgrant grants (SYS_FGRANT) */
	_Atomic uint32_t fmode;	   /* f's mode, if not 0 (wgrant's own) */
	uint32_t ops[LOGMAX];
	char paths[LOGMAX][16]; /* an open's path */
};

static struct shared *sh;
static pid_t counters[3] = {-1, -1, -1};
static struct run_result *r;

/* A command under the preload, its output in r. */
static void
run(int seconds, const char *const *argv)
{
	h_run(r, true, NULL, seconds, (char *const *)argv);
}
#define RUN(seconds, ...) run(seconds, (const char *const[]){__VA_ARGS__, NULL})

/* A handle: which node, and where a listing is. */
struct hnd {
	int node; /* 0 root, 1 d, 2 f, 3 slow */
	size_t pos;
	bool used;
};

static const char *const node_names[] = {"", "d", "f", "slow"};

static void
log_packet(const struct scheme_packet *p)
{
	int i = atomic_fetch_add(&sh->n, 1);

	if (i >= LOGMAX)
		return;
	sh->ops[i] = (uint32_t)p->a;
	if (p->a == SYS_OPEN)
		snprintf(sh->paths[i], sizeof(sh->paths[i]), "%s",
			 (const char *)(uintptr_t)p->b);
}

static void
hold_if(const struct hnd *h, uint32_t op)
{
	if (h->node != 3 || atomic_load(&sh->hold) != op)
		return;
	atomic_store(&sh->held, 1);
	while (atomic_load(&sh->hold) == op)
		usleep(1000);
	atomic_store(&sh->held, 0);
}

static int64_t
c_open(struct hnd *hs, const struct scheme_packet *p)
{
	const char *path = (const char *)(uintptr_t)p->b;

	for (int node = 0; node < 4; node++) {
		if (strcmp(path, node_names[node]) != 0)
			continue;
		for (int k = 0; k < 64; k++)
			if (!hs[k].used) {
				hs[k] = (struct hnd){node, 0, true};
				atomic_fetch_add(&sh->live, 1);
				hold_if(&hs[k], SYS_OPEN);
				return k;
			}
		return -EMFILE;
	}
	return -ENOENT;
}

static int64_t
c_fstat(struct hnd *h, const struct scheme_packet *p)
{
	struct stat *st = (struct stat *)(uintptr_t)p->c;

	hold_if(h, SYS_FSTAT);
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)h->node + 1;
	st->st_mode = h->node < 2 ? S_IFDIR | 0755 : S_IFREG | 0644;
	if (h->node == 2 && atomic_load(&sh->fmode) != 0)
		st->st_mode = S_IFREG | atomic_load(&sh->fmode);
	st->st_nlink = 1;
	return 0;
}

/* The root lists d and f: typed, or as text. */
static int64_t
c_list(struct hnd *h, const struct scheme_packet *p)
{
	static const char text[] = "d\nf\n";
	char *buf = (char *)(uintptr_t)p->c;
	struct scheme_dirent *de;
	size_t rec = SCHEME_DIRENT_LEN(1);

	if (h->node != 0)
		return h->node == 1 ? 0 : -ENOTDIR;
	if (p->a == SYS_READ) {
		size_t n = sizeof(text) - 1 - h->pos;

		n = n < p->d ? n : p->d;
		memcpy(buf, text + h->pos, n);
		h->pos += n;
		return (int64_t)n;
	}
	if (h->pos >= 2)
		return 0;
	if (p->d < rec)
		return -EINVAL;
	de = (struct scheme_dirent *)buf;
	memset(de, 0, rec);
	de->ino = h->pos + 2;
	de->reclen = (uint16_t)rec;
	de->type = h->pos == 0 ? DT_DIR : DT_REG;
	de->name[0] = h->pos == 0 ? 'd' : 'f';
	h->pos++;
	return (int64_t)rec;
}

static int64_t
c_handle(struct hnd *hs, const struct scheme_packet *p, const char *name,
	 bool dents)
{
	struct hnd *h = p->b < 64 && hs[p->b].used ? &hs[p->b] : NULL;

	if (p->a == SYS_OPEN)
		return c_open(hs, p);
	if (h == NULL)
		return -EBADF;
	switch (p->a) {
	case SYS_FSTAT:
		return c_fstat(h, p);
	case SYS_CLOSE:
		h->used = false;
		atomic_fetch_sub(&sh->live, 1);
		return 0;
	case SYS_FCHMOD:
	case SYS_FCHOWN:
	case SYS_FUTIMENS:
		return 0;
	case SYS_LSEEK:
		h->pos = (size_t)p->c;
		return (int64_t)h->pos;
	case SYS_FPATH: /* "wcount:d": find asks, to work relative to it */
		return snprintf((char *)(uintptr_t)p->c, p->d, "%s:%s", name,
				node_names[h->node]);
	case SYS_READ:
		return c_list(h, p);
	case SYS_GETDENTS:
		return dents ? c_list(h, p) : -ENOSYS;
	case SYS_FGRANT:
		return strcmp(name, "wgrant") == 0
			   ? SCHEME_GRANT(atomic_load(&sh->grant_ms),
					  atomic_load(&sh->grant_ms))
			   : -ENOSYS;
	default:
		return -ENOSYS;
	}
}

static void
counter_main(const char *name, bool dents)
{
	struct hnd hs[64] = {{0}};
	struct scheme_packet p;
	char path[80];
	int fd;

	sigset_t none;

	signal(SIGTERM, SIG_DFL); /* the suite's handler is not ours */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(path, sizeof(path), ":%s", name);
	if ((fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600)) < 0)
		_exit(1);
	while (read(fd, &p, sizeof(p)) == sizeof(p)) {
		log_packet(&p);
		p.a = (uint64_t)c_handle(hs, &p, name, dents);
		if (write(fd, &p, sizeof(p)) != sizeof(p))
			_exit(1);
	}
	_exit(0);
}

static pid_t
start_counter(const char *name, bool dents)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		counter_main(name, dents);
	for (int i = 0; i < 200 && !h_scheme_exists(name); i++)
		h_sleep_ms(10);
	ck_assert(h_scheme_exists(name));
	return pid;
}

static void
world_start(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	h_world_start("walk");
	counters[0] = start_counter("wcount", true);
	counters[1] = start_counter("wtext", false);
	counters[2] = start_counter("wgrant", true);
}

static void
world_stop(void)
{
	for (int i = 0; i < 3; i++)
		if (counters[i] > 0)
			h_stop(counters[i]);
	h_world_stop();
}

static void
setup(void)
{
	r = calloc(1, sizeof(*r));
	atomic_store(&sh->n, 0);
	atomic_store(&sh->hold, 0);
	atomic_store(&sh->grant_ms, 60000);
	atomic_store(&sh->fmode, 0);
}

static void
teardown(void)
{
	atomic_store(&sh->hold, 0);
	free(r);
}

/* The packets logged from `from` on, as "OPEN(path) FSTAT CLOSE". */
static void
logged(int from, char *out, size_t len)
{
	int n = atomic_load(&sh->n);
	size_t at = 0;

	out[0] = '\0';
	for (int i = from; i < n && i < LOGMAX && at < len; i++) {
		const struct {
			uint32_t op;
			const char *name;
		} names[] = {
		    {SYS_OPEN, "OPEN"},		{SYS_FSTAT, "FSTAT"},
		    {SYS_CLOSE, "CLOSE"},	{SYS_FCHMOD, "FCHMOD"},
		    {SYS_FCHOWN, "FCHOWN"},	{SYS_FUTIMENS, "FUTIMENS"},
		    {SYS_GETDENTS, "GETDENTS"}, {SYS_READ, "READ"},
		    {SYS_LSEEK, "LSEEK"},	{SYS_FGRANT, "GRANT"},
		    {SYS_FPATH, "FPATH"}};
		const char *nm = "?";

		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (names[k].op == sh->ops[i])
				nm = names[k].name;
		if (sh->ops[i] == SYS_OPEN)
			at += (size_t)snprintf(out + at, len - at, "%sOPEN(%s)",
					       at ? " " : "", sh->paths[i]);
		else
			at += (size_t)snprintf(out + at, len - at, "%s%s",
					       at ? " " : "", nm);
	}
}

/* Until the provider holds no handle (its closes come after answers). */
static void
settle(void)
{
	int live = atomic_load(&sh->live);

	for (int i = 0; i < 200 && live != 0; i++) {
		h_sleep_ms(10);
		live = atomic_load(&sh->live);
	}
	ck_assert_msg(live == 0, "the provider holds %d handles", live);
}

/* --call: one call on path, between markers strace shows. */
static int
call_main(const char *call, const char *path)
{
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	struct statx sx;
	struct stat st;
	char buf[64];
	int rc = 0;

	stat(path, &st); /* the channel, made before the count */
	(void)!write(-1, "<", 1);
	if (strcmp(call, "stat") == 0)
		rc = stat(path, &st);
	else if (strcmp(call, "lstat") == 0)
		rc = lstat(path, &st);
	else if (strcmp(call, "fstatat") == 0)
		rc = fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW);
	else if (strcmp(call, "statx") == 0)
		rc = statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx);
	else if (strcmp(call, "access") == 0)
		rc = access(path, R_OK);
	else if (strcmp(call, "faccessat") == 0)
		rc = faccessat(AT_FDCWD, path, W_OK, AT_EACCESS);
	else if (strcmp(call, "readlink") == 0)
		rc = readlink(path, buf, sizeof(buf)) < 0 && errno == EINVAL
			 ? 0
			 : -1;
	else if (strcmp(call, "chmod") == 0)
		rc = chmod(path, 0600);
	else if (strcmp(call, "chown") == 0)
		rc = chown(path, getuid(), getgid());
	else if (strcmp(call, "utimensat") == 0)
		rc = utimensat(AT_FDCWD, path, ts, 0);
	else
		rc = -1;
	(void)!write(-1, ">", 1);
	return rc == 0 ? 0 : 1;
}

/*
 * Messages the --call child sent and received between its markers, from
 * strace's log: successful sendmsg/sendto/write(v) and
 * recvmsg/recvfrom/read(v).
 */
static void
count_trips(const char *log, int *sent, int *got)
{
	size_t len;
	char *text = h_read_file(log, &len), *line, *save = NULL;
	bool in = false;

	ck_assert_ptr_nonnull(text);
	*sent = *got = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *eq = strrchr(line, '=');
		bool ok =
		    eq != NULL && eq[1] == ' ' && eq[2] != '-' && eq[2] != '?';

		if (strstr(line, "write(-1, \"<\"") != NULL)
			in = true;
		else if (strstr(line, "write(-1, \">\"") != NULL)
			in = false;
		else if (in && ok &&
			 (strstr(line, "sendmsg(") || strstr(line, "sendto(") ||
			  strstr(line, "write(") || strstr(line, "writev(")))
			(*sent)++;
		else if (in && ok &&
			 (strstr(line, "recvmsg(") ||
			  strstr(line, "recvfrom(") || strstr(line, "read(") ||
			  strstr(line, "readv(")))
			(*got)++;
	}
	free(text);
}

static const char *const calls[] = {
    "stat",	 "lstat",    "fstatat", "statx", "access",
    "faccessat", "readlink", "chmod",	"chown", "utimensat",
};
static const char *const inner[] = {
    "FSTAT", "FSTAT", "FSTAT",	"FSTAT",  "FSTAT",
    "FSTAT", "FSTAT", "FCHMOD", "FCHOWN", "FUTIMENS",
};

/* Each call of a scheme path: one round trip; OPEN, it, CLOSE asked. */
START_TEST(one_round_trip)
{
	char log[300], self[300], want[80], got[256];
	int sent, recvd, from;
	ssize_t n;

	if (access("/usr/bin/strace", X_OK) != 0) {
		fprintf(stderr, "test_walk: no strace (install-deps.sh)\n");
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	snprintf(log, sizeof(log), "%s/strace.%d", h_dir(), _i);
	from = atomic_load(&sh->n);
	RUN(20, "taskset", "-c", "0", "strace", "-f", "-qq", "-e",
	    "signal=none", "-e",
	    "trace=sendmsg,sendto,write,writev,recvmsg,recvfrom,read,readv",
	    "-o", log, self, "--call", calls[_i], "/scheme/wcount/f");
	ck_assert_msg(r->status == 0, "%s: status %d: %s", calls[_i], r->status,
		      r->err);
	count_trips(log, &sent, &recvd);
	ck_assert_msg(sent == 1 && recvd == 1, "%s: %d sent, %d received",
		      calls[_i], sent, recvd);
	settle();
	/*
	 * The warm-up stat, then the call: each its three packets; the
	 * warm-up's answer may be kept? (the grant asked, once: no).
	 */
	snprintf(want, sizeof(want),
		 "OPEN(f) FSTAT CLOSE OPEN() GRANT CLOSE OPEN(f) %s CLOSE",
		 inner[_i]);
	logged(from, got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "%s: provider saw \"%s\"",
		      calls[_i], got);
}
END_TEST

/* ENOENT in one round trip too: the open's error, nothing else asked. */
START_TEST(missing)
{
	struct stat st;
	char got[256];
	int from = atomic_load(&sh->n);

	ck_assert_int_eq(stat("/scheme/wcount/nope", &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(chmod("wcount:nope", 0600), -1);
	ck_assert_int_eq(errno, ENOENT);
	logged(from, got, sizeof(got));
	ck_assert_str_eq(got, "OPEN(nope) OPEN() GRANT CLOSE OPEN(nope)");
	settle();
}
END_TEST

/*
 * A stat whose client is killed while the provider holds its open (_i
 * 0) or its fstat (_i 1): the handle the open gives is closed all the
 * same, and nothing more is asked on it.
 */
START_TEST(client_dies_midway)
{
	uint32_t op = _i == 0 ? SYS_OPEN : SYS_FSTAT;
	char got[256];
	struct stat st;
	int from = atomic_load(&sh->n), status;
	pid_t pid;

	atomic_store(&sh->hold, op);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(stat("wcount:slow", &st) == 0 ? 0 : 1);
	for (int i = 0; i < 500 && !atomic_load(&sh->held); i++)
		h_sleep_ms(10);
	ck_assert(atomic_load(&sh->held));
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	h_sleep_ms(50); /* the serving code sees the channel end */
	atomic_store(&sh->hold, 0);
	settle();
	logged(from, got, sizeof(got));
	ck_assert_str_eq(got, _i == 0 ? "OPEN(slow) CLOSE"
				      : "OPEN(slow) FSTAT CLOSE");
}
END_TEST

static void
list(const char *path, char *out, size_t len)
{
	struct dirent *e;
	size_t at = 0;
	DIR *d = opendir(path);

	ck_assert_ptr_nonnull(d);
	out[0] = '\0';
	while ((e = readdir(d)) != NULL && at < len)
		at += (size_t)snprintf(out + at, len - at, "%s%s:%d",
				       at ? " " : "", e->d_name, e->d_type);
	closedir(d);
}

/*
 * Typed listings on wcount, text on wtext: the same names, "." and ".."
 * first; wtext is asked SYS_GETDENTS once (the channel remembers), wcount
 * reads nothing.
 */
START_TEST(listings)
{
	char got[256], ops[512];
	int from;

	from = atomic_load(&sh->n);
	list("/scheme/wcount", got, sizeof(got));
	ck_assert_str_eq(got, ".:4 ..:4 d:4 f:8");
	logged(from, ops, sizeof(ops));
	ck_assert_ptr_null(strstr(ops, "READ"));
	from = atomic_load(&sh->n);
	list("/scheme/wtext", got, sizeof(got));
	ck_assert_str_eq(got, ".:4 ..:4 d:0 f:0");
	list("wtext:", got, sizeof(got));
	ck_assert_str_eq(got, ".:4 ..:4 d:0 f:0");
	logged(from, ops, sizeof(ops));
	ck_assert_ptr_nonnull(strstr(ops, "GETDENTS"));
	ck_assert_ptr_null(strstr(strstr(ops, "GETDENTS") + 1, "GETDENTS"));
	ck_assert_ptr_nonnull(strstr(ops, "READ"));
	settle();
}
END_TEST

/* find -type f stats no file where the listing has types. */
START_TEST(find_stats_no_file)
{
	char ops[2048];
	int from = atomic_load(&sh->n);

	RUN(20, "find", "/scheme/wcount", "-type", "f");
	ck_assert_msg(r->status == 0, "find: %s", r->err);
	ck_assert_str_eq(r->out, "/scheme/wcount/f\n");
	logged(from, ops, sizeof(ops));
	ck_assert_msg(strstr(ops, "OPEN(f)") == NULL, "find asked %s", ops);
	from = atomic_load(&sh->n);
	RUN(20, "find", "/scheme/wtext", "-type", "f");
	ck_assert_str_eq(r->out, "/scheme/wtext/f\n");
	logged(from, ops, sizeof(ops));
	ck_assert_ptr_nonnull(strstr(ops, "OPEN(f)")); /* it must stat */
	settle();
}
END_TEST

/* On memfs: d_ino is what stat says, d_type what its mode says. */
START_TEST(types_and_inodes)
{
	char path[300];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int seen = 0;

	ck_assert_int_eq(mkdir("/scheme/walk/ti", 0755), 0);
	ck_assert_int_eq(mkdir("/scheme/walk/ti/sub", 0755), 0);
	close(open("/scheme/walk/ti/file", O_CREAT | O_WRONLY, 0644));
	ck_assert_ptr_nonnull(d = opendir("/scheme/walk/ti"));
	while ((e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/scheme/walk/ti/%s", e->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		if (seen++ < 2) {
			ck_assert_str_eq(e->d_name, seen == 1 ? "." : "..");
			ck_assert_int_eq(e->d_type, DT_DIR);
			continue;
		}
		ck_assert_int_eq(e->d_ino, st.st_ino);
		ck_assert_int_eq(e->d_type, IFTODT(st.st_mode));
	}
	closedir(d);
	ck_assert_int_eq(seen, 4);
}
END_TEST

/* The same commands on a tree on disk and its copy in memfs. */
START_TEST(walks_match_disk)
{
	static const char *const cmds[] = {
	    "find T | sort",
	    "find T -type f | sort",
	    "find T -type d | sort",
	    "find T -printf '%y %s %p\\n' | grep -v '^d' | sort",
	    "du -a T | cut -f2 | sort",
	    "ls -AR T",
	    "ls -lR --time-style=+ T | awk '/^-/ {print $1, $5, $NF}'",
	    "tar cf - T | tar tf - | sort",
	};
	char disk[300], mem[300];

	snprintf(disk, sizeof(disk), "%s/wd", h_dir());
	h_sh_ok(r, 60,
		"rm -rf %s && mkdir -p %s/T && cd %s/T && "
		"for d in 0 1 2; do mkdir d$d; for f in 0 1 2 3; do "
		"head -c $((d * 100 + f)) /dev/zero > d$d/f$f; done; done && "
		"mkdir d1/e && echo x > d1/e/g",
		disk, disk, disk);
	RUN(30, "sh", "-c",
	    "rm -rf /scheme/walk/wm && mkdir /scheme/walk/wm && "
	    "cp -r \"$0\"/T /scheme/walk/wm/T",
	    disk);
	ck_assert_msg(r->status == 0, "copy: %s", r->err);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *a;

		h_sh_ok(r, 30, "cd %s && %s", disk, cmds[i]);
		ck_assert_ptr_nonnull(a = strdup(r->out));
		snprintf(mem, sizeof(mem), "cd /scheme/walk/wm && %s", cmds[i]);
		RUN(30, "sh", "-c", mem);
		ck_assert_msg(r->status == 0, "%s: %s", cmds[i], r->err);
		ck_assert_msg(strcmp(a, r->out) == 0,
			      "%s:\ndisk:\n%s\nscheme:\n%s", cmds[i], a,
			      r->out);
		free(a);
	}
}
END_TEST

/* memfs's count of opens so far (its .stats; reading it is one more). */
static long
memfs_opens(void)
{
	char buf[256], *at;
	int fd = open("/scheme/walk/.stats", O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(at = strstr(buf, "opens "));
	return strtol(at + 6, NULL, 10);
}

/* A file of memfs, made afresh with `bytes` bytes and mode 0644. */
static void
memfs_file(const char *path, size_t bytes)
{
	char data[64] = {0};
	int fd;

	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, data, bytes) == (ssize_t)bytes, "%s: %s", path,
		      strerror(errno));
	close(fd);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* A stat the provider lets us keep is asked once; lstat is its own. */
START_TEST(kept_stat)
{
	struct stat st;
	char got[256];
	int from = atomic_load(&sh->n);

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(stat("/scheme/wgrant/f", &st), 0);
		ck_assert(S_ISREG(st.st_mode));
		ck_assert_int_eq(lstat("wgrant:f", &st), 0);
		ck_assert_int_eq(access("/scheme/wgrant/f", R_OK), 0);
	}
	/* The first stat learns the grant; the lstat and access are kept. */
	logged(from, got, sizeof(got));
	ck_assert_str_eq(got, "OPEN(f) FSTAT CLOSE OPEN() GRANT CLOSE "
			      "OPEN(f) FSTAT CLOSE OPEN(f) FSTAT CLOSE");
	settle();
}
END_TEST

/*
 * ENOENT kept too, where granted (wgrant grants it), until this process
 * changes something.
 */
START_TEST(kept_enoent)
{
	struct stat st;
	char got[256];
	int from = atomic_load(&sh->n);

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(stat("/scheme/wgrant/nope", &st), -1);
		ck_assert_int_eq(errno, ENOENT);
	}
	ck_assert_int_eq(chmod("/scheme/wgrant/f", 0600), 0);
	ck_assert_int_eq(stat("/scheme/wgrant/nope", &st), -1);
	logged(from, got, sizeof(got));
	ck_assert_str_eq(got, "OPEN(nope) OPEN() GRANT CLOSE OPEN(nope) "
			      "OPEN(f) FCHMOD CLOSE OPEN(nope)");
	settle();
}
END_TEST

/* A provider that grants nothing (ENOSYS) is asked every stat. */
START_TEST(no_grant_no_cache)
{
	struct stat st;
	char got[256];
	int from = atomic_load(&sh->n);

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(stat("/scheme/wcount/f", &st), 0);
	logged(from, got, sizeof(got));
	ck_assert_str_eq(got, "OPEN(f) FSTAT CLOSE OPEN() GRANT CLOSE "
			      "OPEN(f) FSTAT CLOSE OPEN(f) FSTAT CLOSE");
	settle();
}
END_TEST

/*
 * This process's own changes are seen by its next stat, each after a
 * stat that was kept: by path, and through an fd.
 */
START_TEST(own_changes_seen)
{
	const char *f = "/scheme/walk/own", *g = "/scheme/walk/own2";
	struct timespec ts[2] = {{0, UTIME_OMIT}, {12345, 0}};
	struct stat st;
	int fd;

	memfs_file(f, 3);
	unlink(g);
	ck_assert_int_eq(size_of(f), 3);
	ck_assert_int_eq(chmod(f, 0600), 0);
	ck_assert_int_eq(mode_of(f), 0600);
	ck_assert_int_eq(truncate(f, 7), 0);
	ck_assert_int_eq(size_of(f), 7);
	ck_assert_int_ge(fd = open(f, O_WRONLY | O_APPEND), 0);
	ck_assert_int_eq(size_of(f), 7);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	ck_assert_int_eq(size_of(f), 10);
	ck_assert_int_eq(ftruncate(fd, 1), 0);
	ck_assert_int_eq(size_of(f), 1);
	ck_assert_int_eq(fchmod(fd, 0640), 0);
	ck_assert_int_eq(mode_of(f), 0640);
	close(fd);
	ck_assert_int_eq(utimensat(AT_FDCWD, f, ts, 0), 0);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 12345);
	ck_assert_int_eq(link(f, g), 0);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_nlink, 2);
	ck_assert_int_eq(unlink(g), 0);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_nlink, 1);
	ck_assert_int_eq(rename(f, g), 0);
	ck_assert_int_eq(stat(f, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(size_of(g), 1);
	ck_assert_int_eq(unlink(g), 0);
	ck_assert_int_eq(stat(g, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(mkdir(f, 0700), 0);
	ck_assert(S_ISDIR((stat(f, &st), st.st_mode)));
	ck_assert_int_eq(rmdir(f), 0);
	ck_assert_int_eq(symlink("x", f), 0);
	ck_assert_int_eq(lstat(f, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(unlink(f), 0);
	ck_assert_int_eq(lstat(f, &st), -1);
}
END_TEST

/*
 * A listing fills the stats that follow: stats of each entry after a
 * readdir ask memfs nothing, and du over a tree opens a handful of
 * files where it has 40.
 */
START_TEST(listing_fills_stats)
{
	char path[300];
	struct dirent *e;
	struct stat st;
	long before, after;
	int n = 0;
	DIR *d;

	mkdir("/scheme/walk/lf", 0755);
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/scheme/walk/lf/f%d", i);
		memfs_file(path, (size_t)i % 64);
	}
	ck_assert_ptr_nonnull(d = opendir("/scheme/walk/lf"));
	while ((e = readdir(d)) != NULL)
		n++;
	before = memfs_opens();
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		ck_assert_int_eq(
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
		ck_assert_int_eq(st.st_size, atoi(e->d_name + 1) % 64);
	}
	after = memfs_opens();
	closedir(d);
	ck_assert_int_eq(n, 42);
	ck_assert_msg(after - before == 1, "%ld opens for 40 stats",
		      after - before - 1);
	before = memfs_opens();
	RUN(20, "du", "-s", "/scheme/walk/lf");
	ck_assert_msg(r->status == 0, "du: %s", r->err);
	after = memfs_opens();
	ck_assert_msg(after - before < 10, "du: %ld opens", after - before - 1);
}
END_TEST

/*
 * Another process that chmods path (and truncates it, unless size is
 * -1), then waits, not reaped, until other_end() lets it go: its change
 * is done when this returns.
 */
static pid_t
other_change(const char *path, mode_t mode, off_t size, int *release)
{
	int p[2], q[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		bool ok = chmod(path, mode) == 0 &&
			  (size < 0 || truncate(path, size) == 0) &&
			  write(p[1], "x", 1) == 1;

		(void)!read(q[0], &c, 1);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	*release = q[1];
	return pid;
}

static void
other_end(pid_t pid, int release)
{
	int status;

	ck_assert_int_eq(write(release, "x", 1), 1);
	close(release);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
}

/*
 * The provider's own change (wgrant's f's mode, which no request made) is
 * seen once the grant (here 1 s) has run out; a change another
 * process makes through the scheme (a chmod, from a child not reaped
 * yet) at once.
 */
START_TEST(provider_changes_late)
{
	struct timespec t0, t1;
	int release;
	mode_t mode;
	pid_t pid;

	atomic_store(&sh->grant_ms, 1000);
	ck_assert_int_eq(mode_of("/scheme/wgrant/f"), 0644); /* the grant */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(mode_of("/scheme/wgrant/f"), 0644); /* kept */
	atomic_store(&sh->fmode, 0600);
	mode = mode_of("/scheme/wgrant/f");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Kept, unless this took the whole grant (valgrind, a loaded box). */
	if ((t1.tv_sec - t0.tv_sec) * 1000 +
		(t1.tv_nsec - t0.tv_nsec) / 1000000 <
	    800)
		ck_assert_int_eq(mode, 0644);
	h_sleep_ms(1100);
	ck_assert_int_eq(mode_of("/scheme/wgrant/f"), 0600);
	atomic_store(&sh->fmode, 0640);
	ck_assert_int_eq(mode_of("/scheme/wgrant/f"), 0600); /* kept */
	pid = other_change("/scheme/wgrant/f", 0640, -1, &release);
	ck_assert_int_eq(mode_of("/scheme/wgrant/f"), 0640);
	other_end(pid, release);
	settle();
}
END_TEST

/* Another process's change through memfs: seen at once. */
START_TEST(others_changes_seen)
{
	const char *f = "/scheme/walk/other";
	int release;
	pid_t pid;

	memfs_file(f, 1);
	ck_assert_int_eq(mode_of(f), 0644);
	ck_assert_int_eq(mode_of(f), 0644);
	pid = other_change(f, 0600, 9, &release);
	ck_assert_int_eq(mode_of(f), 0600);
	ck_assert_int_eq(size_of(f), 9);
	other_end(pid, release);
}
END_TEST

/* A forked child sees its own changes at once, with the parent's kept. */
START_TEST(fork_child_own)
{
	const char *f = "/scheme/walk/forked";
	int status;
	pid_t pid;

	memfs_file(f, 2);
	ck_assert_int_eq(mode_of(f), 0644);
	ck_assert_int_eq(size_of(f), 2);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(f, O_WRONLY | O_APPEND);
		bool ok = chmod(f, 0600) == 0 && mode_of(f) == 0600 &&
			  fd >= 0 && write(fd, "xyz", 3) == 3 &&
			  size_of(f) == 5;

		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(mode_of(f), 0600);
	ck_assert_int_eq(size_of(f), 5);
}
END_TEST

static Suite *
walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("round trips");

	tcase_add_unchecked_fixture(tc, world_start, world_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, one_round_trip, 0,
			    sizeof(calls) / sizeof(calls[0]));
	tcase_add_test(tc, missing);
	tcase_add_loop_test(tc, client_dies_midway, 0, 2);
	tcase_add_test(tc, listings);
	tcase_add_test(tc, find_stats_no_file);
	tcase_add_test(tc, types_and_inodes);
	tcase_add_test(tc, walks_match_disk);
	suite_add_tcase(s, tc);
	tc = tcase_create("cache");
	tcase_add_unchecked_fixture(tc, world_start, world_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kept_stat);
	tcase_add_test(tc, kept_enoent);
	tcase_add_test(tc, no_grant_no_cache);
	tcase_add_test(tc, own_changes_seen);
	tcase_add_test(tc, listing_fills_stats);
	tcase_add_test(tc, provider_changes_late);
	tcase_add_test(tc, others_changes_seen);
	tcase_add_test(tc, fork_child_own);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--call") == 0)
		return call_main(argv[2], argv[3]);
	return h_main(walk_suite());
}
