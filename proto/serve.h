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
 */
#ifndef PROTO_SERVE_H
#define PROTO_SERVE_H

#include <stdint.h>
#include <sys/types.h>

#include <scheme/scheme.h>

#include "wire.h"

struct serve;

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
};

struct serve *serve_new(const struct serve_config *cfg);
void serve_free(struct serve *s);
int serve_fd(const struct serve *s);
int serve_watch(struct serve *s, int fd, serve_watch_fn fn, void *arg);
int serve_add_chan(struct serve *s, int fd);
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
