/*
 * view_ops.c - the requests about names and attributes, and the table of
 * every request scheme-fuse serves.  Each request is answered exactly
 * once; a reply the kernel did not take (the caller was interrupted)
 * gives back the lookup it would have counted.
 *
 * The mount's root lists the schemes and is not a directory anyone may
 * change: creating, removing or renaming an entry there says EPERM (a
 * scheme is made by its provider).  Under it, every call is the same
 * call on the /scheme path, made by this process, with its user's
 * credentials and namespace.  Links, hard and symbolic, are the
 * provider's (through the preload's link, symlink and readlink): one it
 * does not keep says what the preload says (EPERM).  The kernel follows
 * a symbolic link itself, so a target that names a scheme ("/scheme/y/f"
 * or "y:f") is shown as the same place in the view, under the mount;
 * a relative target, or one on disk, as it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../proto/wire/path.h"
#include "view.h"

#define REPLY_ERR(req, e) fuse_reply_err(req, view_err(e))

/* The attributes of node n by its path (or its open file, unlinked). */
static int
node_stat(struct vnode *n, struct stat *st)
{
	char path[PATH_MAX];
	bool made_up;
	int r;

	if (vnode_is_top(n))
		return view_top_stat(n->name, false, st, &made_up);
	if ((r = vnode_path(n, path, sizeof(path))) == -ENOENT)
		return vnode_any_fd(n, st);
	return r < 0 ? r : view_stat(path, st);
}

/* Answer with the entry for parent/name as it is now. */
static void
reply_entry(fuse_req_t req, struct vnode *parent, const char *name)
{
	struct fuse_entry_param e;
	char path[PATH_MAX];
	struct stat st;
	bool made_up = false;
	struct vnode *n;
	int r;

	if (parent == &view.root)
		r = view_top_stat(name, false, &st, &made_up);
	else if ((r = vnode_child_path(parent, name, path, sizeof(path))) == 0)
		r = view_stat(path, &st);
	if (r < 0) {
		REPLY_ERR(req, r);
		return;
	}
	if ((n = vnode_enter(parent, name, &st, made_up)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	view_entry_param(&e, n, &st);
	if (fuse_reply_entry(req, &e) != 0)
		vnode_forget(n, 1);
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_entry(req, vnode_of(parent), name);
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	vnode_forget(vnode_of(ino), nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *fd)
{
	for (size_t i = 0; i < count; i++)
		vnode_forget(vnode_of(fd[i].ino), fd[i].nlookup);
	fuse_reply_none(req);
}

static void
reply_attr(fuse_req_t req, struct vnode *n, struct fuse_file_info *fi)
{
	struct stat st;
	int r;

	if (n == &view.root)
		r = view_stat(VIEW_TOP, &st);
	else if (fi != NULL && fi->fh != 0 &&
		 ((struct vfile *)(uintptr_t)fi->fh)->fd >= 0)
		r = view_file_stat((struct vfile *)(uintptr_t)fi->fh, &st);
	else
		r = node_stat(n, &st);
	if (r < 0) {
		REPLY_ERR(req, r);
		return;
	}
	if (n != &view.root)
		vnode_seen(n, &st);
	fuse_reply_attr(req, &st, view.timeout);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	reply_attr(req, vnode_of(ino), fi);
}

static void
times_of(const struct stat *attr, int set, struct timespec ts[2])
{
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	if (set & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (set & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (set & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (set & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
}

/* chmod, chown, truncate and utimensat, by the open file if given. */
static int
set_attrs(int fd, const char *path, const struct stat *attr, int set)
{
	uid_t uid = set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
	gid_t gid = set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
	struct timespec ts[2];
	int r = 0;

	if (set & FUSE_SET_ATTR_MODE)
		r = fd >= 0 ? fchmod(fd, attr->st_mode & 07777)
			    : chmod(path, attr->st_mode & 07777);
	if (r == 0 && (set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = fd >= 0 ? fchown(fd, uid, gid) : chown(path, uid, gid);
	if (r == 0 && (set & FUSE_SET_ATTR_SIZE))
		r = fd >= 0 ? ftruncate(fd, attr->st_size)
			    : truncate(path, attr->st_size);
	times_of(attr, set, ts);
	if (r == 0 &&
	    (ts[0].tv_nsec != UTIME_OMIT || ts[1].tv_nsec != UTIME_OMIT))
		r = fd >= 0 ? futimens(fd, ts)
			    : utimensat(AT_FDCWD, path, ts, 0);
	return r < 0 ? -errno : 0;
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int set,
	   struct fuse_file_info *fi)
{
	struct vnode *n = vnode_of(ino);
	struct vfile *f = fi != NULL ? (struct vfile *)(uintptr_t)fi->fh : NULL;
	char path[PATH_MAX];
	int r = 0;

	if (f != NULL && f->fd >= 0) {
		r = set_attrs(f->fd, NULL, attr, set); /* the offset stays */
	} else if ((r = n == &view.root
			    ? -EPERM
			    : vnode_path(n, path, sizeof(path))) == 0) {
		r = set_attrs(-1, path, attr, set);
	}
	if (r < 0) {
		REPLY_ERR(req, r);
		return;
	}
	reply_attr(req, n, fi);
}

/* The path of parent/name for a call that makes or removes a name. */
static int
change_path(fuse_req_t req, struct vnode *parent, const char *name, char *path,
	    size_t len)
{
	int r = parent == &view.root
		    ? -EPERM
		    : vnode_child_path(parent, name, path, len);

	if (r < 0)
		REPLY_ERR(req, r);
	return r;
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	 dev_t rdev)
{
	struct vnode *p = vnode_of(parent);
	char path[PATH_MAX];
	int fd;

	if (change_path(req, p, name, path, sizeof(path)) < 0)
		return;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM); /* schemes have only files, dirs */
		return;
	}
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode & 07777);
	if (fd < 0) {
		REPLY_ERR(req, errno);
		return;
	}
	close(fd);
	reply_entry(req, p, name);
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct vnode *p = vnode_of(parent);
	char path[PATH_MAX];

	if (change_path(req, p, name, path, sizeof(path)) < 0)
		return;
	if (mkdir(path, mode & 07777) < 0)
		REPLY_ERR(req, errno);
	else
		reply_entry(req, p, name);
}

static void
remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct vnode *p = vnode_of(parent);
	char path[PATH_MAX];

	if (change_path(req, p, name, path, sizeof(path)) < 0)
		return;
	if ((dir ? rmdir(path) : unlink(path)) < 0) {
		REPLY_ERR(req, errno);
		return;
	}
	vnode_unlink(p, name);
	fuse_reply_err(req, 0);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, false);
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, true);
}

/*
 * Schemes rename without flags (Redox's frename): RENAME_NOREPLACE is
 * checked first, not atomically; RENAME_EXCHANGE cannot be done.
 */
static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	  fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct vnode *p = vnode_of(parent), *np = vnode_of(newparent);
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;

	if (change_path(req, p, name, from, sizeof(from)) < 0 ||
	    change_path(req, np, newname, to, sizeof(to)) < 0)
		return;
	if (flags & ~RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if ((flags & RENAME_NOREPLACE) && lstat(to, &st) == 0) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	if (rename(from, to) < 0) {
		REPLY_ERR(req, errno);
		return;
	}
	fuse_reply_err(req, -vnode_rename(p, name, np, newname));
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	const char *newname)
{
	struct vnode *n = vnode_of(ino), *np = vnode_of(newparent);
	char from[PATH_MAX], to[PATH_MAX];
	int r = n == &view.root || vnode_is_top(n)
		    ? -EPERM
		    : vnode_path(n, from, sizeof(from));

	if (r < 0) {
		REPLY_ERR(req, r);
		return;
	}
	if (change_path(req, np, newname, to, sizeof(to)) < 0)
		return;
	if (link(from, to) < 0)
		REPLY_ERR(req, errno);
	else
		reply_entry(req, np, newname);
}

static void
op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
	   const char *name)
{
	struct vnode *p = vnode_of(parent);
	char path[PATH_MAX];

	if (change_path(req, p, name, path, sizeof(path)) < 0)
		return;
	if (symlink(target, path) < 0)
		REPLY_ERR(req, errno);
	else
		reply_entry(req, p, name);
}

/*
 * A link's target as the kernel is to follow it: one naming a scheme is
 * that scheme's directory in the view (see the top); 0 or -ENAMETOOLONG.
 */
static int
view_target(const char *target, char *out, size_t len)
{
	struct scheme_path sp;
	int n;

	if (!path_classify(target, &sp))
		n = snprintf(out, len, "%s", target);
	else if (sp.name[0] == '\0')
		n = snprintf(out, len, "%s/%.*s", view.mnt, (int)sp.restlen,
			     sp.rest);
	else
		n = snprintf(out, len, "%s/%s%s%.*s", view.mnt, sp.name,
			     sp.restlen ? "/" : "", (int)sp.restlen, sp.rest);
	return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct vnode *n = vnode_of(ino);
	char path[PATH_MAX], target[PATH_MAX], shown[PATH_MAX];
	ssize_t got;
	int r = n == &view.root ? -EINVAL : vnode_path(n, path, sizeof(path));

	if (r == 0 && (got = readlink(path, target, sizeof(target) - 1)) < 0)
		r = -errno;
	if (r == 0) {
		target[got] = '\0';
		r = view_target(target, shown, sizeof(shown));
	}
	if (r < 0)
		REPLY_ERR(req, r);
	else
		fuse_reply_readlink(req, shown);
}

static void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vnode *n = vnode_of(ino);
	char path[PATH_MAX];
	struct statvfs sv;
	int r = vnode_path(n, path, sizeof(path));

	if (r == 0 && statvfs(path, &sv) < 0)
		r = -errno;
	if (r < 0)
		REPLY_ERR(req, r);
	else
		fuse_reply_statfs(req, &sv);
}

/*
 * access(2) and chdir: the provider's answer, as through the preload.  A
 * made-up directory (view_attr.c) may be searched and listed.
 */
static void
op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct vnode *n = vnode_of(ino);
	char path[PATH_MAX];
	int r = 0;

	if (n != &view.root && !n->made_up &&
	    (r = vnode_path(n, path, sizeof(path))) == 0 &&
	    access(path, mask) < 0)
		r = -errno;
	if (n->made_up && (mask & W_OK))
		r = -EACCES;
	fuse_reply_err(req, r < 0 ? view_err(r) : 0);
}

/*
 * Page-cache I/O, written through: no writeback cache, so a write has
 * reached the provider when write() returns.  Opens with O_TRUNC are
 * sent as they are.  Attributes that change (mtime, size) make the
 * kernel drop the file's cached pages when it next fetches them.
 */
static void
op_init(void *data, struct fuse_conn_info *conn)
{
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
				  FUSE_CAP_SPLICE_MOVE);
}

const struct fuse_lowlevel_ops view_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .rename = op_rename,
    .link = op_link,
    .symlink = op_symlink,
    .readlink = op_readlink,
    .statfs = op_statfs,
    .access = op_access,
    .open = view_open,
    .create = view_create,
    .read = view_read,
    .write = view_write,
    .release = view_release,
    .fsync = view_fsync,
    .opendir = view_opendir,
    .readdir = view_readdir,
    .releasedir = view_releasedir,
};
