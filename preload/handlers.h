/*
 * handlers.h - what the program's signal handlers mean for the preload.
 */
#ifndef PRELOAD_HANDLERS_H
#define PRELOAD_HANDLERS_H

#include <signal.h>
#include <stdbool.h>

/* A disposition the program installs (sigsys.c's wrappers). */
void handlers_note(const struct sigaction *act);

/* Whether it has a handler that restarts the reads it interrupts. */
bool handlers_restart(void);

#endif
