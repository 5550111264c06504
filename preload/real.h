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
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <utime.h>
#include <unistd.h>

/* clang-format off */
#define REAL_FNS(X)							\
	/* open, stdio */						\
	X(open) X(open64) X(openat) X(openat64) X(__open_2)		\
	X(__open64_2) X(__openat_2) X(__openat64_2) X(creat)		\
	X(creat64) X(fopen) X(fopen64) X(freopen) X(freopen64)		\
	X(fdopen)							\
	/* i/o */							\
	X(read) X(__read_chk) X(readv) X(pread) X(pread64)		\
	X(__pread_chk) X(__pread64_chk) X(preadv) X(preadv64)		\
	X(write) X(writev) X(pwrite) X(pwrite64) X(pwritev)		\
	X(pwritev64) X(preadv2) X(pwritev2) X(preadv64v2)		\
	X(pwritev64v2) X(lseek) X(lseek64) X(fsync) X(fdatasync)	\
	X(ftruncate) X(ftruncate64) X(copy_file_range) X(sendfile)	\
	X(sendfile64) X(splice) X(posix_fadvise) X(posix_fadvise64)	\
	X(fallocate) X(fallocate64) X(posix_fallocate)			\
	X(posix_fallocate64)						\
	/* stat */							\
	X(fstat) X(fstat64) X(stat) X(stat64) X(lstat) X(lstat64)	\
	X(fstatat) X(fstatat64) X(statx) X(__fxstat) X(__fxstat64)	\
	X(__xstat) X(__xstat64) X(__lxstat) X(__lxstat64)		\
	X(__fxstatat) X(__fxstatat64) X(statfs) X(statfs64) X(fstatfs)	\
	X(fstatfs64) X(statvfs) X(statvfs64) X(fstatvfs) X(fstatvfs64)	\
	/* paths and metadata */					\
	X(unlink) X(unlinkat) X(rmdir) X(remove) X(mkdir) X(mkdirat)	\
	X(rename) X(renameat) X(renameat2) X(chmod) X(fchmod)		\
	X(fchmodat) X(chown) X(lchown) X(fchown) X(fchownat)		\
	X(truncate) X(truncate64) X(utimensat) X(futimens) X(utimes)	\
	X(lutimes) X(futimes) X(utime) X(access) X(faccessat)		\
	X(euidaccess) X(eaccess) X(readlink) X(readlinkat) X(mkstemp)	\
	X(mkstemp64) X(mkostemp) X(mkostemp64) X(mkstemps)		\
	X(mkstemps64) X(mkostemps) X(mkostemps64) X(mkdtemp)		\
	X(getxattr) X(lgetxattr) X(fgetxattr) X(listxattr)		\
	X(llistxattr) X(flistxattr) X(setxattr) X(lsetxattr)		\
	X(fsetxattr) X(removexattr) X(lremovexattr) X(fremovexattr)	\
	/* other nodes (wrap_node.c) */					\
	X(symlink) X(symlinkat) X(link) X(linkat) X(mknod) X(mknodat)	\
	X(mkfifo) X(mkfifoat) X(futimesat) X(lchmod)			\
	X(inotify_add_watch) X(name_to_handle_at)			\
	/* directories */						\
	X(opendir) X(fdopendir) X(readdir) X(readdir64) X(readdir_r)	\
	X(readdir64_r) X(closedir) X(dirfd) X(rewinddir) X(telldir)	\
	X(seekdir) X(scandir) X(scandir64) X(scandirat) X(scandirat64)	\
	X(getdents64) X(chdir) X(fchdir) X(getcwd)			\
	X(get_current_dir_name) X(realpath)				\
	/* fds */							\
	X(fcntl) X(fcntl64) X(dup) X(dup2) X(dup3) X(close)		\
	X(close_range) X(closefrom) X(ioctl) X(flock) X(lockf)		\
	X(lockf64)							\
	/* processes */							\
	X(fork) X(_Fork) X(execve) X(execv) X(execvp) X(execvpe)	\
	X(fexecve) X(umask) X(daemon)					\
	X(posix_spawn_file_actions_addopen)				\
	X(posix_spawn) X(posix_spawnp) X(system) X(popen)		\
	X(setuid) X(seteuid) X(setreuid) X(setresuid) X(setgid)		\
	X(setegid) X(setregid) X(setresgid)				\
	X(posix_spawn_file_actions_destroy)				\
	/* sockets, used inside */					\
	X(recvmsg) X(sendmsg) X(sendmmsg) X(recv) X(send) X(socket)	\
	X(socketpair)							\
	X(connect) X(bind) X(getsockname) X(setsockopt) X(getsockopt)	\
	X(pipe2)								\
	/* readiness */							\
	X(epoll_create1) X(epoll_ctl) X(epoll_wait) X(epoll_pwait)	\
	X(epoll_pwait2) X(eventfd) X(poll) X(ppoll) X(__poll_chk)	\
	X(select) X(pselect)						\
	/* memory given up (uaccess.c), files mapped (fd_map.c) */	\
	X(munmap) X(mremap) X(mprotect) X(pkey_mprotect) X(shmdt)	\
	X(mmap) X(mmap64)						\
	/* children ended (relay.c) */					\
	X(wait) X(waitpid) X(wait3) X(wait4) X(waitid) X(pclose)	\
	/* raw system calls (wrap_syscall.c) */				\
	X(syscall) X(sigaction) X(signal) X(sigprocmask)			\
	X(pthread_sigmask) X(pthread_create)				\
	/* a provider's direct reads woken (provider.c) */		\
	X(pthread_cancel)
/* clang-format on */

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

/* readdir_r is deprecated, and still called by old programs. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define REAL_FIELD(f) __typeof__(f) *f;
struct real_fns {
	REAL_FNS(REAL_FIELD)
};
#undef REAL_FIELD
#pragma GCC diagnostic pop

extern struct real_fns real_fn;

void real_init(void);

#define REAL(f)                                                                \
	(__builtin_expect(real_fn.f != NULL, 1) ? real_fn.f                    \
						: (real_init(), real_fn.f))

#endif
