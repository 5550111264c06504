/*
 * schemectl - inspect and control a running broker.
 *
 *	schemectl [--socket PATH] list	the schemes, one per line
 *	schemectl [--socket PATH] info	the broker, and per scheme its
 *					counters (each explained)
 *	schemectl [--socket PATH] stop	ask the broker to exit, and wait
 *	schemectl [--socket PATH] irq-raise N
 *					raise irq:N: a simulated one
 *					(schemed --irq-sim), or a VFIO
 *					vector by VFIO's loopback
 *	schemectl [--socket PATH] mount DIR
 *					mount the kernel-visible view of
 *					the schemes at DIR (scheme-fuse,
 *					detached: it lives until unmounted
 *					or until the broker stops)
 *	schemectl umount DIR		unmount it (the daemon then exits)
 *	schemectl [--socket PATH] trace [--json] [NAME...]
 *					the requests those schemes (every
 *					one we may trace, when none is
 *					named) are asked, live (trace.c)
 *
 * Exit status: 0 on success, 1 when the broker refuses, 2 for usage, 3
 * when no broker answers (or it is not ours to use).  See schemectl(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../proto/wire/sockpath.h"
#include "../proto/wire/wire.h"
#include "cli.h"
#include "reach.h"
#include "trace.h"
#include "viewctl.h"

static const char usage_text[] =
    "usage: schemectl [--socket PATH] COMMAND\n"
    "Inspect and control the scheme broker (schemed).\n"
    "\n"
    "Commands:\n"
    "  list          the schemes this process may open, one per line\n"
    "  info          the broker, and each scheme's counters, explained\n"
    "  stop          ask the broker to exit, and wait until it has\n"
    "  irq-raise N   raise irq:N (schemed --irq-sim, or a VFIO vector's\n"
    "                loopback)\n"
    "  mount DIR     mount the schemes at DIR for every program (FUSE:\n"
    "                DIR/NAME/PATH is /scheme/NAME/PATH); the view lives\n"
    "                until unmounted or until the broker stops\n"
    "  umount DIR    unmount it\n"
    "  trace [--json] [NAME...]\n"
    "                print each request those schemes are asked, live:\n"
    "                time, pid and command, scheme, request and its\n"
    "                arguments, answer and latency (--json: one object a\n"
    "                line).  With no NAME, every scheme you may trace:\n"
    "                your own user's (root: all).  Until interrupted, or\n"
    "                until the schemes are gone\n"
    "\n"
    "Options:\n" CLI_SOCKET_HELP "\n"
    "Exit status: 0 done, 1 the broker refused, 2 usage, 3 no broker\n"
    "answers (or it is not yours to use).  See schemectl(1).\n";

/* After `info`'s figures: what each counts (the broker's are bare). */
static const char info_legend[] =
    "# schemes      registered by providers (:, event:, time: and irq:,\n"
    "#              the broker's own, are not counted)\n"
    "# connections  open control connections: one per process using\n"
    "#              schemes (this schemectl too), one more per scheme a\n"
    "#              provider holds, one per namespace token\n"
    "# Per scheme, as its provider last reported them (at most every\n"
    "# 100 ms while requests come in, so the last ones may be missing):\n"
    "# requests     packets the provider has read (SYS_CLOSE included)\n"
    "# answers      of those, the ones it has answered\n"
    "# unanswered   requests - answers: read, not answered yet (kept,\n"
    "#              as a read that waits for data is)\n"
    "# dropped_unknown    answers with an id nobody waits for (not\n"
    "#                    counted in answers)\n"
    "# dropped_badsize    answers claiming more bytes than were asked\n"
    "#                    (counted in answers; the client got EIO)\n"
    "# dropped_malformed  thrown away: ill-formed requests, bytes written\n"
    "#                    to a scheme fd past the preload, id-0 packets\n"
    "#                    that are not SYS_FEVENT posts\n";

static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static const char *cmd; /* for messages */

/* A connection, or -1 after saying why there is none. */
static int
broker_connect(void)
{
	char why[512];
	int fd = sockpath_connect(path);

	if (fd >= 0)
		return fd;
	reach_explain(path, fd, why, sizeof(why));
	fprintf(stderr, "schemectl: %s\n", why);
	return -1;
}

/*
 * What a refusal means, in words.  At the door (a bare reply: the
 * connection was turned away) it is about who may use this broker at
 * all; after, about the command.
 */
static void
refused(int err, uint64_t arg, bool door)
{
	bool irq = strcmp(cmd, "irq-raise") == 0;
	char why[512];

	if (door && reach_denied(err)) {
		reach_explain(path, err, why, sizeof(why));
		fprintf(stderr, "schemectl: %s\n", why);
	} else if (reach_denied(err) && (irq || strcmp(cmd, "stop") == 0)) {
		fprintf(stderr,
			"schemectl: %s: permission denied: only root and the "
			"broker's own user, in the root namespace, may %s\n",
			cmd, irq ? "raise interrupts" : "stop it");
	} else if (reach_denied(err)) {
		fprintf(stderr,
			"schemectl: %s: permission denied: only processes in "
			"the root namespace may ask\n",
			cmd);
	} else if (irq && err == -ENOENT) {
		fprintf(stderr,
			"schemectl: irq-raise %llu: the broker at %s serves no "
			"irq:%llu; start it with --irq-sim (irq:0-15, "
			"simulated) or --irq %llu=pci/BDF/TYPE/VEC\n",
			(unsigned long long)arg, path, (unsigned long long)arg,
			(unsigned long long)arg);
	} else if (irq) {
		fprintf(stderr, "schemectl: irq-raise %llu: %s\n",
			(unsigned long long)arg, strerror(-err));
	} else {
		fprintf(stderr, "schemectl: %s: %s\n", cmd, strerror(-err));
	}
}

/* One request; the answer's payload is printed.  Returns an exit code. */
static int
call(uint32_t type, uint64_t arg, int print)
{
	static char buf[sizeof(struct wire_ctl) + WIRE_MAX_DATA];
	struct wire_ctl req, *rep = (struct wire_ctl *)buf;
	struct iovec iov = {buf, sizeof(buf)};
	ssize_t n;
	bool door;
	int fd;

	if ((fd = broker_connect()) < 0)
		return 3;
	wire_ctl_init(&req, type);
	req.inst = arg;
	/*
	 * A broker that turns us away answers and closes at once, maybe
	 * before our request is sent: its answer is read all the same.
	 */
	(void)wire_send(fd, &req, sizeof(req), NULL, 0, -1, NULL, 0);
	if ((n = wire_recv(fd, &iov, 1, NULL, NULL, MSG_CMSG_CLOEXEC)) <= 0 ||
	    wire_ctl_check(rep, (size_t)n) < 0) {
		fprintf(stderr, "schemectl: the broker at %s did not answer\n",
			path);
		close(fd);
		return 3;
	}
	close(fd);
	if (rep->err < 0) {
		/* Turned away at the door: it is not ours to use. */
		door = rep->type == WIRE_CTL_REPLY;
		refused(rep->err, arg, door);
		return door ? 3 : 1;
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
		if ((fd = sockpath_connect(path)) < 0)
			return 0;
		close(fd);
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "schemectl: the broker is still answering\n");
	return 1;
}

static int
irq_raise(const char *arg)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0 || arg[0] == '-')
		cli_usage_error("irq-raise: '%s' is not an interrupt number",
				arg);
	return call(WIRE_CTL_IRQ_RAISE, n, 0);
}

/* The view at dir, for the broker we talk to (viewctl.h). */
static int
view_mount(const char *dir)
{
	int fd = broker_connect();

	if (fd < 0)
		return 3;
	close(fd);
	fflush(stdout);
	return viewctl_mount(path, dir);
}

/* The i-th of the '\n'-separated names (made a string in place). */
static const char *
named(char *names, size_t len, uint64_t i)
{
	char *p = names, *end = names + len, *nl;

	for (; p < end; p = nl + 1, i--) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (i == 0) {
			*nl = '\0';
			return p;
		}
	}
	return "a scheme named";
}

/*
 * trace [--json] [NAME...]: ask the broker for a tracer's socket per
 * scheme (wire.h "Tracing"), then print what comes (trace.c).
 */
static int
trace(int argc, char **argv)
{
	static char buf[sizeof(struct wire_ctl) + WIRE_MAX_DATA];
	static char names[WIRE_TRACE_MAX * (WIRE_MAX_NAME + 1)];
	struct wire_ctl req, *rep = (struct wire_ctl *)buf;
	struct iovec iov = {buf, sizeof(buf)};
	int fds[WIRE_TRACE_MAX], nfds = WIRE_TRACE_MAX, fd, nnames = 0, r;
	size_t len = 0, n;
	bool json = false, opts = true;
	const char *which;
	ssize_t got;

	for (int i = 0; i < argc; i++) {
		if (opts && strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		if (opts && strcmp(argv[i], "--") == 0) {
			opts = false;
			continue;
		}
		if (opts && argv[i][0] == '-')
			cli_usage_error("trace: unknown option '%s'", argv[i]);
		n = strlen(argv[i]);
		if (wire_name_check(argv[i], n) < 0)
			cli_usage_error("trace: '%s' is not a scheme name",
					argv[i]);
		if (++nnames > WIRE_TRACE_MAX)
			cli_usage_error("trace: at most %d schemes at once",
					WIRE_TRACE_MAX);
		if (len > 0)
			names[len++] = '\n';
		memcpy(names + len, argv[i], n);
		len += n;
	}
	if ((fd = broker_connect()) < 0)
		return 3;
	wire_ctl_init(&req, WIRE_CTL_TRACE);
	req.len = (uint32_t)len;
	(void)wire_send(fd, &req, sizeof(req), names, len, -1, NULL, 0);
	got = wire_recv_fds(fd, &iov, 1, fds, &nfds, MSG_CMSG_CLOEXEC);
	close(fd);
	if (got <= 0 || wire_ctl_check(rep, (size_t)got) < 0) {
		fprintf(stderr, "schemectl: the broker at %s did not answer\n",
			path);
		return 3;
	}
	if (rep->err < 0) {
		if (rep->type == WIRE_CTL_REPLY) { /* turned away at the door */
			refused(rep->err, 0, true);
			return 3;
		}
		which = named(names, len, rep->inst);
		if (rep->err == -ENOENT)
			fprintf(stderr,
				"schemectl: trace: %s: no such scheme\n",
				which);
		else if (rep->err == -EPERM)
			fprintf(stderr,
				"schemectl: trace: %s: permission denied: "
				"only a scheme's own user and root may trace "
				"it\n",
				which);
		else if (rep->err == -ENOSYS || rep->err == -EPROTO)
			fprintf(stderr,
				"schemectl: trace: the broker at %s cannot "
				"trace (an older one?)\n",
				path);
		else
			fprintf(stderr, "schemectl: trace: %s\n",
				strerror(-rep->err));
		return 1;
	}
	n = rep->len / sizeof(struct wire_traced);
	if (rep->len % sizeof(struct wire_traced) != 0 || (int)n != nfds) {
		fprintf(stderr, "schemectl: trace: the broker's answer is "
				"ill-formed\n");
		while (nfds > 0)
			close(fds[--nfds]);
		return 3;
	}
	if (nfds == 0) {
		fprintf(stderr, "schemectl: trace: no scheme you may trace is "
				"running\n");
		return 1;
	}
	fprintf(stderr, "schemectl: tracing");
	for (int i = 0; i < nfds; i++)
		fprintf(stderr, " %.*s:", WIRE_MAX_NAME,
			((struct wire_traced *)(rep + 1))[i].name);
	fprintf(stderr, " (Ctrl-C stops)\n");
	r = trace_run((struct wire_traced *)(rep + 1), fds, nfds, json);
	return r;
}

static bool
takes_one(const char *c)
{
	return strcmp(c, "irq-raise") == 0 || strcmp(c, "mount") == 0 ||
	       strcmp(c, "umount") == 0;
}

int
main(int argc, char **argv)
{
	int nargs, r;

	cli_init("schemectl", usage_text);
	cli_socket_options(argc, argv, path, sizeof(path));
	if (optind >= argc)
		cli_usage_error("a command is needed: list, info, stop, "
				"irq-raise N, mount DIR, umount DIR or trace");
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (strcmp(cmd, "list") != 0 && strcmp(cmd, "info") != 0 &&
	    strcmp(cmd, "stop") != 0 && strcmp(cmd, "trace") != 0 &&
	    !takes_one(cmd))
		cli_usage_error("unknown command '%s'", cmd);
	if (strcmp(cmd, "trace") == 0) {
		if (path[0] == '\0' && sockpath_default(path, sizeof(path)) < 0)
			cli_usage_error("the socket path is too long; give one "
					"with --socket");
		return trace(nargs, argv + optind + 1);
	}
	if (takes_one(cmd) ? nargs != 1 : nargs != 0)
		cli_usage_error("%s takes %s", cmd,
				strcmp(cmd, "irq-raise") == 0
				    ? "one argument, the interrupt number"
				: takes_one(cmd) ? "one argument, a directory"
						 : "no arguments");
	if (strcmp(cmd, "umount") == 0)
		return viewctl_umount(argv[optind + 1]);
	if (path[0] == '\0' && sockpath_default(path, sizeof(path)) < 0)
		cli_usage_error("the socket path is too long; give one with "
				"--socket");
	if (strcmp(cmd, "list") == 0)
		return call(WIRE_CTL_LIST, 0, 1);
	if (strcmp(cmd, "info") == 0) {
		if ((r = call(WIRE_CTL_INFO, 0, 1)) == 0)
			fputs(info_legend, stdout);
		return r;
	}
	if (strcmp(cmd, "stop") == 0)
		return stop();
	if (strcmp(cmd, "mount") == 0)
		return view_mount(argv[optind + 1]);
	return irq_raise(argv[optind + 1]);
}
