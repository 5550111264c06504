/*
 * static.c - a statically linked program (cc -static: no loader, so no
 * LD_PRELOAD) that uses scheme files through the kernel-visible view, as
 * test_view runs it:
 *
 *	view_static DIR		DIR: the mount's directory of a scheme
 *
 * It prints DIR/world, writes DIR/static.txt and reads it back, makes
 * DIR/sdir, renames the file into it, maps it, and lists DIR/sdir with
 * each entry's d_type.  Any failure: one line on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char text[] = "written by a static program\n";

static void
fail(const char *what)
{
	perror(what);
	exit(1);
}

static void
cat(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		fail(path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n < 0)
		fail("read");
	close(fd);
}

static void
write_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		fail(path);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail("write");
	if (close(fd) < 0)
		fail("close");
}

static void
map(const char *path)
{
	struct stat st;
	char *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail(path);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap");
	printf("mapped %.*s", (int)st.st_size, p);
	munmap(p, (size_t)st.st_size);
	close(fd);
}

static void
list(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);

	if (d == NULL)
		fail(path);
	while ((de = readdir(d)) != NULL)
		printf("entry %s %s\n", de->d_name,
		       de->d_type == DT_DIR   ? "dir"
		       : de->d_type == DT_REG ? "file"
					      : "unknown");
	closedir(d);
}

int
main(int argc, char **argv)
{
	char a[4096], b[4096], c[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: view_static DIR\n");
		return 2;
	}
	snprintf(a, sizeof(a), "%s/world", argv[1]);
	cat(a);
	snprintf(a, sizeof(a), "%s/static.txt", argv[1]);
	write_file(a);
	cat(a);
	snprintf(b, sizeof(b), "%s/sdir", argv[1]);
	if (mkdir(b, 0755) < 0)
		fail(b);
	snprintf(c, sizeof(c), "%s/moved.txt", b);
	if (rename(a, c) < 0)
		fail("rename");
	map(c);
	list(b);
	return 0;
}
