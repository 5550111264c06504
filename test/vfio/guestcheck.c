/*
 * guestcheck - the checks the QEMU guest runs against scheme-irqdrv, as a
 * plain program under the preload.  Prints "CHECK PASS|FAIL LABEL ..."
 * lines for the host to read.
 *
 *	guestcheck LABEL raise NAME V ROUNDS [PACE_US]
 *		ROUNDS times: write V to NAME:raise (the driver raises the
 *		device's vector V), read NAME:irq/V: the next line must come,
 *		numbered one more than the last.  Then NAME:stats must show
 *		exactly that many interrupts handled on every vector, 200 ms
 *		later (none lost, none extra: an INTx unmasked before the
 *		device was quieted fires again).
 *	guestcheck LABEL timeout NAME V MS
 *		a read with no interrupt ends in ETIMEDOUT, not before MS.
 *	guestcheck LABEL loopback NAME V IRQ
 *		`schemectl irq-raise IRQ` (VFIO's loopback) reaches the reader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *label;

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int __attribute__((format(printf, 2, 3)))
result(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("CHECK %s %s ", ok ? "PASS" : "FAIL", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return ok ? 0 : 1;
}

static int
open_as(const char *name, const char *file, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s:%s", name, file);
	if ((fd = open(path, flags)) < 0) {
		result(0, "open %s: %s", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* One "V N\n" line; N, or -errno. */
static long
read_line(int fd, unsigned v)
{
	char buf[64];
	unsigned gv;
	long n;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);

	if (r < 0)
		return -errno;
	buf[r] = '\0';
	if (sscanf(buf, "%u %ld", &gv, &n) != 2 || gv != v)
		return -EPROTO;
	return n;
}

/* handled count of each vector from NAME:stats */
static int
stats(const char *name, long handled[8])
{
	char buf[1024], *line, *save = NULL;
	int fd = open_as(name, "stats", O_RDONLY), nv = 0;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	unsigned v;
	long c, h, t;

	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && nv < 8;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%u count %ld handled %ld timeouts %ld", &v,
			   &c, &h, &t) == 4 &&
		    v == (unsigned)nv)
			handled[nv++] = h;
	}
	return nv;
}

static int
check_raise(const char *name, unsigned v, long rounds, long pace_us)
{
	char path[16], vs[16];
	long before[8] = {0}, after[8] = {0}, n, got = 0, last, i;
	double t0, lat, maxlat = 0;
	int nv, raise, fd, bad = 0;
	unsigned k;

	nv = stats(name, before);
	snprintf(path, sizeof(path), "irq/%u", v);
	fd = open_as(name, path, O_RDONLY);
	raise = open_as(name, "raise", O_WRONLY);
	snprintf(vs, sizeof(vs), "%u", v);
	last = before[v];
	for (i = 0; i < rounds; i++) {
		t0 = now_ms();
		if (write(raise, vs, strlen(vs)) < 0)
			return result(0, "raise %u: %s", v, strerror(errno));
		n = read_line(fd, v);
		lat = now_ms() - t0;
		if (n == last + 1) {
			got++;
			last = n;
			maxlat = lat > maxlat ? lat : maxlat;
		} else {
			bad++;
			if (bad < 5)
				printf("round %ld: got %ld, want %ld\n", i, n,
				       last + 1);
			if (n > 0)
				last = n;
		}
		if (pace_us > 0)
			usleep((useconds_t)pace_us);
	}
	close(fd);
	close(raise);
	usleep(200000); /* a line left asserted would fire again by now */
	if (stats(name, after) != nv)
		return result(0, "stats unreadable");
	for (k = 0; k < (unsigned)nv; k++) {
		long want = before[k] + (k == v ? rounds : 0);

		if (after[k] != want) {
			printf("vector %u: handled %ld, want %ld\n", k,
			       after[k], want);
			bad++;
		}
	}
	return result(got == rounds && bad == 0,
		      "vector %u: %ld/%ld interrupts arrived and were acked, "
		      "max latency %.2f ms",
		      v, got, rounds, maxlat);
}

static int
check_timeout(const char *name, unsigned v, long ms)
{
	char path[16];
	double t0, took;
	long n;
	int fd;

	snprintf(path, sizeof(path), "irq/%u", v);
	fd = open_as(name, path, O_RDONLY);
	t0 = now_ms();
	n = read_line(fd, v);
	took = now_ms() - t0;
	close(fd);
	return result(n == -ETIMEDOUT && took >= (double)ms - 1 &&
			  took < (double)ms + 2000,
		      "read with no interrupt: %s after %.1f ms (timeout %ld)",
		      n == -ETIMEDOUT ? "ETIMEDOUT" : "no ETIMEDOUT", took, ms);
}

static int
check_loopback(const char *name, unsigned v, const char *irq)
{
	char path[16], cmd[64];
	long before[8] = {0}, n;
	int fd, st;

	stats(name, before);
	snprintf(path, sizeof(path), "irq/%u", v);
	fd = open_as(name, path, O_RDONLY);
	snprintf(cmd, sizeof(cmd), "schemectl irq-raise %s", irq);
	st = system(cmd);
	n = read_line(fd, v);
	close(fd);
	return result(st == 0 && n == before[v] + 1,
		      "schemectl irq-raise %s: status %d, line %ld (want %ld)",
		      irq, st, n, before[v] + 1);
}

int
main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr,
			"usage: guestcheck LABEL raise|timeout|loopback "
			"NAME V ARG [PACE_US]\n");
		return 2;
	}
	label = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[2], "raise") == 0)
		return check_raise(argv[3], (unsigned)atoi(argv[4]),
				   atol(argv[5]), argc > 6 ? atol(argv[6]) : 0);
	if (strcmp(argv[2], "timeout") == 0)
		return check_timeout(argv[3], (unsigned)atoi(argv[4]),
				     atol(argv[5]));
	if (strcmp(argv[2], "loopback") == 0)
		return check_loopback(argv[3], (unsigned)atoi(argv[4]),
				      argv[5]);
	fprintf(stderr, "guestcheck: unknown check %s\n", argv[2]);
	return 2;
}
