/*
 * sys_real.c - proto/'s table inside a program (proto/sys.h): each entry
 * is the next definition past our wrappers, resolved when first used
 * (REAL), so that proto/ code run before our constructor works too.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/syscall.h>

#include "../proto/sys.h"
#include "real.h"

#define THUNK(ret, f, params, args)                                            \
	static ret r_##f params                                                \
	{                                                                      \
		return REAL(f) args;                                           \
	}

THUNK(int, close, (int fd), (fd))
THUNK(int, fstat, (int fd, struct stat *st), (fd, st))
THUNK(int, stat, (const char *p, struct stat *st), (p, st))
THUNK(int, mkdir, (const char *p, mode_t m), (p, m))
THUNK(int, open, (const char *p, int fl), (p, fl))
THUNK(int, pipe2, (int p[2], int fl), (p, fl))
THUNK(int, eventfd, (unsigned int v, int fl), (v, fl))
THUNK(int, socket, (int d, int t, int p), (d, t, p))
THUNK(int, socketpair, (int d, int t, int p, int sv[2]), (d, t, p, sv))
THUNK(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
THUNK(int, setsockopt, (int fd, int lv, int o, const void *v, socklen_t l),
      (fd, lv, o, v, l))
THUNK(ssize_t, send, (int fd, const void *b, size_t n, int fl), (fd, b, n, fl))
THUNK(ssize_t, recv, (int fd, void *b, size_t n, int fl), (fd, b, n, fl))
THUNK(ssize_t, sendmsg, (int fd, const struct msghdr *m, int fl), (fd, m, fl))
THUNK(ssize_t, recvmsg, (int fd, struct msghdr *m, int fl), (fd, m, fl))
THUNK(int, epoll_create1, (int fl), (fl))
THUNK(int, epoll_ctl, (int ep, int op, int fd, struct epoll_event *e),
      (ep, op, fd, e))
THUNK(int, epoll_wait, (int ep, struct epoll_event *e, int n, int t),
      (ep, e, n, t))
THUNK(int, poll, (struct pollfd *p, nfds_t n, int t), (p, n, t))
/* The waker (proto/serve/waker.c) is ours: no trap set up for it. */
THUNK(int, pthread_create,
      (pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg),
      (t, a, fn, arg))
THUNK(int, pthread_sigmask, (int how, const sigset_t *set, sigset_t *old),
      (how, set, old))

/* Not a wrapper of ours: libc's syscall(), past the one we export. */
static int
r_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)REAL(syscall)(SYS_pidfd_open, pid, flags);
}

/* Not cancellation points (proto/sys.h): libc's syscall(). */
static ssize_t
r_read(int fd, void *b, size_t n)
{
	return REAL(syscall)(SYS_read, fd, b, n);
}

static ssize_t
r_write(int fd, const void *b, size_t n)
{
	return REAL(syscall)(SYS_write, fd, b, n);
}

static ssize_t
r_writev(int fd, const struct iovec *v, int n)
{
	return REAL(syscall)(SYS_writev, fd, v, n);
}

static long
r_futex(uint32_t *w, int op, uint32_t val)
{
	return REAL(syscall)(SYS_futex, w, op, val, NULL);
}

/* The variadic two: every caller in proto/ passes one word. */
static int
r_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return REAL(fcntl)(fd, cmd, arg);
}

static int
r_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return REAL(ioctl)(fd, req, arg);
}

const struct proto_sys proto_sys = {
    .close = r_close,
    .read = r_read,
    .write = r_write,
    .writev = r_writev,
    .fstat = r_fstat,
    .stat = r_stat,
    .mkdir = r_mkdir,
    .open = r_open,
    .fcntl = r_fcntl,
    .ioctl = r_ioctl,
    .pipe2 = r_pipe2,
    .eventfd = r_eventfd,
    .socket = r_socket,
    .socketpair = r_socketpair,
    .connect = r_connect,
    .setsockopt = r_setsockopt,
    .send = r_send,
    .recv = r_recv,
    .sendmsg = r_sendmsg,
    .recvmsg = r_recvmsg,
    .epoll_create1 = r_epoll_create1,
    .epoll_ctl = r_epoll_ctl,
    .epoll_wait = r_epoll_wait,
    .poll = r_poll,
    .pidfd_open = r_pidfd_open,
    .pthread_create = r_pthread_create,
    .pthread_sigmask = r_pthread_sigmask,
    .futex = r_futex,
};
