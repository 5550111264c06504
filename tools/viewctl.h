/*
 * viewctl.h - starting and finding scheme-fuse, the kernel-visible view
 * of the schemes: what schemectl (mount, umount) and schemed (--mount)
 * share.
 */
#ifndef TOOLS_VIEWCTL_H
#define TOOLS_VIEWCTL_H

#include <stdbool.h>

/*
 * Exec scheme-fuse [-f] DIR under the preload, for the broker at sock.
 * Returns only on failure, with -errno (-ENOENT: scheme-fuse or the
 * preload is not installed beside us).
 */
int viewctl_exec(const char *sock, const char *dir, bool foreground);

/*
 * schemectl mount and umount: exit statuses (0, or 1 after one line on
 * stderr saying why; scheme-fuse says its own).
 */
int viewctl_mount(const char *sock, const char *dir);
int viewctl_umount(const char *dir);

/* Whether dir (a canonical path) is the mount point of a view. */
bool viewctl_mounted(const char *dir);

/*
 * The mount point of a view our user mounted for the broker at sock (the
 * view's source is "scheme:SOCK"), into dir: whether there is one.
 */
bool viewctl_find(const char *sock, char *dir, size_t len);

#endif
