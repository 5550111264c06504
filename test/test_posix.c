/*
 * test_posix.c - file-system semantics, call by call and errno by errno,
 * as the POSIX and Linux manual pages state them.
 *
 * Each case is a function making real calls in a directory and saying,
 * for each, which answers the manual page allows (WANT: success, or -1
 * with one of the errnos listed; IS: a value).  The page a rule comes
 * from is named in a comment.  The expectation is the manual's, never
 * "whatever the disk does": a case that fails on disk is wrong (or the
 * machine is odd), one that fails on the scheme is a bug of ours.
 *
 * Every case runs four times, each in a fresh directory: on disk (under
 * the suite's directory in /tmp) and on scheme-memfs (/scheme/px/...),
 * as root and as nobody (uid 65534, groups nogroup only), in a child of
 * the test under the preload.  The directory belongs to the user the
 * case runs as; a case's optional prep function runs first as root in
 * the same directory, to leave there what belongs to root.  A second
 * directory, `other`, is on the other side (the scheme for a disk run,
 * the disk for a scheme run) for what crosses file systems (EXDEV).
 *
 * Where disk and a scheme may legitimately answer differently (what
 * README.md or scheme(7) says a scheme does not have, such as fifos),
 * the case lists every allowed answer and says why.  A case known to
 * fail on the scheme is listed in known_divergent[] with the reason: it
 * still runs, its failure is printed and does not fail the suite, and
 * the day it passes the suite fails until the list loses it.
 *
 * Without root the nobody runs are skipped, and so are the cases that
 * prepare files of root's (each says so); the "root" runs are then the
 * caller's, and the expectations that depend on root's privileges follow
 * geteuid().
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534
#define SCHEME "px"

enum { AS_ROOT, AS_NOBODY };
enum { ON_DISK, ON_SCHEME };
static const char *const user_name[] = {"root", "nobody"};
static const char *const side_name[] = {"disk", "scheme"};

/* Where a run is, and who runs it (in the child). */
static struct {
	const char *name;
	char dir[256], other[256];
	int user, side;
	bool root;
	int checks, fails;
} x;

/* Counts over the whole run, shared by the forked cases. */
static struct tally {
	int checks[2][2], fails[2][2], runs[2][2];
	int known;
} * tally;

/* The case's directory/rel (P) or the other side's (Q), in one of 8. */
static const char *
path_in(const char *base, const char *rel)
{
	static char buf[8][8192];
	static unsigned k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), "%s/%s", base, rel);
	return b;
}
#define P(rel) path_in(x.dir, rel)
#define Q(rel) path_in(x.other, rel)

static void __attribute__((format(printf, 2, 3)))
fail_at(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test_posix.c:%d: %s on %s as %s: ", line, x.name,
		side_name[x.side], user_name[x.user]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	x.fails++;
}

static const char *
ename(int e)
{
	const char *n = e == 0 ? "success" : strerrorname_np(e);

	return n != NULL ? n : "?";
}

/* The call returned r with errno e: one of the allowed answers? */
static void
want(int line, const char *call, long r, int e, const int *allowed)
{
	char list[256] = "";
	int i;

	x.checks++;
	for (i = 0; allowed[i] >= 0; i++) {
		if (allowed[i] == 0 ? r >= 0 : r == -1 && e == allowed[i])
			return;
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? " or " : "", ename(allowed[i]));
	}
	fail_at(line, "%s: want %s, got %s", call, list,
		r >= 0 ? "success" : ename(e));
}

/*
 * WANT(call, answers...): 0 is success (a result >= 0), an errno is -1
 * with that errno.
 */
#define WANT(call, ...)                                                        \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		want(__LINE__, #call, r_, errno,                               \
		     (const int[]){__VA_ARGS__, -1});                          \
	} while (0)

/* IS(cond, what it shows...): a value the manual gives. */
#define IS(cond, ...)                                                          \
	do {                                                                   \
		x.checks++;                                                    \
		if (!(cond)) {                                                 \
			fail_at(__LINE__, "not " #cond ": " __VA_ARGS__);      \
		}                                                              \
	} while (0)

/* What a case needs to go on with: else the run fails here. */
#define NEED(cond)                                                             \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fail_at(__LINE__, "setup: " #cond " (%s)",             \
				strerror(errno));                              \
			return;                                                \
		}                                                              \
	} while (0)

/* Helpers: each 0 or -1 with errno, closing what they open. --------- */

static int
o(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0666);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A file holding s (created or truncated). */
static int
put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* The file's first bytes (up to 255) as a string, or "<errno name>". */
static const char *
get(const char *path)
{
	static char buf[4][256];
	static unsigned k;
	char *b = buf[k++ % 4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, 255);

	if (n < 0)
		snprintf(b, 256, "<%s>", ename(errno));
	else
		b[n] = '\0';
	if (fd >= 0)
		close(fd);
	return b;
}

static long
size_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 ? -1 : (long)st.st_size;
}

static long
nlink_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 ? -1 : (long)st.st_nlink;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 ? 0 : st.st_mode;
}

static const char *
long_name(size_t n)
{
	static char b[300];

	memset(b, 'n', n);
	b[n] = '\0';
	return b;
}

/* A time in the past, set on path, so that any change shows. */
static int
age(const char *path)
{
	struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

static bool
newer(const struct timespec *t, time_t than)
{
	return t->tv_sec > than;
}

/* The cases ---------------------------------------------------------------
 * open(2)
 */

static void
open_missing(void)
{
	/* open(2) ENOENT: O_CREAT not set and the file does not exist. */
	WANT(o(P("none"), O_RDONLY), ENOENT);
	/* ENOENT: a directory component does not exist. */
	WANT(o(P("none/f"), O_WRONLY | O_CREAT), ENOENT);
	WANT(o(P("none/f"), O_RDONLY), ENOENT);
	/* stat(2) ENOENT likewise. */
	struct stat st;
	WANT(stat(P("none"), &st), ENOENT);
}

static void
open_excl(void)
{
	NEED(put(P("f"), "x") == 0);
	NEED(symlink("nowhere", P("dangling")) == 0);
	/* open(2) EEXIST: pathname already exists, O_CREAT and O_EXCL. */
	WANT(o(P("f"), O_WRONLY | O_CREAT | O_EXCL), EEXIST);
	WANT(o(P("."), O_RDONLY | O_CREAT | O_EXCL), EEXIST, EISDIR);
	/* "If pathname is a symbolic link, open fails regardless of
	 * where the link points": the dangling target is not made. */
	WANT(o(P("dangling"), O_WRONLY | O_CREAT | O_EXCL), EEXIST);
	WANT(lstat(P("nowhere"), &(struct stat){0}), ENOENT);
	WANT(o(P("new"), O_WRONLY | O_CREAT | O_EXCL), 0);
	/* O_CREAT without O_EXCL on an existing file opens it as it is. */
	WANT(o(P("f"), O_WRONLY | O_CREAT), 0);
	IS(strcmp(get(P("f")), "x") == 0, "f holds %s", get(P("f")));
}

static void
open_directory(void)
{
	NEED(mkdir(P("d"), 0755) == 0);
	/* open(2) EISDIR: a directory, and the access involves writing. */
	WANT(o(P("d"), O_WRONLY), EISDIR);
	WANT(o(P("d"), O_RDWR), EISDIR);
	WANT(o(P("d"), O_WRONLY | O_CREAT), EISDIR);
	WANT(o(P("d"), O_RDONLY), 0);
	WANT(o(P("d"), O_RDONLY | O_DIRECTORY), 0);
	/* EISDIR: O_CREAT of a new name with a trailing slash (Linux). */
	WANT(o(P("new/"), O_WRONLY | O_CREAT), EISDIR);
	WANT(stat(P("new"), &(struct stat){0}), ENOENT);
	/* write(2) EBADF: fd is not open for writing. */
	int fd = open(P("d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(write(fd, "x", 1), EBADF);
	close(fd);
}

/* read(2) EISDIR: fd refers to a directory (opened with O_DIRECTORY or
 * without). */
static void
read_directory(void)
{
	char b[16];
	int fd;

	NEED(mkdir(P("d"), 0755) == 0 && put(P("d/f"), "x") == 0);
	fd = open(P("d"), O_RDONLY | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(read(fd, b, sizeof(b)), EISDIR);
	close(fd);
	fd = open(P("d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(read(fd, b, sizeof(b)), EISDIR);
	close(fd);
}

static void
open_notdir(void)
{
	NEED(put(P("f"), "x") == 0);
	/* open(2) ENOTDIR: a component used as a directory is not one. */
	WANT(o(P("f/x"), O_RDONLY), ENOTDIR);
	WANT(o(P("f/x"), O_WRONLY | O_CREAT), ENOTDIR);
	/* path_resolution(7): a trailing slash asks for a directory. */
	WANT(o(P("f/"), O_RDONLY), ENOTDIR);
	/* ENOTDIR: O_DIRECTORY and pathname is not a directory. */
	WANT(o(P("f"), O_RDONLY | O_DIRECTORY), ENOTDIR);
	struct stat st;
	WANT(stat(P("f/x"), &st), ENOTDIR);
	WANT(stat(P("f/"), &st), ENOTDIR);
}

static void
open_links(void)
{
	NEED(put(P("f"), "x") == 0);
	NEED(symlink("f", P("l")) == 0);
	NEED(symlink("l2", P("l1")) == 0);
	NEED(symlink("l1", P("l2")) == 0);
	/* open(2) ELOOP: O_NOFOLLOW and the trailing component is a link. */
	WANT(o(P("l"), O_RDONLY | O_NOFOLLOW), ELOOP);
	/* ... but O_PATH | O_NOFOLLOW opens the link itself. */
	WANT(o(P("l"), O_PATH | O_NOFOLLOW), 0);
	WANT(o(P("l"), O_RDONLY), 0);
	/* ELOOP: too many symbolic links (a loop) in resolving pathname. */
	WANT(o(P("l1"), O_RDONLY), ELOOP);
	struct stat st;
	WANT(stat(P("l1"), &st), ELOOP);
	WANT(lstat(P("l1"), &st), 0);
}

static void
open_names(void)
{
	char deep[4200];
	size_t i;

	/* open(2) ENAMETOOLONG: a component longer than NAME_MAX (255). */
	WANT(o(P(long_name(256)), O_WRONLY | O_CREAT), ENAMETOOLONG);
	WANT(mkdir(P(long_name(256)), 0755), ENAMETOOLONG);
	WANT(o(P(long_name(255)), O_WRONLY | O_CREAT), 0);
	WANT(unlink(P(long_name(255))), 0);
	/* ENAMETOOLONG: pathname longer than PATH_MAX (4096, with its
	 * NUL). */
	for (i = 0; i + 2 < 4150; i += 2)
		memcpy(deep + i, "./", 2);
	deep[i] = 'f';
	deep[i + 1] = '\0';
	NEED(put(P("f"), "x") == 0);
	WANT(o(P(deep), O_RDONLY), ENAMETOOLONG);
}

static void
open_trunc_append(void)
{
	int fd;
	struct stat st;

	NEED(put(P("f"), "hello") == 0);
	/* open(2) O_TRUNC: an existing regular file opened for writing is
	 * truncated to length 0. */
	WANT(o(P("f"), O_WRONLY | O_TRUNC), 0);
	IS(size_of(P("f")) == 0, "size %ld", size_of(P("f")));
	/* O_APPEND: before each write the offset is at the end of file,
	 * whatever lseek did. */
	NEED(put(P("f"), "ab") == 0);
	fd = open(P("f"), O_WRONLY | O_APPEND | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(lseek(fd, 0, SEEK_SET), 0);
	WANT(write(fd, "cd", 2), 0);
	IS(lseek(fd, 0, SEEK_CUR) == 4, "offset %ld",
	   (long)lseek(fd, 0, SEEK_CUR));
	/* pwrite(2) BUGS: on Linux, with O_APPEND pwrite appends, whatever
	 * the offset. */
	WANT(pwrite(fd, "ef", 2, 0), 0);
	close(fd);
	IS(strcmp(get(P("f")), "abcdef") == 0, "f holds %s", get(P("f")));
	/* open(2) O_CREAT: the mode is masked by the umask (022 here), the
	 * owner is the effective uid. */
	fd = open(P("new"), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	NEED(fd >= 0);
	NEED(fstat(fd, &st) == 0);
	close(fd);
	IS((st.st_mode & 07777) == 0644, "mode %o", st.st_mode);
	IS(st.st_uid == geteuid() && st.st_gid == getegid(), "owner %u:%u",
	   st.st_uid, st.st_gid);
	IS(S_ISREG(st.st_mode) && st.st_size == 0 && st.st_nlink == 1,
	   "mode %o size %ld links %lu", st.st_mode, (long)st.st_size,
	   (unsigned long)st.st_nlink);
}

static void
open_fd_modes(void)
{
	char b[8];
	int fd;

	NEED(put(P("f"), "abc") == 0);
	/* read(2) EBADF: fd is not open for reading; write(2) likewise. */
	fd = open(P("f"), O_WRONLY | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(read(fd, b, 1), EBADF);
	close(fd);
	fd = open(P("f"), O_RDONLY | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(write(fd, "x", 1), EBADF);
	/* pread(2): reads at the offset given and leaves the file offset
	 * as it was. */
	WANT(pread(fd, b, 2, 1), 0);
	IS(memcmp(b, "bc", 2) == 0, "pread gave %.2s", b);
	IS(lseek(fd, 0, SEEK_CUR) == 0, "offset moved");
	/* dup(2): both descriptors share the offset. */
	int fd2 = dup(fd);
	NEED(fd2 >= 0);
	WANT(read(fd, b, 1), 0);
	IS(lseek(fd2, 0, SEEK_CUR) == 1, "dup offset %ld",
	   (long)lseek(fd2, 0, SEEK_CUR));
	close(fd2);
	close(fd);
	/* read(2) EBADF on a closed descriptor. */
	WANT(read(fd, b, 1), EBADF);
	/* write(2): a count of 0 on a regular file writes nothing and
	 * returns 0; pwrite(2) of 0 bytes beyond the end extends nothing. */
	fd = open(P("empty"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	NEED(fd >= 0);
	IS(write(fd, "", 0) == 0, "write of 0: %s", strerror(errno));
	IS(pwrite(fd, "", 0, 100) == 0, "pwrite of 0: %s", strerror(errno));
	IS(size_of(P("empty")) == 0, "size %ld", size_of(P("empty")));
	close(fd);
}

static void
open_tmpfile(void)
{
	int fd;
	struct stat st;
	DIR *d;
	struct dirent *e;
	int n = 0;

	NEED(put(P("f"), "x") == 0);
	/* open(2) O_TMPFILE: an unnamed file in the directory; EOPNOTSUPP
	 * where the file system has no such thing (README: schemes have
	 * not, as Redox has not). */
	fd = open(P("."), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	want(__LINE__, "open(O_TMPFILE)", fd, errno,
	     (const int[]){0, EOPNOTSUPP, -1});
	if (fd >= 0) {
		WANT(write(fd, "tmp", 3), 0);
		NEED(fstat(fd, &st) == 0);
		IS(st.st_nlink == 0 && S_ISREG(st.st_mode), "links %lu",
		   (unsigned long)st.st_nlink);
		close(fd);
		NEED((d = opendir(x.dir)) != NULL);
		while ((e = readdir(d)) != NULL)
			n++;
		closedir(d);
		IS(n == 3, "%d entries with ., .. and f", n);
	}
	/* ENOTDIR: O_TMPFILE (which holds O_DIRECTORY) and pathname not a
	 * directory; or EOPNOTSUPP as above. */
	WANT(o(P("f"), O_TMPFILE | O_RDWR), ENOTDIR, EOPNOTSUPP);
}

static void
open_perm_prep(void)
{
	NEED(put(P("secret"), "s") == 0 && chmod(P("secret"), 0600) == 0);
	NEED(put(P("public"), "p") == 0 && chmod(P("public"), 0644) == 0);
	NEED(put(P("none"), "n") == 0 && chmod(P("none"), 0) == 0);
	NEED(mkdir(P("closed"), 0700) == 0);
	NEED(put(P("closed/f"), "f") == 0 && chmod(P("closed/f"), 0666) == 0);
	NEED(mkdir(P("ro"), 0755) == 0);
}

static void
open_perm(void)
{
	int e = x.root ? 0 : EACCES;

	/* open(2) EACCES: the requested access is not allowed, or search
	 * permission is denied on a directory of the path prefix;
	 * capabilities(7): CAP_DAC_OVERRIDE (root) bypasses both. */
	WANT(o(P("secret"), O_RDONLY), e);
	WANT(o(P("public"), O_WRONLY), e);
	WANT(o(P("public"), O_RDONLY), 0);
	WANT(o(P("none"), O_RDONLY), e);
	WANT(o(P("closed/f"), O_RDONLY), e);
	/* EACCES: O_CREAT and no write permission on the directory. */
	WANT(o(P("ro/new"), O_WRONLY | O_CREAT), e);
	/* access(2): the real uid's permissions. */
	WANT(access(P("secret"), R_OK), e);
	WANT(access(P("public"), W_OK), e);
	WANT(access(P("public"), R_OK), 0);
	WANT(access(P("none"), F_OK), 0);
	WANT(access(P("closed/f"), F_OK), e);
	/* "If the calling process is privileged, an X_OK check succeeds
	 * only if execute is enabled for at least one of user, group or
	 * other": root too is refused X_OK on a 0644 file. */
	WANT(access(P("public"), X_OK), EACCES);
	WANT(access(P("missing"), F_OK), ENOENT);
	WANT(access(P("public/x"), F_OK), ENOTDIR);
}

/* mkdir(2), rmdir(2) -------------------------------------------------- */

static void
mkdir_cases(void)
{
	struct stat st;

	NEED(put(P("f"), "x") == 0);
	NEED(symlink("nowhere", P("dangling")) == 0);
	/* mkdir(2): the mode is masked by the umask. */
	WANT(mkdir(P("d"), 0777), 0);
	IS((mode_of(P("d")) & 07777) == 0755, "mode %o", mode_of(P("d")));
	/* EEXIST: pathname exists, not necessarily as a directory, and a
	 * symbolic link, dangling or not, counts. */
	WANT(mkdir(P("d"), 0755), EEXIST);
	WANT(mkdir(P("f"), 0755), EEXIST);
	WANT(mkdir(P("dangling"), 0755), EEXIST);
	/* ENOENT: a directory component does not exist. */
	WANT(mkdir(P("none/d"), 0755), ENOENT);
	/* ENOTDIR: a component used as a directory is not one. */
	WANT(mkdir(P("f/d"), 0755), ENOTDIR);
	/* A trailing slash names the directory to make. */
	WANT(mkdir(P("e/"), 0755), 0);
	/* Link counts (traditional Unix, which ext4 and tmpfs keep): a new
	 * directory has 2 (its name and its "."); each subdirectory adds
	 * one to its parent (its ".."). */
	NEED(stat(P("d"), &st) == 0);
	IS(st.st_nlink == 2, "new directory links %lu",
	   (unsigned long)st.st_nlink);
	WANT(mkdir(P("d/s1"), 0755), 0);
	WANT(mkdir(P("d/s2"), 0755), 0);
	NEED(put(P("d/file"), "x") == 0);
	IS(nlink_of(P("d")) == 4, "links %ld with two subdirectories",
	   nlink_of(P("d")));
	WANT(rmdir(P("d/s2")), 0);
	IS(nlink_of(P("d")) == 3, "links %ld after rmdir", nlink_of(P("d")));
}

static void
rmdir_cases(void)
{
	NEED(mkdir(P("d"), 0755) == 0 && mkdir(P("d/sub"), 0755) == 0);
	NEED(put(P("d/f"), "x") == 0);
	NEED(mkdir(P("e"), 0755) == 0);
	NEED(symlink("e", P("le")) == 0);
	/* rmdir(2) ENOTEMPTY: entries other than . and ..; POSIX also
	 * allows EEXIST. */
	WANT(rmdir(P("d")), ENOTEMPTY, EEXIST);
	/* ENOTEMPTY also when the last component is "..". */
	WANT(rmdir(P("d/sub/..")), ENOTEMPTY, EEXIST);
	/* EINVAL: the last component is ".". */
	WANT(rmdir(P("e/.")), EINVAL);
	/* ENOTDIR: pathname (or a component) is not a directory; a link to
	 * a directory is not followed. */
	WANT(rmdir(P("d/f")), ENOTDIR);
	WANT(rmdir(P("le")), ENOTDIR);
	WANT(rmdir(P("d/f/x")), ENOTDIR);
	WANT(rmdir(P("none")), ENOENT);
	WANT(rmdir(P("e/")), 0); /* a trailing slash names the directory */
	WANT(stat(P("e"), &(struct stat){0}), ENOENT);
	WANT(rmdir(P("e")), ENOENT);
}

/* rmdir(".") in the directory itself: EINVAL (rmdir(2)). */
static void
rmdir_dot(void)
{
	char back[PATH_MAX];

	NEED(getcwd(back, sizeof(back)) != NULL);
	NEED(mkdir(P("d"), 0755) == 0);
	WANT(chdir(P("d")), 0);
	WANT(rmdir("."), EINVAL, EBUSY);
	WANT(chdir(back), 0);
	WANT(rmdir(P("d")), 0);
}

/* unlink(2) ------------------------------------------------------------- */

static void
unlink_cases(void)
{
	int fd;
	struct stat st;
	char b[8] = "";

	NEED(mkdir(P("d"), 0755) == 0);
	NEED(put(P("f"), "data") == 0);
	NEED(symlink("f", P("l")) == 0);
	/* unlink(2) EISDIR: pathname is a directory (Linux; POSIX says
	 * EPERM). */
	WANT(unlink(P("d")), EISDIR);
	WANT(unlink(P("none")), ENOENT);
	WANT(unlink(P("f/x")), ENOTDIR);
	WANT(unlink(P("f/")), ENOTDIR);
	/* A symbolic link is removed itself, not what it names. */
	WANT(unlink(P("l")), 0);
	WANT(lstat(P("l"), &st), ENOENT);
	WANT(stat(P("f"), &st), 0);
	/* "If the name was the last link to a file but any processes
	 * still have the file open, the file will remain in existence
	 * until the last file descriptor referring to it is closed." */
	fd = open(P("f"), O_RDWR | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(unlink(P("f")), 0);
	WANT(stat(P("f"), &st), ENOENT);
	WANT(pread(fd, b, 4, 0), 0);
	IS(memcmp(b, "data", 4) == 0, "read %.4s after unlink", b);
	WANT(write(fd, "more", 4), 0);
	NEED(fstat(fd, &st) == 0);
	IS(st.st_nlink == 0 && st.st_size == 4, "links %lu size %ld",
	   (unsigned long)st.st_nlink, (long)st.st_size);
	close(fd);
}

/* rename(2) ------------------------------------------------------------- */

static void
rename_files(void)
{
	struct stat a, b;

	NEED(put(P("f"), "one") == 0 && put(P("g"), "two") == 0);
	NEED(put(P("h"), "h") == 0 && link(P("h"), P("h2")) == 0);
	/* rename(2): newpath is replaced, atomically. */
	WANT(rename(P("f"), P("g")), 0);
	IS(strcmp(get(P("g")), "one") == 0, "g holds %s", get(P("g")));
	WANT(stat(P("f"), &a), ENOENT);
	/* The same name: nothing happens, success. */
	WANT(rename(P("g"), P("g")), 0);
	IS(strcmp(get(P("g")), "one") == 0, "g holds %s", get(P("g")));
	/* "If oldpath and newpath are existing hard links referring to the
	 * same file, then rename() does nothing, and returns success." */
	WANT(rename(P("h"), P("h2")), 0);
	WANT(stat(P("h"), &a), 0);
	WANT(stat(P("h2"), &b), 0);
	IS(nlink_of(P("h")) == 2, "links %ld", nlink_of(P("h")));
	/* ENOENT: oldpath does not exist, or a directory of newpath. */
	WANT(rename(P("none"), P("x")), ENOENT);
	WANT(rename(P("g"), P("none/x")), ENOENT);
	/* ENOTDIR: a component used as a directory is not one. */
	WANT(rename(P("g/x"), P("y")), ENOTDIR);
	WANT(rename(P("g"), P("h/x")), ENOTDIR);
	/* A symbolic link is renamed itself. */
	NEED(symlink("g", P("l")) == 0);
	WANT(rename(P("l"), P("l2")), 0);
	IS(S_ISLNK(mode_of(P("l2"))), "mode %o", mode_of(P("l2")));
	IS(strcmp(get(P("l2")), "one") == 0, "l2 reads %s", get(P("l2")));
	/* ... and a link as newpath is replaced, not what it points to. */
	NEED(put(P("k"), "kk") == 0);
	WANT(rename(P("k"), P("l2")), 0);
	IS(S_ISREG(mode_of(P("l2"))), "l2: mode %o", mode_of(P("l2")));
	IS(strcmp(get(P("g")), "one") == 0, "g holds %s", get(P("g")));
	/* ENOTDIR: a trailing slash on a file's name (path_resolution(7)). */
	WANT(rename(P("g/"), P("m")), ENOTDIR);
}

static void
rename_dirs(void)
{
	NEED(mkdir(P("a"), 0755) == 0 && put(P("a/f"), "x") == 0);
	NEED(mkdir(P("empty"), 0755) == 0);
	NEED(mkdir(P("full"), 0755) == 0 && put(P("full/f"), "x") == 0);
	NEED(put(P("file"), "x") == 0);
	NEED(mkdir(P("p"), 0755) == 0);
	/* rename(2): a directory may replace an empty directory. */
	WANT(rename(P("a"), P("empty")), 0);
	IS(strcmp(get(P("empty/f")), "x") == 0, "moved file: %s",
	   get(P("empty/f")));
	/* ENOTEMPTY or EEXIST: newpath is a nonempty directory. */
	WANT(rename(P("empty"), P("full")), ENOTEMPTY, EEXIST);
	/* EISDIR: newpath is a directory, oldpath is not. */
	WANT(rename(P("file"), P("full")), EISDIR);
	/* ENOTDIR: oldpath is a directory, newpath exists and is not. */
	WANT(rename(P("full"), P("file")), ENOTDIR);
	/* EINVAL: making a directory a subdirectory of itself. */
	WANT(rename(P("full"), P("full/sub")), EINVAL);
	NEED(mkdir(P("full/in"), 0755) == 0);
	WANT(rename(P("full"), P("full/in/sub")), EINVAL);
	/* Linux refuses "." or ".." as the last component with EBUSY
	 * (do_renameat2); POSIX says EINVAL. */
	WANT(rename(P("full/."), P("x")), EBUSY, EINVAL);
	WANT(rename(P("full/in/.."), P("x")), EBUSY, EINVAL);
	WANT(rename(P("file"), P("p/.")), EBUSY, EINVAL);
	/* A directory moving to another parent takes its ".." along: the
	 * link counts of both parents change (see mkdir_cases). */
	long before = nlink_of(P("p"));
	WANT(rename(P("full"), P("p/full")), 0);
	IS(nlink_of(P("p")) == before + 1, "parent links %ld, were %ld",
	   nlink_of(P("p")), before);
	IS(strcmp(get(P("p/full/f")), "x") == 0, "p/full/f: %s",
	   get(P("p/full/f")));
}

static void
rename_exdev(void)
{
	NEED(put(P("f"), "x") == 0);
	NEED(mkdir(P("d"), 0755) == 0);
	/* rename(2), link(2) EXDEV: oldpath and newpath are not on the same
	 * mounted file system (disk and a scheme; a scheme and another). */
	WANT(rename(P("f"), Q("f")), EXDEV);
	WANT(rename(P("d"), Q("d")), EXDEV);
	WANT(link(P("f"), Q("f")), EXDEV);
	WANT(stat(P("f"), &(struct stat){0}), 0);
	WANT(stat(Q("f"), &(struct stat){0}), ENOENT);
}

/* link(2), symlink(2), readlink(2) -------------------------------------- */

static void
link_cases(void)
{
	struct stat a, b;

	NEED(put(P("f"), "x") == 0);
	NEED(mkdir(P("d"), 0755) == 0);
	NEED(symlink("f", P("l")) == 0);
	/* link(2): a new name for the same file (stat(2): st_nlink counts
	 * the names, st_ino and st_dev are the same). */
	WANT(link(P("f"), P("g")), 0);
	WANT(link(P("g"), P("d/h")), 0);
	NEED(stat(P("f"), &a) == 0 && stat(P("d/h"), &b) == 0);
	IS(a.st_nlink == 3 && a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	   "links %lu ino %lu %lu", (unsigned long)a.st_nlink,
	   (unsigned long)a.st_ino, (unsigned long)b.st_ino);
	NEED(put(P("g"), "changed") == 0);
	IS(strcmp(get(P("d/h")), "changed") == 0, "d/h holds %s",
	   get(P("d/h")));
	WANT(unlink(P("f")), 0);
	IS(nlink_of(P("g")) == 2, "links %ld after unlink", nlink_of(P("g")));
	/* EEXIST: newpath exists (a dangling link too). */
	WANT(link(P("g"), P("d/h")), EEXIST);
	WANT(link(P("g"), P("l")), EEXIST);
	/* EPERM: oldpath is a directory. */
	WANT(link(P("d"), P("d2")), EPERM);
	WANT(link(P("none"), P("n2")), ENOENT);
	WANT(link(P("g"), P("none/n2")), ENOENT);
	WANT(link(P("g/x"), P("n2")), ENOTDIR);
	/* link(2) does not dereference oldpath if it is a symbolic link
	 * (Linux since 2.0): the new name is a link too. */
	WANT(link(P("l"), P("l2")), 0);
	IS(S_ISLNK(mode_of(P("l2"))), "mode %o", mode_of(P("l2")));
}

static void
symlink_cases(void)
{
	char b[64];
	struct stat st;

	NEED(put(P("f"), "x") == 0);
	NEED(mkdir(P("d"), 0755) == 0);
	/* symlink(2): the target is kept as given, and may not exist. */
	WANT(symlink("nowhere/at/all", P("dangling")), 0);
	WANT(symlink("f", P("l")), 0);
	WANT(symlink("d", P("ld")), 0);
	/* EEXIST: newpath exists (a file; a dangling link). */
	WANT(symlink("f", P("f")), EEXIST);
	WANT(symlink("f", P("dangling")), EEXIST);
	/* ENOENT: target is an empty string. */
	WANT(symlink("", P("empty")), ENOENT);
	WANT(symlink("f", P("none/l")), ENOENT);
	WANT(symlink("f", P("f/l")), ENOTDIR);
	/* readlink(2): the target, not NUL-terminated, at most bufsiz
	 * bytes (truncated silently). */
	memset(b, '#', sizeof(b));
	WANT(readlink(P("dangling"), b, sizeof(b)), 0);
	IS(memcmp(b, "nowhere/at/all#", 15) == 0, "readlink gave %.15s", b);
	IS(readlink(P("dangling"), b, 3) == 3 && memcmp(b, "now", 3) == 0,
	   "truncated to %.3s", b);
	/* EINVAL: pathname is not a symbolic link (or bufsiz <= 0). */
	WANT(readlink(P("f"), b, sizeof(b)), EINVAL);
	WANT(readlink(P("d"), b, sizeof(b)), EINVAL);
	WANT(readlink(P("none"), b, sizeof(b)), ENOENT);
	/* stat follows, lstat does not: a dangling link is ENOENT to stat;
	 * lstat's st_size is the length of the target. */
	WANT(stat(P("dangling"), &st), ENOENT);
	WANT(lstat(P("dangling"), &st), 0);
	IS(S_ISLNK(st.st_mode) && st.st_size == 14, "mode %o size %ld",
	   st.st_mode, (long)st.st_size);
	WANT(stat(P("ld"), &st), 0);
	IS(S_ISDIR(st.st_mode), "through ld: mode %o", st.st_mode);
	/* path_resolution(7): a relative target is resolved from the link's
	 * directory; a link in the middle of a path is followed. */
	NEED(put(P("d/in"), "in") == 0);
	IS(strcmp(get(P("ld/in")), "in") == 0, "ld/in: %s", get(P("ld/in")));
	/* open(2) O_CREAT through a dangling link creates its target. */
	NEED(symlink("made", P("tomake")) == 0);
	WANT(o(P("tomake"), O_WRONLY | O_CREAT), 0);
	IS(S_ISREG(mode_of(P("made"))), "made: mode %o", mode_of(P("made")));
}

/* truncate(2), lseek(2) ------------------------------------------------- */

static void
truncate_cases(void)
{
	char b[16];
	int fd;

	NEED(put(P("f"), "abc") == 0);
	NEED(mkdir(P("d"), 0755) == 0);
	NEED(symlink("f", P("l")) == 0);
	/* truncate(2): extending, the new part reads as null bytes. */
	WANT(truncate(P("f"), 8), 0);
	IS(size_of(P("f")) == 8, "size %ld", size_of(P("f")));
	fd = open(P("f"), O_RDONLY | O_CLOEXEC);
	NEED(fd >= 0);
	IS(read(fd, b, sizeof(b)) == 8 && memcmp(b, "abc\0\0\0\0\0", 8) == 0,
	   "not abc and zeros");
	/* ftruncate(2) EINVAL (Linux; POSIX: EBADF or EINVAL): fd not open
	 * for writing. */
	WANT(ftruncate(fd, 0), EINVAL, EBADF);
	close(fd);
	WANT(truncate(P("f"), 2), 0);
	IS(strcmp(get(P("f")), "ab") == 0, "f holds %s", get(P("f")));
	/* EINVAL: the length is negative. */
	WANT(truncate(P("f"), -1), EINVAL);
	/* EISDIR: the named file is a directory. */
	WANT(truncate(P("d"), 0), EISDIR);
	WANT(truncate(P("none"), 0), ENOENT);
	WANT(truncate(P("f/x"), 0), ENOTDIR);
	/* A symbolic link is followed. */
	WANT(truncate(P("l"), 1), 0);
	IS(size_of(P("f")) == 1, "size %ld", size_of(P("f")));
	fd = open(P("f"), O_RDWR | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(ftruncate(fd, -1), EINVAL);
	WANT(ftruncate(fd, 5), 0);
	IS(size_of(P("f")) == 5, "size %ld", size_of(P("f")));
	close(fd);
}

static void
lseek_cases(void)
{
	char b[16];
	int fd;

	NEED(put(P("f"), "0123456789") == 0);
	fd = open(P("f"), O_RDWR | O_CLOEXEC);
	NEED(fd >= 0);
	/* lseek(2): SEEK_END is the size plus offset. */
	IS(lseek(fd, 0, SEEK_END) == 10, "SEEK_END");
	IS(lseek(fd, -2, SEEK_END) == 8, "SEEK_END -2");
	IS(lseek(fd, 3, SEEK_CUR) == 11, "SEEK_CUR beyond the end");
	/* EINVAL: the resulting offset would be negative, or whence is not
	 * valid. */
	WANT(lseek(fd, -1, SEEK_SET), EINVAL);
	WANT(lseek(fd, -20, SEEK_END), EINVAL);
	WANT(lseek(fd, 0, 77), EINVAL);
	/* Seeking beyond the end and writing leaves a gap that reads as
	 * null bytes. */
	IS(lseek(fd, 12, SEEK_SET) == 12, "SEEK_SET 12");
	WANT(write(fd, "x", 1), 0);
	IS(pread(fd, b, 16, 8) == 5 && memcmp(b, "89\0\0x", 5) == 0,
	   "not 89, two zeros and x");
	/* SEEK_DATA, SEEK_HOLE: a file system may report the whole file as
	 * data (the simplest implementation the page allows): the data
	 * next at or after 0 is at 0, a hole is at or before the end;
	 * ENXIO at or beyond the end. */
	IS(lseek(fd, 0, SEEK_DATA) == 0, "SEEK_DATA 0: %ld (%s)",
	   (long)lseek(fd, 0, SEEK_DATA), strerror(errno));
	off_t h = lseek(fd, 0, SEEK_HOLE);
	IS(h > 0 && h <= 13, "SEEK_HOLE 0: %ld (%s)", (long)h, strerror(errno));
	WANT(lseek(fd, 13, SEEK_DATA), ENXIO);
	WANT(lseek(fd, 14, SEEK_HOLE), ENXIO);
	close(fd);
}

/* stat(2) fields and times ---------------------------------------------- */

static void
stat_fields(void)
{
	struct stat a, b;
	int fd;

	NEED(put(P("f"), "12345") == 0);
	NEED(mkdir(P("d"), 0755) == 0);
	fd = open(P("f"), O_RDWR | O_CLOEXEC);
	NEED(fd >= 0);
	/* stat(2): st_size in bytes, the file type in st_mode, and fstat
	 * the same file as stat (st_dev and st_ino). */
	NEED(stat(P("f"), &a) == 0 && fstat(fd, &b) == 0);
	IS(S_ISREG(a.st_mode) && a.st_size == 5 && a.st_nlink == 1,
	   "mode %o size %ld links %lu", a.st_mode, (long)a.st_size,
	   (unsigned long)a.st_nlink);
	IS(a.st_dev == b.st_dev && a.st_ino == b.st_ino, "fstat differs");
	IS(a.st_blksize > 0, "st_blksize %ld", (long)a.st_blksize);
	IS(a.st_uid == geteuid() && a.st_gid == getegid(), "owner %u:%u",
	   a.st_uid, a.st_gid);
	NEED(stat(P("d"), &b) == 0);
	IS(S_ISDIR(b.st_mode) && b.st_ino != a.st_ino, "d: mode %o", b.st_mode);
	/* inode(7): a write changes mtime and ctime; chmod changes ctime
	 * only; atime is not the business of this case (mount options). */
	NEED(age(P("f")) == 0);
	NEED(stat(P("f"), &a) == 0);
	IS(a.st_mtim.tv_sec == 1000000 && a.st_atim.tv_sec == 1000000,
	   "times not set: %ld", (long)a.st_mtim.tv_sec);
	WANT(write(fd, "x", 1), 0);
	NEED(fstat(fd, &b) == 0);
	IS(newer(&b.st_mtim, 1000000) && newer(&b.st_ctim, 1000000),
	   "mtime %ld ctime %ld after write", (long)b.st_mtim.tv_sec,
	   (long)b.st_ctim.tv_sec);
	NEED(age(P("f")) == 0);
	WANT(ftruncate(fd, 1), 0);
	NEED(fstat(fd, &b) == 0);
	IS(newer(&b.st_mtim, 1000000), "mtime %ld after ftruncate",
	   (long)b.st_mtim.tv_sec);
	NEED(age(P("f")) == 0);
	NEED(stat(P("f"), &a) == 0);
	WANT(fchmod(fd, 0600), 0);
	NEED(fstat(fd, &b) == 0);
	IS(b.st_mtim.tv_sec == 1000000 && b.st_ctim.tv_sec >= a.st_ctim.tv_sec,
	   "mtime %ld after chmod", (long)b.st_mtim.tv_sec);
	close(fd);
	/* Making and removing names changes the directory's mtime. */
	NEED(age(P("d")) == 0);
	NEED(put(P("d/new"), "x") == 0);
	NEED(stat(P("d"), &b) == 0);
	IS(newer(&b.st_mtim, 1000000), "d mtime %ld after a create",
	   (long)b.st_mtim.tv_sec);
	NEED(age(P("d")) == 0);
	NEED(unlink(P("d/new")) == 0);
	NEED(stat(P("d"), &b) == 0);
	IS(newer(&b.st_mtim, 1000000), "d mtime %ld after unlink",
	   (long)b.st_mtim.tv_sec);
}

static void
utimens_cases(void)
{
	struct timespec ts[2] = {{1000, 0}, {2000, 500}};
	struct stat st;
	time_t now = time(NULL);

	NEED(put(P("f"), "x") == 0);
	NEED(symlink("f", P("l")) == 0);
	/* utimensat(2): atime and mtime as given, to the nanosecond where
	 * the file system keeps them. */
	WANT(utimensat(AT_FDCWD, P("f"), ts, 0), 0);
	NEED(stat(P("f"), &st) == 0);
	IS(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 2000,
	   "times %ld %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	/* UTIME_OMIT leaves that time as it is. */
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = (struct timespec){3000, 0};
	WANT(utimensat(AT_FDCWD, P("f"), ts, 0), 0);
	NEED(stat(P("f"), &st) == 0);
	IS(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 3000,
	   "times %ld %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	/* UTIME_NOW sets that time to now. */
	ts[1].tv_nsec = UTIME_NOW;
	WANT(utimensat(AT_FDCWD, P("f"), ts, 0), 0);
	NEED(stat(P("f"), &st) == 0);
	IS(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec >= now - 1,
	   "times %ld %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	/* EINVAL: a tv_nsec out of range and not a UTIME_ value. */
	ts[0] = (struct timespec){1000, 1000000000L};
	WANT(utimensat(AT_FDCWD, P("f"), ts, 0), EINVAL);
	WANT(utimensat(AT_FDCWD, P("none"), NULL, 0), ENOENT);
	/* AT_SYMLINK_NOFOLLOW: the link's own times. */
	ts[0] = ts[1] = (struct timespec){5000, 0};
	WANT(utimensat(AT_FDCWD, P("l"), ts, AT_SYMLINK_NOFOLLOW), 0);
	NEED(lstat(P("l"), &st) == 0);
	IS(st.st_mtim.tv_sec == 5000, "link mtime %ld",
	   (long)st.st_mtim.tv_sec);
	NEED(stat(P("f"), &st) == 0);
	IS(st.st_mtim.tv_sec != 5000, "the target's mtime changed");
}

/* getdents(2), readdir(3) ----------------------------------------------- */

static void
readdir_cases(void)
{
	static const char *const names[] = {".", "..", "a", "b", "d", "l"};
	int seen[6] = {0}, other = 0, many = 0, i;
	unsigned char type[6] = {0};
	struct dirent *e;
	char n[16];
	DIR *d;

	NEED(put(P("a"), "x") == 0 && put(P("b"), "x") == 0);
	NEED(mkdir(P("d"), 0755) == 0 && symlink("a", P("l")) == 0);
	/* readdir(3): every entry once, "." and ".." among them; d_type is
	 * the type or DT_UNKNOWN. */
	NEED((d = opendir(x.dir)) != NULL);
	while ((e = readdir(d)) != NULL) {
		for (i = 0; i < 6 && strcmp(e->d_name, names[i]); i++)
			;
		if (i == 6) {
			other++;
			continue;
		}
		seen[i]++;
		type[i] = e->d_type;
	}
	closedir(d);
	for (i = 0; i < 6; i++)
		IS(seen[i] == 1, "%s listed %d times", names[i], seen[i]);
	IS(other == 0, "%d unknown entries", other);
	IS(type[2] == DT_REG || type[2] == DT_UNKNOWN, "a: type %d", type[2]);
	IS(type[4] == DT_DIR || type[4] == DT_UNKNOWN, "d: type %d", type[4]);
	IS(type[5] == DT_LNK || type[5] == DT_UNKNOWN, "l: type %d", type[5]);
	/* Many entries, over several getdents calls: each once. */
	for (i = 0; i < 300; i++) {
		snprintf(n, sizeof(n), "d/e%03d", i);
		NEED(put(P(n), "") == 0);
	}
	NEED((d = opendir(P("d"))) != NULL);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] == 'e')
			many++;
	/* rewinddir(3): the listing again from the start. */
	rewinddir(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] == 'e')
			many++;
	closedir(d);
	IS(many == 600, "%d entries read twice, want 600", many);
	/* opendir(3) ENOTDIR, ENOENT. */
	errno = 0;
	IS(opendir(P("a")) == NULL && errno == ENOTDIR, "opendir a: %s",
	   ename(errno));
	errno = 0;
	IS(opendir(P("none")) == NULL && errno == ENOENT, "opendir none: %s",
	   ename(errno));
}

/* chmod(2), chown(2) ---------------------------------------------------- */

static void
owner_prep(void)
{
	NEED(put(P("roots"), "r") == 0 && chmod(P("roots"), 0666) == 0);
	NEED(put(P("rootro"), "r") == 0 && chmod(P("rootro"), 0644) == 0);
}

static void
owner_cases(void)
{
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	int e = x.root ? 0 : EPERM;

	NEED(put(P("mine"), "m") == 0);
	NEED(symlink("mine", P("l")) == 0);
	/* chmod(2) EPERM: the effective uid does not match the owner and
	 * the process is not privileged (CAP_FOWNER). */
	WANT(chmod(P("roots"), 0600), e);
	WANT(chmod(P("mine"), 0600), 0);
	IS((mode_of(P("mine")) & 07777) == 0600, "mode %o", mode_of(P("mine")));
	/* chmod follows a symbolic link. */
	WANT(chmod(P("l"), 0640), 0);
	IS((mode_of(P("mine")) & 07777) == 0640, "mode %o", mode_of(P("mine")));
	WANT(chmod(P("none"), 0600), ENOENT);
	/* chown(2): only a privileged process changes the owner; -1 leaves
	 * owner and group as they are (allowed to the owner). */
	WANT(chown(P("mine"), 0, (gid_t)-1), e);
	WANT(chown(P("mine"), (uid_t)-1, (gid_t)-1), 0);
	WANT(chown(P("roots"), NOBODY, (gid_t)-1), e);
	/* utimensat(2): explicit times need the owner (else EPERM); "now"
	 * needs write permission (else EACCES); root may do both. */
	WANT(utimensat(AT_FDCWD, P("roots"), ts, 0), e);
	WANT(utimensat(AT_FDCWD, P("roots"), NULL, 0), 0);
	WANT(utimensat(AT_FDCWD, P("rootro"), NULL, 0), x.root ? 0 : EACCES);
	WANT(utimensat(AT_FDCWD, P("mine"), ts, 0), 0);
}

/* A sticky directory (inode(7), unlink(2) and rename(2) EPERM). ------- */

static void
sticky_prep(void)
{
	NEED(mkdir(P("t"), 0777) == 0 && chmod(P("t"), 01777) == 0);
	NEED(put(P("t/roots"), "r") == 0 && chmod(P("t/roots"), 0666) == 0);
	NEED(mkdir(P("t/rootdir"), 0777) == 0);
}

static void
sticky_cases(void)
{
	int e = x.root ? 0 : EPERM;

	/* "When a directory's sticky bit is set, only the file's owner,
	 * the directory's owner, or a privileged process can rename or
	 * delete the file." Anyone may create. */
	WANT(o(P("t/mine"), O_WRONLY | O_CREAT), 0);
	WANT(rename(P("t/roots"), P("t/moved")), e);
	WANT(unlink(x.root ? P("t/moved") : P("t/roots")), e);
	/* Replacing someone else's directory by rename is a deletion too
	 * (which check comes first, the sticky bit's EPERM or a file over
	 * a directory's EISDIR, the page does not say). */
	WANT(rename(P("t/mine"), P("t/rootdir")), x.root ? EISDIR : EPERM,
	     EISDIR);
	WANT(rmdir(P("t/rootdir")), e);
	WANT(unlink(P("t/mine")), 0);
}

/* mkfifo(3), mknod(2) --------------------------------------------------- */

static void
node_cases(void)
{
	struct stat st;
	bool sch = x.side == ON_SCHEME;

	NEED(put(P("f"), "x") == 0);
	/* mkfifo(3): a FIFO special file.  A scheme has no fifos in its
	 * directories (README: "what a scheme cannot hold"): EPERM or
	 * EOPNOTSUPP is its answer, never ENOENT. */
	if (sch)
		WANT(mkfifo(P("p"), 0644), 0, EPERM, EOPNOTSUPP);
	else
		WANT(mkfifo(P("p"), 0644), 0);
	if (lstat(P("p"), &st) == 0)
		IS(S_ISFIFO(st.st_mode), "p: mode %o", st.st_mode);
	/* EEXIST: pathname already exists (a symlink too). */
	WANT(mkfifo(P("f"), 0644), EEXIST);
	/* ENOENT: a directory component does not exist; ENOTDIR. */
	WANT(mkfifo(P("none/p"), 0644), ENOENT);
	WANT(mkfifo(P("f/p"), 0644), ENOTDIR);
	/* mknod(2): S_IFREG makes an empty regular file (Linux). */
	WANT(mknod(P("r"), S_IFREG | 0644, 0), 0);
	IS(S_ISREG(mode_of(P("r"))) && size_of(P("r")) == 0, "r: mode %o",
	   mode_of(P("r")));
	WANT(mknod(P("r"), S_IFREG | 0644, 0), EEXIST);
	/* EPERM: a caller without CAP_MKNOD making a device (root in a
	 * container may lack it too); a scheme holds no devices (EPERM or
	 * EOPNOTSUPP). */
	if (sch || !x.root)
		WANT(mknod(P("c"), S_IFCHR | 0600, makedev(1, 3)), EPERM,
		     EOPNOTSUPP);
	else
		WANT(mknod(P("c"), S_IFCHR | 0600, makedev(1, 3)), 0, EPERM);
	/* EINVAL: mode asks for a type that is not a file type. */
	WANT(mknod(P("bad"), 0170000 | 0644, 0), EINVAL, EPERM);
}

/* fsync(2), fallocate(2) ------------------------------------------------ */

static void
sync_cases(void)
{
	int fd;

	NEED(put(P("f"), "x") == 0);
	fd = open(P("f"), O_RDWR | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(fsync(fd), 0);
	WANT(fdatasync(fd), 0);
	/* posix_fallocate(3): the file grows to offset + len (it returns
	 * an error number, not -1). */
	IS(posix_fallocate(fd, 0, 100) == 0, "posix_fallocate");
	IS(size_of(P("f")) == 100, "size %ld", size_of(P("f")));
	close(fd);
	/* fsync(2) EBADF on a closed descriptor. */
	WANT(fsync(fd), EBADF);
}

/* The *at calls (openat(2) and its family) ------------------------------ */

static void
at_calls(void)
{
	struct stat st;
	int d, f;

	NEED(mkdir(P("d"), 0755) == 0 && put(P("d/f"), "x") == 0);
	NEED(mkdir(P("d/sub"), 0755) == 0 && symlink("f", P("d/l")) == 0);
	d = open(P("d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	NEED(d >= 0);
	f = open(P("d/f"), O_RDONLY | O_CLOEXEC);
	NEED(f >= 0);
	/* openat(2): a relative path is taken from the directory dirfd. */
	int g = openat(d, "f", O_RDONLY | O_CLOEXEC);
	IS(g >= 0, "openat: %s", strerror(errno));
	if (g >= 0)
		close(g);
	WANT(fstatat(d, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
	IS(S_ISLNK(st.st_mode), "fstatat nofollow: mode %o", st.st_mode);
	WANT(fstatat(d, "l", &st, 0), 0);
	IS(S_ISREG(st.st_mode), "fstatat: mode %o", st.st_mode);
	WANT(mkdirat(d, "new", 0755), 0);
	WANT(faccessat(d, "new", W_OK, 0), 0);
	WANT(renameat(d, "new", d, "renamed"), 0);
	/* unlinkat(2): AT_REMOVEDIR on a file ENOTDIR, none on a directory
	 * EISDIR. */
	WANT(unlinkat(d, "f", AT_REMOVEDIR), ENOTDIR);
	WANT(unlinkat(d, "renamed", 0), EISDIR);
	WANT(unlinkat(d, "renamed", AT_REMOVEDIR), 0);
	/* ENOTDIR: a relative path and dirfd is a file; EBADF: dirfd is not
	 * a valid descriptor. */
	WANT(openat(f, "x", O_RDONLY), ENOTDIR);
	WANT(mkdirat(f, "x", 0755), ENOTDIR);
	WANT(openat(9999, "x", O_RDONLY), EBADF);
	/* An absolute path ignores dirfd. */
	g = openat(f, P("d/f"), O_RDONLY | O_CLOEXEC);
	IS(g >= 0, "openat absolute: %s", strerror(errno));
	if (g >= 0)
		close(g);
	/* fstatat(2) AT_EMPTY_PATH: the file dirfd refers to. */
	WANT(fstatat(f, "", &st, AT_EMPTY_PATH), 0);
	IS(S_ISREG(st.st_mode) && st.st_size == 1, "mode %o size %ld",
	   st.st_mode, (long)st.st_size);
	WANT(fstatat(f, "", &st, 0), ENOENT);
	close(f);
	close(d);
}

/* renameat2(2) flags. */
static void
rename_flags(void)
{
	NEED(put(P("a"), "a") == 0 && put(P("b"), "b") == 0);
	/* RENAME_NOREPLACE: EEXIST when newpath exists. */
	WANT(renameat2(AT_FDCWD, P("a"), AT_FDCWD, P("b"), RENAME_NOREPLACE),
	     EEXIST);
	WANT(renameat2(AT_FDCWD, P("a"), AT_FDCWD, P("c"), RENAME_NOREPLACE),
	     0);
	/* RENAME_EXCHANGE swaps the two, or says EINVAL where the file
	 * system does not support it (renameat2(2); a scheme has no
	 * SYS_FRENAME flag for it). */
	errno = 0;
	int r = renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("c"), RENAME_EXCHANGE);
	want(__LINE__, "renameat2(RENAME_EXCHANGE)", r, errno,
	     (const int[]){0, EINVAL, -1});
	if (r == 0)
		IS(strcmp(get(P("b")), "a") == 0 &&
		       strcmp(get(P("c")), "b") == 0,
		   "b holds %s, c %s", get(P("b")), get(P("c")));
	/* EINVAL: both flags at once. */
	WANT(renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("c"),
		       RENAME_NOREPLACE | RENAME_EXCHANGE),
	     EINVAL);
}

/*
 * open(2) O_PATH: "the file descriptor can be used for" fstat, dup,
 * fcntl and as a dirfd; read, write, fchmod, fchown and the like "fail
 * with the error EBADF".
 */
static void
opath_fd(void)
{
	struct stat st;
	char b[4];
	int fd;

	NEED(put(P("f"), "abc") == 0);
	fd = open(P("f"), O_PATH | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(fstat(fd, &st), 0);
	IS(st.st_size == 3, "size %ld", (long)st.st_size);
	WANT(read(fd, b, 1), EBADF);
	WANT(write(fd, "x", 1), EBADF);
	WANT(ftruncate(fd, 0), EBADF);
	WANT(lseek(fd, 0, SEEK_SET), EBADF);
	/* flock(2), mmap(2): EBADF, "fd is not an open file descriptor" */
	WANT(flock(fd, LOCK_SH | LOCK_NB), EBADF);
	WANT(mmap(NULL, 1, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0,
	     EBADF);
	close(fd);
	IS(size_of(P("f")) == 3, "size %ld", size_of(P("f")));
}

/* The same page, for what changes the file's metadata, and F_GETFL. */
static void
opath_metadata(void)
{
	int fd;

	NEED(put(P("f"), "abc") == 0);
	fd = open(P("f"), O_PATH | O_CLOEXEC);
	NEED(fd >= 0);
	WANT(fchmod(fd, 0600), EBADF);
	WANT(fchown(fd, (uid_t)-1, (gid_t)-1), EBADF);
	IS((fcntl(fd, F_GETFL) & O_PATH) == O_PATH, "F_GETFL %#x",
	   fcntl(fd, F_GETFL));
	close(fd);
	IS((mode_of(P("f")) & 07777) == 0644, "mode %o", mode_of(P("f")));
}

/*
 * path_resolution(7): ".." after a symbolic link is the parent of where
 * the link led, not of the link: d/ld/.. with ld -> sub/deep is d/sub.
 */
static void
dotdot_after_link(void)
{
	struct stat a, b;

	NEED(mkdir(P("sub"), 0755) == 0 && mkdir(P("sub/deep"), 0755) == 0);
	NEED(put(P("sub/only-here"), "x") == 0);
	NEED(symlink("sub/deep", P("ld")) == 0);
	NEED(stat(P("sub"), &a) == 0);
	WANT(stat(P("ld/.."), &b), 0);
	IS(a.st_ino == b.st_ino, "ld/.. is not sub (ino %lu, sub's %lu)",
	   (unsigned long)b.st_ino, (unsigned long)a.st_ino);
	WANT(stat(P("ld/../only-here"), &b), 0);
	/* A link to a link, an absolute target, climbing twice. */
	NEED(symlink("ld", P("lc")) == 0);
	NEED(symlink(P("sub/deep"), P("la")) == 0);
	for (int i = 0; i < 2; i++) {
		WANT(stat(P(i == 0 ? "lc/.." : "la/.."), &b), 0);
		IS(a.st_ino == b.st_ino, "%s/.. is not sub", i ? "la" : "lc");
	}
	NEED(stat(P("."), &a) == 0);
	WANT(stat(P("ld/../.."), &b), 0);
	IS(a.st_ino == b.st_ino, "ld/../.. is not the directory itself");
	/* path_resolution(7): ENOENT, ENOTDIR on the way; ELOOP. */
	WANT(stat(P("missing/.."), &b), ENOENT);
	WANT(stat(P("sub/only-here/.."), &b), ENOTDIR);
	NEED(symlink("lp", P("lp")) == 0);
	WANT(stat(P("lp/.."), &b), ELOOP);
}

/* The table ----------------------------------------------------------- */

struct pcase {
	const char *name;
	void (*fn)(void);
	void (*prep)(void); /* as root, before fn; may be NULL */
};

#define CASE(f)                                                                \
	{                                                                      \
#f, f, NULL                                                    \
	}
#define CASE_PREP(f, p)                                                        \
	{                                                                      \
#f, f, p                                                       \
	}

static const struct pcase cases[] = {
    CASE(open_missing),
    CASE(open_excl),
    CASE(open_directory),
    CASE(read_directory),
    CASE(open_notdir),
    CASE(open_links),
    CASE(open_names),
    CASE(open_trunc_append),
    CASE(open_fd_modes),
    CASE(open_tmpfile),
    CASE_PREP(open_perm, open_perm_prep),
    CASE(mkdir_cases),
    CASE(rmdir_cases),
    CASE(rmdir_dot),
    CASE(unlink_cases),
    CASE(rename_files),
    CASE(rename_dirs),
    CASE(rename_exdev),
    CASE(link_cases),
    CASE(symlink_cases),
    CASE(truncate_cases),
    CASE(lseek_cases),
    CASE(stat_fields),
    CASE(utimens_cases),
    CASE(readdir_cases),
    CASE_PREP(owner_cases, owner_prep),
    CASE_PREP(sticky_cases, sticky_prep),
    CASE(node_cases),
    CASE(sync_cases),
    CASE(at_calls),
    CASE(rename_flags),
    CASE(opath_fd),
    CASE(opath_metadata),
    CASE(dotdot_after_link),
};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

/*
 * Cases known to fail on the scheme, and why.  Each is a bug or a
 * missing piece to fix; the case keeps the manual's expectation.
 */
static const struct {
	const char *name, *why;
} known_divergent[] = {
    {NULL, NULL},
};

static const char *
known(const char *name)
{
	for (int i = 0; known_divergent[i].name != NULL; i++)
		if (strcmp(known_divergent[i].name, name) == 0)
			return known_divergent[i].why;
	return NULL;
}

/* The fixture --------------------------------------------------------- */

static void
start_world(void)
{
	char *extra[] = {(char *)"--group", (char *)"nogroup", NULL};
	char d[300];

	h_setup_env();
	chmod(h_dir(), 0711); /* nobody reaches the socket and the disk */
	snprintf(d, sizeof(d), "%s/disk", h_dir());
	mkdir(d, 0755);
	if ((h_broker = h_start_broker_with(geteuid() == 0 ? extra : NULL)) <
		0 ||
	    (h_memfs = h_start_memfs(SCHEME)) < 0)
		abort();
}

/* In a child: become the run's user, run fn, exit with the failures. */
static int
run_child(void (*fn)(void), int user)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (user == AS_NOBODY && h_become_nobody() < 0) {
			perror("become nobody");
			_exit(100);
		}
		x.root = geteuid() == 0;
		umask(022);
		fn();
		tally->checks[x.user][x.side] += x.checks;
		tally->fails[x.user][x.side] += x.fails;
		_exit(x.fails > 99 ? 99 : x.fails);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A fresh directory for the run, the user's own: 0 or -1. */
static int
fresh_dir(char *buf, size_t len, int side, const struct pcase *c, int user,
	  int for_side)
{
	if (side == ON_DISK)
		snprintf(buf, len, "%s/disk/%s-%s-%s", h_dir(), c->name,
			 user_name[user], side_name[for_side]);
	else
		snprintf(buf, len, "/scheme/" SCHEME "/%s-%s-%s", c->name,
			 user_name[user], side_name[for_side]);
	if (mkdir(buf, 0755) < 0)
		return -1;
	return user == AS_NOBODY ? chown(buf, NOBODY, NOBODY) : 0;
}

/* One run: the case on one side as one user; its failures. */
static int
run_case(const struct pcase *c, int side, int user)
{
	int r;

	x.name = c->name;
	x.side = side;
	x.user = user;
	x.checks = x.fails = 0;
	ck_assert_int_eq(fresh_dir(x.dir, sizeof(x.dir), side, c, user, side),
			 0);
	ck_assert_int_eq(
	    fresh_dir(x.other, sizeof(x.other), !side, c, user, side), 0);
	if (c->prep != NULL && (r = run_child(c->prep, AS_ROOT)) != 0)
		return r;
	r = run_child(c->fn, user);
	tally->runs[user][side]++;
	return r;
}

START_TEST(posix_case)
{
	const struct pcase *c = &cases[_i];
	int fails[2][2] = {{0}}, user, side;
	const char *why = known(c->name);

	if (c->prep != NULL && geteuid() != 0) {
		fprintf(stderr,
			"%s: not root, nothing of root's to prepare: "
			"skipped\n",
			c->name);
		return;
	}
	for (user = AS_ROOT; user <= AS_NOBODY; user++) {
		if (user == AS_NOBODY && geteuid() != 0) {
			fprintf(stderr, "%s: not root, nobody's runs skipped\n",
				c->name);
			continue;
		}
		for (side = ON_DISK; side <= ON_SCHEME; side++)
			fails[user][side] = run_case(c, side, user);
	}
	ck_assert_msg(fails[0][ON_DISK] == 0 && fails[1][ON_DISK] == 0,
		      "%s fails on disk: the expectation or the machine is "
		      "wrong (see above)",
		      c->name);
	if (why != NULL) {
		ck_assert_msg(fails[0][ON_SCHEME] || fails[1][ON_SCHEME],
			      "%s passes on the scheme now: take it off "
			      "known_divergent[]",
			      c->name);
		fprintf(stderr, "KNOWN DIVERGENCE %s on the scheme: %s\n",
			c->name, why);
		tally->known++;
		return;
	}
	ck_assert_msg(fails[0][ON_SCHEME] == 0 && fails[1][ON_SCHEME] == 0,
		      "%s fails on the scheme (see above)", c->name);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("posix");
	TCase *tc = tcase_create("calls");
	int r;

	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tally == MAP_FAILED)
		return 1;
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, posix_case, 0, NCASES);
	suite_add_tcase(s, tc);
	r = h_main(s);
	printf("test_posix: %d cases;", NCASES);
	for (int u = 0; u < 2; u++)
		for (int d = 0; d < 2; d++)
			printf(" %s as %s: %d runs, %d checks, %d failed;",
			       side_name[d], user_name[u], tally->runs[u][d],
			       tally->checks[u][d], tally->fails[u][d]);
	printf(" %d known divergent on the scheme\n", tally->known);
	return r;
}
