/*
 * sys_libc.c - proto/'s table for the daemons and tools: plain libc.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sys.h"

static int
open2(const char *path, int flags)
{
	return open(path, flags);
}

const struct proto_sys proto_sys = {
    .close = close,
    .read = read,
    .write = write,
    .writev = writev,
    .fstat = fstat,
    .stat = stat,
    .mkdir = mkdir,
    .open = open2,
    .fcntl = fcntl,
    .ioctl = ioctl,
    .pipe2 = pipe2,
    .eventfd = eventfd,
    .socket = socket,
    .socketpair = socketpair,
    .connect = connect,
    .setsockopt = setsockopt,
    .send = send,
    .recv = recv,
    .sendmsg = sendmsg,
    .recvmsg = recvmsg,
    .epoll_create1 = epoll_create1,
    .epoll_ctl = epoll_ctl,
    .epoll_wait = epoll_wait,
    .poll = poll,
};
