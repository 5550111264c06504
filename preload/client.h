/*
 * client.h - what the program's calls on scheme paths and fds become.
 *
 * Every function returns >= 0 or -errno; the wrappers turn that into
 * errno and -1.  SC_PASS means "not a scheme after all" (no broker, or no
 * scheme by that name): the wrapper then does what the kernel would do
 * with the path, so "a:b.txt" on disk still opens.
 */
#ifndef PRELOAD_CLIENT_H
#define PRELOAD_CLIENT_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "../proto/wire/path.h"
#include "fdtab.h"

#define SC_PASS (-0x40000000)
/* sc_at: the provider answered with a kernel fd; ask separately. */
#define SC_SEPARATE (-0x40000001)

/* Whether an open takes a mode: O_TMPFILE includes O_DIRECTORY's bit. */
#define NEEDS_MODE(flags)                                                      \
	(((flags)&O_CREAT) != 0 || ((flags)&O_TMPFILE) == O_TMPFILE)

/* Which description an open gave (sc_open): key 0 is a kernel fd. */
struct sc_desc {
	uint64_t broker, inst, key;
};

struct wire_req;
struct wire_rep;
int sc_call(int fd, struct sfd *e, struct wire_req *req,
	    const struct iovec *in, int nin, struct iovec *out, int nout,
	    struct wire_rep *rep, int sendfd, int *rfd);

/* A record for one call's open file, in no table (path calls). */
static inline void
sc_desc_sfd(struct sfd *tmp, const struct sc_desc *d)
{
	*tmp = (struct sfd){0};
	tmp->broker = d->broker;
	tmp->inst = d->inst;
	tmp->key = d->key;
}

int sc_open_once(const struct scheme_path *sp, int flags, mode_t mode,
		 struct sc_desc *d);

/* follow.c: the same, with symbolic links followed. */
int sc_open(const struct scheme_path *sp, int flags, mode_t mode,
	    struct sc_desc *d);
int sc_follow(struct scheme_path *sp, bool last, char *buf, size_t len,
	      int *hops);
int sc_stat(const struct scheme_path *sp, struct stat *st, bool nofollow);

/* readlink.c: a link's target (-EINVAL: no link). */
int sc_readlink(const struct scheme_path *sp, char *out, size_t len);

/*
 * A request on a path in one round trip (WIRE_OP_AT, wire.h): op with c
 * and d on the path opened with oflags, its input in[inlen] and its
 * output into out[outlen] (got: the bytes that came).  inst is the
 * scheme's instance, for st_dev.
 */
struct sc_at {
	int oflags;
	uint32_t op;
	uint64_t c, d;
	const void *in;
	size_t inlen;
	void *out;
	size_t outlen;
	size_t got;    /* out */
	uint64_t inst; /* out */
};
int64_t sc_at(const struct scheme_path *sp, struct sc_at *a);
/* A scheme's st_dev, as on Redox: the device number says which scheme. */
dev_t scheme_dev(uint64_t inst);
ssize_t sc_readv(int fd, struct sfd *e, const struct iovec *iov,
		 int iovcnt);
ssize_t sc_writev(int fd, struct sfd *e, const struct iovec *iov,
		  int iovcnt);
/* fdops.h's read and write: as read() and write(), -1 and errno */
ssize_t sc_read(int fd, struct sfd *e, void *buf, size_t n);
ssize_t sc_write(int fd, struct sfd *e, const void *buf, size_t n);
ssize_t sc_preadv(int fd, struct sfd *e, const struct iovec *iov,
		  int iovcnt, off_t off, int rwf, bool write);
int sc_fallocate(int fd, struct sfd *e, int mode, off_t off, off_t len);
off_t sc_lseek(int fd, struct sfd *e, off_t off, int whence);
int sc_fstat(int fd, struct sfd *e, struct stat *st);
int sc_fcntl(int fd, struct sfd *e, int cmd, uint64_t arg);
int sc_fsync(int fd, struct sfd *e);
int sc_ftruncate(int fd, struct sfd *e, off_t len);
int sc_fpath(int fd, struct sfd *e, char *buf, size_t len);
ssize_t sc_getdents(int fd, struct sfd *e, void *buf, size_t len);
ssize_t sc_getdents_stat(int fd, struct sfd *e, void *buf, size_t len);
uint32_t sc_grant(const struct scheme_path *sp, uint64_t inst);
uint32_t sc_grant_fd(int fd, struct sfd *e);
struct statvfs;
int sc_fstatvfs(int fd, struct sfd *e, struct statvfs *sv);
int sc_fchmod(int fd, struct sfd *e, mode_t mode);
int sc_fchown(int fd, struct sfd *e, uid_t uid, gid_t gid);
int sc_futimens(int fd, struct sfd *e, const struct timespec ts[2]);
int sc_frename(int fd, struct sfd *e, const char *path, size_t len);
int sc_flink(int fd, struct sfd *e, const char *path, size_t len);
struct scheme_map;
int sc_fmap(int fd, struct sfd *e, struct scheme_map *m, int *mfd,
	    uint32_t *dflags);
void sc_umask_set(mode_t m);
int sc_query(int proof, struct sfd *e, uint32_t flags);
int sc_subscribe(int fd, struct sfd *e, uint32_t flags);
uint32_t sc_drain(int sub, bool *gone);

int sc_poll(struct pollfd *fds, nfds_t n, long timeout_ms,
	    const sigset_t *mask);

#endif
