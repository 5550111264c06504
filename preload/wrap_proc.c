/*
 * wrap_proc.c - exec, _Fork, vfork, umask, daemon, and posix_spawn's
 * open actions.
 *
 * fork() itself needs no wrapper: pthread_atfork handlers (init.c) run in
 * it.  _Fork skips them, so its child gets ours here.  The exec family
 * keeps the preload in the environment (env.c); execl and friends, and
 * glibc's execvp, call an internal execve, so each is wrapped here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../proto/wire/path.h"
#include "client.h"
#include "creds.h"
#include "execview.h"
#include "hidden.h"
#include "resolve.h"
#include "route.h"
#include "init.h"
#include "fdops.h"
#include "pool.h"
#include "provider.h"
#include "relay.h"
#include "stdio.h"
#include "uaccess.h"
#include "wrap.h"

extern char **environ;

/*
 * The file to exec, into *file: a program stored on a scheme is exec'd
 * from the kernel-visible view (execview.c).  With search (execvp), a
 * name without a slash is looked for on PATH's scheme directories too;
 * "m:tool" is a scheme path, not a name to search.  0, 1 or -errno.
 */
static int
exec_target(const char **file, bool search, char *buf, size_t len)
{
	struct scheme_path sp;

	if (*file == NULL || ua_strnlen(*file, PATH_MAX) < 0)
		return 0; /* the kernel says EFAULT */
	if (search && strchr(*file, '/') == NULL && !path_classify(*file, &sp))
		return execview_search(file, buf, len);
	return execview_path(file, buf, len);
}

/*
 * The exec itself: the file to exec translated when it is on a scheme
 * (file_, which call names), the environment fixed (env.c), and the
 * standard streams relayed if the program is one the preload cannot
 * reach (relay.c); all as it was if the exec fails.
 */
#define WITH_ENV(envp, file, fd, search, call)                                 \
	do {                                                                   \
		char xbuf_[RESOLVE_MAX];                                       \
		const char *file_ = file;                                      \
		int x_ = exec_target(&file_, search, xbuf_, sizeof(xbuf_));    \
                                                                               \
		if (x_ < 0) {                                                  \
			errno = -x_;                                           \
			return -1;                                             \
		}                                                              \
		WITH_ENV_FIXED(envp, file_, fd, search && x_ == 0, call);      \
	} while (0)

#define WITH_ENV_FIXED(envp, file, fd, search, call)                           \
	do {                                                                   \
		char *space_[env_space(envp)], sock_[128];                     \
		char cwd_[PATH_MAX + 64];                                      \
		char **env_ = env_fix(envp, space_, env_space(envp), sock_,    \
				      sizeof(sock_), cwd_, sizeof(cwd_));      \
		struct relay_plan rp_;                                         \
		int r_;                                                        \
                                                                               \
		relay_before_exec(file, fd, search, &rp_);                     \
		r_ = call;                                                     \
		relay_exec_failed(&rp_);                                       \
		return r_;                                                     \
	} while (0)

EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, path, -1, false, REAL(execve)(file_, argv, env_));
}

EXPORT int
execv(const char *path, char *const argv[])
{
	WITH_ENV(environ, path, -1, false, REAL(execve)(file_, argv, env_));
}

EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, file, -1, true, REAL(execvpe)(file_, argv, env_));
}

EXPORT int
execvp(const char *file, char *const argv[])
{
	WITH_ENV(environ, file, -1, true, REAL(execvpe)(file_, argv, env_));
}

EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, NULL, fd, false, REAL(fexecve)(fd, argv, env_));
}

/* Count the arguments after arg up to the terminating NULL, as glibc. */
static size_t
count_args(va_list ap)
{
	size_t n = 1;
	va_list aq;

	va_copy(aq, ap);
	while (va_arg(aq, const char *) != NULL)
		n++;
	va_end(aq);
	return n;
}

#define COLLECT(arg, argv, n, ap)                                              \
	do {                                                                   \
		size_t i_;                                                     \
		argv[0] = (char *)arg;                                         \
		for (i_ = 1; i_ < n; i_++)                                     \
			argv[i_] = va_arg(ap, char *);                         \
		argv[n] = NULL;                                                \
	} while (0)

EXPORT int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(ap);
	char *argv[n + 1];
	COLLECT(arg, argv, n, ap);
	va_end(ap);
	WITH_ENV(environ, path, -1, false, REAL(execve)(file_, argv, env_));
}

EXPORT int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(ap);
	char *argv[n + 1];
	COLLECT(arg, argv, n, ap);
	va_end(ap);
	WITH_ENV(environ, file, -1, true, REAL(execvpe)(file_, argv, env_));
}

EXPORT int
execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(ap);
	char *argv[n + 1];
	COLLECT(arg, argv, n, ap);
	(void)va_arg(ap, char *); /* the terminating NULL */
	envp = va_arg(ap, char *const *);
	va_end(ap);
	WITH_ENV(envp, path, -1, false, REAL(execve)(file_, argv, env_));
}

EXPORT pid_t
_Fork(void)
{
	pid_t r;

	pool_shared(); /* no fork handlers run: the child holds every fd */
	r = REAL(_Fork)();

	if (r == 0)
		st_fork_child();
	return r;
}

EXPORT mode_t
umask(mode_t m)
{
	sc_umask_set(m);
	return REAL(umask)(m);
}

/*
 * daemon() points fds 0-2 at /dev/null with internal calls: afterwards
 * the table must forget them, and the std streams go back to normal.
 */
EXPORT int
daemon(int nochdir, int noclose)
{
	int r, fd;

	if (!noclose) {
		fflush(stdout);
		fflush(stderr);
	}
	provider_keep_on_fork(true); /* the parent exits: the child serves */
	r = REAL(daemon)(nochdir, noclose);
	provider_keep_on_fork(false);
	if (r == 0 && !noclose) {
		for (fd = 0; fd <= 2; fd++) {
			struct sfd *e = fdtab_get(fd);

			if (e != NULL && e->ops->requests) {
				fd_release(fdtab_take(fd));
				stdio_std_update(fd);
			}
		}
	}
	return r;
}

/*
 * vfork's child shares our memory: anything it did through the preload
 * (a dup2 before exec, a channel) would change the parent's tables.  So
 * it is a fork, as fakeroot makes it.
 */
EXPORT pid_t
vfork(void)
{
	return fork();
}

/*
 * posix_spawn runs its file actions in the child with internal calls no
 * preload sees.  An open of a scheme path is therefore done here, when the
 * action is added: the file is opened now, kept on a hidden fd, and the
 * action becomes a dup2 of it; destroying the actions closes it.  (So the
 * children spawned with one set of actions share that open file.)
 */
struct spawn_open {
	const posix_spawn_file_actions_t *fa;
	int fd;
	struct spawn_open *next;
};

static struct spawn_open *spawn_opens;

static void
spawn_relocate(void *ctx, int oldfd, int newfd)
{
	struct spawn_open *so = ctx;

	(void)oldfd;
	so->fd = newfd; /* a dup2 that was already added names the old one */
}

EXPORT int
posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd,
				 const char *path, int oflag, mode_t mode)
{
	char buf[RESOLVE_MAX];
	struct scheme_path sp;
	struct spawn_open *so;
	int saved = errno, dirfd = AT_FDCWD, cfd, r;

	r = resolve_at(&dirfd, &path, buf, sizeof(buf), &sp);
	if (LIKELY(r == 0))
		return REAL(posix_spawn_file_actions_addopen)(fa, fd, path,
							      oflag, mode);
	if (r < 0)
		return -r;
	if (fd < 0)
		return EBADF;
	cfd = route_open(&sp, oflag | O_CLOEXEC, mode);
	if (cfd == SC_PASS) {
		errno = saved;
		return REAL(posix_spawn_file_actions_addopen)(fa, fd, path,
							      oflag, mode);
	}
	if (cfd < 0) /* as the child's open would have failed, but now */
		return -cfd;
	if ((so = calloc(1, sizeof(*so))) == NULL) {
		fd_close(cfd);
		return ENOMEM;
	}
	sfd_free(fdtab_take(cfd)); /* ours now, not the program's */
	so->fa = fa;
	so->fd = hidden_move(cfd, spawn_relocate, so);
	r = posix_spawn_file_actions_adddup2(fa, so->fd, fd);
	if (r != 0) {
		hidden_close(so->fd);
		free(so);
		return r;
	}
	st_lock(ST_SPAWN);
	so->next = spawn_opens;
	spawn_opens = so;
	st_unlock(ST_SPAWN);
	errno = saved;
	return 0;
}

EXPORT int
posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	struct spawn_open **p, *so;

	st_lock(ST_SPAWN);
	for (p = &spawn_opens; (so = *p) != NULL;) {
		if (so->fa == fa) {
			*p = so->next;
			hidden_close(so->fd);
			free(so);
		} else {
			p = &so->next;
		}
	}
	st_unlock(ST_SPAWN);
	return REAL(posix_spawn_file_actions_destroy)(fa);
}

/*
 * posix_spawn, system and popen make their children with clone, past
 * fork's handlers: the children hold every fd without close-on-exec, so
 * none open now may be parked (pool.h).  posix_spawn's child execs with
 * an internal execve, so the environment it is given is fixed here, as
 * the exec wrappers fix theirs: a program that spawns with an explicit
 * environment (make) keeps the preload and the scheme working directory.
 */
#define SPAWN_ENV(envp, file, search, call)                                     \
	do {                                                                   \
		char xbuf_[RESOLVE_MAX];                                       \
		const char *file_ = file;                                      \
		int x_ = exec_target(&file_, search, xbuf_, sizeof(xbuf_));    \
		char *space_[env_space(envp)], sock_[128];                     \
		char cwd_[PATH_MAX + 64];                                      \
		char **env_ = env_fix(envp, space_, env_space(envp), sock_,    \
				      sizeof(sock_), cwd_, sizeof(cwd_));      \
                                                                               \
		if (x_ < 0)                                                    \
			return -x_;                                            \
		pool_shared();                                                 \
		return call;                                                   \
	} while (0)

EXPORT int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
	    const posix_spawnattr_t *attr, char *const argv[],
	    char *const envp[])
{
	SPAWN_ENV(envp, path, false,
		  REAL(posix_spawn)(pid, file_, fa, attr, argv, env_));
}

EXPORT int
posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
	     const posix_spawnattr_t *attr, char *const argv[],
	     char *const envp[])
{
	SPAWN_ENV(envp, file, true,
		  REAL(posix_spawnp)(pid, file_, fa, attr, argv, env_));
}

EXPORT int
system(const char *cmd)
{
	int r;

	pool_shared();
	r = REAL(system)(cmd);
	if (r != -1)
		relay_reaped_mine(&r); /* its child's relays (relay.c) */
	return r;
}

EXPORT FILE *
popen(const char *cmd, const char *mode)
{
	pool_shared();
	return REAL(popen)(cmd, mode);
}

/*
 * A new user or group: the credentials our requests carry change with
 * it.  (The kernel would accept the old ones while they are still the
 * real or saved ids, and a provider would see the wrong user.)
 */
#define SETID(name, params, args)                                              \
	EXPORT int name params                                                 \
	{                                                                      \
		int ret_ = REAL(name) args, saved = errno;                     \
                                                                               \
		creds_refresh();                                               \
		errno = saved;                                                 \
		return ret_;                                                   \
	}

SETID(setuid, (uid_t u), (u))
SETID(seteuid, (uid_t u), (u))
SETID(setreuid, (uid_t r, uid_t e), (r, e))
SETID(setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))
SETID(setgid, (gid_t g), (g))
SETID(setegid, (gid_t g), (g))
SETID(setregid, (gid_t r, gid_t e), (r, e))
SETID(setresgid, (gid_t r, gid_t e, gid_t s), (r, e, s))
