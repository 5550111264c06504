/*
 * route.h - where an open of a scheme path goes (route.c).
 */
#ifndef PRELOAD_ROUTE_H
#define PRELOAD_ROUTE_H

#include <sys/types.h>

#include "../proto/wire/path.h"

int route_open(const struct scheme_path *sp, int flags, mode_t mode);

#endif
