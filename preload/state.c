/*
 * state.c - the preload's locks and its fork handlers (see state.h).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>

#include "state.h"

static struct {
	pthread_mutex_t m;
	bool across_calls; /* may be held while another process answers */
} locks[ST_NLOCKS] = {
    [ST_NS] = {PTHREAD_MUTEX_INITIALIZER, true},
    [ST_BCONN] = {PTHREAD_MUTEX_INITIALIZER, true},
    [ST_BCONN_PATH] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_SPAWN] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_STDIO] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_STDIO_OURS] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_CWD] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_POOL] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_PROVIDERS] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_CHANS] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_FDTAB] = {PTHREAD_MUTEX_INITIALIZER, false},
    [ST_ATTR] = {PTHREAD_MUTEX_INITIALIZER, false},
};

#define MAX_HOOKS 16
static const struct st_fork_hook *hooks[MAX_HOOKS];
static int nhooks;

void
st_lock(enum st_lock l)
{
	pthread_mutex_lock(&locks[l].m);
}

void
st_unlock(enum st_lock l)
{
	pthread_mutex_unlock(&locks[l].m);
}

/* Called at start-up, before any thread of ours: no lock needed. */
void
st_on_fork(const struct st_fork_hook *h)
{
	if (nhooks < MAX_HOOKS)
		hooks[nhooks++] = h;
}

static void
prepare(void)
{
	for (int l = 0; l < ST_NLOCKS; l++) {
		if (!locks[l].across_calls)
			pthread_mutex_lock(&locks[l].m);
		for (int i = 0; i < nhooks; i++)
			if ((int)hooks[i]->at == l && hooks[i]->prepare)
				hooks[i]->prepare();
	}
}

static void
parent(void)
{
	for (int l = ST_NLOCKS - 1; l >= 0; l--) {
		for (int i = nhooks - 1; i >= 0; i--)
			if ((int)hooks[i]->at == l && hooks[i]->parent)
				hooks[i]->parent();
		if (!locks[l].across_calls)
			pthread_mutex_unlock(&locks[l].m);
	}
}

void
st_fork_child(void)
{
	for (int l = 0; l < ST_NLOCKS; l++)
		pthread_mutex_init(&locks[l].m, NULL);
	for (int i = 0; i < nhooks; i++)
		if (hooks[i]->child)
			hooks[i]->child();
}

void
st_init(void)
{
	pthread_atfork(prepare, parent, st_fork_child);
}
