/*
 * ns.c - getns(), setrens(), mkns(): a process's namespaces (SPEC.md).
 *
 * The broker keeps them, per connection; this side asks, keeps the token
 * that makes them outlive fork and exec (bconn.c), shuts the channels made
 * in the old namespace (chan.c) and confines the process in the kernel so
 * that the namespace holds for files and raw syscalls too (sandbox.c).
 *
 * setrens() is all or nothing (wire.h): the broker checks the change and
 * hands over the new token (SETRENS), the process confines itself, and
 * only then the broker moves its connections (COMMIT).  A refusal at any
 * step before COMMIT leaves everything as it was.  setrens() calls are
 * serialised (ST_NS); a fork's child finds none in progress.
 *
 * Without a broker there is no namespace to ask about: the calls fail with
 * ENOTCONN.  libscheme has the same three names for programs run without
 * the preload, where they fail with ENOSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <scheme/scheme.h>

#include "bconn.h"
#include "chan.h"
#include "state.h"
#include "real.h"
#include "sandbox.h"
#include "uaccess.h"
#include "wrap.h"

#define MKNS_MAX (4096 - 1) /* the broker's control payload */

static int
ns_call(uint32_t type, const void *in, size_t ilen, struct wire_ctl *rep,
	struct wire_rens *out, int *fd)
{
	struct wire_ctl req;
	int r;

	wire_ctl_init(&req, type);
	if (fd != NULL)
		*fd = -1;
	r = bconn_call(&req, in, ilen, rep, out, out ? sizeof(*out) : 0, fd);
	if (r == 0 && out != NULL && rep->len != sizeof(*out))
		r = -EPROTO;
	if (r < 0 && fd != NULL && *fd >= 0) {
		REAL(close)(*fd);
		*fd = -1;
	}
	return r;
}

EXPORT long
getns(void)
{
	struct wire_rens ns;
	struct wire_ctl rep;
	int saved = errno, r;

	r = ns_call(WIRE_CTL_GETNS, NULL, 0, &rep, &ns, NULL);
	return r < 0 ? wrap_ret(r, saved) : (long)ns.rns;
}

/*
 * Both steps, then the channels of the old namespace shut and the token
 * kept.  A COMMIT the broker cannot take after the process confined
 * itself means the broker is gone: nothing can be opened by name then.
 */
static int
rens(struct wire_rens *want)
{
	struct wire_rens before, after;
	struct wire_ctl rep;
	int fd, r;

	if ((r = ns_call(WIRE_CTL_GETNS, NULL, 0, &rep, &before, NULL)) < 0 ||
	    (r = ns_call(WIRE_CTL_SETRENS, want, sizeof(*want), &rep, &after,
			 &fd)) < 0)
		return r;
	r = sandbox_raise(sandbox_level_of(before.rns, before.rflags),
			  sandbox_level_of(after.rns, after.rflags));
	if (r == 0)
		r = ns_call(WIRE_CTL_COMMIT, want, sizeof(*want), &rep, &after,
			    NULL);
	if (r < 0) {
		if (fd >= 0)
			REAL(close)(fd);
		return r;
	}
	chan_revoke_all();
	if (fd >= 0)
		bconn_token_set(fd);
	return 0;
}

EXPORT int
setrens(long rns, long ens)
{
	struct wire_rens want = {rns, ens, 0, 0};
	int saved = errno, r;

	st_lock(ST_NS);
	r = rens(&want);
	st_unlock(ST_NS);
	return (int)wrap_ret(r, saved);
}

/* "name" or "name:", one per line for the broker. */
static int
join_names(const char *const names[], size_t count, char *buf, size_t *len)
{
	size_t n = 0, l;
	ssize_t sl;

	for (size_t i = 0; i < count; i++) {
		if (ua_read_ok(&names[i], sizeof(names[i])) < 0 ||
		    (sl = ua_strnlen(names[i], MKNS_MAX + 1)) < 0)
			return -EFAULT; /* uaccess.h; NULL included */
		l = (size_t)sl;
		if (l > 0 && names[i][l - 1] == ':')
			l--;
		if (l == 0 || memchr(names[i], '\n', l) != NULL)
			return -EINVAL;
		if (n + l + 1 > MKNS_MAX)
			return -E2BIG;
		memcpy(buf + n, names[i], l);
		n += l;
		buf[n++] = '\n';
	}
	*len = n > 0 ? n - 1 : 0;
	return 0;
}

EXPORT long
mkns(const char *const names[], size_t count)
{
	char buf[MKNS_MAX];
	struct wire_ctl rep;
	size_t len;
	int saved = errno, r;

	if ((r = join_names(names, count, buf, &len)) < 0 ||
	    (r = ns_call(WIRE_CTL_MKNS, buf, len, &rep, NULL, NULL)) < 0)
		return wrap_ret(r, saved);
	return (long)rep.inst;
}
