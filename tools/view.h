/*
 * view.h - what the parts of scheme-fuse share: the node table, open
 * files and directories, and how attributes and errors are shown.
 *
 * scheme-fuse runs under the preload and serves FUSE requests with
 * ordinary POSIX calls on /scheme/NAME/PATH (see view.c for the rules
 * it keeps).  The kernel names a file by a node id, which is the address
 * of a struct vnode (the root is FUSE_ROOT_ID); a vnode knows its parent
 * and its name, so its path is built by walking up, and a rename moves
 * one vnode, not its whole subtree.  An open file or directory is a
 * struct vfile, whose address is the kernel's file handle.
 *
 * Locking: view.lock covers the node table (every vnode's parent, name,
 * counts and links, and the by-name tree).  It is never held across a
 * call that reaches a provider.  A vfile's lock serializes the seek and
 * the read or write on its fd (the preload's pread is a seek, a read
 * and a seek back, and the kernel sends a file's reads in parallel).
 */
#ifndef TOOLS_VIEW_H
#define TOOLS_VIEW_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/tree.h>

#define VIEW_TOP "/scheme" /* the preload's path of the root */

struct vfile;

struct vnode {
	RB_ENTRY(vnode) link; /* in the by-name tree, while linked */
	struct vnode *parent; /* NULL: the root */
	char *name;
	uint64_t nlookup; /* the kernel's references (LOOKUP - FORGET) */
	unsigned kids;	  /* vnodes whose parent this is */
	bool linked;	  /* reachable by its name (not unlinked) */
	bool made_up;	  /* a scheme root shown as a directory it is not */
	uint64_t ino;	  /* st_ino as shown */
	/* What the kernel was last told, to judge its cache at open. */
	struct timespec mtime, ctime;
	off_t size;
	LIST_HEAD(, vfile) files; /* open files, for fstat once unlinked */
};

/* A directory's entry as listed at its first readdir (or rewind). */
struct ventry {
	char *name;
	uint64_t ino;
	mode_t type; /* S_IFDIR, S_IFREG, or 0: not known */
};

struct vfile {
	LIST_ENTRY(vfile) link; /* in its vnode's files */
	struct vnode *n;
	int refs; /* the kernel's handle, and vnode_any_fd() while it uses it */
	pthread_mutex_t lock;
	int fd;	   /* -1 for a directory */
	off_t pos; /* where fd's offset is (-1: not known) */
	bool direct, stream, append;
	/* A read that may wait: how an INTERRUPT reaches it (view_file.c). */
	pthread_mutex_t ilock;
	pthread_t reader;
	atomic_bool reading;
	/* A directory. */
	void *dir; /* DIR * through the preload; NULL: listed as empty */
	struct ventry *ents;
	size_t nents;
};

struct view {
	struct fuse_session *se;
	pthread_mutex_t lock;
	struct vnode root;
	double timeout; /* seconds the kernel may keep names and attrs */
	const char *mnt; /* where it is mounted (readlink's targets) */
	uid_t uid;
	gid_t gid;
};

extern struct view view;

/* view_node.c: the table. */
struct vnode *vnode_of(fuse_ino_t ino);
fuse_ino_t vnode_id(const struct vnode *n);
int vnode_path(const struct vnode *n, char *buf, size_t len);
int vnode_child_path(struct vnode *parent, const char *name, char *buf,
		     size_t len);
struct vnode *vnode_enter(struct vnode *parent, const char *name,
			  const struct stat *st, bool made_up);
void vnode_forget(struct vnode *n, uint64_t nlookup);
void vnode_unlink(struct vnode *parent, const char *name);
int vnode_rename(struct vnode *parent, const char *name, struct vnode *np,
		 const char *newname);
bool vnode_seen(struct vnode *n, const struct stat *st);
bool vnode_is_top(const struct vnode *n);
void vnode_attach_file(struct vnode *n, struct vfile *f);
void vnode_detach_file(struct vfile *f);
int vnode_any_fd(struct vnode *n, struct stat *st);

/* view_attr.c: what the kernel is shown. */
void view_attr(const struct stat *in, struct stat *out);
int view_stat(const char *path, struct stat *st);
int view_top_stat(const char *name, bool listed, struct stat *st,
		  bool *made_up);
int view_err(int err);
void view_entry_param(struct fuse_entry_param *e, const struct vnode *n,
		      const struct stat *st);

/* view_ops.c, view_file.c, view_dir.c: the requests. */
extern const struct fuse_lowlevel_ops view_ops;
void view_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void view_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, struct fuse_file_info *fi);
void view_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi);
void view_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		off_t off, struct fuse_file_info *fi);
void view_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void view_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		struct fuse_file_info *fi);
void view_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void view_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void view_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
struct vfile *view_file_new(int fd);
int view_file_stat(struct vfile *f, struct stat *st);
void view_file_put(struct vfile *f);
int view_interrupts_init(void);
bool view_scheme_listed(const char *name);

#endif
