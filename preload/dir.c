/*
 * dir.c - scheme directories as programs read them.
 *
 * Redox reads a directory as text, one name per line.  A DIR of ours reads
 * that text whole on its first readdir (and again after rewinddir), and
 * hands out entries from it; getdents64 on a scheme fd does the same into
 * the kernel's record format.  Entries have d_type DT_UNKNOWN (programs
 * that care stat the name) and d_ino the entry's position, never 0.
 *
 * A DIR of ours starts with a magic number where glibc's starts with its
 * fd and lock, so one load tells the two apart without a registry.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "dir.h"
#include "state.h"
#include "fdops.h"
#include "real.h"
#include "uaccess.h"

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
	       "struct dirent64 must be struct dirent here");

#define SDIR_MAGIC 0x5343484d45444952ull /* "SCHMEDIR" */

struct sdir {
	uint64_t magic; /* first: see above */
	int fd;
	char *text; /* the listing: names, each ending in '\n' */
	size_t len;
	size_t pos; /* next byte of text */
	long index; /* entries handed out */
	bool loaded;
	struct dirent64 ent; /* readdir's answer */
};

bool
sdir_is(const void *dirp)
{
	return dirp != NULL && *(const uint64_t *)dirp == SDIR_MAGIC;
}

static int load(int fd, struct sfd *e, char **text, size_t *len);

/*
 * A directory opened without O_DIRECTORY (Linux lists those too) may say
 * EISDIR to a read, as `cat dir` wants: list it through a second open, by
 * its path, with O_DIRECTORY (a request of this call's, in no table).
 */
static int
load_reopened(int fd, struct sfd *e, char **text, size_t *len)
{
	char name[PATH_MAX];
	struct scheme_path sp;
	struct sc_desc d;
	struct sfd tmp;
	int n = sc_fpath(fd, e, name, sizeof(name) - 1), dfd, r;

	if (n < 0)
		return n;
	name[n] = '\0';
	if (!path_classify(name, &sp))
		return -EISDIR;
	dfd = sc_open(&sp, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &d);
	if (dfd < 0)
		return dfd == SC_PASS ? -EISDIR : dfd;
	memset(&tmp, 0, sizeof(tmp));
	tmp.ops = e->ops;
	tmp.broker = d.broker;
	tmp.inst = d.inst;
	tmp.key = d.key;
	r = d.key != 0 ? load(dfd, &tmp, text, len) : -EIO;
	REAL(close)(dfd);
	return r == -EISDIR ? -EIO : r;
}

/* Read the whole listing from the fd's current offset. */
static int
load(int fd, struct sfd *e, char **text, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap), *nb;
	struct iovec iov;
	ssize_t n;

	*len = 0;
	if (buf == NULL)
		return -ENOMEM;
	if (e == NULL || !e->ops->requests) {
		free(buf);
		return -EBADF;
	}
	for (;;) {
		if (cap - *len < 1024) {
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		iov = (struct iovec){buf + *len, cap - *len};
		n = sc_readv(fd, e, &iov, 1);
		if (n == -EISDIR && *len == 0) {
			free(buf);
			return load_reopened(fd, e, text, len);
		}
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	*text = buf;
	return 0;
}

/* The next name in text[*pos..len]: its start and length, or NULL. */
static const char *
next_name(const char *text, size_t len, size_t *pos, size_t *nlen)
{
	while (*pos < len) {
		const char *s = text + *pos;
		const char *nl = memchr(s, '\n', len - *pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - *pos;

		*pos += n + (nl != NULL);
		if (n > 0 && n < sizeof(((struct dirent64 *)0)->d_name))
			*nlen = n;
		else
			continue; /* empty lines, and names no dirent holds */
		return s;
	}
	return NULL;
}

static int
check_dir(int fd)
{
	struct sfd *e = fdtab_get(fd);
	struct stat st;
	int r;

	if (e == NULL || !e->ops->requests)
		return -EBADF;
	if ((r = e->ops->fstat(fd, e, &st)) < 0)
		return r;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

struct sdir *
sdir_fdopen(int fd, int *err)
{
	struct sdir *d;

	if ((*err = check_dir(fd)) < 0)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	d->magic = SDIR_MAGIC;
	d->fd = fd;
	return d;
}

struct dirent64 *
sdir_read(struct sdir *d, int *err)
{
	const char *name;
	size_t n;

	*err = 0;
	if (!d->loaded) {
		struct sfd *e = fdtab_get(d->fd);

		*err = e != NULL && e->ops->requests
			   ? load(d->fd, e, &d->text, &d->len)
			   : -EBADF;
		if (*err < 0)
			return NULL;
		d->loaded = true;
	}
	if ((name = next_name(d->text, d->len, &d->pos, &n)) == NULL)
		return NULL;
	d->index++;
	memset(&d->ent, 0, offsetof(struct dirent64, d_name));
	d->ent.d_ino = (ino64_t)d->index;
	d->ent.d_off = d->index;
	d->ent.d_reclen = sizeof(d->ent);
	d->ent.d_type = DT_UNKNOWN;
	memcpy(d->ent.d_name, name, n);
	d->ent.d_name[n] = '\0';
	return &d->ent;
}

/* rewinddir: the provider lists afresh from offset 0. */
void
sdir_rewind(struct sdir *d)
{
	free(d->text);
	d->text = NULL;
	d->len = d->pos = 0;
	d->index = 0;
	d->loaded = false;
	fd_lseek(d->fd, 0, SEEK_SET);
}

long
sdir_tell(const struct sdir *d)
{
	return d->index;
}

void
sdir_seek(struct sdir *d, long loc)
{
	int err;

	sdir_rewind(d);
	while (d->index < loc && sdir_read(d, &err) != NULL)
		;
}

int
sdir_fd(const struct sdir *d)
{
	return d->fd;
}

int
sdir_close(struct sdir *d)
{
	int r = fd_close(d->fd);

	d->magic = 0;
	free(d->text);
	free(d);
	return r;
}

/*
 * getdents64 on a scheme fd.  The listing read by the first call is kept
 * on the fd's record for the calls after (fdtab.h); an lseek to 0
 * (sdir_fd_rewound) drops it.  It is read from the provider with no lock
 * held, and set and used under ST_FDTAB, after checking the fd still has
 * that record: an fd closed meanwhile by another thread says EBADF.
 */
void
sdir_fd_rewound(int fd)
{
	struct sfd *e = fdtab_get(fd);
	char *old = NULL;

	if (e == NULL)
		return;
	st_lock(ST_FDTAB);
	if (fdtab_get(fd) == e) {
		old = e->dtext;
		e->dtext = NULL;
		e->dlen = e->dpos = 0;
		e->dindex = 0;
	}
	st_unlock(ST_FDTAB);
	free(old);
}

static ssize_t
fill(struct sfd *s, char *buf, size_t size)
{
	size_t used = 0, pos, n, rec;
	struct linux_dirent64 *r;
	const char *name;

	for (;;) {
		pos = s->dpos;
		if ((name = next_name(s->dtext, s->dlen, &pos, &n)) == NULL)
			break;
		rec = (offsetof(struct linux_dirent64, d_name) + n + 1 + 7) &
		      ~(size_t)7;
		if (used + rec > size)
			break;
		r = (struct linux_dirent64 *)(buf + used);
		s->dindex++;
		r->d_ino = (uint64_t)s->dindex;
		r->d_off = s->dindex;
		r->d_reclen = (unsigned short)rec;
		r->d_type = DT_UNKNOWN;
		memcpy(r->d_name, name, n);
		memset(r->d_name + n, 0,
		       rec - offsetof(struct linux_dirent64, d_name) - n);
		used += rec;
		s->dpos = pos;
	}
	if (used == 0 && name != NULL)
		return -EINVAL; /* the buffer is too small for one entry */
	return (ssize_t)used;
}

static ssize_t
dents(int fd, struct sfd *e, void *buf, size_t size)
{
	char *text = NULL;
	size_t len = 0;
	ssize_t r;
	int err;

	if (e->dtext == NULL &&
	    ((err = check_dir(fd)) < 0 || (err = load(fd, e, &text, &len)) < 0))
		return err;
	st_lock(ST_FDTAB);
	if (fdtab_get(fd) != e) {
		r = -EBADF;
	} else {
		if (e->dtext == NULL && text != NULL) {
			e->dtext = text;
			e->dlen = len;
			text = NULL;
		}
		r = e->dtext != NULL ? fill(e, buf, size) : 0;
	}
	st_unlock(ST_FDTAB);
	free(text);
	return r;
}

/*
 * As far as buf may be written (uaccess.h), and at most 64 KiB a call (a
 * short listing: programs call again until it says 0).  A buffer that
 * faults before one entry fits is EFAULT, as the kernel says.
 */
ssize_t
sc_getdents64(int fd, struct sfd *e, void *buf, size_t size)
{
	size_t want = size < 65536 ? size : 65536,
	       ok = ua_write_span(buf, want);
	ssize_t r;

	if (ok == 0 && want > 0)
		return -EFAULT;
	r = dents(fd, e, buf, ok);
	return r == -EINVAL && ok < want ? -EFAULT : r;
}
