/*
 * wrap_node.c - the calls that make a name other than a file or a
 * directory, or reach one by a path the preload did not follow before:
 * symlink, link, mknod, mkfifo, bind and connect of AF_UNIX paths,
 * futimesat, lchmod, inotify_add_watch, name_to_handle_at (and their *at
 * forms).
 *
 * In a scheme, each either does what it says (symbolic links, the Redox
 * way: follow.c; hard links where the provider keeps them) or fails with
 * the errno a Linux file system without it gives (the VFS's EPERM for a
 * node it cannot make, EXDEV for a link across file systems).  None may act on the kernel's working directory
 * while ours is a scheme's: that would report success for a file the
 * program did not name.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/wire/path.h"
#include "client.h"
#include "paths.h"
#include "resolve.h"
#include "uaccess.h"
#include "wrap.h"

/*
 * A name that cannot be made in a scheme: EEXIST if it is there, what the
 * walk to its directory says if that fails, else EPERM (vfs_mknod's
 * answer for a file system without the operation).
 */
static int
cannot_make(const struct scheme_path *sp)
{
	struct scheme_path dir = *sp;
	struct stat st;
	int r = sc_stat(sp, &st, true);

	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	while (dir.restlen > 0 && dir.rest[dir.restlen - 1] == '/')
		dir.restlen--;
	while (dir.restlen > 0 && dir.rest[dir.restlen - 1] != '/')
		dir.restlen--;
	if ((r = sc_stat(&dir, &st, false)) < 0)
		return r;
	return S_ISDIR(st.st_mode) ? -EPERM : -ENOTDIR;
}

/*
 * symlink(target, linkpath) in a scheme: an O_SYMLINK create, then the
 * target written (scheme.h).  A provider that ignores SCHEME_O_SYMLINK
 * made a regular file: it is taken away again, and the answer is EPERM.
 */
static int
make_link(const struct scheme_path *sp, const char *target)
{
	struct sc_desc d;
	struct stat st;
	struct sfd tmp;
	struct iovec iov;
	ssize_t n;
	int fd, r;

	if ((n = ua_strnlen(target, PATH_MAX)) < 0 || n == PATH_MAX)
		return n < 0 ? (int)n : -ENAMETOOLONG;
	if (n == 0)
		return -ENOENT;
	fd = sc_open(sp,
		     SCHEME_O_SYMLINK | O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
		     0777, &d);
	if (fd < 0)
		return fd;
	sc_desc_sfd(&tmp, &d);
	iov = (struct iovec){(void *)target, (size_t)n};
	if (d.key == 0 || (r = sc_fstat(fd, &tmp, &st)) < 0)
		r = -EPERM;
	else if (!S_ISLNK(st.st_mode))
		r = -EPERM;
	else
		r = sc_writev(fd, &tmp, &iov, 1) == n ? 0 : -EIO;
	REAL(close)(fd);
	if (r == -EPERM && d.key != 0)
		sc_unlink(sp, false);
	return r;
}

EXPORT int
symlink(const char *target, const char *path)
{
	ON_PATH(path, make_link(&sp, target), REAL(symlink)(target, path));
}

EXPORT int
symlinkat(const char *target, int dirfd, const char *path)
{
	ON_PATH_AT(dirfd, path, make_link(&sp, target),
		   REAL(symlinkat)(target, dirfd, path));
}

/*
 * link(old, new): within one scheme, Redox's flink on the old name opened
 * O_PATH.  A provider without hard links (-ENOSYS) gets the answers of a
 * Linux file system without them: EPERM for a directory, else EEXIST if
 * the new name is there, else EPERM, once both names are checked.
 * Across schemes, or between a scheme and the disk, EXDEV.  A new name
 * with a trailing slash is never made (EEXIST, or ENOENT, as Linux says):
 * joined to a scheme working directory it may have lost the slash.
 */
static int
try_link(int *oldfd, const char **old, char *obuf, int *newfd, const char **new,
	 char *nbuf, int flags)
{
	const char *given = *new; /* read by resolve_at when it says 1 */
	struct scheme_path a, b;
	struct stat st;
	int sa = resolve_at(oldfd, old, obuf, RESOLVE_MAX, &a);
	int sb = resolve_at(newfd, new, nbuf, RESOLVE_MAX, &b);
	int r;

	if (LIKELY(sa == 0 && sb == 0))
		return SC_PASS;
	if (sa < 0 || sb < 0)
		return sa < 0 ? sa : sb;
	if (sa == 0 || sb == 0 || strcmp(a.name, b.name) != 0)
		return -EXDEV;
	if (given[0] != '\0' && given[strlen(given) - 1] == '/') {
		if ((r = sc_stat(&a, &st, !(flags & AT_SYMLINK_FOLLOW))) < 0)
			return r;
		r = sc_stat(&b, &st, true);
		return r == 0 ? -EEXIST : r;
	}
	r = sc_link(&a, &b, (flags & AT_SYMLINK_FOLLOW) != 0);
	if (r != -ENOSYS)
		return r;
	if ((r = sc_stat(&a, &st, !(flags & AT_SYMLINK_FOLLOW))) < 0)
		return r;
	if (S_ISDIR(st.st_mode))
		return -EPERM;
	return cannot_make(&b);
}

#define LINK_BODY(oldfd, old, newfd, new, flags, realcall)                     \
	do {                                                                   \
		char obuf_[RESOLVE_MAX], nbuf_[RESOLVE_MAX];                   \
		int saved_ = errno;                                            \
		int r_ = try_link(&(oldfd), &(old), obuf_, &(newfd), &(new),   \
				  nbuf_, flags);                               \
                                                                               \
		PASS_OR_RETURN(r_, saved_, realcall);                          \
	} while (0)

EXPORT int
link(const char *old, const char *new)
{
	int oldfd = AT_FDCWD, newfd = AT_FDCWD;

	LINK_BODY(oldfd, old, newfd, new, 0,
		  REAL(linkat)(oldfd, old, newfd, new, 0));
}

EXPORT int
linkat(int oldfd, const char *old, int newfd, const char *new, int flags)
{
	if (flags & AT_EMPTY_PATH) /* old is the fd itself */
		return REAL(linkat)(oldfd, old, newfd, new, flags);
	LINK_BODY(oldfd, old, newfd, new, flags,
		  REAL(linkat)(oldfd, old, newfd, new, flags));
}

/*
 * mknod in a scheme: a regular file is an O_EXCL create, as Linux makes
 * one; a directory EPERM, as Linux; fifos, sockets and devices cannot be
 * had from a provider today: cannot_make().
 */
static int
make_node(const struct scheme_path *sp, mode_t mode)
{
	struct sc_desc d;
	int fd;

	switch (mode & S_IFMT) {
	case 0:
	case S_IFREG:
		fd = sc_open(sp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
			     mode & 07777, &d);
		if (fd >= 0)
			REAL(close)(fd);
		return fd < 0 ? fd : 0;
	case S_IFDIR:
		return -EPERM;
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		return cannot_make(sp);
	default:
		return -EINVAL;
	}
}

EXPORT int
mknod(const char *path, mode_t mode, dev_t dev)
{
	ON_PATH(path, make_node(&sp, mode), REAL(mknod)(path, mode, dev));
}

EXPORT int
mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	ON_PATH_AT(dirfd, path, make_node(&sp, mode),
		   REAL(mknodat)(dirfd, path, mode, dev));
}

EXPORT int
mkfifo(const char *path, mode_t mode)
{
	ON_PATH(path, make_node(&sp, S_IFIFO | (mode & 07777)),
		REAL(mkfifo)(path, mode));
}

EXPORT int
mkfifoat(int dirfd, const char *path, mode_t mode)
{
	ON_PATH_AT(dirfd, path, make_node(&sp, S_IFIFO | (mode & 07777)),
		   REAL(mkfifoat)(dirfd, path, mode));
}

/*
 * An AF_UNIX address naming a path (not an abstract name): the path, as
 * a string in out.  0 when the address is anything else (then the call
 * is the kernel's, untouched), 1 when it names a path.
 */
static int
unix_path(const struct sockaddr *addr, socklen_t len, char *out)
{
	const struct sockaddr_un *sa = (const struct sockaddr_un *)addr;
	size_t n;

	if (addr == NULL || len <= offsetof(struct sockaddr_un, sun_path) ||
	    len > sizeof(*sa) || ua_read_ok(addr, len) < 0 ||
	    sa->sun_family != AF_UNIX || sa->sun_path[0] == '\0')
		return 0;
	n = len - offsetof(struct sockaddr_un, sun_path);
	memcpy(out, sa->sun_path, n);
	out[n] = '\0';
	return 1;
}

/*
 * bind and connect of a path in a scheme: a scheme has no sockets, so
 * bind is refused as a file system without mknod refuses it (EADDRINUSE
 * for a name that is there), and connect finds no socket listening
 * (ECONNREFUSED, or what the walk says).  A path that only climbed out of
 * a scheme directory goes to the kernel as it was resolved.
 */
static int
sock_path(int fd, const struct sockaddr *addr, socklen_t len, bool is_bind)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	char buf[RESOLVE_MAX];
	const char *p = path;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct scheme_path sp;
	struct stat st;
	int dirfd = AT_FDCWD, r;

	if (!unix_path(addr, len, path) ||
	    (r = resolve_at(&dirfd, &p, buf, sizeof(buf), &sp)) == 0) {
		if (p == path)
			return SC_PASS;
		if (strlen(p) >= sizeof(sa.sun_path))
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, p);
		r = (is_bind ? REAL(bind) : REAL(connect))(
		    fd, (struct sockaddr *)&sa, sizeof(sa));
		return r < 0 ? -errno : 0;
	}
	if (r < 0)
		return r;
	if (is_bind)
		return (r = cannot_make(&sp)) == -EEXIST ? -EADDRINUSE : r;
	return (r = sc_stat(&sp, &st, false)) < 0 ? r : -ECONNREFUSED;
}

EXPORT int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, r;

	if (LIKELY(addr == NULL) || (ua_known(addr, sizeof(sa_family_t)) &&
				     LIKELY(addr->sa_family != AF_UNIX)))
		return REAL(bind)(fd, addr, len);
	r = sock_path(fd, addr, len, true);
	PASS_OR_RETURN(r, saved, REAL(bind)(fd, addr, len));
}

EXPORT int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, r;

	if (LIKELY(addr == NULL) || (ua_known(addr, sizeof(sa_family_t)) &&
				     LIKELY(addr->sa_family != AF_UNIX)))
		return REAL(connect)(fd, addr, len);
	r = sock_path(fd, addr, len, false);
	PASS_OR_RETURN(r, saved, REAL(connect)(fd, addr, len));
}

static int
utimes_tv(const struct scheme_path *sp, const struct timeval tv[2])
{
	struct timespec ts[2];

	if (tv == NULL)
		return sc_utimens(sp, NULL, false);
	if (ua_read_ok(tv, 2 * sizeof(tv[0])) < 0)
		return -EFAULT;
	for (int i = 0; i < 2; i++)
		ts[i] = (struct timespec){tv[i].tv_sec, tv[i].tv_usec * 1000};
	return sc_utimens(sp, ts, false);
}

EXPORT int
futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	if (path == NULL) /* the fd itself */
		return REAL(futimesat)(dirfd, path, tv);
	ON_PATH_AT(dirfd, path, utimes_tv(&sp, tv),
		   REAL(futimesat)(dirfd, path, tv));
}

EXPORT int
lchmod(const char *path, mode_t mode)
{
	ON_PATH(path, sc_chmod(&sp, mode, true), REAL(lchmod)(path, mode));
}

/*
 * inotify cannot watch a provider's files, and a scheme file has no
 * handle the kernel could open again: EOPNOTSUPP for one that exists, as
 * a file system without them answers.
 */
static int
unwatchable(const struct scheme_path *sp, bool nofollow)
{
	struct stat st;
	int r = sc_stat(sp, &st, nofollow);

	return r < 0 ? r : -EOPNOTSUPP;
}

EXPORT int
inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	ON_PATH(path, unwatchable(&sp, (mask & IN_DONT_FOLLOW) != 0),
		REAL(inotify_add_watch)(fd, path, mask));
}

EXPORT int
name_to_handle_at(int dirfd, const char *path, struct file_handle *h,
		  int *mount_id, int flags)
{
	if (flags & AT_EMPTY_PATH)
		return REAL(name_to_handle_at)(dirfd, path, h, mount_id, flags);
	ON_PATH_AT(dirfd, path, unwatchable(&sp, !(flags & AT_SYMLINK_FOLLOW)),
		   REAL(name_to_handle_at)(dirfd, path, h, mount_id, flags));
}
