/*
 * scheme-memfs - an example provider: files kept in memory.
 *
 *	scheme-memfs [--events [--tick MS]] [NAME]	(default: hello)
 *
 * Run it under schemerun; then NAME:world holds "Hello, world!\n", any
 * other NAME:path can be created and written, NAME: lists the files, and:
 *
 *	NAME:fifo	reads wait until someone writes (the provider keeps
 *			the request and answers it later); O_NONBLOCK
 *			readers get EAGAIN instead.  Data read is consumed.
 *	NAME:stream	reads give EAGAIN until data is produced (by a
 *			writer, or with --events by a timer every --tick ms,
 *			default 200); then the provider posts EVENT_READ.
 *			Blocking readers wait for that post.  Data read is
 *			consumed.
 *	NAME:.stats	"handles N\nopens N\ncloses N\n", as of its open.
 *
 * Plain POSIX C against <scheme/scheme.h> alone.  Without --events it
 * waits with poll() on its scheme fd and a self-pipe (for SIGTERM); with
 * --events it is the Redox daemon loop: one event: queue watching the
 * scheme fd, a timerfd and the self-pipe, all non-blocking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#define MAX_FILES   1024
#define MAX_HANDLES 65536
#define MAX_WAITING 256

enum kind {
	REGULAR,
	FIFO,	/* reads wait for data: the answer is deferred */
	STREAM, /* reads say EAGAIN until data comes: then a post */
};

struct file {
	char name[256];
	char *data;
	size_t size, cap;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	ino_t ino;
	struct timespec mtime;
	int refs;     /* open handles */
	int unlinked; /* freed with its last handle */
	enum kind kind;
};

struct handle {
	struct file *f; /* NULL: the listing, or a snapshot (text) */
	char *text;	/* listing or .stats, taken at open */
	size_t textlen;
	off_t pos;
	int flags;
	int used;
	int dir; /* the listing */
};

static const char *scheme = "hello";
static struct file *files[MAX_FILES];
static struct handle handles[MAX_HANDLES];
static uint64_t handles_hwm; /* no handle at or above is in use */
static struct scheme_packet waiting[MAX_WAITING]; /* fifo reads */
static int nwaiting;
static unsigned long opens, closes, nhandles;
static ino_t next_ino = 2;
static int sfd;
static int stop_pipe[2];

/* The self-pipe: poll() and event: see the signal however it lands. */
static void
on_term(int sig)
{
	int saved = errno;

	if (write(stop_pipe[1], "x", 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

/* Files ----------------------------------------------------------------- */

static struct file *
find(const char *name)
{
	for (int i = 0; i < MAX_FILES; i++)
		if (files[i] && !files[i]->unlinked &&
		    strcmp(files[i]->name, name) == 0)
			return files[i];
	return NULL;
}

static struct file *
create(const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	struct file *f;
	int i;

	for (i = 0; i < MAX_FILES && files[i]; i++)
		;
	if (i == MAX_FILES || strlen(name) >= sizeof(f->name))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	strcpy(f->name, name);
	f->mode = mode & 07777;
	f->uid = uid;
	f->gid = gid;
	f->ino = next_ino++;
	clock_gettime(CLOCK_REALTIME, &f->mtime);
	files[i] = f;
	return f;
}

static void
file_put(struct file *f)
{
	if (--f->refs > 0 || !f->unlinked)
		return;
	for (int i = 0; i < MAX_FILES; i++)
		if (files[i] == f)
			files[i] = NULL;
	free(f->data);
	free(f);
}

static int
resize(struct file *f, size_t size)
{
	if (size > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		char *d;

		while (cap < size)
			cap *= 2;
		if ((d = realloc(f->data, cap)) == NULL)
			return -ENOMEM;
		f->data = d;
		f->cap = cap;
	}
	if (size > f->size)
		memset(f->data + f->size, 0, size - f->size);
	f->size = size;
	clock_gettime(CLOCK_REALTIME, &f->mtime);
	return 0;
}

static int
append(struct file *f, const void *data, size_t n)
{
	size_t at = f->size;

	if (resize(f, at + n) < 0)
		return -ENOSPC;
	memcpy(f->data + at, data, n);
	return 0;
}

/* Handles --------------------------------------------------------------- */

static struct handle *
get(uint64_t h)
{
	if (h >= MAX_HANDLES || !handles[h].used)
		return NULL;
	return &handles[h];
}

static int64_t
new_handle(struct file *f, char *text, size_t textlen, int flags, int dir)
{
	for (uint64_t h = 0; h < MAX_HANDLES; h++) {
		if (handles[h].used)
			continue;
		handles[h] = (struct handle){.f = f,
					     .text = text,
					     .textlen = textlen,
					     .flags = flags,
					     .used = 1,
					     .dir = dir};
		if (h >= handles_hwm)
			handles_hwm = h + 1;
		if (f)
			f->refs++;
		nhandles++;
		opens++;
		return (int64_t)h;
	}
	free(text);
	return -EMFILE;
}

/* Tell every open file of f that it has data: a post (id 0). */
static void
post_read(struct file *f)
{
	struct scheme_packet post = {.a = SYS_FEVENT, .c = EVENT_READ};

	for (uint64_t hn = 0; hn < handles_hwm; hn++)
		if (handles[hn].used && handles[hn].f == f) {
			post.b = hn;
			if (write(sfd, &post, sizeof(post)) < 0)
				perror("scheme-memfs: post");
		}
}

/* Requests -------------------------------------------------------------- */

/* The listing of NAME: and the counters of .stats, taken at open. */
static int64_t
open_text(int flags, int stats)
{
	char *t = malloc(MAX_FILES * 257);
	size_t n = 0;

	if (t == NULL)
		return -ENOMEM;
	if (stats) {
		n = (size_t)sprintf(t, "handles %lu\nopens %lu\ncloses %lu\n",
				    nhandles, opens + 1, closes);
	} else {
		for (int i = 0; i < MAX_FILES; i++)
			if (files[i] && !files[i]->unlinked)
				n += (size_t)sprintf(t + n, "%s\n",
						     files[i]->name);
	}
	return new_handle(NULL, t, n, flags, !stats);
}

static int64_t
do_open(const struct scheme_packet *p)
{
	const char *path = (const char *)(uintptr_t)p->b;
	int flags = (int)(uint32_t)p->d;
	mode_t mode = (mode_t)(p->d >> 32);
	struct file *f;

	while (*path == '/')
		path++;
	if (*path == '\0')
		return open_text(flags, 0);
	if (strcmp(path, ".stats") == 0)
		return open_text(flags, 1);
	f = find(path);
	if (f && (flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (!f && !(flags & O_CREAT))
		return -ENOENT;
	if (!f && !(f = create(path, mode, p->uid, p->gid)))
		return -ENOSPC;
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY &&
	    f->kind == REGULAR)
		resize(f, 0);
	return new_handle(f, NULL, 0, flags, 0);
}

/*
 * A fifo or stream read: now if there are bytes; else a fifo keeps the
 * request (unless O_NONBLOCK) and a stream says EAGAIN.
 */
static int64_t
pipe_read(struct file *f, const struct scheme_packet *p, int nonblock,
	  int *defer)
{
	size_t n = f->size < p->d ? f->size : p->d;

	if (n == 0 && p->d > 0) {
		if (nonblock || f->kind == STREAM || nwaiting == MAX_WAITING)
			return -EAGAIN;
		waiting[nwaiting++] = *p;
		*defer = 1;
		return 0;
	}
	memcpy((void *)(uintptr_t)p->c, f->data, n);
	memmove(f->data, f->data + n, f->size - n);
	f->size -= n;
	return (int64_t)n;
}

static int64_t
do_read(struct handle *h, const struct scheme_packet *p, int *defer)
{
	const char *src = h->text;
	size_t size = h->textlen, n;

	if ((h->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (h->f && h->f->kind != REGULAR)
		return pipe_read(h->f, p, h->flags & O_NONBLOCK, defer);
	if (h->f) {
		src = h->f->data;
		size = h->f->size;
	}
	if ((size_t)h->pos >= size)
		return 0;
	n = size - (size_t)h->pos < p->d ? size - (size_t)h->pos : p->d;
	memcpy((void *)(uintptr_t)p->c, src + h->pos, n);
	h->pos += (off_t)n;
	return (int64_t)n;
}

static void answer(struct scheme_packet *p, int64_t result);

/* Data arrived in the fifo: the oldest waiting reads get it. */
static void
answer_waiting(struct file *f)
{
	int defer;

	while (nwaiting > 0 && f->size > 0) {
		struct scheme_packet p = waiting[0];
		int64_t r = get(p.b) ? pipe_read(f, &p, 0, &defer) : -EBADF;

		answer(&p, r);
		memmove(&waiting[0], &waiting[1],
			(size_t)(nwaiting - 1) * sizeof(waiting[0]));
		nwaiting--;
	}
	if (f->size > 0)
		post_read(f);
}

static int64_t
do_write(struct handle *h, const struct scheme_packet *p)
{
	struct file *f = h->f;
	size_t at;

	if ((h->flags & O_ACCMODE) == O_RDONLY || f == NULL)
		return -EBADF;
	if (f->kind != REGULAR) { /* appends, and wakes the readers */
		if (append(f, (const void *)(uintptr_t)p->c, p->d) < 0)
			return -ENOSPC;
		if (f->kind == FIFO)
			answer_waiting(f);
		else
			post_read(f);
		return (int64_t)p->d;
	}
	at = (h->flags & O_APPEND) ? f->size : (size_t)h->pos;
	if (resize(f, at + p->d > f->size ? at + p->d : f->size) < 0)
		return -ENOSPC;
	memcpy(f->data + at, (const void *)(uintptr_t)p->c, p->d);
	h->pos = (off_t)(at + p->d);
	return (int64_t)p->d;
}

static int64_t
do_seek(struct handle *h, const struct scheme_packet *p)
{
	off_t base, size = h->f ? (off_t)h->f->size : (off_t)h->textlen;

	if (h->f && h->f->kind != REGULAR)
		return -ESPIPE;
	switch (p->d) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = h->pos;
		break;
	case SEEK_END:
		base = size;
		break;
	default:
		return -EINVAL;
	}
	if (base + (off_t)p->c < 0)
		return -EINVAL;
	h->pos = base + (off_t)p->c;
	return h->pos;
}

static int64_t
do_fstat(struct handle *h, const struct scheme_packet *p)
{
	struct stat *st = (struct stat *)(uintptr_t)p->c;

	if (p->d < sizeof(*st))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->st_blksize = 4096;
	if (h->f == NULL) {
		st->st_mode = h->dir ? S_IFDIR | 0755 : S_IFREG | 0444;
		st->st_size = (off_t)h->textlen;
		st->st_nlink = 1;
		st->st_ino = 1;
		return 0;
	}
	st->st_mode = (h->f->kind == REGULAR ? S_IFREG : S_IFIFO) | h->f->mode;
	st->st_ino = h->f->ino;
	st->st_nlink = h->f->unlinked ? 0 : 1;
	st->st_uid = h->f->uid;
	st->st_gid = h->f->gid;
	st->st_size = (off_t)h->f->size;
	st->st_blocks = (blkcnt_t)((h->f->size + 511) / 512);
	st->st_mtim = st->st_ctim = st->st_atim = h->f->mtime;
	return 0;
}

static int64_t
do_fpath(struct handle *h, const struct scheme_packet *p)
{
	char buf[512];
	int n =
	    snprintf(buf, sizeof(buf), "%s:%s", scheme, h->f ? h->f->name : "");
	size_t len = (size_t)n < p->d ? (size_t)n : p->d;

	memcpy((void *)(uintptr_t)p->c, buf, len);
	return (int64_t)len;
}

/* What is ready: data to read (a pipe may be empty); writes always. */
static int64_t
do_fevent(struct handle *h)
{
	if (h->f && h->f->kind != REGULAR)
		return (h->f->size ? EVENT_READ : 0) | EVENT_WRITE;
	return EVENT_READ | EVENT_WRITE;
}

static int64_t
do_close(uint64_t hn)
{
	struct handle *h = get(hn);

	if (h == NULL)
		return -EBADF;
	if (h->f)
		file_put(h->f);
	free(h->text);
	memset(h, 0, sizeof(*h));
	nhandles--;
	closes++;
	return 0;
}

static int64_t
do_unlink(const struct scheme_packet *p)
{
	const char *path = (const char *)(uintptr_t)p->b;
	struct file *f = find(path);

	if (f == NULL || f->kind != REGULAR)
		return f ? -EPERM : -ENOENT;
	f->unlinked = 1;
	f->refs++;
	file_put(f);
	return 0;
}

/* Requests on an open handle, by number. */
static int64_t
handle_op(struct handle *h, const struct scheme_packet *p, int *defer)
{
	switch (p->a) {
	case SYS_READ:
		return do_read(h, p, defer);
	case SYS_WRITE:
		return do_write(h, p);
	case SYS_LSEEK:
		return do_seek(h, p);
	case SYS_FSTAT:
		return do_fstat(h, p);
	case SYS_FPATH:
		return do_fpath(h, p);
	case SYS_FTRUNCATE:
		if (h->f == NULL || (h->flags & O_ACCMODE) == O_RDONLY)
			return -EINVAL;
		return resize(h->f, p->c);
	case SYS_FSYNC:
	case SYS_FCNTL:
		return 0;
	case SYS_FEVENT:
		return do_fevent(h);
	default:
		return -ENOSYS;
	}
}

static int64_t
dispatch(const struct scheme_packet *p, int *defer)
{
	struct handle *h;

	switch (p->a) {
	case SYS_OPEN:
		return do_open(p);
	case SYS_UNLINK:
		return do_unlink(p);
	case SYS_CLOSE:
		return do_close(p->b);
	case SYS_RMDIR:
		return -ENOTDIR;
	}
	if ((h = get(p->b)) == NULL)
		return -EBADF;
	return handle_op(h, p, defer);
}

static void
answer(struct scheme_packet *p, int64_t result)
{
	p->a = (uint64_t)result;
	if (write(sfd, p, sizeof(*p)) != sizeof(*p))
		perror("scheme-memfs: write");
}

/* Requests waiting on the scheme fd, until EAGAIN; -1 when it ended. */
static int
serve_requests(void)
{
	static struct scheme_packet pkts[64];
	ssize_t n;

	for (;;) {
		n = read(sfd, pkts, sizeof(pkts));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			if (n < 0)
				perror("scheme-memfs: read");
			return -1; /* 0: the scheme was removed */
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(pkts[0]); i++) {
			int defer = 0;
			int64_t r = dispatch(&pkts[i], &defer);

			if (!defer)
				answer(&pkts[i], r);
		}
	}
}

/* Main loops ------------------------------------------------------------ */

static void
loop_poll(void)
{
	for (;;) {
		struct pollfd pfd[2] = {{sfd, POLLIN, 0},
					{stop_pipe[0], POLLIN, 0}};

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return;
		if (pfd[1].revents)
			return; /* SIGTERM or SIGINT */
		if (pfd[0].revents && serve_requests() < 0)
			return;
	}
}

/* The timer produced data: a line in the stream, and a post. */
static void
tick(int tfd, struct file *stream)
{
	static unsigned long count;
	uint64_t expirations;
	char line[64];
	int n;

	if (read(tfd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	n = snprintf(line, sizeof(line), "tick %lu\n", ++count);
	if (append(stream, line, (size_t)n) == 0)
		post_read(stream);
}

/*
 * The Redox daemon loop: everything non-blocking in one event: queue; a
 * blocking read of the queue, then non-blocking reads of what it names
 * until EAGAIN (events are edges).
 */
static int
loop_events(long tick_ms, struct file *stream)
{
	struct timespec period = {tick_ms / 1000, (tick_ms % 1000) * 1000000L};
	struct itimerspec it = {period, period};
	struct scheme_event reg[3], ev[16];
	int q = open("event:", O_RDWR | O_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ssize_t n;

	if (q < 0 || tfd < 0 || timerfd_settime(tfd, 0, &it, NULL) < 0) {
		perror("scheme-memfs: event:");
		return 1;
	}
	reg[0] = (struct scheme_event){(uint64_t)sfd, EVENT_READ, 1};
	reg[1] = (struct scheme_event){(uint64_t)stop_pipe[0], EVENT_READ, 2};
	reg[2] = (struct scheme_event){(uint64_t)tfd, EVENT_READ, 3};
	if (write(q, reg, sizeof(reg)) != sizeof(reg)) {
		perror("scheme-memfs: event: registering");
		return 1;
	}
	for (;;) {
		n = read(q, ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			if (ev[i].data == 2)
				return 0; /* SIGTERM or SIGINT */
			if (ev[i].data == 3)
				tick(tfd, stream);
			if (ev[i].data == 1 && serve_requests() < 0)
				return 0;
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: scheme-memfs [--events [--tick MS]] [NAME]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct file *f, *stream;
	long tick_ms = 200;
	int events = 0, r = 0;
	char path[128];

	for (; argc > 1 && argv[1][0] == '-'; argc--, argv++) {
		if (strcmp(argv[1], "--events") == 0)
			events = 1;
		else if (strcmp(argv[1], "--tick") == 0 && argc > 2 &&
			 (tick_ms = atol(argv[2])) > 0)
			argc--, argv++;
		else
			usage();
	}
	if (argc > 1)
		scheme = argv[1];
	snprintf(path, sizeof(path), ":%s", scheme);
	sfd = open(path, O_CREAT | O_RDWR | O_NONBLOCK | O_CLOEXEC, 0600);
	if (sfd < 0) {
		fprintf(stderr, "scheme-memfs: cannot create %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	f = create("world", 0644, getuid(), getgid());
	append(f, "Hello, world!\n", 14);
	f = create("fifo", 0666, getuid(), getgid());
	f->kind = FIFO;
	stream = create("stream", 0666, getuid(), getgid());
	stream->kind = STREAM;
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return 1;
	sigaction(SIGTERM, &(struct sigaction){.sa_handler = on_term}, NULL);
	sigaction(SIGINT, &(struct sigaction){.sa_handler = on_term}, NULL);
	if (events)
		r = loop_events(tick_ms, stream);
	else
		loop_poll();
	close(sfd);
	for (int i = 0; i < MAX_FILES; i++)
		if (files[i] != NULL) {
			free(files[i]->data);
			free(files[i]);
		}
	for (uint64_t h = 0; h < handles_hwm; h++)
		free(handles[h].text);
	return r; /* stopped, or the scheme was removed */
}
