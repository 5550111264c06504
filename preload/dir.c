/*
 * dir.c - scheme directories as programs read them.
 *
 * A provider lists a directory one of two ways: with SYS_GETDENTS, whose
 * entries carry their type and inode number (Redox's newer getdents), or,
 * if it answers that ENOSYS, as Redox read one first, as text, one name
 * per line (asked once per channel: client.c sc_getdents).  A DIR of ours
 * reads the listing whole on its first readdir (and again after
 * rewinddir), as the kernel's records (struct linux_dirent64), and hands
 * out entries from it; getdents64 on a scheme fd does the same.  "." and
 * ".." come first, as the kernel gives them (ls -a, and programs that
 * count entries, expect them), both with the directory's own inode
 * number (the parent's would cost a stat); a provider's own are dropped.
 * A text listing's entries have d_type DT_UNKNOWN (programs that care
 * stat the name) and d_ino the entry's position; a typed one's are the
 * provider's, its position where it gives no number.  d_ino is never 0.
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

#include <scheme/scheme.h>

#include "attrcache.h"
#include "client.h"
#include "dir.h"
#include "state.h"
#include "fdops.h"
#include "real.h"
#include "resolve.h"
#include "uaccess.h"

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
	       "struct dirent64 must be struct dirent here");

#define SDIR_MAGIC 0x5343484d45444952ull /* "SCHMEDIR" */

struct sdir {
	uint64_t magic; /* first: see above */
	int fd;
	uint64_t ino; /* the directory's, for "." and ".." */
	char *text;   /* the listing: struct linux_dirent64 records */
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
check_dir(int fd, uint64_t *ino)
{
	struct sfd *e = fdtab_get(fd);
	struct stat st;
	int r;

	if (e == NULL || !e->ops->requests)
		return -EBADF;
	if ((r = e->ops->fstat(fd, e, &st)) < 0)
		return r;
	*ino = st.st_ino != 0 ? st.st_ino : 1;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* A listing being made: the kernel's records, n of them so far. */
struct lbuf {
	char *p;
	size_t len, cap;
	long n;
};

static bool
is_dot(const char *name, size_t n)
{
	return (n == 1 && name[0] == '.') ||
	       (n == 2 && name[0] == '.' && name[1] == '.');
}

/*
 * One entry, unless no dirent holds its name (empty, or past NAME_MAX
 * bytes) or it is a "." or ".." of the provider's (ours are the first
 * two).  A NUL inside the name ends it, as it would for the program,
 * which reads a C string: so "." and a NUL cannot pass for our ".".
 */
static int
lb_add(struct lbuf *b, uint64_t ino, unsigned char type, const char *name,
       size_t n)
{
	struct linux_dirent64 *r;
	size_t rec;
	char *p;

	n = strnlen(name, n);
	if (n == 0 || n > NAME_MAX || (b->n >= 2 && is_dot(name, n)))
		return 0;
	rec = (offsetof(struct linux_dirent64, d_name) + n + 1 + 7) &
	      ~(size_t)7;
	if (b->cap - b->len < rec) {
		size_t cap = b->cap ? b->cap * 2 : 4096;

		while (cap - b->len < rec)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	r = (struct linux_dirent64 *)(b->p + b->len);
	memset(r, 0, rec);
	b->n++;
	r->d_ino = ino != 0 ? ino : (uint64_t)b->n;
	r->d_off = b->n;
	r->d_reclen = (unsigned short)rec;
	r->d_type = type;
	memcpy(r->d_name, name, n);
	b->len += rec;
	return 0;
}

/* The text listing's names, each an entry of no type. */
static int
lb_text(struct lbuf *b, const char *text, size_t len)
{
	size_t pos = 0, n;
	const char *name;
	int r = 0;

	while (r == 0 && (name = next_name(text, len, &pos, &n)) != NULL)
		r = lb_add(b, 0, DT_UNKNOWN, name, n);
	return r;
}

/* A type the kernel could give, or DT_UNKNOWN. */
static unsigned char
dtype(uint8_t t)
{
	switch (t) {
	case DT_FIFO:
	case DT_CHR:
	case DT_DIR:
	case DT_BLK:
	case DT_REG:
	case DT_LNK:
	case DT_SOCK:
		return t;
	default:
		return DT_UNKNOWN;
	}
}

/*
 * A listing whose entries carry their attributes (SYS_GETDENTS_STAT),
 * from a provider that lets us keep them: each is kept as the answer to
 * an lstat of dir/name (and to a stat, but of a link), so that the stats
 * that follow a listing (ls -l, du, tar) cost no request (attrcache.c).
 */
struct keep {
	struct scheme_path sp; /* the directory's */
	struct ac_snap sn;
	char path[PATH_MAX];
};

static void
keep_entry(const struct keep *kp, const char *name, size_t n, const char *stp)
{
	struct ac_key k;
	struct stat st;

	memcpy(&st, stp, sizeof(st));
	st.st_dev = scheme_dev(kp->sn.inst);
	if (ac_key(&k, kp->sp.name, kp->sp.rest, kp->sp.restlen, name, n, true))
		ac_put(&k, &st, 0, &kp->sn);
	if (!S_ISLNK(st.st_mode) && ac_key(&k, kp->sp.name, kp->sp.rest,
					   kp->sp.restlen, name, n, false))
		ac_put(&k, &st, 0, &kp->sn);
}

/*
 * A SYS_GETDENTS answer's entries (scheme.h struct scheme_dirent), or
 * with kp a SYS_GETDENTS_STAT one's.  One that does not hold together (a
 * length past the answer, no NUL, no room for the stat) makes the
 * listing EIO; a name with a '/', which no directory entry has, is left
 * out.
 */
static int
lb_typed(struct lbuf *b, const char *buf, size_t len, const struct keep *kp)
{
	const size_t hdr = offsetof(struct scheme_dirent, name);
	struct scheme_dirent de;
	const char *name;
	size_t off = 0, n;
	int r = 0;

	while (r == 0 && off < len) {
		if (len - off < hdr + 1)
			return -EIO;
		memcpy(&de, buf + off, hdr);
		if (de.reclen < hdr + 1 || de.reclen > len - off)
			return -EIO;
		name = buf + off + hdr;
		n = strnlen(name, de.reclen - hdr);
		if (n == de.reclen - hdr)
			return -EIO;
		if (kp != NULL &&
		    de.reclen < SCHEME_DIRENT_LEN(n) + sizeof(struct stat))
			return -EIO;
		if (memchr(name, '/', n) == NULL) {
			r = lb_add(b, de.ino, dtype(de.type), name, n);
			if (r == 0 && kp != NULL)
				keep_entry(kp, name, n,
					   buf + off + SCHEME_DIRENT_LEN(n));
		}
		off += de.reclen;
	}
	return r;
}

/*
 * Whether the fd's listing may carry its entries' attributes: its
 * provider granted a cache and lists so; *kp then says where.
 */
static bool
keep_init(int fd, struct sfd *e, struct keep *kp)
{
	if (sc_grant_fd(fd, e) == 0 || !ac_lists_stat(e->inst) ||
	    resolve_fd_path(fd, e, kp->path, sizeof(kp->path)) < 0 ||
	    !path_classify(kp->path, &kp->sp))
		return false;
	ac_grant_name(e->inst, kp->sp.name);
	return ac_snap_inst(e->inst, &kp->sn);
}

#define DENTS_CHUNK 65536 /* bytes of entries asked for at a time */

/*
 * The typed listing from the fd's current position: 0 once it is all in
 * b, -ENOSYS (nothing added) when the provider lists as text, -errno.
 */
static int
load_typed(int fd, struct sfd *e, struct lbuf *b)
{
	char *buf = malloc(DENTS_CHUNK);
	struct keep *kp = malloc(sizeof(*kp));
	ssize_t n;
	int r = 0;

	if (buf == NULL || kp == NULL) {
		free(buf);
		free(kp);
		return -ENOMEM;
	}
	if (keep_init(fd, e, kp)) {
		while ((n = sc_getdents_stat(fd, e, buf, DENTS_CHUNK)) > 0 &&
		       (r = lb_typed(b, buf, (size_t)n, kp)) == 0)
			;
		if (n != -ENOSYS || b->n > 2)
			goto out;
	}
	while ((n = sc_getdents(fd, e, buf, DENTS_CHUNK)) > 0 &&
	       (r = lb_typed(b, buf, (size_t)n, NULL)) == 0)
		;
out:
	free(buf);
	free(kp);
	return r < 0 ? r : (int)n;
}

/*
 * The whole listing, "." and ".." first (see the top), typed if the
 * provider can, else from its text.
 */
static int
list_load(int fd, struct sfd *e, uint64_t ino, char **recs, size_t *len)
{
	struct lbuf b = {NULL, 0, 0, 0};
	char *text = NULL;
	size_t tlen = 0;
	int r;

	if ((r = lb_add(&b, ino, DT_DIR, ".", 1)) == 0 &&
	    (r = lb_add(&b, ino, DT_DIR, "..", 2)) == 0)
		r = load_typed(fd, e, &b);
	if ((r == -ENOSYS || r == -EISDIR) && b.n == 2 &&
	    (r = load(fd, e, &text, &tlen)) == 0) {
		r = lb_text(&b, text, tlen);
		free(text);
	}
	if (r < 0) {
		free(b.p);
		return r;
	}
	*recs = b.p;
	*len = b.len;
	return 0;
}

struct sdir *
sdir_fdopen(int fd, int *err)
{
	struct sdir *d;

	uint64_t ino = 0;

	if ((*err = check_dir(fd, &ino)) < 0)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	d->magic = SDIR_MAGIC;
	d->fd = fd;
	d->ino = ino;
	return d;
}

struct dirent64 *
sdir_read(struct sdir *d, int *err)
{
	const struct linux_dirent64 *r;

	*err = 0;
	if (!d->loaded) {
		struct sfd *e = fdtab_get(d->fd);

		*err = e != NULL && e->ops->requests
			   ? list_load(d->fd, e, d->ino, &d->text, &d->len)
			   : -EBADF;
		if (*err < 0)
			return NULL;
		d->loaded = true;
	}
	if (d->pos >= d->len)
		return NULL;
	r = (const struct linux_dirent64 *)(d->text + d->pos);
	d->pos += r->d_reclen;
	d->index++;
	memset(&d->ent, 0, offsetof(struct dirent64, d_name));
	d->ent.d_ino = r->d_ino;
	d->ent.d_off = r->d_off;
	d->ent.d_reclen = sizeof(d->ent);
	d->ent.d_type = r->d_type;
	memcpy(d->ent.d_name, r->d_name, strlen(r->d_name) + 1);
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

/* The listing's next whole records that fit in buf. */
static ssize_t
fill(struct sfd *s, char *buf, size_t size)
{
	const struct linux_dirent64 *r;
	size_t used = 0;

	while (s->dpos < s->dlen) {
		r = (const struct linux_dirent64 *)(s->dtext + s->dpos);
		if (r->d_reclen > size - used)
			break;
		memcpy(buf + used, r, r->d_reclen);
		used += r->d_reclen;
		s->dpos += r->d_reclen;
		s->dindex++;
	}
	if (used == 0 && s->dpos < s->dlen)
		return -EINVAL; /* the buffer is too small for one entry */
	return (ssize_t)used;
}

static ssize_t
dents(int fd, struct sfd *e, void *buf, size_t size)
{
	char *text = NULL;
	uint64_t ino = 0;
	size_t len = 0;
	ssize_t r;
	int err;

	if (e->dtext == NULL &&
	    ((err = check_dir(fd, &ino)) < 0 ||
	     (err = list_load(fd, e, ino, &text, &len)) < 0))
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
