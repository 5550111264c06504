/*
 * sup.h - serving the path calls of a program the preload cannot reach
 * (statically linked, Go) on scheme paths, through the kernel-visible
 * view, with seccomp user notification.
 *
 * schemerun installs the filter in itself and execs the program, which
 * so keeps schemerun's pid; a helper process it made holds the
 * listener.  The filter sends every system call that names a path to the
 * helper.  A path that is not a scheme path (nearly all of them) is let
 * through as it was (SECCOMP_USER_NOTIF_FLAG_CONTINUE); a scheme path is
 * served by the helper on the view's file of that path: an open by
 * opening it and placing the fd in the program (SECCOMP_IOCTL_NOTIF_ADDFD),
 * anything else by making the call itself and writing what it returns
 * into the program.  From then on the program's reads, writes, seeks,
 * stats and maps of that fd are ordinary kernel calls on the view.
 *
 * It is not a sandbox: the program can reach whatever its user can,
 * and the helper acts for it only while it has the helper's ids (the
 * view's rule: no other user may use it).
 */
#ifndef TOOLS_SUP_H
#define TOOLS_SUP_H

/*
 * Install the filter in the calling process (and so in everything it
 * execs or forks from then on).  Returns the listener fd, or -errno:
 * -ENOSYS for an architecture we have no table for.  It sets
 * no_new_privs only when the process may not install a filter without
 * it (it lacks CAP_SYS_ADMIN).
 */
int sup_install(void);

/*
 * The view's path of a scheme path (name:rest is VIEW/name/rest,
 * /scheme/name/rest too): 1, 0 for an ordinary path (a name the view
 * does not show is none: "a:b.txt" on disk), or -errno.
 */
int sup_view_path(const char *view, const char *path, char *out, size_t len);

/*
 * Serve the listener until no process uses the filter any more.  view:
 * the view's mount point (DIR/NAME/PATH is NAME:PATH).  Messages start
 * with prog.
 */
void sup_serve(int listener, const char *view, const char *prog);

#endif
