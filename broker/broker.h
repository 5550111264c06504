/*
 * broker.h - schemed's one state struct, and its roles.
 *
 *	schemed.c	start-up, the event loop, shutdown
 *	control.c	the listening socket and control connections
 *	registry.c	which schemes exist, by name and by instance
 *	builtin.c	schemes the broker serves itself:
 *	root.c		  the root scheme ":" (listing, removal)
 *	time.c		  time: (deadlines on timerfd)
 *	irq.c		  irq: (interrupts; irq_vfio.c: VFIO devices)
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

#include "../proto/serve.h"
#include "../proto/wire.h"

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

struct scheme {
	char name[WIRE_MAX_NAME + 1];
	uint64_t inst;
	struct conn *conn;     /* the provider's registration */
	struct serve *builtin; /* or the broker serves it itself */
	bool local;	       /* or each process serves it (event:) */
	struct ucred owner;
	struct wire_stats st;
	RB_ENTRY(scheme) by_name;
	RB_ENTRY(scheme) by_inst;
};

struct conn {
	struct src src;
	struct ucred peer; /* SO_PEERCRED: who connected */
	struct scheme *scheme;
	TAILQ_ENTRY(conn) link;
};

RB_HEAD(scheme_names, scheme);
RB_HEAD(scheme_insts, scheme);
int name_cmp(const struct scheme *a, const struct scheme *b);
int inst_cmp(const struct scheme *a, const struct scheme *b);
RB_PROTOTYPE(scheme_names, scheme, by_name, name_cmp)
RB_PROTOTYPE(scheme_insts, scheme, by_inst, inst_cmp)

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
	size_t nschemes, nconns;
	TAILQ_HEAD(, conn) conns;
	struct builtin root, time, irq;
	struct scheme event;
};

extern struct broker *br;

/* registry.c */
int registry_add(struct broker *b, struct scheme *s);
void registry_remove(struct broker *b, struct scheme *s);
struct scheme *registry_by_name(struct broker *b, const char *name);
struct scheme *registry_by_inst(struct broker *b, uint64_t inst);
size_t registry_list(struct broker *b, char *buf, size_t len);

/* control.c */
int control_listen(struct broker *b);
void control_accept(struct broker *b);
void control_ready(struct broker *b, struct conn *c, uint32_t events);
void control_close(struct broker *b, struct conn *c);
void control_reap(void);
void control_shutdown(struct broker *b);

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
