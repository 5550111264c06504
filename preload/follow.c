/*
 * follow.c - symbolic links in schemes, followed as Redox's relibc does.
 *
 * A provider that meets a link on the way answers EXDEV (scheme.h: a
 * component before the last, or the last one of an open that follows
 * it).  Only then is anything more asked: the path is walked from its
 * first component, each leading part opened with SCHEME_O_SYMLINK, which
 * a provider answers EINVAL for a name that is no link; the first link
 * found is read and its target put in its place, relative to the link's
 * directory (the part walked so far has no links, so ".." in it is
 * lexical and right), or, absolute, where it leads: another scheme or a
 * disk path.  Then the request is made again.  The path without links
 * costs nothing: it never hears EXDEV.
 *
 * sc_stat lives here too: a stat follows links as an open does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "attrcache.h"
#include "client.h"
#include "real.h"
#include "resolve.h"

#define FOLLOW_MAX 40 /* links on one path, as Linux: then ELOOP */

/*
 * Where a walk goes on from: the absolute path p (or "name:rest").  In a
 * scheme: 1, its name in name and the rest to walk in todo; else 0, the
 * disk path (joined lexically where resolve.c does) in out.
 */
static int
restart(const char *p, char *name, char *todo, char *out, size_t len)
{
	struct scheme_path sp;
	char norm[RESOLVE_MAX];
	int dirfd = AT_FDCWD, r;

	if ((r = resolve_at(&dirfd, &p, norm, sizeof(norm), &sp)) < 0)
		return r;
	if (r == 0) {
		if ((size_t)snprintf(out, len, "%s", p) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	memcpy(name, sp.name, sizeof(sp.name));
	memmove(todo, sp.rest, sp.restlen);
	todo[sp.restlen] = '\0';
	return 1;
}

/*
 * The first link on sp's path (its last component too when `last`),
 * replaced by its target: 1 and sp now in a scheme (its rest in buf), or
 * 0 and a disk path in buf, or -errno (-ELOOP after FOLLOW_MAX links in
 * *hops).  A part that cannot be read as a link ends the walk: the
 * request made again says why.
 */
int
sc_follow(struct scheme_path *sp, bool last, char *buf, size_t len, int *hops)
{
	char name[sizeof(sp->name)], done[RESOLVE_MAX], todo[RESOLVE_MAX];
	char target[PATH_MAX], next[RESOLVE_MAX + PATH_MAX];
	struct scheme_path probe, tmp;
	size_t dl = 0, cl;
	const char *p, *c;
	int r, out = 0;

	memcpy(name, sp->name, sizeof(name));
	if (sp->restlen >= sizeof(todo))
		return -ENAMETOOLONG;
	memcpy(todo, sp->rest, sp->restlen);
	todo[sp->restlen] = '\0';
	done[0] = '\0';
	for (p = todo; (c = path_next(&p, &cl)) != NULL;) {
		if (path_is_dot(c, cl))
			continue;
		if (path_is_dotdot(c, cl)) {
			if (dl == 0) { /* above the scheme's root */
				snprintf(next, sizeof(next), "/scheme%s", p);
				out = 1;
			} else {
				path_pop(done, &dl);
				continue;
			}
		} else {
			if (dl + 1 + cl + 1 > sizeof(done))
				return -ENAMETOOLONG;
			if (dl > 0)
				done[dl++] = '/';
			memcpy(done + dl, c, cl);
			dl += cl;
			done[dl] = '\0';
			if (!last && p[strspn(p, "/")] == '\0')
				break; /* the last, not followed */
			memcpy(probe.name, name, sizeof(name));
			probe.rest = done;
			probe.restlen = dl;
			r = sc_readlink(&probe, target, sizeof(target));
			if (r == -EINVAL)
				continue;
			if (r < 0)
				break;
			if (++*hops > FOLLOW_MAX)
				return -ELOOP;
			path_pop(done, &dl);
			out = target[0] == '/' || path_classify(target, &tmp);
			if ((size_t)snprintf(next, sizeof(next), "%s%s", target,
					     p) >= sizeof(todo))
				return -ENAMETOOLONG;
			if (!out) { /* relative to the link's directory */
				strcpy(todo, next);
				p = todo;
				continue;
			}
		}
		if ((r = restart(next, name, todo, buf, len)) <= 0)
			return r;
		out = 0;
		dl = 0;
		done[0] = '\0';
		p = todo;
	}
	if ((size_t)snprintf(buf, len, "%s%s", done, p) >= len)
		return -ENAMETOOLONG;
	memcpy(sp->name, name, sizeof(name));
	sp->rest = buf;
	sp->restlen = strlen(buf);
	return 1;
}

/*
 * An open, following links (scheme.h): one request when the path has
 * none.  O_TMPFILE cannot be had (as a file system without it says).
 */
int
sc_open(const struct scheme_path *sp, int flags, mode_t mode, struct sc_desc *d)
{
	char buf[RESOLVE_MAX];
	struct scheme_path t;
	int r, hops = 0, before, saved;

	if ((flags & O_TMPFILE) == O_TMPFILE)
		return -EOPNOTSUPP;
	r = sc_open_once(sp, flags, mode, d);
	if (__builtin_expect(r != -EXDEV, 1))
		return r;
	t = *sp;
	while (r == -EXDEV) {
		before = hops;
		r = sc_follow(&t, !(flags & (O_NOFOLLOW | SCHEME_O_SYMLINK)),
			      buf, sizeof(buf), &hops);
		if (r == 0) { /* a link to a disk path */
			memset(d, 0, sizeof(*d));
			saved = errno;
			if ((r = REAL(open)(buf, flags, mode)) < 0)
				r = -errno;
			errno = saved;
			return r;
		}
		if (r < 0)
			return r;
		if (hops == before)
			return -EIO; /* EXDEV, and no link on the way */
		r = sc_open_once(&t, flags, mode, d);
	}
	return r == SC_PASS ? -ENOENT : r; /* a link to a scheme not there */
}

/*
 * stat() on a scheme path: SYS_FSTAT on it opened O_PATH, in one round
 * trip (sc_at).  With a symbolic link on the way (EXDEV), or an open
 * answered with a kernel fd, the open is made here, following links,
 * and the fstat asked on it.  event: is the preload's own: its root is a
 * directory nobody lists.  An answer the provider lets us keep (scheme.h
 * "Caching") is kept, and used again while valid (attrcache.c): only
 * those of the one round trip, whose path is the one asked.
 */
int
sc_stat(const struct scheme_path *sp, struct stat *st, bool nofollow)
{
	struct sc_at a = {.oflags = O_PATH | (nofollow ? O_NOFOLLOW : 0),
			  .op = SYS_FSTAT,
			  .d = sizeof(*st),
			  .out = st,
			  .outlen = sizeof(*st)};
	struct sc_desc d;
	struct ac_snap sn;
	struct ac_key k;
	struct sfd tmp;
	bool keyed, snapped;
	int64_t r;
	int fd;

	if (strcmp(sp->name, "event") == 0) {
		if (sp->restlen > 0)
			return -ENOENT;
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		st->st_ino = 1; /* 0 is no entry to readdir */
		return 0;
	}
	keyed = ac_key(&k, sp->name, sp->rest, sp->restlen, NULL, 0, nofollow);
	if (keyed && (r = ac_get(&k, st)) != AC_MISS)
		return (int)r;
	snapped = keyed && ac_snap_name(sp->name, &sn);
	r = sc_at(sp, &a);
	if (r != SC_SEPARATE && r != -EXDEV) {
		if (r == 0 && a.got != sizeof(*st))
			return -EIO;
		if (r == 0)
			st->st_dev = scheme_dev(a.inst);
		if (snapped && sn.inst == a.inst)
			ac_put(&k, st, (int)r, &sn);
		else if (keyed && (r == 0 || r == -ENOENT))
			sc_grant(sp, a.inst); /* the next one is kept */
		return (int)r;
	}
	fd = sc_open(sp, a.oflags | O_CLOEXEC, 0, &d);
	if (fd < 0)
		return fd;
	if (d.key == 0) {
		r = REAL(fstat)(fd, st) < 0 ? -errno : 0;
	} else {
		sc_desc_sfd(&tmp, &d);
		r = sc_fstat(fd, &tmp, st);
	}
	REAL(close)(fd);
	return (int)r;
}
