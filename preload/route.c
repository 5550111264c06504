/*
 * route.c - the open routing: what an open of a scheme path makes.
 *
 *	:name with O_CREAT	a scheme this process provides (provider.c)
 *	event:			an event queue, served here (equeue.c)
 *	anything else		an open request to the scheme's provider
 *				(client.c), whose fd becomes a scheme file
 *				of the fd table (fd_client.c)
 *
 * Returns the fd, SC_PASS when the path is no scheme's after all (an
 * ordinary path: the caller gives it to the kernel), or -errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "client.h"
#include "equeue.h"
#include "fd_client.h"
#include "provider.h"
#include "route.h"

int
route_open(const struct scheme_path *sp, int flags, mode_t mode)
{
	struct sc_desc d;
	int fd, r;

	if (sp->name[0] == '\0' && sp->restlen > 0 && (flags & O_CREAT))
		return provider_create(sp->rest, sp->restlen, flags);
	if (strcmp(sp->name, "event") == 0) {
		r = equeue_open(flags);
		return r == -ENOENT || r == -ENOTCONN ? SC_PASS : r;
	}
	fd = sc_open(sp, flags, mode, &d);
	if (fd < 0 || d.key == 0)
		return fd;
	return fd_client_adopt(fd, d.broker, d.inst, d.key, flags);
}
