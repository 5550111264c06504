/*
 * irq.c - the irq: scheme, as Redox's (src/scheme/irq.rs), on VFIO.
 *
 *	irq:N			the vector numbered N when the broker started
 *				(schemed --irq N=pci/BDF/TYPE/VEC, or
 *				--irq-config FILE; --irq-sim: N < 16)
 *	irq:pci/BDF/TYPE/VEC	the same, named directly; TYPE is intx, msi
 *				or msix
 *	irq:pci/BDF/device	the VFIO device itself: the open gives the
 *	irq:N/device		caller a dup of the broker's device fd, for
 *				its BARs (mmap) and config space (pread)
 *
 * Reading gives the vector's interrupt count (8 bytes, native u64) when it
 * changed since this file's last ack, else 0 bytes; writing that count
 * acks it (8; any other count: 0) and, for INTx, unmasks the line.  Each
 * interrupt posts EVENT_READ to every open file of the vector.  A buffer
 * under 8 bytes: EINVAL.  As on Redox only root may open irq: -- here, root
 * or the broker's own user.
 *
 * The simulator (--irq-sim) is INTx-like: a vector is masked from firing
 * until acked; a raise while masked is held (the line stays asserted) and
 * fires on the ack.  `schemectl irq-raise N` raises it; on a VFIO vector
 * it asks VFIO to signal the eventfd (its loopback), so a driver's path
 * can be exercised without the device.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../proto/serve/slots.h"
#include "irq.h"
#include "log.h"

#define IRQ_NUMBERS 256 /* irq:0 .. irq:255 may be configured */
#define IRQ_SIM	    16

struct irqfile {
	struct irq_vec *v;
	uint64_t key;
	uint64_t acked;
	TAILQ_ENTRY(irqfile) link;
};

struct irq_config {
	char *spec[IRQ_NUMBERS]; /* as given, until irq_init */
	struct irq_vec *byno[IRQ_NUMBERS];
	struct irq_vec sim[IRQ_SIM];
	bool simulate;
};

static struct irq_config cfg;
static struct slots files;
static struct builtin *self;

static int64_t irq_handle(struct broker *b, struct builtin *bi,
			  const struct scheme_packet *p);

static const char *const type_names[IRQ_NTYPES] = {"intx", "msi", "msix"};

/* "pci/BDF/TYPE/VEC" (or "pci/BDF/device": *type = -1). */
static int
parse_direct(const char *s, char *bdf, size_t len, int *type, unsigned *vec)
{
	const char *p, *q;
	char *end;
	int t;

	if (strncmp(s, "pci/", 4) != 0)
		return -ENOENT;
	p = s + 4;
	if ((q = strchr(p, '/')) == NULL || (size_t)(q - p) >= len || q == p)
		return -ENOENT;
	memcpy(bdf, p, (size_t)(q - p));
	bdf[q - p] = '\0';
	q++;
	if (strcmp(q, "device") == 0) {
		*type = -1;
		return 0;
	}
	for (t = 0; t < IRQ_NTYPES; t++) {
		size_t n = strlen(type_names[t]);

		if (strncmp(q, type_names[t], n) == 0 && q[n] == '/') {
			if (!isdigit((unsigned char)q[n + 1]))
				return -ENOENT;
			errno = 0;
			unsigned long v = strtoul(q + n + 1, &end, 10);
			if (*end != '\0' || errno != 0 || v > 2048)
				return -ENOENT;
			*type = t;
			*vec = (unsigned)v;
			return 0;
		}
	}
	return -ENOENT;
}

/* --irq N=pci/BDF/TYPE/VEC: checked now, the device opened at start. */
int
irq_configure(struct broker *b, const char *spec)
{
	char bdf[16], *end;
	unsigned long n;
	unsigned vec;
	int type;

	(void)b;
	errno = 0;
	n = strtoul(spec, &end, 10);
	if (end == spec || *end != '=' || errno != 0 || n >= IRQ_NUMBERS) {
		log_warnx("--irq %s: want N=pci/BDF/TYPE/VEC with N < %d", spec,
			  IRQ_NUMBERS);
		return -EINVAL;
	}
	if (parse_direct(end + 1, bdf, sizeof(bdf), &type, &vec) < 0 ||
	    type < 0) {
		log_warnx("--irq %s: want N=pci/BDF/TYPE/VEC, TYPE intx, msi "
			  "or msix (e.g. 3=pci/0000:00:03.0/msi/0)",
			  spec);
		return -EINVAL;
	}
	if (cfg.spec[n] != NULL) {
		log_warnx("--irq %s: irq %lu is configured twice", spec, n);
		return -EINVAL;
	}
	cfg.spec[n] = strdup(end + 1);
	return cfg.spec[n] != NULL ? 0 : -ENOMEM;
}

void
irq_simulate(void)
{
	cfg.simulate = true;
}

/* --irq-config FILE: one N=pci/BDF/TYPE/VEC per line; # comments. */
int
irq_configure_file(struct broker *b, const char *path)
{
	char line[256], *s, *e;
	int r = 0, no = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		log_warnx("--irq-config %s: %s", path, strerror(errno));
		return -errno;
	}
	while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
		no++;
		if ((e = strchr(line, '#')) != NULL)
			*e = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		if (*s != '\0' && (r = irq_configure(b, s)) < 0)
			log_warnx("%s:%d: not used", path, no);
	}
	fclose(f);
	return r;
}

static struct irq_vec *
direct_vec(struct broker *b, const char *bdf, int type, unsigned vec)
{
	struct vfio_dev *d = vfio_dev_get(b, bdf);

	return d != NULL ? vfio_vec_get(b, d, (enum irq_type)type, vec) : NULL;
}

/* Opens the configured devices: a wrong one stops the broker at start. */
int
irq_init(struct broker *b)
{
	char bdf[16];
	unsigned vec, n;
	int type;

	if (cfg.simulate) {
		for (n = 0; n < IRQ_SIM; n++) {
			if (cfg.spec[n] != NULL) {
				log_warnx("--irq %u: with --irq-sim, irq 0-15 "
					  "are the simulator's",
					  n);
				return -EINVAL;
			}
			cfg.sim[n].index = n;
			cfg.sim[n].src.fd = -1;
			TAILQ_INIT(&cfg.sim[n].files);
			cfg.byno[n] = &cfg.sim[n];
		}
	}
	for (n = 0; n < IRQ_NUMBERS; n++) {
		if (cfg.spec[n] == NULL)
			continue;
		parse_direct(cfg.spec[n], bdf, sizeof(bdf), &type, &vec);
		if ((cfg.byno[n] = direct_vec(b, bdf, type, vec)) == NULL) {
			log_warnx("irq %u: %s", n, vfio_error());
			return -errno;
		}
		free(cfg.spec[n]);
		cfg.spec[n] = NULL;
	}
	self = &b->irq;
	b->irq.handle = irq_handle;
	return builtin_start(b, &b->irq, "irq", INST_IRQ);
}

/* Post to every open file of the vector. */
void
irq_vec_fired(struct irq_vec *v, uint64_t n)
{
	struct irqfile *f;

	v->count += n;
	TAILQ_FOREACH(f, &v->files, link)
	builtin_post(self, f->key, EVENT_READ);
}

void
irq_fire(struct broker *b, struct src *src)
{
	(void)b;
	vfio_read((struct irq_vec *)src);
}

static void
sim_fire(struct irq_vec *v)
{
	v->masked = true;
	irq_vec_fired(v, 1);
}

/* schemectl irq-raise N */
int
irq_raise(struct broker *b, uint64_t n)
{
	struct irq_vec *v;

	(void)b;
	if (n >= IRQ_NUMBERS || (v = cfg.byno[n]) == NULL)
		return -ENOENT;
	if (v->dev != NULL)
		return vfio_trigger(v);
	if (v->masked)
		v->asserted = true; /* held until the ack */
	else
		sim_fire(v);
	return 0;
}

static int64_t
open_device(struct broker *b, const struct scheme_packet *p, struct vfio_dev *d)
{
	(void)b;
	serve_answer_fd(self->scheme.builtin, p, vfio_dev_fd(d));
	return BUILTIN_ANSWERED;
}

static int64_t
irq_open(struct broker *b, const struct scheme_packet *p)
{
	const char *path = (const char *)(uintptr_t)p->b;
	struct irq_vec *v = NULL;
	struct irqfile *f;
	char bdf[16], *end;
	unsigned long n;
	unsigned vec;
	int type, r;

	if (p->uid != 0 && p->uid != geteuid())
		return -EACCES;
	while (*path == '/')
		path++;
	if (*path == '\0')
		return -EISDIR;
	if (isdigit((unsigned char)*path)) {
		errno = 0;
		n = strtoul(path, &end, 10);
		if (errno != 0 || n >= IRQ_NUMBERS || cfg.byno[n] == NULL)
			return -ENOENT;
		v = cfg.byno[n];
		if (strcmp(end, "/device") == 0)
			return v->dev != NULL ? open_device(b, p, v->dev)
					      : -ENODEV;
		if (*end != '\0')
			return -ENOENT;
	} else {
		if ((r = parse_direct(path, bdf, sizeof(bdf), &type, &vec)) < 0)
			return r;
		if (type < 0) {
			struct vfio_dev *d = vfio_dev_get(b, bdf);

			if (d == NULL) {
				log_warnx("irq:%s: %s", path, vfio_error());
				return -errno;
			}
			return open_device(b, p, d);
		}
		if ((v = direct_vec(b, bdf, type, vec)) == NULL) {
			log_warnx("irq:%s: %s", path, vfio_error());
			return -errno;
		}
	}
	if (v->dev != NULL && v->nfiles == 0 && (r = vfio_vec_start(v)) < 0)
		return r;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->key = slots_put(&files, f)) == 0) {
		free(f);
		if (v->dev != NULL && v->nfiles == 0)
			vfio_vec_stop(v);
		return -ENOMEM;
	}
	f->v = v;
	f->acked = v->count; /* what came before is not this file's news */
	TAILQ_INSERT_TAIL(&v->files, f, link);
	v->nfiles++;
	return (int64_t)f->key;
}

static int64_t
irq_write(struct irqfile *f, const struct scheme_packet *p)
{
	struct irq_vec *v = f->v;
	uint64_t ack;
	int r;

	if (p->d < sizeof(ack))
		return -EINVAL;
	memcpy(&ack, (const void *)(uintptr_t)p->c, sizeof(ack));
	if (ack != v->count)
		return 0;
	f->acked = ack;
	if (v->dev != NULL) {
		if (v->type == IRQ_INTX && (r = vfio_unmask(v)) < 0)
			return r;
	} else if (v->masked) {
		v->masked = false;
		if (v->asserted) { /* still raised: fires again */
			v->asserted = false;
			sim_fire(v);
		}
	}
	return sizeof(ack);
}

static int64_t
irq_fpath(struct irqfile *f, const struct scheme_packet *p)
{
	struct irq_vec *v = f->v;
	unsigned n;
	int len;

	for (n = 0; n < IRQ_NUMBERS && cfg.byno[n] != v; n++)
		;
	if (n < IRQ_NUMBERS)
		len = snprintf((char *)(uintptr_t)p->c, p->d, "irq:%u", n);
	else
		len = snprintf((char *)(uintptr_t)p->c, p->d,
			       "irq:pci/%s/%s/%u", vfio_dev_name(v->dev),
			       type_names[v->type], v->index);
	return len < (int)p->d ? len : (int64_t)p->d;
}

static int64_t
irq_op(struct irqfile *f, const struct scheme_packet *p)
{
	struct stat *st;

	switch (p->a) {
	case SYS_READ:
		if (p->d < sizeof(uint64_t))
			return -EINVAL;
		if (f->v->count == f->acked)
			return 0;
		memcpy((void *)(uintptr_t)p->c, &f->v->count, sizeof(uint64_t));
		return sizeof(uint64_t);
	case SYS_WRITE:
		return irq_write(f, p);
	case SYS_FEVENT:
		return f->v->count != f->acked ? EVENT_READ : 0;
	case SYS_FCNTL:
	case SYS_FSYNC:
		return 0;
	case SYS_FPATH:
		return irq_fpath(f, p);
	case SYS_FSTAT:
		st = (struct stat *)(uintptr_t)p->c;
		st->st_mode = S_IFCHR | 0600;
		return 0;
	default:
		return -ENOSYS;
	}
}

static int64_t
irq_handle(struct broker *b, struct builtin *bi, const struct scheme_packet *p)
{
	struct irqfile *f;

	(void)bi;
	if (p->a == SYS_OPEN)
		return irq_open(b, p);
	if ((f = slots_get(&files, p->b)) == NULL)
		return -EBADF;
	if (p->a == SYS_CLOSE) {
		TAILQ_REMOVE(&f->v->files, f, link);
		if (--f->v->nfiles == 0 && f->v->dev != NULL)
			vfio_vec_stop(f->v);
		slots_del(&files, p->b);
		free(f);
		return 0;
	}
	return irq_op(f, p);
}

void
irq_free(struct broker *b)
{
	uint32_t i;

	builtin_stop(&b->irq);
	for (i = 0; i < files.used; i++)
		free(files.obj[i]);
	slots_free(&files);
	vfio_free(b);
	for (i = 0; i < IRQ_NUMBERS; i++)
		free(cfg.spec[i]);
}
