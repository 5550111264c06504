/*
 * bench_prov.c - the minimal plain-C provider the benchmark measures.
 *
 * Every path opens; a read fills what was asked for from a buffer, a
 * write takes everything, as a file of endless data would.  Requests are
 * read and answered in batches of up to 64, which is what a provider
 * serving many clients from one thread should do; with one client there
 * is one request per batch.  Nothing else here: the figures are the
 * scheme's own cost, not the provider's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "bench.h"

#define BATCH 64

static char data[256 * 1024];
static uint64_t next_handle = 1;
static bool rw2; /* serves SYS_READ2 (bprov_start; not bprov_start_old) */

static int64_t
read2(const struct scheme_packet *p)
{
	struct scheme_io *io = (struct scheme_io *)(uintptr_t)p->c;
	size_t n = io->len < sizeof(data) ? io->len : sizeof(data);

	io->served = SCHEME_SERVED;
	memcpy((void *)(uintptr_t)io->buf, data, n);
	return (int64_t)n;
}

static int64_t
handle(const struct scheme_packet *p)
{
	switch (p->a) {
	case SYS_READ2:
		return rw2 ? read2(p) : -ENOSYS;
	case SYS_OPEN:
		return (int64_t)next_handle++;
	case SYS_READ:
		memcpy((void *)(uintptr_t)p->c, data,
		       p->d < sizeof(data) ? p->d : sizeof(data));
		return (int64_t)(p->d < sizeof(data) ? p->d : sizeof(data));
	case SYS_WRITE:
		return (int64_t)p->d;
	case SYS_FSTAT: {
		struct stat *st = (struct stat *)(uintptr_t)p->c;

		st->st_mode = S_IFREG | 0666;
		return 0;
	}
	case SYS_LSEEK:
	case SYS_CLOSE:
	case SYS_FSYNC:
		return 0;
	case SYS_FEVENT:
		return EVENT_READ | EVENT_WRITE;
	default:
		return -ENOSYS;
	}
}

static void
serve(const char *name, int ready)
{
	struct scheme_packet p[BATCH];
	char path[80];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), ":%s", name);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		_exit(1);
	memset(data, 'x', sizeof(data)); /* real pages, as a real file's */
	if (write(ready, "r", 1) != 1)
		_exit(1);
	close(ready);
	while ((n = read(fd, p, sizeof(p))) > 0) {
		for (i = 0; i < n / (ssize_t)sizeof(p[0]); i++)
			p[i].a = (uint64_t)handle(&p[i]);
		if (write(fd, p, (size_t)n) != n)
			_exit(1);
	}
	_exit(0);
}

/* A provider of scheme `name` in a child; its pid once it serves. */
static pid_t
start(const char *name)
{
	int rd[2];
	pid_t pid;

	if (pipe2(rd, O_CLOEXEC) < 0)
		bench_die("pipe");
	pid = fork();
	if (pid < 0)
		bench_die("fork");
	if (pid == 0) {
		close(rd[0]);
		serve(name, rd[1]);
	}
	close(rd[1]);
	if (bench_wait_ready(rd[0], 1) < 0) {
		close(rd[0]);
		bench_kill(pid);
		errno = EPROTO;
		bench_die("starting the provider");
	}
	close(rd[0]);
	return pid;
}

pid_t
bprov_start(const char *name)
{
	rw2 = true;
	return start(name);
}

/* One that does not serve SYS_READ2: pread is a seek, a read, a seek. */
pid_t
bprov_start_old(const char *name)
{
	rw2 = false;
	return start(name);
}
