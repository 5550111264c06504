/*
 * viewfind.h - telling the kernel-visible view of a broker's schemes
 * among the lines of /proc/self/mountinfo.
 *
 * schemectl, schemed and schemerun look for a view to use or to unmount
 * (tools/viewctl.c); the preload's exec wrappers look for the one to
 * exec a program stored on a scheme from (preload/execview.c).  Pure:
 * each reads the file with whatever I/O it has and hands it the lines.
 */
#ifndef PROTO_VIEWFIND_H
#define PROTO_VIEWFIND_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A line of mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS
 * [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS.  Whether it is a view
 * (fuse.scheme); its mount point, source and super options, pointing
 * into line, their \ooo escapes undone.
 */
bool viewfind_line(char *line, char **point, char **source, char **opts);

/*
 * Whether a view is one user uid mounted (fusermount3 records who, as
 * user_id=) for the broker at sock (its source is "scheme:SOCK").
 */
bool viewfind_for(const char *source, const char *opts, const char *sock,
		  unsigned uid);

/*
 * Whether point is where schemerun mounted a view for one run
 * (SOCK.view.XXXXXX): it goes away with that run, so only the run's
 * own programs may use it (they are told so by SCHEME_VIEW).
 */
bool viewfind_run(const char *point, const char *sock);

#endif
