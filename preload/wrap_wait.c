/*
 * wrap_wait.c - wait, waitpid, wait3, wait4, waitid and pclose: a child
 * that ended is the parent's to see only once its relays, if it had any,
 * delivered what it wrote (relay.c).  Nothing else changes: a child
 * without relays costs one failed open() of its relay file.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "relay.h"
#include "wrap.h"

/*
 * The kernel writes the status where the program said (EFAULT, and the
 * child reaped all the same, if it cannot); ours is used without one.
 */
static pid_t
reap(pid_t pid, int *status, int options, struct rusage *ru)
{
	int st = 0, *sp = status != NULL ? status : &st;
	pid_t r = REAL(wait4)(pid, sp, options, ru);

	if (r > 0)
		relay_reaped(r, sp);
	return r;
}

EXPORT pid_t
wait(int *status)
{
	return reap(-1, status, 0, NULL);
}

EXPORT pid_t
waitpid(pid_t pid, int *status, int options)
{
	return reap(pid, status, options, NULL);
}

EXPORT pid_t
wait3(int *status, int options, struct rusage *ru)
{
	return reap(-1, status, options, ru);
}

EXPORT pid_t
wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	return reap(pid, status, options, ru);
}

EXPORT int
waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int r = REAL(waitid)(type, id, info, options);

	if (r == 0)
		relay_reaped_info(info);
	return r;
}

EXPORT int
pclose(FILE *f)
{
	int r = REAL(pclose)(f);

	if (r != -1)
		relay_reaped_mine(&r);
	return r;
}
