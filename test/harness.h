/*
 * harness.h - starting and stopping the real things tests run against.
 *
 * Every service a test needs is started here, as a child process, and
 * stopped by its pid (SIGTERM, then SIGKILL after a grace period).  Each
 * test binary gets its own broker socket in a fresh directory, so suites
 * can run in parallel and never meet a broker they did not start.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

struct run_result {
	int status; /* exit status, or 128 + signal */
	char out[65536];
	size_t outlen;
	char err[8192];
	size_t errlen;
	bool timed_out;
};

/* A directory of our own, with the broker socket in it. */
const char *h_dir(void);
const char *h_socket(void);
void h_setup_env(void);

pid_t h_start_broker(void);
pid_t h_start_broker_with(char *const extra[]);
pid_t h_start_memfs(const char *name);
pid_t h_start_provider(const char *prog, const char *name);
pid_t h_start_provider_args(const char *prog, const char *o1, const char *o2,
			    const char *o3, const char *name);
pid_t h_spawn(char *const argv[], bool preload, int outfd);
void h_exec(char *const argv[], bool preload) __attribute__((noreturn));
int h_stop(pid_t pid);
void h_stop_daemon(pid_t pid, const char *what);
extern int h_daemon_failures;
int h_wait_exit(pid_t pid, int seconds);
bool h_scheme_exists(const char *name);
bool h_scheme_listed(int fd, const char *name);

/* Run a command to completion (bounded in time), capturing its output. */
void h_run(struct run_result *r, bool preload, const char *input, int seconds,
	   char *const argv[]);
void h_sh(struct run_result *r, const char *script);
/* h_sh, which must succeed (else the case fails, saying why): its stdout. */
const char *h_sh_out(struct run_result *r, const char *script);
/* sh -c of a formatted script, without the preload; it must succeed. */
void h_sh_ok(struct run_result *r, int seconds, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The usual world of an integration suite: a broker, and scheme-memfs
 * serving `name` (none if NULL), for an unchecked fixture.
 */
extern pid_t h_broker, h_memfs;
void h_world_start(const char *name);
void h_world_stop(void);

void h_sleep_ms(int ms);
int h_main(Suite *s);

/*
 * In a child of the test (for what cannot be undone, such as setrens):
 * EXPECT reports the first expectation that fails on stderr and in the
 * child's exit status; h_in_child runs fn there and asserts it passed.
 */
#define EXPECT(c)                                                              \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: %s (errno %d %s)\n", __FILE__, \
				__LINE__, #c, errno, strerror(errno));         \
			_exit(1);                                              \
		}                                                              \
	} while (0)
#define FAILS(call, e) EXPECT((call) < 0 && errno == (e))
void h_in_child(void (*fn)(void));

/* Become nobody (uid and gid 65534, group nogroup only): 0 or -1. */
int h_become_nobody(void);

/* One byte and fd by SCM_RIGHTS (through the program's sendmsg). */
void h_send_fd(int sock, int fd);
/* The fd of one such message (through recvmsg), or -1. */
int h_recv_fd(int sock);
/* The inode of the socket fd refers to, as /proc names it. */
unsigned long h_sock_ino(int fd);

/* Files the program can see (hidden fds of the preload look closed). */
int h_count_fds(void);
char *h_read_file(const char *path, size_t *len);
long h_rss_kb(pid_t pid);
long h_stat_field(const char *scheme, const char *key);

#endif
