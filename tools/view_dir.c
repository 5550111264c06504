/*
 * view_dir.c - directories of scheme-fuse: opendir, readdir, releasedir.
 *
 * A directory is listed whole at the first READDIR from offset 0 (and
 * again at each later one: rewinddir), as the preload lists it, with "."
 * and ".." first; an entry's offset is its index.  The preload's listing
 * has no types (d_type DT_UNKNOWN), so each entry is stat'ed while
 * listing: the types and inode numbers READDIR gives are those stat and
 * ls -i see (an entry that cannot be stat'ed, gone or not stat-able, is
 * DT_UNKNOWN with a number made from its position).  That is one round
 * trip to the provider per entry, paid by ls as by ls -l.
 *
 * The mount's root lists ":", every entry a directory (view_attr.c).  A
 * made-up directory (a scheme whose root is no directory) lists empty.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

static void
entries_free(struct vfile *f)
{
	for (size_t i = 0; i < f->nents; i++)
		free(f->ents[i].name);
	free(f->ents);
	f->ents = NULL;
	f->nents = 0;
}

/* Type and number of entry e of the directory at path (see the top). */
static void
entry_attr(struct vfile *f, const char *dirpath, struct ventry *e, size_t i)
{
	char path[PATH_MAX];
	struct stat st;
	bool made_up;
	int r;

	if (f->n == &view.root)
		r = view_top_stat(e->name, true, &st, &made_up);
	else if ((size_t)snprintf(path, sizeof(path), "%s/%s", dirpath,
				  e->name) >= sizeof(path))
		r = -ENAMETOOLONG;
	else
		r = view_stat(path, &st);
	e->ino = r == 0 ? st.st_ino : (uint64_t)i + 3;
	e->type = r == 0 ? (st.st_mode & S_IFMT) : 0;
}

static int
add_entry(struct vfile *f, size_t *cap, const char *name)
{
	struct ventry *ents;

	if (f->nents == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		ents = reallocarray(f->ents, *cap, sizeof(*ents));
		if (ents == NULL)
			return -ENOMEM;
		f->ents = ents;
	}
	if ((f->ents[f->nents].name = strdup(name)) == NULL)
		return -ENOMEM;
	f->nents++;
	return 0;
}

/* The listing, taken now (f->lock held). */
static int
list(struct vfile *f)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t cap = 0, i;
	int r = 0;

	entries_free(f);
	if (f->dir == NULL)
		return 0;
	if ((r = vnode_path(f->n, path, sizeof(path))) < 0)
		return r;
	rewinddir(f->dir);
	errno = 0;
	while (r == 0 && (de = readdir(f->dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			r = add_entry(f, &cap, de->d_name);
	if (r == 0 && errno != 0)
		r = -errno;
	for (i = 0; r == 0 && i < f->nents; i++)
		entry_attr(f, path, &f->ents[i], i);
	return r;
}

void
view_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vnode *n = vnode_of(ino);
	char path[PATH_MAX];
	struct vfile *f = NULL;
	DIR *d = NULL;
	int r = vnode_path(n, path, sizeof(path));

	if (r == 0 && (d = opendir(path)) == NULL && !n->made_up)
		r = -errno;
	if (r == 0 && (f = view_file_new(-1)) == NULL)
		r = -ENOMEM;
	if (r < 0) {
		if (d != NULL)
			closedir(d);
		fuse_reply_err(req, view_err(r));
		return;
	}
	f->dir = d;
	vnode_attach_file(n, f);
	fi->fh = (uint64_t)(uintptr_t)f;
	if (fuse_reply_open(req, fi) != 0)
		view_releasedir(NULL, ino, fi);
}

/* "." and ".." and then the listing, from index off. */
static size_t
fill(fuse_req_t req, struct vfile *f, char *buf, size_t size, off_t off)
{
	struct stat st;
	size_t used = 0, k;
	const char *name;

	memset(&st, 0, sizeof(st));
	for (; (size_t)off < f->nents + 2; off++) {
		if (off < 2) {
			name = off == 0 ? "." : "..";
			st.st_ino = f->n->ino ? f->n->ino : 1;
			st.st_mode = S_IFDIR;
		} else {
			name = f->ents[off - 2].name;
			st.st_ino = f->ents[off - 2].ino;
			st.st_mode = f->ents[off - 2].type;
		}
		k = fuse_add_direntry(req, buf + used, size - used, name, &st,
				      off + 1);
		if (k > size - used)
			break;
		used += k;
	}
	return used;
}

void
view_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct vfile *f = (struct vfile *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	int r = 0;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&f->lock);
	if (off == 0)
		r = list(f);
	if (r == 0)
		fuse_reply_buf(req, buf, fill(req, f, buf, size, off));
	else
		fuse_reply_err(req, view_err(r));
	pthread_mutex_unlock(&f->lock);
	free(buf);
}

void
view_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfile *f = (struct vfile *)(uintptr_t)fi->fh;

	if (f->dir != NULL)
		closedir(f->dir);
	f->dir = NULL;
	entries_free(f);
	vnode_detach_file(f);
	view_file_put(f);
	if (req != NULL)
		fuse_reply_err(req, 0);
}
