/*
 * runsup.h - what schemerun does for a program the preload cannot reach
 * (statically linked, Go) and for one stored on a scheme: the
 * kernel-visible view for the run, and the helper that serves the
 * program's path calls (sup.h) and ends the view after it.
 */
#ifndef TOOLS_RUNSUP_H
#define TOOLS_RUNSUP_H

#include <limits.h>
#include <stdbool.h>

struct run_view {
	char dir[PATH_MAX]; /* its mount point */
	bool own;	    /* mounted for this run: unmounted after it */
};

/*
 * The view of the broker at sock when one is mounted (schemed --mount,
 * schemectl mount), else one mounted now at SOCK.view.XXXXXX.  0, or
 * -1 after one line on stderr saying why there is none.
 */
int runsup_view(const char *sock, struct run_view *v, const char *why);

/* Unmount a view mounted for the run (lazily), and remove its directory. */
void runsup_drop(const struct run_view *v);

/*
 * Start the helper, detached (not our child, so not the program's), in
 * its own session (a terminal's ^C is the program's alone).  With
 * supervise, install the filter in this process and hand the listener
 * to the helper, which serves it until no process has the filter; else
 * the helper waits for this process to exit.  Then it unmounts an own
 * view.  0 or -1 after one line on stderr.
 */
int runsup_start(const struct run_view *v, bool supervise);

#endif
