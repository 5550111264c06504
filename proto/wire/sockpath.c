/*
 * sockpath.c - where the broker listens (see sockpath.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockpath.h"
#include "../sys.h"

int
sockpath_default(char *buf, size_t len)
{
	const char *env = getenv("SCHEME_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (len > sizeof(((struct sockaddr_un *)0)->sun_path))
		len = sizeof(((struct sockaddr_un *)0)->sun_path);
	if (env != NULL && env[0] != '\0')
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/scheme");
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/scheme", xdg);
	else
		n = snprintf(buf, len, "/tmp/scheme-%u/socket",
			     (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Make the directory a socket path lives in (only our /tmp fallback). */
int
sockpath_mkdir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (SYS(mkdir)(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (SYS(stat)(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return -EPERM; /* someone else's directory in /tmp */
	return 0;
}

/* A connection to the broker at path: an fd (close-on-exec) or -errno. */
int
sockpath_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r, saved = errno;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = SYS(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		errno = saved;
		return r;
	}
	if (SYS(connect)(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		SYS(close)(fd);
		errno = saved;
		return r;
	}
	errno = saved;
	return fd;
}
