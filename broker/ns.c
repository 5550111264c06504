/*
 * ns.c - namespaces: which schemes a connection may open by name.
 *
 * The root namespace (WIRE_NS_ROOT) sees every scheme; the null namespace
 * (WIRE_NS_NULL) sees none.  Any other is made by mkns() from the caller's
 * own and holds the instances of the schemes it named, plus what every
 * namespace but the null one has: the root scheme ":", event: and time:.
 * A scheme created from a namespace joins it (and the root's listing:
 * names stay unique in the broker, so that no name can be taken over).
 * A namespace holds instances, not names: a provider that dies and comes
 * back under the same name is a new instance, not in the old namespaces,
 * as on Redox.
 *
 * setrens() follows Redox's kernel (syscall/process.rs setrens) where it
 * can: -1 leaves a namespace as it is, 0 (the null namespace) may always
 * be entered and never left.  Two of Redox's rules are not kept, because
 * on Linux a namespace is also a seccomp filter and a Landlock domain
 * (preload/sandbox.c) that cannot be lifted once applied: root may not
 * enter any namespace at will, and rns may not become ens when ens sees
 * more.  So each only narrows: rns may become rns or a namespace made
 * (directly or not) from it; ens may become that, or ens or one made
 * from it.  Anything else is EPERM; an id that names no namespace is
 * EINVAL.  README "Namespaces" has the table.
 *
 * Ordinary files.  A namespace reaches ordinary files when it is the
 * root one or was made with the name "file" (WIRE_NS_FILE_NAME) by a
 * process whose rns reaches them; the broker only records it, the
 * preload enforces it.
 *
 * Lifetime: a namespace lives while a connection uses it (as its rns or
 * ens, tokens included) or the connection that made it lives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "log.h"

int
ns_cmp(const struct ns *a, const struct ns *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_GENERATE(ns_ids, ns, by_id, ns_cmp)

void
ns_init(struct broker *b)
{
	RB_INIT(&b->nsids);
	b->ns_null.id = WIRE_NS_NULL;
	b->ns_root.id = WIRE_NS_ROOT;
	b->ns_null.fixed = b->ns_root.fixed = true;
	b->ns_root.files = true;
	b->next_ns = WIRE_NS_ROOT + 1;
}

struct ns *
ns_by_id(struct broker *b, int64_t id)
{
	struct ns find = {.id = (uint64_t)id};

	if (id == WIRE_NS_NULL)
		return &b->ns_null;
	if (id == WIRE_NS_ROOT)
		return &b->ns_root;
	return RB_FIND(ns_ids, &b->nsids, &find);
}

struct ns *
ns_get(struct ns *ns)
{
	if (!ns->fixed)
		ns->refs++;
	return ns;
}

void
ns_put(struct broker *b, struct ns *ns)
{
	if (ns == NULL || ns->fixed || --ns->refs > 0)
		return;
	RB_REMOVE(ns_ids, &b->nsids, ns);
	b->nns--;
	free(ns->insts);
	free(ns);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool
ns_sees(const struct ns *ns, const struct scheme *s)
{
	if (ns->id == WIRE_NS_ROOT)
		return true;
	if (ns->id == WIRE_NS_NULL)
		return false;
	if (s->inst == INST_ROOT || s->inst == INST_EVENT ||
	    s->inst == INST_TIME)
		return true;
	return ns->n > 0 && bsearch(&s->inst, ns->insts, ns->n,
				    sizeof(uint64_t), u64_cmp) != NULL;
}

/* A scheme created from ns joins it. */
int
ns_add(struct ns *ns, uint64_t inst)
{
	uint64_t *v;

	if (ns->id == WIRE_NS_ROOT)
		return 0;
	if (ns->id == WIRE_NS_NULL)
		return -ENODEV;
	v = reallocarray(ns->insts, ns->n + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v[ns->n++] = inst;
	ns->insts = v;
	qsort(v, ns->n, sizeof(*v), u64_cmp);
	return 0;
}

/* One name of mkns()'s list, looked up as the caller sees it. */
static int
ns_pick(struct broker *b, const struct ns *from, const char *name, size_t len,
	struct ns *into)
{
	char buf[WIRE_MAX_NAME + 1];
	struct scheme *s;

	if (len == sizeof(WIRE_NS_FILE_NAME) - 1 &&
	    memcmp(name, WIRE_NS_FILE_NAME, len) == 0) {
		if (!from->files)
			return -ENODEV; /* as for a scheme it does not see */
		into->files = true;
		return 0;
	}
	if (wire_name_check(name, len) < 0)
		return -EINVAL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if ((s = registry_by_name(b, buf)) == NULL || !ns_sees(from, s))
		return -ENODEV; /* as Redox: only what the caller sees */
	if (s->inst < INST_FIRST && s->inst != INST_IRQ)
		return 0; /* in every namespace already */
	return ns_add(into, s->inst);
}

/*
 * mkns(): a namespace made from `from` holding the '\n'-separated names.
 * The maker's connection keeps it alive.  Caps: NS_MAX namespaces in the
 * broker (ENFILE), NS_MAX_PER_CONN made by one connection (EMFILE).
 */
int
ns_make(struct broker *b, struct conn *maker, const char *names, size_t len,
	struct ns **out)
{
	const char *p = names, *end = names + len, *nl;
	struct ns *ns;
	int r = 0;

	if (maker->rns->id == WIRE_NS_NULL)
		return -ENODEV;
	if (b->nns >= b->lim.namespaces)
		return -ENFILE;
	if (maker->nmade >= NS_MAX_PER_CONN)
		return -EMFILE;
	if ((ns = calloc(1, sizeof(*ns))) == NULL)
		return -ENOMEM;
	ns->id = b->next_ns++;
	ns->parent = maker->rns->id;
	for (; r == 0 && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		r = ns_pick(b, maker->rns, p, (size_t)(nl - p), ns);
	}
	if (r < 0) {
		free(ns->insts);
		free(ns);
		return r;
	}
	ns->refs = 1; /* the maker's */
	ns->maker = maker;
	LIST_INSERT_HEAD(&maker->made, ns, made);
	maker->nmade++;
	RB_INSERT(ns_ids, &b->nsids, ns);
	b->nns++;
	*out = ns;
	return 0;
}

/* The maker's connection is going: it no longer keeps its namespaces. */
void
ns_forget_maker(struct broker *b, struct conn *c)
{
	struct ns *ns;

	while ((ns = LIST_FIRST(&c->made)) != NULL) {
		LIST_REMOVE(ns, made);
		ns->maker = NULL;
		ns_put(b, ns);
	}
	c->nmade = 0;
}

/* Is `to` cur, or made (at any depth) from cur? */
static bool
ns_within(struct broker *b, const struct ns *cur, const struct ns *to)
{
	int depth = 0;

	while (to != NULL && depth++ < 4096) {
		if (to == cur)
			return true;
		if (to->fixed)
			return false;
		to = ns_by_id(b, (int64_t)to->parent);
	}
	return false;
}

/*
 * Which namespace `want` (an id, or -1 for unchanged) names for slot cur
 * of a connection; `also`, when not NULL, is a second namespace whose
 * descendants may be entered too (ens may narrow to what rns sees).
 * NULL and *err = -EPERM when that would leave the null namespace or
 * widen, -EINVAL when no such namespace exists.
 */
struct ns *
ns_enter(struct broker *b, struct ns *cur, struct ns *also, int64_t want,
	 int *err)
{
	struct ns *to;

	if (want == -1)
		return cur;
	if (want == WIRE_NS_NULL)
		return &b->ns_null;
	if (cur->id == WIRE_NS_NULL) {
		*err = -EPERM; /* as Redox: capability mode is never left */
		return NULL;
	}
	if (want < 0 || (to = ns_by_id(b, want)) == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	if (ns_within(b, cur, to) || (also != NULL && ns_within(b, also, to)))
		return to;
	*err = -EPERM;
	return NULL;
}

/*
 * The namespace a process opens in, for the built-in schemes, which see
 * requests by pid: that of its own connections (the same for all of them,
 * setrens() moves them together).  A pid with none is given the null
 * namespace: it cannot have reached us without one.
 */
struct ns *
ns_of_pid(struct broker *b, pid_t pid)
{
	struct conn *c;

	TAILQ_FOREACH(c, &b->conns, link)
	{
		if (c->peer.pid == pid && !c->token && c->scheme == NULL)
			return c->rns;
	}
	return &b->ns_null;
}
