/*
 * scheme-irqdrv - an example driver daemon in the Redox style: interrupts
 * from irq:, timeouts from time:, its own scheme, all in one event: queue.
 *
 *	schemerun scheme-irqdrv [--name NAME] [--timeout MS]
 *				[--model edu|e1000e] IRQ...
 *
 * Each IRQ is an irq: path ("irq:3", "irq:pci/0000:00:03.0/msi/0"); the
 * first is vector 0, the next vector 1, and so on.  It serves:
 *
 *	NAME:irq/V	reads block until vector V interrupts, then give
 *			"V N\n" (N: interrupts handled on V so far); one
 *			line per interrupt since the open.  ETIMEDOUT after
 *			--timeout ms (default 2000) without one.
 *	NAME:raise	writing "V" makes the device raise vector V
 *	NAME:stats	"V count C handled H timeouts T" per vector
 *
 * With --model the driver owns a device through the broker: it opens the
 * VFIO device fd through irq: ("irq:N/device"), maps BAR0, and on each
 * interrupt acknowledges the device before acking irq: -- the order INTx
 * needs (read the count, quiet the device, write the count back, which
 * unmasks the line).  QEMU's models:
 *
 *	edu	one vector (INTx or MSI): raise 0x60, status 0x24, ack 0x64
 *	e1000e	MSI-X: RxQ0 -> vector 0, TxQ0 -> vector 1 (IVAR); raise by
 *		ICS, ack by writing the cause to ICR (write 1 to clear)
 *
 * Without --model (irq: from schemed --irq-sim) there is no device to
 * raise or to quiet; `schemectl irq-raise N` raises the interrupts.
 *
 * It links with nothing but libc, so it asks the dynamic loader whether
 * the preload is there before it opens anything: without it, irq: and
 * event: would be missing files and ":NAME" an ordinary one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#ifndef SCHEME_VERSION /* the project's build sets it; a copy built apart */
#define SCHEME_VERSION "(unknown)"
#endif

#define MAX_VEC	    8
#define MAX_FILES   256
#define MAX_PENDING 256

enum model { NONE, EDU, E1000E };

enum { TOK_SCHEME = 1, TOK_TIME, TOK_STOP, TOK_IRQ }; /* + vector */

enum kind { F_IRQ = 1, F_RAISE, F_STATS };

struct vec {
	int fd;		  /* irq: */
	uint64_t count;	  /* irq:'s count, last read */
	uint64_t handled; /* interrupts acked */
	uint64_t timeouts;
};

struct file {
	enum kind kind;
	unsigned v;
	uint64_t seen; /* handled[v] already reported */
	char text[256];
	size_t len, pos;
	int nonblock;
};

struct pending { /* a read waiting for an interrupt */
	struct scheme_packet p;
	struct scheme_timespec deadline;
};

static struct vec vecs[MAX_VEC];
static unsigned nvec;
static struct file *files[MAX_FILES];
static struct pending pend[MAX_PENDING];
static unsigned npend;
static int sfd, tfd, stop_pipe[2];
static long timeout_ms = 2000;
static enum model model;
static volatile uint32_t *bar0;

/* The device ------------------------------------------------------------ */

#define EDU_ID	   0x00
#define EDU_STATUS 0x24
#define EDU_RAISE  0x60
#define EDU_ACK	   0x64
#define E_ICR	   0xC0
#define E_ICS	   0xC8
#define E_IMS	   0xD0
#define E_IMC	   0xD8
#define E_IVAR	   0xE4
#define E_RXQ0	   0x00100000u
#define E_TXQ0	   0x00400000u

static uint32_t
rd(unsigned off)
{
	return bar0[off / 4];
}

static void
wr(unsigned off, uint32_t val)
{
	bar0[off / 4] = val;
}

/* The VFIO device, from the broker that owns it, and its BAR0 mapped. */
static int
device_open(const char *irq)
{
	struct vfio_region_info r = {.argsz = sizeof(r),
				     .index = VFIO_PCI_BAR0_REGION_INDEX};
	struct vfio_region_info cfg = {.argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint16_t id[2];
	char path[128];
	const char *p;
	void *m;
	int fd;

	/* irq:N -> irq:N/device; irq:pci/BDF/... -> irq:pci/BDF/device */
	if (strncmp(irq, "irq:pci/", 8) == 0 &&
	    (p = strchr(irq + 8, '/')) != NULL)
		snprintf(path, sizeof(path), "%.*s/device", (int)(p - irq),
			 irq);
	else
		snprintf(path, sizeof(path), "%s/device", irq);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		fprintf(stderr, "scheme-irqdrv: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	/* Config space: pread/pwrite at the region's offset. */
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) < 0 ||
	    pread(fd, id, sizeof(id), (off_t)cfg.offset) != sizeof(id)) {
		fprintf(stderr, "scheme-irqdrv: %s: no config space\n", path);
		return -1;
	}
	/* BAR0: mapped. */
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &r) < 0 ||
	    !(r.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		fprintf(stderr, "scheme-irqdrv: %s: BAR0 cannot be mapped\n",
			path);
		return -1;
	}
	m = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)r.offset);
	if (m == MAP_FAILED) {
		perror("scheme-irqdrv: mmap BAR0");
		return -1;
	}
	bar0 = m;
	fprintf(stderr,
		"scheme-irqdrv: %s: device %04x:%04x, BAR0 %llu bytes\n", path,
		id[0], id[1], (unsigned long long)r.size);
	return 0;
}

static int
device_init(void)
{
	if (model == EDU) {
		wr(4, 0x12345678); /* liveness: reads back inverted */
		if ((rd(EDU_ID) & 0xffff) != 0x00ed || rd(4) != ~0x12345678u) {
			fprintf(stderr, "scheme-irqdrv: not an edu device\n");
			return -1;
		}
	} else if (model == E1000E) {
		wr(E_IMC, 0xffffffff);
		wr(E_IVAR, 0x8 | (0x9 << 8)); /* RxQ0 -> 0, TxQ0 -> 1, valid */
		wr(E_IMS, E_RXQ0 | E_TXQ0);
	}
	return 0;
}

static int64_t
device_raise(unsigned v)
{
	if (model == EDU && v == 0)
		wr(EDU_RAISE, 1);
	else if (model == E1000E && v < 2)
		wr(E_ICS, v == 0 ? E_RXQ0 : E_TXQ0);
	else
		return model == NONE ? -ENODEV : -EINVAL;
	return 0;
}

/* Quiet the device's cause for vector v, before the irq: ack. */
static void
device_ack(unsigned v)
{
	if (model == EDU)
		wr(EDU_ACK, rd(EDU_STATUS));
	else if (model == E1000E)
		wr(E_ICR, v == 0 ? E_RXQ0 : E_TXQ0);
}

/* Time ------------------------------------------------------------------ */

static struct scheme_timespec
now(void)
{
	struct scheme_timespec t = {0, 0};

	if (read(tfd, &t, sizeof(t)) != sizeof(t))
		perror("scheme-irqdrv: time:");
	return t;
}

static int
ts_le(const struct scheme_timespec *a, const struct scheme_timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

/* Answers ---------------------------------------------------------------- */

static void
answer(struct scheme_packet *p, int64_t result)
{
	p->a = (uint64_t)result;
	if (write(sfd, p, sizeof(*p)) != sizeof(*p))
		perror("scheme-irqdrv: answer");
}

static void
post(uint64_t handle)
{
	struct scheme_packet p = {
	    .a = SYS_FEVENT, .b = handle, .c = EVENT_READ};

	if (write(sfd, &p, sizeof(p)) != sizeof(p))
		perror("scheme-irqdrv: post");
}

/* What a file of vector v has to say now: a line per new interrupt. */
static void
refill(struct file *f)
{
	struct vec *v = &vecs[f->v];
	int n;

	while (f->pos == f->len && f->seen < v->handled) {
		f->seen++;
		n = snprintf(f->text, sizeof(f->text), "%u %llu\n", f->v,
			     (unsigned long long)f->seen);
		f->len = (size_t)n;
		f->pos = 0;
	}
}

static int64_t
take(struct file *f, const struct scheme_packet *p)
{
	size_t n = f->len - f->pos;

	if (f->kind == F_IRQ)
		refill(f);
	n = f->len - f->pos;
	if (n > p->d)
		n = p->d;
	memcpy((void *)(uintptr_t)p->c, f->text + f->pos, n);
	f->pos += n;
	return (int64_t)n;
}

/* Complete the reads waiting on vector v (or, at a deadline, time out). */
static void
wake(int vec, const struct scheme_timespec *t)
{
	unsigned i = 0;

	while (i < npend) {
		struct pending *w = &pend[i];
		struct file *f = files[w->p.b];

		refill(f);
		if (f->pos < f->len && (vec < 0 || (unsigned)vec == f->v)) {
			answer(&w->p, take(f, &w->p));
		} else if (t != NULL && ts_le(&w->deadline, t)) {
			vecs[f->v].timeouts++;
			answer(&w->p, -ETIMEDOUT);
		} else {
			i++;
			continue;
		}
		pend[i] = pend[--npend];
	}
}

/* Requests -------------------------------------------------------------- */

static int64_t
do_open(const struct scheme_packet *p)
{
	const char *path = (const char *)(uintptr_t)p->b;
	struct file *f;
	unsigned long v = 0;
	char *end = NULL;
	int64_t h;
	enum kind k;

	if (strncmp(path, "irq/", 4) == 0) {
		v = strtoul(path + 4, &end, 10);
		if (end == path + 4 || *end != '\0' || v >= nvec)
			return -ENOENT;
		k = F_IRQ;
	} else if (strcmp(path, "raise") == 0) {
		k = F_RAISE;
	} else if (strcmp(path, "stats") == 0) {
		k = F_STATS;
	} else {
		return -ENOENT;
	}
	for (h = 0; h < MAX_FILES && files[h] != NULL; h++)
		;
	if (h == MAX_FILES || (f = calloc(1, sizeof(*f))) == NULL)
		return -EMFILE;
	f->kind = k;
	f->v = (unsigned)v;
	f->seen = vecs[v].handled;
	f->nonblock = (p->d & O_NONBLOCK) != 0;
	if (k == F_STATS) {
		for (v = 0; v < nvec && f->len < sizeof(f->text); v++)
			f->len += (size_t)snprintf(
			    f->text + f->len, sizeof(f->text) - f->len,
			    "%lu count %llu handled %llu timeouts %llu\n", v,
			    (unsigned long long)vecs[v].count,
			    (unsigned long long)vecs[v].handled,
			    (unsigned long long)vecs[v].timeouts);
		if (f->len > sizeof(f->text))
			f->len = sizeof(f->text);
	}
	files[h] = f;
	return h;
}

static int64_t
do_read(struct file *f, struct scheme_packet *p, int *defer)
{
	struct scheme_timespec t;

	if (f->kind == F_RAISE)
		return -EBADF;
	if (f->kind == F_STATS)
		return take(f, p);
	refill(f);
	if (f->pos < f->len || p->d == 0)
		return take(f, p);
	if (f->nonblock)
		return -EAGAIN;
	if (npend == MAX_PENDING)
		return -EAGAIN;
	/* Wait, with a deadline on time: */
	t = now();
	t.tv_sec += timeout_ms / 1000;
	t.tv_nsec += (int32_t)(timeout_ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	if (write(tfd, &t, sizeof(t)) != sizeof(t))
		return -errno;
	pend[npend].p = *p;
	pend[npend++].deadline = t;
	*defer = 1;
	return 0;
}

static int64_t
do_write(struct file *f, const struct scheme_packet *p)
{
	char buf[16];
	size_t n = p->d < sizeof(buf) - 1 ? p->d : sizeof(buf) - 1;
	unsigned long v;
	char *end;
	int64_t r;

	if (f->kind != F_RAISE)
		return -EBADF;
	memcpy(buf, (const void *)(uintptr_t)p->c, n);
	buf[n] = '\0';
	v = strtoul(buf, &end, 10);
	if (end == buf || v >= nvec)
		return -EINVAL;
	if ((r = device_raise((unsigned)v)) < 0)
		return r;
	return (int64_t)p->d;
}

static int64_t
do_close(uint64_t h)
{
	unsigned i = 0;

	while (i < npend) { /* its waits end with it */
		if (pend[i].p.b == h) {
			answer(&pend[i].p, -EBADF);
			pend[i] = pend[--npend];
		} else {
			i++;
		}
	}
	free(files[h]);
	files[h] = NULL;
	return 0;
}

static int64_t
dispatch(struct scheme_packet *p, int *defer)
{
	struct file *f;

	if (p->a == SYS_OPEN)
		return do_open(p);
	if (p->b >= MAX_FILES || (f = files[p->b]) == NULL)
		return -EBADF;
	switch (p->a) {
	case SYS_CLOSE:
		return do_close(p->b);
	case SYS_READ:
		return do_read(f, p, defer);
	case SYS_WRITE:
		return do_write(f, p);
	case SYS_FEVENT:
		if (f->kind == F_IRQ)
			refill(f);
		return f->pos < f->len ? EVENT_READ : 0;
	case SYS_FSTAT:
		((struct stat *)(uintptr_t)p->c)->st_mode = S_IFCHR | 0600;
		return 0;
	case SYS_FCNTL:
		return 0;
	default:
		return -ENOSYS;
	}
}

static int
serve_requests(void)
{
	static struct scheme_packet pkts[32];
	ssize_t n, i;

	for (;;) {
		n = read(sfd, pkts, sizeof(pkts));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1; /* the scheme is gone */
		for (i = 0; i < n / (ssize_t)sizeof(pkts[0]); i++) {
			int defer = 0;
			int64_t r = dispatch(&pkts[i], &defer);

			if (!defer)
				answer(&pkts[i], r);
		}
	}
}

/* An interrupt: count, quiet the device, ack irq:, wake the readers. */
static void
interrupt(unsigned v)
{
	struct vec *x = &vecs[v];
	uint64_t count;
	ssize_t n;
	unsigned h;

	for (;;) {
		n = read(x->fd, &count, sizeof(count));
		if (n != sizeof(count))
			return; /* 0: nothing new since our ack */
		x->count = count;
		device_ack(v);
		if (write(x->fd, &count, sizeof(count)) == sizeof(count))
			break;
		/* 0: it fired again meanwhile; take that one too */
	}
	x->handled++;
	wake((int)v, NULL);
	for (h = 0; h < MAX_FILES; h++)
		if (files[h] != NULL && files[h]->kind == F_IRQ &&
		    files[h]->v == v)
			post(h);
}

static void
on_signal(int sig)
{
	(void)sig;
	if (write(stop_pipe[1], "x", 1) < 0) {
		/* nothing to do: a stop is already on its way */
	}
}

static int
loop(int q)
{
	struct scheme_event ev[16];
	struct scheme_timespec t;
	ssize_t n, i;

	for (;;) {
		n = read(q, ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			switch (ev[i].data) {
			case TOK_STOP:
				return 0;
			case TOK_SCHEME:
				if (serve_requests() < 0)
					return 0;
				break;
			case TOK_TIME:
				t = now();
				wake(-1, &t);
				break;
			default:
				interrupt((unsigned)(ev[i].data - TOK_IRQ));
			}
		}
	}
}

static const char usage_text[] =
    "usage: scheme-irqdrv [--name NAME] [--timeout MS] [--model edu|e1000e] "
    "IRQ...\n"
    "\n"
    "A driver in the Redox style: serve NAME: (default irqdrv) from the\n"
    "interrupts of each IRQ (an irq: path, as irq:3), vector 0 first.\n"
    "Run it under schemerun.\n"
    "\n"
    "  -n, --name NAME     the scheme to serve\n"
    "  -t, --timeout MS    reads of NAME:irq/V give up after MS ms\n"
    "                      (default 2000)\n"
    "  -m, --model MODEL   own a QEMU device through irq:: edu or e1000e\n"
    "  -h, --help          print this and exit\n"
    "  -V, --version       print the version and exit\n";

/* What is wrong, in one line, and exit status 2. */
static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("scheme-irqdrv: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see 'scheme-irqdrv --help')\n", stderr);
	va_end(ap);
	exit(2);
}

/*
 * What getopt_long() refused (opterr is 0: no message of its own).  optopt
 * is 0 for an unknown long option, else the letter: of an unknown short
 * one, or of a long one given a value it does not take ("--help=x").
 */
static void
bad_option(char **argv, int ch, const struct option *opts)
{
	const char *arg = argv[optind - 1], *eq = strchr(arg, '=');

	if (ch == ':')
		usage_error("option '%s' needs a value", arg);
	if (optopt == 0)
		usage_error("unknown option '%s'", arg);
	for (; eq != NULL && strncmp(arg, "--", 2) == 0 && opts->name; opts++)
		if (opts->val == optopt &&
		    strncmp(opts->name, arg + 2, (size_t)(eq - arg - 2)) == 0)
			usage_error("option '--%s' takes no value", opts->name);
	usage_error("unknown option '-%c'", optopt);
}

static void
parse_args(int argc, char **argv, const char **name)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {"model", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":n:t:m:hV", opts, NULL)) != -1) {
		if (ch == 'n') {
			*name = optarg;
		} else if (ch == 't') {
			errno = 0;
			timeout_ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || timeout_ms <= 0)
				usage_error("--timeout: '%s' is not a number "
					    "of milliseconds",
					    optarg);
		} else if (ch == 'm') {
			if (strcmp(optarg, "edu") == 0)
				model = EDU;
			else if (strcmp(optarg, "e1000e") == 0)
				model = E1000E;
			else
				usage_error(
				    "--model: '%s' is not edu or e1000e",
				    optarg);
		} else if (ch == 'h' || ch == 'V') {
			if (ch == 'h')
				fputs(usage_text, stdout);
			else
				printf("scheme-irqdrv (scheme) %s\n",
				       SCHEME_VERSION);
			exit(fflush(stdout) == 0 ? 0 : 1);
		} else {
			bad_option(argv, ch, opts);
		}
	}
	if (optind == argc)
		usage_error("an IRQ is needed, as irq:3");
	if (argc - optind > MAX_VEC)
		usage_error("%d IRQs, at most %d", argc - optind, MAX_VEC);
}

int
main(int argc, char **argv)
{
	struct scheme_event reg[3 + MAX_VEC];
	const char *name = "irqdrv";
	char path[80];
	int q, r;
	unsigned i;

	parse_args(argc, argv, &name);
	/* The preload defines getns; nothing else in this process does. */
	if (dlsym(RTLD_DEFAULT, "getns") == NULL) {
		fprintf(stderr, "scheme-irqdrv: schemes need the preload: "
				"run it as 'schemerun scheme-irqdrv'\n");
		return 1;
	}

	/* Everything the driver needs, opened first: a Redox driver then
	 * enters the null namespace and can open nothing more. */
	for (i = 0; optind < argc; i++, optind++) {
		vecs[i].fd =
		    open(argv[optind], O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (vecs[i].fd < 0) {
			fprintf(stderr, "scheme-irqdrv: %s: %s\n", argv[optind],
				strerror(errno));
			return 1;
		}
	}
	nvec = i;
	if (model != NONE &&
	    (device_open(argv[argc - (int)nvec]) < 0 || device_init() < 0))
		return 1;
	tfd = open("time:4", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	q = open("event:", O_RDWR | O_CLOEXEC);
	if ((size_t)snprintf(path, sizeof(path), ":%s", name) >= sizeof(path))
		usage_error("--name: '%s' is too long", name);
	sfd = open(path, O_CREAT | O_RDWR | O_NONBLOCK | O_CLOEXEC, 0600);
	if (tfd < 0 || q < 0 || sfd < 0 || pipe2(stop_pipe, O_CLOEXEC) < 0) {
		perror("scheme-irqdrv: time:, event: or the scheme");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	reg[0] = (struct scheme_event){(uint64_t)sfd, EVENT_READ, TOK_SCHEME};
	reg[1] = (struct scheme_event){(uint64_t)tfd, EVENT_READ, TOK_TIME};
	reg[2] =
	    (struct scheme_event){(uint64_t)stop_pipe[0], EVENT_READ, TOK_STOP};
	for (i = 0; i < nvec; i++)
		reg[3 + i] = (struct scheme_event){(uint64_t)vecs[i].fd,
						   EVENT_READ, TOK_IRQ + i};
	if (write(q, reg, (3 + nvec) * sizeof(reg[0])) < 0) {
		perror("scheme-irqdrv: event:");
		return 1;
	}
	for (i = 0; i < nvec; i++) /* what fired before we listened */
		interrupt(i);
	r = loop(q);
	for (i = 0; i < MAX_FILES; i++)
		free(files[i]);
	for (i = 0; i < nvec; i++)
		close(vecs[i].fd);
	close(q);
	close(sfd);
	close(tfd);
	return r;
}
