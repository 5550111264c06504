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
 * each request.  However it floods, it holds at most max_handles open
 * descriptions (an open past that fails with EMFILE) and max_pending
 * requests that are not answered yet, across all its channels (one more
 * fails with EAGAIN); each channel also holds at most 64.  Other clients
 * are served meanwhile.  A refusal is logged on stderr once per client
 * and kind, never reaching the provider.
 */
#ifndef PROTO_SERVE_H
#define PROTO_SERVE_H

#include <stdint.h>
#include <sys/types.h>

#include <scheme/scheme.h>

#include "wire.h"

struct serve;

/* Per-client caps when serve_config leaves them 0. */
#define SERVE_MAX_HANDLES (1u << 16)
#define SERVE_MAX_PENDING 1024u

/*
 * serve_add_chan() flags.  NOPATHS: a keyed-only channel (a client in a
 * namespace without this scheme).  A request that names a path (open,
 * unlink, rmdir, rename) fails with ENODEV and never reaches the
 * provider; operations on descriptions the client proves it holds work.
 */
#define SERVE_CHAN_NOPATHS 0x1u

/* Called from serve_read() when a watched fd is ready. */
typedef void (*serve_watch_fn)(struct serve *s, void *arg, uint32_t events);

struct serve_config {
	uint64_t broker; /* ids that go into description names */
	uint64_t inst;
	/*
	 * Inside a program (the preload) serve's own fds must stay out of
	 * the program's way: hide_fd moves one and returns the number to
	 * use, close_fd closes one.  Both may be NULL.
	 */
	int (*hide_fd)(int fd, void *ctx);
	void (*close_fd)(int fd, void *ctx);
	void *ctx;
	const char *name;     /* the scheme's, for log lines (may be NULL) */
	uint32_t max_handles; /* per client; 0: SERVE_MAX_HANDLES */
	uint32_t max_pending; /* per client; 0: SERVE_MAX_PENDING */
};

struct serve *serve_new(const struct serve_config *cfg);
void serve_free(struct serve *s);
int serve_fd(const struct serve *s);
int serve_watch(struct serve *s, int fd, serve_watch_fn fn, void *arg);
int serve_add_chan(struct serve *s, int fd, uint32_t flags);
ssize_t serve_read(struct serve *s, struct scheme_packet *pkts, size_t max,
		   int timeout_ms);
void serve_write(struct serve *s, const struct scheme_packet *pkt);
void serve_answer_fd(struct serve *s, const struct scheme_packet *pkt, int fd);
void serve_stop(struct serve *s);
void serve_relocate(struct serve *s, int oldfd, int newfd);
void serve_lock(struct serve *s);
void serve_unlock(struct serve *s);
void serve_abandon(struct serve *s);
int serve_stopped(const struct serve *s);
void serve_stats(const struct serve *s, struct wire_stats *st);
size_t serve_count_descs(const struct serve *s);

#endif
