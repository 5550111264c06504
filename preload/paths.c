/*
 * paths.c - path calls on scheme paths, the Redox way: unlink and rmdir
 * are requests naming the path; everything else opens the path (O_PATH
 * for metadata), asks on the handle, and closes it.
 *
 *	mkdir		open O_CREAT | O_DIRECTORY | O_EXCL
 *	chmod, chown	open O_PATH, SYS_FCHMOD / SYS_FCHOWN
 *	utimensat	open O_PATH, SYS_FUTIMENS
 *	truncate	open O_WRONLY, SYS_FTRUNCATE
 *	rename		open the old path O_PATH, SYS_FRENAME with the new
 *			one (same scheme; across schemes or to a disk path:
 *			EXDEV, and mv copies)
 *	link		open the old path O_PATH, SYS_FLINK with the new
 *			one (the same scheme: wrap_node.c sees to it)
 *	access		stat, and the mode bits checked here as the kernel
 *			would for the caller's ids
 *
 * chmod, chown, utimensat and truncate (and stat, client.c) are one round
 * trip: the serving code plays the open, the request and the close
 * against the provider (sc_at).  Only an open the provider answers with
 * a kernel fd has them made here, separately.
 *
 * Each returns >= 0, -errno, or SC_PASS when the scheme is not there (the
 * path is then an ordinary one).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/wire/wire.h"
#include "attrcache.h"
#include "chan.h"
#include "client.h"
#include "paths.h"
#include "real.h"
#include "resolve.h"

static int unlink_req(const struct scheme_path *sp, bool dir);

/* SYS_UNLINK or SYS_RMDIR: a request naming the path. */
static int
unlink_once(const struct scheme_path *sp, bool dir)
{
	int r;

	ac_drop(); /* before and after: attrcache.c "Coherence" */
	r = unlink_req(sp, dir);
	ac_drop();
	return r;
}

static int
unlink_req(const struct scheme_path *sp, bool dir)
{
	struct iovec in = {(void *)sp->rest, sp->restlen};
	struct wire_req req;
	struct wire_rep rep;
	struct chan *ch;
	int tries, r;

	for (tries = 0; tries < 2; tries++) {
		r = chan_by_name(sp->name, &ch);
		if (r == -ENOENT || r == -ENOTCONN)
			return SC_PASS;
		if (r < 0)
			return r;
		wire_req_init(&req, dir ? SYS_RMDIR : SYS_UNLINK, 0);
		r = chan_call(ch, &req, &in, 1, NULL, 0, &rep, NULL, 0, -1);
		if (r == -ENOTCONN)
			continue;
		if (r < 0)
			return r;
		chan_release(ch);
		return (int)(int64_t)rep.result;
	}
	return -EIO;
}

/*
 * The same, with links before the last component followed (follow.c):
 * the name itself is what goes, a link or not.
 */
int
sc_unlink(const struct scheme_path *sp, bool dir)
{
	char buf[RESOLVE_MAX];
	struct scheme_path t = *sp;
	int r, hops = 0, before, saved;

	while ((r = unlink_once(&t, dir)) == -EXDEV) {
		before = hops;
		if ((r = sc_follow(&t, false, buf, sizeof(buf), &hops)) == 0) {
			saved = errno;
			r = (dir ? REAL(rmdir)(buf) : REAL(unlink)(buf)) < 0
				? -errno
				: 0;
			errno = saved;
			return r;
		}
		if (r < 0)
			return r;
		if (hops == before)
			return -EIO;
	}
	return r;
}

/* Open the path for a moment and call fn on the handle. */
int
sc_path_do(const struct scheme_path *sp, int flags,
	   int (*fn)(int fd, struct sfd *e, void *arg), void *arg)
{
	struct sc_desc d;
	struct sfd tmp;
	int fd, r;

	fd = sc_open(sp, flags | O_CLOEXEC, 0, &d);
	if (fd < 0)
		return fd; /* SC_PASS too */
	sc_desc_sfd(&tmp, &d);
	r = d.key != 0 ? fn(fd, &tmp, arg) : -EPERM;
	REAL(close)(fd);
	return r;
}

/*
 * mkdir.  In the root scheme a directory is a scheme, made by a provider,
 * never by mkdir: EEXIST for one that is there (mkdir -p /scheme/x/y
 * walks through them), EPERM otherwise.
 */
int
sc_mkdir(const struct scheme_path *sp, mode_t mode)
{
	struct sc_desc d;
	struct stat st;
	int fd, r;

	if (sp->name[0] == '\0') {
		r = sc_stat(sp, &st, false);
		return r == SC_PASS ? r : r == 0 ? -EEXIST : -EPERM;
	}
	fd = sc_open(sp, O_CREAT | O_EXCL | O_DIRECTORY | O_RDONLY | O_CLOEXEC,
		     mode, &d);
	if (fd < 0)
		return fd;
	REAL(close)(fd);
	return 0;
}

/*
 * a in one round trip, or fn on the path opened here if it must be: the
 * open was answered with a kernel fd, or a symbolic link is on the way
 * (EXDEV: sc_open follows it, follow.c).
 */
static int
at_or_do(const struct scheme_path *sp, struct sc_at *a,
	 int (*fn)(int fd, struct sfd *e, void *arg), void *arg)
{
	int64_t r = sc_at(sp, a);

	return r == SC_SEPARATE || r == -EXDEV
		   ? sc_path_do(sp, a->oflags, fn, arg)
		   : (int)r;
}

static int
at_flags(bool nofollow)
{
	return O_PATH | (nofollow ? O_NOFOLLOW : 0);
}

static int
do_chmod(int fd, struct sfd *e, void *arg)
{
	return sc_fchmod(fd, e, *(mode_t *)arg);
}

int
sc_chmod(const struct scheme_path *sp, mode_t mode, bool nofollow)
{
	struct sc_at a = {.oflags = at_flags(nofollow),
			  .op = SYS_FCHMOD,
			  .c = mode & 07777};

	return at_or_do(sp, &a, do_chmod, &mode);
}

struct owner {
	uid_t uid;
	gid_t gid;
};

static int
do_chown(int fd, struct sfd *e, void *arg)
{
	struct owner *o = arg;

	return sc_fchown(fd, e, o->uid, o->gid);
}

int
sc_chown(const struct scheme_path *sp, uid_t uid, gid_t gid, bool nofollow)
{
	struct owner o = {uid, gid};
	struct sc_at a = {.oflags = at_flags(nofollow),
			  .op = SYS_FCHOWN,
			  .c = (uint32_t)uid,
			  .d = (uint32_t)gid};

	return at_or_do(sp, &a, do_chown, &o);
}

static int
do_utimens(int fd, struct sfd *e, void *arg)
{
	return sc_futimens(fd, e, arg);
}

/* NULL times: both now, as sc_futimens sends them. */
int
sc_utimens(const struct scheme_path *sp, const struct timespec ts[2],
	   bool nofollow)
{
	static const struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	struct sc_at a = {.oflags = at_flags(nofollow),
			  .op = SYS_FUTIMENS,
			  .d = sizeof(now),
			  .in = ts != NULL ? ts : now,
			  .inlen = sizeof(now)};

	return at_or_do(sp, &a, do_utimens, (void *)ts);
}

static int
do_truncate(int fd, struct sfd *e, void *arg)
{
	return sc_ftruncate(fd, e, *(off_t *)arg);
}

int
sc_truncate(const struct scheme_path *sp, off_t len)
{
	struct sc_at a = {.oflags = O_WRONLY,
			  .op = SYS_FTRUNCATE,
			  .c = (uint64_t)len};

	if (len < 0)
		return -EINVAL;
	return at_or_do(sp, &a, do_truncate, &len);
}

/*
 * Is the open file e in the scheme sp names?  A symbolic link on the old
 * path may have led the open to another scheme, whose provider must not
 * be given a new path meant for this one: EXDEV, as Linux across file
 * systems.  No round trip: the name's channel is this thread's already.
 */
static int
same_scheme(const struct sfd *e, const struct scheme_path *sp)
{
	struct chan *ch;
	bool same;
	int r;

	if ((r = chan_by_name(sp->name, &ch)) < 0)
		return r == -ENOENT || r == -ENOTCONN ? -EXDEV : r;
	same = ch->broker == e->broker && ch->inst == e->inst;
	chan_release(ch);
	return same ? 0 : -EXDEV;
}

static int
do_rename(int fd, struct sfd *e, void *arg)
{
	const struct scheme_path *to = arg;
	int r = same_scheme(e, to);

	return r < 0 ? r : sc_frename(fd, e, to->rest, to->restlen);
}

/*
 * rename(from, to) where at least one is a scheme path.  RENAME_NOREPLACE
 * is checked here first (not atomic: Redox's frename has no flags);
 * RENAME_EXCHANGE and RENAME_WHITEOUT cannot be had.
 */
int
sc_rename(const struct scheme_path *from, const struct scheme_path *to,
	  unsigned flags)
{
	struct stat st;
	int r;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	if (from == NULL) { /* a disk path onto a scheme path */
		r = sc_stat(to, &st, true);
		return r == SC_PASS ? SC_PASS : -EXDEV;
	}
	if (to == NULL || strcmp(from->name, to->name) != 0) {
		r = sc_stat(from, &st, true);
		return r == SC_PASS ? SC_PASS : r < 0 ? r : -EXDEV;
	}
	if ((flags & RENAME_NOREPLACE) &&
	    (r = sc_stat(to, &st, true)) != -ENOENT)
		return r == 0 ? -EEXIST : r;
	return sc_path_do(from, O_PATH | O_NOFOLLOW, do_rename, (void *)to);
}

/*
 * SYS_FLINK is newer than most providers, and one that answers 0 to any
 * request it does not know would seem to have linked.  So the new name
 * is looked at (two round trips; links are rare): if the provider says
 * which file the old one is (st_ino) and the new name is not that file,
 * link(2) fails with EIO and says why, once, never a link that is not
 * there.
 */
static int
link_made(int fd, struct sfd *e, const struct scheme_path *to)
{
	static atomic_bool told;
	struct stat a, b;
	char line[200];
	int n;

	if (sc_fstat(fd, e, &a) < 0 || a.st_ino == 0)
		return 0; /* no identity to tell by: as answered */
	if (sc_stat(to, &b, true) == 0 && b.st_ino == a.st_ino &&
	    b.st_dev == a.st_dev)
		return 0;
	if (!atomic_exchange(&told, true)) {
		n = snprintf(line, sizeof(line),
			     "scheme %s: the provider answered SYS_FLINK "
			     "with success but made no link (it does not "
			     "know the request?): EIO\n",
			     to->name);
		if (n > 0 && (size_t)n < sizeof(line) &&
		    REAL(write)(2, line, (size_t)n) < 0)
			n = 0; /* nowhere else to say it */
	}
	return -EIO;
}

static int
do_link(int fd, struct sfd *e, void *arg)
{
	const struct scheme_path *to = arg;
	int r = same_scheme(e, to);

	if (r == 0 && (r = sc_flink(fd, e, to->rest, to->restlen)) == 0)
		r = link_made(fd, e, to);
	return r;
}

/*
 * link(from, to) within one scheme; a symbolic link at from is followed
 * only if asked (linkat's AT_SYMLINK_FOLLOW), as Linux does.  -ENOSYS:
 * the provider has no hard links.
 */
int
sc_link(const struct scheme_path *from, const struct scheme_path *to,
	bool follow)
{
	return sc_path_do(from, O_PATH | (follow ? 0 : O_NOFOLLOW), do_link,
			  (void *)to);
}

static bool
in_groups(gid_t gid, bool effective)
{
	gid_t groups[256];
	int i, n;

	if (gid == (effective ? getegid() : getgid()))
		return true;
	n = getgroups(256, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* access(): the kernel's rule on the provider's mode bits. */
int
sc_access(const struct scheme_path *sp, int mode, bool effective, bool nofollow)
{
	uid_t uid = effective ? geteuid() : getuid();
	struct stat st;
	mode_t bits;
	int r;

	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if ((r = sc_stat(sp, &st, nofollow)) < 0)
		return r;
	if (mode == F_OK)
		return 0;
	if (uid == 0) { /* root: all but execute of what nobody may run */
		if ((mode & X_OK) && !S_ISDIR(st.st_mode) &&
		    !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return -EACCES;
		return 0;
	}
	if (st.st_uid == uid)
		bits = (st.st_mode >> 6) & 7;
	else if (in_groups(st.st_gid, effective))
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	return ((mode_t)mode & ~bits) != 0 ? -EACCES : 0;
}
