/*
 * bench_fuse.c - the FUSE side of the comparison: a minimal low-level
 * libfuse file system with one file, mounted by the tool itself.
 *
 * The file ("file" in the mount's root) is what the scheme provider of
 * bench_prov.c serves: a read gets what it asked for, a write takes
 * everything, and it is opened with direct_io so that every read and
 * write reaches the daemon, as every request reaches a provider.  Names
 * and attributes are cached for an hour, so an open is one OPEN request;
 * flush is left out (the kernel stops asking after the first ENOSYS) and
 * RELEASE is asynchronous, so a close costs the caller nothing more.
 * The daemon runs in a child, with fuse_session_loop() or
 * fuse_session_loop_mt(), and is stopped by SIGTERM (libfuse's handlers
 * end the loop and unmount); a daemon that does not stop is detached and
 * killed.  Without libfuse3 at build time, or /dev/fuse at run time, the
 * FUSE figures are skipped with a message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static char why[512];

/* Lazily unmount dir if something is mounted there (quietly). */
static void
detach(const char *dir)
{
	pid_t pid;

	if (umount2(dir, MNT_DETACH) == 0 || errno != EPERM)
		return;
	pid = fork(); /* not root: the set-user-ID helper can */
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("fusermount3", "fusermount3", "-u", "-z", "-q", dir,
		       (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

void
bfuse_cleanup(const char *dir)
{
	char path[300];
	const char *sub[] = {"fuse1", "fusem", "view0", "view1", "ptfs"};

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		if (access(path, F_OK) == 0) {
			detach(path);
			rmdir(path);
		}
	}
}

#ifdef BENCH_HAVE_FUSE

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#define FILE_INO 2

static char data[256 * 1024];

static void
fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0666;
		st->st_nlink = 1;
		st->st_size = 1ll << 40; /* reads never reach its end */
	}
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, "file") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = 3600;
	e.entry_timeout = 3600;
	fill_attr(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, 3600);
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FILE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->direct_io = 1; /* every read and write comes to us */
	fuse_reply_open(req, fi);
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	struct fuse_file_info *fi)
{
	fuse_reply_buf(req, data, size < sizeof(data) ? size : sizeof(data));
}

static void
fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	 off_t off, struct fuse_file_info *fi)
{
	fuse_reply_write(req, size);
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops fs_ops = {
    .lookup = fs_lookup,
    .getattr = fs_getattr,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .release = fs_release,
};

static int
fs_loop(struct fuse_session *se, int mt)
{
	struct fuse_loop_config *cfg;
	int r;

	if (!mt)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (cfg == NULL)
		return -ENOMEM;
	r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

/* The daemon: says 'r' on ready once mounted, or 'e' and why not. */
static void
fs_main(const char *dir, int mt, int ready)
{
	static char name[] = "bench-fuse";
	char *argv[] = {name, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_session *se;
	char msg[256];

	memset(data, 'x', sizeof(data));
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), NULL);
	if (se == NULL || fuse_set_signal_handlers(se) < 0 ||
	    fuse_session_mount(se, dir) < 0) {
		snprintf(msg, sizeof(msg), "e%s: mounting failed",
			 access("/dev/fuse", R_OK | W_OK) < 0 ? "/dev/fuse"
							      : dir);
		if (write(ready, msg, strlen(msg)) < 0)
			_exit(2);
		_exit(1);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	close(ready);
	fs_loop(se, mt);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	_exit(0);
}

const char *
bfuse_version(void)
{
	return fuse_pkgversion();
}

const char *
bfuse_skip(void)
{
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		snprintf(why, sizeof(why), "/dev/fuse: %s", strerror(errno));
		return why;
	}
	return why[0] != '\0' ? why : NULL;
}

/* The daemon's word on fd: 'r' (mounted), or 'e' and why not. */
int
bfuse_ready(struct bfuse *f, int fd)
{
	char msg[256];
	ssize_t n = read(fd, msg, sizeof(msg) - 1);

	close(fd);
	if (n == 1 && msg[0] == 'r')
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	snprintf(why, sizeof(why), "%s",
		 n > 1 ? msg + 1 : "the FUSE daemon died");
	waitpid(f->pid, NULL, 0);
	f->pid = -1;
	rmdir(f->dir);
	return -1;
}

/* Mount a daemon at <bench dir>/fuse1 or /fusem; -1 (see bfuse_skip). */
int
bfuse_start(struct bfuse *f, int mt)
{
	int rd[2];

	if (bfuse_skip() != NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/%s", bench_dir(),
		 mt ? "fusem" : "fuse1");
	snprintf(f->file, sizeof(f->file), "%s/file", f->dir);
	if ((mkdir(f->dir, 0700) < 0 && errno != EEXIST) ||
	    pipe2(rd, O_CLOEXEC) < 0) {
		snprintf(why, sizeof(why), "%.256s: %.200s", f->dir,
			 strerror(errno));
		return -1;
	}
	f->pid = fork();
	if (f->pid < 0)
		bench_die("fork");
	if (f->pid == 0) {
		close(rd[0]);
		fs_main(f->dir, mt, rd[1]);
	}
	close(rd[1]);
	return bfuse_ready(f, rd[0]);
}

#else /* !BENCH_HAVE_FUSE */

const char *
bfuse_version(void)
{
	return "none";
}

const char *
bfuse_skip(void)
{
	return "bench was built without libfuse3 (pkg-config fuse3 not "
	       "found; tools/install-deps.sh installs libfuse3-dev)";
}

int
bfuse_start(struct bfuse *f, int mt)
{
	snprintf(why, sizeof(why), "%s", bfuse_skip());
	return -1;
}

#endif

/* Up to two seconds for the daemon to end by itself, then force it. */
void
bfuse_stop(struct bfuse *f)
{
	struct timespec ms = {0, 1000000};
	int i;

	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	for (i = 0; i < 2000; i++) {
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid)
			break;
		nanosleep(&ms, NULL);
	}
	if (i == 2000) {
		detach(f->dir);
		bench_kill(f->pid);
	}
	detach(f->dir); /* EINVAL when the daemon unmounted it: fine */
	rmdir(f->dir);
	f->pid = -1;
}
