/*
 * seccomp.c - the kernel's half of a namespace: seccomp filters built
 * with libseccomp from the rules in seccomp_rules.h.
 *
 * libseccomp knows the architectures and the system call table, and is
 * what systemd and the container runtimes build their filters with.  It
 * is loaded with dlopen() when a filter is first made, never at start-up:
 * the preload is in every program, and programs that never narrow their
 * namespace must not pay for it (nor need it installed).
 *
 * Every filter goes on every thread of the process at once
 * (SECCOMP_FILTER_FLAG_TSYNC): it is loaded completely or not at all, so
 * a failure leaves the process as it was.  Filters are inherited by every
 * thread and child made later and across exec, and cannot be removed.
 * Calls of another ABI (x32, i386 through int 0x80) get ENOSYS.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "seccomp.h"
#include "seccomp_rules.h"

static struct {
	scmp_filter_ctx (*init)(uint32_t);
	void (*release)(scmp_filter_ctx);
	int (*attr_set)(scmp_filter_ctx, enum scmp_filter_attr, uint32_t);
	int (*rule_add_array)(scmp_filter_ctx, uint32_t, int, unsigned int,
			      const struct scmp_arg_cmp *);
	int (*load)(const scmp_filter_ctx);
} lib;
static atomic_bool loaded;

/* libseccomp's entry points; callers are serialised by ns.c's lock. */
static int
lib_load(void)
{
	void *h;

	if (atomic_load(&loaded))
		return 0;
	h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return -EOPNOTSUPP; /* not installed: no filter, no setrens */
	*(void **)&lib.init = dlsym(h, "seccomp_init");
	*(void **)&lib.release = dlsym(h, "seccomp_release");
	*(void **)&lib.attr_set = dlsym(h, "seccomp_attr_set");
	*(void **)&lib.rule_add_array = dlsym(h, "seccomp_rule_add_array");
	*(void **)&lib.load = dlsym(h, "seccomp_load");
	if (lib.init == NULL || lib.release == NULL || lib.attr_set == NULL ||
	    lib.rule_add_array == NULL || lib.load == NULL) {
		dlclose(h);
		return -EOPNOTSUPP;
	}
	atomic_store(&loaded, true);
	return 0;
}

static int
add_rules(scmp_filter_ctx ctx, const struct sc_rule *rules, size_t n)
{
	struct scmp_arg_cmp cmp[2];
	uint32_t self = (uint32_t)getpid();
	int r;

	for (size_t i = 0; i < n; i++) {
		memcpy(cmp, rules[i].cmp, sizeof(cmp));
		for (unsigned k = 0; k < rules[i].n; k++)
			if (cmp[k].datum_b == SC_SELF)
				cmp[k].datum_b = self;
		r = lib.rule_add_array(ctx, rules[i].action, rules[i].nr,
				       rules[i].n, cmp);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A filter of these rules over `fallback`, on every thread, or -errno. */
static int
apply(const struct sc_rule *rules, size_t n, uint32_t fallback)
{
	scmp_filter_ctx ctx;
	int r;

	if ((r = lib_load()) < 0)
		return r;
	if ((ctx = lib.init(fallback)) == NULL)
		return -ENOMEM;
	r = lib.attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
	if (r == 0)
		r = lib.attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0) /* the kernel's errno, not libseccomp's ECANCELED */
		(void)lib.attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (r == 0)
		(void)lib.attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r == 0)
		r = add_rules(ctx, rules, n);
	if (r == 0)
		r = lib.load(ctx);
	lib.release(ctx);
	if (r > 0 || r == -ESRCH)
		r = -EBUSY; /* TSYNC: a thread has a filter of its own */
	return r;
}

int
seccomp_null(void)
{
	return apply(sc_null_rules,
		     sizeof(sc_null_rules) / sizeof(*sc_null_rules),
		     SCMP_ACT_ERRNO(EACCES));
}

int
seccomp_files(void)
{
	return apply(sc_files_rules,
		     sizeof(sc_files_rules) / sizeof(*sc_files_rules),
		     SCMP_ACT_ALLOW);
}
