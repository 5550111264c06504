/*
 * schemectl - inspect and control a running broker.
 *
 *	schemectl [--socket PATH] list	the schemes, one per line
 *	schemectl [--socket PATH] info	the broker, and per scheme its
 *					counters (requests, dropped answers)
 *	schemectl [--socket PATH] stop	ask the broker to exit, and wait
 *	schemectl [--socket PATH] irq-raise N
 *					raise irq:N: a simulated one
 *					(schemed --irq-sim), or a VFIO
 *					vector by VFIO's loopback
 *
 * Exit status: 0 on success, 1 when the broker refuses, 2 for usage, 3
 * when no broker answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../proto/sockpath.h"
#include "../proto/wire.h"

static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char what[64]; /* the command, for messages */

static int
broker_connect(void)
{
	int fd = sockpath_connect(path);

	return fd < 0 ? -1 : fd;
}

/* One request; the answer's payload is printed.  Returns an exit code. */
static int
call(uint32_t type, uint64_t arg, int print)
{
	static char buf[sizeof(struct wire_ctl) + WIRE_MAX_DATA];
	struct wire_ctl req, *rep = (struct wire_ctl *)buf;
	struct iovec iov = {buf, sizeof(buf)};
	ssize_t n;
	int fd;

	if ((fd = broker_connect()) < 0) {
		fprintf(stderr, "schemectl: no broker answers at %s\n", path);
		return 3;
	}
	wire_ctl_init(&req, type);
	req.inst = arg;
	if (wire_send(fd, &req, sizeof(req), NULL, 0, -1, NULL, 0) < 0 ||
	    (n = wire_recv(fd, &iov, 1, NULL, NULL, MSG_CMSG_CLOEXEC)) <= 0 ||
	    wire_ctl_check(rep, (size_t)n) < 0) {
		fprintf(stderr, "schemectl: the broker at %s did not answer\n",
			path);
		close(fd);
		return 3;
	}
	close(fd);
	if (rep->err < 0) {
		fprintf(stderr, "schemectl: %s: %s\n", what,
			strerror(-rep->err));
		return 1;
	}
	if (print)
		fwrite(buf + sizeof(*rep), 1, rep->len, stdout);
	return 0;
}

static int
stop(void)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int r = call(WIRE_CTL_STOP, 0, 0), fd, i;

	if (r != 0)
		return r;
	for (i = 0; i < 500; i++) { /* until it stops answering, or 5 s */
		if ((fd = broker_connect()) < 0)
			return 0;
		close(fd);
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "schemectl: the broker is still answering\n");
	return 1;
}

static void usage(void);

static int
irq_raise(const char *arg)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0)
		usage();
	return call(WIRE_CTL_IRQ_RAISE, n, 0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: schemectl [--socket PATH] list|info|stop\n"
			"       schemectl [--socket PATH] irq-raise N\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd;
	int ch;

	while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		if (ch == 's' && strlen(optarg) < sizeof(path))
			strcpy(path, optarg);
		else
			usage();
	}
	if (optind + 1 != argc &&
	    !(optind + 2 == argc && strcmp(argv[optind], "irq-raise") == 0))
		usage();
	if (path[0] == '\0' && sockpath_default(path, sizeof(path)) < 0)
		usage();
	cmd = argv[optind];
	snprintf(what, sizeof(what), "%s%s%s", cmd,
		 optind + 2 == argc ? " " : "",
		 optind + 2 == argc ? argv[optind + 1] : "");
	if (strcmp(cmd, "list") == 0)
		return call(WIRE_CTL_LIST, 0, 1);
	if (strcmp(cmd, "info") == 0)
		return call(WIRE_CTL_INFO, 0, 1);
	if (strcmp(cmd, "stop") == 0)
		return stop();
	if (strcmp(cmd, "irq-raise") == 0)
		return irq_raise(argv[optind + 1]);
	usage();
	return 2;
}
