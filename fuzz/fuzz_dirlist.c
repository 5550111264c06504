/*
 * fuzz_dirlist.c - a directory listing as a provider sends it (Redox's
 * text, one name per line), read the two ways a program reads it:
 * readdir (sdir_read, sdir_seek) and getdents64 (sc_getdents64), all of
 * preload/dir.c linked unchanged behind preload_stubs.c's provider.
 *
 * Input: a header of five bytes, then the listing.
 *
 *	flags	bit 0: the first read says EISDIR (load_reopened: the path
 *		comes from SYS_FPATH, the listing before the first NUL;
 *		the rest is the listing); bit 1: SYS_FSTAT says a file;
 *		bits 2-3: which read fails with EIO (0: none); bit 4: the
 *		provider answers SYS_GETDENTS with the listing's bytes as
 *		its entries (struct scheme_dirent, as they come: only
 *		memory safety and the records handed out are checked);
 *		bit 5: it grants a cache and answers SYS_GETDENTS_STAT so
 *		(struct scheme_dirent and a struct stat each, kept as
 *		stats: memory safety again)
 *	chunk	bytes per read at most (0: as many as asked)
 *	size	uint16_t, getdents64's buffer
 *	seek	entries sdir_seek skips on the second pass
 *
 * Checks: "." and ".." first, then the names handed out are the
 * listing's non-empty lines, cut at a NUL, that a dirent can hold (and
 * are not "." or "..", which are the reader's own), in order, both ways;
 * getdents64 records are aligned, fit the buffer and end in a NUL;
 * nothing is opened that is not closed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../preload/dir.h"
#include "fuzz.h"
#include "preload_stubs.h"

static bool
is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/*
 * The names a correct reader hands out: lines of 1 to 255 bytes, cut at
 * a NUL, but "." and ".." (and those the cut leaves empty).
 */
struct names {
	const char *text;
	size_t len, pos;
};

static bool
want_next(struct names *w, const char **name, size_t *n)
{
	while (w->pos < w->len) {
		const char *s = w->text + w->pos;
		const char *nl = memchr(s, '\n', w->len - w->pos);
		size_t l = nl ? (size_t)(nl - s) : w->len - w->pos;

		w->pos += l + (nl != NULL);
		if (l == 0 || l >= 256)
			continue; /* no dirent holds the line */
		l = strnlen(s, l); /* a NUL ends the name */
		if ((l == 1 && s[0] == '.') ||
		    (l == 2 && s[0] == '.' && s[1] == '.'))
			continue; /* the provider's: dropped */
		if (l > 0) {
			*name = s;
			*n = l;
			return true;
		}
	}
	return false;
}

/*
 * The next entry is the listing's next name: its bytes (up to a NUL
 * inside the line: the program sees the name up to it), then a NUL,
 * within room bytes.
 */
static void
expect(struct names *w, const char *got, size_t room, const char *how)
{
	const char *name;
	size_t n;

	if (!want_next(w, &name, &n))
		fuzz_fail("%s: an entry past the end of the listing", how);
	if (n + 1 > room || memcmp(got, name, n) != 0 || got[n] != '\0')
		fuzz_fail("%s: not the listing's entry (%zu bytes)", how, n);
}

/*
 * Exact is false when a read fails on the way: a reader then lists from
 * wherever the failed read left the offset, as it would on Linux, and
 * only memory safety is checked.
 */
static void
by_readdir(const uint8_t *listing, size_t len, long seek, bool exact)
{
	struct names w = {(const char *)listing, len, 0};
	struct dirent64 *ent;
	struct sdir *d;
	const char *name;
	size_t n;
	int err;
	long i;

	if ((d = sdir_fdopen(FAKE_FD, &err)) == NULL) {
		if (!fake.notdir || err != -ENOTDIR)
			fuzz_fail("sdir_fdopen: %d", err);
		return;
	}
	for (i = 0; (ent = sdir_read(d, &err)) != NULL; i++)
		if (i < 2 && strcmp(ent->d_name, i == 0 ? "." : "..") != 0)
			fuzz_fail("readdir: no \".\" and \"..\" first");
		else if (exact && i >= 2)
			expect(&w, ent->d_name, sizeof(ent->d_name), "readdir");
	if (exact && err == 0 && want_next(&w, &name, &n))
		fuzz_fail("readdir: stopped before the end of the listing");
	/* A second pass from an entry in the middle, as seekdir does. */
	sdir_seek(d, seek);
	w.pos = 0;
	for (i = 2; i < sdir_tell(d); i++) /* past "." and ".." */
		want_next(&w, &name, &n);
	while ((ent = sdir_read(d, &err)) != NULL)
		if (exact && !is_dot(ent->d_name))
			expect(&w, ent->d_name, sizeof(ent->d_name),
			       "readdir after seekdir");
	if (sdir_close(d) != 0)
		fuzz_fail("sdir_close");
}

static void
records(struct names *w, const char *buf, ssize_t r, size_t size, bool exact)
{
	const struct linux_dirent64 *de;
	size_t off = 0, n;

	if ((size_t)r > size)
		fuzz_fail("getdents64: %zd bytes in a buffer of %zu", r, size);
	while (off < (size_t)r) {
		de = (const struct linux_dirent64 *)(buf + off);
		if ((size_t)r - off < offsetof(struct linux_dirent64, d_name) ||
		    de->d_reclen % 8 != 0 ||
		    de->d_reclen <
			offsetof(struct linux_dirent64, d_name) + 2 ||
		    de->d_reclen > (size_t)r - off)
			fuzz_fail("getdents64: a bad record at %zu", off);
		n = de->d_reclen - offsetof(struct linux_dirent64, d_name);
		if (de->d_name[n - 1] != '\0')
			fuzz_fail("getdents64: a name without its NUL");
		if (exact && !is_dot(de->d_name))
			expect(w, de->d_name, n, "getdents64");
		off += de->d_reclen;
	}
}

static void
by_getdents(const uint8_t *listing, size_t len, size_t size, bool exact)
{
	struct names w = {(const char *)listing, len, 0};
	struct sfd *e = fdtab_get(FAKE_FD);
	/* 8-aligned, as the kernel's records are. */
	char *buf = aligned_alloc(8, (size + 7) & ~(size_t)7);
	const char *name;
	size_t n;
	ssize_t r = 0;
	int calls;

	if (buf == NULL)
		fuzz_fail("out of memory");
	for (calls = 0; calls < 1 << 16; calls++) {
		r = sc_getdents64(FAKE_FD, e, buf, size);
		if (r <= 0)
			break;
		records(&w, buf, r, size, exact);
	}
	if (exact && r == 0 && want_next(&w, &name, &n))
		fuzz_fail("getdents64: ended before the listing did");
	sdir_fd_rewound(FAKE_FD);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t key;
	const uint8_t *listing;
	size_t len, bufsize;
	const uint8_t *nul;

	if (size < 5)
		return 0;
	memset(&fake, 0, sizeof(fake));
	fake.eisdir = data[0] & 1;
	fake.notdir = data[0] & 2;
	fake.fail_read = (data[0] >> 2) & 3;
	fake.chunk = data[1];
	fake.typed = data[0] & 16;
	fake.typed_stat = data[0] & 32;
	bufsize = (size_t)data[2] | (size_t)data[3] << 8;
	listing = data + 5;
	len = size - 5;
	if (fake.eisdir) {
		nul = memchr(listing, '\0', len);
		fake.fpath = (const char *)listing;
		fake.fpath_len = nul ? (size_t)(nul - listing) : len;
		listing = nul ? nul + 1 : listing + len;
		len = (size_t)(data + size - listing);
	}
	if (fake.typed_stat && fake.fpath == NULL) {
		fake.fpath = "fz:d"; /* where the entries' stats are kept */
		fake.fpath_len = 4;
	}
	fake.text = listing;
	fake.len = len;
	fake_fd_set(FAKE_FD, ++key);
	by_readdir(listing, len, data[4],
		   fake.fail_read == 0 && !fake.typed && !fake.typed_stat);
	fake.pos = 0;
	fake.reads = 0;
	fake_fd_set(FAKE_FD, ++key); /* closedir closed it */
	by_getdents(listing, len, bufsize,
		    fake.fail_read == 0 && !fake.typed && !fake.typed_stat);
	fake_fd_clear(FAKE_FD);
	if (fake.opens != fake.closes)
		fuzz_fail("%d reopens, %d closes", fake.opens, fake.closes);
	return 0;
}
