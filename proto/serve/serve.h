/*
 * serve.h - the provider's end of the protocol.
 *
 * A struct serve is one scheme as its provider sees it: an epoll fd that is
 * readable while requests are queued (the fd a provider program reads its
 * packets from), the channels clients reach it by, and the descriptions
 * they have open.  serve_read() turns client messages into struct
 * scheme_packet records whose pointers are valid until the answer;
 * serve_write() takes an answer (or an id-0 post) and replies.
 *
 * The preload runs one for every ":name" a provider creates; the broker
 * runs one for each built-in scheme (the root scheme ":").
 *
 * Limits.  A client is a process, by the pid the kernel vouches for on
 * each request, and a user, by its uid.  However it floods, a client
 * holds at most max_handles fds here (open descriptions and
 * subscriptions; an open past that fails with EMFILE), its user at most
 * max_handles_uid, and both a share of the provider's own fd limit by
 * default (serve_new reads RLIMIT_NOFILE): a quarter and a half of what
 * is left once the provider keeps an eighth and 64 for itself, so that
 * one process leaves room for others of its user, and one user for
 * others.  A process has at most max_chans channels from the broker,
 * its user max_chans_uid (a 64th and a 16th: a channel can hold four
 * fds, with its pipes); a channel past that is answered WIRE_REFUSED
 * (EAGAIN) and closed at once.  A client has at most max_pending
 * requests not answered yet, across all its channels (one more fails
 * with EAGAIN); each channel also holds at most 64.  Other clients are
 * served meanwhile.  A refusal is logged on stderr once per client and
 * kind, never reaching the provider.
 *
 * Namespaces.  A channel made before its owner changed namespace names
 * no path: with the broker's epoch table (a read-only mapping of one
 * uint32_t per pid, bumped by the broker before it answers a setrens
 * that changed anything), a request that names a path on an owned
 * channel is ENODEV unless it comes from the owner and the owner's epoch
 * is still the one the channel was made with.  Without a table (unit
 * tests) nothing is checked.  Requests by pipe carry the credentials the
 * pipes came with, not their writer's: an open comes that way only to
 * take back a description parked on the same channel, and any other is
 * sent back to the socket (WIRE_RESEND).
 */
#ifndef PROTO_SERVE_H
#define PROTO_SERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <scheme/scheme.h>

#include "../wire/wire.h"

struct serve;

/* The per-client cap on requests when serve_config leaves it 0. */
#define SERVE_MAX_PENDING 1024u

/*
 * serve_add_chan() flags.  NOPATHS: a keyed-only channel (a client in a
 * namespace without this scheme).  A request that names a path (open,
 * unlink, rmdir, rename) fails with ENODEV and never reaches the
 * provider; operations on descriptions the client proves it holds work.
 */
#define SERVE_CHAN_NOPATHS 0x1u

/* Whom a channel is for: the broker's NEWCHAN (wire.h). */
struct serve_chan_info {
	uint32_t flags; /* SERVE_CHAN_* */
	uint32_t pid, uid;
	uint32_t epoch;
};

/* Called from serve_read() when a watched fd is ready. */
typedef void (*serve_watch_fn)(struct serve *s, void *arg, uint32_t events);

struct serve_config {
	uint64_t broker; /* which broker and instance: for log lines */
	uint64_t inst;
	/*
	 * Inside a program (the preload) serve's own fds must stay out of
	 * the program's way: hide_fd moves one and returns the number to
	 * use, close_fd closes one.  Both may be NULL.
	 */
	int (*hide_fd)(int fd, void *ctx);
	void (*close_fd)(int fd, void *ctx);
	void *ctx;
	const char *name; /* the scheme's, for log lines (may be NULL) */
	/* Caps (see Limits above); 0: the default. */
	uint32_t max_handles, max_handles_uid; /* per process, per user */
	uint32_t max_chans, max_chans_uid;
	uint32_t max_pending; /* per process; 0: SERVE_MAX_PENDING */
	/* The broker's epoch table, nepochs entries, or NULL. */
	const _Atomic uint32_t *epochs;
	uint32_t nepochs;
	/*
	 * Whether a signal handler of the program may restart a read it
	 * interrupts (SA_RESTART).  A direct read (serve.c) is a read(),
	 * which such a handler restarts, where epoll_wait() returns EINTR:
	 * so while this says true, or is NULL, there are none.
	 */
	bool (*restarts)(void);
};

struct serve *serve_new(const struct serve_config *cfg);
void serve_free(struct serve *s);
int serve_fd(const struct serve *s);
int serve_watch(struct serve *s, int fd, serve_watch_fn fn, void *arg);
int serve_add_chan(struct serve *s, int fd, uint32_t flags);
int serve_add_trace(struct serve *s, int fd);
int serve_add_chan_for(struct serve *s, int fd,
		       const struct serve_chan_info *ci);
ssize_t serve_read(struct serve *s, struct scheme_packet *pkts, size_t max,
		   int timeout_ms);
void serve_write(struct serve *s, const struct scheme_packet *pkt);
void serve_answer_fd(struct serve *s, const struct scheme_packet *pkt, int fd);
void serve_stop(struct serve *s);
void serve_relocate(struct serve *s, int oldfd, int newfd);
/*
 * A thread of the process is being cancelled: a thread in a direct read
 * (not a cancellation point) goes on to epoll_wait (one).
 */
void serve_wake(struct serve *s);
void serve_lock(struct serve *s);
void serve_unlock(struct serve *s);
void serve_abandon(struct serve *s);
int serve_stopped(const struct serve *s);
void serve_stats(const struct serve *s, struct wire_stats *st);
/* Answers dropped so far, of every kind: what serve_stats sums, cheaply. */
uint64_t serve_drops(const struct serve *s);
size_t serve_count_descs(const struct serve *s);

#endif
