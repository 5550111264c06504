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

#include <stddef.h>

struct scheme_path {
	char name[64 + 1]; /* "" for the root scheme */
	const char *rest;  /* points into the caller's string */
	size_t restlen;
};

int path_classify(const char *path, struct scheme_path *sp);

#endif
