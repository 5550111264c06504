/*
 * sigsys.h - what sigsys.c tells the rest of the preload: whether the
 * program has a signal handler that restarts interrupted reads.
 */
#ifndef PRELOAD_SIGSYS_H
#define PRELOAD_SIGSYS_H

#include <stdbool.h>

bool sig_restarts(void);

#endif
