/*
 * reach.h - why the broker at a socket path cannot be used, in words a
 * user can act on: nobody there, a socket left by a broker that stopped,
 * or a broker that is not theirs to use (and then whose it is, and who
 * may use it).
 */
#ifndef TOOLS_REACH_H
#define TOOLS_REACH_H

#include <stddef.h>

/* err: the -errno of connecting to path, or of the broker's refusal. */
void reach_explain(const char *path, int err, char *buf, size_t len);

/* Whether err says the broker is there but not ours to use. */
int reach_denied(int err);

#endif
