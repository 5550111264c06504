/*
 * sigsys.c - system call instructions outside libc, served by a trap
 * (SCHEME_RAWSYS=trap).
 *
 * Most raw calls go through libc's syscall() function, which
 * wrap_syscall.c serves without a trap.  What remains is a `syscall`
 * instruction in the program's own code (hand-written assembly, a
 * runtime that makes its own calls).  Linux's syscall user dispatch
 * (PR_SET_SYSCALL_USER_DISPATCH, 5.11) sends SIGSYS for every system call
 * made outside one address range while a per-thread selector byte says
 * BLOCK; the range here is libc's executable segment, so libc's calls,
 * and the preload's (which all go through libc), never trap.  The handler
 * asks rawsys_call() and writes the answer into the trapped thread's rax;
 * a call it does not serve is made for the thread, from libc.
 *
 * The kernel keeps the setting per thread, and (measured on 6.18) a new
 * thread, a forked child and an exec'd program start without it.  So it
 * is turned on for the first thread at start-up, for each thread made by
 * pthread_create (wrapped here), and in a fork's child; a thread made by
 * a raw clone() is not covered.
 *
 * Edges, each kept or refused here:
 *  - The program's own SIGSYS handler (sigaction, signal) is recorded,
 *    not installed: ours stays, and a SIGSYS that is not a dispatch trap
 *    (a seccomp SECCOMP_RET_TRAP, a kill) is passed on to it.
 *  - A trap taken while SIGSYS is blocked kills (the kernel forces it),
 *    so sigprocmask and pthread_sigmask never block SIGSYS here.
 *  - While the handler runs, the selector says ALLOW: a signal handler
 *    of the program that interrupts ours makes its calls unserved.
 *  - Calls that cannot be made for a thread from inside a handler
 *    (rt_sigreturn, a clone with a stack of its own, clone3, vfork) are
 *    answered ENOSYS.
 *  - A wait for a provider interrupted by a signal returns EINTR; a trap
 *    is never restarted (there is no SA_RESTART for a SIGSYS answer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "handlers.h"
#include "rawsys.h"
#include "wrap.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH  59
#define PR_SYS_DISPATCH_ON	      1
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2 /* si_code of a dispatch trap */
#endif

static __thread char selector __attribute__((tls_model("initial-exec")));

/* Set once in the constructor, before any thread but the first exists. */
static bool trap_on;
static uintptr_t libc_lo, libc_len;

/* The program's SIGSYS disposition, which it believes installed. */
static struct sigaction theirs;
static atomic_flag theirs_lock = ATOMIC_FLAG_INIT;

static int
find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) * ph;
	int i;

	if (strstr(info->dlpi_name, "/libc.so") == NULL)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			libc_lo = info->dlpi_addr + ph->p_vaddr;
			libc_len = ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static void
thread_on(void)
{
	selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, libc_lo,
		  libc_len, &selector) < 0)
		selector = SYSCALL_DISPATCH_FILTER_ALLOW;
}

static void
chain(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction h;

	while (atomic_flag_test_and_set(&theirs_lock))
		;
	h = theirs;
	atomic_flag_clear(&theirs_lock);
	if (h.sa_flags & SA_SIGINFO)
		h.sa_sigaction(sig, si, ctx);
	else if (h.sa_handler != SIG_DFL && h.sa_handler != SIG_IGN)
		h.sa_handler(sig);
	else if (h.sa_handler == SIG_DFL) {
		/* SIGSYS's default: the process dies of it, with a core. */
		h.sa_flags = 0;
		sigemptyset(&h.sa_mask);
		REAL(sigaction)(SIGSYS, &h, NULL);
		raise(SIGSYS);
	}
}

/* What a handler cannot do for the thread it interrupted. */
static bool
unservable(long nr, const long *a)
{
	return nr == SYS_rt_sigreturn || nr == SYS_clone3 || nr == SYS_vfork ||
	       (nr == SYS_clone && a[1] != 0);
}

static long
serve(long nr, const long *a)
{
	long r;

	if (unservable(nr, a))
		return -ENOSYS;
	if (!rawsys_call(nr, a, &r))
		r = REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return r < 0 ? -errno : r;
}

static void
on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	long a[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX],
		     g[REG_R10], g[REG_R8],  g[REG_R9]};
	int saved = errno;

	if (si->si_code != SYS_USER_DISPATCH) {
		chain(sig, si, ctx);
		return;
	}
	selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	g[REG_RAX] = serve(si->si_syscall, a);
	selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	errno = saved;
}

static void
fork_child(void)
{
	thread_on();
}

__attribute__((constructor)) static void
sigsys_init(void)
{
	const char *v = getenv("SCHEME_RAWSYS");
	struct sigaction sa;

	if (v == NULL || strcmp(v, "trap") != 0)
		return;
	if (dl_iterate_phdr(find_libc, NULL) == 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	if (REAL(sigaction)(SIGSYS, &sa, &theirs) < 0)
		return;
	pthread_atfork(NULL, NULL, fork_child);
	trap_on = true;
	thread_on();
}

EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	handlers_note(act);
	if (LIKELY(sig != SIGSYS || !trap_on))
		return REAL(sigaction)(sig, act, old);
	while (atomic_flag_test_and_set(&theirs_lock))
		;
	if (old != NULL)
		*old = theirs;
	if (act != NULL)
		theirs = *act;
	atomic_flag_clear(&theirs_lock);
	return 0;
}

EXPORT sighandler_t
signal(int sig, sighandler_t h)
{
	struct sigaction sa, old;

	handlers_note(&(struct sigaction){.sa_handler = h,
					  .sa_flags = SA_RESTART}); /* glibc's */
	if (LIKELY(sig != SIGSYS || !trap_on))
		return REAL(signal)(sig, h);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, &old);
	return old.sa_handler;
}

/* A copy of the program's set without SIGSYS, while the trap is on. */
static const sigset_t *
keep_sigsys(int how, const sigset_t *set, sigset_t *copy)
{
	if (LIKELY(!trap_on) || set == NULL || how == SIG_UNBLOCK)
		return set;
	*copy = *set;
	sigdelset(copy, SIGSYS);
	return copy;
}

EXPORT int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	return REAL(sigprocmask)(how, keep_sigsys(how, set, &copy), old);
}

EXPORT int
pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	return REAL(pthread_sigmask)(how, keep_sigsys(how, set, &copy), old);
}

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *
start_on(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	thread_on();
	return s.fn(s.arg);
}

EXPORT int
pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
	       void *arg)
{
	struct start *s;
	int r;

	if (LIKELY(!trap_on))
		return REAL(pthread_create)(t, attr, fn, arg);
	if ((s = malloc(sizeof(*s))) == NULL)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	if ((r = REAL(pthread_create)(t, attr, start_on, s)) != 0)
		free(s);
	return r;
}
