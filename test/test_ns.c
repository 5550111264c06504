/*
 * test_ns.c - namespaces (getns, setrens, mkns), the broker's policy on
 * who may connect and create, and its caps.
 *
 * Each namespace change happens in a child of the test (a process cannot
 * leave a namespace, and check itself must keep opening files), which
 * reports the first failed expectation on stderr and in its exit status.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/wire/wire.h"
#include "harness.h"
#include "raw.h"

static void
start_world(void)
{
	h_world_start("nsa");
	ck_assert_int_gt(h_start_memfs("nsb"), 0);
}

static int
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	return close(fd);
}

START_TEST(root_by_default)
{
	ck_assert_int_eq(getns(), WIRE_NS_ROOT);
}
END_TEST

static void *
read_in_thread(void *arg)
{
	char buf[16] = {0};
	int fd = *(int *)arg;

	if (pread(fd, buf, sizeof(buf) - 1, 0) != 5 || strcmp(buf, "HELLO"))
		return (void *)1;
	return NULL;
}

static void
null_child(void)
{
	int held, ctl, ch = -1;
	struct wire_ctl rep;
	pthread_t t;
	void *res;
	char buf[8];
	uint64_t nsb;

	EXPECT(put("nsb:f", "hello") == 0);
	EXPECT((held = open("nsb:f", O_RDWR)) >= 0);
	/* A closed file kept for the next open (pool.h) opens nothing
	 * after setrens: its channel's pipes are shut for opens too. */
	EXPECT((ctl = open("nsb:f", O_RDONLY)) >= 0 && close(ctl) == 0);
	EXPECT((ctl = raw_conn()) >= 0);
	EXPECT(raw_call(ctl, WIRE_CTL_CONNECT, 0, "nsb", &rep, NULL) == 0);
	nsb = rep.inst;

	EXPECT(setrens(0, 0) == 0);
	EXPECT(getns() == WIRE_NS_NULL);
	/* No open by name: schemes (ENODEV, as Redox) and files (EACCES). */
	FAILS(open("nsa:f", O_RDONLY), ENODEV);
	FAILS(open("/scheme/nsb/f", O_RDONLY), ENODEV);
	FAILS(open("event:", O_RDWR), ENODEV);
	FAILS(open(":", O_RDONLY), ENODEV);
	FAILS(open("/etc/hostname", O_RDONLY), EACCES);
	FAILS(syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY), EACCES);
	FAILS(syscall(SYS_open, "/etc/hostname", O_RDONLY), EACCES);
	FAILS(socket(AF_UNIX, SOCK_SEQPACKET, 0), EACCES);
	FAILS(execl("/bin/true", "true", (char *)NULL), EACCES);
	/* Fds held before keep working, from new threads too. */
	EXPECT(pread(held, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0);
	EXPECT(pwrite(held, "HELLO", 5, 0) == 5);
	EXPECT(pthread_create(&t, NULL, read_in_thread, &held) == 0);
	EXPECT(pthread_join(t, &res) == 0 && res == NULL);
	/* A connection made before moved too; by instance, no paths. */
	EXPECT(raw_call(ctl, WIRE_CTL_CONNECT, 0, "nsb", &rep, NULL) ==
	       -ENODEV);
	EXPECT(raw_call(ctl, WIRE_CTL_CONNECT, nsb, NULL, &rep, &ch) == 0);
	EXPECT(ch >= 0 && raw_open(ch, "f", O_RDONLY, NULL, NULL) == -ENODEV);
	/* No way back. */
	FAILS(setrens(WIRE_NS_ROOT, WIRE_NS_ROOT), EPERM);
	FAILS(setrens(-1, WIRE_NS_ROOT), EPERM);
	EXPECT(setrens(0, 0) == 0);
	FAILS(mkns((const char *[]){"nsa"}, 1), ENODEV);
	/* Children inherit it. */
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (getns() != WIRE_NS_NULL || open("nsa:f", O_RDONLY) >= 0 ||
		    errno != ENODEV ||
		    syscall(SYS_openat, AT_FDCWD, "/etc/hostname", 0) >= 0 ||
		    pread(held, buf, 5, 0) != 5)
			_exit(1);
		_exit(0);
	}
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0);
}

START_TEST(null_namespace)
{
	h_in_child(null_child);
}
END_TEST

/* Run sh -c script in namespace ns with an empty environment. */
static void
exec_in(long ns, const char *script, char *out, size_t len)
{
	char pre[1024], *envp[] = {pre, NULL};
	int p[2], st;
	ssize_t n, got = 0;
	pid_t pid;

	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", getenv("LD_PRELOAD"));
	EXPECT(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (setrens(ns, ns) < 0)
			_exit(3);
		execve("/bin/sh",
		       (char *[]){(char *)"sh", (char *)"-c", (char *)script,
				  NULL},
		       envp);
		_exit(4);
	}
	close(p[1]);
	while (got < (ssize_t)len - 1 &&
	       (n = read(p[0], out + got, len - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
}

static void
mkns_child(void)
{
	const char *names[] = {"nsa:", "file"};
	char out[4096];
	long id, sub;

	EXPECT(put("nsb:g", "secret") == 0);
	FAILS(mkns((const char *[]){"nosuch"}, 1), ENODEV);
	FAILS(mkns((const char *[]){"a\nb"}, 1), EINVAL);
	EXPECT((id = mkns(names, 2)) > WIRE_NS_ROOT);
	EXPECT(getns() == WIRE_NS_ROOT); /* made, not entered */
	EXPECT(setrens(id, id) == 0);
	EXPECT(getns() == id);
	EXPECT(put("nsa:f", "mine") == 0);
	FAILS(open("nsb:g", O_RDONLY), ENODEV);
	EXPECT(open("time:4", O_RDONLY) >= 0);
	EXPECT(open("/etc/hostname", O_RDONLY) >= 0); /* it holds "file" */
	FAILS(socket(AF_UNIX, SOCK_SEQPACKET, 0), EACCES);
	FAILS(mkns((const char *[]){"nsb"}, 1), ENODEV);
	FAILS(setrens(WIRE_NS_ROOT, -1), EPERM);
	/* Across exec, with the environment cleared: still in it. */
	exec_in(-1, "cat :; cat nsa:f; echo; cat nsb:g; echo rc=$?", out,
		sizeof(out));
	EXPECT(strstr(out, "nsa\n") != NULL);
	EXPECT(strstr(out, "nsb") == NULL || strstr(out, "nsb:g") != NULL);
	EXPECT(strstr(out, "mine\n") != NULL);
	EXPECT(strstr(out, "secret") == NULL);
	EXPECT(strstr(out, "No such device") != NULL);
	EXPECT(strstr(out, "rc=1") != NULL);
	/* Narrower still: a namespace made from this one, then null. */
	EXPECT((sub = mkns(NULL, 0)) > id);
	EXPECT(setrens(sub, sub) == 0);
	FAILS(open("nsa:f", O_RDONLY), ENODEV);
	FAILS(open("/etc/hostname", O_RDONLY), EACCES); /* no "file" */
	FAILS(setrens(id, id), EPERM);
	EXPECT(setrens(0, 0) == 0);
	EXPECT(getns() == WIRE_NS_NULL);
}

START_TEST(made_namespace)
{
	h_in_child(mkns_child);
}
END_TEST

/* Without "file", ordinary files are out of reach, as in the null one. */
static void
nofiles_child(void)
{
	long id;
	int fd;

	EXPECT((id = mkns((const char *[]){"nsa"}, 1)) > WIRE_NS_ROOT);
	EXPECT(setrens(id, id) == 0);
	EXPECT((fd = open("nsa:h", O_RDWR | O_CREAT, 0600)) >= 0);
	EXPECT(write(fd, "x", 1) == 1 && close(fd) == 0);
	EXPECT(open("time:4", O_RDONLY) >= 0);
	FAILS(open("/etc/hostname", O_RDONLY), EACCES);
	FAILS(syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY), EACCES);
	FAILS(execl("/bin/true", "true", (char *)NULL), EACCES);
	FAILS(mkns((const char *[]){"file"}, 1), ENODEV);
}

START_TEST(made_namespace_without_files)
{
	h_in_child(nofiles_child);
}
END_TEST

/* The listing of ":" and schemes created in a namespace. */
static void
create_child(void)
{
	char buf[256] = {0};
	long id;
	int fd, prov;

	EXPECT((id = mkns((const char *[]){"nsa"}, 1)) > 0);
	EXPECT(setrens(id, id) == 0);
	EXPECT((prov = open(":nsc", O_CREAT | O_RDWR | O_NONBLOCK, 0600)) >= 0);
	EXPECT((fd = open(":", O_RDONLY)) >= 0);
	EXPECT(read(fd, buf, sizeof(buf) - 1) > 0);
	EXPECT(strstr(buf, "nsa\n") && strstr(buf, "nsc\n"));
	EXPECT(strstr(buf, "nsb") == NULL);
	FAILS(unlink(":nsb"), ENOENT);
	close(fd);
	close(prov);
}

START_TEST(create_in_namespace)
{
	h_in_child(create_child);
}
END_TEST

/*
 * Our ids changed before our first scheme call (h_in_child's fork drops
 * the parent's connection), to a uid the broker's socket does not admit:
 * scheme paths, both forms, are EACCES with one line saying why, never
 * ENOENT from the disk; ordinary paths are the disk's.
 */
static void
refused_paths(void)
{
	char said[512] = "";
	int log = memfd_create("said", 0), err = dup(2);
	ssize_t n;

	EXPECT(log >= 0 && err >= 0 && dup2(log, 2) == 2);
	FAILS(open("nsa:pub/f", O_RDONLY), EACCES);
	FAILS(open("/scheme/nsa/pub/f", O_RDONLY), EACCES);
	FAILS(access("/scheme/nsa", F_OK), EACCES);
	FAILS(open("/nonexistent-disk-path", O_RDONLY), ENOENT);
	EXPECT(dup2(err, 2) == 2);
	n = pread(log, said, sizeof(said) - 1, 0);
	EXPECT(n > 0 && strstr(said, "does not admit uid 65534") != NULL);
	EXPECT(strchr(said, '\n') == said + n - 1); /* one line, once */
}

/* With --group: the socket is 0660 for it; members use, others can't. */
static void
as_nobody(bool member)
{
	gid_t g = 65534;
	int fd;

	EXPECT(setgroups(member ? 1 : 0, &g) == 0);
	EXPECT(setgid(member ? 65534 : 1) == 0);
	EXPECT(setuid(65534) == 0);
	if (!member) {
		FAILS(raw_conn(), EACCES);
		refused_paths();
		return;
	}
	EXPECT((fd = open("nsa:pub/f", O_RDWR | O_CREAT, 0600)) >= 0);
	FAILS(open(":mine", O_CREAT | O_RDWR, 0600), EACCES);
}

static void
member_child(void)
{
	as_nobody(true);
}

static void
stranger_child(void)
{
	as_nobody(false);
}

static void
start_group_world(void)
{
	char *extra[] = {(char *)"--group", (char *)"nogroup", NULL};

	h_setup_env();
	chmod(h_dir(), 0711);
	h_broker = h_start_broker_with(extra);
	ck_assert_int_gt(h_broker, 0);
	ck_assert_int_gt(h_memfs = h_start_memfs("nsa"), 0);
}

START_TEST(group_policy)
{
	struct stat st;

	if (geteuid() != 0)
		return; /* needs to become another user */
	ck_assert_int_eq(stat(h_socket(), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	ck_assert_int_eq(st.st_gid, 65534);
	/* memfs's root is root's 0755: members create in a directory of all. */
	ck_assert_int_eq(mkdir("nsa:pub", 0777), 0);
	ck_assert_int_eq(chmod("nsa:pub", 0777), 0);
	h_in_child(member_child);
	h_in_child(stranger_child);
}
END_TEST

static void
start_capped_world(void)
{
	char *extra[] = {(char *)"--limit", (char *)"conns-per-uid=6",
			 (char *)"--limit", (char *)"schemes=2", NULL};

	h_setup_env();
	h_broker = h_start_broker_with(extra);
	ck_assert_int_gt(h_broker, 0);
	ck_assert_int_gt(h_memfs = h_start_memfs("nsa"), 0);
}

/* A connection over the cap is answered with EMFILE and closed. */
START_TEST(caps)
{
	struct wire_ctl rep;
	int fds[8], n, i, r = 0, prov;

	for (n = 0; n < 8; n++) {
		fds[n] = raw_conn();
		ck_assert_int_ge(fds[n], 0);
		r = raw_call(fds[n], WIRE_CTL_LIST, 0, NULL, &rep, NULL);
		if (r < 0)
			break;
	}
	/* memfs holds two; the test's preload may hold one. */
	ck_assert_int_le(n, 5);
	ck_assert_int_eq(r, -EMFILE);
	ck_assert_uint_eq(rep.type, WIRE_CTL_REPLY);
	for (i = 0; i <= n; i++)
		close(fds[i]);
	h_sleep_ms(100);
	/* Two schemes at most: nsa and one more. */
	prov = open(":capped", O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(prov, 0);
	ck_assert_int_lt(open(":capped2", O_CREAT | O_RDWR, 0600), 0);
	ck_assert_int_eq(errno, ENFILE);
	close(prov);
}
END_TEST

static Suite *
ns_suite(void)
{
	Suite *s = suite_create("ns");
	TCase *tc = tcase_create("namespaces");

	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, root_by_default);
	tcase_add_test(tc, null_namespace);
	tcase_add_test(tc, made_namespace);
	tcase_add_test(tc, made_namespace_without_files);
	tcase_add_test(tc, create_in_namespace);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, start_group_world, h_world_stop);
	tcase_add_test(tc, group_policy);
	suite_add_tcase(s, tc);

	tc = tcase_create("caps");
	tcase_add_checked_fixture(tc, start_capped_world, h_world_stop);
	tcase_add_test(tc, caps);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(ns_suite());
}
