/*
 * env.c - keeping the preload across exec.
 *
 * A program that clears its environment (env -i, a sanitising daemon)
 * would start its children without us and without the broker's address.
 * The exec wrappers put LD_PRELOAD and SCHEME_SOCKET back when they are
 * missing; a program that sets either to something else is obeyed.
 * Built on the caller's stack: exec may run in a vfork child, where
 * malloc is not safe.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bconn.h"
#include "init.h"
#include "resolve.h"
#include "uaccess.h"

static char preload_var[4096];

void
env_capture(void)
{
	const char *p = getenv("LD_PRELOAD");
	int n;

	if (p != NULL) {
		n = snprintf(preload_var, sizeof(preload_var), "LD_PRELOAD=%s",
			     p);
		if (n < 0 || (size_t)n >= sizeof(preload_var))
			preload_var[0] = '\0';
	}
}

#define ARG_STRLEN (32 * 4096) /* the kernel's MAX_ARG_STRLEN */

/*
 * The entries of envp, -1 if it or a string of it cannot be read: then
 * it goes to the kernel as it is, and exec fails with EFAULT
 * (uaccess.h).
 */
static ssize_t
env_count(char *const envp[])
{
	size_t n;

	for (n = 0; envp != NULL; n++) {
		if (ua_read_ok(&envp[n], sizeof(envp[n])) < 0)
			return -1;
		if (envp[n] == NULL)
			break;
		if (ua_strnlen(envp[n], ARG_STRLEN) < 0)
			return -1;
	}
	return (ssize_t)n;
}

size_t
env_space(char *const envp[])
{
	ssize_t n = env_count(envp);

	return n < 0 ? 4 : (size_t)n + 4;
}

static int
has(char *const envp[], const char *var)
{
	size_t len = strcspn(var, "=") + 1;

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, var, len) == 0)
			return 1;
	return 0;
}

/*
 * envp, or a copy of it in space[] with what is missing added: sockvar is
 * the caller's buffer for "SCHEME_SOCKET=...", cwdvar for "SCHEME_CWD=..."
 * (set while in a scheme directory; any other SCHEME_CWD is dropped).
 */
char **
env_fix(char *const envp[], char **space, size_t nspace, char *sockvar,
	size_t socklen, char *cwdvar, size_t cwdlen)
{
	size_t i, n = 0, k = sizeof("SCHEME_SOCKET=") - 1;
	int need_p, need_s, need_c;

	if (env_count(envp) < 0)
		return (char **)envp;
	need_p = preload_var[0] && !has(envp, preload_var);
	memcpy(sockvar, "SCHEME_SOCKET=", k);
	bconn_path(sockvar + k, socklen - k);
	need_s = sockvar[k] != '\0' && !has(envp, sockvar);
	resolve_env(cwdvar, cwdlen);
	need_c = cwdvar[0] != '\0' || has(envp, "SCHEME_CWD=");

	if (!need_p && !need_s && !need_c)
		return (char **)envp;
	for (i = 0; envp != NULL && envp[i] != NULL && n + 4 <= nspace; i++)
		if (strncmp(envp[i], "SCHEME_CWD=", 11) != 0)
			space[n++] = envp[i];
	if (need_p)
		space[n++] = preload_var;
	if (need_s)
		space[n++] = sockvar;
	if (cwdvar[0] != '\0')
		space[n++] = cwdvar;
	space[n] = NULL;
	return space;
}
