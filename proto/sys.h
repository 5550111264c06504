/*
 * sys.h - how proto/ reaches the C library: through proto_sys, a table
 * whoever links proto/ defines.
 *
 * The daemons and tools link sys_libc.c: plain libc.  The preload links
 * its own (preload/sys_real.c), where each entry is the next definition
 * past its wrappers: inside a program, `close` is the preload's own, and
 * an internal call must never come back into a wrapper (it would route
 * our own sockets through the fd table, and the recvmsg wrapper would
 * adopt descriptions we are only passing along).  So proto/ is compiled
 * once and knows nothing of the preload: what it needs is handed to it.
 */
#ifndef PROTO_SYS_H
#define PROTO_SYS_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

struct proto_sys {
	int (*close)(int);
	/*
	 * read, write and writev are never cancellation points: serve makes
	 * them with its lock held, which a cancelled thread would keep for
	 * ever, and they cost less than libc's, which are.  The one read
	 * that blocks (serve.c, direct reads) is woken instead (serve_wake).
	 */
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*fstat)(int, struct stat *);
	int (*stat)(const char *, struct stat *);
	int (*mkdir)(const char *, mode_t);
	int (*open)(const char *, int); /* no mode: never creates */
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*pipe2)(int[2], int);
	int (*eventfd)(unsigned int, int);
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*pidfd_open)(pid_t, unsigned int);
	int (*pthread_create)(pthread_t *, const pthread_attr_t *,
			      void *(*)(void *), void *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	/* FUTEX_WAIT and FUTEX_WAKE, no timeout (serve/mutex.c) */
	long (*futex)(uint32_t *, int, uint32_t);
};

extern const struct proto_sys proto_sys;

#define SYS(f) (*proto_sys.f)

#endif
