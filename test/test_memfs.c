/*
 * test_memfs.c - scheme-memfs's permission checks, against the kernel's.
 *
 * Each case builds the same small tree twice, as root: in a directory on
 * disk and in a directory of memfs (/scheme/perm/tPID), with the same
 * kinds, modes, owners and groups.  Then a child of the test becomes
 * another user (nobody, with the groups the case gives it), or stays
 * root, and makes the same calls on both trees: each call must answer on
 * memfs what the kernel answers on disk, and what the case expects.
 * What the calls made (owners, groups, modes) is compared afterwards, as
 * root.
 *
 * The suite runs under the preload, as root (CI does): without root it
 * cannot become another user, and says so and passes.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534 /* uid, and the gid of nogroup */
#define G1     4242  /* groups nobody is in only when a case says so */
#define G2     4343
#define KEEP   ((unsigned)-1)

static char disk[256], mem[256]; /* this case's two trees */

/* Who the child is: nobody with these groups, or root (uid 0). */
static uid_t as_uid;
static gid_t as_gid, as_groups[4];
static int as_ngroups;

static void
start_world(void)
{
	char *extra[] = {(char *)"--group", (char *)"nogroup", NULL};
	char d[300];

	if (geteuid() != 0)
		return; /* nobody to become: every case says so and passes */
	h_setup_env();
	chmod(h_dir(), 0711); /* nobody reaches the socket and the disk */
	snprintf(d, sizeof(d), "%s/disk", h_dir());
	mkdir(d, 0755);
	if ((h_broker = h_start_broker_with(extra)) < 0 ||
	    (h_memfs = h_start_memfs("perm")) < 0)
		abort();
}

static void
setup(void)
{
	if (geteuid() != 0)
		return;
	umask(022);
	snprintf(disk, sizeof(disk), "%s/disk/t%d", h_dir(), (int)getpid());
	snprintf(mem, sizeof(mem), "/scheme/perm/t%d", (int)getpid());
	ck_assert_int_eq(mkdir(disk, 0755), 0);
	ck_assert_int_eq(mkdir(mem, 0755), 0);
}

/* dir/rel, in one of a few buffers: a call may name four paths. */
static const char *
in(const char *dir, const char *rel)
{
	static char buf[4][512];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, rel);
	return b;
}

/*
 * rel in both trees, as root: a directory if mode says S_IFDIR, else a
 * file holding "x\n"; then its owner and mode (in that order: a chown
 * would take set-user-ID away).
 */
static void
make(const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
	const char *dirs[2] = {disk, mem};
	const char *p;
	int fd;

	for (int i = 0; i < 2; i++) {
		p = in(dirs[i], rel);
		if (S_ISDIR(mode)) {
			ck_assert_msg(mkdir(p, 0700) == 0, "mkdir %s: %s", p,
				      strerror(errno));
		} else {
			fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
			ck_assert_msg(fd >= 0, "%s: %s", p, strerror(errno));
			ck_assert_int_eq(write(fd, "x\n", 2), 2);
			close(fd);
		}
		ck_assert_int_eq(chown(p, uid, gid), 0);
		ck_assert_int_eq(chmod(p, mode & 07777), 0);
	}
}

/*
 * rel has the same owner, group, mode and (a file) size in both trees,
 * and the owner, group and mode given (mode: the permission bits and the
 * set-ID and sticky bits).
 */
static void
same_stat(const char *rel, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat a, b;

	ck_assert_int_eq(stat(in(disk, rel), &a), 0);
	ck_assert_int_eq(stat(in(mem, rel), &b), 0);
	ck_assert_msg(a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
			  a.st_mode == b.st_mode &&
			  (S_ISDIR(a.st_mode) || a.st_size == b.st_size),
		      "%s: on disk %u:%u %o size %ld, on memfs %u:%u %o size "
		      "%ld",
		      rel, a.st_uid, a.st_gid, a.st_mode, (long)a.st_size,
		      b.st_uid, b.st_gid, b.st_mode, (long)b.st_size);
	ck_assert_uint_eq(a.st_uid, uid);
	ck_assert_uint_eq(a.st_gid, gid);
	ck_assert_uint_eq(a.st_mode & 07777, mode);
}

/* Calls, each 0 or -errno ---------------------------------------------- */

static int
ret(int r)
{
	return r < 0 ? -errno : 0;
}

static int
op_open(const char *p, long flags)
{
	int fd = open(p, (int)flags | O_CLOEXEC, 0666);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* An open with O_CREAT and this mode. */
static int
op_create(const char *p, long mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, (mode_t)mode);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* An open with these flags, then ftruncate. */
static int
op_ftruncate(const char *p, long flags)
{
	int fd = open(p, (int)flags | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = ret(ftruncate(fd, 0));
	close(fd);
	return r;
}

/* An open for writing, a chmod to 0444, then ftruncate. */
static int
op_ftruncate_later(const char *p, long unused)
{
	int fd = open(p, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = ret(fchmod(fd, 0444));
	if (r == 0)
		r = ret(ftruncate(fd, 0));
	close(fd);
	return r;
}

static int
op_truncate(const char *p, long len)
{
	return ret(truncate(p, (off_t)len));
}

static int
op_mkdir(const char *p, long mode)
{
	return ret(mkdir(p, (mode_t)mode));
}

static int
op_unlink(const char *p, long unused)
{
	return ret(unlink(p));
}

static int
op_rmdir(const char *p, long unused)
{
	return ret(rmdir(p));
}

static int
op_stat(const char *p, long unused)
{
	struct stat st;

	return ret(stat(p, &st));
}

static int
op_chmod(const char *p, long mode)
{
	return ret(chmod(p, (mode_t)mode));
}

static int
op_chown(const char *p, long uid)
{
	return ret(chown(p, (uid_t)uid, (gid_t)-1));
}

static int
op_chgrp(const char *p, long gid)
{
	return ret(chown(p, (uid_t)-1, (gid_t)gid));
}

/* utimensat to now (explicit 0), or to given times. */
static int
op_utimes(const char *p, long explicit)
{
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};

	return ret(utimensat(AT_FDCWD, p, explicit ? ts : NULL, 0));
}

static const char *
err(int r)
{
	return r == 0 ? "0" : strerrorname_np(-r);
}

/* In the child: the kernel and memfs agree, and say what the case wants. */
static void
agree(int line, const char *what, int want, int on_disk, int on_memfs)
{
	if (on_disk == want && on_memfs == want)
		return;
	fprintf(stderr,
		"test_memfs.c:%d: %s as %u: want %s; the kernel says %s, memfs "
		"%s\n",
		line, what, (unsigned)geteuid(), err(want), err(on_disk),
		err(on_memfs));
	_exit(1);
}

#define AGREE(want, op, rel, arg)                                              \
	agree(__LINE__, #op " " rel, want, op(in(disk, rel), arg),             \
	      op(in(mem, rel), arg))
#define AGREE_RENAME(want, from, to)                                           \
	agree(__LINE__, "rename " from " " to, want,                           \
	      ret(rename(in(disk, from), in(disk, to))),                       \
	      ret(rename(in(mem, from), in(mem, to))))

#define AGREE_LINK(want, from, to)                                             \
	agree(__LINE__, "link " from " " to, want,                             \
	      ret(link(in(disk, from), in(disk, to))),                         \
	      ret(link(in(mem, from), in(mem, to))))

/*
 * Run fn in a child as nobody, with primary group gid and the
 * supplementary groups given (n of them; nogroup among them lets the
 * child use the broker, which admits only that group besides root).
 */
static void
as_nobody(void (*fn)(void), gid_t gid, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		as_groups[i] = va_arg(ap, gid_t);
	va_end(ap);
	as_ngroups = n;
	as_gid = gid;
	as_uid = NOBODY;
	h_in_child(fn);
}

/* In the child: become who as_nobody() said. */
static void
become(void)
{
	if (as_uid == 0)
		return;
	EXPECT(setgroups((size_t)as_ngroups, as_groups) == 0);
	EXPECT(setgid(as_gid) == 0);
	EXPECT(setuid(as_uid) == 0);
}

#define NEEDS_ROOT()                                                           \
	do {                                                                   \
		if (geteuid() != 0) {                                          \
			fprintf(stderr, "%s: not root, skipped\n", __func__);  \
			return;                                                \
		}                                                              \
	} while (0)

/* Cases ----------------------------------------------------------------- */

static void
others_file_child(void)
{
	become();
	AGREE(0, op_open, "f", O_RDONLY);
	AGREE(-EACCES, op_open, "f", O_WRONLY);
	AGREE(-EACCES, op_open, "f", O_RDWR);
	AGREE(-EACCES, op_open, "f", O_RDONLY | O_TRUNC);
	AGREE(-EACCES, op_open, "f", O_WRONLY | O_CREAT);
	AGREE(-EACCES, op_truncate, "f", 0);
	AGREE(-EACCES, op_open, "secret", O_RDONLY);
	AGREE(0, op_stat, "secret", 0);
	/* The owner's bits, even when others may more. */
	AGREE(-EACCES, op_open, "mine", O_RDONLY);
	AGREE(0, op_open, "mine", O_WRONLY);
}

/* Root's 0644 file: nobody reads it and may not write or empty it. */
START_TEST(others_file_is_read_only)
{
	NEEDS_ROOT();
	make("f", 0644, 0, 0);
	make("secret", 0640, 0, 0);
	make("mine", 0266, NOBODY, NOBODY);
	as_nobody(others_file_child, NOBODY, 1, NOBODY);
	same_stat("f", 0, 0, 0644);
}
END_TEST

static void
create_child(void)
{
	become();
	umask(022);
	AGREE(-EACCES, op_create, "ro/new", 0666);
	AGREE(-EACCES, op_mkdir, "ro/sub", 0777);
	AGREE(-EACCES, op_unlink, "ro/f", 0);
	AGREE(-EACCES, op_rmdir, "ro/d", 0);
	AGREE(-EEXIST, op_mkdir, "ro/d", 0777); /* no rights needed */
	AGREE(0, op_create, "rw/new", 0666);
	AGREE(0, op_create, "rw/ro", 0444); /* made writable by its maker */
	AGREE(0, op_mkdir, "rw/sub", 01777);
	AGREE(0, op_unlink, "rw/f", 0); /* root's, in a directory of all */
	AGREE(0, op_rmdir, "rw/d", 0);
}

/* Making and removing names needs write permission on the directory. */
START_TEST(create_needs_a_writable_directory)
{
	NEEDS_ROOT();
	make("ro", S_IFDIR | 0755, 0, 0);
	make("ro/f", 0666, 0, 0);
	make("ro/d", S_IFDIR | 0777, 0, 0);
	make("rw", S_IFDIR | 0777, 0, 0);
	make("rw/f", 0644, 0, 0);
	make("rw/d", S_IFDIR | 0755, 0, 0);
	as_nobody(create_child, NOBODY, 1, NOBODY);
	same_stat("rw/new", NOBODY, NOBODY, 0644); /* the caller's, umask */
	same_stat("rw/ro", NOBODY, NOBODY, 0444);
	same_stat("rw/sub", NOBODY, NOBODY, 01755);
}
END_TEST

static void
sticky_child(void)
{
	become();
	AGREE(-EPERM, op_unlink, "tmp/roots", 0);
	AGREE_RENAME(-EPERM, "tmp/roots", "tmp/moved");
	AGREE_RENAME(-EPERM, "tmp/mine", "tmp/roots");
	AGREE(-EPERM, op_rmdir, "tmp/rootdir", 0);
	AGREE(0, op_open, "tmp/roots", O_WRONLY); /* writing is not deleting */
	AGREE_RENAME(0, "tmp/mine", "tmp/mine2");
	AGREE(0, op_unlink, "tmp/mine2", 0);
	AGREE(0, op_unlink, "ours/roots", 0); /* the directory's owner may */
}

/*
 * In a sticky directory (/tmp) only a name's owner, the directory's
 * owner or root takes a name out.
 */
START_TEST(sticky_directory)
{
	NEEDS_ROOT();
	make("tmp", S_IFDIR | 01777, 0, 0);
	make("tmp/roots", 0666, 0, 0);
	make("tmp/mine", 0600, NOBODY, NOBODY);
	make("tmp/rootdir", S_IFDIR | 0777, 0, 0);
	make("ours", S_IFDIR | 01777, NOBODY, NOBODY);
	make("ours/roots", 0600, 0, 0);
	as_nobody(sticky_child, NOBODY, 1, NOBODY);
	same_stat("tmp/roots", 0, 0, 0666);
}
END_TEST

static void
member_child(void)
{
	become();
	AGREE(0, op_open, "g", O_RDWR);
	AGREE(0, op_create, "gd/new", 0600);
	/* The group's bits, even when others may more. */
	AGREE(-EACCES, op_open, "notg", O_RDONLY);
}

static void
stranger_child(void)
{
	become();
	AGREE(-EACCES, op_open, "g", O_RDONLY);
	AGREE(-EACCES, op_create, "gd/new2", 0600);
	AGREE(0, op_open, "notg", O_RDWR);
}

/*
 * The group's bits apply to a caller whose gid or one of whose
 * supplementary groups is the file's; memfs reads those from /proc.
 */
START_TEST(supplementary_groups_count)
{
	NEEDS_ROOT();
	make("g", 0660, 0, G1);
	make("gd", S_IFDIR | 0770, 0, G1);
	make("notg", 0606, 0, G1);
	as_nobody(member_child, NOBODY, 2, NOBODY, G1); /* supplementary */
	as_nobody(member_child, G1, 1, NOBODY);		/* primary */
	as_nobody(stranger_child, NOBODY, 2, NOBODY, G2);
	same_stat("gd/new", NOBODY, NOBODY, 0600);
}
END_TEST

static void
chmod_child(void)
{
	become();
	AGREE(-EPERM, op_chmod, "roots", 0666);
	AGREE(-EPERM, op_chmod, "rw",
	      0644); /* write permission is not enough */
	AGREE(0, op_chmod, "mine", 0600);
	AGREE(0, op_chmod, "mine-g", 02755);	/* its group is his */
	AGREE(0, op_chmod, "mine-notg", 02755); /* set-group-ID dropped */
	AGREE(0, op_chmod, "mine-dir", 01777);
}

/* Only the owner (and root) changes a mode. */
START_TEST(chmod_by_the_owner)
{
	NEEDS_ROOT();
	make("roots", 0644, 0, 0);
	make("rw", 0666, 0, 0);
	make("mine", 0644, NOBODY, NOBODY);
	make("mine-g", 0755, NOBODY, G1);
	make("mine-notg", 0755, NOBODY, G2);
	make("mine-dir", S_IFDIR | 0755, NOBODY, NOBODY);
	as_nobody(chmod_child, NOBODY, 2, NOBODY, G1);
	same_stat("roots", 0, 0, 0644);
	same_stat("mine", NOBODY, NOBODY, 0600);
	same_stat("mine-g", NOBODY, G1, 02755);
	same_stat("mine-notg", NOBODY, G2, 0755);
	same_stat("mine-dir", NOBODY, NOBODY, 01777);
}
END_TEST

static void
chown_child(void)
{
	become();
	AGREE(-EPERM, op_chown, "mine", 0);	  /* giving away */
	AGREE(-EPERM, op_chown, "roots", NOBODY); /* taking */
	AGREE(-EPERM, op_chgrp, "roots", NOBODY);
	AGREE(0, op_chown, "mine", NOBODY); /* to himself: no change */
	AGREE(0, op_chgrp, "mine", G1);	    /* one of his groups */
	AGREE(-EPERM, op_chgrp, "mine", G2);
	AGREE(0, op_chgrp, "suid", G1);	 /* takes set-user-ID away */
	AGREE(0, op_chown, "suid2", -1); /* so does chown(f, -1, -1) */
	AGREE(-EPERM, op_chown, "roots-suid", -1); /* a chmod: not his */
	AGREE(0, op_chown, "roots", -1);
}

/* Only root gives files away; the owner changes the group to his own. */
START_TEST(chown_by_root_chgrp_by_the_owner)
{
	NEEDS_ROOT();
	make("mine", 0644, NOBODY, NOBODY);
	make("roots", 0666, 0, 0);
	make("suid", 04755, NOBODY, NOBODY);
	make("suid2", 04755, NOBODY, NOBODY);
	make("roots-suid", 04755, 0, 0);
	as_nobody(chown_child, NOBODY, 2, NOBODY, G1);
	same_stat("mine", NOBODY, G1, 0644);
	same_stat("roots", 0, 0, 0666);
	same_stat("suid", NOBODY, G1, 0755);
	same_stat("suid2", NOBODY, NOBODY, 0755);
	same_stat("roots-suid", 0, 0, 04755);
}
END_TEST

static void
root_child(void)
{
	AGREE(0, op_open, "none", O_RDWR);
	AGREE(0, op_create, "closed/new", 0600);
	AGREE(0, op_open, "closed/f", O_RDWR);
	AGREE(0, op_mkdir, "ro/sub", 0755);
	AGREE(0, op_unlink, "tmp/theirs", 0);
	AGREE(0, op_chmod, "none", 0640);
	AGREE(0, op_chown, "none", G2);
	AGREE(0, op_utimes, "none", 1);
}

/* Root reads, writes and searches anything, in sticky directories too. */
START_TEST(root_may_do_anything)
{
	NEEDS_ROOT();
	make("none", 0, NOBODY, NOBODY);
	make("closed", S_IFDIR | 0, NOBODY, NOBODY);
	make("closed/f", 0, NOBODY, NOBODY);
	make("ro", S_IFDIR | 0555, NOBODY, NOBODY);
	make("tmp", S_IFDIR | 01777, NOBODY, NOBODY);
	make("tmp/theirs", 0600, NOBODY, NOBODY);
	as_uid = 0;
	h_in_child(root_child);
	same_stat("none", G2, NOBODY, 0640);
}
END_TEST

static void
search_child(void)
{
	become();
	AGREE(-EACCES, op_open, "d/f", O_RDONLY);
	AGREE(-EACCES, op_stat, "d/f", 0);
	AGREE(-EACCES, op_create, "d/sub/new", 0666);
	AGREE(-EACCES, op_unlink, "d/f", 0);
	AGREE(-EACCES, op_open, "d/sub/../f", O_RDONLY);
	AGREE(0, op_stat, "d", 0);
	AGREE(0, op_open, "x/f", O_RDONLY); /* search without read: fine */
	AGREE(-EACCES, op_open, "r/f", O_RDONLY); /* read without search */
}

/* A directory the caller may not search hides what is beneath it. */
START_TEST(search_permission_on_the_way)
{
	NEEDS_ROOT();
	make("d", S_IFDIR | 0700, 0, 0);
	make("d/f", 0666, 0, 0);
	make("d/sub", S_IFDIR | 0777, 0, 0);
	make("x", S_IFDIR | 0711, 0, 0);
	make("x/f", 0644, 0, 0);
	make("r", S_IFDIR | 0744, 0, 0);
	make("r/f", 0644, 0, 0);
	as_nobody(search_child, NOBODY, 1, NOBODY);
}
END_TEST

static void
utimes_child(void)
{
	become();
	AGREE(0, op_utimes, "rw", 0);	   /* to now: writers may */
	AGREE(-EPERM, op_utimes, "rw", 1); /* to a time: the owner */
	AGREE(-EACCES, op_utimes, "ro", 0);
	AGREE(-EPERM, op_utimes, "ro", 1);
	AGREE(0, op_utimes, "mine", 1);
}

START_TEST(utimes_rules)
{
	NEEDS_ROOT();
	make("rw", 0666, 0, 0);
	make("ro", 0644, 0, 0);
	make("mine", 0400, NOBODY, NOBODY);
	as_nobody(utimes_child, NOBODY, 1, NOBODY);
}
END_TEST

static void
truncate_child(void)
{
	become();
	AGREE(-EINVAL, op_ftruncate, "f", O_RDONLY); /* a read-only fd */
	AGREE(0, op_ftruncate, "f", O_WRONLY);
	AGREE(0, op_ftruncate_later, "ro-later", 0);
}

/*
 * ftruncate needs an fd opened for writing; what was allowed at open
 * stays allowed, as on Linux, whatever the mode becomes.
 */
START_TEST(ftruncate_needs_a_writable_fd)
{
	NEEDS_ROOT();
	make("f", 0666, 0, 0);
	make("ro-later", 0644, NOBODY, NOBODY);
	as_nobody(truncate_child, NOBODY, 1, NOBODY);
	same_stat("ro-later", NOBODY, NOBODY, 0444);
}
END_TEST

static void
setgid_child(void)
{
	become();
	umask(0);
	AGREE(0, op_create, "sg/f", 0664);
	AGREE(0, op_mkdir, "sg/d", 0775);
	AGREE(0, op_create, "sg/run", 02775); /* runs as a group not his */
}

/* A set-group-ID directory gives its group to what is made in it. */
START_TEST(setgid_directory)
{
	NEEDS_ROOT();
	make("sg", S_IFDIR | 02777, 0, G1);
	as_nobody(setgid_child, NOBODY, 1, NOBODY);
	same_stat("sg/f", NOBODY, G1, 0664);
	same_stat("sg/d", NOBODY, G1, 02775);
	same_stat("sg/run", NOBODY, G1, 0775);
}
END_TEST

static void
rename_child(void)
{
	become();
	AGREE_RENAME(-EACCES, "a/mine", "b/mine"); /* b is not his */
	AGREE_RENAME(-EACCES, "b/roots", "a/roots");
	AGREE_RENAME(-EACCES, "a/rootdir", "c/rootdir"); /* its ".." */
	AGREE_RENAME(0, "a/rootdir", "a/samedir");
	AGREE_RENAME(0, "a/mine", "c/mine");
}

/* rename takes a name out of one directory and puts one in another. */
START_TEST(rename_needs_both_directories)
{
	NEEDS_ROOT();
	make("a", S_IFDIR | 0777, 0, 0);
	make("b", S_IFDIR | 0755, 0, 0);
	make("c", S_IFDIR | 0777, 0, 0);
	make("a/mine", 0644, NOBODY, NOBODY);
	make("b/roots", 0644, 0, 0);
	make("a/rootdir", S_IFDIR | 0755, 0, 0);
	as_nobody(rename_child, NOBODY, 1, NOBODY);
	same_stat("c/mine", NOBODY, NOBODY, 0644);
	same_stat("a/samedir", 0, 0, 0755);
}
END_TEST

/*
 * A hard link is a create in the new directory (write and search on it),
 * of a file that is not a directory.  Only nobody's own file is linked:
 * the disk's fs.protected_hardlinks, which memfs has not, refuses the
 * others'.
 */
static void
link_child(void)
{
	become();
	AGREE_LINK(-EACCES, "a/mine", "b/mine"); /* b is not his */
	AGREE_LINK(-EACCES, "a/mine", "x/mine"); /* x: no search */
	AGREE_LINK(-EEXIST, "a/mine", "c/there");
	AGREE_LINK(-ENOENT, "a/none", "c/none");
	AGREE_LINK(-EPERM, "a/mydir", "c/mydir");
	AGREE_LINK(0, "a/mine", "c/mine");
	AGREE(0, op_unlink, "a/mine", 0);
	AGREE_LINK(0, "c/mine", "a/again");
}

START_TEST(link_needs_a_writable_directory)
{
	struct stat a, b;

	NEEDS_ROOT();
	make("a", S_IFDIR | 0777, 0, 0);
	make("b", S_IFDIR | 0755, 0, 0);
	make("c", S_IFDIR | 0777, 0, 0);
	make("x", S_IFDIR | 0776, 0, 0);
	make("a/mine", 0644, NOBODY, NOBODY);
	make("a/mydir", S_IFDIR | 0755, NOBODY, NOBODY);
	make("c/there", 0644, 0, 0);
	as_nobody(link_child, NOBODY, 1, NOBODY);
	same_stat("c/mine", NOBODY, NOBODY, 0644);
	ck_assert_int_eq(stat(in(disk, "c/mine"), &a), 0);
	ck_assert_int_eq(stat(in(mem, "a/again"), &b), 0);
	ck_assert_uint_eq(a.st_nlink, 2);
	ck_assert_uint_eq(b.st_nlink, 2);
	ck_assert_int_eq(stat(in(mem, "c/mine"), &a), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
}
END_TEST

static Suite *
memfs_suite(void)
{
	Suite *s = suite_create("memfs");
	TCase *tc = tcase_create("permissions");

	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, others_file_is_read_only);
	tcase_add_test(tc, create_needs_a_writable_directory);
	tcase_add_test(tc, sticky_directory);
	tcase_add_test(tc, supplementary_groups_count);
	tcase_add_test(tc, chmod_by_the_owner);
	tcase_add_test(tc, chown_by_root_chgrp_by_the_owner);
	tcase_add_test(tc, root_may_do_anything);
	tcase_add_test(tc, search_permission_on_the_way);
	tcase_add_test(tc, utimes_rules);
	tcase_add_test(tc, ftruncate_needs_a_writable_fd);
	tcase_add_test(tc, setgid_directory);
	tcase_add_test(tc, rename_needs_both_directories);
	tcase_add_test(tc, link_needs_a_writable_directory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(memfs_suite());
}
