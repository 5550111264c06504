/*
 * sup_serve.c - the supervisor's loop (see sup.h): one notification at a
 * time, each answered exactly once.
 *
 * Reading the caller's memory races with the caller's death: its pid
 * (the notification names the thread) may be reused by another process
 * before we open /proc/TID/mem.  So, as seccomp_unotify(2) says, the
 * files of the process (mem, status) are opened first and the
 * notification is then checked to be still pending
 * (SECCOMP_IOCTL_NOTIF_ID_VALID): if it is, the caller is still blocked
 * in the call, so the files we hold are its own, and every later read or
 * write through them reaches its memory and nobody else's, even if it
 * dies meanwhile.
 *
 * A path the helper let through (CONTINUE) is read again by the kernel
 * from the caller's memory, which another thread of the caller may have
 * changed since: the program can do to itself what it could do anyway.
 * This is not a sandbox.  But the helper makes calls as its own user,
 * so it acts only for a caller whose user and group ids are all its own
 * (the rule of the view itself); for another, scheme paths get EACCES.
 *
 * One thread: a slow open of the view (a provider that takes its time)
 * holds up the path calls of every supervised process, not their reads
 * and writes, which are the kernel's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../proto/wire/path.h"
#include "sup.h"
#include "sup_impl.h"

void
sup_say(const struct sup_req *rq, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: pid %d: ", rq->prog, (int)rq->n->pid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
sup_peek(struct sup_req *rq, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = pread(rq->mem, buf, len, (off_t)addr);

	return n == (ssize_t)len ? 0 : -EFAULT;
}

int
sup_poke(struct sup_req *rq, uint64_t addr, const void *buf, size_t len)
{
	ssize_t n = pwrite(rq->mem, buf, len, (off_t)addr);

	return n == (ssize_t)len ? 0 : -EFAULT;
}

/*
 * A NUL-terminated string at addr, read a page at a time: the page after
 * a short string may not be mapped.
 */
int
sup_peek_string(struct sup_req *rq, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0, chunk;
	ssize_t n;

	if (addr == 0)
		return -EFAULT;
	while (got < len) {
		chunk = 4096 - ((addr + got) & 4095);
		if (chunk > len - got)
			chunk = len - got;
		n = pread(rq->mem, buf + got, chunk, (off_t)(addr + got));
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, '\0', (size_t)n) != NULL)
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

static bool
still_pending(const struct sup_req *rq)
{
	__u64 id = rq->n->id;

	return ioctl(rq->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/*
 * The view's path of a scheme path: 1, 0 for an ordinary path, or
 * -errno.  name:rest is DIR/name/rest; a name the view does not show is
 * no scheme, so "a:b.txt" on disk stays a file.
 */
int
sup_view_path(const char *view, const char *path, char *out, size_t len)
{
	struct scheme_path sp;
	struct stat st;
	int n;

	if (!path_classify(path, &sp))
		return 0;
	n = snprintf(out, len, "%s%s%s", view, sp.name[0] ? "/" : "", sp.name);
	if (path[0] != '/' && sp.name[0] &&
	    (stat(out, &st) < 0 || !S_ISDIR(st.st_mode)))
		return 0;
	if (n >= 0 && (size_t)n < len && sp.restlen > 0)
		n = snprintf(out + n, len - (size_t)n, "/%s", sp.rest) + n;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 1;
}

/* A "Uid:" or "Gid:" line of /proc/TID/status: all four ids are want. */
static bool
ids_are(const char *status, const char *key, unsigned want)
{
	const char *p = strstr(status, key);
	unsigned id[4];

	return p != NULL &&
	       sscanf(p + strlen(key), "%u %u %u %u", &id[0], &id[1], &id[2],
		      &id[3]) == 4 &&
	       id[0] == want && id[1] == want && id[2] == want && id[3] == want;
}

/* The caller's umask, after checking it is us: 0 or -errno. */
static int
caller_is_us(struct sup_req *rq, int status)
{
	char buf[4096], *p;
	ssize_t n = pread(status, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	if (!ids_are(buf, "\nUid:", getuid()) ||
	    !ids_are(buf, "\nGid:", getgid()))
		return -EACCES;
	if ((p = strstr(buf, "\nUmask:")) == NULL)
		return -EACCES;
	rq->umask = (mode_t)strtoul(p + 7, NULL, 8) & 0777;
	return 0;
}

/*
 * Read the row's paths and make them the view's: 1 when the call is to
 * be served, 0 when it goes on as it is, -errno to fail it.
 */
static int
paths(struct sup_req *rq, const struct sup_call *c)
{
	char path[PATH_MAX];
	const signed char idx[2] = {c->path, c->path2};
	int i, r, scheme = 0, n = c->path2 >= 0 ? 2 : 1;

	for (i = 0; i < n; i++) {
		r = sup_peek_string(rq, rq->n->data.args[idx[i]], path,
				sizeof(path));
		if (r == -EFAULT && i == 0 && n == 1)
			return 0; /* NULL (futimens), or the kernel's EFAULT */
		if (r < 0)
			return r;
		if ((r = sup_view_path(rq->view, path, rq->path[i],
				       sizeof(rq->path[i]))) < 0)
			return r;
		scheme |= r << i;
		if (i == 0)
			memcpy(rq->asked, path, sizeof(path));
	}
	if (scheme == 0)
		return 0;
	/* One path on a scheme, the other not: two file systems. */
	return n == 2 && scheme != 3 ? -EXDEV : 1;
}

static void
answer(struct sup_req *rq, const struct sup_answer *a)
{
	struct seccomp_notif_resp resp = {.id = rq->n->id};
	struct seccomp_notif_addfd add = {
	    .id = rq->n->id,
	    .flags = SECCOMP_ADDFD_FLAG_SEND,
	    .srcfd = (__u32)a->fd,
	    .newfd_flags = a->cloexec ? O_CLOEXEC : 0,
	};

	if (a->fd >= 0) {
		/* Placed and answered at once: no window for a lost fd. */
		ioctl(rq->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
		close(a->fd);
		return;
	}
	if (a->val < 0)
		resp.error = (__s32)a->val;
	else
		resp.val = a->val;
	/* ENOENT: the caller was interrupted and no longer waits. */
	ioctl(rq->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static void
go_on(const struct sup_req *rq)
{
	struct seccomp_notif_resp resp = {
	    .id = rq->n->id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};

	ioctl(rq->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* Open the caller's file NAME (mem, status) before ID_VALID is checked. */
static int
open_proc(const struct sup_req *rq, const char *name, int flags)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%u/%s", rq->n->pid, name);
	return open(p, flags | O_CLOEXEC);
}

static void
serve_one(struct sup_req *rq)
{
	const struct sup_call *c = sup_call_find(rq->n->data.nr);
	struct sup_answer a = {.val = 0, .fd = -1};
	int r, status = -1;

	if (c == NULL) {
		go_on(rq);
		return;
	}
	/* Its memory out of reach (Yama): as if we were not there. */
	rq->mem = open_proc(rq, "mem", O_RDWR);
	if (!still_pending(rq))
		goto out; /* gone: nobody to answer */
	r = rq->mem < 0 ? 0 : paths(rq, c);
	if (r == 0) {
		go_on(rq);
		goto out;
	}
	if (r > 0 && ((status = open_proc(rq, "status", O_RDONLY)) < 0 ||
		      !still_pending(rq)))
		goto out;
	if (r > 0 && (r = caller_is_us(rq, status)) == 0)
		c->serve(rq, &a);
	else
		a.val = r;
	answer(rq, &a);
out:
	if (status >= 0)
		close(status);
	if (rq->mem >= 0)
		close(rq->mem);
}

void
sup_serve(int listener, const char *view, const char *prog)
{
	struct seccomp_notif_sizes sz;
	struct seccomp_notif *n;
	struct pollfd p = {.fd = listener, .events = POLLIN};
	struct sup_req rq = {.listener = listener, .view = view, .prog = prog};

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0 ||
	    (n = calloc(1, sz.seccomp_notif > sizeof(*n) ? sz.seccomp_notif
							 : sizeof(*n))) == NULL)
		return;
	rq.n = n;
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* Every process that had the filter has exited. */
		if (!(p.revents & POLLIN))
			break;
		memset(n, 0, sz.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0)
			continue; /* ENOENT: the caller gave up meanwhile */
		rq.mem = -1;
		serve_one(&rq);
	}
	free(n);
}
