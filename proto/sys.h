/*
 * sys.h - how code in proto/ reaches the C library.
 *
 * proto/ is compiled twice: into the broker, where SYS(close) is simply
 * close, and into the preload, where the program's own close is our
 * wrapper.  Inside the preload an internal call must never come back into
 * a wrapper (it would route our own sockets through the fd table, and the
 * recvmsg wrapper would adopt descriptions we are only passing along), so
 * there SYS(f) is the next definition of f, resolved once by real.c.
 */
#ifndef PROTO_SYS_H
#define PROTO_SYS_H

#ifdef SCHEME_IN_PRELOAD
#include "../preload/real.h"
#define SYS(f) (*real_fn.f)
#else
#define SYS(f) f
#endif

#endif
