/*
 * <scheme/scheme.h> - the scheme ABI on Linux (pkg-config module "scheme").
 *
 * A provider is a plain POSIX C program.  It creates a scheme with
 *
 *	int fd = open(":name", O_CREAT | O_RDWR, 0600);
 *
 * reads requests from fd as whole struct scheme_packet records, and writes
 * each answer back as the same record with `a` replaced by the result.  The
 * layout and the request numbers are Redox OS's.  The full contract, every
 * request with its arguments, valid answers and notes, is the manual page
 * scheme(7) (`man scheme`; in the source, doc/man/scheme.7).
 *
 * Valid answers, per request (`a` of the answer):
 *
 *	SYS_OPEN	handle (any value below UINT64_MAX - 4096) or -errno.
 *			b = path (NUL-terminated at b[c]), c = length,
 *			d = Linux O_* flags | mode << 32.
 *	SYS_UNLINK,
 *	SYS_RMDIR	0 or -errno.  b = path, c = length.
 *	SYS_DUP		new handle or -errno.  b = handle, c = buffer, d = length.
 *	SYS_READ	bytes written into c (at most d), or -errno.  -EAGAIN
 *			reaches a client only if its file is O_NONBLOCK; a
 *			blocking client waits for an EVENT_READ post and asks
 *			again.  A provider may instead keep the request and
 *			answer it later.
 *	SYS_WRITE	bytes taken from c (at most d), or -errno (-EAGAIN as
 *			for SYS_READ, with EVENT_WRITE).
 *	SYS_LSEEK	new offset or -errno.  c = offset (int64), d = whence.
 *	SYS_FCNTL	0 (or a value) to agree, -errno to refuse.  c = cmd,
 *			d = arg.  F_GETFL and F_SETFL are kept by the system
 *			once the provider agrees, as on Redox.
 *	SYS_FEVENT	the flags that are ready now (0 if none).  c = wanted.
 *	SYS_FPATH	bytes of path written into c (at most d), or -errno.
 *	SYS_FSTAT	0 after filling the struct stat at c (d bytes), -errno.
 *	SYS_FSTATVFS	0 after filling the struct statvfs at c, or -errno.
 *	SYS_FSYNC	0 or -errno.
 *	SYS_FTRUNCATE	0 or -errno.  c = length.
 *	SYS_FCHMOD	0 or -errno.  c = mode.
 *	SYS_FCHOWN	0 or -errno.  c = uid, d = gid.
 *	SYS_FRENAME	0 or -errno.  c = new path, d = length.
 *	SYS_FUTIMENS	0 or -errno.  c = struct timespec[2], d = bytes.
 *	SYS_CLOSE	ignored: it is sent once, when the last fd of the open
 *			file description is gone, and nobody waits for it.
 *
 * A posted event is a record with id 0:
 *
 *	(struct scheme_packet){ .a = SYS_FEVENT, .b = handle, .c = flags }
 *
 * Unknown ids, and answers claiming more bytes than were asked for, are
 * dropped and counted; they are never fatal.
 */
#ifndef SCHEME_SCHEME_H
#define SCHEME_SCHEME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct scheme_packet {	   /* 56 bytes, Redox layout */
	uint64_t id;	   /* request id; 0 = provider-to-broker post */
	uint64_t pid;	   /* caller's pid (from the kernel) */
	uint32_t uid, gid; /* caller's effective uid/gid (kernel) */
	uint64_t a;	   /* request: SYS_*; response: result */
	uint64_t b, c, d;  /* arguments, see the table above */
};

struct scheme_event {	/* 24 bytes */
	uint64_t id;	/* the fd */
	uint64_t flags; /* EVENT_READ | EVENT_WRITE */
	uint64_t data;	/* caller's token, returned as given */
};

struct scheme_timespec { /* 16 bytes (4 bytes padding) */
	int64_t tv_sec;
	int32_t tv_nsec;
};

#define EVENT_NONE  0
#define EVENT_READ  1
#define EVENT_WRITE 2

/* Request kinds: Redox's names and numbers. */
#define SYS_OPEN      0x10100005
#define SYS_UNLINK    0x1000000A
#define SYS_RMDIR     0x10000054
#define SYS_DUP	      0x20100029
#define SYS_READ      0x22000003
#define SYS_WRITE     0x21000004
#define SYS_LSEEK     0x20000013
#define SYS_FCNTL     0x20000037
#define SYS_FEVENT    0x2000039F
#define SYS_FPATH     0x220003A0
#define SYS_FSTAT     0x2200001C
#define SYS_FSTATVFS  0x22000064
#define SYS_FSYNC     0x20000076
#define SYS_FTRUNCATE 0x2000005D
#define SYS_FCHMOD    0x2000005E
#define SYS_FCHOWN    0x200000CF
#define SYS_FRENAME   0x23000026
#define SYS_FUTIMENS  0x21000140
#define SYS_CLOSE     0x20000006

long getns(void);				    /* 0 = null namespace */
int setrens(long rns, long ens);		    /* -1 = unchanged */
long mkns(const char *const names[], size_t count); /* new namespace id */

#ifdef __cplusplus
}
#define SCHEME_STATIC_ASSERT(e, m) static_assert(e, m)
#else
#define SCHEME_STATIC_ASSERT(e, m) _Static_assert(e, m)
#endif

SCHEME_STATIC_ASSERT(sizeof(struct scheme_packet) == 56,
		     "struct scheme_packet must be 56 bytes");
SCHEME_STATIC_ASSERT(sizeof(struct scheme_event) == 24,
		     "struct scheme_event must be 24 bytes");
SCHEME_STATIC_ASSERT(sizeof(struct scheme_timespec) == 16,
		     "struct scheme_timespec must be 16 bytes");

#endif /* SCHEME_SCHEME_H */
