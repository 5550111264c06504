/*
 * path.h - telling scheme paths from ordinary ones.
 *
 *	name:rest		scheme "name", path "rest" (given verbatim)
 *	:  :rest		the root scheme
 *	/scheme			the root scheme
 *	/scheme/name[/rest]	scheme "name", path "rest"
 *
 * A first component with a colon whose prefix is not a valid scheme name is
 * an ordinary path; so is everything else.  Whether the name is registered
 * is the broker's answer, asked later: "a:b.txt" on disk must still open.
 */
#ifndef PROTO_PATH_H
#define PROTO_PATH_H

#include <stdbool.h>
#include <stddef.h>

struct scheme_path {
	char name[64 + 1]; /* "" for the root scheme */
	const char *rest;  /* points into the caller's string */
	size_t restlen;
};

int path_classify(const char *path, struct scheme_path *sp);

/* Walking a path by its components, "/"s skipped. */
const char *path_next(const char **p, size_t *l);
void path_pop(char *out, size_t *n);

static inline bool
path_is_dot(const char *s, size_t l)
{
	return l == 1 && s[0] == '.';
}

static inline bool
path_is_dotdot(const char *s, size_t l)
{
	return l == 2 && s[0] == '.' && s[1] == '.';
}

#endif
