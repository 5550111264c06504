/*
 * view_node.c - the node table of scheme-fuse: node id -> path, with the
 * kernel's lookup counts (see view.h).
 *
 * A vnode lives while the kernel holds a reference (nlookup > 0), or one
 * of its children does (kids > 0: a child's path goes through it), or a
 * file is open on it.  A lookup of a name that already has a vnode
 * reuses it if the file there is the same one (same st_ino), so the
 * kernel keeps one inode, and its page cache, per file; a different file
 * under the same name (replaced through the preload) gets a new vnode and
 * the old one is unlinked: the kernel's inode for it can then only reach
 * the file through an open file, never the new one by its old path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

static int
by_name(const struct vnode *a, const struct vnode *b)
{
	if (a->parent != b->parent)
		return a->parent < b->parent ? -1 : 1;
	return strcmp(a->name, b->name);
}

RB_HEAD(names, vnode);
RB_PROTOTYPE(names, vnode, link, by_name)
RB_GENERATE(names, vnode, link, by_name)
static struct names names = RB_INITIALIZER(&names);

struct vnode *
vnode_of(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &view.root
				   : (struct vnode *)(uintptr_t)ino;
}

fuse_ino_t
vnode_id(const struct vnode *n)
{
	return n == &view.root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* A scheme's root: the mount's entries. */
bool
vnode_is_top(const struct vnode *n)
{
	return n->parent == &view.root;
}

/* "/scheme/a/b" for n, under view.lock; -ENAMETOOLONG, -ENOENT (gone). */
static int
path_locked(const struct vnode *n, char *buf, size_t len)
{
	const struct vnode *p;
	size_t at = len - 1, k;

	buf[at] = '\0';
	for (p = n; p != &view.root; p = p->parent) {
		if (!p->linked)
			return -ENOENT;
		k = strlen(p->name);
		if (k + 1 > at)
			return -ENAMETOOLONG;
		at -= k;
		memcpy(buf + at, p->name, k);
		buf[--at] = '/';
	}
	k = strlen(VIEW_TOP);
	if (k > at)
		return -ENAMETOOLONG;
	at -= k;
	memcpy(buf + at, VIEW_TOP, k);
	memmove(buf, buf + at, len - at);
	return 0;
}

int
vnode_path(const struct vnode *n, char *buf, size_t len)
{
	int r;

	pthread_mutex_lock(&view.lock);
	r = path_locked(n, buf, len);
	pthread_mutex_unlock(&view.lock);
	return r;
}

int
vnode_child_path(struct vnode *parent, const char *name, char *buf, size_t len)
{
	size_t k;
	int r = vnode_path(parent, buf, len);

	if (r < 0)
		return r;
	k = strlen(buf);
	if (k + 1 + strlen(name) + 1 > len)
		return -ENAMETOOLONG;
	buf[k] = '/';
	strcpy(buf + k + 1, name);
	return 0;
}

static struct vnode *
find(struct vnode *parent, const char *name)
{
	struct vnode key;

	key.parent = parent;
	key.name = (char *)name;
	return RB_FIND(names, &names, &key);
}

static void
take_out(struct vnode *n)
{
	if (n->linked) {
		RB_REMOVE(names, &names, n);
		n->linked = false;
	}
}

/* Free n and, up the tree, every parent that was kept only by it. */
static void
put(struct vnode *n)
{
	struct vnode *p;

	while (n != &view.root && n->nlookup == 0 && n->kids == 0 &&
	       LIST_EMPTY(&n->files)) {
		p = n->parent;
		take_out(n);
		free(n->name);
		free(n);
		p->kids--;
		n = p;
	}
}

static void
remember(struct vnode *n, const struct stat *st)
{
	n->ino = st->st_ino;
	n->size = st->st_size;
	n->mtime = st->st_mtim;
	n->ctime = st->st_ctim;
}

/*
 * The vnode for parent/name, as st (shown attributes) says it is now,
 * with one more lookup; NULL when out of memory.
 */
struct vnode *
vnode_enter(struct vnode *parent, const char *name, const struct stat *st,
	    bool made_up)
{
	struct vnode *n;

	pthread_mutex_lock(&view.lock);
	n = find(parent, name);
	if (n != NULL && (n->ino != st->st_ino || n->made_up != made_up))
		take_out(n); /* another file now has that name */
	else if (n != NULL)
		goto found;
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->name = strdup(name)) == NULL) {
		free(n);
		pthread_mutex_unlock(&view.lock);
		return NULL;
	}
	n->parent = parent;
	n->made_up = made_up;
	LIST_INIT(&n->files);
	parent->kids++;
	n->linked = true;
	RB_INSERT(names, &names, n);
found:
	n->nlookup++;
	remember(n, st);
	pthread_mutex_unlock(&view.lock);
	return n;
}

void
vnode_forget(struct vnode *n, uint64_t nlookup)
{
	if (n == &view.root)
		return;
	pthread_mutex_lock(&view.lock);
	n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
	put(n);
	pthread_mutex_unlock(&view.lock);
}

/* After an unlink or rmdir by parent/name. */
void
vnode_unlink(struct vnode *parent, const char *name)
{
	struct vnode *n;

	pthread_mutex_lock(&view.lock);
	if ((n = find(parent, name)) != NULL)
		take_out(n);
	pthread_mutex_unlock(&view.lock);
}

/* After a rename: what was at the new name is unlinked. */
int
vnode_rename(struct vnode *parent, const char *name, struct vnode *np,
	     const char *newname)
{
	struct vnode *n, *old;
	char *copy = strdup(newname);

	if (copy == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&view.lock);
	if ((old = find(np, newname)) != NULL)
		take_out(old);
	if ((n = find(parent, name)) == NULL) {
		pthread_mutex_unlock(&view.lock);
		free(copy);
		return 0;
	}
	take_out(n);
	free(n->name);
	n->name = copy;
	np->kids++;
	n->parent->kids--;
	old = n->parent;
	n->parent = np;
	n->linked = true;
	RB_INSERT(names, &names, n);
	put(old);
	pthread_mutex_unlock(&view.lock);
	return 0;
}

/*
 * Record the attributes the kernel is given now; true if the file changed
 * since the kernel was last told (or its times say nothing: a provider
 * that gives no mtime cannot tell us), so that its cache must go.
 */
bool
vnode_seen(struct vnode *n, const struct stat *st)
{
	bool same;

	pthread_mutex_lock(&view.lock);
	same = n->size == st->st_size &&
	       n->mtime.tv_sec == st->st_mtim.tv_sec &&
	       n->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       n->ctime.tv_sec == st->st_ctim.tv_sec &&
	       n->ctime.tv_nsec == st->st_ctim.tv_nsec &&
	       (st->st_mtim.tv_sec != 0 || st->st_mtim.tv_nsec != 0);
	remember(n, st);
	pthread_mutex_unlock(&view.lock);
	return !same;
}

void
vnode_attach_file(struct vnode *n, struct vfile *f)
{
	pthread_mutex_lock(&view.lock);
	f->n = n;
	LIST_INSERT_HEAD(&n->files, f, link);
	pthread_mutex_unlock(&view.lock);
}

void
vnode_detach_file(struct vfile *f)
{
	pthread_mutex_lock(&view.lock);
	LIST_REMOVE(f, link);
	put(f->n);
	pthread_mutex_unlock(&view.lock);
}

/*
 * The attributes of a file that has no path any more (unlinked while
 * open): from one of its open files.  The kernel asks GETATTR without a
 * file handle for fstat(), so this is how fstat of an open, unlinked file
 * works through the view.
 */
int
vnode_any_fd(struct vnode *n, struct stat *st)
{
	struct vfile *f;
	int r;

	pthread_mutex_lock(&view.lock);
	LIST_FOREACH(f, &n->files, link)
	{
		if (f->fd >= 0)
			break;
	}
	if (f != NULL)
		f->refs++; /* not released under us: see view_file_put() */
	pthread_mutex_unlock(&view.lock);
	if (f == NULL)
		return -ENOENT;
	r = view_file_stat(f, st);
	view_file_put(f);
	return r;
}
