/*
 * common.c - records, fd accounting and seed writing for the fuzz
 * targets (see fuzz.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

bool
fuzz_next(struct fuzz_in *in, struct fuzz_rec *r)
{
	size_t len;

	if (in->n < 3)
		return false;
	r->ctl = in->p[0];
	len = (size_t)in->p[1] | (size_t)in->p[2] << 8;
	in->p += 3;
	in->n -= 3;
	if (len > in->n)
		len = in->n; /* a short last record is still a record */
	r->data = in->p;
	r->len = len;
	in->p += len;
	in->n -= len;
	return true;
}

/* What each open fd is, for the report of a leak. */
static void
list_fds(void)
{
	char path[64], target[256];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	ssize_t n;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		fprintf(stderr, "  fd %s -> %s\n", de->d_name, target);
	}
	closedir(d);
}

/*
 * Counting /proc/self/fd costs a few microseconds; an fd leaked per
 * message is the bug a daemon dies of, so every iteration pays it.
 */
int
fuzz_fd_count(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (getenv("FUZZ_FDS") != NULL)
		list_fds();

	if (d == NULL)
		fuzz_fail("opendir /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

void
fuzz_check_fds(int before, const char *what)
{
	int after = fuzz_fd_count();

	if (after != before) {
		list_fds();
		fuzz_fail("%s: %d fds open before the input, %d after", what,
			  before, after);
	}
}

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void
fuzz_put(struct fuzz_buf *b, const void *data, size_t len)
{
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + len)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			fuzz_fail("out of memory");
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->n, data, len);
	b->n += len;
}

void
fuzz_put_rec(struct fuzz_buf *b, uint8_t ctl, const void *data, size_t len)
{
	uint8_t h[3] = {ctl, (uint8_t)(len & 0xff), (uint8_t)(len >> 8)};

	if (len > 0xffff)
		fuzz_fail("record of %zu bytes", len);
	fuzz_put(b, h, sizeof(h));
	fuzz_put(b, data, len);
}

/* dir/target/name, written whole; the buffer is emptied for the next. */
int
fuzz_write_seed(const char *dir, const char *target, const char *name,
		struct fuzz_buf *b)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	if ((f = fopen(path, "wb")) == NULL)
		return -errno;
	ok = fwrite(b->p, 1, b->n, f) == b->n;
	ok = fclose(f) == 0 && ok;
	b->n = 0;
	return ok ? 0 : -EIO;
}
