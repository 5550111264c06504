/*
 * scheme-hello - the smallest useful provider: NAME:anything reads
 * "Hello, anything!\n".
 *
 *	schemerun scheme-hello [NAME] &		(default: greet)
 *	schemerun cat greet:world		Hello, world!
 *
 * All of it is here: open the scheme, give up every other name, as a
 * Redox daemon does (setrens: link with -lscheme), read requests, answer
 * each one by writing the same packet back with the result in `a`.
 */
#define _XOPEN_SOURCE 700 /* POSIX.1-2008 with XSI: O_CLOEXEC, S_IFREG */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#define MAX 1024

static struct {
	char text[256];
	size_t len, pos;
	int used;
} files[MAX];

static int64_t
open_file(const char *path)
{
	int n;

	for (int64_t h = 0; h < MAX; h++) {
		if (files[h].used)
			continue;
		n = snprintf(files[h].text, sizeof(files[h].text),
			     "Hello, %s!\n", path);
		files[h].len = n < (int)sizeof(files[h].text)
				   ? (size_t)n
				   : sizeof(files[h].text) - 1;
		files[h].pos = 0;
		files[h].used = 1;
		return h; /* the handle: any number we like */
	}
	return -EMFILE;
}

static int64_t
handle(const struct scheme_packet *p)
{
	uint64_t h = p->b;
	size_t n;

	if (p->a == SYS_OPEN)
		return open_file((const char *)(uintptr_t)p->b);
	if (h >= MAX || !files[h].used)
		return -EBADF;
	switch (p->a) {
	case SYS_READ: /* c: where to put the bytes, d: how many at most */
		n = files[h].len - files[h].pos;
		n = n < p->d ? n : p->d;
		memcpy((void *)(uintptr_t)p->c, files[h].text + files[h].pos,
		       n);
		files[h].pos += n;
		return (int64_t)n;
	case SYS_FSTAT: {
		struct stat *st = (struct stat *)(uintptr_t)p->c;

		st->st_mode = S_IFREG | 0444;
		st->st_size = (off_t)files[h].len;
		return 0;
	}
	case SYS_CLOSE: /* the last fd of this open file is gone */
		files[h].used = 0;
		return 0;
	default:
		return -ENOSYS;
	}
}

int
main(int argc, char **argv)
{
	struct scheme_packet p;
	char name[80];
	int fd;

	snprintf(name, sizeof(name), ":%s", argc > 1 ? argv[1] : "greet");
	fd = open(name, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(name);
		return 1;
	}
	if (setrens(0, 0) < 0) /* from here on: no open by name */
		perror("setrens (running unsandboxed)");
	while (read(fd, &p, sizeof(p)) == sizeof(p)) {
		p.a = (uint64_t)handle(&p);
		if (write(fd, &p, sizeof(p)) != sizeof(p))
			return 1;
	}
	return 0; /* read() gave 0: the scheme was removed */
}
