/*
 * path.c - telling scheme paths from ordinary ones (see path.h).
 *
 * This runs on every open of a path in every program under the preload, so
 * the ordinary case must be decided from the first few bytes: a path that
 * starts with '/' (other than "/scheme") or has a '/' before any ':' is
 * ordinary without looking further.
 */
#include <string.h>

#include "path.h"
#include "wire.h"

static int
set_name(struct scheme_path *sp, const char *name, size_t len)
{
	if (len != 0 && wire_name_check(name, len) < 0)
		return 0;
	memcpy(sp->name, name, len);
	sp->name[len] = '\0';
	return 1;
}

static int
classify_dir(const char *path, struct scheme_path *sp)
{
	const char *p = path + sizeof("/scheme") - 1;
	const char *slash;

	if (*p != '\0' && *p != '/')
		return 0; /* "/schemefoo" */
	while (*p == '/')
		p++;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	if (!set_name(sp, p, (size_t)(slash - p)))
		return 0;
	while (*slash == '/')
		slash++;
	sp->rest = slash;
	sp->restlen = strlen(slash);
	return 1;
}

int
path_classify(const char *path, struct scheme_path *sp)
{
	const char *p;

	if (path == NULL)
		return 0;
	if (path[0] == '/')
		return strncmp(path, "/scheme", 7) == 0 &&
		       classify_dir(path, sp);
	for (p = path; *p != '\0' && *p != ':'; p++)
		if (*p == '/')
			return 0;
	if (*p != ':')
		return 0;
	if (!set_name(sp, path, (size_t)(p - path)))
		return 0;
	sp->rest = p + 1;
	sp->restlen = strlen(p + 1);
	return 1;
}

/*
 * The next component of the path at *p, its length in *l, *p moved past
 * it; NULL at the end.
 */
const char *
path_next(const char **p, size_t *l)
{
	const char *s;

	while (**p == '/')
		(*p)++;
	if (**p == '\0')
		return NULL;
	for (s = *p; **p != '\0' && **p != '/';)
		(*p)++;
	*l = (size_t)(*p - s);
	return s;
}

/* Take the last component off out (length *n): its directory. */
void
path_pop(char *out, size_t *n)
{
	while (*n > 0 && out[*n - 1] != '/')
		(*n)--;
	if (*n > 0)
		(*n)--;
	out[*n] = '\0';
}
