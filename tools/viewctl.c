/*
 * viewctl.c - see viewctl.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../proto/viewfind.h"
#include "cli.h"
#include "paths.h"
#include "viewctl.h"

int
viewctl_exec(const char *sock, const char *dir, bool foreground)
{
	char lib[PATH_MAX], prog[PATH_MAX], pre[2 * PATH_MAX];
	int r;

	if ((r = paths_find(lib, sizeof(lib), PATHS_PRELOAD)) < 0 ||
	    (r = paths_find(prog, sizeof(prog), PATHS_VIEW)) < 0)
		return r;
	snprintf(pre, sizeof(pre), "%s%s%s", SCHEME_ASAN_RUNTIME,
		 SCHEME_ASAN_RUNTIME[0] ? ":" : "", lib);
	if (setenv("LD_PRELOAD", pre, 1) < 0 ||
	    setenv("SCHEME_SOCKET", sock, 1) < 0)
		return -errno;
	if (foreground)
		execl(prog, "scheme-fuse", "-f", "--", dir, (char *)NULL);
	else
		execl(prog, "scheme-fuse", "--", dir, (char *)NULL);
	return -errno;
}

/* Walk the views: fn(point, source, opts, arg) true stops the walk. */
static bool
views_walk(bool (*fn)(const char *, const char *, const char *, void *),
	   void *arg)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *point, *source, *opts;
	size_t cap = 0;
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && getline(&line, &cap, f) > 0)
		found = viewfind_line(line, &point, &source, &opts) &&
			fn(point, source, opts, arg);
	free(line);
	fclose(f);
	return found;
}

static bool
is_dir(const char *point, const char *source, const char *opts, void *dir)
{
	return strcmp(point, dir) == 0;
}

bool
viewctl_mounted(const char *dir)
{
	return views_walk(is_dir, (void *)dir);
}

struct find {
	const char *sock;
	char *dir;
	size_t len;
};

/*
 * Mounted by our user for the broker at sock, and not one schemerun
 * mounted for a run, which goes away with that run.
 */
static bool
is_ours(const char *point, const char *source, const char *opts, void *arg)
{
	struct find *f = arg;

	if (viewfind_run(point, f->sock) ||
	    !viewfind_for(source, opts, f->sock, (unsigned)geteuid()))
		return false;
	return (size_t)snprintf(f->dir, f->len, "%s", point) < f->len;
}

bool
viewctl_find(const char *sock, char *dir, size_t len)
{
	struct find f = {sock, dir, len};

	return views_walk(is_ours, &f);
}

static int
wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* scheme-fuse DIR, under the preload: it detaches once DIR is mounted. */
int
viewctl_mount(const char *sock, const char *dir)
{
	pid_t pid = fork();
	int r;

	if (pid < 0) {
		fprintf(stderr, "%s: mount: %s\n", cli_prog(), strerror(errno));
		return 1;
	}
	if (pid == 0) {
		r = viewctl_exec(sock, dir, false);
		fprintf(stderr, "%s: mount: %s\n", cli_prog(),
			r == -ENOENT ? "scheme-fuse is not installed (it "
				       "needs libfuse3)"
				     : strerror(-r));
		_exit(1);
	}
	return wait_status(pid);
}

/* By umount(2), or by fusermount3 for a user who may not. */
int
viewctl_umount(const char *arg)
{
	char dir[PATH_MAX];
	pid_t pid;

	if (realpath(arg, dir) == NULL || !viewctl_mounted(dir)) {
		fprintf(stderr, "%s: umount: %s: %s\n", cli_prog(), arg,
			errno == ENOENT ? strerror(errno)
					: "not a view of the schemes");
		return 1;
	}
	if (umount2(dir, UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno != EPERM) {
		fprintf(stderr, "%s: umount: %s: %s\n", cli_prog(), dir,
			errno == EBUSY ? "busy: a program has a file open or "
					 "its working directory there"
				       : strerror(errno));
		return 1;
	}
	if ((pid = fork()) == 0) {
		execlp("fusermount3", "fusermount3", "-u", "--", dir,
		       (char *)NULL);
		fprintf(stderr, "%s: umount: fusermount3: %s\n", cli_prog(),
			strerror(errno));
		_exit(1);
	}
	return pid > 0 ? wait_status(pid) : 1;
}
