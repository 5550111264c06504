/*
 * listen.c - the listening socket systemd passes (socket activation).
 *
 * The protocol is sd_listen_fds(3)'s, in a few lines rather than a
 * library: when LISTEN_PID is our pid, LISTEN_FDS sockets start at fd 3.
 * schemed.socket passes one, a listening AF_UNIX SOCK_SEQPACKET socket
 * (ListenSequentialPacket=, Accept=no).  Anything else is a unit written
 * wrong, and is refused at start with a line saying what to fix, rather
 * than left to make a broker that accepts nothing or reads garbage.
 *
 * The socket is systemd's.  It was bound, and its mode and group set, by
 * the unit (SocketMode=, SocketGroup=), and it outlives us: when we exit,
 * the next connection starts a fresh broker, with none of the schemes this
 * one had (their providers read end-of-file, as at any broker's end).  So
 * --group does not chmod it here (we say so when the unit's mode shuts the
 * group out), and it is not unlinked at shutdown: sock_ino stays 0, which
 * no file has, so control_shutdown() never takes it for ours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

#define LISTEN_FDS_START 3

/*
 * How many fds were passed to us: 0 when none were, or they were meant
 * for another process (LISTEN_PID).  The variables are removed so that
 * nothing we run later takes the fds for its own.
 */
static int
passed_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n = 0;

	if (pid != NULL && fds != NULL && *pid != '\0' &&
	    strtol(pid, &end, 10) == (long)getpid() && *end == '\0') {
		n = strtol(fds, &end, 10);
		if (*fds == '\0' || *end != '\0' || n < 0 || n > 1024)
			fatalx("socket activation: LISTEN_FDS=%s is not a "
			       "count of fds",
			       fds);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

static int
sockopt(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) < 0)
		return -1;
	return v;
}

/* What is wrong with fd as our listening socket (NULL: nothing); its path. */
static const char *
unfit(int fd, char *path, size_t len)
{
	struct sockaddr_un sa;
	socklen_t salen = sizeof(sa);
	struct stat st;
	size_t n;

	if (fstat(fd, &st) < 0)
		return "is not open";
	if (!S_ISSOCK(st.st_mode))
		return "is not a socket";
	if (sockopt(fd, SO_DOMAIN) != AF_UNIX)
		return "is not an AF_UNIX socket (the unit wants "
		       "ListenSequentialPacket=PATH)";
	if (sockopt(fd, SO_TYPE) != SOCK_SEQPACKET)
		return "is not a SOCK_SEQPACKET socket (the unit wants "
		       "ListenSequentialPacket=, not ListenStream= or "
		       "ListenDatagram=)";
	if (sockopt(fd, SO_ACCEPTCONN) != 1)
		return "is not listening (the unit wants Accept=no)";
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0 ||
	    salen <= offsetof(struct sockaddr_un, sun_path) ||
	    sa.sun_path[0] == '\0')
		return "is not bound to a path (programs find the broker by "
		       "its path)";
	if ((n = strnlen(sa.sun_path, sizeof(sa.sun_path))) >= len)
		return "is bound to a path too long";
	memcpy(path, sa.sun_path, n);
	path[n] = '\0';
	return NULL;
}

/* --group's members must be able to connect: write access to the socket. */
static void
check_group(struct broker *b)
{
	struct stat st;

	if (b->group == (gid_t)-1 || stat(b->path, &st) < 0)
		return;
	if ((st.st_gid == b->group && (st.st_mode & S_IWGRP)) ||
	    (st.st_mode & S_IWOTH))
		return;
	log_warnx("%s is mode %04o, group %u: members of --group cannot "
		  "connect; set SocketGroup= and SocketMode=0660 in the "
		  ".socket unit",
		  b->path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
}

/*
 * Take the socket systemd passed, if it did: returns 1 when we listen on
 * it, 0 when nothing was passed (control_listen() makes our own).  A socket
 * of the wrong kind is fatal: the unit must be fixed.
 */
int
listen_systemd(struct broker *b)
{
	char path[sizeof(b->path)];
	const char *why;
	int n = passed_fds(), fd = LISTEN_FDS_START, r;

	if (n == 0)
		return 0;
	if (n != 1)
		fatalx("socket activation: systemd passed %d fds; schemed "
		       "takes one (one ListenSequentialPacket= in its .socket "
		       "unit)",
		       n);
	if ((why = unfit(fd, path, sizeof(path))) != NULL)
		fatalx("socket activation: fd %d %s", fd, why);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		fatalx("socket activation: fd %d: %s", fd, strerror(errno));
	if (b->path[0] != '\0' && strcmp(b->path, path) != 0)
		log_warnx("listening on %s from systemd, not on %s (--socket, "
			  "or where programs look by default)",
			  path, b->path);
	strcpy(b->path, path);
	check_group(b);
	if ((r = control_adopt(b, fd)) < 0)
		fatalx("socket activation: %s", strerror(-r));
	log_info("socket from systemd: %s", b->path);
	return 1;
}
