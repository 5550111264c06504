/*
 * reach.c - see reach.h.  Who may use a broker is what its socket says:
 * schemed makes it 0600 (its own user; root passes any mode), or 0660 for
 * the group given with --group, and refuses anyone else at the door.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reach.h"

int
reach_denied(int err)
{
	return err == -EACCES || err == -EPERM;
}

static void
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

static void
group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr != NULL)
		snprintf(buf, len, "group %s", gr->gr_name);
	else
		snprintf(buf, len, "group %u", (unsigned)gid);
}

/*
 * "this broker is alice's (uid 1000), and it answers only root, alice
 * and members of group scheme (socket mode 0660)": from the socket,
 * which the broker makes with the owner and mode that say it.
 */
static void
whose(const struct stat *st, char *buf, size_t len)
{
	char owner[96], group[96], members[128] = "";
	bool root = st->st_uid == 0;

	user_name(st->st_uid, owner, sizeof(owner));
	if ((st->st_mode & 0060) == 0060) {
		group_name(st->st_gid, group, sizeof(group));
		snprintf(members, sizeof(members), " and members of %s", group);
	}
	snprintf(buf, len,
		 "this broker is %s's, and it answers only root%s%s%s "
		 "(socket mode %04o)",
		 root ? "root" : owner, root ? "" : ", ",
		 root ? "" : owner, members,
		 (unsigned)(st->st_mode & 07777));
}

static void
denied(const char *path, char *buf, size_t len)
{
	char me[96], who[320];
	struct stat st;

	user_name(geteuid(), me, sizeof(me));
	if (stat(path, &st) < 0)
		snprintf(who, sizeof(who),
			 "its directory is closed to you, so the broker there "
			 "is another user's");
	else
		whose(&st, who, sizeof(who));
	snprintf(buf, len,
		 "%s: permission denied: %s; you are %s.  Use a broker of "
		 "your own (unset SCHEME_SOCKET, or give another --socket), "
		 "or ask its owner to start it with --group",
		 path, who, me);
}

void
reach_explain(const char *path, int err, char *buf, size_t len)
{
	if (reach_denied(err))
		denied(path, buf, len);
	else if (err == -ENOENT)
		snprintf(buf, len, "no broker at %s (no socket there)", path);
	else if (err == -ECONNREFUSED)
		snprintf(buf, len,
			 "no broker at %s (a socket is left there by one that "
			 "stopped)",
			 path);
	else
		snprintf(buf, len, "cannot reach the broker at %s: %s", path,
			 strerror(-err));
}
