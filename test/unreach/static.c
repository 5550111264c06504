/*
 * static.c - a statically linked program (cc -static: no loader, so no
 * LD_PRELOAD), run by test_unreach with scheme files on its standard
 * streams, which the preload relays (preload/relay.c):
 *
 *	unreach_static cat		stdin to stdout
 *	unreach_static both		"out" on stdout, "err" on stderr
 *	unreach_static exit N		exit N after "bye" on stdout
 *	unreach_static kill SIG		"bye" on stdout, then raise SIG
 *	unreach_static big MIB		MIB MiB of a pattern on stdout
 *	unreach_static pid		its pid on stdout
 *	unreach_static fd N		whether fd N is open: "open"/"closed"
 *	unreach_static head		one line of stdin to stdout, exit 0
 *
 * Any failure: one line on stderr, exit 99.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
fail(const char *what)
{
	perror(what);
	exit(99);
}

static void
put(int fd, const char *s)
{
	size_t n = strlen(s);

	if (write(fd, s, n) != (ssize_t)n)
		fail("write");
}

static void
cat(void)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			fail("write");
	if (n < 0)
		fail("read");
}

static void
big(long mib)
{
	static char buf[1 << 20];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	for (long m = 0; m < mib; m++)
		if (write(1, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			fail("write");
}

int
main(int argc, char **argv)
{
	char line[256];
	const char *op = argc > 1 ? argv[1] : "";
	long arg = argc > 2 ? atol(argv[2]) : 0;
	ssize_t n;

	if (strcmp(op, "cat") == 0)
		cat();
	else if (strcmp(op, "both") == 0) {
		put(1, "out\n");
		put(2, "err\n");
	} else if (strcmp(op, "exit") == 0) {
		put(1, "bye\n");
		return (int)arg;
	} else if (strcmp(op, "kill") == 0) {
		put(1, "bye\n");
		raise((int)arg);
		return 98;
	} else if (strcmp(op, "big") == 0)
		big(arg);
	else if (strcmp(op, "pid") == 0) {
		snprintf(line, sizeof(line), "%d\n", (int)getpid());
		put(1, line);
	} else if (strcmp(op, "fd") == 0)
		put(1, fcntl((int)arg, F_GETFD) < 0 ? "closed\n" : "open\n");
	else if (strcmp(op, "head") == 0) {
		for (n = 0; n < (ssize_t)sizeof(line) - 1 &&
			    read(0, line + n, 1) == 1 && line[n] != '\n';
		     n++)
			;
		line[n] = '\n';
		if (write(1, line, (size_t)n + 1) != n + 1)
			fail("write");
	} else {
		fprintf(stderr, "usage: unreach_static OP [ARG]\n");
		return 2;
	}
	return 0;
}
