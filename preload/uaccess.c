/*
 * uaccess.c - the program's pointers, checked before we touch them (see
 * uaccess.h).
 *
 * Known memory.  Set once by ua_init(), in the constructor, before the
 * program can have made a thread, and only read afterwards:
 *
 *  - the calling thread's stack from its stack pointer up: live frames,
 *    mapped while we run on them.  The main thread's stack ends where the
 *    kernel put the program's name (AT_EXECFN), above argv and environ;
 *    another thread's ends at its thread descriptor, which glibc places
 *    at the top of the thread's stack block (pthread_self()).  A thread
 *    running elsewhere (a signal stack, a coroutine's) is found out by
 *    its stack pointer and gets no free pass;
 *  - the loaded segments (PT_LOAD) of every object mapped at start-up,
 *    which cannot be unloaded: readable, and writable where they are
 *    writable and not RELRO (string literals, static buffers);
 *  - the brk heap, from the break at start-up to the current one
 *    (glibc's __curbrk, what sbrk(0) returns: no system call).
 *
 * Anything else is asked of the kernel.  One page: epoll_ctl(-1, ADD,
 * -1, page) copies 12 bytes in before it looks at an fd (EFAULT, else
 * EBADF: nothing happens); futex(FUTEX_WAKE_OP) adds 0 to a word of the
 * page atomically, which needs it writable (EFAULT) and changes nothing
 * (it wakes no one: nobody waits on our own word, and the condition it
 * tests on the page's word holds only for values below -2048, as no lock
 * word is; a futex waiter must take a spurious wake-up anyway).  A range
 * of several pages: one madvise(MADV_POPULATE_READ/WRITE) (Linux 5.14),
 * which fails unless every page may be accessed so, and faults them in
 * as the copy that follows would; when it fails (or the kernel is older),
 * page by page, to find where the memory ends.  All of these are allowed
 * in the null namespace's seccomp filter (seccomp_rules.h), where
 * process_vm_readv, the obvious tool, is not.  None is a wrapper of ours.
 * A probe refused for another reason than EFAULT (a filter of the
 * program's own) counts as good: what the preload did before.
 *
 * What the kernel said is remembered, per thread (NASKED ranges), until
 * the program unmaps or protects memory: every munmap, mremap, mprotect,
 * pkey_mprotect and shmdt it calls bumps `maps` (ua_forget), and an
 * older range counts no more.  A path in a mmap'd page (Python's objects,
 * a large malloc, another thread's arena) then costs a system call once,
 * not at every call: 420 ns for a stat, against 555 asking each time and
 * 404 before any check (README, "Performance").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "uaccess.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ  22
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE	   4096u
#define MAXSEG	   128
#define PAGE_OF(a) ((a) & ~(uintptr_t)(PAGE - 1))

struct range {
	uintptr_t lo, hi;
};

static struct range rd[MAXSEG], wr[MAXSEG]; /* sorted by lo */
static int nrd, nwr;
static uintptr_t heap_lo = UINTPTR_MAX; /* nothing is known before ua_init */
static uintptr_t main_lo, main_hi;
static uintptr_t main_thread; /* its pthread_self() */
static uintptr_t thread_span;
static int nobody_waits; /* the futex probe's first word */

/*
 * Ranges the kernel said are good, per thread, while the program has not
 * unmapped or protected anything since (ua_forget(): the munmap, mremap,
 * mprotect, pkey_mprotect and shmdt wrappers count in `maps`).
 */
#define NASKED 8
struct asked {
	uintptr_t lo, hi;
	unsigned long maps;
	bool w;
};
static _Atomic unsigned long maps = 1;
static __thread struct asked asked[NASKED]
    __attribute__((tls_model("initial-exec")));
static __thread unsigned asked_next __attribute__((tls_model("initial-exec")));

extern void *__libc_stack_end;
extern void *__curbrk; /* glibc's break, as sbrk(0) returns it */

/* pthread_self(), without a call: on x86-64 glibc keeps it at %fs:0. */
static inline uintptr_t
self(void)
{
#if defined(__x86_64__)
	uintptr_t t;

	__asm__("mov %%fs:0, %0" : "=r"(t));
	return t;
#else
	return (uintptr_t)pthread_self();
#endif
}

static void
add(struct range *v, int *n, uintptr_t lo, uintptr_t hi)
{
	int i;

	if (lo >= hi || *n == MAXSEG)
		return; /* beyond MAXSEG: asked of the kernel, as others */
	for (i = *n; i > 0 && v[i - 1].lo > lo; i--)
		v[i] = v[i - 1];
	v[i] = (struct range){lo, hi};
	(*n)++;
}

static int
add_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph = info->dlpi_phdr;
	uintptr_t relro_lo = 0, relro_hi = 0, lo, hi;
	int i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++)
		if (ph[i].p_type == PT_GNU_RELRO) {
			relro_lo = info->dlpi_addr + ph[i].p_vaddr;
			relro_hi = relro_lo + ph[i].p_memsz;
		}
	for (i = 0; i < info->dlpi_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		lo = info->dlpi_addr + ph[i].p_vaddr;
		hi = lo + ph[i].p_memsz;
		if (ph[i].p_flags & PF_R)
			add(rd, &nrd, lo, hi);
		if (!(ph[i].p_flags & PF_W))
			continue;
		if (relro_lo <= lo && lo < relro_hi) /* read-only since */
			lo = relro_hi;
		add(wr, &nwr, lo, hi);
	}
	return 0;
}

void
ua_init(void)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);
	struct rlimit rl;
	uintptr_t lim;

	dl_iterate_phdr(add_object, NULL);
	heap_lo = (uintptr_t)sbrk(0); /* sets __curbrk, if nothing had */
	main_thread = self();
	main_hi = fn != NULL ? (uintptr_t)fn + strlen(fn) + 1
			     : (uintptr_t)__libc_stack_end;
	main_hi = PAGE_OF(main_hi + PAGE - 1);
	lim = getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
		  ? (uintptr_t)rl.rlim_cur
		  : 8u << 20;
	lim = lim < (64u << 20) ? lim : 64u << 20;
	main_lo = main_hi - lim;
	thread_span = lim; /* glibc's default thread stack is the limit */
}

/* The end of the known range in v holding a, or 0. */
static uintptr_t
seg_end(const struct range *v, int n, uintptr_t a)
{
	int lo = 0, hi = n, mid;

	while (lo < hi) { /* the last range starting at or below a */
		mid = (lo + hi) / 2;
		if (v[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && a < v[lo - 1].hi ? v[lo - 1].hi : 0;
}

/*
 * The segment a read last found, per thread: segments never move, so it
 * stays true (string literals come from a few objects).
 */
static __thread uintptr_t seen_lo __attribute__((tls_model("initial-exec")));
static __thread uintptr_t seen_hi __attribute__((tls_model("initial-exec")));

void
ua_forget(void)
{
	atomic_fetch_add(&maps, 1);
}

/* The end of a range the kernel said is good holding a, or 0. */
static uintptr_t
asked_end_of(uintptr_t a, bool w)
{
	unsigned long now = atomic_load_explicit(&maps, memory_order_acquire);

	for (int i = 0; i < NASKED; i++)
		if (a - asked[i].lo < asked[i].hi - asked[i].lo &&
		    asked[i].maps == now && (asked[i].w || !w))
			return asked[i].hi;
	return 0;
}

static void
remember(uintptr_t lo, uintptr_t hi, bool w, unsigned long when)
{
	asked[asked_next] = (struct asked){lo, hi, when, w};
	asked_next = (asked_next + 1) % NASKED;
}

/*
 * The end of the known memory holding a, or 0 if a is not known.  The
 * stack comes first: the cheapest test, and where a read's or a write's
 * buffer and iovec most often are.
 */
static inline __attribute__((always_inline)) uintptr_t
known_end(uintptr_t a, bool w)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), top, e;

	if ((top = self()) == main_thread)
		top = sp >= main_lo && sp < main_hi ? main_hi : 0;
	else if (top <= sp || top - sp > thread_span)
		top = 0;
	if (a >= sp && a < top)
		return top;
	if (!w && a - seen_lo < seen_hi - seen_lo)
		return seen_hi;
	if (a >= heap_lo && a < (uintptr_t)__curbrk)
		return (uintptr_t)__curbrk;
	if (w)
		e = seg_end(wr, nwr, a);
	else if ((e = seg_end(rd, nrd, a)) != 0) {
		seen_hi = e;
		seen_lo = a; /* from here: enough for the next call */
	}
	return e != 0 ? e : asked_end_of(a, w);
}

static bool
page_ok(uintptr_t page, bool w)
{
	unsigned long when = atomic_load(&maps); /* before asking */
	int saved = errno, err;
	long r;

	if (w)
		r = REAL(syscall)(SYS_futex, &nobody_waits,
			    FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 0, NULL,
			    (void *)page,
			    FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_LT, 0x800));
	else
		r = REAL(syscall)(SYS_epoll_ctl, -1, EPOLL_CTL_ADD, -1, (void *)page);
	err = errno;
	errno = saved;
	if (r < 0 && err == EFAULT)
		return false;
	remember(page, page + PAGE, w, when);
	return true;
}

/* Asked of the kernel: where, from a up to end, memory stops being usable. */
static uintptr_t
asked_end(uintptr_t a, uintptr_t end, bool w)
{
	uintptr_t first = PAGE_OF(a), page;
	unsigned long when = atomic_load(&maps);
	int saved = errno, r;

	if (end - first > PAGE) {
		r = madvise((void *)first, end - first,
			    w ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
		errno = saved;
		if (r == 0) {
			remember(first, PAGE_OF(end + PAGE - 1), w, when);
			return end;
		}
	}
	for (page = first; page < end; page += PAGE)
		if (!page_ok(page, w))
			return page > a ? page : a;
	return end;
}

/* span(), from a, the end of known memory at p (0: none), on. */
static __attribute__((noinline)) size_t
span_on(uintptr_t p, size_t n, bool w, uintptr_t e)
{
	uintptr_t a = p, end = p + n;

	if (end < p)
		end = UINTPTR_MAX; /* wraps: it faults somewhere anyway */
	while (a < end) {
		if (e == 0 && (e = asked_end(a, end, w)) == a)
			break;
		a = e < end ? e : end;
		if (a < end)
			e = known_end(a, w);
	}
	return a - p;
}

/*
 * How many of the n bytes at p may be used.  Usually one known range
 * holds them all (a buffer on the stack, in the heap, in a segment):
 * that is decided here, in a few instructions; the rest is span_on's.
 */
static inline __attribute__((always_inline)) size_t
span(uintptr_t p, size_t n, bool w)
{
	uintptr_t e = known_end(p, w);

	if (e != 0 && e - p >= n)
		return n;
	return span_on(p, n, w, e);
}

bool
ua_known(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, e = known_end(a, false);

	return e != 0 && e - a >= n;
}

size_t
ua_read_span(const void *p, size_t n)
{
	return span((uintptr_t)p, n, false);
}

size_t
ua_write_span(void *p, size_t n)
{
	return span((uintptr_t)p, n, true);
}

int
ua_read_ok(const void *p, size_t n)
{
	return span((uintptr_t)p, n, false) == n ? 0 : -EFAULT;
}

int
ua_write_ok(void *p, size_t n)
{
	return span((uintptr_t)p, n, true) == n ? 0 : -EFAULT;
}

ssize_t
ua_strnlen(const char *s, size_t max)
{
	uintptr_t a = (uintptr_t)s, lim = a + max, e;
	const char *nul;

	if (lim < a)
		lim = UINTPTR_MAX;
	while (a < lim) {
		if ((e = known_end(a, false)) == 0) {
			if (!page_ok(PAGE_OF(a), false))
				return -EFAULT;
			e = PAGE_OF(a) + PAGE;
		}
		e = e < lim ? e : lim;
		if ((nul = memchr((const void *)a, 0, e - a)) != NULL)
			return nul - s;
		a = e;
	}
	return (ssize_t)max;
}

int
ua_iov_first(const struct iovec *iov, int n)
{
	if (n <= 0)
		return -EINVAL;
	return ua_read_ok(iov, sizeof(*iov));
}
