/*
 * bench_mem.c - what 10,000 open files cost in memory (see bench.c).
 *
 * An open file of a scheme is a socket pair: the client holds one end
 * (its fd, and an entry in the preload's fd table), the provider the
 * other (its epoll registration and a small record of the description).
 * The broker hands out channels and registers schemes; it holds nothing
 * per open file.  So the resident memory of all three is measured before
 * and after one client opens the files, and the kernel's slab (system
 * wide, so only approximate on a busy machine) for the sockets.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

struct mem {
	long broker, provider, client, slab;
};

static long
slab_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
measure(struct mem *m, pid_t prov, pid_t client)
{
	const char *b = getenv("SCHEME_BENCH_BROKER");

	m->broker = b != NULL ? bench_rss_kb(atoi(b)) : -1;
	m->provider = bench_rss_kb(prov);
	m->client = bench_rss_kb(client);
	m->slab = slab_kb();
}

/* The client: one file open, then (on a byte from cmd) n more. */
static void
client(const char *path, int n, int ready, int cmd)
{
	char c;
	int i;

	bench_raise_nofile();
	if (open(path, O_RDONLY) < 0 || write(ready, "r", 1) != 1)
		_exit(1);
	if (read(cmd, &c, 1) != 1)
		_exit(1);
	for (i = 0; i < n; i++)
		if (open(path, O_RDONLY) < 0)
			_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	while (read(cmd, &c, 1) > 0)
		;
	_exit(0);
}

static void
row(const char *what, long before, long after, int n)
{
	if (before < 0 || after < 0) {
		printf("  %-36s %10s\n", what, "-");
		return;
	}
	printf("  %-36s %8ld KiB %8ld KiB %8.0f B\n", what, before, after,
	       (double)(after - before) * 1024.0 / n);
}

void
bench_memory(void)
{
	int rd[2], cmd[2], n = bench.handles;
	struct mem m0, m1;
	pid_t prov, pid;

	bench_raise_nofile();
	prov = bprov_start("benchmem");
	if (pipe2(rd, O_CLOEXEC) < 0 || pipe2(cmd, O_CLOEXEC) < 0)
		bench_die("pipe");
	if ((pid = fork()) == 0) {
		close(rd[0]);
		close(cmd[1]);
		client("benchmem:file", n, rd[1], cmd[0]);
	}
	close(rd[1]);
	close(cmd[0]);
	if (bench_wait_ready(rd[0], 1) < 0)
		bench_die("benchmem:file");
	usleep(100000); /* the provider has answered the first open */
	measure(&m0, prov, pid);
	if (write(cmd[1], "g", 1) != 1 || bench_wait_ready(rd[0], 1) < 0)
		bench_die("opening the files");
	usleep(100000);
	measure(&m1, prov, pid);
	close(cmd[1]);
	close(rd[0]);
	waitpid(pid, NULL, 0);
	bench_kill(prov);
	printf("\nmemory: one client opens %d files of one provider "
	       "(resident, VmRSS)\n",
	       n);
	printf("  %-36s %12s %12s %10s\n", "", "before", "after", "per file");
	row("broker (schemed)", m0.broker, m1.broker, n);
	row("provider (the files live here)", m0.provider, m1.provider, n);
	row("client (its fds)", m0.client, m1.client, n);
	row("kernel slab, system-wide (approx.)", m0.slab, m1.slab, n);
	printf("  the broker is on the control path only: it registers "
	       "schemes and hands out\n  channels, and holds nothing per "
	       "open file; an open file lives in the provider\n  (its end "
	       "of a socket pair and a record) and the client (its fd)\n");
}
