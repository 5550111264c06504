/*
 * sys_libc.c - proto/'s table for the daemons and tools: plain libc.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys.h"

static int
open2(const char *path, int flags)
{
	return open(path, flags);
}

static int
pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* Not cancellation points (sys.h). */
static ssize_t
raw_read(int fd, void *b, size_t n)
{
	return syscall(SYS_read, fd, b, n);
}

static ssize_t
raw_write(int fd, const void *b, size_t n)
{
	return syscall(SYS_write, fd, b, n);
}

static ssize_t
raw_writev(int fd, const struct iovec *v, int n)
{
	return syscall(SYS_writev, fd, v, n);
}

static long
futex(uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, w, op, val, NULL);
}

const struct proto_sys proto_sys = {
    .close = close,
    .read = raw_read,
    .write = raw_write,
    .writev = raw_writev,
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
    .pidfd_open = pidfd_open,
    .pthread_create = pthread_create,
    .pthread_sigmask = pthread_sigmask,
    .futex = futex,
};
