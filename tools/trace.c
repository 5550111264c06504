/*
 * trace.c - schemectl trace: the requests schemes are asked, live, one
 * line each (wire.h "Tracing" says how records reach us).
 *
 * A line, in the manner of strace:
 *
 *	2026-12-06T03:10:00.123456 1234 cat memfs: OPEN("a/b",
 *	    O_WRONLY|O_CREAT|O_TRUNC, 0644) = 5 <12 us>
 *
 * (one line, not two): when it was asked, the asking pid and its command
 * name, the scheme, the request and its decoded arguments, what it was
 * answered (a value, or -1 and the errno's name and text) and how long the
 * provider took.  "refused" marks an answer the serving code gave without
 * asking the provider (a cap, a check, a description gone); "pipe" one
 * that came by the request pipe.  --json prints the same as one object
 * per line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/wire/wire.h"
#include "trace.h"

_Static_assert(WIRE_TRACE_MAX <= WIRE_SERVES_MAX,
	       "one TRACE answer carries every tracer's fd");

struct flagname {
	uint64_t bit;
	const char *name;
};

/* O_* after the access mode, most specific first (O_SYNC holds O_DSYNC,
 * O_TMPFILE holds O_DIRECTORY). */
static const struct flagname oflags[] = {
    {O_CREAT, "O_CREAT"},	  {O_EXCL, "O_EXCL"},
    {O_NOCTTY, "O_NOCTTY"},	  {O_TRUNC, "O_TRUNC"},
    {O_APPEND, "O_APPEND"},	  {O_NONBLOCK, "O_NONBLOCK"},
    {O_SYNC, "O_SYNC"},		  {O_DSYNC, "O_DSYNC"},
    {O_ASYNC, "O_ASYNC"},	  {O_DIRECT, "O_DIRECT"},
    {O_LARGEFILE, "O_LARGEFILE"}, {O_TMPFILE, "O_TMPFILE"},
    {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
    {O_NOATIME, "O_NOATIME"},	  {O_CLOEXEC, "O_CLOEXEC"},
    {O_PATH, "O_PATH"},
};

static const struct flagname fcntls[] = {
    {F_DUPFD, "F_DUPFD"},	    {F_GETFD, "F_GETFD"},
    {F_SETFD, "F_SETFD"},	    {F_GETFL, "F_GETFL"},
    {F_SETFL, "F_SETFL"},	    {F_GETLK, "F_GETLK"},
    {F_SETLK, "F_SETLK"},	    {F_SETLKW, "F_SETLKW"},
    {F_OFD_GETLK, "F_OFD_GETLK"},   {F_OFD_SETLK, "F_OFD_SETLK"},
    {F_OFD_SETLKW, "F_OFD_SETLKW"}, {F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"},
};

static const struct flagname rwfs[] = {
    {RWF_HIPRI, "RWF_HIPRI"},	{RWF_DSYNC, "RWF_DSYNC"},
    {RWF_SYNC, "RWF_SYNC"},	{RWF_NOWAIT, "RWF_NOWAIT"},
    {RWF_APPEND, "RWF_APPEND"},
};

static const struct flagname fallocs[] = {
    {FALLOC_FL_KEEP_SIZE, "FALLOC_FL_KEEP_SIZE"},
    {FALLOC_FL_PUNCH_HOLE, "FALLOC_FL_PUNCH_HOLE"},
    {FALLOC_FL_COLLAPSE_RANGE, "FALLOC_FL_COLLAPSE_RANGE"},
    {FALLOC_FL_ZERO_RANGE, "FALLOC_FL_ZERO_RANGE"},
    {FALLOC_FL_INSERT_RANGE, "FALLOC_FL_INSERT_RANGE"},
};

static const char *const whences[] = {"SEEK_SET", "SEEK_CUR", "SEEK_END",
				      "SEEK_DATA", "SEEK_HOLE"};

/* SYS_LOCK's, as the serving code records them: c = cmd | kind << 8 |
 * type << 16, d = start (scheme.h "Locks"). */
static const char *const lock_cmds[] = {
    "?", "GET", "SET", "SETW", "CANCEL", "RELEASE", "RELEASE_ALL"};
static const char *const lock_kinds[] = {"?", "POSIX", "OFD", "FLOCK"};
static const char *const lock_types[] = {"F_RDLCK", "F_WRLCK", "F_UNLCK"};

static const char *
lock_name(const char *const *names, size_t n, uint64_t v)
{
	return v < n ? names[v] : "?";
}

/* OP out of SYS_OP or WIRE_OP_OP; "0x..." for one we do not know. */
static const char *
op_name(uint32_t op, char *buf, size_t len)
{
	const struct wire_op *w = wire_op(op);

	if (w == NULL) {
		snprintf(buf, len, "0x%" PRIx32, op);
		return buf;
	}
	if (strncmp(w->name, "SYS_", 4) == 0)
		return w->name + 4;
	if (strncmp(w->name, "WIRE_OP_", 8) == 0)
		return w->name + 8;
	return w->name;
}

/* The command name of pid, "?" when it is gone (or not ours to read). */
static const char *
comm_of(uint32_t pid)
{
	static uint32_t cached_pid;
	static char comm[32];
	char path[64];
	ssize_t n = 0;
	int fd;

	if (pid == cached_pid && pid != 0)
		return comm;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/comm", pid);
	if (pid != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (n > 0 && comm[n - 1] == '\n')
			n--;
	}
	if (n <= 0) {
		strcpy(comm, "?");
		n = 1;
	}
	comm[n] = '\0';
	cached_pid = pid;
	return comm;
}

/* ENOENT, or the number for one glibc has no name for. */
static const char *
errno_name(int e, char *buf, size_t len)
{
	const char *name = strerrorname_np(e);

	if (name != NULL)
		return name;
	snprintf(buf, len, "E%d", e);
	return buf;
}

/* Flags by name into buf ("0" when none), unknown bits in hex. */
static void
flag_names(char *buf, size_t len, uint64_t v, const struct flagname *f,
	   size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((v & f[i].bit) != f[i].bit || f[i].bit == 0)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? "|" : "", f[i].name);
		v &= ~f[i].bit;
		if (used >= len)
			return;
	}
	if (v != 0 || used == 0)
		snprintf(buf + used, len - used, "%s%#" PRIx64, used ? "|" : "",
			 v);
}

static void
open_flags(char *buf, size_t len, uint64_t flags)
{
	static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR",
					  "O_ACCMODE"};
	uint64_t rest = flags & ~(uint64_t)O_ACCMODE;
	int n = snprintf(buf, len, "%s", acc[flags & O_ACCMODE]);

	if (rest != 0 && (size_t)n < len - 1) {
		buf[n] = '|';
		flag_names(buf + n + 1, len - (size_t)n - 1, rest, oflags,
			   sizeof(oflags) / sizeof(oflags[0]));
	}
}

static const char *
fcntl_name(uint64_t cmd, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(fcntls) / sizeof(fcntls[0]); i++)
		if (fcntls[i].bit == cmd)
			return fcntls[i].name;
	snprintf(buf, len, "%" PRIu64, cmd);
	return buf;
}

static const char *
event_names(uint64_t v, char *buf, size_t len)
{
	static const struct flagname ev[] = {{EVENT_READ, "EVENT_READ"},
					     {EVENT_WRITE, "EVENT_WRITE"}};

	flag_names(buf, len, v, ev, 2);
	return buf;
}

/* s quoted for a line (C escapes) or for JSON (JSON's). */
static void
put_string(FILE *f, const char *s, size_t n, bool json)
{
	putc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f || (!json && c >= 0x80))
			fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
		else
			putc(c, f);
	}
	putc('"', f);
}

/*
 * The request's arguments, decoded: for a line, "a, b" (without the
 * parentheses); for JSON, members ("path":..., "flags":...) each with a
 * leading comma.
 */
static void
put_args(FILE *f, const struct wire_trace *r, bool json)
{
	const struct wire_op *w = wire_op(r->op);
	uint64_t c = r->arg[1], d = r->arg[2];
	char b1[256], b2[32];
	const char *sep = json ? "," : ", ";
	bool first = true;

#define ARG(jfmt, lfmt, ...)                                                   \
	do {                                                                   \
		fputs(first && !json ? "" : sep, f);                           \
		fprintf(f, json ? jfmt : lfmt, __VA_ARGS__);                   \
		first = false;                                                 \
	} while (0)

	if (w != NULL && (w->flags & WIRE_KEYED) &&
	    r->handle == WIRE_TRACE_NOHANDLE)
		ARG("%s", "%s", json ? "\"handle\":null" : "?");
	else if (w != NULL && (w->flags & WIRE_KEYED))
		ARG("\"handle\":%" PRIu64, "%" PRIu64, r->handle);
	if (w != NULL && (w->flags & WIRE_NAMES)) {
		fputs(first && !json ? "" : sep, f);
		if (json)
			fputs(r->op == SYS_FRENAME || r->op == SYS_FLINK
				  ? "\"to\":"
				  : "\"path\":",
			      f);
		put_string(f, r->path, r->pathlen, json);
		if (r->flags & WIRE_TRACE_CUT)
			fputs(json ? ",\"path_cut\":true" : "...", f);
		first = false;
	}
	switch (r->op) {
	case SYS_OPEN:
		open_flags(b1, sizeof(b1), d & 0xffffffffu);
		ARG("\"flags\":\"%s\"", "%s", b1);
		if ((d & O_CREAT) || (d & O_TMPFILE) == O_TMPFILE)
			ARG("\"mode\":\"%#" PRIo64 "\"", "%#" PRIo64,
			    (d >> 32) & 07777);
		break;
	case SYS_READ:
	case SYS_WRITE:
	case SYS_FPATH:
	case SYS_DUP:
		ARG("\"len\":%" PRIu64, "%" PRIu64, d);
		break;
	case SYS_READ2: /* as strace's pread64: count, then offset */
	case SYS_WRITE2:
		ARG("\"len\":%" PRIu64, "%" PRIu64, d);
		ARG("\"offset\":%" PRIu64, "%" PRIu64, c);
		if (r->arg[0] != 0) {
			flag_names(b1, sizeof(b1), r->arg[0], rwfs,
				   sizeof(rwfs) / sizeof(rwfs[0]));
			ARG("\"flags\":\"%s\"", "%s", b1);
		}
		break;
	case SYS_FALLOCATE: /* as strace's: mode, offset, len */
		flag_names(b1, sizeof(b1), r->arg[0], fallocs,
			   sizeof(fallocs) / sizeof(fallocs[0]));
		ARG("\"mode\":\"%s\"", "%s", b1);
		ARG("\"offset\":%" PRIu64, "%" PRIu64, c);
		ARG("\"len\":%" PRIu64, "%" PRIu64, d);
		break;
	case SYS_LSEEK:
		ARG("\"offset\":%" PRId64, "%" PRId64, (int64_t)c);
		if (d < sizeof(whences) / sizeof(whences[0]))
			ARG("\"whence\":\"%s\"", "%s", whences[d]);
		else
			ARG("\"whence\":%" PRIu64, "%" PRIu64, d);
		break;
	case SYS_FCNTL:
		ARG("\"cmd\":\"%s\"", "%s", fcntl_name(c, b2, sizeof(b2)));
		ARG("\"arg\":%" PRIu64, "%" PRIu64, d);
		break;
	case SYS_FEVENT:
	case WIRE_OP_POLL:
	case WIRE_OP_SUBSCRIBE:
		ARG("\"events\":\"%s\"", "%s", event_names(c, b1, sizeof(b1)));
		break;
	case SYS_FTRUNCATE:
		ARG("\"length\":%" PRIu64, "%" PRIu64, c);
		break;
	case SYS_LOCK:
		ARG("\"cmd\":\"%s\"", "%s", lock_name(lock_cmds, 7, c & 0xff));
		ARG("\"kind\":\"%s\"", "%s",
		    lock_name(lock_kinds, 4, (c >> 8) & 0xff));
		ARG("\"type\":\"%s\"", "%s",
		    lock_name(lock_types, 3, (c >> 16) & 0xffff));
		ARG("\"start\":%" PRIu64, "%" PRIu64, d);
		break;
	case SYS_FCHMOD:
		ARG("\"mode\":\"%#" PRIo64 "\"", "%#" PRIo64, c & 07777);
		break;
	case SYS_FCHOWN:
		ARG("\"uid\":%" PRId32, "%" PRId32, (int32_t)c);
		ARG("\"gid\":%" PRId32, "%" PRId32, (int32_t)d);
		break;
	default:
		break;
	}
#undef ARG
}

static void
put_time(FILE *f, uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	char buf[64];

	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, sizeof(buf), "@%lld", (long long)sec);
	fprintf(f, "%s.%06" PRIu64 "Z", buf, ns % 1000000000u / 1000u);
}

void
trace_print(FILE *f, const char *scheme, const struct wire_trace *r, bool json)
{
	char nb[16];
	const char *op = op_name(r->op, nb, sizeof(nb));
	const char *comm = comm_of(r->pid);
	int e = r->result < 0 && r->result >= -4095 ? (int)-r->result : 0;
	char en[16];

	if (r->dropped != 0 && !json)
		fprintf(f,
			"# %s: %" PRIu32 " records lost before this one: "
			"the tracer did not keep up\n",
			scheme, r->dropped);
	if (json) {
		fputs("{\"time\":\"", f);
		put_time(f, r->t_ns);
		fprintf(f, "\",\"pid\":%" PRIu32 ",\"comm\":", r->pid);
		put_string(f, comm, strlen(comm), true);
		fprintf(f,
			",\"uid\":%" PRIu32 ",\"gid\":%" PRIu32 ",\"scheme\":",
			r->uid, r->gid);
		put_string(f, scheme, strlen(scheme), true);
		fprintf(f, ",\"op\":\"%s\"", op);
		put_args(f, r, true);
		fprintf(f, ",\"result\":%" PRId64, r->result);
		if (e != 0)
			fprintf(f, ",\"errno\":\"%s\"",
				errno_name(e, en, sizeof(en)));
		fprintf(f, ",\"latency_us\":%.1f", (double)r->lat_ns / 1000.0);
		if (r->flags & WIRE_TRACE_REFUSED)
			fputs(",\"refused\":true", f);
		if (r->flags & WIRE_TRACE_BY_PIPE)
			fputs(",\"pipe\":true", f);
		if (r->dropped != 0)
			fprintf(f, ",\"lost_before\":%" PRIu32, r->dropped);
		fputs("}\n", f);
		return;
	}
	put_time(f, r->t_ns);
	fprintf(f, " %" PRIu32 " %s %s: %s(", r->pid, comm, scheme, op);
	put_args(f, r, false);
	if (e != 0)
		fprintf(f, ") = -1 %s (%s)", errno_name(e, en, sizeof(en)),
			strerror(e));
	else
		fprintf(f, ") = %" PRId64, r->result);
	if (r->flags & WIRE_TRACE_REFUSED)
		fputs(" refused", f);
	else
		fprintf(f, " <%.1f us>", (double)r->lat_ns / 1000.0);
	if (r->flags & WIRE_TRACE_BY_PIPE)
		fputs(" pipe", f);
	putc('\n', f);
}

/* Scheme i's socket is done with: closed, and not polled again. */
static void
drop(struct pollfd *pfd, int *live)
{
	close(pfd->fd);
	pfd->fd = -1;
	(*live)--;
}

/*
 * What waits on one scheme's socket (a batch at most, so that a busy
 * scheme does not starve the others): printed.  1 when it is done with
 * (gone, or it turned us away), else 0.
 */
static int
drain(const char *name, int fd, bool json, int *status)
{
	struct wire_trace r;
	ssize_t got;

	for (int k = 0; k < 64; k++) {
		got = recv(fd, &r, sizeof(r), MSG_DONTWAIT);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (got <= 0) { /* the scheme stopped */
			fprintf(stderr,
				"schemectl: trace: %s: the scheme is gone\n",
				name);
			return 1;
		}
		if (wire_trace_check(&r, (size_t)got) < 0) {
			fprintf(stderr,
				"schemectl: trace: %s: a record of another "
				"version; skipped\n",
				name);
		} else if (r.op == 0) { /* turned away (wire.h) */
			fprintf(stderr,
				"schemectl: trace: %s: %d tracers trace it "
				"already; no more\n",
				name, WIRE_TRACE_PER_SCHEME);
			*status = 1;
			return 1;
		} else {
			trace_print(stdout, name, &r, json);
		}
	}
	return 0;
}

/*
 * Lines are buffered while records keep coming and written out whenever
 * there is nothing more to read: live, at one write per burst rather
 * than one per line.
 */
int
trace_run(const struct wire_traced *schemes, const int *fds, int n, bool json)
{
	static char names[WIRE_TRACE_MAX][WIRE_MAX_NAME + 1];
	struct pollfd pfd[WIRE_TRACE_MAX];
	int live = n, status = 0, ready;

	for (int i = 0; i < n; i++) {
		memcpy(names[i], schemes[i].name, WIRE_MAX_NAME);
		names[i][WIRE_MAX_NAME] = '\0';
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (live > 0) {
		if ((ready = poll(pfd, (nfds_t)n, 0)) == 0) {
			fflush(stdout);
			ready = poll(pfd, (nfds_t)n, -1);
		}
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			perror("schemectl: trace: poll");
			return 1;
		}
		for (int i = 0; i < n; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents != 0 &&
			    drain(names[i], pfd[i].fd, json, &status))
				drop(&pfd[i], &live);
	}
	fflush(stdout);
	return status;
}
