/*
 * ns.c - getns(), setrens(), mkns(): a process's namespaces (SPEC.md).
 *
 * The broker keeps them, per connection; this side asks, keeps the token
 * that makes them outlive fork and exec (bconn.c), shuts the channels made
 * in the old namespace (chan.c) and installs the seccomp filters that make
 * the namespace hold for files and raw syscalls too (seccomp.c).
 *
 * Without a broker there is no namespace to ask about: the calls fail with
 * ENOTCONN.  libscheme has the same three names for programs run without
 * the preload, where they fail with ENOSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <scheme/scheme.h>

#include "bconn.h"
#include "chan.h"
#include "seccomp.h"
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

static bool
is_root(const struct wire_rens *ns)
{
	return ns->rns == WIRE_NS_ROOT && ns->ens == WIRE_NS_ROOT;
}

/* The kernel's half, once each on the way in (namespaces only narrow). */
static int
filters(const struct wire_rens *before, const struct wire_rens *after)
{
	int r = 0;

	if (is_root(before) && !is_root(after))
		r = seccomp_narrow();
	if (r == 0 && before->rns != WIRE_NS_NULL && after->rns == WIRE_NS_NULL)
		r = seccomp_null();
	return r;
}

EXPORT int
setrens(long rns, long ens)
{
	struct wire_rens want = {rns, ens}, before, after;
	struct wire_ctl rep;
	int saved = errno, fd, r;

	if ((r = ns_call(WIRE_CTL_GETNS, NULL, 0, &rep, &before, NULL)) < 0 ||
	    (r = ns_call(WIRE_CTL_SETRENS, &want, sizeof(want), &rep, &after,
			 &fd)) < 0)
		return (int)wrap_ret(r, saved);
	chan_revoke_all();
	if (fd >= 0)
		bconn_token_set(fd);
	return (int)wrap_ret(filters(&before, &after), saved);
}

/* "name" or "name:", one per line for the broker. */
static int
join_names(const char *const names[], size_t count, char *buf, size_t *len)
{
	size_t n = 0, l;

	for (size_t i = 0; i < count; i++) {
		if (names == NULL || names[i] == NULL)
			return -EFAULT;
		l = strlen(names[i]);
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
