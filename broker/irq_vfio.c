/*
 * irq_vfio.c - PCI devices the broker owns through VFIO, and their
 * interrupts as eventfds (Linux Documentation/driver-api/vfio.rst).
 *
 * A device is opened the first time a configuration or a client names it,
 * by one of two paths:
 *
 *	group	/dev/vfio/vfio (a type1v2 container) + /dev/vfio/GROUP, then
 *		VFIO_GROUP_GET_DEVICE_FD; every kernel with VFIO has it.
 *	cdev	/dev/vfio/devices/vfioN bound to /dev/iommu (iommufd), then
 *		attached to a fresh IOAS; kernels >= 6.6 built with it.
 *
 * "auto" takes cdev where the device has one and /dev/iommu exists.  On
 * opening, the broker turns on memory decoding and bus mastering in the
 * command register: MSI and MSI-X are writes by the device, dropped while
 * it may not master the bus.
 *
 * Interrupts: one type (INTx, MSI or MSI-X) is enabled at a time, as VFIO
 * requires.  A type is enabled when the first of its vectors is opened,
 * with an eventfd for every vector up to the highest one named so far, and
 * disabled when no vector of the device is open any more, so a driver may
 * move from INTx to MSI by closing one and opening the other.  Naming a
 * higher vector of the enabled type re-enables it with more vectors (VFIO
 * cannot grow an enabled MSI block); an interrupt in that instant is lost.
 * INTx is automasked by VFIO when it fires; irq.c unmasks it on the ack.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "irq.h"
#include "log.h"

/* iommufd and the VFIO cdev (Linux 6.6); Debian 12's headers predate them. */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
struct vfio_device_attach_iommufd_pt {
	uint32_t argsz, flags, pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif
#ifndef IOMMU_IOAS_ALLOC
struct iommu_ioas_alloc {
	uint32_t size, flags, out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
#endif

#define PCI_COMMAND_OFF	   4
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

struct vfio_group {
	int no, fd, container;
	unsigned refs;
	struct vfio_group *next;
};

struct vfio_dev {
	char bdf[16];
	int fd;
	struct vfio_group *group; /* or NULL: the cdev path */
	int enabled;		  /* the enabled type, or -1 */
	unsigned nenabled;	  /* its vectors wired to eventfds */
	unsigned max[IRQ_NTYPES]; /* vectors the device has, by type */
	struct irq_vec **vecs[IRQ_NTYPES];
	unsigned nvecs[IRQ_NTYPES];
	struct vfio_dev *next;
};

enum vfio_path vfio_path = VFIO_AUTO;
static struct vfio_dev *devs;
static struct vfio_group *groups;
static int iommufd = -1;
static char errbuf[256];

const char *
vfio_error(void)
{
	return errbuf;
}

/* Fails with errno set and errbuf saying what a user should do. */
static int __attribute__((format(printf, 2, 3)))
fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

static int
sysfs_link(const char *bdf, const char *what, char *out, size_t len)
{
	char path[128], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, what);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	strlcpy(out, basename(link), len);
	return 0;
}

/* The device exists and vfio-pci drives it; else a useful message. */
static int
check_bound(const char *bdf)
{
	char path[128], drv[64];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (stat(path, &st) < 0)
		return fail(ENODEV, "%s: no such PCI device", bdf);
	if (sysfs_link(bdf, "driver", drv, sizeof(drv)) < 0)
		return fail(ENODEV,
			    "%s: no driver bound; bind it to vfio-pci "
			    "(see README, irq:)",
			    bdf);
	if (strcmp(drv, "vfio-pci") != 0)
		return fail(EBUSY,
			    "%s: bound to %s, not vfio-pci (see README, irq:)",
			    bdf, drv);
	return 0;
}

static struct vfio_group *
group_get(const char *bdf)
{
	struct vfio_group *g;
	struct vfio_group_status st = {.argsz = sizeof(st)};
	char name[32], path[64];
	int no;

	if (sysfs_link(bdf, "iommu_group", name, sizeof(name)) < 0) {
		fail(ENODEV,
		     "%s: no IOMMU group (is the IOMMU on? "
		     "intel_iommu=on or amd_iommu=on)",
		     bdf);
		return NULL;
	}
	no = atoi(name);
	for (g = groups; g != NULL; g = g->next) {
		if (g->no == no) {
			g->refs++;
			return g;
		}
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		fail(ENOMEM, "out of memory");
		return NULL;
	}
	g->no = no;
	g->container = -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", no);
	if ((g->fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		fail(errno, "%s: %s%s", path, strerror(errno),
		     errno == EACCES  ? " (the broker's user needs rw on it)"
		     : errno == EBUSY ? " (another process owns the group)"
				      : "");
		goto bad;
	}
	if (ioctl(g->fd, VFIO_GROUP_GET_STATUS, &st) < 0 ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fail(EBUSY,
		     "IOMMU group %d is not viable: bind every device "
		     "in /sys/kernel/iommu_groups/%d/devices to vfio-pci",
		     no, no);
		goto bad;
	}
	g->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (g->container < 0) {
		fail(errno, "/dev/vfio/vfio: %s", strerror(errno));
		goto bad;
	}
	if (ioctl(g->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(g->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) !=
		1) {
		fail(ENOTSUP, "/dev/vfio/vfio: no type1v2 IOMMU support");
		goto bad;
	}
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &g->container) < 0 ||
	    ioctl(g->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		fail(errno, "IOMMU group %d: setting up its container: %s", no,
		     strerror(errno));
		goto bad;
	}
	g->refs = 1;
	g->next = groups;
	groups = g;
	return g;
bad:
	if (g->fd >= 0)
		close(g->fd);
	if (g->container >= 0)
		close(g->container);
	free(g);
	return NULL;
}

static int
open_group(struct vfio_dev *d)
{
	if ((d->group = group_get(d->bdf)) == NULL)
		return -1;
	d->fd = ioctl(d->group->fd, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (d->fd < 0)
		return fail(errno, "%s: VFIO_GROUP_GET_DEVICE_FD: %s", d->bdf,
			    strerror(errno));
	return 0;
}

/* The cdev path: /dev/vfio/devices/vfioN, bound to iommufd. */
static int
open_cdev(struct vfio_dev *d, const char *cdev)
{
	struct vfio_device_bind_iommufd bind = {.argsz = sizeof(bind)};
	struct vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};
	struct iommu_ioas_alloc ioas = {.size = sizeof(ioas)};
	char path[64];

	if (iommufd < 0 &&
	    (iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC)) < 0)
		return fail(errno, "/dev/iommu: %s", strerror(errno));
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	if ((d->fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return fail(errno, "%s: %s%s", path, strerror(errno),
			    errno == EACCES
				? " (the broker's user needs rw on it)"
				: "");
	bind.iommufd = iommufd;
	if (ioctl(d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0)
		return fail(errno, "%s: VFIO_DEVICE_BIND_IOMMUFD: %s", path,
			    strerror(errno));
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas) < 0)
		return fail(errno, "/dev/iommu: IOMMU_IOAS_ALLOC: %s",
			    strerror(errno));
	at.pt_id = ioas.out_ioas_id;
	if (ioctl(d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0)
		return fail(errno, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s",
			    path, strerror(errno));
	return 0;
}

/* Which vfioN, if the kernel gives this device a cdev. */
static int
find_cdev(const char *bdf, char *out, size_t len)
{
	char path[128];
	struct dirent *e;
	DIR *dir;
	int r = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, "vfio", 4) == 0) {
			strlcpy(out, e->d_name, len);
			r = 0;
			break;
		}
	}
	closedir(dir);
	return r;
}

static int
enable_decoding(struct vfio_dev *d)
{
	struct vfio_region_info cfg = {.argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint16_t cmd;
	off_t off;

	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) < 0)
		return fail(errno, "%s: config space: %s", d->bdf,
			    strerror(errno));
	off = (off_t)cfg.offset + PCI_COMMAND_OFF;
	if (pread(d->fd, &cmd, 2, off) != 2)
		return fail(EIO, "%s: reading the command register", d->bdf);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(d->fd, &cmd, 2, off) != 2)
		return fail(EIO, "%s: writing the command register", d->bdf);
	return 0;
}

static int
read_irq_info(struct vfio_dev *d)
{
	struct vfio_irq_info ii = {.argsz = sizeof(ii)};
	int t;

	for (t = 0; t < IRQ_NTYPES; t++) {
		ii.index = (uint32_t)t;
		ii.count = 0;
		if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0 &&
		    (ii.flags & VFIO_IRQ_INFO_EVENTFD))
			d->max[t] = ii.count;
	}
	return 0;
}

static void
dev_free(struct vfio_dev *d)
{
	unsigned t, i;

	for (t = 0; t < IRQ_NTYPES; t++) {
		for (i = 0; i < d->nvecs[t]; i++) {
			if (d->vecs[t][i] != NULL) {
				close(d->vecs[t][i]->src.fd);
				free(d->vecs[t][i]);
			}
		}
		free(d->vecs[t]);
	}
	if (d->fd >= 0)
		close(d->fd);
	if (d->group != NULL && --d->group->refs == 0) {
		struct vfio_group **gp;

		for (gp = &groups; *gp != d->group; gp = &(*gp)->next)
			;
		*gp = d->group->next;
		close(d->group->fd);
		close(d->group->container);
		free(d->group);
	}
	free(d);
}

/*
 * The device at bdf ("0000:00:03.0", or "00:03.0" for domain 0), opened
 * now or before.  NULL with errno set and vfio_error() saying why.
 */
struct vfio_dev *
vfio_dev_get(struct broker *b, const char *bdf)
{
	struct vfio_dev *d;
	char full[16], cdev[32];
	int r;

	(void)b;
	if (strlen(bdf) == 7)
		snprintf(full, sizeof(full), "0000:%s", bdf);
	else
		strlcpy(full, bdf, sizeof(full));
	for (d = devs; d != NULL; d = d->next)
		if (strcmp(d->bdf, full) == 0)
			return d;
	if (check_bound(full) < 0)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		fail(ENOMEM, "out of memory");
		return NULL;
	}
	strlcpy(d->bdf, full, sizeof(d->bdf));
	d->fd = -1;
	d->enabled = -1;
	if (vfio_path == VFIO_CDEV ||
	    (vfio_path == VFIO_AUTO && access("/dev/iommu", F_OK) == 0 &&
	     find_cdev(full, cdev, sizeof(cdev)) == 0)) {
		if (find_cdev(full, cdev, sizeof(cdev)) < 0)
			r = fail(ENODEV,
				 "%s: no VFIO cdev (kernel < 6.6, or "
				 "built without VFIO_DEVICE_CDEV)",
				 full);
		else
			r = open_cdev(d, cdev);
	} else {
		r = open_group(d);
	}
	if (r < 0 || enable_decoding(d) < 0 || read_irq_info(d) < 0) {
		int e = errno;

		dev_free(d);
		errno = e;
		return NULL;
	}
	log_info("irq: %s opened by the %s path (INTx %u, MSI %u, MSI-X %u)",
		 full, d->group ? "group" : "cdev", d->max[IRQ_INTX],
		 d->max[IRQ_MSI], d->max[IRQ_MSIX]);
	d->next = devs;
	devs = d;
	return d;
}

const char *
vfio_dev_name(const struct vfio_dev *d)
{
	return d->bdf;
}

int
vfio_dev_fd(const struct vfio_dev *d)
{
	return d->fd;
}

/* The vector object, made (with its eventfd) the first time it is named. */
struct irq_vec *
vfio_vec_get(struct broker *b, struct vfio_dev *d, enum irq_type type,
	     unsigned index)
{
	struct irq_vec *v, **nv;

	if (index >= d->max[type]) {
		fail(ENOENT, "%s has %u %s vectors", d->bdf, d->max[type],
		     type == IRQ_INTX  ? "INTx"
		     : type == IRQ_MSI ? "MSI"
				       : "MSI-X");
		return NULL;
	}
	if (index < d->nvecs[type] && d->vecs[type][index] != NULL)
		return d->vecs[type][index];
	if (index >= d->nvecs[type]) {
		nv = reallocarray(d->vecs[type], index + 1, sizeof(*nv));
		if (nv == NULL)
			return NULL;
		memset(nv + d->nvecs[type], 0,
		       (index + 1 - d->nvecs[type]) * sizeof(*nv));
		d->vecs[type] = nv;
		d->nvecs[type] = index + 1;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->src.kind = SRC_IRQ;
	v->src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->src.fd < 0 || broker_watch(b, &v->src) < 0) {
		fail(errno, "eventfd: %s", strerror(errno));
		if (v->src.fd >= 0)
			close(v->src.fd);
		free(v);
		return NULL;
	}
	v->dev = d;
	v->type = type;
	v->index = index;
	TAILQ_INIT(&v->files);
	d->vecs[type][index] = v;
	return v;
}

static int
set_irqs(struct vfio_dev *d, uint32_t flags, int type, unsigned start,
	 unsigned count, const int32_t *fds)
{
	size_t dlen = fds != NULL ? count * sizeof(int32_t) : 0;
	struct vfio_irq_set *s = calloc(1, sizeof(*s) + dlen);
	int r;

	if (s == NULL)
		return -ENOMEM;
	s->argsz = (uint32_t)(sizeof(*s) + dlen);
	s->flags = flags;
	s->index = (uint32_t)type;
	s->start = start;
	s->count = count;
	if (dlen)
		memcpy(s->data, fds, dlen);
	r = ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s) < 0 ? -errno : 0;
	free(s);
	return r;
}

static int
disable(struct vfio_dev *d)
{
	int r =
	    set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		     d->enabled, 0, 0, NULL);

	d->enabled = -1;
	d->nenabled = 0;
	return r;
}

/* A vector is opened: its type must be (or become) the enabled one. */
int
vfio_vec_start(struct irq_vec *v)
{
	struct vfio_dev *d = v->dev;
	unsigned i, n = d->nvecs[v->type];
	int32_t *fds;
	int r;

	if (d->enabled == (int)v->type && v->index < d->nenabled)
		return 0;
	if (d->enabled >= 0 && d->enabled != (int)v->type) {
		log_warnx("irq: %s: %s is in use; one interrupt type at a time",
			  d->bdf,
			  d->enabled == IRQ_INTX  ? "INTx"
			  : d->enabled == IRQ_MSI ? "MSI"
						  : "MSI-X");
		return -EBUSY;
	}
	if ((fds = calloc(n, sizeof(*fds))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		fds[i] = d->vecs[v->type][i] ? d->vecs[v->type][i]->src.fd : -1;
	if (d->enabled >= 0)
		disable(d); /* to grow: VFIO cannot resize an MSI block */
	r = set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		     v->type, 0, n, fds);
	free(fds);
	if (r < 0) {
		log_warnx("irq: %s: enabling %u vectors: %s", d->bdf, n,
			  strerror(-r));
		return r;
	}
	d->enabled = (int)v->type;
	d->nenabled = n;
	for (i = 0; i < n; i++)
		if (d->vecs[v->type][i] != NULL)
			d->vecs[v->type][i]->masked = false;
	return 0;
}

/* A vector's last file is closed: disable the type if none is open. */
void
vfio_vec_stop(struct irq_vec *v)
{
	struct vfio_dev *d = v->dev;
	unsigned i;

	if (d->enabled != (int)v->type)
		return;
	for (i = 0; i < d->nvecs[v->type]; i++)
		if (d->vecs[v->type][i] && d->vecs[v->type][i]->nfiles > 0)
			return;
	disable(d);
}

int
vfio_unmask(struct irq_vec *v)
{
	v->masked = false;
	return set_irqs(v->dev,
			VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
			IRQ_INTX, 0, 1, NULL);
}

/* Raise the vector in software (VFIO's loopback): schemectl irq-raise. */
int
vfio_trigger(struct irq_vec *v)
{
	if (v->dev->enabled != (int)v->type || v->index >= v->dev->nenabled)
		return -EAGAIN; /* not enabled: nobody has it open */
	return set_irqs(v->dev,
			VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			v->type, v->index, 1, NULL);
}

/* The eventfd says the vector fired, at least once. */
void
vfio_read(struct irq_vec *v)
{
	uint64_t n;

	if (read(v->src.fd, &n, sizeof(n)) != sizeof(n))
		return;
	if (v->type == IRQ_INTX)
		v->masked = true; /* VFIO automasks it */
	irq_vec_fired(v, n);
}

void
vfio_free(struct broker *b)
{
	struct vfio_dev *d;

	(void)b;
	while ((d = devs) != NULL) {
		devs = d->next;
		if (d->enabled >= 0)
			disable(d);
		dev_free(d);
	}
	if (iommufd >= 0)
		close(iommufd);
	iommufd = -1;
}
