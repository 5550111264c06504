/*
 * broker_rig.h - schemed in-process, for fuzz_control and fuzz_builtin.
 *
 * Every broker source is linked as it is except schemed.c (main(), the
 * event loop, broker_watch) and log.c (stderr).  broker_rig.c supplies
 * those: the same state set-up as main(), the same dispatch as loop(),
 * run until nothing is ready, and a logger that writes nothing and turns
 * fatalx() into a crash.
 */
#ifndef FUZZ_BROKER_RIG_H
#define FUZZ_BROKER_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "../broker/broker.h"

#define BRIG_FDS 32

/*
 * The pid fuzz_control's connection A is said to have (B's is one more):
 * fixed, so that an input can name it (SERVES), as a real client names
 * the pid its fd's peer gives.
 */
#define BRIG_PID 4242

/* The fds the client side of the rig holds (replies handed them over). */
struct brig_fds {
	int fd[BRIG_FDS];
	int n;
};

/* Once per process: the broker, its built-in schemes, irq: simulated. */
void brig_init(void);

/* The event loop until nothing is ready (bounded). */
void brig_run(void);

/* A control connection as control_accept() makes one; the client's end. */
int brig_connect(const struct ucred *peer);

/* Counts that must come back to where they were once a client is gone. */
struct brig_counts {
	size_t nconns, nschemes, nns;
	size_t descs[3]; /* open files of root, time:, irq: */
};

void brig_counts(struct brig_counts *c);
void brig_check(const struct brig_counts *before, const char *what);
/* fds the built-ins keep for their life, made by an input (their
 * change counts): the fd checks allow them. */
int brig_gens_fds(void);

void brig_keep(struct brig_fds *f, int fd);
void brig_close_all(struct brig_fds *f);

#endif
