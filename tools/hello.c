/*
 * scheme-hello - the smallest useful provider: NAME:anything reads
 * "Hello, anything!\n".
 *
 *	schemerun scheme-hello [NAME] &		(default: greet)
 *	schemerun cat greet:world		Hello, world!
 *
 * All of it is here: make sure the preload is there (without it, the open
 * would make an ordinary file called ":greet"), open the scheme, give up
 * every other name, as a Redox daemon does (setrens), read requests,
 * answer each one by writing the same packet back with the result in `a`.
 * It links with -lscheme (pkg-config --libs scheme) for scheme_preloaded
 * and setrens; the requests are the raw ABI (scheme-memfs uses the
 * helper, struct scheme_ops, instead).
 */
#define _XOPEN_SOURCE 700 /* POSIX.1-2008 with XSI: O_CLOEXEC, S_IFREG */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#ifndef SCHEME_VERSION /* the project's build sets it; a copy built apart */
#define SCHEME_VERSION "(unknown)"
#endif

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

static const char usage_text[] =
    "usage: scheme-hello [NAME]\n"
    "\n"
    "Serve the scheme NAME (default greet): NAME:anything reads\n"
    "\"Hello, anything!\".  Run it under schemerun:\n"
    "\n"
    "  schemerun scheme-hello &\n"
    "  schemerun cat greet:world\n"
    "\n"
    "  -h, --help     print this and exit\n"
    "  -V, --version  print the version and exit\n";

static void
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "scheme-hello: %s '%s' (see 'scheme-hello --help')\n",
		what, arg);
	exit(2);
}

/* [--help | --version | [--] NAME]: the scheme's name. */
static const char *
parse_args(int argc, char **argv)
{
	int i = 1;

	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		exit(fflush(stdout) == 0 ? 0 : 1);
	}
	if (argc > 1 &&
	    (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("scheme-hello (scheme) %s\n", SCHEME_VERSION);
		exit(fflush(stdout) == 0 ? 0 : 1);
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		i++;
	else if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0')
		usage_error("unknown option", argv[1]);
	if (argc - i > 1)
		usage_error("unexpected argument", argv[i + 1]);
	return i < argc ? argv[i] : "greet";
}

int
main(int argc, char **argv)
{
	const char *name = parse_args(argc, argv);
	struct scheme_packet p;
	char path[80];
	int fd;

	if (!scheme_preloaded()) { /* open() would make a file ":name" here */
		fprintf(stderr, "scheme-hello: schemes need the preload: "
				"run it as 'schemerun scheme-hello'\n");
		return 1;
	}
	if ((size_t)snprintf(path, sizeof(path), ":%s", name) >= sizeof(path))
		usage_error("name too long", name);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
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
