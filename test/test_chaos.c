/*
 * test_chaos.c - a broker that bad timing and crashes cannot break.
 *
 * Runs under the preload.  The test starts a broker, one provider it
 * never touches (`stable`, a scheme-memfs) and NVICTIMS victims (v0, v2:
 * scheme-memfs; v1, v3: scheme-hello).  Client processes (6), forks of
 * this one, loop over open/write/lseek/read/fstat/unlink/close, poll,
 * event: queues, time: deadlines, the root listing and fds shared with a
 * forked child, against all of them.  Then, round after round, a random
 * victim or a random client is killed with SIGKILL at a random moment
 * and replaced (a victim under the same name).
 *
 * What must hold, and is checked:
 *  - every answer a client got is the right one, byte for byte; on the
 *    stable provider and the broker's own schemes every call works;
 *  - a call on a victim may fail only as a dead provider's calls do
 *    (EIO, EBADF, ENODEV, ENOENT), never with wrong data or an EOF;
 *  - nobody hangs: every client op has a bound, a client stuck in one op
 *    for HANG_MS is reported and killed, and at the end every client
 *    finishes by itself;
 *  - no client dies by itself, and no provider either;
 *  - a killed provider's name is gone from the broker promptly;
 *  - afterwards the broker is alive and answers, holds exactly as many
 *    fds and control connections as before the chaos, and its RSS is
 *    back within RSS_SLACK_KB of what it was (malloc keeps some freed
 *    pages, so a small slack; a leak per kill or per request grows far
 *    beyond it over a run); it exits cleanly when stopped (its leak
 *    check, under ASan or valgrind, is part of that).
 *
 * Knobs (the environment):
 *	SCHEME_CHAOS_SEED	the PRNG seed; default from the clock.  It is
 *				printed: the same seed gives the same choices
 *				(ops, sizes, victims, who is killed), though
 *				not the same timing.
 *	SCHEME_CHAOS_ROUNDS	kill rounds (default 200)
 *	SCHEME_CHAOS_SECONDS	bound of the chaos phase (default 30)
 *	SCHEME_CHAOS_CLIENTS	clients at a time (default 6)
 *
 * Nothing here asserts before every process it started is stopped: a
 * failed check must not leave a broker behind.  Problems, the clients'
 * too (through shared memory), are collected and reported together.
 *
 * A second case, interrupted_read_takes_no_data, checks the other thing
 * that lands at random moments, a signal, where the chaos clients cannot
 * see what goes wrong.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

#define NVICTIMS     4
#define MAX_CLIENTS  64	  /* at a time */
#define MAX_SLOTS    4096 /* every client ever started */
#define MAX_PROBLEMS 64
#define HANG_MS	     5000 /* one op longer than this is a hang */
#define RSS_SLACK_KB 512
#define SMALL_MAX    (64 * 1024)  /* bytes written to a victim at most */
#define BIG_MAX	     (320 * 1024) /* to stable: more than one message */
#define MAX_FDS	     1024	  /* the broker's, remembered by name */

enum op {
	OP_IDLE = -1,
	OP_STABLE_FILE,
	OP_VICTIM_FILE,
	OP_VICTIM_WORLD,
	OP_HELLO,
	OP_VICTIM_FIFO,
	OP_STABLE_FIFO,
	OP_POLL,
	OP_EVENT,
	OP_TIME,
	OP_ROOT,
	OP_FORK,
	OP_HOLD,
	NOPS
};

static const char *const op_names[NOPS] = {
    "stable file", "victim file", "victim world", "hello",
    "victim fifo", "stable fifo", "poll",	  "event:",
    "time:",	   "root",	  "fork",	  "hold",
};

/* The errors a dead provider's calls may give, counted apart. */
enum refusal { R_EIO, R_EBADF, R_ENOENT, R_ENODEV, NREFUSALS };

/* One client's figures, in memory shared with the test. */
struct slot {
	_Atomic int pid;
	_Atomic int op;	       /* what it does now, or OP_IDLE */
	_Atomic int64_t since; /* since when, ms on CLOCK_MONOTONIC */
	_Atomic uint64_t ops;  /* ops finished */
	_Atomic uint64_t good; /* calls whose answer was checked right */
	_Atomic uint64_t intr; /* waits a signal ended, as asked */
	_Atomic uint64_t refused[NREFUSALS];
};

struct shared {
	_Atomic int stop;
	_Atomic int nproblems;
	char problem[MAX_PROBLEMS][256];
	struct slot slot[MAX_SLOTS];
};

struct victim {
	char name[8];
	const char *prog;
	bool hello; /* scheme-hello, else scheme-memfs */
	pid_t pid;
};

/* What the test keeps: its processes and the figures of the run. */
struct world {
	uint64_t seed, rng;
	pid_t broker, stable, parent;
	struct victim v[NVICTIMS];
	int live[MAX_CLIENTS], nlive, nclients, nslots;
	unsigned rounds, kills_prov, kills_cli, hung, retries;
	long fd_cold, fd_base, fd_peak, fd_end;
	long rss_cold, rss_base, rss_peak, rss_end;
	long conns_base, conns_end;
	char fds_base[MAX_FDS][48];
	int nfds_base;
};

static struct shared *sh;
static int scale = 1; /* waits are longer under the sanitizers, valgrind */

/* Both used by one client at a time: each client is its own process. */
static unsigned char wbuf[BIG_MAX], rbuf[BIG_MAX + 1];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
problem(const char *fmt, ...)
{
	int i = atomic_fetch_add(&sh->nproblems, 1);
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "chaos: PROBLEM: %s\n", msg);
	if (i < MAX_PROBLEMS)
		memcpy(sh->problem[i], msg, sizeof(msg));
}

/* splitmix64: every seed, 0 too, gives a good sequence. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
below(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static long long
env_num(const char *name, long long dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? (long long)strtoull(v, NULL, 0) : dflt;
}

/* The client side ------------------------------------------------------ */

struct client {
	int k; /* its slot */
	struct slot *sl;
	uint64_t rng;
	uint64_t n; /* ops begun: makes every name and pattern unique */
	int op;
	int fds0; /* fds it had before its first op */
};

static void
on_alarm(int sig)
{
	/* Only there to interrupt a wait: EINTR is what we want. */
}

static void
good(struct client *c, unsigned n)
{
	atomic_fetch_add(&c->sl->good, n);
}

/*
 * The outcome of one call: true if it worked.  A failure is a problem,
 * except, on a victim, the errors of a provider that died.
 */
static bool
ok(struct client *c, long r, bool victim, const char *what, const char *path)
{
	int e = errno, i = -1;

	if (r >= 0)
		return true;
	if (victim) {
		i = e == EIO	  ? R_EIO
		    : e == EBADF  ? R_EBADF
		    : e == ENOENT ? R_ENOENT
		    : e == ENODEV ? R_ENODEV
				  : -1;
	}
	if (i >= 0)
		atomic_fetch_add(&c->sl->refused[i], 1);
	else
		problem("client %d (pid %d), op %s: %s %s: %s", c->k,
			(int)getpid(), op_names[c->op], what, path,
			strerror(e));
	return false;
}

/* Bytes to write: mostly small, now and then more than one message. */
static size_t
pattern_len(struct client *c, bool victim)
{
	if (below(&c->rng, 8) != 0)
		return 1 + below(&c->rng, 4096);
	return 1 + below(&c->rng, victim ? SMALL_MAX : BIG_MAX);
}

/* A pattern no other write makes: who, which op, then noise. */
static void
fill(struct client *c, unsigned char *buf, size_t len)
{
	uint64_t s = c->rng ^ c->n;
	char head[32];
	size_t i, h;

	h = (size_t)snprintf(head, sizeof(head), "<%d:%llu>", c->k,
			     (unsigned long long)c->n);
	for (i = 0; i < len; i++)
		buf[i] =
		    i < h ? (unsigned char)head[i] : (unsigned char)rnd(&s);
}

/*
 * Read until len bytes or the end.  On an error the bytes read so far
 * must still be right: they are left in *got for the caller to compare.
 */
static ssize_t
read_all(int fd, unsigned char *buf, size_t len, size_t *got)
{
	ssize_t n;

	*got = 0;
	while (*got < len) {
		n = read(fd, buf + *got, len - *got);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return (ssize_t)*got;
}

static bool
same(struct client *c, const char *path, const unsigned char *got, size_t ngot,
     const unsigned char *want, size_t nwant, bool prefix)
{
	size_t i, n = ngot < nwant ? ngot : nwant;

	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	if (i == n && (ngot == nwant || (prefix && ngot < nwant)))
		return true;
	problem("client %d (pid %d), op %s: %s: wrong data: %zu bytes, "
		"%zu wanted, first difference at %zu",
		c->k, (int)getpid(), op_names[c->op], path, ngot, nwant, i);
	return false;
}

/* Read what should be there, exactly: not less, not more. */
static bool
read_check(struct client *c, int fd, const char *path, bool victim,
	   const unsigned char *want, size_t len)
{
	size_t got;
	ssize_t n = read_all(fd, rbuf, len + 1, &got);
	int e = errno;

	if (!same(c, path, rbuf, got, want, len, n < 0))
		return false;
	errno = e;
	return ok(c, n, victim, "read", path);
}

/*
 * A file of our own: write a pattern, read it back, check its size, and
 * remove it.  Victims get the /scheme/ form: with the provider gone, an
 * O_CREAT must fail rather than make a file on disk.
 */
static void
op_file(struct client *c, const char *scheme, bool victim)
{
	size_t len = pattern_len(c, victim);
	char path[64];
	struct stat st;
	ssize_t n;
	int fd;

	if (victim || below(&c->rng, 2))
		snprintf(path, sizeof(path), "/scheme/%s/c%d", scheme, c->k);
	else
		snprintf(path, sizeof(path), "%s:c%d", scheme, c->k);
	fill(c, wbuf, len);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	if (!ok(c, fd, victim, "open", path))
		return;
	n = write(fd, wbuf, len);
	if (!ok(c, n, victim, "write", path))
		goto out;
	if ((size_t)n != len) {
		problem("client %d, op %s: %s: wrote %zd of %zu bytes", c->k,
			op_names[c->op], path, n, len);
		goto out;
	}
	if (!ok(c, lseek(fd, 0, SEEK_SET), victim, "lseek", path) ||
	    !read_check(c, fd, path, victim, wbuf, len) ||
	    !ok(c, fstat(fd, &st), victim, "fstat", path))
		goto out;
	if (st.st_size != (off_t)len) {
		problem("client %d, op %s: %s: st_size %lld, %zu written", c->k,
			op_names[c->op], path, (long long)st.st_size, len);
		goto out;
	}
	good(c, 5);
	if (ok(c, unlink(path), victim, "unlink", path))
		good(c, 1);
out:
	close(fd);
}

/* A victim's file whose contents we know. */
static void
op_known(struct client *c, const char *path, const char *want)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (!ok(c, fd, true, "open", path))
		return;
	if (read_check(c, fd, path, true, (const unsigned char *)want,
		       strlen(want)))
		good(c, 2);
	close(fd);
}

static void
op_hello(struct client *c)
{
	int v = 2 * (int)below(&c->rng, NVICTIMS / 2) + 1;
	char path[64], want[80];

	snprintf(path, sizeof(path), "v%d:c%d-%llu", v, c->k,
		 (unsigned long long)c->n);
	snprintf(want, sizeof(want), "Hello, %s!\n", strchr(path, ':') + 1);
	op_known(c, path, want);
}

/*
 * SIGALRM in ms, and again every ms until disarmed: a signal that comes
 * before the read blocks (a slow first request, valgrind) interrupts
 * nothing, and a one-shot timer would leave the read waiting for ever.
 */
static void
arm(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct itimerval it = {tv, tv};

	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * A read of an empty fifo waits (the provider keeps the request) until
 * our timer interrupts it, or until the provider dies.  Nobody writes
 * into the fifos: any byte read is wrong, and so is an end of file.
 */
static void
op_fifo(struct client *c, const char *scheme, bool victim)
{
	char path[32];
	ssize_t n;
	int fd, e;

	snprintf(path, sizeof(path), "%s:fifo", scheme);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!ok(c, fd, victim, "open", path))
		return;
	arm(5 + (int)below(&c->rng, victim ? 150 : 30));
	n = read(fd, rbuf, 64);
	e = errno;
	arm(0);
	if (n >= 0)
		problem("client %d, op %s: read of %s gave %zd, nobody wrote",
			c->k, op_names[c->op], path, n);
	else if (e == EINTR)
		atomic_fetch_add(&c->sl->intr, 1);
	else if (errno = e, ok(c, -1, victim, "read", path))
		good(c, 1);
	close(fd);
}

/* Readiness, at once for a file; a fifo nobody writes is never readable. */
static void
op_poll(struct client *c)
{
	char path[64], vpath[32];
	struct pollfd pf;
	int fd, vfd, r;

	snprintf(path, sizeof(path), "stable:c%d-p", c->k);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (!ok(c, fd, false, "open", path))
		return;
	pf = (struct pollfd){fd, POLLIN | POLLOUT, 0};
	r = poll(&pf, 1, 2000 * scale);
	if (r != 1 || pf.revents != (POLLIN | POLLOUT))
		problem("client %d, op poll: %s: poll %d, revents %#x", c->k,
			path, r, (unsigned)pf.revents);
	else
		good(c, 2);
	close(fd);
	snprintf(vpath, sizeof(vpath), "v%d:fifo",
		 2 * (int)below(&c->rng, NVICTIMS / 2));
	vfd = open(vpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (!ok(c, vfd, true, "open", vpath))
		return;
	pf = (struct pollfd){vfd, POLLIN, 0};
	r = poll(&pf, 1, 5 + (int)below(&c->rng, 100));
	if (!ok(c, r, true, "poll", vpath) || r == 0) {
		close(vfd);
		return;
	}
	/* Readable: the provider died, or a wake-up was spurious. */
	r = (int)read(vfd, rbuf, 64);
	if (r >= 0)
		problem("client %d, op poll: read of %s gave %d (revents %#x)",
			c->k, vpath, r, (unsigned)pf.revents);
	else if (errno == EAGAIN || ok(c, r, true, "read", vpath))
		good(c, 1);
	close(vfd);
}

/* Events read from q within ms: true if one with token came. */
static bool
event_came(struct client *c, int q, uint64_t token, int fd, int ms)
{
	struct scheme_event ev[8];
	int64_t end = now_ms() + ms;
	struct pollfd p = {q, POLLIN, 0};
	int64_t left;
	ssize_t n, i;

	while ((left = end - now_ms()) > 0) {
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(q, ev, sizeof(ev));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (!ok(c, n, false, "read", "event:"))
			return false;
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			if (ev[i].data == token && ev[i].id == (uint64_t)fd &&
			    (ev[i].flags & EVENT_READ))
				return true;
			problem("client %d, op %s: event {%llu, %llu, %llu}, "
				"expected {%d, READ, %llu}",
				c->k, op_names[c->op],
				(unsigned long long)ev[i].id,
				(unsigned long long)ev[i].flags,
				(unsigned long long)ev[i].data, fd,
				(unsigned long long)token);
			return false;
		}
	}
	return false;
}

static bool
reg(struct client *c, int q, int fd, uint64_t token, bool victim)
{
	struct scheme_event ev = {(uint64_t)fd, EVENT_READ, token};
	ssize_t n = write(q, &ev, sizeof(ev));

	if (!ok(c, n, victim, "write", "event:"))
		return false;
	if (n == (ssize_t)sizeof(ev))
		return true;
	problem("client %d: registration took %zd bytes", c->k, n);
	return false;
}

/*
 * A file is readable, so registering it gives an event at once: from
 * stable it must come, with our token; from a victim it may not (the
 * provider may be gone), but one that comes must be ours.
 */
static void
op_event(struct client *c)
{
	uint64_t token = rnd(&c->rng);
	char path[64];
	int q, fd = -1, vfd = -1;

	q = open("event:", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (!ok(c, q, false, "open", "event:"))
		return;
	snprintf(path, sizeof(path), "stable:c%d-e", c->k);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (!ok(c, fd, false, "open", path) || !reg(c, q, fd, token, false))
		goto out;
	if (!event_came(c, q, token, fd, 2000 * scale)) {
		problem("client %d, op event: no event for %s", c->k, path);
		goto out;
	}
	good(c, 3);
	snprintf(path, sizeof(path), "/scheme/v%d/c%d-e",
		 2 * (int)below(&c->rng, NVICTIMS / 2), c->k);
	vfd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (ok(c, vfd, true, "open", path) && reg(c, q, vfd, token + 1, true) &&
	    event_came(c, q, token + 1, vfd, 200 * scale))
		good(c, 2);
out:
	if (vfd >= 0)
		close(vfd);
	if (fd >= 0)
		close(fd);
	close(q);
}

static struct scheme_timespec
ts_in(int ms)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = now.tv_nsec + (int64_t)ms * 1000000;
	return (struct scheme_timespec){now.tv_sec + ns / 1000000000,
					(int32_t)(ns % 1000000000)};
}

static bool
ts_le(const struct timespec *a, const struct scheme_timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

/*
 * time:4 reads the monotonic clock and fires a deadline as an event.
 * Some files also get far deadlines before they close (or their client
 * is killed): the broker must not keep them for files gone.
 */
static void
op_time(struct client *c)
{
	struct scheme_timespec t, far[64];
	struct timespec before, after;
	uint64_t token = rnd(&c->rng);
	int fd, q = -1, i;
	ssize_t n;

	fd = open("time:4", O_RDWR | O_CLOEXEC);
	if (!ok(c, fd, false, "open", "time:4"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &before);
	n = read(fd, &t, sizeof(t));
	clock_gettime(CLOCK_MONOTONIC, &after);
	if (!ok(c, n, false, "read", "time:4"))
		goto out;
	if (n != (ssize_t)sizeof(t) || !ts_le(&before, &t) ||
	    (t.tv_sec == after.tv_sec ? t.tv_nsec > after.tv_nsec
				      : t.tv_sec > after.tv_sec)) {
		problem("client %d, op time: read %zd bytes, %lld.%09d not "
			"between %lld.%09ld and %lld.%09ld",
			c->k, n, (long long)t.tv_sec, t.tv_nsec,
			(long long)before.tv_sec, before.tv_nsec,
			(long long)after.tv_sec, after.tv_nsec);
		goto out;
	}
	q = open("event:", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (!ok(c, q, false, "open", "event:") || !reg(c, q, fd, token, false))
		goto out;
	t = ts_in(1 + (int)below(&c->rng, 4));
	n = write(fd, &t, sizeof(t));
	if (!ok(c, n, false, "write", "time:4"))
		goto out;
	if (!event_came(c, q, token, fd, 2000 * scale)) {
		problem("client %d, op time: the deadline did not fire", c->k);
		goto out;
	}
	good(c, 4);
	if (below(&c->rng, 4) == 0) {
		for (i = 0; i < 64; i++)
			far[i] = ts_in(3600 * 1000 + i);
		n = write(fd, far, sizeof(far));
		if (ok(c, n, false, "write", "time:4") &&
		    n == (ssize_t)sizeof(far))
			good(c, 1);
	}
out:
	if (q >= 0)
		close(q);
	close(fd);
}

/* The root lists the schemes sorted, one a line; stable is always there. */
static void
op_root(struct client *c)
{
	int fd = open(":", O_RDONLY | O_CLOEXEC);
	char *list = (char *)rbuf, *line, *next, *prev = NULL;
	bool stable = false;
	size_t got;

	if (!ok(c, fd, false, "open", ":"))
		return;
	if (!ok(c, read_all(fd, rbuf, 65536, &got), false, "read", ":"))
		goto out;
	list[got] = '\0';
	for (line = list; *line != '\0'; line = next + 1) {
		if ((next = strchr(line, '\n')) == NULL || next == line)
			break;
		*next = '\0';
		if (prev != NULL && strcmp(prev, line) >= 0)
			break;
		stable = stable || strcmp(line, "stable") == 0;
		prev = line;
	}
	if (*line != '\0' || !stable) {
		problem("client %d, op root: a bad listing of %zu bytes", c->k,
			got);
		goto out;
	}
	good(c, 2);
out:
	close(fd);
}

/*
 * A file shared with a forked child: the child reads it through the fd
 * it inherited (over a channel of its own), and the offset it leaves is
 * the one we see: dups share one description.
 */
static void
op_fork(struct client *c)
{
	size_t len = pattern_len(c, false);
	char path[64];
	int fd, st = 0;
	int64_t end;
	pid_t pid;

	snprintf(path, sizeof(path), "stable:c%d-f", c->k);
	fill(c, wbuf, len);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	if (!ok(c, fd, false, "open", path))
		return;
	if (write(fd, wbuf, len) != (ssize_t)len) {
		problem("client %d, op fork: write %s: %s", c->k, path,
			strerror(errno));
		goto out;
	}
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(ok(c, lseek(fd, 0, SEEK_SET), false, "lseek", path) &&
			      read_check(c, fd, path, false, wbuf, len)
			  ? 0
			  : 1);
	}
	if (pid < 0)
		goto out;
	for (end = now_ms() + HANG_MS * scale; now_ms() < end;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		h_sleep_ms(1);
	}
	if (now_ms() >= end) {
		problem("client %d, op fork: the child hung", c->k);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	} else if (st == 0 && lseek(fd, 0, SEEK_CUR) == (off_t)len) {
		good(c, 4);
	} else if (st == 0) {
		problem("client %d, op fork: offset %lld after the child read "
			"%zu bytes",
			c->k, (long long)lseek(fd, 0, SEEK_CUR), len);
	}
out:
	close(fd);
}

/* Files held open a while: kills land while they are open. */
static void
op_hold(struct client *c)
{
	int fds[4], i, n = 1 + (int)below(&c->rng, 3), v;
	char path[64];

	snprintf(path, sizeof(path), "stable:c%d-h", c->k);
	fds[0] = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (ok(c, fds[0], false, "open", path))
		good(c, 1);
	for (i = 1; i <= n; i++) {
		v = (int)below(&c->rng, NVICTIMS);
		if (v % 2 == 0)
			snprintf(path, sizeof(path), "/scheme/v%d/c%d-h%d", v,
				 c->k, i);
		else
			snprintf(path, sizeof(path), "v%d:c%d-h%d", v, c->k, i);
		fds[i] = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		if (ok(c, fds[i], true, "open", path))
			good(c, 1);
	}
	h_sleep_ms(1 + (int)below(&c->rng, 30));
	for (i = 0; i <= n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void
run_op(struct client *c)
{
	int v = 2 * (int)below(&c->rng, NVICTIMS / 2);
	char name[8], path[16];

	snprintf(name, sizeof(name), "v%d", v);
	switch (c->op) {
	case OP_STABLE_FILE:
		op_file(c, "stable", false);
		break;
	case OP_VICTIM_FILE:
		op_file(c, name, true);
		break;
	case OP_VICTIM_WORLD:
		snprintf(path, sizeof(path), "v%d:world", v);
		op_known(c, path, "Hello, world!\n");
		break;
	case OP_HELLO:
		op_hello(c);
		break;
	case OP_VICTIM_FIFO:
		op_fifo(c, name, true);
		break;
	case OP_STABLE_FIFO:
		op_fifo(c, "stable", false);
		break;
	case OP_POLL:
		op_poll(c);
		break;
	case OP_EVENT:
		op_event(c);
		break;
	case OP_TIME:
		op_time(c);
		break;
	case OP_ROOT:
		op_root(c);
		break;
	case OP_FORK:
		op_fork(c);
		break;
	default:
		op_hold(c);
		break;
	}
}

static void __attribute__((noreturn))
client_main(int k, uint64_t seed, pid_t parent)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct client c = {.k = k, .sl = &sh->slot[k], .rng = seed};
	int fds;

	/* Never outlive the test, whatever happens to it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	sigaction(SIGALRM, &sa, NULL);
	c.fds0 = h_count_fds();
	while (!atomic_load(&sh->stop)) {
		c.op = (int)below(&c.rng, NOPS);
		c.n++;
		atomic_store(&c.sl->since, now_ms());
		atomic_store(&c.sl->op, c.op);
		run_op(&c);
		atomic_store(&c.sl->op, OP_IDLE);
		atomic_fetch_add(&c.sl->ops, 1);
		/* The preload's own fds are hidden: none may show. */
		if (c.n % 16 == 0 && (fds = h_count_fds()) != c.fds0) {
			problem("client %d: %d fds open, %d at the start", c.k,
				fds, c.fds0);
			c.fds0 = fds;
		}
	}
	_exit(0);
}

/* The test's side ------------------------------------------------------ */

static long
proc_fds(pid_t pid, char (*names)[48], int max)
{
	char path[32], link[320], target[48];
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (names != NULL && n < max) {
			ssize_t len;

			snprintf(link, sizeof(link), "%s/%.255s", path,
				 e->d_name);
			len = readlink(link, target, sizeof(target) - 1);
			target[len > 0 ? len : 0] = '\0';
			snprintf(names[n], 48, "%.8s -> %.34s", e->d_name,
				 target);
		}
		n++;
	}
	closedir(d);
	return n;
}

/* A number from `schemectl info` (the broker answering), or -1. */
static long
info_field(const char *key)
{
	char *argv[] = {(char *)TEST_SCHEMECTL, (char *)"info", NULL};
	struct run_result *r = malloc(sizeof(*r));
	char *p;
	long v = -1;

	if (r == NULL)
		return -1;
	h_run(r, false, NULL, 5 * scale, argv);
	if (r->status == 0 && (p = strstr(r->out, key)) != NULL)
		v = strtol(p + strlen(key), NULL, 10);
	free(r);
	return v;
}

/* Our broker is still running: not dead, not a zombie. */
static bool
broker_alive(struct world *w)
{
	int st;

	return w->broker > 0 && waitpid(w->broker, &st, WNOHANG) == 0;
}

static void
sample(struct world *w)
{
	long fds = proc_fds(w->broker, NULL, 0), rss = h_rss_kb(w->broker);

	if (fds > w->fd_peak)
		w->fd_peak = fds;
	if (rss > w->rss_peak)
		w->rss_peak = rss;
}

static void
client_start(struct world *w)
{
	int k = w->nslots;
	pid_t pid;

	if (k >= MAX_SLOTS || w->nlive >= MAX_CLIENTS)
		return;
	/* Idle until it begins its first op, not hung since the epoch. */
	atomic_store(&sh->slot[k].op, OP_IDLE);
	atomic_store(&sh->slot[k].since, now_ms());
	pid = fork();
	if (pid == 0)
		client_main(k, w->seed ^ (0x9e3779b97f4a7c15ULL * (k + 1)),
			    w->parent);
	if (pid < 0) {
		problem("fork: %s", strerror(errno));
		return;
	}
	w->nslots++;
	w->nclients++;
	atomic_store(&sh->slot[k].pid, pid);
	w->live[w->nlive++] = k;
}

static void
client_forget(struct world *w, int i)
{
	w->live[i] = w->live[--w->nlive];
}

/* Kill the i-th live client and reap it; it is not replaced here. */
static void
client_kill(struct world *w, int i)
{
	pid_t pid = atomic_load(&sh->slot[w->live[i]].pid);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	client_forget(w, i);
}

/*
 * Clients only end when we say so: one that exited is a problem (a crash
 * in the preload, a sanitizer's report); one stuck in an op, too.
 */
static void
clients_check(struct world *w)
{
	int i, st, k;
	pid_t pid;
	int64_t since;

	for (i = 0; i < w->nlive; i++) {
		k = w->live[i];
		pid = atomic_load(&sh->slot[k].pid);
		if (waitpid(pid, &st, WNOHANG) == pid) {
			problem("client %d (pid %d) ended by itself: %s %d", k,
				(int)pid, WIFEXITED(st) ? "status" : "signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			client_forget(w, i--);
			client_start(w);
			continue;
		}
		since = atomic_load(&sh->slot[k].since);
		if (atomic_load(&sh->slot[k].op) != OP_IDLE &&
		    now_ms() - since > HANG_MS * scale) {
			problem("client %d (pid %d) hung in op %s for %lld ms",
				k, (int)pid, op_names[sh->slot[k].op],
				(long long)(now_ms() - since));
			w->hung++;
			client_kill(w, i--);
			client_start(w);
		}
	}
}

/* Stop every client: each finishes its op and exits 0, in bounded time. */
static void
clients_stop(struct world *w)
{
	int64_t end = now_ms() + HANG_MS * scale;
	int i, st, k;
	pid_t pid;

	atomic_store(&sh->stop, 1);
	while (w->nlive > 0) {
		for (i = 0; i < w->nlive; i++) {
			k = w->live[i];
			pid = atomic_load(&sh->slot[k].pid);
			if (waitpid(pid, &st, WNOHANG) != pid)
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				problem("client %d (pid %d) ended with "
					"status %#x",
					k, (int)pid, (unsigned)st);
			client_forget(w, i--);
		}
		if (w->nlive > 0 && now_ms() > end) {
			k = w->live[0];
			problem("client %d (pid %d) did not finish: in op %s "
				"for %lld ms",
				k, (int)sh->slot[k].pid,
				sh->slot[k].op >= 0 ? op_names[sh->slot[k].op]
						    : "none",
				(long long)(now_ms() - sh->slot[k].since));
			w->hung++;
			client_kill(w, 0);
		}
		h_sleep_ms(5);
	}
	atomic_store(&sh->stop, 0);
}

static void
victim_start(struct world *w, struct victim *v)
{
	int i;

	for (i = 0; i < 3; i++) {
		if ((v->pid = h_start_provider(v->prog, v->name)) > 0)
			return;
		w->retries++;
		h_sleep_ms(50);
	}
	problem("victim %s did not start, 3 times", v->name);
}

/* SIGKILL a victim, see its name go, start it again under that name. */
static void
victim_kill(struct world *w, struct victim *v)
{
	int64_t end;

	kill(v->pid, SIGKILL);
	if (h_wait_exit(v->pid, 10) < 0)
		problem("victim %s (pid %d) not reaped", v->name, (int)v->pid);
	v->pid = -1;
	w->kills_prov++;
	for (end = now_ms() + 2000 * scale;
	     h_scheme_exists(v->name) && now_ms() < end;)
		h_sleep_ms(2);
	if (h_scheme_exists(v->name))
		problem("scheme %s still listed %d s after its provider died",
			v->name, 2 * scale);
	victim_start(w, v);
}

/* A provider that exited by itself: a crash, worth a report. */
static void
victims_check(struct world *w)
{
	int i, st;

	if (w->stable > 0 && waitpid(w->stable, &st, WNOHANG) == w->stable) {
		problem("the stable provider ended by itself: status %#x",
			(unsigned)st);
		w->stable = -1;
	}
	for (i = 0; i < NVICTIMS; i++) {
		struct victim *v = &w->v[i];

		if (v->pid > 0 && waitpid(v->pid, &st, WNOHANG) == v->pid) {
			problem("victim %s (pid %d) ended by itself: status "
				"%#x",
				v->name, (int)v->pid, (unsigned)st);
			victim_start(w, v);
		}
	}
}

/* Wait until the broker's fds and connections come back to the baseline. */
static void
settle(struct world *w, long fds, long conns)
{
	int64_t end = now_ms() + 5000 * scale;

	do {
		w->fd_end = proc_fds(w->broker, NULL, 0);
		w->conns_end = info_field("connections ");
		if (w->fd_end == fds && w->conns_end == conns)
			return;
		h_sleep_ms(100);
	} while (now_ms() < end);
}

static void
chaos_round(struct world *w)
{
	unsigned what = below(&w->rng, 100);

	h_sleep_ms(1 + (int)below(&w->rng, 25));
	sample(w);
	clients_check(w);
	victims_check(w);
	if (what < 40) {
		victim_kill(w, &w->v[below(&w->rng, NVICTIMS)]);
	} else if (what < 85 && w->nlive > 0) {
		client_kill(w, (int)below(&w->rng, (unsigned)w->nlive));
		w->kills_cli++;
		client_start(w);
	}
	if (w->rounds % 20 == 0 && !h_scheme_exists("stable"))
		problem("round %u: the broker does not list stable", w->rounds);
}

static void
fds_diff(struct world *w)
{
	static char now[MAX_FDS][48];
	long n = proc_fds(w->broker, now, MAX_FDS), i, j;

	for (i = 0; i < n && i < MAX_FDS; i++) {
		for (j = 0; j < w->nfds_base; j++)
			if (strcmp(now[i], w->fds_base[j]) == 0)
				break;
		if (j == w->nfds_base)
			fprintf(stderr,
				"chaos: broker fd not at baseline: %s\n",
				now[i]);
	}
}

static void
start_world(struct world *w)
{
	int i;

	h_setup_env();
	if (getenv("LD_PRELOAD") == NULL ||
	    strstr(getenv("LD_PRELOAD"), "scheme-preload") == NULL)
		problem("not under the preload: run it with ctest, or with "
			"LD_PRELOAD=.../libscheme-preload.so");
	if (chdir(h_dir()) < 0) /* where a stray ordinary file would go */
		problem("chdir %s: %s", h_dir(), strerror(errno));
	w->parent = getpid();
	w->broker = h_start_broker();
	w->stable = h_start_memfs("stable");
	if (w->broker < 0 || w->stable < 0)
		problem("the broker or stable did not start");
	for (i = 0; i < NVICTIMS; i++) {
		snprintf(w->v[i].name, sizeof(w->v[i].name), "v%d", i);
		w->v[i].hello = i % 2 == 1;
		w->v[i].prog = w->v[i].hello ? TEST_HELLO : TEST_MEMFS;
		victim_start(w, &w->v[i]);
	}
}

/*
 * Stop what we started; a daemon must exit 0 (its leak checks pass).
 * scheme-hello, the smallest provider, leaves SIGTERM to its default.
 */
static void
stop_world(struct world *w)
{
	int i, st;

	for (i = 0; i < NVICTIMS; i++) {
		if (w->v[i].pid <= 0 || (st = h_stop(w->v[i].pid)) == 0 ||
		    (w->v[i].hello && st == 128 + SIGTERM))
			continue;
		problem("victim %s exited with status %d", w->v[i].name, st);
	}
	if (w->stable > 0 && (st = h_stop(w->stable)) != 0)
		problem("stable exited with status %d", st);
	if (w->broker > 0 && (st = h_stop(w->broker)) != 0)
		problem("the broker exited with status %d; see %s/broker.log",
			st, h_dir());
}

/*
 * The baseline is taken after a warm-up with the same clients and no
 * kills: the broker's allocator has then grown to its working size, and
 * what remains is what the chaos adds.  The cold figures are printed too.
 */
static void
baseline(struct world *w)
{
	int i;

	h_sleep_ms(200);
	w->fd_cold = proc_fds(w->broker, NULL, 0);
	w->rss_cold = h_rss_kb(w->broker);
	w->conns_base = info_field("connections ");
	for (i = 0; i < (int)env_num("SCHEME_CHAOS_CLIENTS", 6); i++)
		client_start(w);
	h_sleep_ms(500 * scale);
	clients_stop(w);
	settle(w, w->fd_cold, w->conns_base);
	if (w->fd_end != w->fd_cold)
		problem("after the warm-up the broker has %ld fds, %ld before",
			w->fd_end, w->fd_cold);
	/*
	 * The list, once it has the settled count again: info_field()'s own
	 * connection may not have been closed by the broker yet.
	 */
	for (i = 0; i < 100; i++) {
		w->nfds_base = (int)proc_fds(w->broker, w->fds_base, MAX_FDS);
		if (w->nfds_base == w->fd_end)
			break;
		h_sleep_ms(20);
	}
	w->fd_base = w->fd_peak = w->nfds_base;
	w->rss_base = w->rss_peak = h_rss_kb(w->broker);
}

static void
chaos(struct world *w)
{
	long rounds = env_num("SCHEME_CHAOS_ROUNDS", 200);
	int64_t end = now_ms() + env_num("SCHEME_CHAOS_SECONDS", 30) * 1000;
	int i, n = (int)env_num("SCHEME_CHAOS_CLIENTS", 6);

	for (i = 0; i < n; i++)
		client_start(w);
	while (w->rounds < rounds && now_ms() < end && broker_alive(w)) {
		chaos_round(w);
		w->rounds++;
	}
	if (!broker_alive(w)) {
		problem("the broker died in round %u", w->rounds);
		w->broker = -1;
	}
	clients_stop(w);
	victims_check(w);
}

/* Everything back where it was, and the broker still answering. */
static void
aftermath(struct world *w)
{
	int i;

	if (w->broker < 0)
		return;
	for (i = 0; i < NVICTIMS; i++)
		if (w->v[i].pid < 0)
			victim_start(w, &w->v[i]);
	settle(w, w->fd_base, w->conns_base);
	w->rss_end = h_rss_kb(w->broker);
	if (!h_scheme_exists("stable") || w->conns_end < 0)
		problem("the broker does not answer");
	for (i = 0; i < NVICTIMS; i++)
		if (!h_scheme_exists(w->v[i].name))
			problem("%s is not listed after the chaos",
				w->v[i].name);
	if (w->fd_end != w->fd_base) {
		problem("the broker has %ld fds, %ld at the baseline",
			w->fd_end, w->fd_base);
		fds_diff(w);
	}
	if (w->conns_end != w->conns_base)
		problem("the broker has %ld connections, %ld at the baseline",
			w->conns_end, w->conns_base);
	/* The sanitizers' quarantine and valgrind keep freed memory: there
	 * their own leak checks at exit stand in for this one. */
	if (scale == 1 && w->rss_end > w->rss_base + RSS_SLACK_KB)
		problem("the broker's RSS is %ld KiB, %ld KiB at the baseline "
			"(slack %d KiB)",
			w->rss_end, w->rss_base, RSS_SLACK_KB);
}

static void
report(struct world *w, double secs)
{
	uint64_t ops = 0, good = 0, intr = 0, ref[NREFUSALS] = {0};
	int k, j;

	for (k = 0; k < w->nslots; k++) {
		ops += sh->slot[k].ops;
		good += sh->slot[k].good;
		intr += sh->slot[k].intr;
		for (j = 0; j < NREFUSALS; j++)
			ref[j] += sh->slot[k].refused[j];
	}
	printf("chaos: seed %llu (replay: SCHEME_CHAOS_SEED=%llu)\n"
	       "chaos: %u rounds in %.1f s; killed %u providers, %u clients"
	       " (%d clients in all, %u hung, %u restarts retried)\n"
	       "chaos: %llu ops, %llu requests verified, %llu waits "
	       "interrupted as asked; victims refused: EIO %llu, EBADF %llu, "
	       "ENOENT %llu, ENODEV %llu\n"
	       "chaos: broker fds cold %ld, baseline %ld, peak %ld, end %ld;"
	       " connections baseline %ld, end %ld\n"
	       "chaos: broker RSS KiB cold %ld, baseline %ld, peak %ld, end "
	       "%ld\n",
	       (unsigned long long)w->seed, (unsigned long long)w->seed,
	       w->rounds, secs, w->kills_prov, w->kills_cli, w->nclients,
	       w->hung, w->retries, (unsigned long long)ops,
	       (unsigned long long)good, (unsigned long long)intr,
	       (unsigned long long)ref[R_EIO], (unsigned long long)ref[R_EBADF],
	       (unsigned long long)ref[R_ENOENT],
	       (unsigned long long)ref[R_ENODEV], w->fd_cold, w->fd_base,
	       w->fd_peak, w->fd_end, w->conns_base, w->conns_end, w->rss_cold,
	       w->rss_base, w->rss_peak, w->rss_end);
	fflush(stdout);
}

START_TEST(kill_providers_and_clients_at_random)
{
	static struct world w;
	int64_t t0 = now_ms(), tc;
	int n;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	if (getenv("SCHEME_TEST_VALGRIND") != NULL)
		scale = 10;
	else if (TEST_ASAN_RUNTIME[0] != '\0')
		scale = 3;
	w.seed = (uint64_t)env_num("SCHEME_CHAOS_SEED", 0);
	if (w.seed == 0)
		w.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	w.rng = w.seed;
	printf("chaos: seed %llu\n", (unsigned long long)w.seed);
	fflush(stdout);
	start_world(&w);
	if (atomic_load(&sh->nproblems) == 0) {
		baseline(&w);
		tc = now_ms();
		chaos(&w);
		tc = now_ms() - tc;
		aftermath(&w);
	} else {
		tc = 0;
	}
	stop_world(&w);
	report(&w, (double)tc / 1000);
	printf("chaos: %.1f s in all\n", (double)(now_ms() - t0) / 1000);
	n = atomic_load(&sh->nproblems);
	if (n > 0)
		h_daemon_failures++; /* keep the logs */
	ck_assert_msg(n == 0, "%d problems (logs in %s); the first: %s", n,
		      h_dir(), sh->problem[0]);
}
END_TEST

/*
 * Signals are the other thing that lands at random moments.  On Linux a
 * read a signal interrupts takes nothing: the next read of a pipe gets
 * the first bytes written after.  Here the interrupted read's request
 * stays with the provider (the preload only drops its channel), so the
 * provider gives it the next bytes written, and its answer, sent to a
 * channel nobody reads, is thrown away.  The chaos clients cannot see
 * this (nobody writes into their fifos, and a lost byte is not a wrong
 * one); this case does, deterministically.
 */
START_TEST(interrupted_read_takes_no_data)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	char buf[8] = "";
	ssize_t first = 0, w = -1, next = -1;
	int fd = -1, wfd = -1, e = 0, sb, sm;
	pid_t broker, memfs = -1;

	h_setup_env();
	if ((broker = h_start_broker()) > 0)
		memfs = h_start_memfs("sig");
	sigaction(SIGALRM, &sa, NULL);
	if (memfs > 0)
		fd = open("sig:fifo", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		arm(100);
		first = read(fd, buf, 4);
		e = errno;
		arm(0);
		wfd = open("sig:fifo", O_WRONLY | O_CLOEXEC);
	}
	if (wfd >= 0) {
		w = write(wfd, "abcdefgh", 8);
		arm(1000); /* the bytes are there: this read must not wait */
		next = read(fd, buf, 4);
		arm(0);
		close(wfd);
	}
	if (fd >= 0)
		close(fd);
	sm = h_stop(memfs);
	sb = h_stop(broker);
	ck_assert_int_gt(memfs, 0);
	ck_assert_int_eq(first, -1);
	ck_assert_int_eq(e, EINTR);
	ck_assert_int_eq(w, 8);
	ck_assert_msg(next == 4 && memcmp(buf, "abcd", 4) == 0,
		      "after an interrupted read(4) of sig:fifo and a write "
		      "of \"abcdefgh\", the next read gave %zd \"%.4s\", not "
		      "\"abcd\": the interrupted request took the bytes",
		      next, next > 0 ? buf : "");
	ck_assert_int_eq(sm, 0);
	ck_assert_int_eq(sb, 0);
}
END_TEST

static Suite *
chaos_suite(void)
{
	Suite *s = suite_create("chaos");
	TCase *tc = tcase_create("kills");

	tcase_set_timeout(tc, 150);
	tcase_add_test(tc, kill_providers_and_clients_at_random);
	suite_add_tcase(s, tc);
	tc = tcase_create("signals");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, interrupted_read_takes_no_data);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(chaos_suite());
}
