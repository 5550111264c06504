/*
 * fork_child.c - what test_fork's children exec, under the preload:
 *
 *	fork_child TAG PATH	writes TAG into PATH (created, truncated)
 *	fork_child TAG -	writes TAG to its stdout (often a scheme fd it
 *				inherited, which the preload recognises at
 *				start-up)
 *
 * Exit 0, or 1 with one line on stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	size_t len;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: fork_child TAG PATH|-\n");
		return 2;
	}
	len = strlen(argv[1]);
	fd =
	    strcmp(argv[2], "-") == 0
		? 1
		: open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, argv[1], len) != (ssize_t)len ||
	    (fd != 1 && close(fd) < 0)) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
