/*
 * watch.c - the broker's one epoll set: every source it waits on (the
 * listening socket, connections, built-in schemes, timers, interrupts)
 * is a struct src, found again through the event's data pointer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>

#include "broker.h"

int
broker_watch(struct broker *b, struct src *src)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = src};

	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, src->fd, &ev) < 0)
		return -errno;
	return 0;
}

void
broker_unwatch(struct broker *b, struct src *src)
{
	epoll_ctl(b->ep, EPOLL_CTL_DEL, src->fd, NULL);
}
