/*
 * scheme-fuse - a kernel-visible view of the schemes, through FUSE.
 *
 *	scheme-fuse [-f] [--cache SECONDS] [-d] DIR
 *
 * DIR/NAME/PATH is /scheme/NAME/PATH, with the same contents and
 * metadata, and DIR lists the schemes this process sees (as ":" does),
 * for any program at all: static ones, set-user-ID ones, Go's, io_uring,
 * a shell's execve.  The daemon runs under the preload (`schemectl mount
 * DIR`, `schemed --mount DIR`, or `schemerun scheme-fuse DIR`) and
 * serves each FUSE request with the same POSIX call on the /scheme path,
 * so a provider sees the daemon's user, in the daemon's namespace.
 *
 * Who may use the mount.  Only the user who mounted it (FUSE's default,
 * without allow_other): the view acts with its own user's credentials,
 * so letting another user in would let them act as this one.  Mode bits
 * are not checked by the kernel (no default_permissions): what the
 * provider answers is what the caller gets, as through the preload.  The
 * mount is nosuid and nodev.
 *
 * Coherence (view_file.c has the details).  Names and attributes are
 * cached by the kernel for --cache seconds (default 1); a name that is
 * not there is never cached.  Regular files go through the page cache,
 * written through to the provider at once; an open drops the cached
 * pages if the file changed since the kernel last saw it (close-to-open).
 *
 * Threads.  libfuse's multi-threaded loop: a request that waits (a read
 * of a fifo, which a provider answers when data comes) must not stop the
 * others, and the preload gives each thread its own channel, so requests
 * to different providers, or to one provider with several threads, run
 * at once.
 *
 * Lifetime.  The daemon detaches once DIR is mounted (not with -f) and
 * lives until DIR is unmounted (`schemectl umount DIR`, fusermount3 -u,
 * umount), until SIGTERM, SIGINT or SIGHUP, or until the broker stops:
 * it keeps a connection to the broker for that, and unmounts when the
 * broker closes it.  The mount is made with auto_unmount, so that even a
 * daemon killed with SIGKILL leaves no dead mount: fusermount3 watches
 * it and unmounts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/wire/sockpath.h"
#include "cli.h"
#include "view.h"
#include "viewctl.h"

struct view view = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .timeout = 1.0,
};

static const char usage_text[] =
    "usage: scheme-fuse [OPTIONS] DIR\n"
    "Mount a view of the schemes at DIR through FUSE: DIR/NAME/PATH is\n"
    "/scheme/NAME/PATH for every program, and DIR lists the schemes.\n"
    "Run it under the preload: `schemectl mount DIR` does, as does\n"
    "`schemerun scheme-fuse DIR`.\n"
    "\n"
    "  -f, --foreground     stay in the foreground (default: detach\n"
    "                       once mounted)\n"
    "  -c, --cache SECONDS  how long the kernel may keep names and\n"
    "                       attributes (default 1; 0: ask every time)\n"
    "  -d, --debug          trace every request on stderr (implies -f)\n"
    "  -h, --help           print this and exit\n"
    "  -V, --version        print the version and exit\n"
    "\n"
    "It stops when DIR is unmounted (schemectl umount DIR), on SIGTERM,\n"
    "or when the broker stops.  Exit status: 0 unmounted, 1 could not\n"
    "mount or serve, 2 usage.  See scheme-fuse(1).\n";

struct opts {
	int foreground, debug;
	char dir[PATH_MAX];
};

static double
parse_seconds(const char *arg)
{
	char *end;
	double s = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(s >= 0 && s <= 86400))
		cli_usage_error("--cache %s: want seconds, 0 to 86400", arg);
	return s;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"cache", required_argument, NULL, 'c'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":fc:dhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->foreground = 1;
			break;
		case 'c':
			view.timeout = parse_seconds(optarg);
			break;
		case 'd':
			o->debug = o->foreground = 1;
			break;
		case 'h':
			cli_help();
		case 'V':
			cli_version();
		default:
			cli_bad_option(argv, ch);
		}
	}
	if (optind != argc - 1)
		cli_usage_error(optind == argc ? "a directory to mount on is "
						 "needed"
					       : "unexpected argument '%s'",
				argv[optind + (optind < argc)]);
	if (realpath(argv[optind], o->dir) == NULL) {
		fprintf(stderr, "scheme-fuse: %s: %s\n", argv[optind],
			strerror(errno));
		exit(1);
	}
	if (viewctl_mounted(o->dir)) {
		fprintf(stderr,
			"scheme-fuse: %s: a view is mounted there "
			"already\n",
			o->dir);
		exit(1);
	}
}

static pthread_t main_thread;
static int broker_fd = -1;

/*
 * The broker's connection closes when it stops (or dies): then unmount,
 * by the same path as SIGTERM (libfuse's handler ends the loop; the
 * signal is sent to the main thread, which waits for the loop's end).
 */
static void *
watch_broker(void *arg)
{
	struct pollfd p = {broker_fd, POLLIN, 0};
	char buf[256];
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, -1) < 0 && errno == EINTR)
			continue;
		n = recv(broker_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && errno == EAGAIN))
			continue; /* nothing is expected; nothing is lost */
		break;
	}
	fprintf(stderr, "scheme-fuse: the broker stopped: unmounting %s\n",
		(const char *)arg);
	pthread_kill(main_thread, SIGTERM);
	return NULL;
}

static void
watch_start(const char *dir)
{
	pthread_t t;
	sigset_t set, old;

	if (broker_fd < 0)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	main_thread = pthread_self();
	pthread_sigmask(SIG_BLOCK, &set, &old); /* the thread inherits it */
	if (pthread_create(&t, NULL, watch_broker, (void *)dir) == 0)
		pthread_detach(t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The broker answers (the preload reaches it), and a connection to it. */
static int
broker_check(void)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	if (sockpath_default(path, sizeof(path)) < 0)
		path[0] = '\0';
	if (stat(VIEW_TOP, &st) < 0) {
		fprintf(stderr, "scheme-fuse: no broker answers at %s (%s)\n",
			path, strerror(errno));
		return -1;
	}
	broker_fd = sockpath_connect(path);
	if (broker_fd < 0)
		fprintf(stderr,
			"scheme-fuse: %s: %s: the view will not see the "
			"broker stop, and lives until unmounted\n",
			path, strerror(-broker_fd));
	return 0;
}

/*
 * fusermount3 (auto_unmount) unmounts a view whose daemon died when its
 * socket to the daemon closes, if opening the mount point then fails
 * with ENOTCONN: the connection is gone.  A dying process's files are
 * released highest fd first (their last references are dropped as task
 * work, which runs newest first), and libfuse's socket is above
 * /dev/fuse's fd: it was released first, fusermount3's open could reach
 * the connection before its end (ECONNABORTED), and the mount stayed, dead
 * (about 1 in 60 daemons killed, in the sanitizer build).  So the socket
 * is moved below /dev/fuse's fd, onto a placeholder taken before the
 * mount (reserve); it is the only stream socket we hold (the preload's
 * channels and the broker's connection are SOCK_SEQPACKET).
 */
static void
watcher_below(struct fuse_session *se, int reserve)
{
	int dev = fuse_session_fd(se), fd, type;
	socklen_t len;

	for (fd = dev + 1; reserve >= 0 && reserve < dev && fd < dev + 64;
	     fd++) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM)
			continue;
		if (dup3(fd, reserve, O_CLOEXEC) == reserve) {
			close(fd);
			return;
		}
		break;
	}
	if (reserve >= 0)
		close(reserve);
}

/*
 * The mount's options.  Its source is "scheme:" and the broker's socket,
 * so that schemerun can find the view of its broker in mountinfo;
 * fuse_opt takes a backslash before a comma or a backslash as literal.
 */
static int
mount_options(char *buf, size_t len)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t n = 0;
	const char *p;

	if (sockpath_default(path, sizeof(path)) < 0)
		path[0] = '\0';
	n = (size_t)snprintf(buf, len, "fsname=scheme:");
	for (p = path; *p != '\0' && n + 2 < len; p++) {
		if (*p == ',' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	return snprintf(buf + n, len - n,
			",subtype=scheme,nosuid,nodev,auto_unmount") <
		       (int)(len - n)
		   ? 0
		   : -ENAMETOOLONG;
}

static struct fuse_session *
session_new(const struct opts *o)
{
	static char name[] = "scheme-fuse", o_flag[] = "-o", d_flag[] = "-d";
	static char mopts[512];
	char *argv[] = {name, o_flag, mopts, d_flag, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(o->debug ? 4 : 3, argv);
	struct fuse_session *se;

	if (mount_options(mopts, sizeof(mopts)) < 0)
		return NULL;
	se = fuse_session_new(&args, &view_ops, sizeof(view_ops), NULL);
	fuse_opt_free_args(&args); /* it may have copied them */
	return se;
}

static int
serve(struct fuse_session *se)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	if (cfg == NULL)
		return -ENOMEM;
	r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct fuse_session *se;
	int r, reserve;

	memset(&o, 0, sizeof(o));
	cli_init("scheme-fuse", usage_text);
	parse_args(argc, argv, &o);
	if (!scheme_preloaded()) {
		fprintf(stderr, "scheme-fuse: the preload is not in this "
				"process: start it with `schemectl mount DIR` "
				"or `schemerun scheme-fuse DIR`\n");
		return 1;
	}
	/*
	 * fusermount3, which libfuse runs to mount and unmount, needs no
	 * schemes: empty, not unset, which the preload's exec would restore.
	 */
	setenv("LD_PRELOAD", "", 1);
	umask(0); /* the kernel has applied the caller's */
	view.uid = geteuid();
	view.gid = getegid();
	view.root.linked = true;
	view.mnt = o.dir;
	LIST_INIT(&view.root.files);
	if (broker_check() < 0 || view_interrupts_init() < 0)
		return 1;
	if ((se = session_new(&o)) == NULL)
		return 1;
	view.se = se;
	reserve = open("/dev/null", O_RDONLY | O_CLOEXEC); /* watcher_below */
	if (fuse_set_signal_handlers(se) < 0 ||
	    fuse_session_mount(se, o.dir) < 0) {
		fprintf(stderr, "scheme-fuse: %s: mounting failed\n", o.dir);
		fuse_session_destroy(se);
		return 1;
	}
	if (fuse_daemonize(o.foreground) < 0)
		return 1;
	watcher_below(se, reserve);
	watch_start(o.dir);
	r = serve(se);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return r < 0 ? 1 : 0;
}
