/*
 * test_hostile.c - the sandbox against a hostile peer: another local
 * user, raw code speaking the protocol by hand, a client flooding a
 * provider (issue 12).  One tcase per class:
 *
 *   names	another uid binds thousands of abstract names in the
 *		patterns open files and namespace tokens were named by:
 *		opens, reads, exec of a program that inherits a scheme fd,
 *		SCM_RIGHTS and parked files all still work (open files have
 *		no name any more).
 *   old_channel	a channel made by hand before setrens names no path
 *		afterwards, in the null namespace or a narrower one, and
 *		whoever sends on it; files it holds keep working.
 *   floods	a process, or a user with many of them, flooding a provider
 *		with opens or channels is refused (EMFILE, EAGAIN) at its
 *		share of the provider's fds; other clients of its user and of
 *		another are served during and after.
 *
 * Runs under the preload.  The other user is nobody, which needs root
 * (CI runs as root); as another user the cases that need a second one
 * check what they can without it.  What cannot be undone (setrens, a
 * change of user) happens in a child (h_in_child).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"
#include "raw.h"
#include "tiny.h"

static bool
root(void)
{
	return geteuid() == 0;
}

static int
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	return close(fd);
}

/* The first bytes of fd, from its start, NUL-ended. */
static ssize_t
slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* Squatted names ------------------------------------------------------- */

static void
start_names_world(void)
{
	h_world_start("hs");
}

/* A scheme's instance, and the broker's id (any answer carries it). */
static uint64_t
inst_of(const char *name, uint64_t *broker)
{
	struct wire_ctl rep;
	int fd = raw_conn(), ch = -1;

	ck_assert_int_eq(raw_call(fd, WIRE_CTL_CONNECT, 0, name, &rep, &ch), 0);
	close(ch);
	close(fd);
	*broker = rep.broker;
	return rep.inst;
}

/* Bind an abstract name (by the system call: nothing in between). */
static int
squat_one(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path + 1, name, len);
	if (fd < 0 ||
	    syscall(SYS_bind, fd, (struct sockaddr *)&sa,
		    offsetof(struct sockaddr_un, sun_path) + 1 + len) < 0)
		return 0;
	return 1; /* kept open: the name is ours while we live */
}

#define SQUAT_KEYS 1024

/*
 * A squatter, as nobody: the next SQUAT_KEYS names of open files of each
 * instance, the next tokens' names, and the prefixes; how many it holds
 * goes down ready.  It lives until killed.
 */
static pid_t
squatter(uint64_t broker, const uint64_t *insts, int ninst, int ready)
{
	struct rlimit rl;
	char name[108];
	pid_t pid = fork();
	int n = 0;

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	signal(SIGTERM, SIG_DFL);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (root() && h_become_nobody() < 0)
		_exit(2);
	for (int i = 0; i < ninst; i++)
		for (unsigned long long k = 1; k <= SQUAT_KEYS; k++) {
			snprintf(name, sizeof(name), "scheme/%016llx/%llx/%llx",
				 (unsigned long long)broker,
				 (unsigned long long)insts[i], k);
			n += squat_one(name);
		}
	for (unsigned long long k = 1; k <= SQUAT_KEYS; k++) {
		snprintf(name, sizeof(name), "scheme-ns/%016llx/%llx",
			 (unsigned long long)broker, k);
		n += squat_one(name);
	}
	snprintf(name, sizeof(name), "scheme/%016llx/%llx/",
		 (unsigned long long)broker, (unsigned long long)insts[0]);
	n += squat_one(name);
	snprintf(name, sizeof(name), "scheme/%016llx",
		 (unsigned long long)broker);
	n += squat_one(name);
	n += squat_one("scheme");
	if (write(ready, &n, sizeof(n)) != sizeof(n))
		_exit(3);
	pause();
	_exit(0);
}

/* A child reads what it receives by SCM_RIGHTS: 0 if it was "hello". */
static void
receiver(int sock)
{
	char text[16];
	int fd = h_recv_fd(sock);

	_exit(fd >= 0 && slurp(fd, text, sizeof(text)) == 5 &&
		      strcmp(text, "hello") == 0
		  ? 0
		  : 1);
}

/* A closed file's socket is taken over by the next open (pool.h). */
static void
assert_reused(void)
{
	char text[16];
	unsigned long ino;
	int fd = open("hs:f", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ino = h_sock_ino(fd);
	ck_assert_int_eq(close(fd), 0);
	fd = open("hs:f", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(h_sock_ino(fd), ino);
	ck_assert_int_eq(slurp(fd, text, sizeof(text)), 5);
	ck_assert_str_eq(text, "hello");
	close(fd);
}

/*
 * Another user takes every name files and tokens were given: nothing of
 * ours notices.  (With open files named as they were, the first open
 * failed with EADDRINUSE.)
 */
START_TEST(squatted_names)
{
	uint64_t broker, insts[4] = {inst_of("hs", &broker), 1, 3, 4};
	int ready[2], sv[2], fds[300], n, st, i, fd;
	struct run_result *r = malloc(sizeof(*r));
	char *cat[] = {(char *)"sh", (char *)"-c", (char *)"cat < hs:f", NULL};
	char text[16];
	pid_t squat, pid;

	ck_assert_int_eq(pipe(ready), 0);
	squat = squatter(broker, insts, 4, ready[1]);
	ck_assert_int_eq(read(ready[0], &n, sizeof(n)), (ssize_t)sizeof(n));
	ck_assert_int_eq(n, 4 * SQUAT_KEYS + SQUAT_KEYS + 3);
	/* Parked files first: nothing forked or sent yet (pool.h). */
	ck_assert_int_eq(put("hs:f", "hello"), 0);
	assert_reused();
	/* Opens and reads, many files at once, built-ins too. */
	for (i = 0; i < 300; i++) {
		fds[i] = open("hs:f", O_RDONLY);
		ck_assert_msg(fds[i] >= 0, "open %d: %s", i, strerror(errno));
	}
	ck_assert_int_eq(slurp(fds[299], text, sizeof(text)), 5);
	ck_assert_str_eq(text, "hello");
	for (i = 0; i < 300; i++)
		close(fds[i]);
	fd = open("time:4", O_RDWR);
	ck_assert_msg(fd >= 0, "time:4: %s", strerror(errno));
	close(fd);
	/* A program that inherits the file across exec. */
	h_run(r, true, NULL, 20, cat);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "hello");
	free(r);
	/* A file sent to another process. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	if ((pid = fork()) == 0)
		receiver(sv[1]);
	fd = open("hs:f", O_RDONLY);
	ck_assert_msg(fd >= 0, "hs:f: %s", strerror(errno));
	h_send_fd(sv[0], fd);
	close(fd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver: %#x",
		      st);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(h_stop(squat), 128 + SIGTERM);
}
END_TEST

/* Old channels ---------------------------------------------------------- */

static void
start_channel_world(void)
{
	h_world_start("ho");
	ck_assert_int_gt(h_start_memfs("hp"), 0);
}

/*
 * On a channel to ho made by hand before: path requests of every kind
 * are ENODEV (key is a file held through it, for the rename).
 */
static void
names_nothing(int ch, uint64_t key)
{
	struct raw_io io = {.in = "g", .inlen = 1, .sendfd = -1};

	EXPECT(raw_open(ch, "f", O_RDONLY, NULL, NULL) == -ENODEV);
	EXPECT(raw_open(ch, "new", O_CREAT | O_RDWR, NULL, NULL) == -ENODEV);
	io.in = "f";
	EXPECT(raw_req(ch, SYS_UNLINK, 0, 1, 0, &io) == -ENODEV);
	io.in = "d";
	EXPECT(raw_req(ch, SYS_RMDIR, 0, 1, 0, &io) == -ENODEV);
	io.in = "renamed";
	io.inlen = strlen("renamed");
	EXPECT(raw_req(ch, SYS_FRENAME, key, 0, io.inlen, &io) == -ENODEV);
}

/* The file held through ch works: written and read back by its key. */
static void
held_works(int ch, uint64_t key, const char *text)
{
	struct raw_io io = {.in = text, .inlen = strlen(text), .sendfd = -1};
	char buf[32] = {0};

	EXPECT(raw_req(ch, SYS_FTRUNCATE, key, 0, 0, NULL) == 0);
	EXPECT(raw_req(ch, SYS_LSEEK, key, 0, SEEK_SET, NULL) == 0);
	EXPECT(raw_req(ch, SYS_WRITE, key, 0, io.inlen, &io) ==
	       (int64_t)io.inlen);
	EXPECT(raw_req(ch, SYS_LSEEK, key, 0, SEEK_SET, NULL) == 0);
	io = (struct raw_io){.sendfd = -1, .out = buf, .outlen = sizeof(buf)};
	EXPECT(raw_req(ch, SYS_READ, key, 0, sizeof(buf) - 1, &io) ==
	       (int64_t)strlen(text));
	EXPECT(strcmp(buf, text) == 0);
}

/* A channel to ho by hand, a file f and a directory d made through it. */
static int
old_channel(int *fd, uint64_t *key)
{
	struct wire_ctl rep;
	int ctl, ch = -1;

	EXPECT((ctl = raw_conn()) >= 0);
	EXPECT(raw_call(ctl, WIRE_CTL_CONNECT, 0, "ho", &rep, &ch) == 0);
	EXPECT(ch >= 0);
	EXPECT(raw_open(ch, "f", O_CREAT | O_RDWR, fd, key) >= 0 && *fd >= 0);
	EXPECT(raw_open(ch, "d", O_CREAT | O_DIRECTORY | O_RDONLY, NULL,
			NULL) >= 0);
	held_works(ch, *key, "before");
	return ch;
}

static void
after_null(void)
{
	uint64_t key;
	int fd, ch = old_channel(&fd, &key);

	EXPECT(setrens(0, 0) == 0);
	names_nothing(ch, key);
	held_works(ch, key, "after");
}

START_TEST(old_channel_null_namespace)
{
	h_in_child(after_null);
}
END_TEST

static void
after_mkns(void)
{
	uint64_t key;
	int fd, ch = old_channel(&fd, &key);
	long id;

	EXPECT((id = mkns((const char *[]){"hp"}, 1)) > WIRE_NS_ROOT);
	EXPECT(setrens(id, id) == 0);
	names_nothing(ch, key);
	held_works(ch, key, "after");
}

START_TEST(old_channel_made_namespace)
{
	h_in_child(after_mkns);
}
END_TEST

/* ch's pipes (WIRE_OP_PIPES): the request pipe in *w, answers back. */
static int
raw_pipes(int ch, int *w)
{
	struct raw_io io = {.sendfd = -1};
	int pp[2];

	EXPECT(pipe2(pp, O_CLOEXEC) == 0);
	io.sendfd = pp[0];
	EXPECT(raw_req(ch, WIRE_OP_PIPES, 0, 0, 0, &io) == 0 && io.rfd >= 0);
	close(pp[0]);
	*w = pp[1];
	return io.rfd;
}

/* An open down a request pipe (offering key): its answer's status. */
static uint32_t
pipe_open(int w, int r, uint64_t key, const char *path)
{
	struct wire_req req;
	struct wire_rep rep;
	struct iovec iov[2] = {{&req, sizeof(req)},
			       {(void *)path, strlen(path)}};

	wire_req_init(&req, SYS_OPEN, key);
	req.seq = 7;
	req.arg[2] = O_RDONLY;
	req.len = (uint32_t)strlen(path);
	EXPECT(writev(w, iov, 2) == (ssize_t)(sizeof(req) + req.len));
	EXPECT(read(r, &rep, sizeof(rep)) == (ssize_t)sizeof(rep));
	EXPECT(rep.seq == 7);
	return rep.status;
}

/*
 * A child that inherits the channel and changes namespace names nothing
 * through it: it is not the channel's owner; nor through its pipes, whose
 * requests carry the owner's credentials (an open goes back to the
 * socket).  The owner, whose namespace did not change, still names.
 */
static void
inherited(void)
{
	uint64_t key;
	int fd, ch = old_channel(&fd, &key), st, w, r = raw_pipes(ch, &w);
	pid_t pid = fork();

	EXPECT(pid >= 0);
	if (pid == 0) {
		EXPECT(setrens(0, 0) == 0);
		names_nothing(ch, key);
		EXPECT(pipe_open(w, r, key, "f") == WIRE_RESEND);
		held_works(ch, key, "child");
		_exit(0);
	}
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0);
	EXPECT(raw_open(ch, "f", O_RDONLY, NULL, NULL) >= 0);
}

START_TEST(old_channel_inherited)
{
	h_in_child(inherited);
}
END_TEST

/* Floods ----------------------------------------------------------------- */

/*
 * The provider's fd limit in these cases, and the shares of it serve
 * gives (proto/serve.h): of 1024 - 64 - 1024 / 8 = 832, a quarter in
 * files for a process and a half for a user, a 64th in channels for a
 * process and a 16th for a user.
 */
#define NOFILE	    1024
#define PID_FILES   208
#define UID_FILES   416
#define PID_CHANS   13
#define UID_CHANS   52
#define N_FLOODERS  3
#define N_CHANNELER 5

static pid_t tiny;

/* nobody may use the broker (--group nogroup) and reach its socket. */
static void
start_flood_world(void)
{
	char *extra[] = {(char *)"--group", (char *)"nogroup", NULL};

	h_setup_env();
	chmod(h_dir(), 0711);
	h_broker = h_start_broker_with(extra);
	ck_assert_int_gt(h_broker, 0);
	tiny = tiny_start("hf", NULL, NOFILE);
}

static void
stop_flood_world(void)
{
	h_stop(tiny);
	h_world_stop();
}

/* tiny_try("hf") as nobody, in a child: 0 or the errno. */
static int
try_as_nobody(void)
{
	pid_t pid;
	int st;

	if (!root())
		return 0; /* no second user to be */
	if ((pid = fork()) == 0)
		_exit(h_become_nobody() < 0 ? 100 : tiny_try("hf"));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Served: this process (root's, or the runner's) and nobody. */
static void
assert_both_served(void)
{
	tiny_assert_served("hf");
	ck_assert_int_eq(try_as_nobody(), 0);
}

static pid_t
flooder(bool nobody, void (*fn)(int, int), int rep, int go)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (nobody && h_become_nobody() < 0)
			_exit(100);
		fn(rep, go);
	}
	return pid;
}

static void
flood_files(int rep, int go)
{
	flood_opens("hf", 2000, 50, rep, go);
}

/*
 * One process opens until refused: EMFILE at its share, every time
 * after; another process of its user and one of another are served
 * meanwhile and after, and it opens again once it closed one.
 */
START_TEST(file_flood)
{
	int rep[2], go[2];
	struct flood f;
	char line[128];
	pid_t pid;

	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = flooder(false, flood_files, rep[1], go[0]);
	flood_get(rep[0], &f);
	assert_both_served();
	ck_assert_int_eq(f.opened, PID_FILES);
	ck_assert_int_eq(f.err, EMFILE);
	ck_assert_int_eq(f.refused, 50);
	flood_step(go[1]);
	flood_get(rep[0], &f);
	ck_assert_int_eq(f.reopened, PID_FILES);
	ck_assert_int_eq(f.leaked, 0);
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	assert_both_served();
	snprintf(line, sizeof(line),
		 "scheme hf: pid %d hit the open-handle cap (%d): EMFILE",
		 (int)pid, PID_FILES);
	ck_assert_int_eq(tiny_log_lines("hf", line), 1);
}
END_TEST

/*
 * Many processes of one user flood together: the user gets its share and
 * no more; another user is served meanwhile, and the first again after.
 */
START_TEST(user_file_flood)
{
	int rep[2], go[2], sum = 0;
	pid_t pid[N_FLOODERS];
	struct flood f;

	if (!root())
		return; /* the flooding user must not be the one served */
	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(go), 0);
	for (int i = 0; i < N_FLOODERS; i++)
		pid[i] = flooder(true, flood_files, rep[1], go[0]);
	for (int i = 0; i < N_FLOODERS; i++) {
		flood_get(rep[0], &f);
		tiny_assert_served("hf");
		ck_assert_int_le(f.opened, PID_FILES);
		ck_assert_int_eq(f.err, EMFILE);
		sum += f.opened;
	}
	ck_assert_int_eq(sum, UID_FILES);
	ck_assert_int_eq(try_as_nobody(), EMFILE);
	for (int i = 0; i < N_FLOODERS; i++)
		flood_step(go[1]);
	for (int i = 0; i < N_FLOODERS; i++) {
		flood_get(rep[0], &f);
		ck_assert_int_eq(f.leaked, 0);
	}
	for (int i = 0; i < N_FLOODERS; i++)
		ck_assert_int_eq(h_wait_exit(pid[i], 10), 0);
	ck_assert_int_ge(tiny_log_lines("hf", "hit the per-uid open-handle "
					      "cap (416): EMFILE"),
			 1);
	for (int i = 0; i < 100 && try_as_nobody() != 0; i++)
		h_sleep_ms(20); /* the closes reach the provider */
	assert_both_served();
}
END_TEST

/*
 * Channels by hand until refused, each kept (at most max): opened counts
 * those the provider took, refused those it turned away (err: why).  In
 * the null namespace, by instance (the flood).
 */
static void
flood_channels(bool null_ns, int max, int rep, int go)
{
	struct flood f = {0};
	struct wire_ctl r;
	struct raw_io io = {.sendfd = -1};
	int ctl = raw_conn(), ch = -1;
	uint64_t inst = 0;

	if (ctl < 0 || raw_call(ctl, WIRE_CTL_CONNECT, 0, "hf", &r, &ch) < 0)
		_exit(9);
	inst = r.inst;
	if (null_ns && setrens(0, 0) < 0)
		_exit(10);
	for (int i = 0; i < max; i++) {
		if (i > 0 && raw_call(ctl, WIRE_CTL_CONNECT, null_ns ? inst : 0,
				      null_ns ? NULL : "hf", &r, &ch) < 0)
			_exit(11);
		if (raw_req(ch, WIRE_OP_CANCEL, 0, 0, 0, &io) == 0 &&
		    io.rep.status == WIRE_OK) {
			f.opened++;
			continue;
		}
		if (io.rep.status == WIRE_REFUSED)
			f.err = -(int)(int64_t)io.rep.result;
		f.refused++;
		close(ch);
		if (f.refused == 20)
			break;
	}
	flood_put(rep, &f);
	flood_wait(go);
	_exit(0); /* its channels close with it */
}

static void
flood_chans_null(int rep, int go)
{
	flood_channels(true, 2 * NOFILE, rep, go);
}

static void
flood_chans(int rep, int go)
{
	flood_channels(false, NOFILE / 2, rep, go);
}

/*
 * A process in the null namespace asks for channel after channel by
 * instance: past its share each is refused, EAGAIN, and closed at once;
 * other clients of its user and of another are served.
 */
START_TEST(channel_flood)
{
	int rep[2], go[2];
	struct flood f;
	pid_t pid;

	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = flooder(false, flood_chans_null, rep[1], go[0]);
	flood_get(rep[0], &f);
	assert_both_served();
	ck_assert_int_eq(f.opened, PID_CHANS);
	ck_assert_int_eq(f.refused, 20);
	ck_assert_int_eq(f.err, EAGAIN);
	flood_step(go[1]);
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	assert_both_served();
}
END_TEST

/* Many processes of one user: together, the user's share of channels. */
START_TEST(user_channel_flood)
{
	int rep[2], go[2], sum = 0;
	pid_t pid[N_CHANNELER];
	struct flood f;

	if (!root())
		return;
	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(go), 0);
	for (int i = 0; i < N_CHANNELER; i++)
		pid[i] = flooder(true, flood_chans, rep[1], go[0]);
	for (int i = 0; i < N_CHANNELER; i++) {
		flood_get(rep[0], &f);
		tiny_assert_served("hf");
		ck_assert_int_le(f.opened, PID_CHANS);
		ck_assert_int_eq(f.err, EAGAIN);
		sum += f.opened;
	}
	ck_assert_int_eq(sum, UID_CHANS);
	for (int i = 0; i < N_CHANNELER; i++)
		flood_step(go[1]);
	for (int i = 0; i < N_CHANNELER; i++)
		ck_assert_int_eq(h_wait_exit(pid[i], 10), 0);
	for (int i = 0; i < 100 && try_as_nobody() != 0; i++)
		h_sleep_ms(20);
	assert_both_served();
}
END_TEST

/*
 * A provider that answers 0 to every request it does not know seems to
 * link: link(2) says EIO, and why, once; a link is never reported made
 * when the new name is not the file.
 */
START_TEST(sloppy_provider_link_is_loud)
{
	const char *const env[] = {"TINY_SLOPPY=1", NULL};
	pid_t p = tiny_start("sl", env, 0);
	static struct run_result r;
	char *argv[] = {(char *)"sh", (char *)"-c",
			(char *)"ln sl:old sl:new; echo \"ln $?\"; "
				"ln sl:old sl:new2; echo \"ln $?\"",
			NULL};

	h_run(&r, true, NULL, 20, argv);
	ck_assert(!r.timed_out);
	ck_assert_str_eq(r.out, "ln 1\nln 1\n");
	ck_assert_msg(strstr(r.err, "Input/output error") != NULL, "%s", r.err);
	ck_assert_msg(strstr(r.err, "scheme sl: the provider answered "
				    "SYS_FLINK with success but made no link") !=
			  NULL,
		      "%s", r.err);
	h_stop(p);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("names");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, start_names_world, h_world_stop);
	tcase_add_test(tc, squatted_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("old_channel");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_channel_world, h_world_stop);
	tcase_add_test(tc, old_channel_null_namespace);
	tcase_add_test(tc, old_channel_made_namespace);
	tcase_add_test(tc, old_channel_inherited);
	tcase_add_test(tc, sloppy_provider_link_is_loud);
	suite_add_tcase(s, tc);

	/* A world each: a flood's charges must not outlive its case. */
	tc = tcase_create("floods");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, start_flood_world, stop_flood_world);
	tcase_add_test(tc, file_flood);
	tcase_add_test(tc, user_file_flood);
	tcase_add_test(tc, channel_flood);
	tcase_add_test(tc, user_channel_flood);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(hostile_suite());
}
