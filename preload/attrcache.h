/*
 * attrcache.h - the answers a provider lets this process keep (scheme.h
 * "Caching", SYS_FGRANT): stats of paths, and fds' paths, for the time
 * granted, dropped whole at any change this process makes.
 */
#ifndef PRELOAD_ATTRCACHE_H
#define PRELOAD_ATTRCACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define AC_KEYMAX 224 /* longer paths are not kept */
#define AC_MISS	  1   /* ac_get: not kept (else 0 or -ENOENT) */

/* Which answer: the scheme, the path in it, followed or not. */
struct ac_key {
	uint64_t hash;
	size_t len;
	char s[AC_KEYMAX];
};

bool ac_key(struct ac_key *k, const char *name, const char *rest,
	    size_t restlen, const char *entry, size_t elen, bool nofollow);

/*
 * What an answer is kept against: the scheme instance, this process's
 * generation and the scheme's change count when it was asked.
 */
struct ac_snap {
	uint64_t inst, gen, count;
};

uint64_t ac_gen(void);
void ac_drop(void);

/* The grant of a scheme instance: false if not asked yet. */
bool ac_granted(uint64_t inst, uint32_t *attr_ms);
const _Atomic uint64_t *ac_grant_set(uint64_t inst, int64_t answer,
				     const _Atomic uint64_t *count);
void ac_grant_name(uint64_t inst, const char *name);
bool ac_lists_stat(uint64_t inst);
void ac_lists_stat_none(uint64_t inst);
bool ac_snap_inst(uint64_t inst, struct ac_snap *sn);
bool ac_snap_name(const char *name, struct ac_snap *sn);

int ac_get(const struct ac_key *k, struct stat *st);
void ac_put(const struct ac_key *k, const struct stat *st, int err,
	    const struct ac_snap *sn);

bool ac_fpath_get(uint64_t inst, uint64_t key, char *buf, size_t len, int *n);
void ac_fpath_forget(uint64_t inst, uint64_t key);
void ac_fpath_put(uint64_t key, const char *path, int n,
		  const struct ac_snap *sn);

#endif
