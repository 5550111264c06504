/*
 * bench_ptfs.c - the FUSE file system `bench tree` compares a scheme
 * with: a passthrough of a directory on the local disk, written against
 * libfuse's low-level API and behaving as libfuse's passthrough_ll
 * example does with its default options, since that is the FUSE file
 * system people measure.
 *
 * What those defaults (cache=auto) mean, and so what this does:
 *  - names and attributes stay valid in the kernel for one second (entry
 *    and attribute timeouts of 1 s);
 *  - files are opened without direct_io and without keep_cache: reads go
 *    through the page cache, which the kernel drops at each open;
 *  - there is a readdirplus, so the kernel lists directories with
 *    READDIRPLUS, each entry looked up as it is listed, and the stats
 *    that follow are answered from what that gave;
 *  - there is a write_buf, so libfuse reads requests with splice;
 *  - copy_file_range is passed through to the disk;
 *  - the multi-threaded loop with libfuse's default configuration.
 * Extended attributes, locks, links and special files are left out
 * (libfuse answers ENOSYS, the kernel stops asking): the workloads use
 * none of them, and passthrough_ll without -o xattr or -o flock does not
 * serve them either.
 *
 * Each inode the kernel knows is a node holding an O_PATH fd of the file;
 * the node's address is the inode number the kernel is given, and the
 * node lives until the kernel has forgotten every lookup that returned
 * it.  A lookup finds an existing node by (st_dev, st_ino), so a file
 * reached by two names is one inode, in a red-black tree under one mutex
 * (the loop runs requests in several threads at once; passthrough_ll
 * searches a list).
 *
 * The daemon is bench run again without the preload (so that its system
 * calls cost what they cost passthrough_ll): SCHEME_BENCH_PTFS holds the
 * fd on which it says 'r' once mounted, or 'e' and why not; argv[1] is
 * the directory to pass through, argv[2] the mountpoint.  It is stopped,
 * as bench's other FUSE daemons, by SIGTERM (bfuse_stop()).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/tree.h>
#include <unistd.h>

#include "bench.h"

#ifdef BENCH_HAVE_FUSE

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#define TIMEOUT 1.0 /* seconds: passthrough_ll's cache=auto */

struct pnode {
	RB_ENTRY(pnode) link;
	dev_t dev;
	ino_t ino;
	int fd; /* O_PATH */
	uint64_t nlookup;
};

/* An open directory: the entry read but not yet sent, and its offset. */
struct pdir {
	DIR *dp;
	struct dirent *de;
	off_t off;
};

static int
by_ino(const struct pnode *a, const struct pnode *b)
{
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->ino < b->ino ? -1 : a->ino > b->ino;
}

RB_HEAD(pnodes, pnode);
RB_PROTOTYPE(pnodes, pnode, link, by_ino)
RB_GENERATE(pnodes, pnode, link, by_ino)

static struct {
	pthread_mutex_t lock; /* the tree and every nlookup */
	struct pnodes nodes;
	struct pnode root; /* the directory passed through; never freed */
} pt = {.lock = PTHREAD_MUTEX_INITIALIZER, .nodes = RB_INITIALIZER(&pt.nodes)};

static struct pnode *
node_of(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &pt.root : (struct pnode *)(uintptr_t)ino;
}

static int
fd_of(fuse_ino_t ino)
{
	return node_of(ino)->fd;
}

/* The file of ino as a path that open(2) and chmod(2) follow. */
static void
proc_path(char *buf, size_t len, fuse_ino_t ino)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd_of(ino));
}

/* The node of the file fd (O_PATH, taken) is, one lookup more; or NULL. */
static struct pnode *
node_get(int fd, const struct stat *st)
{
	struct pnode key = {.dev = st->st_dev, .ino = st->st_ino}, *n;

	pthread_mutex_lock(&pt.lock);
	n = RB_FIND(pnodes, &pt.nodes, &key);
	if (n == NULL && (n = calloc(1, sizeof(*n))) != NULL) {
		*n = key;
		n->fd = fd;
		fd = -1;
		RB_INSERT(pnodes, &pt.nodes, n);
	}
	if (n != NULL)
		n->nlookup++;
	pthread_mutex_unlock(&pt.lock);
	if (fd >= 0)
		close(fd);
	return n;
}

static void
node_put(struct pnode *n, uint64_t count)
{
	int gone;

	if (n == &pt.root)
		return;
	pthread_mutex_lock(&pt.lock);
	n->nlookup -= count < n->nlookup ? count : n->nlookup;
	if ((gone = n->nlookup == 0))
		RB_REMOVE(pnodes, &pt.nodes, n);
	pthread_mutex_unlock(&pt.lock);
	if (gone) {
		close(n->fd);
		free(n);
	}
}

/* name in parent, for the kernel: 0, or an errno. */
static int
do_lookup(fuse_ino_t parent, const char *name, struct fuse_entry_param *e)
{
	struct pnode *n;
	int fd, err;

	memset(e, 0, sizeof(*e));
	fd = openat(fd_of(parent), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) <
	    0) {
		err = errno;
		close(fd);
		return err;
	}
	if ((n = node_get(fd, &e->attr)) == NULL)
		return ENOMEM;
	e->ino = (fuse_ino_t)(uintptr_t)n;
	e->attr_timeout = TIMEOUT;
	e->entry_timeout = TIMEOUT;
	return 0;
}

static void
reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int err = do_lookup(parent, name, &e);

	if (err != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void
reply_errno(fuse_req_t req, int r)
{
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void
pt_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_entry(req, parent, name);
}

static void
pt_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_put(node_of(ino), nlookup);
	fuse_reply_none(req);
}

static void
pt_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	for (size_t i = 0; i < count; i++)
		node_put(node_of(f[i].ino), f[i].nlookup);
	fuse_reply_none(req);
}

static void
pt_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (fstatat(fd_of(ino), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) <
	    0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

static int
set_times(const char *path, const struct stat *a, int valid,
	  struct fuse_file_info *fi)
{
	struct timespec tv[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};

	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		tv[0] = a->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		tv[1] = a->st_mtim;
	return fi != NULL ? futimens((int)fi->fh, tv)
			  : utimensat(AT_FDCWD, path, tv, 0);
}

/* What SETATTR asks, by the open file when there is one: 0 or -1. */
static int
set_attr(fuse_ino_t ino, const struct stat *a, int valid,
	 struct fuse_file_info *fi)
{
	int fd = fi != NULL ? (int)fi->fh : -1;
	char path[64];

	proc_path(path, sizeof(path), ino);
	if ((valid & FUSE_SET_ATTR_MODE) &&
	    (fd >= 0 ? fchmod(fd, a->st_mode) : chmod(path, a->st_mode)) < 0)
		return -1;
	if ((valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) &&
	    fchownat(fd_of(ino), "",
		     valid & FUSE_SET_ATTR_UID ? a->st_uid : (uid_t)-1,
		     valid & FUSE_SET_ATTR_GID ? a->st_gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if ((valid & FUSE_SET_ATTR_SIZE) &&
	    (fd >= 0 ? ftruncate(fd, a->st_size) : truncate(path, a->st_size)) <
		0)
		return -1;
	if ((valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) &&
	    set_times(path, a, valid, fi) < 0)
		return -1;
	return 0;
}

static void
pt_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
	   struct fuse_file_info *fi)
{
	if (set_attr(ino, attr, valid, fi) < 0)
		fuse_reply_err(req, errno);
	else
		pt_getattr(req, ino, fi);
}

static void
pt_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlinkat(fd_of(ino), "", buf, sizeof(buf));

	if (n < 0 || n == (ssize_t)sizeof(buf)) {
		fuse_reply_err(req, n < 0 ? errno : ENAMETOOLONG);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

static void
pt_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	if (mkdirat(fd_of(parent), name, mode) < 0)
		fuse_reply_err(req, errno);
	else
		reply_entry(req, parent, name);
}

static void
pt_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_errno(req, unlinkat(fd_of(parent), name, 0));
}

static void
pt_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_errno(req, unlinkat(fd_of(parent), name, AT_REMOVEDIR));
}

static void
pt_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	  fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	if (flags != 0)
		fuse_reply_err(req, EINVAL);
	else
		reply_errno(req, renameat(fd_of(parent), name, fd_of(newparent),
					  newname));
}

static void
pt_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pdir *d = calloc(1, sizeof(*d));
	int fd = -1, err;

	if (d == NULL ||
	    (fd = openat(fd_of(ino), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
		0 ||
	    (d->dp = fdopendir(fd)) == NULL) {
		err = d == NULL ? ENOMEM : errno;
		if (fd >= 0)
			close(fd);
		free(d);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)d;
	fuse_reply_open(req, fi);
}

static int
is_dot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * Entry de of directory dir into p (rem bytes left): its size, more than
 * rem when it did not fit.  With plus, the entry is looked up, except "."
 * and "..", which go without attributes (node 0: the kernel makes no
 * dentry of them); a lookup not sent is forgotten at once.
 */
static size_t
add_entry(fuse_req_t req, fuse_ino_t dir, char *p, size_t rem,
	  const struct dirent *de, int plus, int *err)
{
	struct fuse_entry_param e;
	size_t n;

	if (!plus || is_dot(de->d_name)) {
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = de->d_ino;
		e.attr.st_mode = (mode_t)DTTOIF(de->d_type);
		return plus ? fuse_add_direntry_plus(req, p, rem, de->d_name,
						     &e, de->d_off)
			    : fuse_add_direntry(req, p, rem, de->d_name,
						&e.attr, de->d_off);
	}
	if ((*err = do_lookup(dir, de->d_name, &e)) != 0)
		return 0;
	n = fuse_add_direntry_plus(req, p, rem, de->d_name, &e, de->d_off);
	if (n > rem)
		node_put(node_of(e.ino), 1);
	return n;
}

/*
 * READDIR and READDIRPLUS.  An entry that did not fit waits in d->de for
 * the next request.  An error after some entries were added is not sent:
 * the kernel would count lookups for entries it never saw.
 */
static void
read_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	 struct fuse_file_info *fi, int plus)
{
	struct pdir *d = (struct pdir *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t used = 0, n;
	int err = 0;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off != d->off) {
		seekdir(d->dp, off);
		d->de = NULL;
		d->off = off;
	}
	for (;;) {
		errno = 0;
		if (d->de == NULL && (d->de = readdir(d->dp)) == NULL) {
			err = errno;
			break;
		}
		n = add_entry(req, ino, buf + used, size - used, d->de, plus,
			      &err);
		if (err != 0 || n > size - used)
			break;
		used += n;
		d->off = d->de->d_off;
		d->de = NULL;
	}
	if (err != 0 && used == 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void
pt_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	   struct fuse_file_info *fi)
{
	read_dir(req, ino, size, off, fi, 0);
}

static void
pt_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	read_dir(req, ino, size, off, fi, 1);
}

static void
pt_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pdir *d = (struct pdir *)(uintptr_t)fi->fh;

	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void
pt_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	  struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	int fd, err;

	fd = openat(fd_of(parent), name, (fi->flags | O_CREAT) & ~O_NOFOLLOW,
		    mode);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if ((err = do_lookup(parent, name, &e)) != 0) {
		close(fd);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)fd;
	fuse_reply_create(req, &e, fi);
}

static void
pt_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[64];
	int fd;

	proc_path(path, sizeof(path), ino);
	if ((fd = open(path, fi->flags & ~O_NOFOLLOW)) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = (uint64_t)fd;
	fuse_reply_open(req, fi);
}

static void
pt_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	close((int)fi->fh);
	fuse_reply_err(req, 0);
}

/* A close of a duplicate: what close(2) would report, the file kept. */
static void
pt_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	reply_errno(req, close(dup((int)fi->fh)));
}

static void
pt_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	 struct fuse_file_info *fi)
{
	int fd = (int)fi->fh;

	reply_errno(req, datasync ? fdatasync(fd) : fsync(fd));
}

/* A buffer of libfuse's that is the open file fi at off. */
static void
file_buf(struct fuse_bufvec *b, struct fuse_file_info *fi, off_t off)
{
	b->buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	b->buf[0].fd = (int)fi->fh;
	b->buf[0].pos = off;
}

static void
pt_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	struct fuse_file_info *fi)
{
	struct fuse_bufvec b = FUSE_BUFVEC_INIT(size);

	file_buf(&b, fi, off);
	fuse_reply_data(req, &b, FUSE_BUF_SPLICE_MOVE);
}

static void
pt_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
	     struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	ssize_t n;

	file_buf(&out, fi, off);
	n = fuse_buf_copy(&out, in, 0);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void
pt_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	if (fstatvfs(fd_of(ino), &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

static void
pt_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
		   struct fuse_file_info *fi_in, fuse_ino_t ino_out,
		   off_t off_out, struct fuse_file_info *fi_out, size_t len,
		   int flags)
{
	ssize_t n = copy_file_range((int)fi_in->fh, &off_in, (int)fi_out->fh,
				    &off_out, len, (unsigned int)flags);

	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void
pt_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	 struct fuse_file_info *fi)
{
	off_t r = lseek((int)fi->fh, off, whence);

	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

static const struct fuse_lowlevel_ops pt_ops = {
    .lookup = pt_lookup,
    .forget = pt_forget,
    .forget_multi = pt_forget_multi,
    .getattr = pt_getattr,
    .setattr = pt_setattr,
    .readlink = pt_readlink,
    .mkdir = pt_mkdir,
    .unlink = pt_unlink,
    .rmdir = pt_rmdir,
    .rename = pt_rename,
    .opendir = pt_opendir,
    .readdir = pt_readdir,
    .readdirplus = pt_readdirplus,
    .releasedir = pt_releasedir,
    .create = pt_create,
    .open = pt_open,
    .release = pt_release,
    .flush = pt_flush,
    .fsync = pt_fsync,
    .read = pt_read,
    .write_buf = pt_write_buf,
    .statfs = pt_statfs,
    .copy_file_range = pt_copy_file_range,
    .lseek = pt_lseek,
};

static int
say(int fd, const char *msg)
{
	return write(fd, msg, strlen(msg)) < 0 ? 2 : 1;
}

int
bench_ptfs_child(int argc, char **argv)
{
	static char name[] = "bench-ptfs";
	char *fargv[] = {name, NULL}, msg[300];
	struct fuse_args args = FUSE_ARGS_INIT(1, fargv);
	int ready = atoi(getenv("SCHEME_BENCH_PTFS"));
	struct fuse_loop_config *cfg;
	struct fuse_session *se;

	umask(0); /* the kernel applied the caller's to modes it passes */
	if (argc != 3 || (pt.root.fd = open(argv[1], O_PATH | O_CLOEXEC)) < 0)
		return say(ready, "ebench-ptfs: no directory to pass through");
	se = fuse_session_new(&args, &pt_ops, sizeof(pt_ops), NULL);
	fuse_opt_free_args(&args); /* it may have copied them */
	if (se == NULL || fuse_set_signal_handlers(se) < 0 ||
	    fuse_session_mount(se, argv[2]) < 0) {
		snprintf(msg, sizeof(msg), "e%.280s: mounting failed", argv[2]);
		return say(ready, msg);
	}
	if ((cfg = fuse_loop_cfg_create()) == NULL || write(ready, "r", 1) != 1)
		return 1;
	close(ready);
	fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return 0;
}

/* The daemon in a child, src mounted at <bench dir>/ptfs; -1: skipped. */
int
ptfs_start(struct bfuse *f, const char *src)
{
	pid_t parent = getpid();
	char num[16];
	int rd[2];

	if (bfuse_skip() != NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/ptfs", bench_dir());
	snprintf(f->file, sizeof(f->file), "%s", f->dir);
	if ((mkdir(f->dir, 0700) < 0 && errno != EEXIST) ||
	    pipe2(rd, O_CLOEXEC) < 0)
		bench_die(f->dir);
	if ((f->pid = fork()) < 0)
		bench_die("fork");
	if (f->pid == 0) {
		bench_tie(parent, SIGTERM);
		/* a dup is not close-on-exec: the daemon inherits it */
		snprintf(num, sizeof(num), "%d", dup(rd[1]));
		setenv("SCHEME_BENCH_PTFS", num, 1);
		setenv("LD_PRELOAD", "", 1);
		execl("/proc/self/exe", "bench-ptfs", src, f->dir,
		      (char *)NULL);
		_exit(127);
	}
	close(rd[1]);
	return bfuse_ready(f, rd[0]);
}

#else /* !BENCH_HAVE_FUSE */

int
bench_ptfs_child(int argc, char **argv)
{
	return 1;
}

int
ptfs_start(struct bfuse *f, const char *src)
{
	return -1;
}

#endif
