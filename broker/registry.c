/*
 * registry.c - which schemes exist, by name (the sorted listing) and by
 * instance number (how an inherited fd finds its provider again).
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

RB_GENERATE(scheme_names, scheme, by_name, name_cmp)
RB_GENERATE(scheme_insts, scheme, by_inst, inst_cmp)

int
registry_add(struct broker *b, struct scheme *s)
{
	if (RB_FIND(scheme_names, &b->names, s) != NULL)
		return -EEXIST;
	if (s->inst == 0)
		s->inst = b->next_inst++;
	RB_INSERT(scheme_names, &b->names, s);
	RB_INSERT(scheme_insts, &b->insts, s);
	b->nschemes++;
	return 0;
}

void
registry_remove(struct broker *b, struct scheme *s)
{
	RB_REMOVE(scheme_names, &b->names, s);
	RB_REMOVE(scheme_insts, &b->insts, s);
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
