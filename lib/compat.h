/*
 * compat.h - libscheme inside: what the SCHEME_0.1 entry points share
 * (see libscheme.map).  A provider built with SCHEME_0.1's header passes
 * a struct scheme_ops that ends with close, with SCHEME_0.2's one that
 * ends with lock.
 */
#ifndef LIB_COMPAT_H
#define LIB_COMPAT_H

#include <scheme/scheme.h>

const struct scheme_ops *scheme_ops_0_1(const struct scheme_ops *old,
					struct scheme_ops *whole);
const struct scheme_ops *scheme_ops_0_2(const struct scheme_ops *old,
					struct scheme_ops *whole);

int64_t scheme_dispatch_0_1(const struct scheme_ops *ops, void *ctx,
			    struct scheme_packet *p);
int64_t scheme_dispatch_0_2(const struct scheme_ops *ops, void *ctx,
			    struct scheme_packet *p);
int64_t scheme_dispatch_0_3(const struct scheme_ops *ops, void *ctx,
			    struct scheme_packet *p);
int scheme_serve_0_1(int fd, const struct scheme_ops *ops, void *ctx);
int scheme_serve_0_2(int fd, const struct scheme_ops *ops, void *ctx);
int scheme_serve_0_3(int fd, const struct scheme_ops *ops, void *ctx);

#endif
