/*
 * init.h - start-up, fork and exec plumbing shared by the wrappers.
 */
#ifndef PRELOAD_INIT_H
#define PRELOAD_INIT_H

void env_capture(void);
char **env_fix(char *const envp[], char **space, size_t nspace, char *sockvar,
	       size_t socklen, char *cwdvar, size_t cwdlen);
size_t env_space(char *const envp[]);

#endif
