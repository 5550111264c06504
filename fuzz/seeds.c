/*
 * seeds.c - writes the seed corpus: fuzz_seeds DIR makes DIR/<target>/
 * with a handful of small valid inputs for each target (and a few broken
 * ones the parsers must turn away).  `cmake --build build-fuzz --target
 * fuzz-seeds` runs it on fuzz/corpus; the files are committed.  Crash
 * reproducers put there by hand (crash-*) are kept: only the seeds named
 * here are rewritten.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../broker/broker.h"
#include "../proto/wire/wire.h"
#include "broker_rig.h"
#include "fuzz.h"
#include "serve_rig.h"

static const char *dir;
static struct fuzz_buf b;

static void
seed(const char *target, const char *name)
{
	int r = fuzz_write_seed(dir, target, name, &b);

	if (r < 0)
		fuzz_fail("%s/%s/%s: %s", dir, target, name, strerror(-r));
}

static void
rec_req(uint8_t ctl, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
	const char *data, uint64_t seq)
{
	uint8_t m[sizeof(struct wire_req) + 256];
	size_t len = data ? strlen(data) : 0;

	fuzz_put_rec(&b, ctl, m,
		     rig_req_bytes(m, op, key, c, d, data, len, seq));
}

/* A WIRE_OP_LOCK of cmd on description 1 (2 for a SETW: another's). */
static void
rec_lock(uint8_t ctl, uint32_t cmd, uint8_t kind, int16_t type, uint64_t seq)
{
	struct wire_lock wl = {.cmd = (uint8_t)cmd, .kind = kind,
			       .type = type, .end = WIRE_LK_EOF};
	uint8_t m[sizeof(struct wire_req) + sizeof(wl)];

	fuzz_put_rec(&b, ctl, m,
		     rig_req_bytes(m, WIRE_OP_LOCK, cmd == WIRE_LK_SETW ? 2 : 1,
				   0, 0, (const char *)&wl, sizeof(wl), seq));
}

static void
rec_ctl(uint8_t ctl, uint32_t type, uint64_t inst, const void *data, size_t len)
{
	uint8_t m[sizeof(struct wire_ctl) + 256];
	struct wire_ctl c;

	wire_ctl_init(&c, type);
	c.inst = inst;
	c.len = (uint32_t)len;
	memcpy(m, &c, sizeof(c));
	if (len > 0)
		memcpy(m + sizeof(c), data, len);
	fuzz_put_rec(&b, ctl, m, sizeof(c) + len);
}

static void
wire_seeds(void)
{
	uint8_t m[sizeof(struct wire_req) + 64], two = 2;
	struct wire_chan wc[3] = {
	    {16, 4242, 0}, {17, 4242, -EAGAIN}, {1, 1, 0}};
	struct wire_newchan nc = {WIRE_CHAN_NOPATHS, 4242, 1000, 3};
	struct wire_ctl c;
	struct wire_rep r;
	uint64_t v[3] = {0x0123456789abcdefull, 16, 0x100000001ull};
	uint32_t op = SYS_READ;
	struct wire_trace t;

	fuzz_put(&b, m,
		 rig_req_bytes(m, SYS_OPEN, 0, 0, O_RDWR, "hello", 5, 1));
	seed("fuzz_wire", "req-open");
	wire_rep_init(&r, 7);
	r.len = 0;
	fuzz_put(&b, &r, sizeof(r));
	seed("fuzz_wire", "rep");
	wire_ctl_init(&c, WIRE_CTL_CONNECT);
	c.len = 5;
	fuzz_put(&b, &c, sizeof(c));
	fuzz_put(&b, "hello", 5);
	seed("fuzz_wire", "ctl-connect");
	fuzz_put(&b, "a.b-c_1", 7);
	seed("fuzz_wire", "name");
	fuzz_put(&b, &op, sizeof(op));
	seed("fuzz_wire", "op");
	fuzz_put(&b, &two, 1);
	fuzz_put(&b, wc, sizeof(wc));
	seed("fuzz_wire", "chans");
	fuzz_put(&b, &nc, sizeof(nc));
	seed("fuzz_wire", "newchan");
	fuzz_put(&b, v, sizeof(v));
	seed("fuzz_wire", "numbers");
	memset(&t, 0, sizeof(t));
	t.magic = WIRE_MAGIC;
	t.version = WIRE_VERSION;
	t.op = SYS_OPEN;
	t.t_ns = 1765000000000000000ull;
	t.lat_ns = 12345;
	t.pid = 1;
	t.result = -ENOENT;
	t.handle = WIRE_TRACE_NOHANDLE;
	t.arg[2] = O_CREAT | O_WRONLY | (0644ull << 32);
	t.pathlen = 5;
	memcpy(t.path, "a\"b\n\x01", 5);
	fuzz_put(&b, &t, sizeof(t));
	seed("fuzz_wire", "trace-open");
}

static void
path_seed(const char *name, uint8_t size, const char *a, const char *rel)
{
	fuzz_put(&b, &size, 1);
	fuzz_put(&b, a, strlen(a) + 1);
	fuzz_put(&b, rel, strlen(rel));
	seed("fuzz_path", name);
}

static void
path_seeds(void)
{
	path_seed("colon", 0, "hello:world", "../x");
	path_seed("dir", 0, "/scheme/hello/a/b", "c/../d/./e");
	path_seed("root", 0, ":", "..");
	path_seed("scheme-root", 0, "/scheme", "hello:x");
	path_seed("ordinary", 0, "a:b.txt", "sub/file");
	path_seed("absolute", 0, "/etc/passwd", "/scheme/x/y");
	path_seed("small", 0xf3, "hello:some/longer/path", "../../../..");
	path_seed("slashes", 0, "/scheme///memfs//a///", "..//..//b");
	/* Found by fuzz_path: a provider's SYS_FPATH that climbs out. */
	path_seed("escape-dotdot", 0, "hello:../../etc", "passwd");
	path_seed("escape-root-name", 0, ":\xca\xca", "x");
	/* Paths as Linux resolves them: lexically back into /scheme. */
	path_seed("double-slash", 0, "hello:a", "//scheme/hello/x/./y/");
	path_seed("tmp-dotdot", 0, "/scheme/hello/a", "/tmp/../scheme/x/..");
	path_seed("dot-scheme", 0, "hello:", "/./scheme/../scheme/hello/.");
}

static void
dir_seed(const char *name, uint8_t flags, uint8_t chunk, uint16_t size,
	 uint8_t seek, const void *listing, size_t len)
{
	uint8_t h[5] = {flags, chunk, (uint8_t)size, (uint8_t)(size >> 8),
			seek};

	fuzz_put(&b, h, sizeof(h));
	fuzz_put(&b, listing, len);
	seed("fuzz_dirlist", name);
}

/* A SYS_GETDENTS answer: entries of name, type and inode, one a name. */
static size_t
dirents(char *out, const char *const *names, size_t n)
{
	size_t at = 0, k, rec;
	struct scheme_dirent de;

	for (size_t i = 0; i < n; i++) {
		k = strlen(names[i]);
		rec = SCHEME_DIRENT_LEN(k);
		memset(out + at, 0, rec);
		de.ino = 100 + i;
		de.reclen = (uint16_t)rec;
		de.type = i % 2 ? DT_DIR : DT_REG;
		memcpy(out + at, &de, offsetof(struct scheme_dirent, name));
		memcpy(out + at + offsetof(struct scheme_dirent, name),
		       names[i], k);
		at += rec;
	}
	return at;
}

static void
typed_seeds(void)
{
	static const char *const names[] = {"a", "..", "dir", "x/y", "."};
	char buf[256];
	size_t n = dirents(buf, names, 5);

	dir_seed("typed", 16, 0, 4096, 2, buf, n);
	dir_seed("typed-short-reads", 16, 7, 64, 1, buf, n);
	buf[n - 1] = 'z'; /* the last name's NUL, and padding, gone */
	buf[n - 2] = 'z';
	buf[n - 3] = 'z';
	buf[n - 4] = 'z';
	buf[n - 5] = 'z';
	buf[n - 6] = 'z';
	buf[n - 7] = 'z';
	dir_seed("typed-no-nul", 16, 0, 4096, 0, buf, n);
	n = dirents(buf, names, 1);
	buf[8] = (char)0xc8; /* reclen past the answer */
	dir_seed("typed-long-reclen", 16, 0, 4096, 0, buf, n);
}

static void
dirlist_seeds(void)
{
	char long_line[300 + 3];

	dir_seed("plain", 0, 0, 4096, 1, "a\nb\n\nccc\n", 9);
	dir_seed("no-newline", 0, 0, 4096, 0, "x\ny", 3);
	dir_seed("short-reads", 0, 3, 64, 2, "name1\nname2\nlonger-name-3\n",
		 26);
	dir_seed("tiny-buffer", 0, 0, 24, 0, "abcdefghijklmnopqrstuvwxyz\n",
		 27);
	dir_seed("reopened", 1, 0, 4096, 1, "hello:dir\0x\ny\n", 14);
	dir_seed("not-a-dir", 2, 0, 4096, 0, "a\n", 2);
	dir_seed("read-fails", 2 << 2, 1, 4096, 0, "abc\ndef\n", 8);
	memset(long_line, 'x', 300);
	memcpy(long_line + 300, "\ny\n", 3);
	dir_seed("long-name", 0, 0, 1024, 0, long_line, sizeof(long_line));
	dir_seed("nul-inside", 0, 0, 4096, 0, "a\0b\nc\n", 6);
	dir_seed("dots", 0, 0, 4096, 3, ".\n..\na\n...\n", 12);
	typed_seeds();
}

/* WIRE_OP_AT: op on path opened with oflags, in[inlen] first. */
static void
rec_at(uint8_t ctl, uint32_t op, int oflags, uint64_t c, uint64_t d,
       const void *in, size_t inlen, const char *path, uint64_t seq)
{
	uint8_t m[sizeof(struct wire_req) + 256];
	size_t plen = strlen(path);
	struct wire_req q;

	wire_req_init(&q, WIRE_OP_AT, 0);
	q.seq = seq;
	q.arg[0] = WIRE_AT_ARG0(op, oflags);
	q.arg[1] = c;
	q.arg[2] = d;
	q.len = (uint32_t)(inlen + plen);
	memcpy(m, &q, sizeof(q));
	if (inlen > 0)
		memcpy(m + sizeof(q), in, inlen);
	memcpy(m + sizeof(q) + inlen, path, plen);
	fuzz_put_rec(&b, ctl, m, sizeof(q) + inlen + plen);
}

/* Requests by path, good and bad, and listings with types. */
static void
by_path_seeds(void)
{
	struct timespec ts[2] = {{1, 2}, {3, 4}};
	struct stat st;

	rec_at(0x40, SYS_FSTAT, O_PATH, 0, sizeof(st), NULL, 0, "a", 1);
	rec_at(0x40, SYS_FSTAT, O_PATH | O_NOFOLLOW, 0, sizeof(st), NULL, 0,
	       "dir/b", 2);
	rec_at(0x40, SYS_FCHMOD, O_PATH, 0600, 0, NULL, 0, "a", 3);
	rec_at(0x40, SYS_FCHOWN, O_PATH, 1000, 1000, NULL, 0, "a", 4);
	rec_at(0x40, SYS_FUTIMENS, O_PATH, 0, sizeof(ts), ts, sizeof(ts), "a",
	       5);
	rec_at(1 << 3 | 0x40, SYS_FSTAT, O_PATH, 0, sizeof(st), NULL, 0, "a",
	       6);
	rec_at(0x20 | 0x40, SYS_FTRUNCATE, O_WRONLY, 10, 0, NULL, 0, "a", 7);
	seed("fuzz_serve_req", "by-path");

	rec_at(0, SYS_READ, O_PATH, 0, 16, NULL, 0, "a", 1);
	rec_at(0, SYS_FSTAT, O_CREAT | O_RDWR, 0, sizeof(st), NULL, 0, "a", 2);
	rec_at(0, SYS_FUTIMENS, O_PATH, 0, 999, ts, sizeof(ts), "a", 3);
	rec_at(1, SYS_FSTAT, O_PATH, 0, 1 << 30, NULL, 0, "", 5);
	seed("fuzz_serve_req", "by-path-bad");

	rec_req(0, SYS_OPEN, 0, 0, O_RDONLY | O_DIRECTORY, "d", 1);
	rec_req(0x40, SYS_GETDENTS, 1, 0, 4096, NULL, 2);
	rec_req(0x40, SYS_GETDENTS, 1, 0, 0, NULL, 3);
	seed("fuzz_serve_req", "getdents");
}

/* serve_req ctl: chan | fd << 1 | mode << 3 | close 0x20 | held 0x40 | post */
static void
serve_req_seeds(void)
{
	struct stat st;
	uint8_t m[sizeof(struct wire_req)], m2[sizeof(struct wire_req) + 3];
	uint8_t m3[sizeof(struct wire_req) + sizeof(struct scheme_map)];
	struct scheme_map map = {0, 4096,
				 PROT_READ | (uint64_t)MAP_SHARED << 32, 0};

	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(0, SYS_READ, 1, 0, 16, NULL, 2);
	rec_req(0, SYS_WRITE, 1, 0, 0, "hi there", 3);
	rec_req(0, SYS_FSTAT, 1, 0, sizeof(st), NULL, 4);
	rec_req(0x20, SYS_FSYNC, 1, 0, 0, NULL, 5);
	seed("fuzz_serve_req", "open-read-write");

	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(1, SYS_READ, 1, 0, 16, NULL, 2);
	rec_req(1 | 1 << 1, WIRE_OP_ATTACH, 1, 0, 0, NULL, 3);
	rec_req(1, SYS_READ, 1, 0, 16, NULL, 4);
	rec_req(1 | 2 << 1, SYS_READ, 1, 0, 16, NULL, 5);
	rec_req(1 | 3 << 1, WIRE_OP_ATTACH, 1, 0, 0, NULL, 6);
	seed("fuzz_serve_req", "attach");

	/* Key 0: which description is it?  Ours, another socket, none. */
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(1 | 1 << 1, WIRE_OP_ATTACH, 0, 0, 0, NULL, 2);
	rec_req(1, SYS_READ, 1, 0, 16, NULL, 3);
	rec_req(1 | 2 << 1, WIRE_OP_ATTACH, 0, 0, 0, NULL, 4);
	rec_req(1, WIRE_OP_ATTACH, 0, 0, 0, NULL, 5);
	rec_req(1 | 3 << 1, WIRE_OP_ATTACH, 0, 0, 0, "x", 6);
	rec_req(0x40, WIRE_OP_PARK, 1, 0, 0, NULL, 7);
	rec_req(1 | 1 << 1, WIRE_OP_ATTACH, 0, 0, 0, NULL, 8);
	seed("fuzz_serve_req", "attach-unknown");

	/* Channel 1 was made before its owner changed namespace. */
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(1, SYS_OPEN, 0, 0, O_RDWR, "b", 2);
	rec_req(1, SYS_UNLINK, 0, 0, 0, "a", 3);
	rec_req(1, SYS_RMDIR, 0, 0, 0, "d", 4);
	rec_req(1 | 1 << 1, WIRE_OP_ATTACH, 1, 0, 0, NULL, 5);
	rec_req(1, SYS_FRENAME, 1, 0, 0, "c", 6);
	rec_req(1, SYS_READ, 1, 0, 8, NULL, 7);
	seed("fuzz_serve_req", "old-channel");

	rec_req(0, SYS_OPEN, 0, 0, O_RDWR | O_NONBLOCK, "ev", 1);
	rec_req(RIG_HOLD << 3, WIRE_OP_POLL, 1, EVENT_READ, 1, NULL, 2);
	rec_req(0x40 | 0x80, WIRE_OP_SUBSCRIBE, 1, EVENT_READ, 0, NULL, 3);
	rec_req(0, WIRE_OP_WAIT, 1, 0, 0, NULL, 4);
	rec_req(0x80, WIRE_OP_POLL, 1, EVENT_WRITE, 1, NULL, 5);
	rec_req(0, WIRE_OP_CANCEL, 0, 0, 0, NULL, 6);
	rec_req(0, SYS_READ, 1, 0, 8, NULL, 7);
	rec_req(RIG_AGAIN << 3, SYS_READ, 1, 0, 8, NULL, 8);
	seed("fuzz_serve_req", "readiness");

	rec_req(RIG_HOLD << 3, SYS_OPEN, 0, 0, O_RDWR, "held", 1);
	rec_req(0x40, SYS_DUP, 1, 0, 0, "dup", 2);
	rec_req(0, SYS_FPATH, 1, 0, 64, NULL, 3);
	rec_req(0, SYS_FCNTL, 1, F_SETFL, O_NONBLOCK | O_APPEND, NULL, 4);
	rec_req(0, SYS_FCNTL, 1, F_GETFL, 0, NULL, 5);
	rec_req(0, SYS_LSEEK, 1, 10, SEEK_SET, NULL, 6);
	rec_req(0, SYS_UNLINK, 0, 0, 0, "gone", 7);
	rec_req(0, SYS_RMDIR, 0, 0, 0, "dir", 8);
	rec_req(0, SYS_FRENAME, 1, 0, 0, "new/name", 9);
	rec_req(0, SYS_FUTIMENS, 1, 0, 0, "0123456789abcdef0123456789abcdef",
		10);
	rec_req(0, SYS_FSTATVFS, 1, 0, sizeof(struct statvfs), NULL, 11);
	rec_req(RIG_WRONG << 3, SYS_READ, 2, 0, 32, NULL, 12);
	rec_req(0, SYS_FTRUNCATE, 2, 100, 0, NULL, 13);
	rec_req(0, SYS_FCHMOD, 2, 0600, 0, NULL, 14);
	rec_req(0, SYS_FCHOWN, 2, 0, 0, NULL, 15);
	rec_req(0, SYS_FEVENT, 2, EVENT_READ, 0, NULL, 16);
	rec_req(0x20, SYS_FSYNC, 2, 0, 0, NULL, 17);
	fuzz_put_rec(&b, 0, m3,
		     rig_req_bytes(m3, SYS_FMAP, 2, 0, sizeof(map), &map,
				   sizeof(map), 18));
	seed("fuzz_serve_req", "every-op");

	rec_req(0, SYS_CLOSE, 1, 0, 0, NULL, 1);
	rec_req(0, 0x12345678, 0, 0, 0, NULL, 2);
	fuzz_put_rec(&b, 1, m2,
		     rig_req_bytes(m2, SYS_OPEN, 0, 0, O_RDWR, "a\0b", 3, 3));
	rig_req_bytes(m, SYS_READ, 1, 0, 0, NULL, 0, 4);
	m[0] ^= 1; /* magic */
	fuzz_put_rec(&b, 0, m, sizeof(m));
	seed("fuzz_serve_req", "malformed");

	/* Found by fuzz_serve_req: a refused SUBSCRIBE left its sockets. */
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(0, WIRE_OP_SUBSCRIBE, 1, EVENT_READ, 0, "x", 2);
	rec_req(0, WIRE_OP_SUBSCRIBE, 1, EVENT_READ, 0, "y", 3);
	seed("fuzz_serve_req", "orphan-subscription");

	/* The pipes: twice (refused), with a socket, with none. */
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(3 << 1, WIRE_OP_PIPES, 0, 0, 0, NULL, 2);
	rec_req(3 << 1, WIRE_OP_PIPES, 0, 0, 0, NULL, 3);
	rec_req(1 | 2 << 1, WIRE_OP_PIPES, 0, 0, 0, NULL, 4);
	rec_req(1, WIRE_OP_PIPES, 0, 0, 0, NULL, 5);
	rec_req(3 << 1, WIRE_OP_SHM, 0, 0, 0, NULL, 6); /* no memfd */
	rec_req(0, SYS_READ, 1, 0, 16, NULL, 7);
	seed("fuzz_serve_req", "pipes");

	/* Park, reuse by an open, park from the other channel, use it. */
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(0x40, WIRE_OP_PARK, 1, 0, 0, NULL, 2);
	rec_req(0, SYS_READ, 1, 0, 8, NULL, 3);
	rec_req(0x40, SYS_OPEN, 1, 0, O_RDWR, "b", 4);
	rec_req(1, WIRE_OP_PARK, 1, 0, 0, NULL, 5);
	rec_req(0x40, SYS_OPEN, 2, 0, O_RDONLY, "c", 6);
	rec_req(0x20, SYS_READ, 1, 0, 8, NULL, 7);
	seed("fuzz_serve_req", "park");

	/* The optional requests, in a struct scheme_io: offsets near and
	 * past the end of off_t, a length past WIRE_MAX_DATA, a WRITE2's
	 * bytes, fallocate's range; on the socket and then by pipe. */
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(0, SYS_READ2, 1, 4096, 16, NULL, 2);
	rec_req(0, SYS_READ2, 1, (uint64_t)INT64_MAX, 1u << 20, NULL, 3);
	rec_req(0, SYS_WRITE2, 1, 10, 0, "at ten", 4);
	rec_req(0, SYS_FALLOCATE, 1, 0, 1u << 20, NULL, 5);
	rec_req(RIG_AGAIN << 3, SYS_READ2, 1, 0, 8, NULL, 6);
	rec_req(3 << 1, WIRE_OP_PIPES, 0, 0, 0, NULL, 7);
	rec_req(0, SYS_READ2, 1, 8, 8, NULL, 8);
	rec_req(0x20, SYS_WRITE2, 1, UINT64_MAX, 0, "x", 9);
	seed("fuzz_serve_req", "positioned");

	/* Locks: its file's identity asked, a set, a get, a wait behind
	 * another description's flock, a close, a withdrawal. */
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 1);
	rec_req(0, SYS_OPEN, 0, 0, O_RDWR, "a", 2);
	rec_lock(0, WIRE_LK_SET, WIRE_LK_POSIX, F_WRLCK, 3);
	rec_lock(0, WIRE_LK_GET, WIRE_LK_OFD, F_RDLCK, 4);
	rec_lock(0, WIRE_LK_SET, WIRE_LK_FLOCK, F_WRLCK, 5);
	rec_lock(0, WIRE_LK_SETW, WIRE_LK_FLOCK, F_RDLCK, 6);
	rec_lock(0, WIRE_LK_CLOSE, WIRE_LK_POSIX, F_UNLCK, 7);
	rec_req(0x20, WIRE_OP_CANCEL, 0, 0, 0, NULL, 8);
	seed("fuzz_serve_req", "locks");
}

/* Answers to every request rig_prelude() leaves pending, as given. */
static void
serve_ans_seeds(void)
{
	struct scheme_packet p;
	struct rig r;
	size_t i, n;
	int64_t good[RIG_HELD];

	rig_start(&r);
	n = rig_prelude(&r);
	printf("fuzz_serve_ans: %zu pending requests after the prelude:\n", n);
	for (i = 0; i < n; i++) {
		p = r.held[i];
		printf("  id %#llx  a %#llx  b %llu\n",
		       (unsigned long long)p.id, (unsigned long long)p.a,
		       (unsigned long long)p.b);
		switch (p.a) {
		case SYS_READ:
		case SYS_FPATH:
			good[i] = (int64_t)(p.d / 2);
			break;
		case SYS_OPEN:
		case SYS_DUP:
			good[i] = 200 + (int64_t)i;
			break;
		case SYS_FEVENT:
			good[i] = (int64_t)p.c;
			break;
		case SYS_WRITE:
			good[i] = (int64_t)p.d;
			break;
		case SYS_READ2: /* what its scheme_io says (it is ours) */
		case SYS_WRITE2:
			good[i] = 4;
			break;
		default:
			good[i] = 0;
		}
		p.a = (uint64_t)good[i];
		p.pid = p.uid = p.gid = 0;
		p.b = p.c = p.d =
		    0; /* only a post reads b; pointers are ours */
		fuzz_put(&b, &p, sizeof(p));
	}
	seed("fuzz_serve_ans", "all-correct");
	for (i = 0; i < n; i++) {
		p = r.held[i];
		p.pid = p.uid = p.gid = 0;
		p.b = p.c = p.d = 0;
		p.a = (uint64_t)(i % 2 ? -EAGAIN : -41);
		fuzz_put(&b, &p, sizeof(p));
	}
	seed("fuzz_serve_ans", "all-again");
	for (i = 0; i < n; i++) {
		p = r.held[i];
		p.a = i % 3 == 0   ? UINT64_MAX / 2
		      : i % 3 == 1 ? (uint64_t)-1
				   : (uint64_t)WIRE_MAX_DATA + 1;
		p.pid = p.uid = p.gid = 0;
		p.b = p.c = p.d = 0;
		fuzz_put(&b, &p, sizeof(p));
		fuzz_put(&b, &p, sizeof(p)); /* twice */
	}
	memset(&p, 0, sizeof(p));
	p.a = SYS_FEVENT;
	p.b = 100;
	p.c = EVENT_READ | EVENT_WRITE;
	fuzz_put(&b, &p, sizeof(p)); /* a post for the first open */
	p.a = SYS_READ;
	fuzz_put(&b, &p, sizeof(p)); /* id 0, not a post */
	p.id = 0x00ffffffffffffffull;
	fuzz_put(&b, &p, sizeof(p));
	seed("fuzz_serve_ans", "all-wrong");
	rig_stop(&r);
}

/* control: ctl = sender | fd << 2 | close-got 0x10 | reconnect-A 0x20 */
static void
control_seeds(void)
{
	struct wire_rens ns = {.rns = WIRE_NS_NULL, .ens = WIRE_NS_NULL};
	struct wire_stats st = {1, 1, 0, 0, 0};
	uint32_t pids[3] = {BRIG_PID, 1, BRIG_PID};
	uint8_t cfg = 0;

	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_LIST, 0, NULL, 0);
	rec_ctl(0, WIRE_CTL_INFO, 0, NULL, 0);
	rec_ctl(1, WIRE_CTL_GETNS, 0, NULL, 0);
	seed("fuzz_control", "list-info");

	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_CREATE, 0, "fz", 2);
	rec_ctl(0, WIRE_CTL_STATS, 0, &st, sizeof(st));
	rec_ctl(1, WIRE_CTL_CONNECT, 0, "fz", 2);
	rec_ctl(1, WIRE_CTL_CONNECT, 0, "time", 4);
	rec_ctl(1, WIRE_CTL_LIST, 0, NULL, 0);
	rec_ctl(0x20 | 1, WIRE_CTL_CONNECT, 0, "fz", 2);
	seed("fuzz_control", "create-connect");

	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_CONNECT, 0, "", 0);
	rec_req(2, SYS_OPEN, 0, 0, O_RDONLY, "", 1);
	rec_ctl(0, WIRE_CTL_CONNECT, INST_TIME, NULL, 0);
	rec_req(2, SYS_OPEN, 0, 0, O_RDWR, "4", 2);
	rec_ctl(0, WIRE_CTL_CONNECT, 0, "event", 5);
	seed("fuzz_control", "channels");

	/* Who serves what: our pid serves the built-ins and fz here. */
	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_CREATE, 0, "fz", 2);
	rec_ctl(1, WIRE_CTL_SERVES, 0, pids, sizeof(pids));
	rec_req(2, WIRE_OP_ATTACH, 0, 0, 0, NULL, 1);
	rec_ctl(1, WIRE_CTL_SERVES, 0, pids, 3);
	rec_ctl(1, WIRE_CTL_SERVES, 0, NULL, 0);
	rec_ctl(0x20 | 1, WIRE_CTL_SERVES, 0, pids, sizeof(pids));
	seed("fuzz_control", "serves");

	/* Tracers: of fz (ours to hand over), of all, of names not there. */
	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_CREATE, 0, "fz", 2);
	rec_ctl(1, WIRE_CTL_TRACE, 0, "fz\ntime", 7);
	rec_ctl(1, WIRE_CTL_TRACE, 0, NULL, 0);
	rec_ctl(1, WIRE_CTL_TRACE, 0, "fz\n\nnosuch", 11);
	seed("fuzz_control", "trace");

	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_MKNS, 0, "time\nnosuch", 11);
	rec_ctl(0, WIRE_CTL_MKNS, 0, "file\ntime", 9);
	ns.rns = 2;
	ns.ens = -1;
	rec_ctl(0, WIRE_CTL_SETRENS, 0, &ns, sizeof(ns));
	rec_ctl(0, WIRE_CTL_COMMIT, 0, &ns, sizeof(ns));
	rec_ctl(2 | 1 << 2, WIRE_CTL_JOIN, 0, NULL, 0);
	rec_ctl(3, WIRE_CTL_LIST, 0, NULL, 0);
	rec_ctl(3, WIRE_CTL_CONNECT, 0, "irq", 3);
	rec_ctl(0x10, WIRE_CTL_GETNS, 0, NULL, 0);
	seed("fuzz_control", "namespaces");

	fuzz_put(&b, &cfg, 1);
	ns.rns = WIRE_NS_NULL;
	ns.ens = WIRE_NS_NULL;
	rec_ctl(0, WIRE_CTL_COMMIT, 0, &ns, sizeof(ns)); /* none prepared */
	rec_ctl(0, WIRE_CTL_SETRENS, 0, &ns, sizeof(ns));
	rec_ctl(0, WIRE_CTL_COMMIT, 0, &ns, sizeof(ns));
	rec_ctl(0, WIRE_CTL_CONNECT, 0, "time", 4);
	rec_ctl(0, WIRE_CTL_CREATE, 0, "x", 1);
	ns.rns = WIRE_NS_ROOT;
	rec_ctl(0, WIRE_CTL_SETRENS, 0, &ns, sizeof(ns));
	ns.rns = -1;
	ns.ens = WIRE_NS_ROOT; /* the way back, by ens */
	rec_ctl(0, WIRE_CTL_SETRENS, 0, &ns, sizeof(ns));
	seed("fuzz_control", "null-namespace");

	cfg = 2 | 4; /* strangers */
	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_LIST, 0, NULL, 0);
	rec_ctl(1, WIRE_CTL_CREATE, 0, "x", 1);
	seed("fuzz_control", "strangers");

	cfg = 0;
	fuzz_put(&b, &cfg, 1);
	rec_ctl(0, WIRE_CTL_IRQ_RAISE, 3, NULL, 0);
	rec_ctl(0, WIRE_CTL_STATS, 0, &st, sizeof(st));
	rec_ctl(0, 99, 0, NULL, 0);
	rec_ctl(1, WIRE_CTL_STOP, 0, NULL, 0);
	fuzz_put_rec(&b, 1, "SC", 2);
	seed("fuzz_control", "odd");
}

/* builtin: ctl = scheme | fd << 2 | close 0x10 | raise 0x20 */
static void
builtin_seeds(void)
{
	struct scheme_timespec t[2] = {{0, 0}, {1ll << 40, 5}};
	uint8_t m[sizeof(struct wire_req) + sizeof(t)];
	uint64_t one = 1;

	rec_req(0, SYS_OPEN, 0, 0, O_RDONLY, "", 1);
	rec_req(0, SYS_READ, 1, 0, 100, NULL, 2);
	rec_req(0, SYS_LSEEK, 1, 0, SEEK_SET, NULL, 3);
	rec_req(0, SYS_FSTAT, 1, 0, sizeof(struct stat), NULL, 4);
	rec_req(0, SYS_FPATH, 1, 0, 64, NULL, 5);
	rec_req(0, SYS_OPEN, 0, 0, O_RDONLY, "//time//", 6);
	rec_req(0, SYS_FPATH, 2, 0, 3, NULL, 7);
	rec_req(0, SYS_UNLINK, 0, 0, 0, "time", 8);
	rec_req(0, SYS_UNLINK, 0, 0, 0, "nosuch", 9);
	rec_req(0, SYS_RMDIR, 0, 0, 0, "x", 10);
	rec_req(0, SYS_OPEN, 0, 0, O_CREAT | O_RDWR, "new", 11);
	rec_req(0x10, SYS_WRITE, 1, 0, 0, "x", 12);
	seed("fuzz_builtin", "root");

	rec_req(1, SYS_OPEN, 0, 0, O_RDWR, "4", 1);
	rec_req(1, SYS_READ, 1, 0, 32, NULL, 2);
	fuzz_put_rec(&b, 1, m,
		     rig_req_bytes(m, SYS_WRITE, 1, 0, 0, t, sizeof(t), 3));
	rec_req(1, SYS_FEVENT, 1, EVENT_READ, 0, NULL, 4);
	rec_req(1, SYS_FSTAT, 1, 0, sizeof(struct stat), NULL, 5);
	rec_req(1, SYS_FPATH, 1, 0, 16, NULL, 6);
	rec_req(1, SYS_FCNTL, 1, F_GETFL, 0, NULL, 7);
	rec_req(1, WIRE_OP_SUBSCRIBE, 1, EVENT_READ, 0, NULL, 8);
	rec_req(1, SYS_OPEN, 0, 0, O_RDWR, "1", 9);
	rec_req(1, SYS_OPEN, 0, 0, O_RDWR, "7", 10);
	t[0].tv_nsec = -1;
	fuzz_put_rec(&b, 1, m,
		     rig_req_bytes(m, SYS_WRITE, 2, 0, 0, t, sizeof(t), 11));
	rec_req(1, WIRE_OP_POLL, 2, EVENT_READ, 1, NULL, 12);
	seed("fuzz_builtin", "time");

	rec_req(0x20 | 2, SYS_OPEN, 0, 0, O_RDWR, "3", 1); /* and raise 3 */
	rec_req(2, SYS_FEVENT, 1, EVENT_READ, 0, NULL, 2);
	rec_req(2, SYS_READ, 1, 0, 8, NULL, 3);
	fuzz_put_rec(&b, 2, m,
		     rig_req_bytes(m, SYS_WRITE, 1, 0, 0, &one, 8, 4));
	rec_req(2, SYS_READ, 1, 0, 8, NULL, 5);
	rec_req(2, SYS_FPATH, 1, 0, 16, NULL, 6);
	rec_req(2, SYS_OPEN, 0, 0, O_RDWR, "3/device", 7);
	rec_req(2, SYS_OPEN, 0, 0, O_RDWR, "pci/0000:00:03.0/msi/0", 8);
	rec_req(2, SYS_OPEN, 0, 0, O_RDWR, "99", 9);
	seed("fuzz_builtin", "irq");

	rec_req(0, SYS_OPEN, 0, 0, O_RDONLY, "", 1);
	rec_req(3, SYS_OPEN, 0, 0, O_RDONLY, "", 2);
	rec_req(3, SYS_READ, 1, 0, 10, NULL, 3);
	rec_req(3 | 1 << 2, WIRE_OP_ATTACH, 1, 0, 0, NULL, 4);
	rec_req(3, SYS_READ, 1, 0, 10, NULL, 5);
	seed("fuzz_builtin", "nopaths");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	wire_seeds();
	path_seeds();
	dirlist_seeds();
	serve_req_seeds();
	by_path_seeds();
	serve_ans_seeds();
	control_seeds();
	builtin_seeds();
	free(b.p);
	return 0;
}
