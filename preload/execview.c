/*
 * execview.c - executing a program stored on a scheme.
 *
 * The kernel loads what it execs, and a scheme is not a file system it
 * knows: so a scheme path to exec (`/scheme/m/bin/tool`, `m:bin/tool`,
 * `./tool` in a scheme working directory) becomes the same file in the
 * kernel-visible view of our broker's schemes, a FUSE mount, and the
 * kernel execs that.  A dynamically linked program then runs under the
 * preload as usual; a `#!` script's interpreter is given the view's
 * path, which it opens through the kernel.
 *
 * Which view: the one named by SCHEME_VIEW, when it is mounted for our
 * broker by our user (schemerun sets it for a view it mounted for one
 * run), else the broker's own (schemed --mount, schemectl mount), found
 * in /proc/self/mountinfo by its source "scheme:SOCKET".  The file is
 * read afresh at each such exec: views come and go, and an exec costs
 * far more anyway.  With none, the exec fails with EACCES (what the
 * supervisor answers too; shells say "Permission denied", exit 126) and
 * one line says how to get a view: never a silent ENOENT from the disk.
 *
 * Everything here runs on the caller's stack and through REAL(): exec
 * may be called in a vfork child (made a fork by us, but not in
 * posix_spawn's clone), where malloc is not safe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../proto/viewfind.h"
#include "../proto/wire/path.h"
#include "bconn.h"
#include "execview.h"
#include "real.h"
#include "resolve.h"

#define LINE_MAX_ (PATH_MAX + 512) /* longer lines are not views of ours */

struct want {
	const char *sock, *env; /* our broker; SCHEME_VIEW or NULL */
	char *dir;		/* out: the view's mount point */
	size_t len;
	bool found_env;
};

/* One line of mountinfo: whether it settles which view. */
static bool
consider(char *line, struct want *w)
{
	char *point, *source, *opts;

	if (!viewfind_line(line, &point, &source, &opts) ||
	    !viewfind_for(source, opts, w->sock, (unsigned)geteuid()))
		return false;
	if (w->env != NULL && strcmp(point, w->env) == 0) {
		w->found_env = true;
		snprintf(w->dir, w->len, "%s", point);
		return true;
	}
	if (w->dir[0] == '\0' && !viewfind_run(point, w->sock))
		snprintf(w->dir, w->len, "%s", point);
	return w->dir[0] != '\0' && w->env == NULL;
}

/* Feed mountinfo's lines to consider(), until it is settled. */
static void
walk(int fd, struct want *w)
{
	char buf[LINE_MAX_ + 1], *nl, *start;
	size_t have = 0;
	ssize_t n;

	while ((n = REAL(read)(fd, buf + have, LINE_MAX_ - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		for (start = buf; (nl = strchr(start, '\n')) != NULL;
		     start = nl + 1) {
			*nl = '\0';
			if (consider(start, w))
				return;
		}
		have -= (size_t)(start - buf);
		memmove(buf, start, have);
		if (have == LINE_MAX_)
			have = 0; /* a line too long to be ours */
	}
}

/* The view to exec from, into dir: whether there is one. */
static bool
find_view(char *dir, size_t len)
{
	char sock[PATH_MAX];
	struct want w = {sock, getenv("SCHEME_VIEW"), dir, len, false};
	int fd;

	dir[0] = '\0';
	bconn_path(sock, sizeof(sock));
	if (sock[0] == '\0' ||
	    (fd = REAL(open)("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (w.env != NULL && w.env[0] == '\0')
		w.env = NULL;
	walk(fd, &w);
	REAL(close)(fd);
	return dir[0] != '\0';
}

/* No view: said on stderr, for each exec that needed one. */
static int
no_view(const char *path)
{
	char line[2 * PATH_MAX + 256];
	int n, saved = errno;
	ssize_t w = 0;

	n = snprintf(line, sizeof(line),
		     "scheme: %s: a program stored on a scheme is executed "
		     "from the kernel-visible view of the schemes, and none is "
		     "mounted for this broker (schemed --mount DIR, schemectl "
		     "mount DIR, or run under schemerun)\n",
		     path);
	if (n > 0 && (size_t)n < sizeof(line))
		w = REAL(write)(2, line, (size_t)n);
	(void)w; /* nowhere else to say it */
	errno = saved;
	return -EACCES;
}

/* sp, a scheme path, as the view at dir shows it, into out. */
static int
in_view(const char *dir, const struct scheme_path *sp, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s%s%s%.*s", dir, sp->name[0] ? "/" : "",
			 sp->name, sp->restlen > 0 ? "/" : "", (int)sp->restlen,
			 sp->rest);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
execview_path(const char **path, char *buf, size_t len)
{
	char dir[PATH_MAX], out[RESOLVE_MAX];
	struct scheme_path sp;
	int dirfd = AT_FDCWD, r;
	const char *asked = *path;

	r = resolve_at(&dirfd, path, buf, len, &sp);
	if (r <= 0)
		return r; /* dirfd stays AT_FDCWD: *path is the kernel's */
	if (!find_view(dir, sizeof(dir)))
		return no_view(asked);
	if ((r = in_view(dir, &sp, out, sizeof(out))) < 0)
		return r;
	snprintf(buf, len, "%s", out);
	*path = buf;
	return 1;
}

/* Whether PATH names a scheme directory: only then do we search it. */
static bool
path_has_scheme(const char *p)
{
	char entry[PATH_MAX];
	struct scheme_path sp;
	const char *end;

	for (; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		/* "m:bin" is one entry split by PATH's own separator. */
		snprintf(entry, sizeof(entry), "%.*s", (int)(end - p), p);
		if (path_classify(entry, &sp) && entry[0] == '/')
			return true;
	}
	return false;
}

int
execview_search(const char **file, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end, *cand;
	char joined[PATH_MAX + NAME_MAX + 2];
	int r, err = 0;

	if (strchr(*file, '/') != NULL || (*file)[0] == '\0' ||
	    !path_has_scheme(path))
		return 0;
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		snprintf(joined, sizeof(joined), "%.*s%s%s", (int)(end - p), p,
			 end > p ? "/" : "", *file);
		cand = joined;
		r = execview_path(&cand, buf, len);
		if (r == -EACCES)
			err = r; /* a scheme directory, no view: said */
		if (r >= 0 && REAL(access)(cand, X_OK) == 0) {
			if (cand != buf)
				snprintf(buf, len, "%s", cand);
			*file = buf;
			return 1;
		}
		if (*end == '\0')
			return err;
	}
}
