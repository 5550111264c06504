/*
 * relay.h - a program the preload cannot reach keeps its standard
 * streams (see relay.c).
 */
#ifndef PRELOAD_RELAY_H
#define PRELOAD_RELAY_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#define RELAY_KEEP 64 /* other scheme fds made close-on-exec, restorable */

struct relay_plan {
	bool on;
	int saved[3];		 /* fds 0-2 as they were, or -1 */
	struct sfd *entry[3];	 /* their fd-table entries */
	int cloexec[RELAY_KEEP]; /* scheme fds we made close-on-exec */
	int ncloexec;
	char lock[4096]; /* the relay file, or "" */
};

/*
 * Before exec of `file` (or of the open fd, for fexecve; file NULL):
 * when it is a program the preload cannot reach and fds 0-2 hold scheme
 * fds, put relays in their place.  search: find file on PATH as execvp.
 */
void relay_before_exec(const char *file, int fd, bool search,
		       struct relay_plan *rp);

/* The exec failed: everything as it was. */
void relay_exec_failed(struct relay_plan *rp);

/*
 * A child of ours ended (pid, and its status as wait gives it): wait for
 * its relays to have delivered what it wrote.  *status becomes a death
 * by SIGPIPE if they could not.
 */
void relay_reaped(pid_t pid, int *status);
void relay_reaped_info(siginfo_t *info);

/* After system() or pclose(): the same for every child of ours. */
void relay_reaped_mine(int *status);

#endif
