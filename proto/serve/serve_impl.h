/*
 * serve_impl.h - what serve.c (channels, descriptions, requests, answers)
 * and ready.c (waits, polls, subscriptions, posts) share.  Internal names
 * start with sv_.  Everything here runs with the serve lock held.
 */
#ifndef PROTO_SERVE_IMPL_H
#define PROTO_SERVE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/types.h>
#include <time.h>

#include "locks.h"
#include "mutex.h"
#include "serve.h"
#include "slots.h"
#include "../wire/wire.h"

enum sv_src {
	SRC_CHAN = 1,
	SRC_DESC,
	SRC_SUB,
	SRC_WATCH,
	SRC_KICK,
	SRC_PIPE,
	SRC_TRACE, /* a tracer's socket: readable means it went away */
	SRC_PID,   /* a pidfd of a process holding POSIX locks: it ended */
	SRC_POST   /* a channel's post timer (pipe.c, Posts): it rang */
};

struct sv_chan {
	int fd;
	/*
	 * The pipes (WIRE_OP_PIPES), -1 until made: requests come down pr;
	 * answers go down pw, of which we keep the read end prr open too,
	 * so that a write never raises SIGPIPE.  Requests by pipe carry no
	 * credentials: they are pcr, the channel's when it made them.
	 */
	int pr, pw, prr;
	struct wire_creds pcr;
	/*
	 * The client's sealed memfd (WIRE_OP_SHM), WIRE_MAX_DATA bytes,
	 * mapped while the channel lives: the data of answers by pipe goes
	 * here, and a READ's packet points straight into it (one copy
	 * fewer than through a socket).
	 */
	char *shm;
	uint32_t flags; /* SERVE_CHAN_* */
	/*
	 * A channel the broker made for a client (NEWCHAN) knows its owner,
	 * the pid that asked for it, and that pid's epoch then; it names
	 * paths only while the epoch table says the same (serve.h).  It is
	 * charged to its owner's pid and uid until it closes.
	 */
	bool owned;
	uint32_t owner, epoch;
	struct client *cl, *ucl;
	uint64_t key;
	int refs; /* 1 while open, +1 per pending request or waiter */
	bool dead;
	unsigned pending;
	char *buf; /* receive buffer; NULL while lent to a request */
	/*
	 * A read of the request pipe takes what is there, up to PIPE_BUF
	 * bytes: a request and its payload in one call, and, behind a PARK
	 * (which has no answer), what the client wrote next.  Bytes past
	 * the request served wait here (pq_len of them), the channel on
	 * serve's queued list, served before epoll is asked again.
	 */
	char *pq;
	uint32_t pq_len;
	bool queued;
	/*
	 * Posts (WIRE_OP_POSTS, pipe.c), -1 until made: PARKs the client
	 * wrote down post, read when a request says WIRE_REQ_DRAIN or when
	 * ptimer rings; post_due: it rang while requests were queued, so
	 * the posts are read once those are served.
	 */
	int post, ptimer;
	bool post_due;
	/*
	 * Direct reads (serve.c): our own ends of the request pipe, opened
	 * anew (pipe.c, sv_pipe_reopen): dr blocking, read by a thread with
	 * nothing else in hand; dw non-blocking, rung by the waker.  -1
	 * until needed, -2 when they could not be had.
	 */
	int dr, dw;
	TAILQ_ENTRY(sv_chan) link;
	TAILQ_ENTRY(sv_chan) qlink;
};

/* A subscriber's socket: records go down it when matching posts happen. */
struct sub {
	int fd;		/* our end */
	int give;	/* the subscriber's end, until the answer takes it */
	ino_t peer_ino; /* its inode: holding it proves the right to ask */
	uint64_t key;	/* in serve's sub slots (epoll data) */
	struct desc *d;
	uint32_t flags;		 /* what it asked for */
	uint32_t queued;	 /* flags sent and perhaps not drained yet */
	struct client *cl, *ucl; /* its fd is charged to them, as a file's */
	TAILQ_ENTRY(sub) link;
};

/*
 * A client process (the pid on its requests), or a user (the uid), and
 * what it holds here, for the caps.  It lives while it holds anything:
 * a count that drops to 0 with the others 0 frees it.
 */
struct client {
	uint32_t id;	  /* the pid, or the uid */
	bool user;	  /* in serve's users, by uid */
	uint32_t handles; /* fds held for it: descriptions open, opens not
			     yet answered, subscriptions */
	uint32_t pending; /* requests with the provider, not yet answered */
	uint32_t chans;	  /* channels the broker made for it */
	uint32_t warned;  /* 1 << CAP_*: refusals already logged */
	bool locks;	  /* asked for POSIX locks (locks_chan_end) */
	RB_ENTRY(client) link;
};

struct desc {
	int fd; /* our end of the description socket */
	uint64_t key;
	uint64_t handle; /* the provider's number */
	uint64_t gen;	 /* bumped by every post */
	uint64_t owner;	 /* key of the channel that opened it */
	uint64_t *att;	 /* other channels that proved they hold it */
	uint32_t natt, catt;
	uint32_t flags; /* access mode and status flags */
	ino_t c_ino;	/* inode of the client's end: in serve's inos */
	/*
	 * Parked (WIRE_OP_PARK): its client closed it and keeps the socket
	 * for its next open here; the provider has had its SYS_CLOSE.  Out
	 * of the handle tree, answering nothing until an open reuses it.
	 */
	bool parked;
	uint64_t park_chan; /* the channel it was parked on */
	struct wire_creds cr;
	struct client *cl, *ucl; /* its opener and user, charged for it */
	/*
	 * Pushback: bytes the provider gave for a SYS_READ whose client had
	 * gone (a signal ended its wait), kept for the next read here.
	 */
	char *pb;
	size_t pb_off, pb_len; /* the bytes left start at pb + pb_off */
	bool pb_warned;	       /* a drop past PUSHBACK_MAX was logged */
	/*
	 * Its file's identity for locks (locks.h), learnt from the
	 * provider's SYS_FSTAT at the first lock asked on it; none (an
	 * error, or st_ino 0) makes its locks ENOLCK, never locks that
	 * would exclude no other open of the file.
	 */
	bool fid_known, fid_none;
	struct lk_file_id fid;
	bool plocked; /* an OFD or flock lock was asked of the provider */
	TAILQ_HEAD(, sub) subs;
	RB_ENTRY(desc) by_handle;
	RB_ENTRY(desc) by_ino;
};

/* What a request came by, and its answer goes by: the socket or the pipe. */
enum sv_via { SV_SOCK, SV_PIPE };

/* What becomes of a request: answered here (or nothing to answer), a
 * packet made here for the provider, or one to ask the provider. */
enum sv_verdict { SV_ANSWERED, SV_PACKET, SV_PROVIDER };

enum pend_kind {
	PEND_REQUEST, /* a client's request: the answer goes back to it */
	PEND_CLOSE,   /* SYS_CLOSE: nobody waits */
	PEND_POLL,    /* our SYS_FEVENT for a client's WIRE_OP_POLL */
	PEND_SUB,     /* our SYS_FEVENT for a new subscription */
	PEND_LOCKID,  /* our SYS_FSTAT for a lock's file identity */
	PEND_LOCK,    /* SYS_LOCK: a lock the provider keeps (plk) */
};

struct pend {
	uint64_t id;
	int kind;	 /* enum pend_kind */
	struct sv_chan *ch; /* NULL: nobody waits for the answer */
	const struct wire_op *op;
	uint64_t seq, key;
	uint64_t size; /* bytes offered for output */
	uint64_t cmd, arg;
	uint32_t oflags;
	uint32_t want;	/* PEND_POLL, PEND_SUB: the flags asked about */
	uint64_t gen0;	/* the description's gen when we asked */
	bool wait;	/* PEND_POLL: wait for a post if not ready */
	bool cancelled; /* PEND_POLL, PEND_LOCK: the client gave up
			   (WIRE_OP_CANCEL) */
	struct wire_creds cr;
	enum sv_via via;   /* what it came by, and its answer goes by */
	uint64_t t_real, t_mono; /* when asked, if traced (trace.c), */
	uint64_t t_handle;	 /* and the handle it was asked about */
	bool in_shm;	   /* the provider writes its answer into ch->shm */
	uint64_t reuse;	   /* an open: a parked description to reuse */
	struct client *cl; /* charged for it (NULL: nobody waits) */
	/* An open: its file's fd is charged to these until answered. */
	struct client *hcl, *ucl;
	char *buf; /* the channel buffer the packet points into */
	struct wire_lock lk; /* PEND_LOCKID: the lock asked, once known */
	/*
	 * A request by path (WIRE_OP_AT, at.c): the step the provider is
	 * asked now, the request to ask on the handle, its arguments and
	 * input bytes (at the start of buf's payload), and the handle.
	 */
	uint8_t at_step; /* enum sv_at_step */
	const struct wire_op *at_op;
	uint64_t at_c, at_d, at_handle;
	uint32_t at_inlen;
	struct scheme_io io; /* a WIRE_IO row's arguments: the packet's c */
	struct scheme_lock plk; /* PEND_LOCK: SYS_LOCK's, the packet's c */
	bool changes;	     /* it may change a file: gens.c counts it */
};

enum sv_at_step { SV_AT_NONE, SV_AT_OPEN, SV_AT_INNER };

/* A request being served (serve.c chan_request): where it came from and
 * what it is, as the checks learn it. */
struct sv_req {
	struct sv_chan *ch;
	struct wire_req *req; /* its payload follows it in ch->buf */
	const struct wire_op *op;
	const struct wire_creds *cr;
	struct desc *d; /* the description it names, once checked */
	int fd;		/* what came with it, or -1 */
	enum sv_via via;
	int kind; /* enum pend_kind: what the provider is asked for */
};

struct watch {
	int fd;
	serve_watch_fn fn;
	void *arg;
	TAILQ_ENTRY(watch) link;
};

/* A client waiting for a post: WIRE_OP_WAIT (any) or a waiting POLL. */
struct waiter {
	struct sv_chan *ch;
	uint64_t seq, key;
	uint32_t flags; /* 0: any post (WAIT); else POLL flags */
	TAILQ_ENTRY(waiter) link;
};

/*
 * A packet made here, asked at the provider's next read: a close for an
 * open nobody took (p NULL: its record is made then), or the next step
 * of a request by path (p, whose id pkt has).
 */
struct synth {
	struct scheme_packet pkt;
	struct pend *p;
	TAILQ_ENTRY(synth) link;
};

RB_HEAD(handles, desc);
RB_HEAD(inos, desc);
RB_HEAD(clients, client);

struct serve {
	struct serve_config cfg;
	struct sv_mutex lock;
	int ep;
	int kick;
	bool kicked; /* kick holds a count to take back */
	bool stopped;
	struct slots chans, descs, pends, watchv, subs, pids;
	struct pend *spare; /* a freed request record, for the next */
	TAILQ_HEAD(, sv_chan) chanlist;
	TAILQ_HEAD(, sv_chan) queued; /* with requests read, not served */
	int sleepers; /* threads in serve_read's epoll_wait */
	TAILQ_HEAD(, watch) watches;
	TAILQ_HEAD(, waiter) waiters;
	TAILQ_HEAD(, synth) synths;
	struct handles handles;
	struct inos inos;
	struct clients clients, users;
	uint32_t max_handles, max_handles_uid, max_chans, max_chans_uid;
	uint32_t max_pending;
	char name[WIRE_MAX_NAME + 1];
	time_t log_window;  /* refusal log lines: this minute's start, */
	uint32_t log_lines; /* lines in it, */
	uint64_t log_quiet; /* and refusals not logged since */
	struct sv_tracer {
		int fd;		  /* its socket (trace.c) */
		uint32_t dropped; /* records it could not take since */
	} traces[WIRE_TRACE_PER_SCHEME];
	int ntraces;
	struct lk_tab *locks; /* made at the first lock asked */
	/*
	 * Who keeps the locks: not known until the provider answers its
	 * first SYS_LOCK (scheme.h "Locks"), then the provider or we.
	 */
	enum { LOCKS_ASK, LOCKS_OURS, LOCKS_PROVIDER } lock_by;
	bool lock_nopidfd; /* pidfds refused: a process's last channel's end
			      stands for its own */
	struct wire_stats st;
	_Atomic uint64_t *gens; /* the change count (gens.c), once made */
	int gens_fd;
	/*
	 * Direct reads (serve.c): the channel a thread reads straight from
	 * (NULL: none), the channel the last requests came from by pipe,
	 * alone, and how many rounds in a row; and the thread that ends a
	 * direct read when anything else wants us (waker.c).
	 */
	struct sv_chan *direct;
	uint64_t hot;
	unsigned streak;
	struct sv_waker {
		pthread_t t;
		struct sv_cond cv;
		int ep;		 /* an epoll set holding ep: ready with it */
		unsigned forks;	 /* sv_forks when t was made: 0, none */
		bool stop, rung; /* rung: the direct read was told to end */
		bool busy;	 /* a thread is in the direct read */
		unsigned reads;	 /* direct reads made */
		bool failed;	 /* could not be made: no direct reads */
	} w;
};

int sv_handle_cmp(const struct desc *a, const struct desc *b);
RB_PROTOTYPE(handles, desc, by_handle, sv_handle_cmp)
int sv_ino_cmp(const struct desc *a, const struct desc *b);
RB_PROTOTYPE(inos, desc, by_ino, sv_ino_cmp)
int sv_client_cmp(const struct client *a, const struct client *b);
RB_PROTOTYPE(clients, client, link, sv_client_cmp)

/* pipe.c: the pipe transport, moving bytes only */
#define SV_PIPE_FD_FOLLOWS 1
int sv_pipe_make(const struct sv_chan *ch, int fd, int pp[2]);
int sv_pipe_shm(struct sv_chan *ch, int fd);
int sv_pipe_posts(const struct sv_chan *ch, int fd);
int sv_pipe_drain(struct sv_chan *ch, struct wire_req *req, size_t len);
ssize_t sv_pipe_recv(struct sv_chan *ch, struct wire_req *req);
int sv_pipe_send(const struct sv_chan *ch, const struct wire_rep *rep,
		 const void *data, size_t len, int fd);
bool sv_pipe_pq(struct sv_chan *ch);
int sv_pipe_reopen(struct sv_chan *ch);
void sv_pipe_ring(const struct sv_chan *ch);

/* waker.c: the thread that ends a direct read (serve.c) */
bool sv_waker_here(struct serve *s);
void sv_waker_stop(struct serve *s);

/* fmap.c: the answer to SYS_FMAP, an fd */
int64_t sv_fmap_answer(const struct desc *d, const char *buf, int64_t res,
		       int *cfd, const char **data, size_t *len);

/* trace.c */
int sv_trace_add(struct serve *s, int fd);
void sv_trace_gone(struct serve *s, int fd);
void sv_trace_asked(const struct serve *s, struct pend *p,
		    const struct desc *d);
void sv_trace_answered(struct serve *s, const struct pend *p, int64_t res);
void sv_trace_refused(struct serve *s, const struct sv_req *r, int64_t err);
void sv_trace_close_all(struct serve *s);

/* gens.c: the scheme's change count, for clients keeping stats */
bool sv_gens_changes(const struct wire_req *req);
void sv_gens_bump(struct serve *s);
int sv_gens_make(_Atomic uint64_t **count);
void sv_gens_unmap(_Atomic uint64_t *count);

/* at.c: requests by path (WIRE_OP_AT), as packets */
int sv_at_check(const struct wire_req *req);
size_t sv_at_path(const struct wire_req *req, const char **path);
void sv_at_open(struct scheme_packet *pkt, struct pend *p,
		const struct wire_req *req, char *payload);
void sv_at_inner(struct scheme_packet *pkt, struct pend *p);

/* serve.c */
int sv_ep_add(struct serve *s, int fd, int kind, uint64_t key);
void sv_own_close(const struct serve *s, int fd);
int sv_own_hide(const struct serve *s, int fd);
void sv_xclose(int fd);
void sv_chan_put(struct sv_chan *ch);
void sv_reply(struct serve *s, struct sv_chan *ch, enum sv_via via,
	      struct wire_rep *rep,
	      const void *data, size_t len, int fd);
void sv_reply_err(struct serve *s, struct sv_chan *ch, enum sv_via via,
		  uint64_t seq, int64_t err,
		  uint32_t status);
struct pend *sv_pend_new(struct serve *s, struct sv_chan *ch,
			 const struct wire_op *op);
int sv_charge_handle(struct serve *s, const struct wire_creds *cr,
		     struct client **cl, struct client **ucl);
void sv_uncharge_handle(struct serve *s, struct client **cl,
			struct client **ucl);

/* ready.c */
void sv_waiters_drop(struct serve *s, struct sv_chan *ch, uint64_t key);
void sv_do_wait(struct serve *s, struct sv_chan *ch, struct desc *d,
		const struct wire_req *req);
void sv_do_cancel(struct serve *s, struct sv_chan *ch, const struct wire_req *req);
int sv_do_subscribe(struct serve *s, struct desc *d, uint32_t flags,
		    const struct wire_creds *cr, uint64_t *key);
bool sv_sub_proves(const struct desc *d, ino_t ino);
void sv_sub_ready(struct serve *s, struct sub *sub, uint32_t events);
void sv_sub_drop(struct serve *s, uint64_t key);
void sv_subs_free(struct serve *s, struct desc *d);
void sv_fevent_answer(struct serve *s, struct pend *p, int64_t res);
void sv_post(struct serve *s, uint64_t handle, uint64_t flags);

#endif
