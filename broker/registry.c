/*
 * registry.c - which schemes exist, by name (the sorted listing), by
 * instance number (how an fd finds its provider again) and by the pid
 * serving them (how a process that got an fd by exec or SCM_RIGHTS finds
 * out which scheme it is: the fd's peer made it).
 *
 * An instance number is never reused while the broker runs, so an fd
 * whose provider died can never reach the provider that took its name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "broker.h"

int
name_cmp(const struct scheme *a, const struct scheme *b)
{
	return strcmp(a->name, b->name);
}

int
inst_cmp(const struct scheme *a, const struct scheme *b)
{
	return a->inst < b->inst ? -1 : a->inst > b->inst;
}

int
pid_cmp(const struct scheme *a, const struct scheme *b)
{
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return inst_cmp(a, b);
}

RB_GENERATE(scheme_names, scheme, by_name, name_cmp)
RB_GENERATE(scheme_insts, scheme, by_inst, inst_cmp)
RB_GENERATE(scheme_pids, scheme, by_pid, pid_cmp)

int
registry_add(struct broker *b, struct scheme *s)
{
	if (RB_FIND(scheme_names, &b->names, s) != NULL)
		return -EEXIST;
	if (s->inst == 0)
		s->inst = b->next_inst++;
	RB_INSERT(scheme_names, &b->names, s);
	RB_INSERT(scheme_insts, &b->insts, s);
	RB_INSERT(scheme_pids, &b->pids, s);
	b->nschemes++;
	return 0;
}

void
registry_remove(struct broker *b, struct scheme *s)
{
	RB_REMOVE(scheme_names, &b->names, s);
	RB_REMOVE(scheme_insts, &b->insts, s);
	RB_REMOVE(scheme_pids, &b->pids, s);
	b->nschemes--;
}

struct scheme *
registry_by_name(struct broker *b, const char *name)
{
	struct scheme find;

	if (strlen(name) >= sizeof(find.name))
		return NULL;
	strcpy(find.name, name);
	return RB_FIND(scheme_names, &b->names, &find);
}

struct scheme *
registry_by_inst(struct broker *b, uint64_t inst)
{
	struct scheme find = {.inst = inst};

	return RB_FIND(scheme_insts, &b->insts, &find);
}

/* The schemes pid serves, by instance: the first, or the next after one. */
struct scheme *
registry_by_pid(struct broker *b, pid_t pid, const struct scheme *after)
{
	struct scheme find = {.pid = pid}, *s;

	if (after != NULL)
		s = RB_NEXT(scheme_pids, &b->pids, (struct scheme *)after);
	else
		s = RB_NFIND(scheme_pids, &b->pids, &find);
	return s != NULL && s->pid == pid ? s : NULL;
}

void
registry_set_pid(struct broker *b, struct scheme *s, pid_t pid)
{
	RB_REMOVE(scheme_pids, &b->pids, s);
	s->pid = pid;
	RB_INSERT(scheme_pids, &b->pids, s);
}

/*
 * The names ns sees, sorted, one per line; the root scheme (named "") is
 * not listed.  Returns the length the full listing needs.
 */
size_t
registry_list(struct broker *b, const struct ns *ns, char *buf, size_t len)
{
	struct scheme *s;
	size_t n = 0, l;

	RB_FOREACH(s, scheme_names, &b->names)
	{
		l = strlen(s->name);
		if (l == 0 || !ns_sees(ns, s))
			continue;
		if (n + l + 1 <= len) {
			memcpy(buf + n, s->name, l);
			buf[n + l] = '\n';
		}
		n += l + 1;
	}
	return n;
}
