/*
 * rawsys_prog.c - a program that makes its file system calls by number,
 * for test_rawsys.  `rawsys_prog HOW WHAT DIR`: HOW is `libc` (libc's
 * syscall() function) or `asm` (a `syscall` instruction of its own);
 * WHAT is `files` (one walk of the calls the preload serves, each result
 * printed, so that a disk directory and a scheme directory can be
 * compared line by line), `threads`, `fork`, `exec`, `sigsys` or
 * `uring` (io_uring set up by number, and by liburing.so.2 if there).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static long (*sys)(long, long, long, long, long, long, long);

static long
by_asm(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static long
by_libc(long nr, long a, long b, long c, long d, long e, long f)
{
	return syscall(nr, a, b, c, d, e, f);
}

#define SYS(nr, ...) sys_(nr, __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define sys_(nr, a, b, c, d, e, f, ...)                                        \
	sys(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e),         \
	    (long)(f))

static void
say(const char *what, long r)
{
	if (r < 0)
		printf("%s = -1 %s\n", what, strerror(errno));
	else
		printf("%s = %ld\n", what, r);
}

static void
listing(int fd)
{
	char buf[4096], names[1024] = "";
	long n, off;
	struct dirent64 *d;

	while ((n = SYS(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += d->d_reclen) {
			d = (struct dirent64 *)(buf + off);
			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				strcat(strcat(names, " "), d->d_name);
		}
	say("getdents64 end", n);
	printf("names:%s\n", names);
}

static void
meta(const char *p)
{
	struct stat st;
	struct statx sx;

	say("newfstatat", SYS(SYS_newfstatat, AT_FDCWD, p, &st, 0));
	printf("  size %lld mode %o\n", (long long)st.st_size, st.st_mode);
	say("statx", SYS(SYS_statx, AT_FDCWD, p, 0, STATX_BASIC_STATS, &sx));
	printf("  size %llu mode %o mtime %lld\n",
	       (unsigned long long)sx.stx_size, sx.stx_mode,
	       (long long)sx.stx_mtime.tv_sec);
	say("stat", SYS(SYS_stat, p, &st));
	say("faccessat2 W", SYS(SYS_faccessat2, AT_FDCWD, p, W_OK, 0));
	say("faccessat X", SYS(SYS_faccessat, AT_FDCWD, p, X_OK));
}

static void
files(const char *dir)
{
	char d[4096], f[4200], g[4200], buf[64] = "";
	struct timespec ts[2] = {{1000, 0}, {2000, 0}};
	struct stat st;
	int fd;

	snprintf(d, sizeof(d), "%s/rawd", dir);
	snprintf(f, sizeof(f), "%s/f", d);
	snprintf(g, sizeof(g), "%s/g", d);
	say("mkdirat", SYS(SYS_mkdirat, AT_FDCWD, d, 0755));
	fd = (int)SYS(SYS_openat, AT_FDCWD, f, O_CREAT | O_RDWR, 0644);
	say("openat", fd < 0 ? -1 : 0);
	say("write", SYS(SYS_write, fd, "hello raw\n", 10));
	say("lseek", SYS(SYS_lseek, fd, 0, SEEK_SET));
	say("read", SYS(SYS_read, fd, buf, 5));
	printf("  %s\n", buf);
	say("pread64", SYS(SYS_pread64, fd, buf, 3, 6));
	say("fstat", SYS(SYS_fstat, fd, &st));
	printf("  size %lld\n", (long long)st.st_size);
	say("close", SYS(SYS_close, fd));
	say("close again", SYS(SYS_close, fd));
	say("fchmodat", SYS(SYS_fchmodat, AT_FDCWD, f, 0600));
	say("utimensat", SYS(SYS_utimensat, AT_FDCWD, f, ts, 0));
	meta(f);
	say("readlinkat", SYS(SYS_readlinkat, AT_FDCWD, f, buf, sizeof(buf)));
	say("renameat2", SYS(SYS_renameat2, AT_FDCWD, f, AT_FDCWD, g, 0));
	say("statx old", SYS(SYS_statx, AT_FDCWD, f, 0, 0, &st));
	fd = (int)SYS(SYS_openat, AT_FDCWD, d, O_RDONLY | O_DIRECTORY, 0);
	listing(fd);
	say("close dir", SYS(SYS_close, fd));
	say("unlinkat", SYS(SYS_unlinkat, AT_FDCWD, g, 0));
	say("unlinkat dir", SYS(SYS_unlinkat, AT_FDCWD, d, AT_REMOVEDIR));
	say("statx gone", SYS(SYS_statx, AT_FDCWD, d, 0, 0, &st));
}

/* One statx of PATH: its size, or the error, on one line. */
static int
size_of(const char *path)
{
	struct statx sx;

	if (SYS(SYS_statx, AT_FDCWD, path, 0, STATX_SIZE, &sx) < 0)
		return -errno;
	return (int)sx.stx_size;
}

static void *
thread(void *p)
{
	int i, bad = 0;

	for (i = 0; i < 200; i++)
		bad += size_of(p) != 5;
	return (void *)(long)bad;
}

static int
threads(const char *path)
{
	pthread_t t[4];
	void *bad;
	long all = 0;
	int i;

	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread, (void *)path);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		all += (long)bad;
	}
	printf("threads: %ld wrong\n", all);
	return all != 0;
}

static int
forked(const char *path)
{
	int st;
	pid_t p = fork();

	if (p == 0)
		_exit(size_of(path) == 5 ? 0 : 1);
	waitpid(p, &st, 0);
	printf("fork child: %s\n", st == 0 ? "ok" : "wrong");
	return st != 0;
}

static volatile sig_atomic_t theirs;

static void
their_handler(int sig, siginfo_t *si, void *ctx)
{
	theirs = si->si_code == SI_USER ? 1 : 2;
}

static int
sigsys(const char *path)
{
	struct sigaction sa = {.sa_sigaction = their_handler,
			       .sa_flags = SA_SIGINFO},
			 old;
	sigset_t all;

	sigaction(SIGSYS, &sa, NULL);
	sigaction(SIGSYS, NULL, &old);
	printf("sigaction reads back: %s\n",
	       old.sa_sigaction == their_handler ? "theirs" : "other");
	kill(getpid(), SIGSYS);
	printf("their handler: %d\n", (int)theirs);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	printf("size, SIGSYS blocked: %d\n", size_of(path));
	return theirs != 1;
}

/*
 * io_uring set up by number (HOW), then by liburing's io_uring_queue_init
 * as a program linked with it would bind the name (the first definition
 * in the global scope), each said with its errno.
 */
static int
uring(void)
{
	int (*init)(unsigned, void *, unsigned);
	static long ring[64], params[15]; /* struct io_uring, _params */
	long r = SYS(SYS_io_uring_setup, 4, params);

	printf("io_uring_setup: %s\n", r >= 0 ? "an fd" : strerror(errno));
	if (dlopen("liburing.so.2", RTLD_NOW | RTLD_GLOBAL) == NULL) {
		printf("liburing: not here\n");
		return 0;
	}
	init = (__typeof__(init))dlsym(RTLD_DEFAULT, "io_uring_queue_init");
	r = init != NULL ? init(4, ring, 0) : -ENOENT;
	printf("io_uring_queue_init: %s\n",
	       r >= 0 ? "a ring" : strerror((int)-r));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	sys = strcmp(argv[1], "asm") == 0 ? by_asm : by_libc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[2], "files") == 0)
		files(argv[3]);
	else if (strcmp(argv[2], "size") == 0)
		printf("size: %d\n", size_of(argv[3]));
	else if (strcmp(argv[2], "threads") == 0)
		return threads(argv[3]);
	else if (strcmp(argv[2], "fork") == 0)
		return forked(argv[3]);
	else if (strcmp(argv[2], "exec") == 0)
		execl("/proc/self/exe", argv[0], argv[1], "size", argv[3],
		      (char *)NULL);
	else if (strcmp(argv[2], "sigsys") == 0)
		return sigsys(argv[3]);
	else if (strcmp(argv[2], "uring") == 0)
		return uring();
	else
		return 2;
	return 0;
}
