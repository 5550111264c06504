/*
 * hot.h - how the hot paths are compiled.
 *
 * A read or write of a scheme fd crosses the client, its channel and
 * the wire: six calls deep, each passing eight or ten arguments on.
 * With link-time optimisation (cmake/SchemeWarnings.cmake) the entry
 * points are flattened (HOT): everything they call is inlined into them,
 * and the compiler specialises it to the one case, a read of one buffer
 * by pipe say.  On one CPU that took a client's share of a read of 8 B
 * from 570 instructions to 310, and the round trip from 3.21 to 3.07 µs
 * (README, Performance).
 *
 * flatten inlines everything it can reach, so what the hot paths call
 * only in rare cases is kept out of line: COLD for what is rare for
 * every caller (connecting, errors, the first use of a channel), OUTLINE
 * for what other paths use often (the socket's calls, which every open
 * makes).  Without them each entry point grew to megabytes.
 */
#ifndef PRELOAD_HOT_H
#define PRELOAD_HOT_H

#define HOT	__attribute__((flatten))
#define COLD	__attribute__((noinline, cold))
#define OUTLINE __attribute__((noinline))

#endif
