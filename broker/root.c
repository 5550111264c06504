/*
 * root.c - the root scheme ":" (also "/scheme"), served by the broker
 * through the same protocol as any provider.
 *
 * As on Redox: opening "" gives a snapshot of the names, one per line,
 * that can be read and seeked; opening a name gives a file holding the
 * name; unlink(":name") removes a scheme (for its owner or root).  Schemes
 * are created through the control connection, not by an open here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../proto/serve/slots.h"
#include "broker.h"
#include "log.h"

struct rootfile {
	char *data;
	size_t len;
	uint64_t pos;
	bool dir;
};

static struct slots files;

static const char *
trim(char *path, size_t *len)
{
	while (*len > 0 && path[*len - 1] == '/')
		path[--*len] = '\0';
	while (*path == '/') {
		path++;
		--*len;
	}
	return path;
}

static int64_t
root_open(struct broker *b, const struct scheme_packet *p)
{
	size_t len = p->c;
	const char *path = trim((char *)(uintptr_t)p->b, &len);
	struct ns *ns = ns_of_pid(b, (pid_t)p->pid);
	struct scheme *s = len ? registry_by_name(b, path) : NULL;
	struct rootfile *f;
	uint64_t key;

	if ((p->d & O_CREAT) != 0)
		return -EACCES; /* a provider creates by the control socket */
	if (len != 0 && (s == NULL || !ns_sees(ns, s)))
		return -ENOENT;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->dir = len == 0;
	f->len = f->dir ? registry_list(b, ns, NULL, 0) : len;
	f->data = malloc(f->len + 1);
	if (f->data == NULL || (key = slots_put(&files, f)) == 0) {
		free(f->data);
		free(f);
		return -ENOMEM;
	}
	if (f->dir)
		registry_list(b, ns, f->data, f->len);
	else
		memcpy(f->data, path, len);
	return (int64_t)key;
}

static int64_t
root_unlink(struct broker *b, const struct scheme_packet *p)
{
	size_t len = p->c;
	const char *name = trim((char *)(uintptr_t)p->b, &len);
	struct scheme *s = registry_by_name(b, name);

	if (s == NULL || !ns_sees(ns_of_pid(b, (pid_t)p->pid), s))
		return -ENOENT;
	if (s->builtin != NULL || s->local)
		return -EPERM;
	if (p->uid != 0 && p->uid != s->owner.uid)
		return -EACCES;
	log_info("scheme %s: removed by pid %d uid %u", s->name, (int)p->pid,
		 (unsigned)p->uid);
	control_close(b, s->conn); /* the provider reads end-of-file */
	return 0;
}

static int64_t
root_seek(struct rootfile *f, const struct scheme_packet *p)
{
	int64_t base, off = (int64_t)p->c;

	switch (p->d) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		base = (int64_t)f->len;
		break;
	default:
		return -EINVAL;
	}
	if (base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (int64_t)f->pos;
}

static int64_t
root_file_op(struct rootfile *f, const struct scheme_packet *p)
{
	struct stat *st;
	uint64_t n;

	switch (p->a) {
	case SYS_READ:
		n = f->pos < f->len ? f->len - f->pos : 0;
		n = n < p->d ? n : p->d;
		memcpy((void *)(uintptr_t)p->c, f->data + f->pos, n);
		f->pos += n;
		return (int64_t)n;
	case SYS_LSEEK:
		return root_seek(f, p);
	case SYS_FSTAT:
		if (p->d < sizeof(*st))
			return -EINVAL;
		st = (struct stat *)(uintptr_t)p->c;
		st->st_mode = f->dir ? S_IFDIR | 0555 : S_IFREG | 0444;
		st->st_nlink = f->dir ? 2 : 1;
		st->st_size = (off_t)f->len;
		st->st_blksize = 4096;
		return 0;
	case SYS_FPATH:
		n = 1 + (f->dir ? 0 : f->len);
		n = n < p->d ? n : p->d;
		if (n > 0) {
			((char *)(uintptr_t)p->c)[0] = ':';
			memcpy((char *)(uintptr_t)p->c + 1, f->data, n - 1);
		}
		return (int64_t)n;
	case SYS_FCNTL:
	case SYS_FSYNC:
		return 0;
	case SYS_FEVENT:
		return EVENT_READ;
	case SYS_WRITE:
	case SYS_FTRUNCATE:
		return -EBADF;
	default:
		return -ENOSYS;
	}
}

static int64_t
root_handle(struct broker *b, struct builtin *bi, const struct scheme_packet *p)
{
	struct rootfile *f;

	switch (p->a) {
	case SYS_OPEN:
		return root_open(b, p);
	case SYS_UNLINK:
		return root_unlink(b, p);
	case SYS_RMDIR:
		return -ENOTDIR;
	}
	f = slots_get(&files, p->b);
	if (f == NULL)
		return -EBADF;
	if (p->a == SYS_CLOSE) {
		slots_del(&files, p->b);
		free(f->data);
		free(f);
		return 0;
	}
	return root_file_op(f, p);
}

int
root_init(struct broker *b)
{
	int r;

	b->root.handle = root_handle;
	if ((r = builtin_start(b, &b->root, "", INST_ROOT)) < 0)
		return r;
	/* event: queues live in each process; the broker owns the name. */
	strcpy(b->event.name, "event");
	b->event.inst = INST_EVENT;
	b->event.local = true;
	b->event.owner.uid = geteuid();
	registry_add(b, &b->event);
	return 0;
}

void
root_free(struct broker *b)
{
	struct rootfile *f;
	uint32_t i;

	builtin_stop(&b->root);
	for (i = 0; i < files.used; i++) {
		f = files.obj[i];
		if (f != NULL) {
			free(f->data);
			free(f);
		}
	}
	slots_free(&files);
}
