/*
 * resolve.c - which file a path names: a scheme's, or the kernel's.
 *
 * A path is a scheme path by itself ("name:rest", "/scheme/name/rest"),
 * or by where it is relative to: a directory fd of a scheme (openat and
 * the other *at calls, as find, rm -r and Python's rmtree make them), or
 * the working directory once a program has changed into a scheme
 * directory (chdir("/scheme/hello"), cd in a shell, mkdir -p walking
 * down).  Relative paths are joined to that directory and resolved
 * lexically, but for a ".." after a name that is a symbolic link of a
 * scheme, which climbs from the link's target (join_links).  One that
 * climbs out of /scheme ("..") is an ordinary absolute path again.
 *
 * The kernel's working directory does not move while ours is a scheme's;
 * getcwd() says ours.  It crosses exec in SCHEME_CWD, with the device and
 * inode of the kernel's one, so a stale value (left by a program that
 * changed directory without us) is ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "attrcache.h"
#include "client.h"
#include "real.h"
#include "resolve.h"
#include "state.h"
#include "uaccess.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)

static char cwd[PATH_MAX]; /* "/scheme/NAME[/rest]" while in_scheme */
static atomic_bool in_scheme;

/* Put "/" and the component s (l bytes) on out: 0 or -ENAMETOOLONG. */
static int
push(char *out, size_t *n, size_t len, const char *s, size_t l)
{
	if (*n + 1 + l + 1 > len)
		return -ENAMETOOLONG;
	out[(*n)++] = '/';
	memcpy(out + *n, s, l);
	*n += l;
	out[*n] = '\0';
	return 0;
}

/*
 * Join base and rel (rel relative) into out, resolving "." and ".."
 * lexically.  -ENAMETOOLONG if it does not fit.
 */
static int
join(const char *base, const char *rel, char *out, size_t len)
{
	size_t n = 0, l;
	const char *p, *s;
	int pass;

	if (len < 2)
		return -ENAMETOOLONG; /* not even "/" */
	out[0] = '\0';
	for (pass = 0; pass < 2; pass++) {
		for (p = pass == 0 ? base : rel;
		     (s = path_next(&p, &l)) != NULL;) {
			if (path_is_dotdot(s, l))
				path_pop(out, &n);
			else if (!path_is_dot(s, l) &&
				 push(out, &n, len, s, l) < 0)
				return -ENAMETOOLONG;
		}
	}
	if (n == 0) {
		out[0] = '/';
		out[1] = '\0';
	}
	return 0;
}

#define LINKS_MAX 40 /* links on one path, as Linux: then ELOOP */

/*
 * Whether ".." may be taken lexically after out's last component, a name
 * the caller gave: Linux climbs from where that name leads
 * (path_resolution(7)), so a symbolic link on a scheme is read first.
 * 1: it is a link, its target in t (absolute in a scheme's form made
 * "/scheme/..."); 2: a directory, with no link on the way; 0: lexically,
 * as ever (not a scheme's, or the provider cannot say); or -ENOENT,
 * -ENOTDIR, as Linux answers, for a name that is not there or is no
 * directory.  One round trip (an lstat); a link, two more.
 */
static int
climb_check(const char *out, char *t, size_t tlen)
{
	struct scheme_path sp, tp;
	struct stat st;
	struct sc_at a = {.oflags = O_PATH | O_NOFOLLOW,
			  .op = SYS_FSTAT,
			  .d = sizeof(st),
			  .out = &st,
			  .outlen = sizeof(st)};
	char raw[PATH_MAX];
	int64_t at;
	int r;

	if (!path_classify(out, &sp) || sp.name[0] == '\0' || sp.restlen == 0)
		return 0;
	at = sc_at(&sp, &a);
	if (at == -ENOENT || at == -ENOTDIR)
		return (int)at;
	if (at != 0 || a.got != sizeof(st))
		return 0;
	if (S_ISDIR(st.st_mode))
		return 2;
	if (!S_ISLNK(st.st_mode))
		return -ENOTDIR;
	if ((r = sc_readlink(&sp, raw, sizeof(raw))) < 0)
		return r;
	if (raw[0] != '/' && path_classify(raw, &tp))
		r = snprintf(t, tlen, "/scheme/%s/%.*s", tp.name,
			     (int)tp.restlen, tp.rest);
	else
		r = snprintf(t, tlen, "%s", raw);
	return r >= 0 && (size_t)r < tlen ? 1 : -ENAMETOOLONG;
}

/*
 * join(), but a ".." after a name of rel's (not base's: a working
 * directory or a directory fd's path has no links) climbs from where a
 * link there leads, as Linux: "ld/.." with ld -> sub/deep is "sub".  A
 * path without such a ".." costs nothing more; one with it, a round trip
 * to the provider for each.
 */
static int
join_links(const char *base, const char *rel, char *out, size_t len)
{
	char work[RESOLVE_MAX], next[RESOLVE_MAX], t[PATH_MAX];
	const char *p, *s;
	size_t n, sure, l;
	int hops = 0, r;

	if ((r = join(base, "", out, len)) < 0)
		return r;
	n = sure = out[1] == '\0' ? 0 : strlen(out);
	out[n] = '\0';
	if ((size_t)snprintf(work, sizeof(work), "%s", rel) >= sizeof(work))
		return -ENAMETOOLONG;
	for (p = work; (s = path_next(&p, &l)) != NULL;) {
		if (path_is_dot(s, l))
			continue;
		if (!path_is_dotdot(s, l)) {
			if (push(out, &n, len, s, l) < 0)
				return -ENAMETOOLONG;
			continue;
		}
		r = n > sure ? climb_check(out, t, sizeof(t)) : 0;
		if (r < 0)
			return r;
		if (r == 1) { /* on from the link's directory, with its target */
			if (++hops > LINKS_MAX)
				return -ELOOP;
			path_pop(out, &n);
			if (t[0] == '/')
				out[n = 0] = '\0';
			if ((size_t)snprintf(next, sizeof(next), "%s/%s", t, s) >=
			    sizeof(next))
				return -ENAMETOOLONG;
			memcpy(work, next, strlen(next) + 1);
			p = work;
			sure = n;
			continue;
		}
		path_pop(out, &n);
		if (r == 2 || sure > n)
			sure = n;
	}
	if (n == 0) {
		out[0] = '/';
		out[1] = '\0';
	}
	return 0;
}

/*
 * A scheme path as "/scheme/NAME/rest", its canonical spelling.  ".."
 * stops at the scheme's root: a path that would climb out of it
 * ("hello:../../etc", perhaps a provider's answer to SYS_FPATH) names
 * nothing (-ENOENT), never a host file or another scheme's.
 */
int
resolve_canonical(const struct scheme_path *sp, char *out, size_t len)
{
	struct scheme_path got;
	char rel[PATH_MAX];
	int n;

	n = snprintf(rel, sizeof(rel), "%s%s%.*s", sp->name,
		     sp->restlen ? "/" : "", (int)sp->restlen, sp->rest);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	if ((n = join("/scheme", rel, out, len)) < 0)
		return n;
	if (!path_classify(out, &got) ||
	    (sp->name[0] != '\0' && strcmp(got.name, sp->name) != 0))
		return -ENOENT;
	return 0;
}

/*
 * The canonical path of a scheme fd, from its provider (SYS_FPATH), or
 * as it answered a moment before, if it lets us keep it (attrcache.c):
 * each *at call relative to a directory fd asks it.
 */
int
resolve_fd_path(int fd, struct sfd *e, char *out, size_t len)
{
	struct scheme_path sp;
	struct ac_snap sn;
	char buf[PATH_MAX];
	bool kept = e->ops->requests && e->key != 0;
	int n;

	if (!kept || !ac_fpath_get(e->inst, e->key, buf, sizeof(buf) - 1, &n)) {
		kept = kept && ac_snap_inst(e->inst, &sn);
		n = e->ops->fpath(fd, e, buf, sizeof(buf) - 1);
		if (kept)
			ac_fpath_put(e->key, buf, n, &sn);
	}
	if (n < 0)
		return n;
	buf[n] = '\0';
	if (!path_classify(buf, &sp))
		return -ENOTDIR; /* a provider that does not say */
	return resolve_canonical(&sp, out, len);
}

/*
 * Whether the n bytes at p have a component "." or ".." (HAS_DOTS), ".."
 * (HAS_DOTDOT), or "scheme" (HAS_SCHEME: with ".." and a directory, it
 * may lead into /scheme).
 */
#define HAS_DOTS   1
#define HAS_DOTDOT 2
#define HAS_SCHEME 4

static bool
has_component(const char *p, size_t n, int what)
{
	const char *end = p + n, *e;
	size_t l;

	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '/', (size_t)(end - p))) == NULL)
			e = end;
		l = (size_t)(e - p);
		if ((what & HAS_DOTS) && l == 1 && p[0] == '.')
			return true;
		if ((what & (HAS_DOTS | HAS_DOTDOT)) && l == 2 && p[0] == '.' &&
		    p[1] == '.')
			return true;
		if ((what & HAS_SCHEME) && l == 6 &&
		    memcmp(p, "scheme", 6) == 0)
			return true;
	}
	return false;
}

/* Which of "." (1) or ".." (2) the last component of path is, else 0. */
int
resolve_last_dot(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= 1 && path[n - 1] == '.' && (n == 1 || path[n - 2] == '/'))
		return 1;
	if (n >= 2 && path[n - 1] == '.' && path[n - 2] == '.' &&
	    (n == 2 || path[n - 3] == '/'))
		return 2;
	return 0;
}

/*
 * path joined lexically (to base when it is relative) into buf, for a path
 * that may name a scheme file by way of "//", "." or "..": 1 and *sp when
 * it does, and then *path is buf.  Otherwise 0, and the kernel is given
 * the path as it was (it resolves symbolic links before ".."), unless the
 * path has a component named "scheme" and a "..": only then is it given
 * the joined one ("/scheme/x/../../etc": no disk directory is behind
 * /scheme for the kernel to climb out of).  A trailing slash
 * or dot is kept as a trailing slash: the name must be a directory.
 */
static int
resolve_lexical(int *dirfd, const char **path, size_t n, const char *base,
		char *buf, size_t len, struct scheme_path *sp)
{
	const char *p = *path;
	size_t m;
	int r = join_links(base, p, buf, len);

	if (r == -ENAMETOOLONG)
		return 0; /* the kernel says what is too long */
	if (r < 0)
		return r;
	m = strlen(buf);
	if (m > 1 && m + 1 < len && (p[n - 1] == '/' || resolve_last_dot(p))) {
		buf[m] = '/';
		buf[m + 1] = '\0';
	}
	if (path_classify(buf, sp)) {
		*path = buf;
		return 1;
	}
	if (has_component(p, n, HAS_SCHEME) &&
	    has_component(p, n, HAS_DOTDOT)) {
		*path = buf;
		*dirfd = AT_FDCWD;
	}
	return 0;
}

/* The kernel's directory behind dirfd (or its working directory). */
static int
kernel_dir(int dirfd, char *out, size_t len)
{
	char proc[32];
	int saved = errno;
	ssize_t n;

	if (dirfd == AT_FDCWD) {
		n = REAL(getcwd)(out, len) != NULL ? (ssize_t)strlen(out) : -1;
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
		if ((n = REAL(readlink)(proc, out, len - 1)) >= 0)
			out[n] = '\0';
	}
	errno = saved;
	return n > 0 && out[0] == '/' ? 0 : -ENOENT;
}

/*
 * A relative path the kernel would resolve (against its working directory
 * or a directory fd of its own) that names a component "scheme": joined to
 * that directory, it may be a scheme path ("scheme/hello/x" relative to an
 * fd of "/", as rsync makes it).  Anything else costs nothing more.
 */
static int
resolve_kernel(int *dirfd, const char **path, size_t n, char *buf, size_t len,
	       struct scheme_path *sp)
{
	char base[PATH_MAX];

	if (!has_component(*path, n, HAS_SCHEME) ||
	    kernel_dir(*dirfd, base, sizeof(base)) < 0)
		return 0;
	if (resolve_lexical(dirfd, path, n, base, buf, len, sp) == 0)
		return 0;
	*dirfd = AT_FDCWD;
	return 1;
}

/*
 * The first bytes of an absolute path that says nothing of schemes: the
 * kernel's without looking further, unless it has a ".." (which may climb
 * back into /scheme: "/tmp/../scheme/x").
 */
static bool
plain_absolute(const char *p)
{
	ssize_t n;

	if (!LIKELY(ua_known(p, 8)) || p[0] != '/' || p[1] == '/' ||
	    p[1] == '.' || strncmp(p, "/scheme", 7) == 0)
		return false;
	n = ua_strnlen(p, PATH_MAX);
	return n < 0 || n == PATH_MAX || memmem(p, (size_t)n, "/..", 3) == NULL;
}

int
resolve_at(int *dirfd, const char **path, char *buf, size_t len,
	   struct scheme_path *sp)
{
	const char *p = *path;
	char base[PATH_MAX];
	struct sfd *e = NULL;
	ssize_t n;
	int r;

	if (p == NULL)
		return 0;
	/*
	 * The program's string is read only where it may be (uaccess.h),
	 * and what the kernel would refuse before looking is refused so.
	 * The usual case first: an absolute path that is not under /scheme
	 * is the kernel's from its first bytes, and they are known memory.
	 */
	if (plain_absolute(p))
		return 0;
	if ((n = ua_strnlen(p, PATH_MAX)) < 0 || n == PATH_MAX)
		return n < 0 ? (int)n : -ENAMETOOLONG;
	if (p[0] == '/')
		return has_component(p, (size_t)n, HAS_DOTS) || p[1] == '/'
			   ? resolve_lexical(dirfd, path, (size_t)n, "/", buf,
					     len, sp)
			   : path_classify(p, sp);
	if (path_classify(p, sp))
		return 1;
	if (*dirfd == AT_FDCWD) {
		if (__builtin_expect(
			!atomic_load_explicit(&in_scheme, memory_order_relaxed),
			1))
			return resolve_kernel(dirfd, path, (size_t)n, buf, len,
					      sp);
		st_lock(ST_CWD);
		memcpy(base, cwd, sizeof(base));
		st_unlock(ST_CWD);
		if (base[0] == '\0')
			return 0;
	} else {
		e = fdtab_get(*dirfd);
		if (e == NULL)
			return resolve_kernel(dirfd, path, (size_t)n, buf, len,
					      sp);
		if (e->ops->fpath == NULL || e->ops->ours)
			return 0;
		if ((r = resolve_fd_path(*dirfd, e, base, sizeof(base))) < 0)
			return r;
	}
	if (p[0] == '\0')
		return -ENOENT;
	if ((r = join_links(base, p, buf, len)) < 0)
		return r;
	*path = buf;
	if (path_classify(buf, sp))
		return 1;
	*dirfd = AT_FDCWD; /* climbed out: an ordinary absolute path */
	return 0;
}

bool
resolve_in_scheme(void)
{
	return atomic_load_explicit(&in_scheme, memory_order_relaxed);
}

/* chdir into a scheme directory (canonical path), or back out (NULL). */
void
resolve_set_cwd(const char *canonical)
{
	st_lock(ST_CWD);
	if (canonical != NULL)
		snprintf(cwd, sizeof(cwd), "%s", canonical);
	else
		cwd[0] = '\0';
	atomic_store(&in_scheme, canonical != NULL);
	st_unlock(ST_CWD);
}

/* Our working directory into buf; -ERANGE if it does not fit. */
int
resolve_getcwd(char *buf, size_t len)
{
	int r = 0;

	st_lock(ST_CWD);
	if (cwd[0] == '\0')
		r = -ENOENT;
	else if (strlen(cwd) + 1 > len)
		r = -ERANGE;
	else
		strcpy(buf, cwd);
	st_unlock(ST_CWD);
	return r;
}

/* "SCHEME_CWD=dev:ino:/scheme/..." for exec, or "" when not in one. */
void
resolve_env(char *var, size_t len)
{
	struct stat st;

	var[0] = '\0';
	if (!resolve_in_scheme() || REAL(stat)(".", &st) < 0)
		return;
	st_lock(ST_CWD);
	if (cwd[0] != '\0')
		snprintf(var, len, "SCHEME_CWD=%llx:%llx:%s",
			 (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, cwd);
	st_unlock(ST_CWD);
}

/* At start: the working directory our parent gave us, if still true. */
void
resolve_init(void)
{
	const char *v = getenv("SCHEME_CWD");
	unsigned long long dev, ino;
	struct stat st;
	int off = 0;

	if (v == NULL || sscanf(v, "%llx:%llx:%n", &dev, &ino, &off) != 2 ||
	    off == 0 || strncmp(v + off, "/scheme", 7) != 0 ||
	    REAL(stat)(".", &st) < 0 || st.st_dev != dev || st.st_ino != ino)
		return;
	resolve_set_cwd(v + off);
}
