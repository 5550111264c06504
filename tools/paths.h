/*
 * paths.h - where the installed (or built) pieces are, found from the
 * running tool's own location: bin/ beside the library directory, in the
 * build tree as after `cmake --install`.
 */
#ifndef TOOLS_PATHS_H
#define TOOLS_PATHS_H

#include <stddef.h>

#ifndef SCHEME_ASAN_RUNTIME
#define SCHEME_ASAN_RUNTIME ""
#endif

enum paths_what { PATHS_PRELOAD, PATHS_SCHEMED, PATHS_VIEW, PATHS_MEMFS };

int paths_find(char *buf, size_t len, enum paths_what what);

#endif
