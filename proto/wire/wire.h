/*
 * wire.h - messages between the preload, providers and the broker.
 *
 * Three kinds of connection carry them, all AF_UNIX SOCK_SEQPACKET so that
 * one send is one message and fds and credentials ride along:
 *
 *  - the control connection, from a process (or schemectl) to schemed:
 *    struct wire_ctl, a fixed header and a short payload (a scheme name,
 *    a listing).  CONNECT answers with a channel fd, CREATE turns the
 *    connection into the provider's registration, which the broker later
 *    uses to hand the provider new channels (NEWCHAN), and SERVES says
 *    which schemes some processes provide, with a channel to each.
 *
 *  - a channel, from one client thread straight to one provider: each
 *    struct wire_req is answered by exactly one struct wire_rep with the
 *    same seq.  The broker is not on this path.
 *
 *  - a description socket: the client's end is the fd the program sees,
 *    the provider keeps the other end.  Nothing flows on it; the kernel's
 *    reference count on the client's end is the description's lifetime.
 *    It has no name: a process that gets one by exec or SCM_RIGHTS
 *    recognises it by its peer, the provider that made the pair
 *    (SO_PEERCRED), asks the broker which schemes that process provides
 *    (SERVES), and proves it holds it with WIRE_OP_ATTACH, whose answer
 *    says which description it is (the provider knows its inode).
 *
 * Every header starts with a magic and a version, and every reader checks
 * them, the lengths, and that nothing is left over (wire_*_check).
 */
#ifndef PROTO_WIRE_H
#define PROTO_WIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#define WIRE_MAGIC    0x5343 /* "SC" */
#define WIRE_VERSION  1
#define WIRE_MAX_DATA (256 * 1024) /* payload of one message */
#define WIRE_MAX_PATH 4096
#define WIRE_MAX_NAME 64

/* Channel operations of our own, outside Redox's SYS_* numbering. */
#define WIRE_OP_ATTACH                                                         \
	0x7f000001		     /* SCM_RIGHTS proof that we hold the fd;
					key 0: which is it? (answer's key) */
#define WIRE_OP_WAIT	  0x7f000002 /* answer once a post passes gen arg[2] */
#define WIRE_OP_POLL	  0x7f000003 /* readiness: arg[1] flags, arg[2] wait */
#define WIRE_OP_CANCEL	  0x7f000004 /* drop this channel's POLLs and WAITs */
#define WIRE_OP_SUBSCRIBE 0x7f000005 /* records for arg[1] flags, on the fd */
#define WIRE_OP_PIPES	  0x7f000006 /* fd: request pipe; answer: reply pipe */
#define WIRE_OP_PARK	  0x7f000007 /* closed, kept for reuse; no answer */
#define WIRE_OP_SHM	  0x7f000008 /* fd: a sealed memfd for pipe answers */
#define WIRE_OP_LOCK	  0x7f000009 /* a file lock: struct wire_lock */

/*
 * WIRE_OP_LOCK's payload, both ways (the answer's only for GET: the lock
 * in the way, or type F_UNLCK).  Whence is resolved by the client; end
 * is inclusive, WIRE_LK_EOF for "to the end of the file, however it
 * grows" (l_len 0).  Who owns the lock is the serving code's to say, not
 * the client's: the process the kernel vouches for (POSIX), or the
 * description the request names (OFD, FLOCK).  CLOSE: the process closed
 * an fd of this file, which ends its POSIX locks on it (fcntl(2)).  A
 * SETW may be kept until it can be granted; WIRE_OP_CANCEL withdraws it
 * (answered first, if it was granted meanwhile).
 */
#define WIRE_LK_EOF INT64_MAX
enum wire_lk_cmd { WIRE_LK_GET = 1, WIRE_LK_SET, WIRE_LK_SETW, WIRE_LK_CLOSE };
enum wire_lk_kind { WIRE_LK_POSIX = 1, WIRE_LK_OFD, WIRE_LK_FLOCK };
struct wire_lock {
	uint8_t cmd;	/* enum wire_lk_cmd */
	uint8_t kind;	/* enum wire_lk_kind */
	int16_t type;	/* F_RDLCK, F_WRLCK, F_UNLCK */
	int32_t pid;	/* GET's answer: the holder's, -1 for an OFD lock */
	int64_t start, end;
};

#define WIRE_OP_AT	  0x7f00000a /* a request on a path: see below */
#define WIRE_OP_GENS	  0x7f00000b /* answer: fd of the change count */
/*
 * Closes that need not wake the provider (see "Posts" in
 * proto/serve/pipe.c).  POSTS, on the socket once the pipes exist: fd is
 * the read end of a third pipe, which carries PARKs only and which the
 * provider does not watch; the answer carries a timerfd the client arms.
 * DRAIN, down the request pipe, no answer: read the posts now (a request
 * that must go by the socket sends one first).
 */
#define WIRE_OP_POSTS 0x7f00000c
#define WIRE_OP_DRAIN 0x7f00000d

/*
 * WIRE_OP_AT: a request on a description asked of a path in one round
 * trip (stat, chmod, chown, utimensat by path).  The serving code plays
 * it against the provider as the client would have: SYS_OPEN of the path
 * with the flags in arg[0]'s high half, then, if that gave a handle, the
 * request in arg[0]'s low half on it (c = arg[1], d = arg[2]), then
 * SYS_CLOSE of the handle; the client is answered once, with the inner
 * request's answer or the open's error.  The payload is the inner
 * request's input (arg[2] bytes, for one that takes some), then the
 * path.  Which requests may be inner, and what flags an open may carry,
 * is proto/serve/at.c's.  Answered WIRE_SEPARATE when the open was
 * answered with a kernel fd, which the client must then make itself.
 */
#define WIRE_AT_ARG0(op, oflags)                                               \
	((uint64_t)(op) | (uint64_t)(uint32_t)(oflags) << 32)

struct wire_req {
	uint16_t magic, version;
	uint32_t op;	 /* SYS_* or WIRE_OP_* */
	uint64_t seq;	 /* the client's tag, echoed in the reply */
	uint64_t key;	 /* description, 0 for path operations */
	uint64_t arg[3]; /* the packet's b, c, d; pointers become 0 */
	uint32_t len;	 /* payload bytes after the header */
	uint32_t flags;	 /* WIRE_REQ_* */
};

/* Read the channel's posts and serve them before this request. */
#define WIRE_REQ_DRAIN 1u

enum wire_status {
	WIRE_OK = 0,
	WIRE_NOTATTACHED = 1, /* attach this channel to the fd, then retry */
	WIRE_REUSED = 2,      /* an open: the parked description in key */
	WIRE_FD_FOLLOWS = 3,  /* by pipe: the answer, with its fd, is on the
				 socket */
	WIRE_IN_SHM = 4,      /* by pipe: the answer's data, result bytes, is
				 at the start of the channel's memfd */
	WIRE_REFUSED = 5,     /* seq 0, unasked: the channel is over a cap
				 (result -EAGAIN) and closed */
	WIRE_RESEND = 6,      /* by pipe: send this request on the socket */
	WIRE_SEPARATE = 7,    /* WIRE_OP_AT: ask it as separate requests */
};

struct wire_rep {
	uint16_t magic, version;
	uint32_t status; /* enum wire_status */
	uint64_t seq;
	uint64_t result; /* the packet's a: a value or -errno */
	uint64_t key;	 /* for an open: the new description's key */
	uint64_t gen;	 /* the description's event generation */
	uint32_t len;	 /* payload bytes after the header */
	uint32_t dflags; /* the description's status flags (O_NONBLOCK...) */
};

enum wire_ctl_type {
	WIRE_CTL_CONNECT = 1, /* name or inst -> channel fd */
	WIRE_CTL_CREATE,      /* name -> this connection provides it */
	WIRE_CTL_LIST,	      /* -> names, one per line */
	WIRE_CTL_STOP,	      /* ask the broker to exit */
	WIRE_CTL_NEWCHAN,     /* broker -> provider: a client's channel */
	WIRE_CTL_STATS,	      /* provider -> broker: struct wire_stats */
	WIRE_CTL_INFO,	      /* -> "key value" lines about the broker */
	WIRE_CTL_IRQ_RAISE,   /* inst = N: raise irq:N (simulator, loopback) */
	WIRE_CTL_GETNS,	      /* -> struct wire_rens: this process's */
	WIRE_CTL_SETRENS,     /* struct wire_rens -> as it would be, a token */
	WIRE_CTL_MKNS,	      /* names, '\n'-separated -> inst = the new id */
	WIRE_CTL_JOIN,	      /* on a token, with an fd: a connection in */
	WIRE_CTL_COMMIT,      /* the wire_rens SETRENS prepared: move now */
	WIRE_CTL_SERVES,      /* uint32_t pids -> struct wire_chan, fds */
	WIRE_CTL_TRACE,	      /* names, '\n'-separated -> wire_traced, fds */
	WIRE_CTL_NEWTRACE,    /* broker -> provider: a tracer's socket */
};

/*
 * Namespaces (SPEC "Namespaces").  A process outside the root namespace
 * holds a token: a socket the broker made, named by wire_nsname() with
 * 128 random bits (so no other user can take the name first), kept
 * across fork and exec.  It makes each new broker connection by sending
 * one end of a socket pair down the token (JOIN); the broker gives that
 * connection the token's namespaces.  Nothing is ever read from a token,
 * so any number of processes may share one.
 *
 * setrens() is two steps, so that it is all or nothing: SETRENS checks
 * the change and answers the namespaces as they would be (with the token
 * for them), moving nothing; the process confines itself in the kernel;
 * only then COMMIT, with the same wire_rens, moves every connection of
 * the process.  A SETRENS not committed is forgotten at the next one and
 * when its connection closes.
 */
#define WIRE_NS_NULL  0
#define WIRE_NS_ROOT  1
#define WIRE_NS_FILES 1u /* rflags: rns reaches ordinary files */
#define WIRE_NS_NONCE 16 /* random bytes in a token's name */
#define WIRE_NS_FILE_NAME "file" /* mkns: ordinary files, as Redox's file: */
struct wire_rens {
	int64_t rns, ens; /* -1 = unchanged (in a request) */
	uint32_t rflags;  /* in answers: WIRE_NS_* of rns */
	uint32_t pad;
};

/*
 * NEWCHAN's payload: whom the channel is for.  pid and uid are the
 * requesting connection's (SO_PEERCRED), epoch is the broker's count of
 * that pid's namespace changes (its epoch table, handed to the provider
 * with the answer to CREATE) when the channel was made: a channel whose
 * owner has changed namespace since names no path any more.
 */
#define WIRE_CHAN_NOPATHS 1u /* only operations on descriptions held */
struct wire_newchan {
	uint32_t flags; /* WIRE_CHAN_* */
	uint32_t pid, uid;
	uint32_t epoch;
};

/*
 * A channel the broker hands over, in the answer to CONNECT (one) and to
 * SERVES (one per scheme the pids asked about provide): its fd comes
 * with the message, in order, when err is 0.  pid is the provider's,
 * which made its open files' socket pairs (their SO_PEERCRED).
 */
#define WIRE_SERVES_MAX 64 /* pids asked about, or channels answered */
struct wire_chan {
	uint64_t inst;
	uint32_t pid;
	int32_t err; /* 0, or -errno: no channel */
};

/*
 * Tracing (schemectl trace).  The tracer asks the broker TRACE with the
 * names it wants ("" for every scheme it sees and may trace: its own
 * user's, or any for root); for each, the broker makes a socket pair,
 * hands one end to the provider (NEWTRACE; the broker's own schemes take
 * theirs directly) and the other to the tracer, with a wire_traced
 * saying which scheme it is, in order.  Through it the serving code sends
 * one wire_trace record per request answered, never waiting: a tracer
 * that does not keep up loses records, and the next one says how many.
 * A scheme made after the TRACE is not traced.  A scheme with
 * WIRE_TRACE_PER_SCHEME tracers already sends a new one a single record
 * of op 0, result -EMFILE, and closes it.
 */
#define WIRE_TRACE_MAX	    64	/* schemes one TRACE may name */
#define WIRE_TRACE_PER_SCHEME 8 /* tracers one scheme serves at once */
#define WIRE_TRACE_PATH	    256 /* bytes of a path a record keeps */
#define WIRE_TRACE_BY_PIPE  1u	/* flags: it came down the pipe */
#define WIRE_TRACE_REFUSED  2u	/* answered by the serving code: a cap, a
				   check, a description gone */
#define WIRE_TRACE_CUT	    4u	/* the path was longer than it keeps */
#define WIRE_TRACE_NOHANDLE UINT64_MAX /* handle: none (no description) */
struct wire_traced {
	uint64_t inst;
	char name[WIRE_MAX_NAME + 1];
	char pad[7];
};

struct wire_trace {
	uint16_t magic, version;
	uint32_t op;	    /* the request's SYS_* or WIRE_OP_* */
	uint64_t t_ns;	    /* when it was asked (CLOCK_REALTIME) */
	uint64_t lat_ns;    /* asked to answered */
	uint32_t pid, uid, gid;
	uint32_t flags;	    /* WIRE_TRACE_* */
	int64_t result;	    /* the answer: a value, or -errno */
	uint64_t handle;    /* the provider's handle, or NOHANDLE */
	uint64_t arg[3];    /* the packet's b, c, d; pointers are 0 */
	uint32_t dropped;   /* records not sent before this one */
	uint32_t pathlen;   /* bytes of path (cut to WIRE_TRACE_PATH) */
	char path[WIRE_TRACE_PATH]; /* the path, or a rename's new one */
};

#define WIRE_CTL_REPLY 0x100u /* or'ed into the type of an answer */

struct wire_ctl {
	uint16_t magic, version;
	uint32_t type; /* enum wire_ctl_type, | WIRE_CTL_REPLY */
	int32_t err;   /* 0, or -errno in an answer */
	uint32_t len;  /* payload bytes after the header */
	uint64_t inst; /* provider instance */
	uint64_t broker;
};

/*
 * A readiness record: what a provider sends down a subscription socket
 * when it posts an event the subscriber asked for.  A subscriber drains
 * them; a provider sends one only when the flags are not already waiting
 * there, so a flood costs at most one record per flag.
 */
struct wire_rec {
	uint16_t magic, version;
	uint32_t flags; /* EVENT_READ | EVENT_WRITE */
	uint64_t gen;
};

/* Counters a provider's preload reports to the broker. */
struct wire_stats {
	uint64_t requests;
	uint64_t answers;
	uint64_t dropped_unknown; /* answers with an id nobody asked */
	uint64_t dropped_badsize; /* answers claiming more than was asked */
	uint64_t dropped_malformed;
};

/* How a request's arguments travel (see the table in scheme.h). */
enum wire_in { WIRE_IN_NONE, WIRE_IN_PATH, WIRE_IN_BUF, WIRE_IN_AT };
enum wire_out { WIRE_OUT_NONE, WIRE_OUT_BYTES, WIRE_OUT_STRUCT };

/*
 * What a request kind is: one row each in wire.c's table, which both sides
 * read (libfuse's fuse_ll_ops is the model).  The serving code is generic
 * over these rows; what it does itself with its own kinds is serve.c's
 * table of them (own_rows).
 */
#define WIRE_KEYED   0x01u /* acts on a description, named by key */
#define WIRE_OPENS   0x02u /* success makes a description */
#define WIRE_NAMES   0x04u /* names a path (FRENAME, FLINK: a new one): refused
			      on a channel that may not (serve.c may_name) */
#define WIRE_BY_PIPE 0x08u /* may come down the request pipe, whole in one
			      write of at most PIPE_BUF bytes */
#define WIRE_INNER   0x10u /* made by the serving code, never by a client
			      (SYS_CLOSE: closing the fd is that) */
#define WIRE_KEY0    0x20u /* key 0 names no description (ATTACH: which?) */
#define WIRE_IO	     0x200u /* optional, with more arguments than a packet
			       has: the serving code puts them in a struct
			       scheme_io (c), and an answer not marked
			       served is -ENOSYS; a channel answered -ENOSYS
			       does not ask again (chan.c).  arg[0] is its
			       flags, arg[1] the offset, arg[2] the length */

struct wire_op {
	uint32_t op;
	const char *name;
	uint8_t in;	/* enum wire_in: payload becomes b,c or c,d */
	uint8_t out;	/* enum wire_out: reply payload comes from c,d */
	uint16_t flags; /* WIRE_KEYED ... */
};

/* Credentials the kernel vouches for (SCM_CREDENTIALS). */
struct wire_creds {
	uint32_t pid, uid, gid;
};

const struct wire_op *wire_op(uint32_t op);
bool wire_op_changes(uint32_t op);
bool wire_open_changes(uint32_t flags);

ssize_t wire_sendv(int sock, const struct iovec *iov, int iovcnt, int fd,
		   const struct wire_creds *cr, int flags);
ssize_t wire_sendv_fds(int sock, const struct iovec *iov, int iovcnt,
		       const int *fds, int nfds, const struct wire_creds *cr,
		       int flags);
ssize_t wire_send(int sock, const void *hdr, size_t hlen, const void *data,
		  size_t dlen, int fd, const struct wire_creds *cr, int flags);
ssize_t wire_recv(int sock, struct iovec *iov, int iovcnt, int *fd,
		  struct wire_creds *cr, int flags);
ssize_t wire_recv_fds(int sock, struct iovec *iov, int iovcnt, int *fds,
		      int *nfds, int flags);

/*
 * A header of hlen bytes, then exactly len bytes of payload, in n bytes:
 * 0, or -EPROTO.  Its callers test n >= hlen before they read the header
 * for magic, version and len.  Inline: the client checks every answer.
 */
static inline int
wire_hdr_check(size_t n, size_t hlen, uint16_t magic, uint16_t version,
	       uint32_t len)
{
	if (n < hlen || magic != WIRE_MAGIC || version != WIRE_VERSION ||
	    len > WIRE_MAX_DATA || n - hlen != len)
		return -EPROTO;
	return 0;
}

int wire_req_check(const struct wire_req *r, size_t n);

/* 0 when r's n bytes are a whole answer of this wire, else -EPROTO. */
static inline int
wire_rep_check(const struct wire_rep *r, size_t n)
{
	return n < sizeof(*r) ? -EPROTO
			      : wire_hdr_check(n, sizeof(*r), r->magic,
					       r->version, r->len);
}

int wire_ctl_check(const struct wire_ctl *c, size_t n);
int wire_name_check(const char *name, size_t len);
int wire_chans_check(const void *payload, size_t len, int nfds);
int wire_newchan_get(const void *payload, size_t len, struct wire_newchan *nc);

/* A request header of op on description key (0: none), all else 0. */
static inline void
wire_req_init(struct wire_req *r, uint32_t op, uint64_t key)
{
	memset(r, 0, sizeof(*r)); /* padding too: it goes on the wire */
	r->magic = WIRE_MAGIC;
	r->version = WIRE_VERSION;
	r->op = op;
	r->key = key;
}

void wire_rep_init(struct wire_rep *r, uint64_t seq);
void wire_ctl_init(struct wire_ctl *c, uint32_t type);

socklen_t wire_nsname(struct sockaddr_un *sa, uint64_t broker,
		      const uint8_t nonce[WIRE_NS_NONCE]);
int wire_nsname_parse(const struct sockaddr_un *sa, socklen_t len,
		      uint64_t *broker);

int wire_setsockbuf(int sock);
int wire_trace_check(const struct wire_trace *t, size_t n);

#endif
