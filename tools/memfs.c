/*
 * scheme-memfs - an example provider: a tree of files kept in memory.
 *
 *	scheme-memfs [--events [--tick MS]] [--no-map] [--own-locks]
 *		     [--cache MS] [--negative MS] [NAME]	(default: hello)
 *
 * Run it under schemerun; then NAME:world holds "Hello, world!\n", any
 * other NAME:path can be created and written, directories can be made
 * (an open with O_CREAT | O_DIRECTORY, Redox's mkdir), listed, and
 * removed, and files and directories unlinked, renamed, chmod'ed,
 * chown'ed and given times, and files given more names (hard links),
 * with Linux's rules and errors.  NAME: is the
 * root directory.  At the top are also:
 *
 *	NAME:fifo	reads wait until someone writes (the provider keeps
 *			the request and answers it later); O_NONBLOCK
 *			readers get EAGAIN instead.  Data read is consumed.
 *	NAME:stream	reads give EAGAIN until data is produced (by a
 *			writer, or with --events by a timer every --tick ms,
 *			default 200); then the provider posts EVENT_READ.
 *			Blocking readers wait for that post.  Data read is
 *			consumed.
 *	NAME:.stats	"handles N\nopens N\ncloses N\n", as of its open.
 *
 * These three are special: unlinking or renaming them, or renaming
 * something over them, says EPERM (the timer keeps its stream).  They
 * may be chmod'ed, chown'ed and given times.  NAME:world is an ordinary
 * file.
 *
 * Paths are relative to the root: extra slashes are ignored, "." and ".."
 * are followed (".." of the root is the root), and a trailing slash asks
 * for a directory, as on Linux.  A name is at most 255 bytes, a path at
 * most 4095.
 *
 * A directory opened with O_DIRECTORY reads as its entries' names, one a
 * line, sorted bytewise, without "." and "..": the listing is taken at
 * open and again when the offset is set to 0 (rewinddir).  The root reads
 * so with O_DIRECTORY or without; another directory read without it says
 * EISDIR, as `cat dir` does on Linux.  A directory's st_size is the
 * length of its listing.  An O_PATH handle serves fstat, fpath, fcntl,
 * fchmod, fchown, futimens, frename, flink and close; reads, writes, seeks,
 * truncation, fsync and fevent on it say EBADF.
 *
 * Permissions are checked as a local file system on Linux checks them:
 * owner, group (the caller's gid and supplementary groups) and other
 * bits, root's exceptions, sticky directories, search permission along
 * every path, and the rules of chmod, chown and utimensat.  Each request
 * is judged by its caller's uid and gid from the packet and the groups
 * of its process (from /proc); root is uid 0.  All the checks are in one
 * section, "Permissions", which lists what each request asks: copy it.
 * atime is set at creation and by utimensat only.
 *
 * A regular file can be mapped (SYS_FMAP): it moves into a memfd when
 * first mapped, and clients map that memfd, so shared mappings, reads
 * and writes are the same pages (section "Mapping").  --no-map answers
 * SYS_FMAP as a provider without it: clients map private copies.
 *
 * File locks are the system's to keep (scheme.h "Locks"): SYS_LOCK is
 * answered -ENOSYS.  --own-locks takes them over instead, into a table
 * of its own (memfs_locks.c), and NAME:.stats then also says "locks N"
 * (held now) and "releases N" (RELEASE and RELEASE_ALL requests seen).
 *
 * It grants clients a cache of its stat answers (SYS_FGRANT): 1 s, and
 * none of ENOENTs; --cache MS and --negative MS change them (0: none),
 * up to 60000 (scheme.h "Caching").  Its listings may carry each entry's
 * attributes (SYS_GETDENTS_STAT).
 *
 * Plain POSIX C and libscheme's provider helper (pkg-config --libs
 * scheme): each request kind is a member of a struct scheme_ops that
 * scheme_dispatch() calls with the request's arguments decoded (as
 * scheme_serve() would, in serve_batch, which also answers SYS_GETDENTS
 * and SYS_GETDENTS_STAT:
 * listings with each entry's type and inode number); a fifo read with
 * nothing to read returns SCHEME_DEFER and is answered later.
 * Without --events it waits with poll() on its scheme fd and a self-pipe
 * (for SIGTERM); with --events it is the Redox daemon loop: one event:
 * queue watching the scheme fd, a timerfd and the self-pipe, all
 * non-blocking.  Started without the preload (not under schemerun), it
 * says so and exits 1, having created nothing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "memfs_locks.h"

#ifndef SCHEME_VERSION /* the project's build sets it; a copy built apart */
#define SCHEME_VERSION "(unknown)"
#endif

#define MAX_HANDLES 65536
#define MAX_WAITING 256
#define MAX_NAME    255		      /* bytes in a path component */
#define MAX_PATH    4095	      /* bytes in a path */
#define MAX_SIZE    ((size_t)1 << 40) /* bytes in a file: beyond, EFBIG */

enum kind {
	REGULAR,
	DIRECTORY,
	FIFO,	 /* reads wait for data: the answer is deferred */
	STREAM,	 /* reads say EAGAIN until data comes: then a post */
	STATS,	 /* .stats: the counters, a snapshot taken at open */
	SYMLINK, /* a symbolic link: its data is the target */
};

/* Which times touch() sets to now. */
#define T_ATIME 1
#define T_MTIME 2
#define T_CTIME 4

/*
 * A node of the tree, and the names it has.  A directory keeps its
 * entries in kids[], sorted by name (strcmp, so bytewise): a lookup is a
 * binary search and a listing comes out sorted.  An entry is a name and
 * the node it names; a file may have several (hard links), counted in
 * links, a directory one (its name and parent are kept in the node too,
 * for "..", fpath and rename).  A node whose last name is gone (unlinked,
 * removed, or replaced by a rename) lives on, still usable through its
 * handles, until the last of them closes.  Only the root is in the tree
 * without a name.  A directory out of the tree is always empty: only
 * empty ones are removed, and nothing can reach one to add to it.
 */
struct dent {
	char *name;
	struct node *node;
};

struct node {
	char *name;	     /* as made or renamed: a directory's name,
				"" for the root */
	struct node *parent; /* a directory's; NULL: the root, or out of
				the tree */
	struct dent *kids;   /* a directory's entries, sorted by name */
	size_t nkids, kidcap;
	nlink_t links; /* entries naming it */
	char *data; /* a file's bytes: malloc'd, or mapped from mfd */
	size_t size, cap;
	int mfd; /* -1, or the memfd holding them (see "Mapping") */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	ino_t ino;
	struct timespec atime, mtime, ctime;
	int refs; /* open handles */
	enum kind kind;
};

struct handle {
	struct node *n;
	struct node *dir; /* a file's: the entry it was opened by, dir */
	char *name;	  /* and name (a directory's are in the node) */
	char *text; /* a directory's listing, or .stats: a snapshot */
	size_t textlen;
	off_t pos;
	int flags;
	int used;
	int list; /* reads give the listing in text */
};

/* Where a path leads: see walk(). */
struct where {
	struct node *dir;	 /* the directory of the last name */
	struct node *n;		 /* what it names; NULL: nothing yet */
	char name[MAX_NAME + 1]; /* the last name; "" for the root */
	int dot;   /* the last name is "." or "..": not an entry */
	int slash; /* a trailing slash: a directory is meant */
};

static const char *scheme = "hello";
static struct node *root;
static struct handle handles[MAX_HANDLES];
static uint64_t handles_hwm; /* no handle at or above is in use */
static struct scheme_packet waiting[MAX_WAITING]; /* fifo reads */
static int nwaiting;
static unsigned long opens, closes, nhandles;
static ino_t next_ino = 2; /* the root is 1 */
static int sfd;
static int stop_pipe[2];
static int own_locks; /* --own-locks: SYS_LOCK served (memfs_locks.c) */

/* The self-pipe: poll() and event: see the signal however it lands. */
static void
on_term(int sig)
{
	int saved = errno;

	if (write(stop_pipe[1], "x", 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

/* Nodes ----------------------------------------------------------------- */

static void
touch(struct node *n, int what)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (what & T_ATIME)
		n->atime = now;
	if (what & T_MTIME)
		n->mtime = now;
	if (what & T_CTIME)
		n->ctime = now;
}

static int
in_tree(const struct node *n)
{
	return n == root || n->links > 0;
}

static int
special(const struct node *n)
{
	return n->kind != REGULAR && n->kind != DIRECTORY && n->kind != SYMLINK;
}

/* A file whose bytes are its data: a regular file, or a link's target. */
static int
has_data(const struct node *n)
{
	return n->kind == REGULAR || n->kind == SYMLINK;
}

static struct node *
node_new(const char *name, enum kind kind, mode_t mode, uid_t uid, gid_t gid)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	if ((n->name = strdup(name)) == NULL) {
		free(n);
		return NULL;
	}
	n->kind = kind;
	n->mfd = -1;
	n->mode = mode & 07777;
	n->uid = uid;
	n->gid = gid;
	n->ino = next_ino++;
	touch(n, T_ATIME | T_MTIME | T_CTIME);
	return n;
}

static void
node_free(struct node *n)
{
	free(n->name);
	free(n->kids);
	if (n->mfd >= 0) {
		munmap(n->data, n->cap);
		close(n->mfd);
	} else {
		free(n->data);
	}
	free(n);
}

/* The whole tree, at exit (handles closed first). */
static void
tree_free(struct node *n)
{
	for (size_t i = 0; i < n->nkids; i++) {
		free(n->kids[i].name);
		if (--n->kids[i].node->links == 0)
			tree_free(n->kids[i].node);
	}
	node_free(n);
}

/* The entry of d called name, or NULL; *at is where it is or would go. */
static struct node *
lookup(const struct node *d, const char *name, size_t *at)
{
	size_t lo = 0, hi = d->nkids, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, d->kids[mid].name)) == 0) {
			*at = mid;
			return d->kids[mid].node;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return NULL;
}

/* Room for one more entry in d: the only step of a change that can fail. */
static int
reserve(struct node *d)
{
	size_t cap = d->kidcap ? d->kidcap * 2 : 8;
	struct dent *k;

	if (d->nkids < d->kidcap)
		return 0;
	if ((k = realloc(d->kids, cap * sizeof(*k))) == NULL)
		return -ENOMEM;
	d->kids = k;
	d->kidcap = cap;
	return 0;
}

/* Name n in d (after reserve(d)); name, malloc'd, is not in d yet. */
static void
attach(struct node *d, char *name, struct node *n)
{
	size_t at;

	lookup(d, name, &at);
	memmove(&d->kids[at + 1], &d->kids[at],
		(d->nkids - at) * sizeof(d->kids[0]));
	d->kids[at] = (struct dent){name, n};
	d->nkids++;
	n->links++;
	if (n->kind == DIRECTORY)
		n->parent = d;
	touch(d, T_MTIME | T_CTIME);
}

/* Remove d's entry name, which names n. */
static void
detach(struct node *d, const char *name, struct node *n)
{
	size_t at;

	if (lookup(d, name, &at) != n)
		return;
	free(d->kids[at].name);
	memmove(&d->kids[at], &d->kids[at + 1],
		(d->nkids - at - 1) * sizeof(d->kids[0]));
	d->nkids--;
	if (--n->links == 0)
		n->parent = NULL;
	touch(d, T_MTIME | T_CTIME);
}

/*
 * Take d's entry name (naming n) out of the tree: n is freed now, or when
 * its last handle closes, once no other name is left.
 */
static void
drop(struct node *d, const char *name, struct node *n)
{
	detach(d, name, n);
	if (n->links == 0 && n->refs == 0)
		node_free(n);
}

static void
node_put(struct node *n)
{
	if (--n->refs == 0 && !in_tree(n))
		node_free(n);
}

/* A new entry of d. */
static struct node *
mknode(struct node *d, const char *name, enum kind kind, mode_t mode, uid_t uid,
       gid_t gid)
{
	struct node *n;
	char *ename;

	if (reserve(d) < 0 || (ename = strdup(name)) == NULL)
		return NULL;
	if ((n = node_new(name, kind, mode, uid, gid)) == NULL) {
		free(ename);
		return NULL;
	}
	attach(d, ename, n);
	return n;
}

/* The length of d's listing: its st_size. */
static size_t
dir_size(const struct node *d)
{
	size_t size = 0;

	for (size_t i = 0; i < d->nkids; i++)
		size += strlen(d->kids[i].name) + 1;
	return size;
}

static nlink_t
dir_links(const struct node *d)
{
	nlink_t links = 2;

	for (size_t i = 0; i < d->nkids; i++)
		if (d->kids[i].node->kind == DIRECTORY)
			links++;
	return links;
}

/* "name\n" for each entry, sorted: a directory read. */
static char *
listing(const struct node *d, size_t *len)
{
	size_t size = dir_size(d), at = 0, k;
	char *t = malloc(size + 1);

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < d->nkids; i++) {
		k = strlen(d->kids[i].name);
		memcpy(t + at, d->kids[i].name, k);
		t[at + k] = '\n';
		at += k + 1;
	}
	*len = size;
	return t;
}

/*
 * Room for size bytes: the capacity doubles, in malloc'd memory or, for a
 * file kept in a memfd, in our mapping of it (which may reach past the
 * memfd's end; we never touch what does).
 */
static int
grow(struct node *f, size_t size)
{
	size_t cap = f->cap ? f->cap : 4096;
	char *d;

	while (cap < size)
		cap *= 2;
	if (f->mfd < 0) {
		d = realloc(f->data, cap);
	} else {
		d = mremap(f->data, f->cap, cap, MREMAP_MAYMOVE);
		d = d == MAP_FAILED ? NULL : d;
	}
	if (d == NULL)
		return -ENOSPC;
	f->data = d;
	f->cap = cap;
	return 0;
}

/* A memfd is kept exactly as long as the file: past it, clients' SIGBUS. */
static int
resize(struct node *f, size_t size)
{
	int r;

	if (size > MAX_SIZE)
		return -EFBIG;
	if (size > f->cap && (r = grow(f, size)) < 0)
		return r;
	if (f->mfd >= 0 && size != f->size &&
	    ftruncate(f->mfd, (off_t)size) < 0)
		return -ENOSPC;
	if (size > f->size && f->mfd < 0)
		memset(f->data + f->size, 0, size - f->size);
	f->size = size;
	touch(f, T_MTIME | T_CTIME);
	return 0;
}

static int
append(struct node *f, const void *data, size_t n)
{
	size_t at = f->size;
	int r;

	if (n == 0)
		return 0;
	if ((r = resize(f, at + n)) < 0)
		return r;
	memcpy(f->data + at, data, n);
	return 0;
}

/* Permissions ------------------------------------------------------------ */

/*
 * Every permission check of memfs is in this section, as Linux's VFS
 * makes them (fs/namei.c, fs/attr.c): a request calls one of these before
 * it changes anything, and answers what it returns.
 *
 *	may()		read, write or search/execute permission on a node:
 *			Linux's generic_permission()
 *	owns()		the owner, or root: inode_owner_or_capable()
 *	may_delete()	taking a name out of a directory: write and search
 *			permission on it, and its sticky bit
 *	may_chmod()	the owner or root; set-group-ID dropped for a
 *			caller outside the file's group
 *	may_chown()	root gives files away; the owner changes the group,
 *			to one of its own
 *	chown_mode()	what chown leaves of set-user-ID and set-group-ID
 *	new_group()	a new node's group: the caller's, or a set-group-ID
 *			directory's
 *
 * Who asks is the request's uid and gid (the kernel's: see scheme(7),
 * "Credentials") and the supplementary groups of its process (read by
 * read_groups(), see there, when in_group() first needs them).  Root is uid 0, and has what CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN and CAP_FSETID give on
 * Linux.
 *
 * What the requests check, with these:
 *	any path	search (x) on every directory it goes through: walk()
 *	open		read and/or write on the file, by O_ACCMODE, and write
 *			for O_TRUNC (none for a file the open creates, none
 *			with O_PATH)
 *	create, mkdir	write and search on the directory
 *	unlink, rmdir	may_delete() on the directory
 *	rename		may_delete() on the old directory; on the new one,
 *			may_delete() of what it replaces, else write and
 *			search; write on a directory that changes parent
 *			(its ".." changes)
 *	chmod		may_chmod()
 *	chown		may_chown(); then chown_mode(), a chmod's rule if
 *			it changes the mode
 *	utimensat	both times now: the owner, root, or write permission;
 *			other times: the owner or root
 *	ftruncate	a handle opened for writing (checked at its open)
 *	fmap		a handle opened for reading; for a writable shared
 *			mapping, one opened O_RDWR without O_APPEND
 * Reads, writes, fstat and the rest are judged by how the handle was
 * opened, as on Linux: a file's mode changed later does not close it.
 */

/*
 * The caller of the request being served.  memfs serves one request at a
 * time, so one of these is enough: cred_of() fills it at the start of
 * each request (a threaded provider would keep one per thread).
 */
struct cred {
	uid_t uid; /* effective ids, from the packet */
	gid_t gid;
	pid_t pid;
	int ngroups; /* supplementary groups; -1: not read yet */
	gid_t groups[NGROUPS_MAX];
};

static struct cred *
cred_of(const struct scheme_packet *p)
{
	static struct cred c;

	c.uid = p->uid;
	c.gid = p->gid;
	c.pid = (pid_t)p->pid;
	c.ngroups = -1;
	return &c;
}

/* The gids of a "Groups:" line of /proc/PID/status, into c. */
static void
parse_groups(const char *s, struct cred *c)
{
	unsigned long g;
	char *end;

	for (c->ngroups = 0; c->ngroups < NGROUPS_MAX; s = end) {
		g = strtoul(s, &end, 10);
		if (end == s)
			break;
		c->groups[c->ngroups++] = (gid_t)g;
	}
}

/*
 * The caller's supplementary groups.  A packet carries the caller's uid
 * and gid only (SCM_CREDENTIALS has no groups, and the system offers no
 * other way to learn them), so they are read from /proc/PID/status of the
 * packet's pid, and believed only if that process has the packet's
 * effective uid and gid.
 *
 * The race: a pid names the caller only while the caller lives.  It waits
 * for this answer, so it lives, unless it was killed meanwhile: then the
 * pid may already be another process's, and if that one has the same uid
 * and gid, its groups stand in for the caller's, for a request whose
 * answer nobody reads (but whose change stays).  The window is the time
 * from the kill to this read, and a process of the same uid could mostly
 * have asked itself.  A caller that changes its ids after asking (a
 * request by pipe carries the ids its channel was made with) has no
 * supplementary groups here.  Where /proc says nothing (mounted with
 * hidepid, or the caller in another pid namespace: pid 0) the caller has
 * none either: refused what only they would grant, never granted more.
 */
static void
read_groups(struct cred *c)
{
	unsigned long euid = ULONG_MAX, egid = ULONG_MAX;
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	c->ngroups = 0;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)c->pid);
	if (c->pid <= 0 || (f = fopen(path, "re")) == NULL)
		return;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "Groups:", 7) == 0)
			parse_groups(line + 7, c);
		sscanf(line, "Uid: %*u %lu", &euid);
		sscanf(line, "Gid: %*u %lu", &egid);
	}
	free(line);
	fclose(f);
	if (euid != c->uid || egid != c->gid)
		c->ngroups = 0; /* not the caller, or not as it asked */
}

/* Is gid the caller's, or one of its supplementary groups? */
static int
in_group(struct cred *c, gid_t gid)
{
	if (gid == c->gid)
		return 1;
	if (c->ngroups < 0)
		read_groups(c);
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return 1;
	return 0;
}

/*
 * May c read, write or search/execute n?  mask: R_OK, W_OK and X_OK, as
 * access(2)'s.  The owner's bits if c owns n, else the group's if c is in
 * n's group, else the others'.  Root may do anything to a directory, read
 * and write any file, and execute one with an x bit set.  0 or -EACCES.
 */
static int
may(const struct node *n, struct cred *c, int mask)
{
	mode_t bits;

	if (c->uid == 0) { /* all but running what nobody may run */
		if ((mask & X_OK) && n->kind != DIRECTORY && !(n->mode & 0111))
			return -EACCES;
		return 0;
	}
	if (c->uid == n->uid)
		bits = n->mode >> 6;
	else if (in_group(c, n->gid))
		bits = n->mode >> 3;
	else
		bits = n->mode;
	return (mask & ~bits & 7) == 0 ? 0 : -EACCES;
}

static int
owns(const struct node *n, const struct cred *c)
{
	return c->uid == 0 || c->uid == n->uid;
}

/*
 * May c take n out of d, its directory (unlink, rmdir, rename from or
 * over)?  In a sticky directory (mode 1000, as /tmp) only the owner of n
 * or of d, or root, may.  0, -EACCES or -EPERM.
 */
static int
may_delete(const struct node *d, const struct node *n, struct cred *c)
{
	if (may(d, c, W_OK | X_OK) < 0)
		return -EACCES;
	if ((d->mode & S_ISVTX) && !owns(n, c) && !owns(d, c))
		return -EPERM;
	return 0;
}

/* The mode chmod may set, or -EPERM. */
static int
may_chmod(const struct node *n, struct cred *c, mode_t mode)
{
	if (!owns(n, c))
		return -EPERM;
	if ((mode & S_ISGID) && c->uid != 0 && !in_group(c, n->gid))
		mode &= ~(mode_t)S_ISGID; /* silently, as Linux does */
	return (int)(mode & 07777);
}

#define KEEP ((uint32_t)-1) /* chown's "leave it" */

/*
 * Root changes both; the owner may "change" the uid to its own and the
 * group to one of its own (its gid or a supplementary group).  KEEP asks
 * nothing: chown(f, -1, -1) is anyone's (but see chown_mode()).  0 or
 * -EPERM.
 */
static int
may_chown(const struct node *n, struct cred *c, uint32_t uid, uint32_t gid)
{
	if (c->uid == 0)
		return 0;
	if (uid != KEEP && (c->uid != n->uid || uid != n->uid))
		return -EPERM;
	if (gid != KEEP &&
	    (c->uid != n->uid || (gid != n->gid && !in_group(c, gid))))
		return -EPERM;
	return 0;
}

/*
 * The mode a chown leaves: set-user-ID goes from anything but a
 * directory, and set-group-ID when it means "run as the group" (g+x:
 * without it, the bit marks mandatory locking and stays) unless root or
 * a member asks.  Linux does so, root's chown and chown(f, -1, -1)
 * included, so that a program given away does not keep running as its
 * old owner; and taking the bits away is a chmod, which only the owner
 * or root may make (a stranger's chown(f, -1, -1) of a set-user-ID file
 * says EPERM).
 */
static mode_t
chown_mode(const struct node *n, struct cred *c)
{
	mode_t mode = n->mode;

	if (n->kind == DIRECTORY)
		return mode;
	mode &= ~(mode_t)S_ISUID;
	if ((mode & S_ISGID) &&
	    ((mode & S_IXGRP) || (c->uid != 0 && !in_group(c, n->gid))))
		mode &= ~(mode_t)S_ISGID;
	return mode;
}

/*
 * A new node of d gets the caller's gid, unless d is set-group-ID: then
 * d's, and a new directory is set-group-ID too.  A new file asking to run
 * as that group (g+s and g+x) loses g+s if its maker is not in it.
 */
static gid_t
new_group(const struct node *d, struct cred *c, enum kind kind, mode_t *mode)
{
	if (!(d->mode & S_ISGID))
		return c->gid;
	if (kind == DIRECTORY)
		*mode |= S_ISGID;
	else if ((*mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
		 c->uid != 0 && !in_group(c, d->gid))
		*mode &= ~(mode_t)S_ISGID;
	return d->gid;
}

/* Paths ----------------------------------------------------------------- */

/* One name further from w->n, a directory. */
static void
step(struct where *w, const char *name, size_t len)
{
	struct node *d = w->n;
	size_t at;

	memcpy(w->name, name, len);
	w->name[len] = '\0';
	w->dir = d;
	w->dot = strcmp(w->name, ".") == 0 || strcmp(w->name, "..") == 0;
	if (strcmp(w->name, ".") == 0)
		w->n = d;
	else if (strcmp(w->name, "..") == 0)
		w->n = d->parent != NULL ? d->parent : d;
	else
		w->n = lookup(d, w->name, &at);
}

/*
 * Where path (len bytes) leads from the root.  Every name but the last
 * must be a directory that exists (-ENOENT, -ENOTDIR) and that c may
 * search (-EACCES), as Linux checks each before looking a name up in it;
 * the last one may be missing (w->n NULL), to be made in w->dir.
 */
static int
walk(const char *path, size_t len, struct cred *c, struct where *w)
{
	size_t i = 0, k;
	int r;

	if (len > MAX_PATH)
		return -ENAMETOOLONG;
	memset(w, 0, sizeof(*w));
	w->n = root;
	while (i < len) {
		if (path[i] == '/') {
			i++;
			continue;
		}
		for (k = i; k < len && path[k] != '/'; k++)
			;
		if (k - i > MAX_NAME)
			return -ENAMETOOLONG;
		if (w->n == NULL)
			return -ENOENT;
		if (w->n->kind == SYMLINK)
			return -EXDEV; /* the client follows it (scheme.h) */
		if (w->n->kind != DIRECTORY)
			return -ENOTDIR;
		if ((r = may(w->n, c, X_OK)) < 0)
			return r;
		step(w, path + i, k - i);
		i = k;
	}
	w->slash = len > 0 && path[len - 1] == '/';
	return 0;
}

/* A request's path: a C string, scheme_dispatch() saw to it. */
static int
walk_path(const char *path, struct cred *c, struct where *w)
{
	return walk(path, strlen(path), c, w);
}

/* Handles --------------------------------------------------------------- */

static struct handle *
get(uint64_t h)
{
	if (h >= MAX_HANDLES || !handles[h].used)
		return NULL;
	return &handles[h];
}

/* An open handle that may touch the contents: not an O_PATH one. */
static struct handle *
get_io(uint64_t h)
{
	struct handle *hd = get(h);

	return hd != NULL && !(hd->flags & O_PATH) ? hd : NULL;
}

/* The counters of .stats, as they will be once this open is counted. */
static char *
stats_text(size_t *len)
{
	char *t = malloc(256); /* five numbers of 20 digits at most */
	int n;

	if (t == NULL)
		return NULL;
	n = snprintf(t, 256, "handles %lu\nopens %lu\ncloses %lu\n", nhandles,
		     opens + 1, closes);
	if (own_locks) /* the locks we keep, and the releases we were told */
		n += snprintf(t + n, 256 - (size_t)n,
			      "locks %lu\nreleases %lu\n", ml_held(),
			      ml_releases());
	*len = (size_t)n;
	return t;
}

/*
 * A handle on what w names.  A file's keeps the entry it was opened by
 * (and a reference on its directory): the name that fpath reports and
 * that frename moves, of the several a file may have.
 */
static int64_t
new_handle(const struct where *w, int flags)
{
	struct node *n = w->n;
	int list = n->kind == DIRECTORY && !(flags & O_PATH) &&
		   ((flags & O_DIRECTORY) || n == root);
	char *text = NULL, *name = NULL;
	size_t textlen = 0;
	uint64_t h;

	for (h = 0; h < MAX_HANDLES && handles[h].used; h++)
		;
	if (h == MAX_HANDLES)
		return -EMFILE;
	if (list)
		text = listing(n, &textlen);
	else if (n->kind == STATS)
		text = stats_text(&textlen);
	if (n->kind != DIRECTORY)
		name = strdup(w->name);
	if (((list || n->kind == STATS) && text == NULL) ||
	    (n->kind != DIRECTORY && name == NULL)) {
		free(text);
		free(name);
		return -ENOMEM;
	}
	if (name != NULL)
		w->dir->refs++;
	handles[h] = (struct handle){.n = n,
				     .dir = name != NULL ? w->dir : NULL,
				     .name = name,
				     .text = text,
				     .textlen = textlen,
				     .flags = flags,
				     .used = 1,
				     .list = list};
	if (h >= handles_hwm)
		handles_hwm = h + 1;
	n->refs++;
	nhandles++;
	opens++;
	return (int64_t)h;
}

/* Tell every open file of f that it has data: a post (id 0). */
static void
post_read(struct node *f)
{
	struct scheme_packet post = {.a = SYS_FEVENT, .c = EVENT_READ};

	for (uint64_t hn = 0; hn < handles_hwm; hn++)
		if (handles[hn].used && handles[hn].n == f) {
			post.b = hn;
			if (write(sfd, &post, sizeof(post)) < 0)
				perror("scheme-memfs: post");
		}
}

/* Requests on paths ----------------------------------------------------- */

/*
 * O_CREAT of a missing name: a directory with O_DIRECTORY (mkdir, which
 * keeps only the permission bits and the sticky bit of the mode), else a
 * file.
 */
static int
make(struct where *w, int flags, mode_t mode, struct cred *c)
{
	enum kind kind = REGULAR;
	gid_t gid;
	int r;

	if (flags & SCHEME_O_SYMLINK) {
		if (w->slash)
			return -ENOENT;
		kind = SYMLINK;
		mode = 0777;
	} else if (flags & O_DIRECTORY) {
		if ((flags & O_ACCMODE) != O_RDONLY)
			return -EISDIR;
		kind = DIRECTORY;
		mode &= 01777;
	} else if (w->slash) {
		return -EISDIR; /* "new/": Linux's answer */
	}
	if ((r = may(w->dir, c, W_OK | X_OK)) < 0)
		return r;
	gid = new_group(w->dir, c, kind, &mode);
	w->n = mknode(w->dir, w->name, kind, mode, c->uid, gid);
	return w->n != NULL ? 0 : -ENOSPC;
}

/*
 * What an open of an existing node asks of it (R_OK, W_OK), by the
 * access mode; O_TRUNC writes.
 */
static int
open_mask(int flags)
{
	int mask = (flags & O_ACCMODE) == O_RDONLY   ? R_OK
		   : (flags & O_ACCMODE) == O_WRONLY ? W_OK
						     : R_OK | W_OK;

	return (flags & O_TRUNC) ? mask | W_OK : mask;
}

/* May an existing node be opened so, by its kind? */
static int
may_open(const struct node *n, const struct where *w, int flags)
{
	if (n->kind != DIRECTORY && ((flags & O_DIRECTORY) || w->slash))
		return -ENOTDIR;
	if (n->kind == DIRECTORY &&
	    ((open_mask(flags) & W_OK) ||
	     ((flags & O_CREAT) && !(flags & O_DIRECTORY))))
		return -EISDIR;
	return 0;
}

/*
 * Symbolic links (scheme.h): 0 when the open is of the link itself, -errno
 * when it cannot be had, 1 when the open goes on as any other.
 * SCHEME_O_SYMLINK names the link (EINVAL for what is no link, EEXIST
 * when creating one that is there); O_PATH | O_NOFOLLOW the link too;
 * O_NOFOLLOW alone ELOOP; O_CREAT | O_EXCL EEXIST, as open(2) says
 * "regardless of where the link points" (mkdir on a dangling link too,
 * which must not make its target); anything else, or a trailing slash,
 * is the client's to follow: EXDEV.
 */
static int
open_link(const struct where *w, int flags)
{
	int nofollow = (flags & (O_NOFOLLOW | SCHEME_O_SYMLINK)) != 0;

	if (w->n == NULL || w->n->kind != SYMLINK) {
		if (w->n == NULL || !(flags & SCHEME_O_SYMLINK))
			return 1;
		return (flags & O_CREAT) && (flags & O_EXCL) ? -EEXIST
							     : -EINVAL;
	}
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (!nofollow || w->slash)
		return -EXDEV;
	if (flags & (SCHEME_O_SYMLINK | O_PATH))
		return 0;
	return -ELOOP;
}

/*
 * oflags: O_* | mode << 32, as the request's d.  A file this open creates
 * is not checked against its own mode (a 0444 file may be created for
 * writing), as on Linux; O_TRUNC empties a file even opened O_RDONLY, as
 * Linux does too.
 */
static int64_t
do_open(void *ctx, const struct scheme_packet *p, const char *path,
	uint64_t oflags)
{
	int flags = (int)(uint32_t)oflags, r;
	struct cred *c = cred_of(p);
	struct where w;

	if ((r = walk_path(path, c, &w)) < 0)
		return r;
	if ((r = open_link(&w, flags)) != 1)
		return r < 0 ? r : new_handle(&w, flags);
	if (flags & O_PATH) { /* Linux ignores the other flags then */
		if (w.n == NULL)
			return -ENOENT;
		if (w.n->kind != DIRECTORY &&
		    ((flags & O_DIRECTORY) || w.slash))
			return -ENOTDIR;
		return new_handle(&w, flags);
	}
	if (w.n == NULL) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		if ((r = make(&w, flags, (mode_t)(oflags >> 32), c)) < 0)
			return r;
		return new_handle(&w, flags);
	}
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if ((r = may_open(w.n, &w, flags)) < 0 ||
	    (r = may(w.n, c, open_mask(flags))) < 0)
		return r;
	if ((flags & O_TRUNC) && w.n->kind == REGULAR &&
	    (r = resize(w.n, 0)) < 0)
		return r;
	return new_handle(&w, flags);
}

/* Errors in Linux's order: a trailing slash is judged before the rights. */
static int64_t
do_unlink(void *ctx, const struct scheme_packet *p, const char *path)
{
	struct cred *c = cred_of(p);
	struct where w;
	int r;

	if ((r = walk_path(path, c, &w)) < 0)
		return r;
	if (w.n == NULL)
		return -ENOENT;
	if (!w.dot && !w.slash && w.n != root &&
	    (r = may_delete(w.dir, w.n, c)) < 0)
		return r;
	if (w.n->kind == DIRECTORY)
		return -EISDIR;
	if (w.slash)
		return -ENOTDIR;
	if (special(w.n))
		return -EPERM;
	touch(w.n, T_CTIME);
	drop(w.dir, w.name, w.n);
	return 0;
}

static int64_t
do_rmdir(void *ctx, const struct scheme_packet *p, const char *path)
{
	struct cred *c = cred_of(p);
	struct where w;
	int r;

	if ((r = walk_path(path, c, &w)) < 0)
		return r;
	if (w.n == NULL)
		return -ENOENT;
	if (w.dot) /* Linux: "." is invalid, ".." is not empty */
		return strcmp(w.name, ".") == 0 ? -EINVAL : -ENOTEMPTY;
	if (w.n == root)
		return -EBUSY;
	if ((r = may_delete(w.dir, w.n, c)) < 0)
		return r;
	if (w.n->kind != DIRECTORY)
		return -ENOTDIR;
	if (w.n->nkids > 0)
		return -ENOTEMPTY;
	drop(w.dir, w.name, w.n);
	return 0;
}

/* Requests on handles --------------------------------------------------- */

/*
 * A fifo or stream read of len bytes into buf: now if there are bytes;
 * else a fifo keeps the request (unless O_NONBLOCK) and a stream says
 * EAGAIN.  A request kept is a copy of the packet: buf is its c, valid
 * until we answer it.
 */
static int64_t
pipe_read(struct node *f, const struct scheme_packet *p, void *buf, size_t len,
	  int nonblock)
{
	size_t n = f->size < len ? f->size : len;

	if (n == 0 && len > 0) {
		if (nonblock || f->kind == STREAM || nwaiting == MAX_WAITING)
			return -EAGAIN;
		waiting[nwaiting++] = *p;
		return SCHEME_DEFER;
	}
	memcpy(buf, f->data, n);
	memmove(f->data, f->data + n, f->size - n);
	f->size -= n;
	return (int64_t)n;
}

/* Up to len bytes of a file (or a listing, .stats) from off into buf. */
static size_t
copy_out(const struct handle *h, void *buf, size_t len, uint64_t off)
{
	const char *src = has_data(h->n) ? h->n->data : h->text;
	size_t size = has_data(h->n) ? h->n->size : h->textlen;
	size_t n;

	if (off >= size)
		return 0;
	n = size - (size_t)off < len ? size - (size_t)off : len;
	memcpy(buf, src + off, n);
	return n;
}

static int64_t
do_read(void *ctx, const struct scheme_packet *p, uint64_t hn, void *buf,
	size_t len)
{
	struct handle *h = get_io(hn);
	size_t n;

	if (h == NULL || (h->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (h->n->kind == FIFO || h->n->kind == STREAM)
		return pipe_read(h->n, p, buf, len, h->flags & O_NONBLOCK);
	if (h->n->kind == DIRECTORY && !h->list)
		return -EISDIR;
	n = copy_out(h, buf, len, (uint64_t)h->pos);
	h->pos += (off_t)n;
	return (int64_t)n;
}

/* pread: the same at an offset of its own; h->pos stays. */
static int64_t
do_read2(void *ctx, const struct scheme_packet *p, uint64_t hn, void *buf,
	 size_t len, uint64_t off, uint32_t flags)
{
	struct handle *h = get_io(hn);

	if (h == NULL || (h->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (h->n->kind == FIFO || h->n->kind == STREAM)
		return -ESPIPE;
	if (h->n->kind == DIRECTORY && !h->list)
		return -EISDIR;
	return (int64_t)copy_out(h, buf, len, off);
}

static void answer(struct scheme_packet *p, int64_t result);

/* Forget waiting read i (its answer is given or never will be). */
static void
unwait(int i)
{
	memmove(&waiting[i], &waiting[i + 1],
		(size_t)(nwaiting - i - 1) * sizeof(waiting[0]));
	nwaiting--;
}

/*
 * Data arrived in the fifo: the oldest reads waiting on it (not on some
 * other fifo: the list is shared) get it.
 */
static void
answer_waiting(struct node *f)
{
	int i = 0;

	while (i < nwaiting && f->size > 0) {
		struct scheme_packet p = waiting[i];
		struct handle *h = get(p.b);

		if (h != NULL && h->n != f) {
			i++;
			continue;
		}
		answer(&p, h != NULL ? pipe_read(f, &p, (void *)(uintptr_t)p.c,
						 p.d, 0)
				     : -EBADF);
		unwait(i);
	}
	if (f->size > 0)
		post_read(f);
}

/* A handle writes may go to: opened for writing, not .stats, no dir. */
static int
writable(const struct handle *h)
{
	if (h == NULL || (h->flags & O_ACCMODE) == O_RDONLY ||
	    h->n->kind == STATS)
		return -EBADF;
	return h->n->kind == DIRECTORY ? -EISDIR : 0;
}

/* len bytes at off of a regular file, which grows to take them. */
static int
copy_in(struct node *f, const void *buf, size_t len, uint64_t off)
{
	int r;

	if (off > MAX_SIZE)
		return -EFBIG;
	if (len == 0)
		return 0; /* an empty file may have no data to copy to */
	if ((r = resize(f, off + len > f->size ? off + len : f->size)) < 0)
		return r;
	if (len > 0) /* an empty file has no data to copy to */
		memcpy(f->data + off, buf, len);
	return 0;
}

static int64_t
do_write(void *ctx, const struct scheme_packet *p, uint64_t hn, const void *buf,
	 size_t len)
{
	struct handle *h = get_io(hn);
	struct node *f;
	size_t at;
	int r;

	if ((r = writable(h)) < 0)
		return r;
	if (!has_data(f = h->n)) { /* appends, and wakes the readers */
		if ((r = append(f, buf, len)) < 0)
			return r;
		if (f->kind == FIFO)
			answer_waiting(f);
		else
			post_read(f);
		return (int64_t)len;
	}
	at = (h->flags & O_APPEND) ? f->size : (size_t)h->pos;
	if ((r = copy_in(f, buf, len, at)) < 0)
		return r;
	h->pos = (off_t)(at + len);
	return (int64_t)len;
}

/*
 * pwrite: at an offset of its own, h->pos left alone; on a file opened
 * O_APPEND (or with RWF_APPEND) at the end, as Linux does.  Not on
 * fifos and streams (ESPIPE).
 */
static int64_t
do_write2(void *ctx, const struct scheme_packet *p, uint64_t hn,
	  const void *buf, size_t len, uint64_t off, uint32_t flags)
{
	struct handle *h = get_io(hn);
	struct node *f;
	int r;

	if ((r = writable(h)) < 0)
		return r;
	if ((f = h->n)->kind != REGULAR)
		return -ESPIPE;
	if ((h->flags & O_APPEND) || (flags & RWF_APPEND))
		off = f->size;
	if ((r = copy_in(f, buf, len, off)) < 0)
		return r;
	return (int64_t)len;
}

/*
 * fallocate(2), as vfs_fallocate() checks it: mode 0 makes the file at
 * least off + len long; FALLOC_FL_KEEP_SIZE alone has nothing to do in
 * memory; PUNCH_HOLE (with KEEP_SIZE, as Linux wants) and ZERO_RANGE
 * zero the range, ZERO_RANGE growing the file unless KEEP_SIZE.  The
 * other modes (collapse, insert, unshare) are EOPNOTSUPP.
 */
static int64_t
do_fallocate(void *ctx, const struct scheme_packet *p, uint64_t hn,
	     uint32_t mode, uint64_t off, uint64_t len)
{
	struct handle *h = get_io(hn);
	bool keep = mode & FALLOC_FL_KEEP_SIZE;
	uint32_t what = mode & ~(uint32_t)FALLOC_FL_KEEP_SIZE;
	struct node *f;
	size_t end;
	int r;

	if ((what != 0 && what != FALLOC_FL_PUNCH_HOLE &&
	     what != FALLOC_FL_ZERO_RANGE) ||
	    (what == FALLOC_FL_PUNCH_HOLE && !keep))
		return -EOPNOTSUPP;
	if (h == NULL || (h->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	f = h->n;
	if (f->kind == FIFO || f->kind == STREAM)
		return -ESPIPE;
	if (f->kind == DIRECTORY)
		return -EISDIR;
	if (f->kind != REGULAR)
		return -ENODEV;
	if (off + len > MAX_SIZE)
		return -EFBIG;
	if (!keep && off + len > f->size && (r = resize(f, off + len)) < 0)
		return r;
	end = off + len < f->size ? off + len : f->size;
	if (what != 0 && off < end) {
		memset(f->data + off, 0, end - off);
		touch(f, T_MTIME | T_CTIME);
	}
	return 0;
}

/* An offset of 0 is rewinddir(): the listing is taken again. */
static void
relist(struct handle *h)
{
	size_t len;
	char *t = listing(h->n, &len);

	if (t == NULL)
		return; /* the old listing stays */
	free(h->text);
	h->text = t;
	h->textlen = len;
}

/*
 * SEEK_DATA and SEEK_HOLE as lseek(2) allows the simplest file system to
 * answer them: the whole file is data, its end the only hole; ENXIO at
 * or beyond the end.
 */
static int64_t
seek_data(struct handle *h, int64_t off, int whence)
{
	off_t size = (off_t)h->n->size;

	if (h->n->kind != REGULAR)
		return -EINVAL;
	if (off < 0 || off >= size)
		return -ENXIO;
	h->pos = whence == SEEK_DATA ? off : size;
	return h->pos;
}

static int64_t
do_seek(void *ctx, const struct scheme_packet *p, uint64_t hn, int64_t off,
	int whence)
{
	struct handle *h = get_io(hn);
	off_t base;

	if (h == NULL)
		return -EBADF;
	if (h->n->kind == FIFO || h->n->kind == STREAM)
		return -ESPIPE;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = h->pos;
		break;
	case SEEK_END:
		base = h->n->kind == REGULAR ? (off_t)h->n->size
					     : (off_t)h->textlen;
		break;
	case SEEK_DATA:
	case SEEK_HOLE:
		return seek_data(h, off, whence);
	default:
		return -EINVAL;
	}
	if (off > 0 && base > INT64_MAX - off)
		return -EOVERFLOW;
	if (base + off < 0)
		return -EINVAL;
	h->pos = base + off;
	if (h->pos == 0 && h->list)
		relist(h);
	return h->pos;
}

static int64_t
do_truncate(void *ctx, const struct scheme_packet *p, uint64_t hn,
	    int64_t length)
{
	struct handle *h = get_io(hn);

	if (h == NULL)
		return -EBADF;
	if (h->n->kind == DIRECTORY)
		return -EISDIR;
	if ((h->flags & O_ACCMODE) == O_RDONLY || h->n->kind == STATS ||
	    length < 0)
		return -EINVAL;
	return resize(h->n, (size_t)length);
}

/*
 * n's attributes into st (zeroed); textlen is the size of a .stats, whose
 * text is a handle's snapshot.
 */
static void
node_stat(const struct node *n, size_t textlen, struct stat *st)
{
	size_t size = n->size;

	st->st_ino = n->ino;
	st->st_nlink = n->links;
	switch (n->kind) {
	case DIRECTORY:
		st->st_mode = S_IFDIR;
		st->st_nlink = dir_links(n);
		size = dir_size(n);
		break;
	case FIFO:
	case STREAM:
		st->st_mode = S_IFIFO;
		break;
	case STATS:
		st->st_mode = S_IFREG;
		size = textlen;
		break;
	case SYMLINK:
		st->st_mode = S_IFLNK;
		break;
	default:
		st->st_mode = S_IFREG;
		break;
	}
	st->st_mode |= n->mode;
	if (!in_tree(n))
		st->st_nlink = 0;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

/* st arrives zeroed (scheme_dispatch). */
static int64_t
do_fstat(void *ctx, const struct scheme_packet *p, uint64_t hn, struct stat *st)
{
	struct handle *h = get(hn);

	if (h == NULL)
		return -EBADF;
	node_stat(h->n, h->textlen, st);
	return 0;
}

/*
 * The entry h was opened by, if it is still there: 0, its directory and
 * its name (the entry's own string), or -ENOENT.  A directory's is in the
 * node: it has one.
 */
static int
entry_of(const struct handle *h, struct node **dir, const char **name)
{
	const char *key = h->name != NULL ? h->name : h->n->name;
	size_t at;

	*dir = h->dir != NULL ? h->dir : h->n->parent;
	if (*dir == NULL || lookup(*dir, key, &at) != h->n)
		return -ENOENT;
	*name = (*dir)->kids[at].name;
	return 0;
}

/*
 * "NAME:path", cut to d bytes.  Each name is put in with a '/' before it,
 * from the entry up; the outermost '/' lands where the colon goes.  A
 * node out of the tree has its name alone.
 */
static int64_t
do_fpath(void *ctx, const struct scheme_packet *p, uint64_t hn, void *out,
	 size_t max)
{
	size_t slen = strlen(scheme), len = slen, at, k;
	struct handle *h = get(hn);
	const struct node *n, *top;
	struct node *dir;
	const char *name;
	char *buf;

	if (h == NULL)
		return -EBADF;
	top = h->n;
	if (h->name != NULL) { /* a file: its name, then its directory up */
		len += strlen(h->name) + 1;
		top = entry_of(h, &dir, &name) == 0 ? dir : NULL;
	}
	for (n = top; n != root && n != NULL; n = n->parent)
		len += strlen(n->name) + 1;
	if (len == slen)
		len++; /* the root: "NAME:" */
	if ((buf = malloc(len)) == NULL)
		return -ENOMEM;
	at = len;
	if (h->name != NULL) {
		k = strlen(h->name);
		at -= k + 1;
		buf[at] = '/';
		memcpy(buf + at + 1, h->name, k);
	}
	for (n = top; n != root && n != NULL; n = n->parent) {
		k = strlen(n->name);
		at -= k + 1;
		buf[at] = '/';
		memcpy(buf + at + 1, n->name, k);
	}
	memcpy(buf, scheme, slen);
	buf[slen] = ':';
	len = len < max ? len : max;
	memcpy(out, buf, len);
	free(buf);
	return (int64_t)len;
}

static int64_t
do_chmod(void *ctx, const struct scheme_packet *p, uint64_t hn, uint32_t mode)
{
	struct handle *h = get(hn);
	int r;

	if (h == NULL)
		return -EBADF;
	if ((r = may_chmod(h->n, cred_of(p), (mode_t)mode & 07777)) < 0)
		return r;
	h->n->mode = (mode_t)r;
	touch(h->n, T_CTIME);
	return 0;
}

/* KEEP ((uint32_t)-1) leaves one alone. */
static int64_t
do_chown(void *ctx, const struct scheme_packet *p, uint64_t hn, uint32_t uid,
	 uint32_t gid)
{
	struct cred *c = cred_of(p);
	struct handle *h = get(hn);
	struct node *n;
	mode_t mode;
	int r;

	if (h == NULL)
		return -EBADF;
	n = h->n;
	if ((r = may_chown(n, c, uid, gid)) < 0)
		return r;
	if ((mode = chown_mode(n, c)) != n->mode && !owns(n, c))
		return -EPERM;
	n->mode = mode;
	if (uid != KEEP)
		n->uid = uid;
	if (gid != KEEP)
		n->gid = gid;
	touch(n, T_CTIME);
	return 0;
}

/*
 * times: atime then mtime; UTIME_NOW and UTIME_OMIT as utimensat(2).
 * NULL is both UTIME_NOW.
 */
static int64_t
do_utimens(void *ctx, const struct scheme_packet *p, uint64_t hn,
	   const struct timespec *times)
{
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}}, now;
	struct cred *c = cred_of(p);
	struct handle *h = get(hn);
	struct node *n;
	int r;

	if (h == NULL)
		return -EBADF;
	n = h->n;
	if (times != NULL)
		memcpy(ts, times, sizeof(ts));
	for (int i = 0; i < 2; i++)
		if (ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT &&
		    (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000L))
			return -EINVAL;
	if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
		return 0;
	if (!owns(n, c)) { /* "now" is "touch": writers may */
		if (ts[0].tv_nsec != UTIME_NOW || ts[1].tv_nsec != UTIME_NOW)
			return -EPERM;
		if ((r = may(n, c, W_OK)) < 0)
			return r;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (ts[0].tv_nsec != UTIME_OMIT)
		n->atime = ts[0].tv_nsec == UTIME_NOW ? now : ts[0];
	if (ts[1].tv_nsec != UTIME_OMIT)
		n->mtime = ts[1].tv_nsec == UTIME_NOW ? now : ts[1];
	n->ctime = now;
	return 0;
}

/*
 * n, named oname in od, is to be named name in nd: its handles opened by
 * that entry follow (fpath and frename use it), and so does its own name.
 */
static void
moved(struct node *n, struct node *od, const char *oname, struct node *nd,
      char *name)
{
	char *copy;

	for (uint64_t hn = 0; hn < handles_hwm; hn++) {
		struct handle *h = &handles[hn];

		if (!h->used || h->n != n || h->dir != od ||
		    strcmp(h->name, oname) != 0 ||
		    (copy = strdup(name)) == NULL)
			continue;
		free(h->name);
		h->name = copy;
		nd->refs++;
		node_put(od);
		h->dir = nd;
	}
	free(n->name);
	n->name = name;
}

/* Is a an ancestor of n (or n itself)? */
static int
contains(const struct node *a, const struct node *n)
{
	for (; n != NULL; n = n->parent)
		if (n == a)
			return 1;
	return 0;
}

/*
 * May c rename n (named in od) to where w leads?  The checks in Linux's
 * order: the names, then the rights on both directories (the new one's as
 * for a create, or a delete of what n replaces), then the kinds.  Onto
 * another name of n: nothing to do, as Linux.
 */
static int
may_rename(const struct node *n, struct node *od, const struct where *w,
	   struct cred *c)
{
	const struct node *t = w->n;
	int dir = n->kind == DIRECTORY, r;

	if (n == root || t == root || w->dot)
		return -EBUSY;
	if (!dir && w->slash)
		return -ENOTDIR;
	if (t == n)
		return 1; /* onto itself: nothing to do */
	if (dir && contains(n, w->dir))
		return -EINVAL; /* into its own subtree */
	if (t != NULL && contains(t, od))
		return -ENOTEMPTY; /* over one of its ancestors */
	if ((r = may_delete(od, n, c)) < 0 ||
	    (r = t != NULL ? may_delete(w->dir, t, c)
			   : may(w->dir, c, W_OK | X_OK)) < 0)
		return r;
	if (t != NULL && dir != (t->kind == DIRECTORY))
		return dir ? -ENOTDIR : -EISDIR;
	if (dir && w->dir != od && (r = may(n, c, W_OK)) < 0)
		return r; /* its ".." would change */
	if (special(n) || (t != NULL && special(t)))
		return -EPERM;
	if (t != NULL && t->nkids > 0)
		return -ENOTEMPTY;
	return 0;
}

/* path: the new one, relative to the root. */
static int64_t
do_rename(void *ctx, const struct scheme_packet *p, uint64_t hn,
	  const char *path)
{
	struct cred *c = cred_of(p);
	struct handle *h = get(hn);
	struct node *n, *od;
	const char *oname;
	struct where w;
	char *name, *ename;
	int r;

	if (h == NULL)
		return -EBADF;
	n = h->n;
	if (n == root)
		return -EBUSY;
	if (entry_of(h, &od, &oname) < 0)
		return -ENOENT;
	if ((r = walk_path(path, c, &w)) < 0)
		return r;
	if ((r = may_rename(n, od, &w, c)) != 0)
		return r < 0 ? r : 0;
	if (reserve(w.dir) < 0 || (name = strdup(w.name)) == NULL)
		return -ENOMEM;
	if ((ename = strdup(w.name)) == NULL) {
		free(name);
		return -ENOMEM;
	}
	if (w.n != NULL)
		drop(w.dir, w.name, w.n);
	moved(n, od, oname, w.dir, name);
	n->links++; /* not freed between its two entries */
	detach(od, oname, n);
	n->links--;
	attach(w.dir, ename, n);
	touch(n, T_CTIME);
	return 0;
}

/*
 * A hard link: the open file gets the name path too.  Linux's order: the
 * new name (EEXIST, ENOENT for a trailing slash), the rights to create
 * it, then the kind (EPERM for a directory, and for the special files);
 * a file whose last name is gone cannot get one back (ENOENT).
 */
static int64_t
do_link(void *ctx, const struct scheme_packet *p, uint64_t hn, const char *path)
{
	struct cred *c = cred_of(p);
	struct handle *h = get(hn);
	struct where w;
	char *name;
	int r;

	if (h == NULL)
		return -EBADF;
	if ((r = walk_path(path, c, &w)) < 0)
		return r;
	if (w.n != NULL)
		return -EEXIST;
	if (w.slash)
		return -ENOENT;
	if ((r = may(w.dir, c, W_OK | X_OK)) < 0)
		return r;
	if (h->n->kind == DIRECTORY || special(h->n))
		return -EPERM;
	if (!in_tree(h->n))
		return -ENOENT;
	if (reserve(w.dir) < 0 || (name = strdup(w.name)) == NULL)
		return -ENOMEM;
	attach(w.dir, name, h->n);
	touch(h->n, T_CTIME);
	return 0;
}

/* What is ready: data to read (a pipe may be empty); writes always. */
static int64_t
do_fevent(void *ctx, const struct scheme_packet *p, uint64_t hn,
	  uint64_t wanted)
{
	struct handle *h = get_io(hn);

	if (h == NULL)
		return -EBADF;
	if (h->n->kind == FIFO || h->n->kind == STREAM)
		return (h->n->size ? EVENT_READ : 0) | EVENT_WRITE;
	return EVENT_READ | EVENT_WRITE;
}

static int64_t
close_handle(uint64_t hn)
{
	struct handle *h = get(hn);

	if (h == NULL)
		return -EBADF;
	/*
	 * Its waiting reads end here (EBADF, answered so that the broker side
	 * frees them): new_handle() reuses the number, and a read left waiting
	 * would take bytes meant for the next reader of that handle.
	 */
	for (int i = 0; i < nwaiting;) {
		if (waiting[i].b == hn) {
			answer(&waiting[i], -EBADF);
			unwait(i);
		} else {
			i++;
		}
	}
	ml_closed(hn); /* its kept lock waits, likewise */
	node_put(h->n);
	if (h->dir != NULL)
		node_put(h->dir);
	free(h->name);
	free(h->text);
	memset(h, 0, sizeof(*h));
	nhandles--;
	closes++;
	return 0;
}

static int64_t
do_close(void *ctx, const struct scheme_packet *p, uint64_t hn)
{
	return close_handle(hn);
}

static int64_t
do_fsync(void *ctx, const struct scheme_packet *p, uint64_t hn)
{
	return get_io(hn) != NULL ? 0 : -EBADF;
}

/*
 * The system keeps the status flags (scheme(7), SYS_FCNTL); a fifo read
 * needs O_NONBLOCK here too, or one set by F_SETFL after the open would
 * still be kept (pipe_read) and its reader wait.
 */
static int64_t
do_fcntl(void *ctx, const struct scheme_packet *p, uint64_t hn, int cmd,
	 uint64_t arg)
{
	struct handle *h = get(hn);

	if (h == NULL)
		return -EBADF;
	if (cmd == F_SETFL)
		h->flags = (h->flags & ~O_NONBLOCK) | ((int)arg & O_NONBLOCK);
	return 0;
}

/* Mapping --------------------------------------------------------------- */

/*
 * A regular file is kept in malloc'd memory until it is first mapped;
 * from then on in a memfd, which we map MAP_SHARED and which the answer
 * to SYS_FMAP hands over (the system passes the client a copy of the
 * fd, a read-only one for a file not opened O_RDWR).  So every client's
 * MAP_SHARED mapping and our own reads and writes are the same pages,
 * and a client's MAP_PRIVATE mapping is the kernel's copy-on-write of
 * them.  The memfd is as long as the file (resize() truncates it), so a
 * client touching a page wholly past the end gets SIGBUS, as on Linux.
 * It stays until the node is freed: a client's mapping may outlive
 * every handle, and whether one is left is not ours to see (SYS_FUNMAP
 * is not sent).  Writes through a mapping do not change mtime.
 */
static int
to_memfd(struct node *f)
{
	size_t cap = f->cap > 4096 ? f->cap : 4096;
	char *d;
	int fd;

	if (f->mfd >= 0)
		return 0;
	if ((fd = memfd_create("scheme-memfs", MFD_CLOEXEC)) < 0)
		return -ENOMEM;
	if (ftruncate(fd, (off_t)f->size) < 0 ||
	    (d = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
		MAP_FAILED) {
		close(fd);
		return -ENOMEM;
	}
	if (f->size > 0)
		memcpy(d, f->data, f->size);
	free(f->data);
	f->data = d;
	f->cap = cap;
	f->mfd = fd;
	return 0;
}

static int no_map; /* --no-map: answer SYS_FMAP as if not served */

/* The open file's access mode judges, as mmap(2) does (see Permissions). */
static int64_t
do_fmap(void *ctx, const struct scheme_packet *p, uint64_t hn,
	struct scheme_map *m)
{
	struct handle *h = get_io(hn);
	int prot = SCHEME_MAP_PROT(m->flags);
	int flags = SCHEME_MAP_FLAGS(m->flags), acc, r;

	if (no_map)
		return -ENOSYS; /* as a provider without the member */
	if (h == NULL)
		return -EBADF;
	if (h->n->kind != REGULAR)
		return -ENODEV;
	acc = h->flags & O_ACCMODE;
	if (acc == O_WRONLY)
		return -EACCES;
	if ((flags & MAP_TYPE) != MAP_PRIVATE && (prot & PROT_WRITE) &&
	    (acc != O_RDWR || (h->flags & O_APPEND)))
		return -EACCES;
	if ((r = to_memfd(h->n)) < 0)
		return r;
	return h->n->mfd;
}

/* An entry's type as getdents gives it: what fstat's mode says. */
static uint8_t
dirent_type(const struct node *n)
{
	switch (n->kind) {
	case DIRECTORY:
		return DT_DIR;
	case SYMLINK:
		return DT_LNK;
	case FIFO:
	case STREAM:
		return DT_FIFO;
	default:
		return DT_REG;
	}
}

/*
 * SYS_GETDENTS (scheme.h): the entries from the handle's position, as
 * many whole ones as fit, each with its type and inode number, so that
 * a program that wants only the files (find -type f, du) stats none of
 * them.  The position counts entries; lseek to 0 rewinds, as for a read
 * of the listing.  libscheme's table has no member for it (a new member
 * would change struct scheme_ops for programs built before): the loop
 * (serve_batch) answers it before scheme_dispatch.
 */
static int64_t
do_getdents(const struct scheme_packet *p)
{
	struct handle *h = get_io(p->b);
	bool with_stat = p->a == SYS_GETDENTS_STAT;
	char *buf = (char *)(uintptr_t)p->c;
	struct scheme_dirent *de;
	const struct node *kid;
	struct stat *st;
	size_t used = 0, i, k, rec;

	if (h == NULL)
		return -EBADF;
	if (h->n->kind != DIRECTORY)
		return -ENOTDIR;
	for (i = (size_t)h->pos; i < h->n->nkids; i++) {
		kid = h->n->kids[i].node;
		k = strlen(h->n->kids[i].name);
		rec = with_stat ? SCHEME_DIRENT_STAT_LEN(k)
				: SCHEME_DIRENT_LEN(k);
		if (rec > p->d - used)
			break;
		de = (struct scheme_dirent *)(buf + used);
		memset(de, 0, rec);
		de->ino = kid->ino;
		de->reclen = (uint16_t)rec;
		de->type = dirent_type(kid);
		memcpy(de->name, h->n->kids[i].name, k);
		if (with_stat) { /* a .stats says 0 bytes until opened */
			st = (struct stat *)((char *)de + SCHEME_DIRENT_LEN(k));
			node_stat(kid, 0, st);
		}
		used += rec;
	}
	if (used == 0 && i < h->n->nkids)
		return -EINVAL; /* not even the next one fits */
	h->pos = (off_t)i;
	return (int64_t)used;
}

/*
 * SYS_LOCK: with --own-locks, locks are ours to keep (memfs_locks.c);
 * without, -ENOSYS says so, and the system keeps them (scheme.h
 * "Locks").
 */
static int64_t
do_lock(void *ctx, const struct scheme_packet *p, uint64_t hn,
	struct scheme_lock *lk)
{
	struct handle *h = get(hn);
	bool named =
	    lk->cmd != SCHEME_LOCK_CANCEL && lk->cmd != SCHEME_LOCK_RELEASE_ALL;

	if (!own_locks)
		return -ENOSYS;
	if (named && h == NULL)
		return -EBADF;
	return ml_lock(p, named ? (uint64_t)h->n->ino : 0, lk, answer);
}

/*
 * --cache MS and --negative MS (SYS_FGRANT): how long clients may keep
 * stat answers, and ENOENTs.  1 s and none by default, as libfuse's
 * attr_timeout, entry_timeout and negative_timeout: a second is short
 * enough that another process's change is seen about as soon as on FUSE,
 * and long enough for a walk's stats to follow its listing.  An ENOENT
 * kept would hide a file another process has just made (a make waiting
 * for its compiler's output), so none is kept unless asked.
 */
static long cache_ms = 1000, negative_ms;

static int64_t
do_grant(void *ctx, const struct scheme_packet *p, uint64_t hn)
{
	return SCHEME_GRANT(cache_ms, negative_ms);
}

/* dup and fstatvfs are not served: NULL members say ENOSYS. */
static const struct scheme_ops memfs_ops = {
    .open = do_open,
    .read = do_read,
    .write = do_write,
    .lseek = do_seek,
    .fcntl = do_fcntl,
    .fevent = do_fevent,
    .fpath = do_fpath,
    .fstat = do_fstat,
    .fsync = do_fsync,
    .ftruncate = do_truncate,
    .fchmod = do_chmod,
    .fchown = do_chown,
    .frename = do_rename,
    .futimens = do_utimens,
    .unlink = do_unlink,
    .rmdir = do_rmdir,
    .close = do_close,
    .fmap = do_fmap,
    .read2 = do_read2,
    .write2 = do_write2,
    .fallocate = do_fallocate,
    .flink = do_link,
    .lock = do_lock,
    .grant = do_grant,
};

/* The answer to a request we kept. */
static void
answer(struct scheme_packet *p, int64_t result)
{
	p->a = (uint64_t)result;
	if (write(sfd, p, sizeof(*p)) != sizeof(*p))
		perror("scheme-memfs: write");
}

/*
 * scheme_serve(3) with SYS_GETDENTS answered too: one read of up to 64
 * requests, each answered (but those kept), the answers in one write.
 * Returns what scheme_serve does.
 */
static int
serve_batch(void)
{
	struct scheme_packet pkts[64];
	size_t n, out = 0;
	ssize_t r = read(sfd, pkts, sizeof(pkts));

	if (r <= 0)
		return (int)r;
	n = (size_t)r / sizeof(pkts[0]);
	for (size_t i = 0; i < n; i++) {
		if (pkts[i].a == SYS_GETDENTS || pkts[i].a == SYS_GETDENTS_STAT)
			pkts[i].a = (uint64_t)do_getdents(&pkts[i]);
		else if (scheme_dispatch(&memfs_ops, NULL, &pkts[i]) ==
			 SCHEME_DEFER)
			continue;
		pkts[out++] = pkts[i];
	}
	r = out > 0 ? write(sfd, pkts, out * sizeof(pkts[0])) : 0;
	if (r < 0 || (size_t)r != out * sizeof(pkts[0])) {
		errno = r < 0 ? errno : EIO;
		return -1;
	}
	return (int)n;
}

/* Requests waiting on the scheme fd, until EAGAIN; -1 when it ended. */
static int
serve_requests(void)
{
	int n;

	while ((n = serve_batch()) > 0)
		;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0)
		perror("scheme-memfs: serve");
	return -1; /* 0: the scheme was removed */
}

/* Main loops ------------------------------------------------------------ */

static void
loop_poll(void)
{
	for (;;) {
		struct pollfd pfd[2] = {{sfd, POLLIN, 0},
					{stop_pipe[0], POLLIN, 0}};

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return;
		if (pfd[1].revents)
			return; /* SIGTERM or SIGINT */
		if (pfd[0].revents && serve_requests() < 0)
			return;
	}
}

/* The timer produced data: a line in the stream, and a post. */
static void
tick(int tfd, struct node *stream)
{
	static unsigned long count;
	uint64_t expirations;
	char line[64];
	int n;

	if (read(tfd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	n = snprintf(line, sizeof(line), "tick %lu\n", ++count);
	if (append(stream, line, (size_t)n) == 0)
		post_read(stream);
}

/*
 * The Redox daemon loop: everything non-blocking in one event: queue; a
 * blocking read of the queue, then non-blocking reads of what it names
 * until EAGAIN (events are edges).
 */
static int
loop_events(long tick_ms, struct node *stream)
{
	struct timespec period = {tick_ms / 1000, (tick_ms % 1000) * 1000000L};
	struct itimerspec it = {period, period};
	struct scheme_event reg[3], ev[16];
	int q = open("event:", O_RDWR | O_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ssize_t n;

	if (q < 0 || tfd < 0 || timerfd_settime(tfd, 0, &it, NULL) < 0) {
		perror("scheme-memfs: event:");
		return 1;
	}
	reg[0] = (struct scheme_event){(uint64_t)sfd, EVENT_READ, 1};
	reg[1] = (struct scheme_event){(uint64_t)stop_pipe[0], EVENT_READ, 2};
	reg[2] = (struct scheme_event){(uint64_t)tfd, EVENT_READ, 3};
	if (write(q, reg, sizeof(reg)) != sizeof(reg)) {
		perror("scheme-memfs: event: registering");
		return 1;
	}
	for (;;) {
		n = read(q, ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			if (ev[i].data == 2)
				return 0; /* SIGTERM or SIGINT */
			if (ev[i].data == 3)
				tick(tfd, stream);
			if (ev[i].data == 1 && serve_requests() < 0)
				return 0;
		}
	}
}

static const char usage_text[] =
    "usage: scheme-memfs [--events [--tick MS]] [--no-map] [--own-locks]\n"
    "                    [--cache MS] [--negative MS] [NAME]\n"
    "\n"
    "Serve the scheme NAME (default hello): files and directories kept in\n"
    "memory, NAME:world to start with.  Run it under schemerun:\n"
    "\n"
    "  schemerun scheme-memfs &\n"
    "  schemerun cat hello:world\n"
    "\n"
    "  --events       wait in an event: queue, as a Redox daemon does\n"
    "  --tick MS      with --events, a line into NAME:stream every MS\n"
    "                 milliseconds (default 200)\n"
    "  --no-map       answer no SYS_FMAP: clients map private copies\n"
    "  --own-locks    keep file locks here (SYS_LOCK), not in the system\n"
    "  --cache MS     clients may keep stat answers MS milliseconds\n"
    "                 (default 1000; 0: never)\n"
    "  --negative MS  and ENOENT answers (default 0)\n"
    "  -h, --help     print this and exit\n"
    "  -V, --version  print the version and exit\n";

/* What is wrong, in one line, and exit status 2. */
static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("scheme-memfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see 'scheme-memfs --help')\n", stderr);
	va_end(ap);
	exit(2);
}

/* A grant's milliseconds: 0 to SCHEME_GRANT_MAX_MS. */
static long
ms_arg(const char *opt)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(optarg, &end, 10);
	if (errno || end == optarg || *end || v < 0 || v > SCHEME_GRANT_MAX_MS)
		usage_error("%s: '%s' is not a number of milliseconds up to "
			    "%d",
			    opt, optarg, SCHEME_GRANT_MAX_MS);
	return v;
}

/*
 * What getopt_long() refused (opterr is 0: no message of its own).  optopt
 * is 0 for an unknown long option, else the letter: of an unknown short
 * one, or of a long one given a value it does not take ("--help=x").
 */
static void
bad_option(char **argv, int ch, const struct option *opts)
{
	const char *arg = argv[optind - 1], *eq = strchr(arg, '=');

	if (ch == ':')
		usage_error("option '%s' needs a value", arg);
	if (optopt == 0)
		usage_error("unknown option '%s'", arg);
	for (; eq != NULL && strncmp(arg, "--", 2) == 0 && opts->name; opts++)
		if (opts->val == optopt &&
		    strncmp(opts->name, arg + 2, (size_t)(eq - arg - 2)) == 0)
			usage_error("option '--%s' takes no value", opts->name);
	usage_error("unknown option '-%c'", optopt);
}

/* The command line; returns the scheme's name. */
static const char *
parse_args(int argc, char **argv, int *events, long *tick_ms)
{
	static const struct option opts[] = {
	    {"events", no_argument, NULL, 'e'},
	    {"tick", required_argument, NULL, 't'},
	    {"no-map", no_argument, NULL, 'm'},
	    {"own-locks", no_argument, NULL, 'l'},
	    {"cache", required_argument, NULL, 'c'},
	    {"negative", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	opterr = 0; /* getopt's own message would make a second line */
	while ((ch = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		if (ch == 'e') {
			*events = 1;
		} else if (ch == 'm') {
			no_map = 1;
		} else if (ch == 'l') {
			own_locks = 1;
		} else if (ch == 'c' || ch == 'n') {
			*(ch == 'c' ? &cache_ms : &negative_ms) =
			    ms_arg(ch == 'c' ? "--cache" : "--negative");
		} else if (ch == 't') {
			errno = 0;
			*tick_ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || *tick_ms <= 0 ||
			    *tick_ms > 86400000)
				usage_error("--tick: '%s' is not a number of "
					    "milliseconds",
					    optarg);
		} else if (ch == 'h' || ch == 'V') {
			if (ch == 'h')
				fputs(usage_text, stdout);
			else
				printf("scheme-memfs (scheme) %s\n",
				       SCHEME_VERSION);
			exit(fflush(stdout) == 0 ? 0 : 1);
		} else {
			bad_option(argv, ch, opts);
		}
	}
	if (argc - optind > 1)
		usage_error("unexpected argument '%s': one NAME at most",
			    argv[optind + 1]);
	return optind < argc ? argv[optind] : "hello";
}

/* The root and the special files at the top. */
static struct node *
populate(void)
{
	struct node *f, *stream;

	if ((root = node_new("", DIRECTORY, 0755, getuid(), getgid())) == NULL)
		return NULL;
	root->ino = 1;
	if ((f = mknode(root, "world", REGULAR, 0644, getuid(), getgid())) ==
		NULL ||
	    append(f, "Hello, world!\n", 14) < 0 ||
	    mknode(root, "fifo", FIFO, 0666, getuid(), getgid()) == NULL ||
	    mknode(root, ".stats", STATS, 0444, getuid(), getgid()) == NULL)
		return NULL;
	stream = mknode(root, "stream", STREAM, 0666, getuid(), getgid());
	return stream;
}

int
main(int argc, char **argv)
{
	struct node *stream;
	long tick_ms = 200;
	int events = 0, r = 0;

	scheme = parse_args(argc, argv, &events, &tick_ms);
	if ((stream = populate()) == NULL) {
		fprintf(stderr, "scheme-memfs: out of memory\n");
		return 1;
	}
	/*
	 * The stop is caught before the scheme exists: whoever started us
	 * may send SIGTERM as soon as it sees the scheme (test/harness.c),
	 * and must see a clean exit then.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return 1;
	sigaction(SIGTERM, &(struct sigaction){.sa_handler = on_term}, NULL);
	sigaction(SIGINT, &(struct sigaction){.sa_handler = on_term}, NULL);
	sfd = scheme_create(scheme, O_NONBLOCK);
	if (sfd < 0) {
		if (errno == ENOSYS)
			fprintf(stderr,
				"scheme-memfs: schemes need the preload: "
				"run it as 'schemerun scheme-memfs'\n");
		else
			fprintf(stderr, "scheme-memfs: cannot create :%s: %s\n",
				scheme, strerror(errno));
		tree_free(root);
		return 1;
	}
	if (events)
		r = loop_events(tick_ms, stream);
	else
		loop_poll();
	close(sfd);
	for (uint64_t h = 0; h < handles_hwm; h++)
		close_handle(h); /* frees what is out of the tree */
	tree_free(root);
	return r; /* stopped, or the scheme was removed */
}
