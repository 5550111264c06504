/*
 * schemed.c - the scheme broker: start-up, event loop, shutdown.
 *
 *	schemed [--socket PATH] [--pidfile FILE] [--verbose]
 *		[--irq N=pci/BDF/TYPE/VEC]... [--irq-config FILE] [--irq-sim]
 *		[--vfio auto|group|cdev]
 *		[--group NAME [--group-creates]] [--limit NAME=N]...
 *		[--mount DIR]
 *
 * Runs in the foreground until SIGINT, SIGTERM or `schemectl stop`.
 * --help, --version and usage errors as every command (tools/cli.h);
 * see schemed(8).
 */
#define _GNU_SOURCE
#include <bsd/libutil.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../proto/nofile.h"
#include "../proto/wire/sockpath.h"
#include "../tools/cli.h"
#include "broker.h"
#include "irq.h"
#include "log.h"

struct broker *br;

static int
signals_init(struct broker *b)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	b->sig.kind = SRC_SIGNAL;
	b->sig.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (b->sig.fd < 0)
		return -errno;
	return broker_watch(b, &b->sig);
}

static void
signal_ready(struct broker *b)
{
	struct signalfd_siginfo si;

	while (read(b->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: shutting down", si.ssi_signo);
		b->quit = true;
	}
}

static void
loop(struct broker *b)
{
	struct epoll_event ev[64];
	int n, i;

	while (!b->quit) {
		n = epoll_wait(b->ep, ev, 64, -1);
		if (n < 0 && errno != EINTR)
			fatalx("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n && !b->quit; i++) {
			struct src *s = ev[i].data.ptr;

			switch (s->kind) {
			case SRC_LISTEN:
				control_accept(b);
				break;
			case SRC_CONN:
				control_ready(b, (struct conn *)s,
					      ev[i].events);
				break;
			case SRC_SERVE:
				builtin_ready(b, (struct builtin *)s);
				break;
			case SRC_TIMER:
				time_fire(b, s);
				break;
			case SRC_IRQ:
				irq_fire(b, s);
				break;
			case SRC_SIGNAL:
				signal_ready(b);
				break;
			}
		}
		control_reap();
	}
}

static const char usage_text[] =
    "usage: schemed [OPTIONS]\n"
    "The scheme broker: registers schemes, hands each client a channel\n"
    "to the provider, and serves :, event:, time: and irq:.  It runs in\n"
    "the foreground until SIGINT, SIGTERM or `schemectl stop`.\n"
    "\n"
    "  -s, --socket PATH  listen here (default: $SCHEME_SOCKET, else\n"
    "                     /run/scheme for root, else "
    "$XDG_RUNTIME_DIR/scheme,\n"
    "                     else /tmp/scheme-UID/socket)\n"
    "  -p, --pidfile FILE write our pid there while we run\n"
    "  -v, --verbose      also log each connection, and refusals\n"
    "      --irq N=pci/BDF/TYPE/VEC\n"
    "                     irq:N is that device's vector; TYPE is intx, "
    "msi or\n"
    "                     msix (e.g. 3=pci/0000:00:03.0/msi/0); "
    "repeatable\n"
    "      --irq-config FILE  the same, one per line (# comments)\n"
    "      --irq-sim      irq:0-15 from a simulator (schemectl irq-raise "
    "N)\n"
    "      --vfio auto|group|cdev  how to open VFIO devices (default "
    "auto:\n"
    "                     the cdev where the kernel has one)\n"
    "      --group NAME   members of NAME may use the broker too "
    "(socket 0660)\n"
    "      --group-creates  ... and create schemes (default: only our "
    "uid and\n"
    "                     root)\n"
    "      --limit NAME=N a cap: conns-per-uid (8192), schemes-per-uid "
    "(4096),\n"
    "                     schemes (8192), namespaces (4096); "
    "repeatable\n"
    "      --mount DIR    mount the view of the schemes at DIR for "
    "every\n"
    "                     program (scheme-fuse), unmounted when we "
    "stop\n"
    "  -h, --help         print this and exit\n"
    "  -V, --version      print the version and exit\n"
    "\n"
    "Exit status: 0 stopped, 1 could not start or run, 2 usage.\n"
    "See schemed(8).\n";

static void
parse_vfio(const char *arg)
{
	if (strcmp(arg, "auto") == 0)
		vfio_path = VFIO_AUTO;
	else if (strcmp(arg, "group") == 0)
		vfio_path = VFIO_GROUP;
	else if (strcmp(arg, "cdev") == 0)
		vfio_path = VFIO_CDEV;
	else
		cli_usage_error("--vfio %s: want auto, group or cdev", arg);
}

static void
parse_args(struct broker *b, int argc, char **argv, const char **pidpath,
	   int *verbose, const char **mount)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"pidfile", required_argument, NULL, 'p'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"irq", required_argument, NULL, 'i'},
	    {"irq-config", required_argument, NULL, 'c'},
	    {"irq-sim", no_argument, NULL, 'S'},
	    {"vfio", required_argument, NULL, 'F'},
	    {"group", required_argument, NULL, 'g'},
	    {"group-creates", no_argument, NULL, 'G'},
	    {"limit", required_argument, NULL, 'l'},
	    {"mount", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:p:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			cli_socket_path(optarg, b->path, sizeof(b->path));
			break;
		case 'p':
			*pidpath = optarg;
			break;
		case 'v':
			*verbose = 1;
			break;
		case 'i':
			if (irq_configure(b, optarg) < 0)
				exit(2);
			break;
		case 'c':
			if (irq_configure_file(b, optarg) < 0)
				exit(2);
			break;
		case 'S':
			irq_simulate();
			break;
		case 'F':
			parse_vfio(optarg);
			break;
		case 'g':
			if (policy_group(b, optarg) < 0)
				cli_usage_error("--group %s: no such group",
						optarg);
			break;
		case 'G':
			b->group_creates = true;
			break;
		case 'l':
			if (policy_limit(b, optarg) < 0)
				cli_usage_error(
				    "--limit %s: want NAME=N, NAME one of "
				    "conns-per-uid, schemes-per-uid, "
				    "schemes, namespaces",
				    optarg);
			break;
		case 'M':
			*mount = optarg;
			break;
		case 'h':
			cli_help();
		case 'V':
			cli_version();
		default:
			cli_bad_option(argv, ch);
		}
	}
	if (optind != argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (b->group_creates && b->group == (gid_t)-1)
		cli_usage_error("--group-creates needs --group");
}

/* Why we cannot listen, said so that the user knows what to do. */
static const char *
listen_error(int r)
{
	if (r == -EADDRINUSE)
		return "another broker is answering there";
	if (r == -EACCES || r == -EPERM)
		return "permission denied: the socket there, or its "
		       "directory, is another user's; choose another path "
		       "with --socket or SCHEME_SOCKET";
	return strerror(-r);
}

static struct pidfh *
pidfile_start(const char *path)
{
	struct pidfh *pfh;
	pid_t other;

	if (path == NULL)
		return NULL;
	pfh = pidfile_open(path, 0600, &other);
	if (pfh == NULL) {
		if (errno == EEXIST)
			fatalx("already running as pid %d (%s)", (int)other,
			       path);
		fatalx("pidfile %s: %s", path, strerror(errno));
	}
	return pfh;
}

int
main(int argc, char **argv)
{
	static struct broker b;
	const char *pidpath = NULL, *mount = NULL;
	struct pidfh *pfh;
	int verbose = 0, r;

	br = &b;
	cli_init("schemed", usage_text);
	TAILQ_INIT(&b.conns);
	RB_INIT(&b.names);
	RB_INIT(&b.insts);
	RB_INIT(&b.pids);
	b.next_inst = INST_FIRST;
	ns_init(&b);
	policy_defaults(&b);
	parse_args(&b, argc, argv, &pidpath, &verbose, &mount);
	log_init("schemed", verbose);
	if (b.path[0] == '\0' &&
	    (sockpath_default(b.path, sizeof(b.path)) < 0 ||
	     sockpath_mkdir(b.path) < 0))
		fatalx("no usable socket path; give one with --socket");
	pfh = pidfile_start(pidpath);
	while (getrandom(&b.id, sizeof(b.id), 0) != sizeof(b.id) || b.id == 0)
		;
	nofile_raise(); /* the built-ins' caps are shares of it */
	b.ep = epoll_create1(EPOLL_CLOEXEC);
	if (b.ep < 0 || signals_init(&b) < 0)
		fatalx("setting up: %s", strerror(errno));
	epoch_init(&b); /* without one (logged), nothing else changes */
	if (!listen_systemd(&b) && (r = control_listen(&b)) < 0)
		fatalx("%s: %s", b.path, listen_error(r));
	if ((r = root_init(&b)) < 0)
		fatalx("root scheme: %s", strerror(-r));
	if ((r = time_init(&b)) < 0)
		fatalx("time: %s", strerror(-r));
	if ((r = irq_init(&b)) < 0)
		fatalx("irq: not started (%s)", strerror(-r));
	if (pfh != NULL)
		pidfile_write(pfh);
	log_info("listening on %s (broker %016llx)", b.path,
		 (unsigned long long)b.id);
	if ((r = view_start(&b, mount)) < 0)
		fatalx("--mount %s: %s", mount, strerror(-r));
	loop(&b);
	control_shutdown(&b);
	view_stop(); /* after: what it was serving fails at once */
	irq_free(&b);
	time_free(&b);
	root_free(&b);
	epoch_free(&b);
	if (pfh != NULL)
		pidfile_remove(pfh);
	log_info("stopped");
	return 0;
}
