/*
 * wrap_proc.c - exec, _Fork, umask and daemon.
 *
 * fork() itself needs no wrapper: pthread_atfork handlers (init.c) run in
 * it.  _Fork skips them, so its child gets ours here.  The exec family
 * keeps the preload in the environment (env.c); execl and friends, and
 * glibc's execvp, call an internal execve, so each is wrapped here.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"
#include "init.h"
#include "io.h"
#include "provider.h"
#include "stdio.h"
#include "wrap.h"

extern char **environ;

#define WITH_ENV(envp, call)                                                   \
	do {                                                                   \
		char *space_[env_space(envp)], sock_[128];                     \
		char **env_ = env_fix(envp, space_, env_space(envp), sock_,    \
				      sizeof(sock_));                          \
		return call;                                                   \
	} while (0)

EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, REAL(execve)(path, argv, env_));
}

EXPORT int
execv(const char *path, char *const argv[])
{
	WITH_ENV(environ, REAL(execve)(path, argv, env_));
}

EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, REAL(execvpe)(file, argv, env_));
}

EXPORT int
execvp(const char *file, char *const argv[])
{
	WITH_ENV(environ, REAL(execvpe)(file, argv, env_));
}

EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, REAL(fexecve)(fd, argv, env_));
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
	WITH_ENV(environ, REAL(execve)(path, argv, env_));
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
	WITH_ENV(environ, REAL(execvpe)(file, argv, env_));
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
	WITH_ENV(envp, REAL(execve)(path, argv, env_));
}

EXPORT pid_t
_Fork(void)
{
	pid_t r = REAL(_Fork)();

	if (r == 0)
		init_atfork_child();
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

			if (e != NULL && e->type == SFD_CLIENT) {
				io_release(fdtab_take(fd));
				stdio_std_update(fd);
			}
		}
	}
	return r;
}
