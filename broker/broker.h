/*
 * broker.h - schemed's one state struct, and its roles.
 *
 *	schemed.c	start-up, the event loop, shutdown
 *	control.c	the listening socket and control connections
 *	listen.c	  a listening socket passed by systemd
 *	registry.c	which schemes exist, by name and by instance
 *	builtin.c	schemes the broker serves itself:
 *	root.c		  the root scheme ":" (listing, removal)
 *	time.c		  time: (deadlines on timerfd)
 *	irq.c		  irq: (interrupts; irq_vfio.c: VFIO devices)
 *	ns.c		namespaces: which schemes a connection sees
 *	epoch.c		the epoch table: each pid's namespace changes
 *	policy.c	who may connect and create, and the caps on each
 *
 * The broker is on the control path only: it creates schemes, lists them,
 * and hands each client thread a channel straight to the provider.  Data
 * never passes through it, except for its own built-in schemes.
 */
#ifndef BROKER_BROKER_H
#define BROKER_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <sys/types.h>
#include <sys/un.h>

#include "../proto/serve/serve.h"
#include "../proto/wire/wire.h"

#define INST_ROOT  1 /* instances below INST_FIRST are built in */
#define INST_EVENT 2
#define INST_TIME  3
#define INST_IRQ   4
#define INST_FIRST 16

enum src_kind {
	SRC_LISTEN = 1,
	SRC_CONN,
	SRC_SERVE, /* a built-in scheme's requests */
	SRC_SIGNAL,
	SRC_TIMER, /* time: deadlines */
	SRC_IRQ,   /* an interrupt's eventfd */
};

struct src {
	int kind;
	int fd;
};

struct conn;

struct ns {
	uint64_t id;
	uint64_t parent; /* made from */
	unsigned refs;
	bool fixed; /* the root and null namespaces */
	bool files; /* reaches ordinary files (the root, or mkns "file") */
	size_t n;
	uint64_t *insts; /* sorted */
	struct conn *maker;
	LIST_ENTRY(ns) made;
	RB_ENTRY(ns) by_id;
};
#define NS_MAX_PER_CONN 64

struct scheme {
	char name[WIRE_MAX_NAME + 1];
	uint64_t inst;
	struct conn *conn;     /* the provider's registration */
	struct serve *builtin; /* or the broker serves it itself */
	bool local;	       /* or each process serves it (event:) */
	struct ucred owner;
	/*
	 * The process serving it, which makes its open files' socket pairs
	 * (their SO_PEERCRED): owner.pid, or the child that carries on after
	 * daemon() (registry_set_pid).
	 */
	pid_t pid;
	struct wire_stats st;
	RB_ENTRY(scheme) by_name;
	RB_ENTRY(scheme) by_inst;
	RB_ENTRY(scheme) by_pid;
};

struct conn {
	struct src src;
	struct ucred peer; /* SO_PEERCRED: who connected */
	struct scheme *scheme;
	struct ns *rns, *ens; /* where it opens, where it creates */
	struct ns *to_rns, *to_ens; /* a SETRENS not yet committed */
	bool token;	      /* a namespace token: JOIN only */
	unsigned nmade;
	LIST_HEAD(, ns) made; /* namespaces it made (mkns) */
	struct peer *who;     /* its uid's counters */
	TAILQ_ENTRY(conn) link;
};

/* What one uid holds, for the per-uid caps. */
struct peer {
	uid_t uid;
	unsigned conns, schemes;
	RB_ENTRY(peer) by_uid;
};

/* The broker's caps (policy.c; 0 from the command line = default). */
struct limits {
	unsigned conns_per_uid;
	unsigned schemes_per_uid;
	unsigned schemes;
	unsigned namespaces;
};

RB_HEAD(scheme_names, scheme);
RB_HEAD(scheme_insts, scheme);
RB_HEAD(scheme_pids, scheme);
RB_HEAD(ns_ids, ns);
RB_HEAD(peers, peer);
int name_cmp(const struct scheme *a, const struct scheme *b);
int inst_cmp(const struct scheme *a, const struct scheme *b);
int pid_cmp(const struct scheme *a, const struct scheme *b);
RB_PROTOTYPE(scheme_names, scheme, by_name, name_cmp)
RB_PROTOTYPE(scheme_insts, scheme, by_inst, inst_cmp)
RB_PROTOTYPE(scheme_pids, scheme, by_pid, pid_cmp)
int ns_cmp(const struct ns *a, const struct ns *b);
int peer_cmp(const struct peer *a, const struct peer *b);
RB_PROTOTYPE(ns_ids, ns, by_id, ns_cmp)
RB_PROTOTYPE(peers, peer, by_uid, peer_cmp)

/*
 * A scheme the broker serves itself, through the same protocol as any
 * provider: handle() answers one request (or returns BUILTIN_ANSWERED
 * when it answered by other means, such as serve_answer_fd()).
 */
#define BUILTIN_ANSWERED INT64_MIN

struct broker;

struct builtin {
	struct src src; /* SRC_SERVE: first, so the src finds us */
	struct scheme scheme;
	int64_t (*handle)(struct broker *b, struct builtin *bi,
			  const struct scheme_packet *p);
};

struct broker {
	int ep;
	struct src listen, sig;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t sock_dev;
	ino_t sock_ino;
	uint64_t id;
	uint64_t next_inst;
	bool quit;
	struct scheme_names names;
	struct scheme_insts insts;
	struct scheme_pids pids;
	size_t nschemes, nconns;
	TAILQ_HEAD(, conn) conns;
	struct builtin root, time, irq;
	struct scheme event;
	struct ns ns_root, ns_null;
	struct ns_ids nsids;
	uint64_t next_ns;
	size_t nns, nprovided;
	struct peers peers;
	struct limits lim;
	gid_t group; /* may connect too (--group), or (gid_t)-1 */
	bool group_creates;
	/* The epoch table (epoch.c): nepochs counters, or NULL. */
	_Atomic uint32_t *epochs;
	uint32_t nepochs;
	int epoch_fd;
};

extern struct broker *br;

/* view.c: schemed --mount DIR */
int view_start(struct broker *b, const char *dir);
void view_stop(void);

/* registry.c */
int registry_add(struct broker *b, struct scheme *s);
void registry_remove(struct broker *b, struct scheme *s);
struct scheme *registry_by_name(struct broker *b, const char *name);
struct scheme *registry_by_inst(struct broker *b, uint64_t inst);
struct scheme *registry_by_pid(struct broker *b, pid_t pid,
			       const struct scheme *after);
void registry_set_pid(struct broker *b, struct scheme *s, pid_t pid);
size_t registry_list(struct broker *b, const struct ns *ns, char *buf,
		     size_t len);

/* ns.c */
void ns_init(struct broker *b);
struct ns *ns_by_id(struct broker *b, int64_t id);
struct ns *ns_get(struct ns *ns);
void ns_put(struct broker *b, struct ns *ns);
bool ns_sees(const struct ns *ns, const struct scheme *s);
int ns_add(struct ns *ns, uint64_t inst);
int ns_make(struct broker *b, struct conn *maker, const char *names, size_t len,
	    struct ns **out);
void ns_forget_maker(struct broker *b, struct conn *c);
struct ns *ns_enter(struct broker *b, struct ns *cur, struct ns *also,
		     int64_t want, int *err);
struct ns *ns_of_pid(struct broker *b, pid_t pid);

/* epoch.c */
int epoch_init(struct broker *b);
void epoch_free(struct broker *b);
uint32_t epoch_of(const struct broker *b, pid_t pid);
int epoch_check(const struct broker *b, pid_t pid);
int epoch_bump(struct broker *b, pid_t pid);

/* policy.c */
int policy_group(struct broker *b, const char *name);
int policy_limit(struct broker *b, const char *spec);
void policy_defaults(struct broker *b);
int policy_admit(struct broker *b, struct conn *c);
void policy_leave(struct broker *b, struct conn *c);
int policy_may_create(struct broker *b, const struct conn *c);
void policy_created(struct broker *b, struct conn *c);
void policy_removed(struct broker *b, struct conn *c);
bool policy_may_administer(const struct ucred *who);
int policy_socket(struct broker *b);

/* control.c */
int control_listen(struct broker *b);
int control_adopt(struct broker *b, int fd);
void control_accept(struct broker *b);
int conn_new(struct broker *b, int fd, const struct ucred *peer, struct ns *rns,
	     struct ns *ens, struct conn **out);
void control_ready(struct broker *b, struct conn *c, uint32_t events);
void control_close(struct broker *b, struct conn *c);
void control_reap(void);
void control_shutdown(struct broker *b);

/* listen.c */
int listen_systemd(struct broker *b);

/* builtin.c */
int builtin_start(struct broker *b, struct builtin *bi, const char *name,
		  uint64_t inst);
void builtin_ready(struct broker *b, struct builtin *bi);
void builtin_post(struct builtin *bi, uint64_t handle, uint64_t flags);
void builtin_stop(struct builtin *bi);

/* root.c */
int root_init(struct broker *b);
void root_free(struct broker *b);

/* time.c */
int time_init(struct broker *b);
void time_fire(struct broker *b, struct src *src);
void time_free(struct broker *b);

/* irq.c */
int irq_configure(struct broker *b, const char *spec);
int irq_configure_file(struct broker *b, const char *path);
void irq_simulate(void);
int irq_init(struct broker *b);
void irq_fire(struct broker *b, struct src *src);
int irq_raise(struct broker *b, uint64_t n);
void irq_free(struct broker *b);

/* schemed.c */
int broker_watch(struct broker *b, struct src *src);
void broker_unwatch(struct broker *b, struct src *src);

#endif
