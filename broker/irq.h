/*
 * irq.h - what irq.c (the irq: scheme) and irq_vfio.c (VFIO devices)
 * share: an interrupt vector, however it is raised.
 */
#ifndef BROKER_IRQ_H
#define BROKER_IRQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "broker.h"

enum irq_type { IRQ_INTX, IRQ_MSI, IRQ_MSIX, IRQ_NTYPES }; /* VFIO's order */

struct irqfile;
struct vfio_dev;

struct irq_vec {
	struct src src;	      /* SRC_IRQ: VFIO's eventfd; first */
	struct vfio_dev *dev; /* NULL: the simulator's */
	enum irq_type type;
	unsigned index; /* the vector within its type */
	uint64_t count; /* interrupts so far */
	bool masked;	/* INTx, and the simulator: until acked */
	bool asserted;	/* simulator: raised while masked */
	unsigned nfiles;
	TAILQ_HEAD(, irqfile) files;
};

/* irq.c: a vector fired n times. */
void irq_vec_fired(struct irq_vec *v, uint64_t n);

/* irq_vfio.c */
enum vfio_path { VFIO_AUTO, VFIO_GROUP, VFIO_CDEV };
extern enum vfio_path vfio_path;
struct vfio_dev *vfio_dev_get(struct broker *b, const char *bdf);
const char *vfio_dev_name(const struct vfio_dev *d);
int vfio_dev_fd(const struct vfio_dev *d);
struct irq_vec *vfio_vec_get(struct broker *b, struct vfio_dev *d,
			     enum irq_type type, unsigned index);
int vfio_vec_start(struct irq_vec *v);
void vfio_vec_stop(struct irq_vec *v);
int vfio_unmask(struct irq_vec *v);
int vfio_trigger(struct irq_vec *v);
void vfio_read(struct irq_vec *v);
void vfio_free(struct broker *b);
const char *vfio_error(void);

#endif
