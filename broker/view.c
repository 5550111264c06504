/*
 * view.c - the kernel-visible view of the schemes that the broker starts
 * itself (schemed --mount DIR): scheme-fuse in the foreground, as our
 * child, under the preload, once we listen.  When we stop, it is asked to
 * stop (SIGTERM: it unmounts DIR and exits) and waited for; one that does
 * not stop in time is killed, and fusermount3, which watches every view
 * (auto_unmount), unmounts DIR.  It also stops by itself if we die: it
 * keeps a connection to us and unmounts when it closes.
 *
 * Its messages go to our stderr: the broker's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tools/viewctl.h"
#include "broker.h"
#include "log.h"

#define VIEW_GRACE_MS 5000

static pid_t view_pid = -1;

int
view_start(struct broker *b, const char *dir)
{
	sigset_t none;
	pid_t pid;
	int r;

	if (dir == NULL)
		return 0;
	if ((pid = fork()) < 0)
		return -errno;
	if (pid == 0) {
		/* Our blocked signals would keep it from hearing SIGTERM. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		r = viewctl_exec(b->path, dir, true);
		fprintf(stderr, "schemed: --mount %s: %s\n", dir,
			r == -ENOENT ? "scheme-fuse is not installed beside "
				       "schemed (it needs libfuse3)"
				     : strerror(-r));
		_exit(1);
	}
	view_pid = pid;
	log_info("mounting the view of the schemes at %s (scheme-fuse, pid %d)",
		 dir, (int)pid);
	return 0;
}

void
view_stop(void)
{
	struct timespec ms = {0, 1000000};
	int st, i;

	if (view_pid <= 0)
		return;
	kill(view_pid, SIGTERM);
	for (i = 0; i < VIEW_GRACE_MS; i++) {
		if (waitpid(view_pid, &st, WNOHANG) == view_pid) {
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				log_warnx("the view (pid %d) ended with status "
					  "%d",
					  (int)view_pid,
					  WIFEXITED(st) ? WEXITSTATUS(st)
							: 128 + WTERMSIG(st));
			view_pid = -1;
			return;
		}
		nanosleep(&ms, NULL);
	}
	log_warnx("the view (pid %d) did not stop in %d ms: killed",
		  (int)view_pid, VIEW_GRACE_MS);
	kill(view_pid, SIGKILL);
	waitpid(view_pid, NULL, 0);
	view_pid = -1;
}
