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
 *	SYS_OPEN	handle (any value from 0 to 2^63 - 1) or -errno; a
 *			larger value is answered to the client as EIO.
 *			b = path (NUL-terminated at b[c]), c = length,
 *			d = Linux O_* flags | mode << 32.
 *	SYS_UNLINK,
 *	SYS_RMDIR	0 or -errno.  b = path, c = length.
 *	SYS_DUP		new handle or -errno.  b = handle, c = buffer, d = length.
 *			Not sent today: dup(), fork and SCM_RIGHTS share the
 *			open file in the kernel, as on Linux.
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
 *			once the provider agrees, as on Redox.  Lock
 *			commands never arrive here: see "Locks" below.
 *	SYS_FEVENT	the flags that are ready now (0 if none).  c = wanted.
 *	SYS_FPATH	bytes of path written into c (at most d), or -errno.
 *	SYS_FSTAT	0 after filling the struct stat at c (d bytes), -errno.
 *	SYS_FSTATVFS	0 after filling the struct statvfs at c, or -errno.
 *	SYS_FSYNC	0 or -errno.
 *	SYS_FTRUNCATE	0 or -errno.  c = length.
 *	SYS_FCHMOD	0 or -errno.  c = mode.
 *	SYS_FCHOWN	0 or -errno.  c = uid, d = gid.
 *	SYS_FRENAME	0 or -errno.  c = new path, d = length.
 *	SYS_FLINK	0 or -errno: give the open file (b, opened O_PATH,
 *			O_NOFOLLOW unless linkat's AT_SYMLINK_FOLLOW) one
 *			more name, c = new path (d = length) in the same
 *			scheme: a hard link.  -EEXIST if the name is
 *			there, -EPERM for a directory; -ENOSYS (or -EPERM):
 *			no hard links here, and link(2) says EPERM.  Across
 *			schemes, or to a disk path, the client says EXDEV
 *			and sends nothing.  After a 0 the client stats the
 *			new name: not the same st_ino, link(2) says EIO.
 *	SYS_FUTIMENS	0 or -errno.  c = struct timespec[2], d = bytes.
 *	SYS_FMAP	an fd of the provider's own, or -errno.  c = struct
 *			scheme_map (below), d = its size.  The fd (a memfd
 *			the provider keeps as the file's storage, or any
 *			regular file) is passed to the client, which maps
 *			it; the provider keeps its own.  Its bytes from
 *			map->offset on are the file's from the offset asked:
 *			the provider may change map->offset (page-aligned)
 *			to say where in the fd they are.  A MAP_SHARED
 *			mapping is then shared by every process mapping the
 *			file, and its writes are the file's.  -ENOSYS or
 *			-EOPNOTSUPP: not mapped so; the client maps a
 *			private copy (MAP_PRIVATE, or MAP_SHARED without
 *			PROT_WRITE) and refuses a writable MAP_SHARED with
 *			ENODEV.  Any other -errno (-EACCES, -ENODEV) is the
 *			mmap's.  The system hands a read-only copy of the fd
 *			to a file not opened O_RDWR.
 *	SYS_FUNMAP	Not sent: a mapping holds the fd in the client's own
 *			kernel, and the provider has nothing to let go.
 *	SYS_READ2	bytes read, or -errno: a read at an offset (pread,
 *			preadv), one request, atomic, the file's own offset
 *			left alone.  c = struct scheme_io (below), d = its
 *			size: io->len bytes at most, from io->offset, into
 *			io->buf.  Optional: see "Optional requests".
 *	SYS_WRITE2	bytes written, or -errno: pwrite, pwritev, likewise;
 *			io->buf holds io->len bytes for io->offset.
 *	SYS_FALLOCATE	0 or -errno: fallocate(2) of io->len bytes from
 *			io->offset with mode io->flags (FALLOC_FL_*);
 *			-EOPNOTSUPP for a mode not served.  Optional.
 *	SYS_LOCK	0 or -errno: a file lock, taken over by the provider
 *			(see "Locks" below).  c = struct scheme_lock, d = its
 *			size.  Optional.
 *	SYS_CLOSE	0: sent once, when the last fd of the open file
 *			description is gone.  Nobody waits for it, but write
 *			the answer back all the same: until it is, the
 *			request is kept (and counted unanswered).
 *	SYS_GETDENTS	bytes of whole struct scheme_dirent entries written
 *			into c (at most d), the directory's next ones from the
 *			handle's position, which moves past them (lseek to 0
 *			rewinds); 0 at the end; -EINVAL if d holds not even
 *			the next one; -errno.  Optional: a provider that
 *			answers -ENOSYS (as to any request it does not know)
 *			or -EOPNOTSUPP is listed by SYS_READ of the
 *			directory, one name a line, and not asked again.
 *			Programs then see each entry's type and inode number
 *			without a stat each ("." and ".." are added by the
 *			system: do not list them).
 *	SYS_FGRANT	how long the client may keep what it is told, or
 *			-errno (-ENOSYS: nothing; the default).  b = a
 *			handle (any: the root's, opened "" O_PATH, or a
 *			directory being listed), asked once per process
 *			and scheme.  The answer is SCHEME_GRANT(attr_ms,
 *			neg_ms): a stat's answer (and a SYS_GETDENTS_STAT
 *			entry's) may be used again for attr_ms, an ENOENT
 *			for neg_ms, each at most SCHEME_GRANT_MAX_MS.  0:
 *			never (each stat reaches the provider).  See
 *			"Caching" below.  Optional.
 *	SYS_GETDENTS_STAT
 *			as SYS_GETDENTS, but each entry is followed by the
 *			entry's struct stat (as an lstat of it would answer:
 *			SCHEME_DIRENT_STAT below), so that the stats that
 *			follow a listing (ls -l, du, tar) are answered from
 *			it.  Asked only of a provider that granted attr_ms;
 *			-ENOSYS or -EOPNOTSUPP: SYS_GETDENTS is asked
 *			instead, and this not again.  Optional.
 *
 * A stat, access, readlink, chmod, chown or utimensat of a path costs the
 * client one round trip, but the provider sees it as it always did:
 * SYS_OPEN of the path (O_PATH, with O_NOFOLLOW for lstat), then on its
 * handle SYS_FSTAT (SYS_FCHMOD, SYS_FCHOWN, SYS_FUTIMENS), then
 * SYS_CLOSE.  The system asks each as the answer to the one before comes
 * back, and always closes a handle it opened, also when the client has
 * gone meanwhile.
 *
 * Locks.  fcntl(2) record locks, OFD locks, flock(2) and lockf(3) on a
 * scheme's files are kept by the system by default, in the serving code
 * inside the provider's process, by each file's identity: the st_dev and
 * st_ino the provider answers to a SYS_FSTAT, asked once per open file at
 * its first lock.  Two opens of one file must answer the same pair; an
 * error or st_ino 0 makes locks on that open file fail with ENOLCK (locks
 * that could not exclude the file's other opens would be silently
 * wrong).  They exclude each other across processes and threads with
 * Linux's rules (owners, release on close, exit and kill, waits, EINTR,
 * EDEADLK; scheme(7) LOCKS).
 *
 * A provider may take locks over instead (FUSE's GETLK and SETLK are the
 * model): the serving code offers it the first lock request as SYS_LOCK,
 * an optional request (below).  One that serves it gets every lock
 * request on its files from then on, and the serving code keeps none;
 * one that does not (no served mark, or -ENOSYS) is not asked again, and
 * the serving code keeps its locks as above.  c points to a struct
 * scheme_lock (d = its size), kept until the answer; b is the handle,
 * except for SCHEME_LOCK_RELEASE_ALL.  By cmd:
 *
 *	GET	F_GETLK, F_OFD_GETLK: 0, with type, start, end and pid
 *		replaced by the first lock of another owner that a lock of
 *		this type on this range would conflict with (pid: its
 *		holder's, -1 for an OFD lock), or type F_UNLCK.
 *	SET	take (F_RDLCK, F_WRLCK) or drop (F_UNLCK) the range for the
 *		owner: 0, -EAGAIN when another owner's lock is in the way,
 *		-ENOLCK, -errno.  The serving code has checked the open
 *		file's access mode (EBADF) already.
 *	SETW	the same, waiting: the provider keeps the request
 *		(SCHEME_DEFER) until it can be granted, then answers 0, or
 *		-EDEADLK at once for a POSIX owner that would wait in a
 *		circle.
 *	CANCEL	the client gave the wait up (a signal, EINTR; or it went
 *		away): answer the kept SETW whose id is `wait` now (-EINTR)
 *		if it is still kept, then this one (0).  A grant that crossed
 *		the cancel is let go by the serving code (an F_UNLCK SET of
 *		that range for that owner): nobody is left holding it, but
 *		neither what the owner held there before (an upgrade from a
 *		read lock loses it; Linux's would keep it).
 *	RELEASE	every lock the owner (POSIX) holds on the handle's file
 *		goes: the process closed an fd of the file (fcntl(2)).
 *	RELEASE_ALL  every lock of the owner goes, on every file, and its
 *		kept SETW requests are answered (-EINTR); b is 0.  Sent when
 *		an open file description ends (its OFD and flock owner,
 *		before or after the handle's SYS_CLOSE) and when a process
 *		that was granted a POSIX lock ends (exit, kill).
 *
 * Owners are opaque, and one owner is one holder: a process for POSIX
 * locks, an open file description for OFD and flock locks (so dup, fork
 * and SCM_RIGHTS share them), never equal across the two.  POSIX and OFD
 * locks are ranges that conflict when their owners differ, flock locks
 * are whole-file and meet only each other, a SET replaces what its owner
 * held in the range (splitting, merging): Linux's rules are the
 * provider's to keep.  start and end are absolute, end inclusive,
 * SCHEME_LOCK_EOF for "to the end of the file, however it grows".
 *
 * Symbolic links, the Redox way (optional: a provider without them needs
 * Symbolic links, the Redox way (optional: a provider without them needs
 * to do nothing).  A link is a file of type S_IFLNK whose contents are
 * its target.  SCHEME_O_SYMLINK (Redox's O_SYMLINK) in an open's flags
 * names the link itself, never what it points to:
 *
 *	O_SYMLINK | O_CREAT | O_EXCL | O_WRONLY, mode 0777: a new link
 *			(symlink(2)); the target is what is then written.
 *	O_SYMLINK | O_RDONLY: the link, whose read gives the target
 *			(readlink(2)); -EINVAL when the name is no link.
 *	O_PATH | O_NOFOLLOW: the link, for SYS_FSTAT (lstat(2)), fchmod...
 *	O_NOFOLLOW otherwise, on a link: -ELOOP, as Linux.
 *	O_CREAT | O_EXCL on a link (mkdir too): -EEXIST, as Linux, wherever
 *			it points (never -EXDEV: its target is not made).
 *
 * A link met on the way (a component before the last, or the last one of
 * an open without O_NOFOLLOW or O_SYMLINK, and of SYS_UNLINK and
 * SYS_RMDIR only before the last) is followed by the client, as Redox's
 * relibc does: the provider answers -EXDEV.  The client then reads the
 * link (an O_SYMLINK open of each leading part of the path: -EINVAL for
 * one that is no link) and asks again with its target in place, relative
 * to the link's directory; an absolute target is followed where it leads,
 * to another scheme or to a disk path.  After 40 links, -ELOOP.  A
 * provider may follow links inside itself instead and answer -EXDEV only
 * for targets outside it.
 *
 * Caching.  Off unless the provider grants it (SYS_FGRANT): then each
 * process keeps the answers to its stats of paths (stat, lstat, fstatat,
 * statx, access; and the entries of a SYS_GETDENTS_STAT listing) and
 * the path of an open directory (SYS_FPATH, which each *at call asks),
 * shared by its threads, as the kernel keeps FUSE's attributes and names
 * for their timeouts.  The serving code counts every request that may
 * change a file of the scheme (a write, truncate, chmod, chown, utimens,
 * rename, link, unlink, rmdir, fallocate, fmap, an open that creates,
 * truncates or may write), from any client, in memory every client maps;
 * a kept answer is used only while that count has not moved.  So any
 * change made through the scheme, by any process, is seen by the next
 * stat once it is done, as on a local file system.  What is seen up to
 * the time granted late is a change the provider makes on its own (the
 * files it serves changed underneath it): FUSE's coherence, not NFS's
 * weaker one (scheme(7) CACHING).  The fstat of an open fd is never
 * kept.
 *
 * Optional requests.  SYS_READ2, SYS_WRITE2 and SYS_FALLOCATE carry more
 * arguments than a packet has room for: c points to a struct scheme_io
 * the system keeps in the provider's memory until the answer (d is its
 * size), with `served` 0 (SYS_LOCK's struct scheme_lock, likewise).  A
 * provider that serves the request sets io->served to SCHEME_SERVED
 * before it answers (scheme_dispatch() does, for a member that is not
 * NULL).  An answer without it, or -ENOSYS, says
 * "not served": the client then does without (a pread becomes SYS_LSEEK,
 * SYS_READ, SYS_LSEEK, which is not atomic; fallocate says EOPNOTSUPP, so
 * that posix_fallocate writes instead) and does not ask this provider
 * again on that channel.  So a provider that answers 0 to any request it
 * does not know is never taken to have read 0 bytes at an offset.
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
#define SYS_FLINK     0x23000009 /* Redox: CLASS_FILE | ARG_PATH | 9 */
#define SYS_FUTIMENS  0x21000140
#define SYS_CLOSE     0x20000006
#define SYS_FMAP      0x21000384 /* Redox: CLASS_FILE | ARG_SLICE | 900 */
#define SYS_FUNMAP    0x2000005C /* Redox: CLASS_FILE | 92; not sent */

/*
 * SYS_FMAP's argument: Redox's struct Map (32 bytes), with Linux's
 * values in flags: the mmap's prot (PROT_*) in the low 32 bits and its
 * flags (MAP_SHARED, MAP_PRIVATE, ...) in the high 32.  offset is
 * page-aligned; size is the mapping's length, which may reach past the
 * end of the file (as mmap(2) allows: the pages past it raise SIGBUS).
 * address is 0: the client's own kernel places the mapping.
 */
struct scheme_map {
	uint64_t offset;  /* in the file; in the answer: in the fd */
	uint64_t size;	  /* bytes */
	uint64_t flags;	  /* PROT_* | MAP_* << 32 */
	uint64_t address; /* 0 */
};
#define SCHEME_MAP_PROT(f)  ((int)((f)&0xffffffffu))
#define SCHEME_MAP_FLAGS(f) ((int)((f) >> 32))

/*
 * Redox's O_SYMLINK, in an open's flags: the last component is the link
 * itself (above).  The bit is unused by Linux's open(2).
 */
#define SCHEME_O_SYMLINK 0x40000000

#define SYS_GETDENTS  0x2200002B /* Redox's newer getdents, numbered here */

/*
 * An entry of a SYS_GETDENTS answer: Redox's DirentHeader (inode, record
 * length, kind, then the name) with Linux's DT_* values for the kind.
 * The name starts at offsetof(struct scheme_dirent, name), is
 * NUL-terminated, and may run past the struct; the next entry starts
 * reclen bytes on (SCHEME_DIRENT_LEN: a multiple of 8).
 */
struct scheme_dirent {
	uint64_t ino;	 /* as fstat's st_ino; 0: not said */
	uint16_t reclen; /* bytes of this entry, name and padding included */
	uint8_t type;	 /* DT_REG, DT_DIR ... of <dirent.h>; 0 (DT_UNKNOWN) */
	char name[5];	 /* "name\0", running on past the struct */
};
#define SCHEME_DIRENT_LEN(namelen)                                             \
	((offsetof(struct scheme_dirent, name) + (size_t)(namelen) + 1 + 7) &  \
	 ~(size_t)7)

/*
 * Caching (see the top): numbered here, as SYS_FALLOCATE, from numbers
 * no Redox or i386 Linux call of the file class uses.
 */
#define SYS_FGRANT	  0x20000145
#define SYS_GETDENTS_STAT 0x22000146
#define SCHEME_GRANT(attr_ms, neg_ms)                                          \
	((int64_t)((uint64_t)(uint32_t)(attr_ms) |                             \
		   (uint64_t)(uint32_t)(neg_ms) << 32))
#define SCHEME_GRANT_MAX_MS 60000
/*
 * A SYS_GETDENTS_STAT entry: a struct scheme_dirent whose reclen covers
 * the name, its padding and a struct stat (<sys/stat.h>'s, as SYS_FSTAT
 * fills) at SCHEME_DIRENT_LEN(namelen) bytes from the entry's start.
 */
#define SCHEME_DIRENT_STAT_LEN(namelen)                                        \
	(SCHEME_DIRENT_LEN(namelen) + ((sizeof(struct stat) + 7) & ~(size_t)7))

/* Redox's newer positioned read and write (redox_syscall's numbers). */
#define SYS_READ2     0x22000023
#define SYS_WRITE2    0x2100002D
/*
 * Linux's fallocate, which Redox has not: the number is built as Redox
 * builds its own (SYS_CLASS_FILE | the i386 Linux call number, as SYS_READ
 * is 3 and SYS_FUTIMENS 320), from fallocate's, 324.
 */
#define SYS_FALLOCATE 0x20000144

/*
 * What c of SYS_READ2, SYS_WRITE2 and SYS_FALLOCATE points to (32 bytes,
 * d = its size).  Redox's READ2 passes offset and flags as arguments of
 * their own; a packet has three, so they ride here (see "Optional
 * requests" above for `served`).
 */
struct scheme_io {
	uint64_t offset; /* where in the file (at most INT64_MAX) */
	uint64_t len;	 /* bytes to read or write at most; the range's */
	uint64_t buf;	 /* READ2: where to put them; WRITE2: where they
			    are; FALLOCATE: 0 */
	uint32_t flags;	 /* READ2, WRITE2: preadv2(2)'s RWF_* (0 for
			    pread); FALLOCATE: its mode, FALLOC_FL_* */
	uint32_t served; /* the provider sets SCHEME_SERVED: "I know it" */
};

#define SCHEME_SERVED 0x53525632u /* "2VRS": io->served of a served one */

/*
 * Linux's file locks, which Redox has not: the number is built as
 * SYS_FALLOCATE's, from flock(2)'s i386 call number, 143, with Redox's
 * SYS_ARG_MSLICE (the provider writes into c: GET's answer).  Its low 16
 * bits are no other request's.
 */
#define SYS_LOCK 0x2200008F

/* What c of SYS_LOCK points to (48 bytes, d = its size): see "Locks". */
struct scheme_lock {
	int64_t start;	 /* the first byte */
	int64_t end;	 /* the last byte, or SCHEME_LOCK_EOF */
	uint64_t owner;	 /* who holds it: opaque, one per holder */
	uint64_t wait;	 /* CANCEL: the id of the SETW given up; else 0 */
	int32_t pid;	 /* the process that asks; GET's answer: the
			    holder's (-1 for an OFD lock) */
	int16_t type;	 /* F_RDLCK, F_WRLCK, F_UNLCK */
	uint8_t cmd;	 /* SCHEME_LOCK_GET ... */
	uint8_t kind;	 /* SCHEME_LOCK_POSIX, _OFD, _FLOCK */
	uint32_t flags;	 /* 0 */
	uint32_t served; /* the provider sets SCHEME_SERVED: "I know it" */
};

#define SCHEME_LOCK_EOF INT64_MAX

enum scheme_lock_cmd {
	SCHEME_LOCK_GET = 1,
	SCHEME_LOCK_SET,
	SCHEME_LOCK_SETW,
	SCHEME_LOCK_CANCEL,
	SCHEME_LOCK_RELEASE,
	SCHEME_LOCK_RELEASE_ALL
};

enum scheme_lock_kind {
	SCHEME_LOCK_POSIX = 1, /* fcntl F_SETLK, lockf: owned by a process */
	SCHEME_LOCK_OFD,       /* F_OFD_SETLK: by an open file description */
	SCHEME_LOCK_FLOCK      /* flock(2): by an open file description */
};

long getns(void);				    /* 0 = null namespace */
int setrens(long rns, long ens);		    /* -1 = unchanged */
long mkns(const char *const names[], size_t count); /* new namespace id */

/*
 * The provider helper (libscheme: pkg-config --libs scheme, or CMake's
 * Scheme::scheme).  Optional: the ABI stays the plain packets above, and a
 * provider may mix the two.  See scheme_dispatch(3).
 *
 * struct scheme_ops has one member per request kind, named after it.  Each
 * is called with the provider's ctx, the request p (its id, pid, uid and
 * gid are the caller's) and the request's arguments decoded, and returns
 * what the table at the top lists: a value, or -errno.  A NULL member
 * answers -ENOSYS (a NULL close, 0).  Fill one with designated
 * initialisers:
 *
 *	static const struct scheme_ops ops = {.open = my_open, .read = my_read};
 *
 * Arguments as decoded (a request that cannot be is answered at once,
 * without the member):
 *
 *	path	NUL-terminated, relative to the scheme's root, "" for the root
 *		itself; one with a NUL inside is refused (-EINVAL).
 *	flags	of open: d as sent, Linux O_* flags | mode << 32.
 *	buf	the request's own memory: len bytes to fill (read, read2,
 *		fpath, of which the answer says how many) or to take
 *		(write, write2, dup).
 *	offset	of read2, write2, fallocate: at most INT64_MAX (larger is
 *		refused, -EINVAL), as is offset + len for fallocate
 *		(-EFBIG); fallocate's len is not 0 (-EINVAL).
 *	st	zeroed, aligned, to fill; a request with less room than
 *		sizeof(struct stat) (or statvfs) is refused (-EINVAL).
 *	times	atime then mtime, as utimensat(2); NULL for "both now".
 *	map	fmap's struct scheme_map, aligned, of its full size (or
 *		-EINVAL); the member may change its offset.
 *	whence,	lseek's and fcntl's, as lseek(2) and fcntl(2); one that does
 *	cmd	not fit an int is refused (-EINVAL).
 *
 * The decoded pointers (where p's b or c points) are valid from the read
 * that brought the request until its answer is written, and not after:
 * an answer says the system may reuse that memory.  p itself is the
 * caller's, valid during the call only.
 *
 * Deferring.  A member that cannot answer yet (a read with no data) copies
 * *p, returns SCHEME_DEFER, and later writes the answer itself: the copy
 * with `a` set to the result, to the scheme fd.  The pointers in the copy
 * stay valid until that answer.  A request kept must be answered once,
 * also when its handle is closed first (SYS_CLOSE): -EBADF will do.
 *
 * SYS_CLOSE: nobody waits for its answer and its value is ignored, but it
 * is written back as any other (the system forgets the request when it
 * is answered); scheme_dispatch() and scheme_serve() do so.
 */
struct stat;
struct statvfs;
struct timespec;

#define SCHEME_DEFER (-INT64_MAX - 1) /* "I keep it and answer later" */

struct scheme_ops {
	int64_t (*open)(void *ctx, const struct scheme_packet *p,
			const char *path, uint64_t flags);
	int64_t (*read)(void *ctx, const struct scheme_packet *p,
			uint64_t handle, void *buf, size_t len);
	int64_t (*write)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle, const void *buf, size_t len);
	int64_t (*lseek)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle, int64_t offset, int whence);
	int64_t (*fcntl)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle, int cmd, uint64_t arg);
	int64_t (*fevent)(void *ctx, const struct scheme_packet *p,
			  uint64_t handle, uint64_t flags);
	int64_t (*fpath)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle, void *buf, size_t len);
	int64_t (*fstat)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle, struct stat *st);
	int64_t (*fstatvfs)(void *ctx, const struct scheme_packet *p,
			    uint64_t handle, struct statvfs *st);
	int64_t (*fsync)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle);
	int64_t (*ftruncate)(void *ctx, const struct scheme_packet *p,
			     uint64_t handle, int64_t length);
	int64_t (*fchmod)(void *ctx, const struct scheme_packet *p,
			  uint64_t handle, uint32_t mode);
	int64_t (*fchown)(void *ctx, const struct scheme_packet *p,
			  uint64_t handle, uint32_t uid, uint32_t gid);
	int64_t (*frename)(void *ctx, const struct scheme_packet *p,
			   uint64_t handle, const char *path);
	int64_t (*futimens)(void *ctx, const struct scheme_packet *p,
			    uint64_t handle, const struct timespec *times);
	int64_t (*dup)(void *ctx, const struct scheme_packet *p,
		       uint64_t handle, const void *buf, size_t len);
	int64_t (*unlink)(void *ctx, const struct scheme_packet *p,
			  const char *path);
	int64_t (*rmdir)(void *ctx, const struct scheme_packet *p,
			 const char *path);
	int64_t (*close)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle);
	/*
	 * Since SCHEME_0.2 (a provider built with the older, shorter struct
	 * is served by the old symbols: see scheme_dispatch(3)).  fmap:
	 * SYS_FMAP, the fd to map or -errno (NULL: clients map a private
	 * copy).  The optional requests: offset and flags are io's (scheme_io above),
	 * the served mark is set for the member.  A NULL read2 or write2
	 * makes clients seek, read and seek back instead (not atomic); a
	 * NULL fallocate makes fallocate(2) fail with EOPNOTSUPP.  flink:
	 * SYS_FLINK, path as frename's (NULL: link(2) says EPERM).
	 */
	int64_t (*fmap)(void *ctx, const struct scheme_packet *p,
			uint64_t handle, struct scheme_map *map);
	int64_t (*read2)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle, void *buf, size_t len,
			 uint64_t offset, uint32_t flags);
	int64_t (*write2)(void *ctx, const struct scheme_packet *p,
			  uint64_t handle, const void *buf, size_t len,
			  uint64_t offset, uint32_t flags);
	int64_t (*fallocate)(void *ctx, const struct scheme_packet *p,
			     uint64_t handle, uint32_t mode, uint64_t offset,
			     uint64_t len);
	int64_t (*flink)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle, const char *path);
	/*
	 * lock: SYS_LOCK, the provider takes locks over ("Locks" above);
	 * the served mark is set for the member, whose lk is the request's
	 * own (GET's answer goes there).  handle is 0 for RELEASE_ALL.  A
	 * SETW may be deferred.  NULL: the system keeps the locks.
	 */
	int64_t (*lock)(void *ctx, const struct scheme_packet *p,
			uint64_t handle, struct scheme_lock *lk);
	/*
	 * Since SCHEME_0.3.  grant: SYS_FGRANT, SCHEME_GRANT(attr_ms,
	 * neg_ms) (NULL: nothing is cached).  SYS_GETDENTS_STAT has no
	 * member (nor has SYS_GETDENTS): a provider answers it itself.
	 */
	int64_t (*grant)(void *ctx, const struct scheme_packet *p,
			 uint64_t handle);
};

/*
 * Decodes p, calls its member, stores the result in p->a and returns it;
 * SCHEME_DEFER (p left as it was) when the member keeps the request.  An
 * unknown request kind is answered -ENOSYS.  Write p back unless the
 * result is SCHEME_DEFER.
 */
int64_t scheme_dispatch(const struct scheme_ops *ops, void *ctx,
			struct scheme_packet *p);

/*
 * A loop's body: one read(2) of the requests queued on fd (up to 64),
 * each dispatched, and the answers written back in one write(2).  Returns
 * the number of requests read; 0 when the scheme is gone (end-of-file);
 * -1 with errno, EAGAIN when a non-blocking fd had none.  Usage:
 *
 *	while (scheme_serve(fd, &ops, ctx) > 0)
 *		;
 */
int scheme_serve(int fd, const struct scheme_ops *ops, void *ctx);

/*
 * Schemes exist only under the preload (schemerun puts it in LD_PRELOAD).
 * Without it, open(":name", O_CREAT) makes an ordinary file called
 * ":name" in the working directory, and reading it gives end-of-file: a
 * provider would seem to start and stop at once.  So check first:
 *
 * scheme_preloaded() is 1 when the preload is in this process, 0 when
 * not (it looks, creates nothing, talks to nobody).  scheme_create(name,
 * flags) opens the scheme fd, open(":name", O_CREAT | O_RDWR | O_CLOEXEC
 * | flags, 0600), after that check: without the preload it creates
 * nothing and fails with ENOSYS, as getns() does.  Tell the user to run
 * the provider under schemerun, in one line, and exit non-zero.
 *
 * A provider that links neither can ask the dynamic loader: the preload
 * defines getns, so dlsym(RTLD_DEFAULT, "getns") is NULL without it
 * (<dlfcn.h>; tools/irqdrv.c does this).
 */
int scheme_preloaded(void);
int scheme_create(const char *name, int flags);

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
SCHEME_STATIC_ASSERT(sizeof(struct scheme_io) == 32,
		     "struct scheme_io must be 32 bytes");
SCHEME_STATIC_ASSERT(sizeof(struct scheme_lock) == 48,
		     "struct scheme_lock must be 48 bytes");
SCHEME_STATIC_ASSERT(sizeof(struct scheme_timespec) == 16,
		     "struct scheme_timespec must be 16 bytes");
SCHEME_STATIC_ASSERT(sizeof(struct scheme_map) == 32,
		     "struct scheme_map must be 32 bytes");
SCHEME_STATIC_ASSERT(sizeof(struct scheme_dirent) == 16 &&
			 offsetof(struct scheme_dirent, name) == 11,
		     "struct scheme_dirent: Redox's DirentHeader layout");

#endif /* SCHEME_SCHEME_H */
