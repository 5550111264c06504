/*
 * real.h - the next definition of every function we wrap or use inside a
 * program, resolved once (dlsym RTLD_NEXT) into one table.
 *
 * Internal code must call these, never the plain names: inside the
 * preload, `close` is our own wrapper.  REAL(f) resolves the table first
 * if a call arrives before our constructor (from another library's).
 */
#ifndef PRELOAD_REAL_H
#define PRELOAD_REAL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define REAL_FNS(X)                                                            \
	X(open)                                                                \
	X(open64)                                                              \
	X(openat)                                                              \
	X(openat64) X(__open_2) X(__open64_2) X(__openat_2) X(__openat64_2) X( \
	    creat) X(creat64) X(fopen) X(fopen64) X(freopen) X(freopen64)      \
	    X(fdopen) X(read) X(__read_chk) X(readv) X(pread) X(pread64) X(    \
		__pread_chk) X(__pread64_chk) X(preadv) X(preadv64) X(write)   \
		X(writev) X(pwrite) X(pwrite64) X(pwritev) X(pwritev64) X(     \
		    lseek) X(lseek64) X(fstat) X(fstat64) X(stat) X(stat64)    \
		    X(lstat) X(lstat64) X(fstatat) X(fstatat64) X(statx) X(    \
			__fxstat) X(__fxstat64) X(__xstat) X(__xstat64)        \
			X(__lxstat) X(__lxstat64) X(__fxstatat) X(             \
			    __fxstatat64) X(fcntl) X(fcntl64) X(fsync)         \
			    X(fdatasync) X(ftruncate) X(ftruncate64) X(dup) X( \
				dup2) X(dup3) X(close) X(close_range)          \
				X(closefrom) X(fork) X(_Fork) X(execve) X(     \
				    execv) X(execvp) X(execvpe) X(fexecve)     \
				    X(recvmsg) X(umask) X(sendmsg) X(recv)     \
					X(socket) X(socketpair) X(connect) X(  \
					    bind) X(getsockname) X(setsockopt) \
					    X(getsockopt) X(epoll_create1) X(  \
						epoll_ctl) X(epoll_wait)       \
						X(eventfd) X(getdents64) X(    \
						    daemon) X(ioctl) X(send)   \
						    X(poll) X(ppoll) X(        \
							__poll_chk) X(select)  \
							X(pselect)             \
							    X(epoll_pwait) X(  \
								epoll_pwait2)

/* Declarations glibc only makes under _FORTIFY_SOURCE or not at all. */
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);
int __fxstat(int, int, struct stat *);
int __fxstat64(int, int, struct stat64 *);
int __xstat(int, const char *, struct stat *);
int __xstat64(int, const char *, struct stat64 *);
int __lxstat(int, const char *, struct stat *);
int __lxstat64(int, const char *, struct stat64 *);
int __fxstatat(int, int, const char *, struct stat *, int);
int __fxstatat64(int, int, const char *, struct stat64 *, int);
pid_t _Fork(void);
int __poll_chk(struct pollfd *, nfds_t, int, size_t);

#define REAL_FIELD(f) __typeof__(f) *f;
struct real_fns {
	REAL_FNS(REAL_FIELD)
};
#undef REAL_FIELD

extern struct real_fns real_fn;

void real_init(void);

#define REAL(f)                                                                \
	(__builtin_expect(real_fn.f != NULL, 1) ? real_fn.f                    \
						: (real_init(), real_fn.f))

#endif
