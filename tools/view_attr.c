/*
 * view_attr.c - what scheme-fuse shows the kernel: attributes, inode
 * numbers, the mount's entries, and errors.
 *
 * Attributes are the preload's, field for field, but for three things:
 *
 * - st_ino.  The preload tells schemes apart by st_dev (its minor is
 *   0xf0000 | the provider's instance number); a mount has one st_dev
 *   for every scheme, so the view puts the low 16 bits of that instance
 *   number in the top 16 bits of st_ino, keeping the provider's low 48.
 *   (st_dev, st_ino) then stays unique across schemes, as find, du, cp
 *   and tar expect, and a scheme's own numbers show through unchanged.
 * - The type.  A regular file, a directory and a symbolic link are what
 *   they are (a link's target as view_ops.c's readlink shows it); any
 *   other type (memfs's fifo and stream, time:'s character files) is
 *   shown as a regular file, read past the page cache (view_file.c): a
 *   FIFO or a device node would be served by the kernel itself, never
 *   reaching the provider.  st_rdev is 0.
 * - The mount's entries.  Every scheme ":" lists is a directory, so that
 *   its paths can be looked up.  A scheme whose root is a directory
 *   (memfs) shows its root's attributes; one whose root is something else
 *   or cannot be stat'ed (scheme-hello's, event:, time:, irq:) is a
 *   directory made up here: mode 0555, two links, the owner and times of
 *   its root if it has them, else the view's user and the epoch.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "view.h"

#define INO_LOW ((UINT64_C(1) << 48) - 1)

static uint64_t
ino_of(const struct stat *st)
{
	uint64_t inst = minor(st->st_dev) & 0xffff;

	return inst << 48 | ((uint64_t)st->st_ino & INO_LOW);
}

void
view_attr(const struct stat *in, struct stat *out)
{
	*out = *in;
	out->st_ino = ino_of(in);
	out->st_rdev = 0;
	if (!S_ISDIR(in->st_mode) && !S_ISREG(in->st_mode) &&
	    !S_ISLNK(in->st_mode))
		out->st_mode = S_IFREG | (in->st_mode & 07777);
}

int
view_stat(const char *path, struct stat *st)
{
	struct stat raw;

	if (lstat(path, &raw) < 0) /* a link is the kernel's to follow */
		return -errno;
	view_attr(&raw, st);
	return 0;
}

/* FNV-1a, 48 bits: a made-up root's number, when it has none of its own. */
static uint64_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h & INO_LOW;
}

/* Whether ":" lists name now. */
bool
view_scheme_listed(const char *name)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(VIEW_TOP);

	if (d == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL)
		found = strcmp(de->d_name, name) == 0;
	closedir(d);
	return found;
}

/*
 * The attributes of the mount's entry for scheme name (see the top);
 * listed: name is known to be in ":" (else a root that cannot be stat'ed
 * is looked for there, and -ENOENT if it is not).
 */
int
view_top_stat(const char *name, bool listed, struct stat *st, bool *made_up)
{
	char path[sizeof(VIEW_TOP) + NAME_MAX + 1];
	struct stat raw;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", VIEW_TOP, name);
	*made_up = false;
	if (lstat(path, &raw) < 0) /* a link is the kernel's to follow */ {
		r = -errno;
		if (!listed && !view_scheme_listed(name))
			return r;
		memset(&raw, 0, sizeof(raw));
		raw.st_uid = view.uid;
		raw.st_gid = view.gid;
	} else if (S_ISDIR(raw.st_mode)) {
		view_attr(&raw, st);
		return 0;
	}
	*made_up = true;
	memset(st, 0, sizeof(*st));
	st->st_ino =
	    r < 0 ? (UINT64_C(0xffff) << 48 | name_hash(name)) : ino_of(&raw);
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_uid = raw.st_uid;
	st->st_gid = raw.st_gid;
	st->st_blksize = 4096;
	st->st_atim = raw.st_atim;
	st->st_mtim = raw.st_mtim;
	st->st_ctim = raw.st_ctim;
	return 0;
}

/*
 * An errno for the kernel.  ENOSYS would tell it that the view does not
 * implement the request at all (it stops sending some kinds, OPEN among
 * them, for every file): a provider's ENOSYS is EOPNOTSUPP.  ENOTCONN
 * (no broker) and EBADF (the provider went away under an open file) are
 * EIO: through the view they would read as a dead mount or a bad fd the
 * program never had.
 */
int
view_err(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case ENOSYS:
		return EOPNOTSUPP;
	case ENOTCONN:
	case EBADF:
		return EIO;
	default:
		return err > 0 && err < 4096 ? err : EIO;
	}
}

void
view_entry_param(struct fuse_entry_param *e, const struct vnode *n,
		 const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->ino = vnode_id(n);
	e->attr = *st;
	e->attr_timeout = view.timeout;
	e->entry_timeout = view.timeout;
}
