/*
 * policy.c - who may connect and create schemes, and the caps on each.
 *
 * Who: the broker's own uid and root, always; with --group NAME, members
 * of NAME too (primary or supplementary group, as the kernel reports them
 * at connect: SO_PEERCRED, SO_PEERGROUPS), and the socket is made 0660
 * for that group so the kernel turns everyone else away first.  Creating
 * schemes stays with the broker's uid and root unless --group-creates.
 *
 * Caps, as dbus-daemon keeps them: connections per uid, schemes per uid,
 * schemes in all, namespaces in all.  A refusal is an errno the program
 * sees (EACCES, EMFILE, ENFILE) and one log line here.  A connection
 * over its uid's cap is answered once with the refusal and closed, so
 * that a flood of connections costs the broker nothing it keeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

int
peer_cmp(const struct peer *a, const struct peer *b)
{
	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

RB_GENERATE(peers, peer, by_uid, peer_cmp)

void
policy_defaults(struct broker *b)
{
	RB_INIT(&b->peers);
	b->group = (gid_t)-1;
	b->lim.conns_per_uid = 8192;
	b->lim.schemes_per_uid = 4096;
	b->lim.schemes = 8192;
	b->lim.namespaces = 4096;
}

int
policy_group(struct broker *b, const char *name)
{
	struct group *g = getgrnam(name);
	char *end;
	unsigned long v;

	if (g != NULL) {
		b->group = g->gr_gid;
		return 0;
	}
	v = strtoul(name, &end, 10);
	if (*name == '\0' || *end != '\0' || v >= (gid_t)-1)
		return -ENOENT;
	b->group = (gid_t)v;
	return 0;
}

/* --limit NAME=N */
int
policy_limit(struct broker *b, const char *spec)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
	    {"conns-per-uid", offsetof(struct limits, conns_per_uid)},
	    {"schemes-per-uid", offsetof(struct limits, schemes_per_uid)},
	    {"schemes", offsetof(struct limits, schemes)},
	    {"namespaces", offsetof(struct limits, namespaces)},
	};
	const char *eq = strchr(spec, '=');
	unsigned long v;
	char *end;

	if (eq == NULL)
		return -EINVAL;
	v = strtoul(eq + 1, &end, 10);
	if (eq[1] == '\0' || *end != '\0' || v == 0 || v > 1u << 30)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == (size_t)(eq - spec) &&
		    strncmp(names[i].name, spec, (size_t)(eq - spec)) == 0) {
			*(unsigned *)((char *)&b->lim + names[i].off) =
			    (unsigned)v;
			return 0;
		}
	return -EINVAL;
}

bool
policy_may_administer(const struct ucred *who)
{
	return who->uid == 0 || who->uid == geteuid();
}

static bool
in_group(struct broker *b, const struct conn *c)
{
	gid_t gids[256];
	socklen_t len = sizeof(gids);

	if (b->group == (gid_t)-1)
		return false;
	if (c->peer.gid == b->group)
		return true;
	if (getsockopt(c->src.fd, SOL_SOCKET, SO_PEERGROUPS, gids, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (gids[i] == b->group)
			return true;
	return false;
}

static struct peer *
peer_of(struct broker *b, uid_t uid)
{
	struct peer find = {.uid = uid}, *p;

	if ((p = RB_FIND(peers, &b->peers, &find)) != NULL)
		return p;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->uid = uid;
	RB_INSERT(peers, &b->peers, p);
	return p;
}

static void
peer_unref(struct broker *b, struct peer *p)
{
	if (p != NULL && p->conns == 0 && p->schemes == 0) {
		RB_REMOVE(peers, &b->peers, p);
		free(p);
	}
}

/* A new connection: 0, or the refusal to answer it with. */
int
policy_admit(struct broker *b, struct conn *c)
{
	struct peer *p;

	if (!policy_may_administer(&c->peer) && !in_group(b, c)) {
		log_warnx("pid %d uid %u: not allowed here (see --group)",
			  (int)c->peer.pid, (unsigned)c->peer.uid);
		return -EACCES;
	}
	if ((p = peer_of(b, c->peer.uid)) == NULL)
		return -ENOMEM;
	if (p->conns >= b->lim.conns_per_uid) {
		log_warnx("pid %d uid %u: over the cap of %u connections "
			  "per uid: EMFILE",
			  (int)c->peer.pid, (unsigned)c->peer.uid,
			  b->lim.conns_per_uid);
		peer_unref(b, p);
		return -EMFILE;
	}
	p->conns++;
	c->who = p;
	return 0;
}

void
policy_leave(struct broker *b, struct conn *c)
{
	if (c->who == NULL)
		return;
	c->who->conns--;
	peer_unref(b, c->who);
	c->who = NULL;
}

int
policy_may_create(struct broker *b, const struct conn *c)
{
	if (!policy_may_administer(&c->peer) &&
	    !(b->group_creates && in_group(b, c)))
		return -EACCES;
	if (b->nprovided >= b->lim.schemes) {
		log_warnx("pid %d: over the cap of %u schemes: ENFILE",
			  (int)c->peer.pid, b->lim.schemes);
		return -ENFILE;
	}
	if (c->who != NULL && c->who->schemes >= b->lim.schemes_per_uid) {
		log_warnx("pid %d uid %u: over the cap of %u schemes per "
			  "uid: EMFILE",
			  (int)c->peer.pid, (unsigned)c->peer.uid,
			  b->lim.schemes_per_uid);
		return -EMFILE;
	}
	return 0;
}

void
policy_created(struct broker *b, struct conn *c)
{
	b->nprovided++;
	if (c->who != NULL)
		c->who->schemes++;
}

void
policy_removed(struct broker *b, struct conn *c)
{
	b->nprovided--;
	if (c->who != NULL)
		c->who->schemes--;
}

/* The socket's permissions follow the policy: 0600, or 0660 for --group. */
int
policy_socket(struct broker *b)
{
	if (b->group == (gid_t)-1)
		return 0;
	if (chown(b->path, (uid_t)-1, b->group) < 0 || chmod(b->path, 0660) < 0)
		return -errno;
	return 0;
}
