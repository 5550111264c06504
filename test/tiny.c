/*
 * tiny.c - see tiny.h.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"
#include "tiny.h"

/* FNV-1a of a path: a sloppy provider's inode number for it. */
static uint64_t
path_ino(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h | 1;
}

static void
tiny_provider(const char *name)
{
	static unsigned char hold[1 << 16];
	static uint64_t ino[1 << 16];
	bool sloppy = getenv("TINY_SLOPPY") != NULL;
	struct scheme_packet p[64];
	char path[80];
	uint64_t next = 1;
	ssize_t n;
	int sfd;

	snprintf(path, sizeof(path), ":%s", name);
	if ((sfd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600)) < 0)
		_exit(2);
	while ((n = read(sfd, p, sizeof(p))) > 0) {
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(p[0]); i++) {
			struct scheme_packet *q = &p[i];
			uint64_t h = q->b % sizeof(hold);

			if (q->a == SYS_OPEN) {
				h = next++;
				hold[h % sizeof(hold)] =
				    strncmp((char *)(uintptr_t)q->b, "hold",
					    4) == 0;
				ino[h % sizeof(hold)] =
				    path_ino((char *)(uintptr_t)q->b);
				q->a = h;
			} else if (q->a == SYS_FSTAT && sloppy &&
				   q->d >= sizeof(struct stat)) {
				struct stat *st = (void *)(uintptr_t)q->c;

				memset(st, 0, sizeof(*st));
				st->st_mode = S_IFREG | 0644;
				st->st_nlink = 1;
				st->st_ino = ino[h];
				q->a = 0;
			} else if (q->a == SYS_READ && hold[h]) {
				continue; /* kept, never answered */
			} else if (q->a == SYS_READ) {
				memcpy((void *)(uintptr_t)q->c, "ok",
				       q->d < 2 ? q->d : 2);
				q->a = q->d < 2 ? q->d : 2;
			} else if (q->a == SYS_CLOSE) {
				q->a = 0;
			} else if (q->a == SYS_FEVENT) {
				q->a = hold[h] ? 0 : EVENT_READ;
			} else {
				q->a = sloppy ? 0 : (uint64_t)-ENOSYS;
			}
			if (write(sfd, q, sizeof(*q)) != sizeof(*q))
				_exit(3);
		}
	}
	_exit(0);
}

static void
lower_nofile(rlim_t n)
{
	struct rlimit rl = {n, n};

	if (n != 0 && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		_exit(4);
}

pid_t
tiny_start(const char *name, const char *const env[], rlim_t nofile)
{
	char log[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/%s.err", h_dir(), name);
	pid = fork();
	if (pid == 0) {
		int e =
		    open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		/* check's handler would pass a SIGTERM on to the test. */
		signal(SIGTERM, SIG_DFL);
		if (e < 0 || dup2(e, 2) < 0)
			_exit(4);
		for (int i = 0; env != NULL && env[i] != NULL; i++)
			putenv(strdup(env[i]));
		lower_nofile(nofile);
		tiny_provider(name);
	}
	ck_assert_int_gt(pid, 0);
	for (int i = 0; i < 500 && !h_scheme_exists(name); i++)
		h_sleep_ms(10);
	ck_assert(h_scheme_exists(name));
	return pid;
}

int
tiny_log_lines(const char *name, const char *what)
{
	char path[256], *buf, *p;
	size_t len;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.err", h_dir(), name);
	if ((buf = h_read_file(path, &len)) == NULL)
		return -1;
	for (p = buf; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	free(buf);
	return n;
}

int
tiny_try(const char *name)
{
	char path[80], buf[8];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s:other", name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return errno;
	if (read(fd, buf, sizeof(buf)) != 2 || memcmp(buf, "ok", 2) != 0)
		r = errno != 0 ? errno : EIO;
	if (close(fd) < 0 && r == 0)
		r = errno;
	return r;
}

void
tiny_assert_served(const char *name)
{
	int r = tiny_try(name);

	ck_assert_msg(r == 0, "%s:other: %s", name, strerror(r));
}

void
need_fds(rlim_t n)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_msg(rl.rlim_max >= n, "needs %lu fds, the limit is %lu",
		      (unsigned long)n, (unsigned long)rl.rlim_max);
	if (rl.rlim_cur < n) {
		rl.rlim_cur = n;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
}

void
flood_put(int fd, const struct flood *f)
{
	if (write(fd, f, sizeof(*f)) != sizeof(*f))
		_exit(5);
}

void
flood_get(int fd, struct flood *f)
{
	struct pollfd pf = {fd, POLLIN, 0};

	ck_assert_int_eq(poll(&pf, 1, 60000), 1);
	ck_assert_int_eq(read(fd, f, sizeof(*f)), (ssize_t)sizeof(*f));
}

void
flood_step(int fd)
{
	char c = 's';

	if (write(fd, &c, 1) != 1)
		_exit(6);
}

void
flood_wait(int fd)
{
	struct pollfd pf = {fd, POLLIN, 0};
	char c;

	if (poll(&pf, 1, 60000) != 1 || read(fd, &c, 1) != 1)
		_exit(7);
}

void
flood_opens(const char *name, int max, int extra, int rep, int go)
{
	struct flood f = {0};
	int *fds = calloc((size_t)max + 1, sizeof(int)), base = h_count_fds();
	char path[80];

	snprintf(path, sizeof(path), "%s:f", name);
	while (f.opened <= max && (fds[f.opened] = open(path, O_RDWR)) >= 0)
		f.opened++;
	f.err = errno;
	for (int i = 0; i < extra; i++)
		if (open(path, O_RDWR) < 0 && errno == f.err)
			f.refused++;
	flood_put(rep, &f);
	flood_wait(go);
	close(fds[--f.opened]);
	for (int i = 0; i < 200 && f.reopened == 0; i++) {
		if ((fds[f.opened] = open(path, O_RDWR)) >= 0)
			f.reopened = ++f.opened;
		else
			h_sleep_ms(10);
	}
	while (f.opened > 0)
		close(fds[--f.opened]);
	f.leaked = h_count_fds() - base;
	free(fds);
	flood_put(rep, &f);
	_exit(0);
}
