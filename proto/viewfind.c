/*
 * viewfind.c - see viewfind.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "viewfind.h"

/* A mountinfo field, with its \ooo escapes (space, tab, \n, \\) undone. */
static void
unescape(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

bool
viewfind_line(char *line, char **point, char **source, char **opts)
{
	char *save, *tok;
	int i;

	tok = strtok_r(line, " \n", &save);
	for (i = 1; tok != NULL && i < 5; i++)
		tok = strtok_r(NULL, " \n", &save);
	if (tok == NULL)
		return false;
	*point = tok;
	while ((tok = strtok_r(NULL, " \n", &save)) != NULL &&
	       strcmp(tok, "-") != 0)
		;
	if (tok == NULL || (tok = strtok_r(NULL, " \n", &save)) == NULL ||
	    strcmp(tok, "fuse.scheme") != 0 ||
	    (*source = strtok_r(NULL, " \n", &save)) == NULL ||
	    (*opts = strtok_r(NULL, " \n", &save)) == NULL)
		return false;
	unescape(*point);
	unescape(*source);
	return true;
}

bool
viewfind_for(const char *source, const char *opts, const char *sock,
	     unsigned uid)
{
	char want[32];
	const char *p;
	size_t n;

	n = (size_t)snprintf(want, sizeof(want), "user_id=%u", uid);
	if (strncmp(source, "scheme:", 7) != 0 || strcmp(source + 7, sock) != 0)
		return false;
	for (p = opts; (p = strstr(p, want)) != NULL; p += n)
		if ((p == opts || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

bool
viewfind_run(const char *point, const char *sock)
{
	size_t n = strlen(sock);

	return strncmp(point, sock, n) == 0 &&
	       strncmp(point + n, ".view.", 6) == 0;
}
