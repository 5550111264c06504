/*
 * epset.h - epoll sets that watch scheme fds, and event: queues.
 *
 * The kernel cannot watch a scheme fd (a socket only we write to), so a
 * registration of one puts a subscription socket (client.c sc_subscribe)
 * in the epoll set in its place, with a tagged key as its data; what
 * epoll_wait returns is translated back to the program's fd and data.
 *
 * An event: queue is such a set in which every registration is ours (a
 * plain fd is watched as it is, but under our key), because Redox's
 * events carry both the fd and the caller's token.  Its fd is the epoll
 * fd itself, so poll, select, epoll and event: work on it directly.
 */
#ifndef PRELOAD_EPSET_H
#define PRELOAD_EPSET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include <scheme/scheme.h>

#include "fdops.h"
#include "state.h"

struct epset;

struct epset *epset_new(bool eventq, bool nonblock);
struct epset *epset_of(int epfd);
struct epset *epset_attach(int epfd);
void epset_hold(struct epset *es);
void epset_put(struct epset *es);
bool epset_nonblock(const struct epset *es);
void epset_setfl(struct epset *es, int flags);

int epset_ctl(struct epset *es, int epfd, int op, int fd, uint32_t interest,
	      uint32_t kflags, uint64_t data);
int epset_translate(struct epset *es, int epfd, struct epoll_event *ev, int n);
struct sfd;
void epset_record_hold(struct sfd *e);
void epset_record_put(struct sfd *e);
extern const struct sfd_ops fdops_epoll;

int epset_events(struct epset *es, int epfd, const struct epoll_event *ev,
		 int n, struct scheme_event *out);

extern const struct st_fork_hook epset_fork_hook;

#endif
