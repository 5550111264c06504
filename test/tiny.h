/*
 * tiny.h - a tiny provider in a child of the test, and clients that flood
 * it from children of their own: what test_limits and test_hostile share.
 *
 * The provider serves NAME: any path opens; reading a "hold..." file is
 * never answered (the request stays with it, as a blocking read with no
 * data does), reading another gives "ok".  Its stderr (serve's refusal
 * lines) goes to DIR/NAME.err.  With TINY_SLOPPY in env it is the provider
 * that answers 0 to every request it does not know, and SYS_FSTAT with
 * an inode number made from the path opened.
 */
#ifndef TEST_TINY_H
#define TEST_TINY_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * Start it, with env ("VAR=value" entries, NULL-terminated, or NULL) set
 * and, if nofile is not 0, its fd limit lowered to nofile (both soft and
 * hard: the preload raises the soft one to the hard one).
 */
pid_t tiny_start(const char *name, const char *const env[], rlim_t nofile);

/* Lines of its stderr that contain `what`. */
int tiny_log_lines(const char *name, const char *what);

/* Open NAME:other and read "ok" from it: 0, or the errno that failed. */
int tiny_try(const char *name);

/* A client that is not flooding opens and reads as usual (asserted). */
void tiny_assert_served(const char *name);

/* At least n fds for this process. */
void need_fds(rlim_t n);

/* Results a flooding child reports through a pipe. */
struct flood {
	int opened, err, refused, reopened, leaked;
};

void flood_put(int fd, const struct flood *f);
void flood_get(int fd, struct flood *f);
void flood_step(int fd);
void flood_wait(int fd);

/*
 * In a child: open NAME:f until refused (at most max), then try `extra`
 * more times; report on rep, wait for go, close one and open again (the
 * close reaches the provider in its own time), close all, report again
 * and exit.
 */
void flood_opens(const char *name, int max, int extra, int rep, int go)
    __attribute__((noreturn));

#endif
