/*
 * test_view.c - the kernel-visible view of the schemes (scheme-fuse),
 * through a real FUSE mount, with scheme-memfs as the provider.
 *
 * "through the view": programs run without the preload (the suite itself
 * is not preloaded) on MNT/vw/...; "through the preload": the same
 * program, preloaded, on /scheme/vw/....  Each compares the two.
 *
 * The first test case shares one broker, provider and mount; the second
 * starts and ends its own in each case, to see the mount go away as it
 * should (schemectl umount, the broker stopping or dying, the daemon
 * killed) and no daemon stay behind: the suite makes itself a child
 * subreaper, so the detached daemon (and fusermount3, which watches
 * every view) are its children to wait for.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define S "vw"

static struct run_result *r;
static char mnt[128];

/* MNT/vw/rel, through the view. */
static const char *
vp(const char *rel)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/" S "%s%s", mnt, rel[0] ? "/" : "",
		 rel);
	return buf[k];
}

/* /scheme/vw/rel, through the preload. */
static const char *
sp(const char *rel)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "/scheme/" S "%s%s", rel[0] ? "/" : "",
		 rel);
	return buf[k];
}

#define RUN(preload, ...)                                                      \
	do {                                                                   \
		char *argv_[] = {__VA_ARGS__, NULL};                           \
		h_run(r, preload, NULL, 20, argv_);                            \
		ck_assert_msg(!r->timed_out, "%s: timed out", argv_[0]);       \
	} while (0)

static void
put(const char *rel, const char *text)
{
	char *argv[] = {(char *)"sh", (char *)"-c",    (char *)"cat > \"$1\"",
			(char *)"sh", (char *)sp(rel), NULL};

	h_run(r, true, text, 20, argv);
	ck_assert_msg(r->status == 0, "writing %s: %s", sp(rel), r->err);
}

static const char *
get(const char *rel)
{
	RUN(true, (char *)"cat", (char *)sp(rel));
	ck_assert_msg(r->status == 0, "cat %s: %s", sp(rel), r->err);
	return r->out;
}

/* A file's contents (up to 64 KiB), in a buffer the next call reuses. */
static const char *
slurp(const char *path)
{
	static char text[65536];
	size_t len;
	char *s = h_read_file(path, &len);

	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	snprintf(text, sizeof(text), "%s", s);
	free(s);
	return text;
}

static bool
mounted(const char *dir)
{
	size_t len;
	char *s = h_read_file("/proc/self/mountinfo", &len), want[300];
	bool yes;

	snprintf(want, sizeof(want), " %s ", dir);
	yes = s != NULL && strstr(s, want) != NULL;
	free(s);
	return yes;
}

/* schemectl [--socket S] ARGS..., without the preload, as a user would. */
static int
schemectl(const char *cmd, const char *arg)
{
	RUN(false, (char *)TEST_SCHEMECTL, (char *)"--socket",
	    (char *)h_socket(), (char *)cmd, (char *)arg);
	return r->status;
}

static void
mount_view(void)
{
	snprintf(mnt, sizeof(mnt), "%s/mnt", h_dir());
	mkdir(mnt, 0755);
	ck_assert_msg(schemectl("mount", mnt) == 0, "mount: %s", r->err);
	ck_assert(mounted(mnt));
}

static void
setup(void)
{
	r = calloc(1, sizeof(*r));
}

static void
teardown(void)
{
	free(r);
}

static void
world_start(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	h_world_start(S);
	setup();
	mount_view();
	teardown();
}

static void
world_stop(void)
{
	setup();
	schemectl("umount", mnt);
	teardown();
	h_world_stop();
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the daemons we adopted */
		;
}

START_TEST(lists_the_schemes)
{
	char list[256] = "";
	struct dirent *de;
	struct stat st;
	char path[512];
	DIR *d = opendir(mnt);

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_int_eq(de->d_type, DT_DIR);
		snprintf(path, sizeof(path), "%s/%s", mnt, de->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert(S_ISDIR(st.st_mode));
		ck_assert_uint_eq(de->d_ino, st.st_ino);
		strcat(list, de->d_name);
		strcat(list, "\n");
	}
	closedir(d);
	RUN(true, (char *)"cat", (char *)":");
	ck_assert_str_eq(r->out, "event\nirq\ntime\n" S "\n");
	RUN(false, (char *)"ls", mnt);
	ck_assert_str_eq(r->out, "event\nirq\ntime\n" S "\n");
	ck_assert_int_eq(stat(vp("nosuch/x"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/nosuch", mnt);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(cat_and_write)
{
	RUN(false, (char *)"cat", (char *)vp("world"));
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "Hello, world!\n");
	h_sh_ok(r, 20, "echo one > %s && echo two >> %s", vp("cw"), vp("cw"));
	ck_assert_str_eq(get("cw"), "one\ntwo\n");
	/* An append goes to the provider's end, not the kernel's idea. */
	put("cw", "through the preload\n");
	h_sh_ok(r, 20, "echo three >> %s", vp("cw"));
	ck_assert_str_eq(get("cw"), "through the preload\nthree\n");
	h_sh_ok(r, 20,
		"dd if=/dev/zero bs=4096 count=40 2>/dev/null | tr "
		"'\\0' x > %s; wc -c < %s",
		vp("big"), vp("big"));
	ck_assert_str_eq(r->out, "163840\n");
	h_sh_out(r, "wc -c < /scheme/" S "/big; tr -d x < /scheme/" S "/big");
	ck_assert_str_eq(r->out, "163840\n");
	RUN(false, (char *)"cat", (char *)vp("missing"));
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "No such file or directory"));
}
END_TEST

/* stat's fields but the device (the mount's own) and the inode number. */
#define STAT_FMT "%f %h %u %g %s %o %b %x|%y|%z"

START_TEST(stat_matches_preload)
{
	const char *names[] = {"", "world", "sd", "sd/f", ".stats"};
	char through[512], expect[512];
	struct stat v;

	h_sh_out(r, "mkdir /scheme/" S "/sd");
	put("sd/f", "some bytes\n");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		RUN(false, (char *)"stat", (char *)"-c", (char *)STAT_FMT " %i",
		    (char *)vp(names[i]));
		ck_assert_msg(r->status == 0, "%s: %s", vp(names[i]), r->err);
		snprintf(through, sizeof(through), "%.500s", r->out);
		RUN(true, (char *)"stat", (char *)"-c", (char *)STAT_FMT " %i",
		    (char *)sp(names[i]));
		snprintf(expect, sizeof(expect), "%.500s", r->out);
		/* All but the number: its low 48 bits are the provider's. */
		ck_assert_msg(strncmp(through, expect,
				      strrchr(expect, ' ') - expect) == 0,
			      "%s:\n%s%s", names[i], through, expect);
		ck_assert_int_eq(stat(vp(names[i]), &v), 0);
		ck_assert_uint_eq(v.st_ino & 0xffffffffffffull,
				  strtoull(strrchr(expect, ' ') + 1, NULL, 10));
	}
}
END_TEST

START_TEST(names_change)
{
	char other[300];
	struct stat st;

	ck_assert_int_eq(mkdir(vp("nd"), 0750), 0);
	ck_assert_int_eq(mkdir(vp("nd/sub"), 0750), 0);
	h_sh_ok(r, 20, "echo f > %s", vp("nd/sub/f"));
	ck_assert_int_eq(rename(vp("nd/sub"), vp("nd/moved")), 0);
	ck_assert_str_eq(slurp(vp("nd/moved/f")), "f\n");
	ck_assert_str_eq(get("nd/moved/f"), "f\n");
	ck_assert_int_eq(stat(vp("nd/sub"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(rmdir(vp("nd/moved")), -1);
	ck_assert_int_eq(errno, ENOTEMPTY);
	ck_assert_int_eq(unlink(vp("nd/moved/f")), 0);
	ck_assert_int_eq(rmdir(vp("nd/moved")), 0);
	h_sh_out(r, "ls -a /scheme/" S "/nd");
	ck_assert_str_eq(r->out, ".\n..\n");
	/* Renamed through the preload: the view follows. */
	put("nd/a", "A\n");
	ck_assert_str_eq(slurp(vp("nd/a")), "A\n");
	h_sh_out(r, "mv /scheme/" S "/nd/a /scheme/" S "/nd/b");
	ck_assert_str_eq(slurp(vp("nd/b")), "A\n");
	ck_assert_int_eq(unlink(vp("nd/b")), 0);
	ck_assert_int_eq(rmdir(vp("nd")), 0);
	/* Across schemes, as through the preload: EXDEV (mv copies). */
	snprintf(other, sizeof(other), "%s/time/x", mnt);
	put("xd", "x\n");
	ck_assert_int_eq(rename(vp("xd"), other), -1);
	ck_assert_int_eq(errno, EXDEV);
}
END_TEST

/*
 * Links, symbolic and hard, made and read both ways; a target naming a
 * scheme is followed by the kernel to the same place in the view.
 */
START_TEST(links)
{
	char want[300], got[300];
	struct stat st, lst;
	ssize_t n;

	h_sh_out(r, "mkdir /scheme/" S "/lk && echo T > /scheme/" S "/lk/t");
	ck_assert_int_eq(symlink("t", vp("lk/rel")), 0);
	ck_assert_int_eq(symlink("t", vp("lk/rel")), -1);
	ck_assert_int_eq(errno, EEXIST);
	n = readlink(vp("lk/rel"), got, sizeof(got) - 1);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(got[0], 't');
	ck_assert_str_eq(slurp(vp("lk/rel")), "T\n");
	ck_assert_int_eq(lstat(vp("lk/rel"), &lst), 0);
	ck_assert(S_ISLNK(lst.st_mode));
	ck_assert_int_eq(stat(vp("lk/rel"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	RUN(true, (char *)"readlink", (char *)sp("lk/rel"));
	ck_assert_str_eq(r->out, "t\n");
	/* Targets naming a scheme, both forms, made through the preload. */
	h_sh_out(r, "ln -s /scheme/" S "/lk/t /scheme/" S "/lk/abs && "
		    "ln -s " S ":lk/t /scheme/" S "/lk/colon");
	snprintf(want, sizeof(want), "%s/" S "/lk/t", mnt);
	for (int i = 0; i < 2; i++) {
		const char *l = vp(i == 0 ? "lk/abs" : "lk/colon");

		n = readlink(l, got, sizeof(got) - 1);
		ck_assert_int_gt(n, 0);
		got[n] = '\0';
		ck_assert_str_eq(got, want);
		ck_assert_str_eq(slurp(l), "T\n");
	}
	RUN(false, (char *)"find", (char *)vp("lk"), (char *)"-type",
	    (char *)"l", (char *)"-printf", (char *)"%f ");
	ck_assert_msg(strstr(r->out, "rel") && strstr(r->out, "abs") &&
			  strstr(r->out, "colon") && !strstr(r->out, "t "),
		      "%s", r->out);
	/* A hard link: one file, two names. */
	ck_assert_int_eq(link(vp("lk/t"), vp("lk/hard")), 0);
	ck_assert_int_eq(stat(vp("lk/hard"), &st), 0);
	ck_assert_uint_eq(st.st_nlink, 2);
	h_sh_ok(r, 20, "echo more >> %s", vp("lk/hard"));
	ck_assert_str_eq(get("lk/t"), "T\nmore\n");
	ck_assert_int_eq(link(vp("lk"), vp("lk2")), -1); /* a directory */
	ck_assert_int_eq(errno, EPERM);
	h_sh_ok(r, 20, "rm -r %s", vp("lk"));
	ck_assert_int_eq(lstat(vp("lk"), &st), -1);
}
END_TEST

START_TEST(chmod_and_touch)
{
	put("ct", "x\n");
	ck_assert_int_eq(chmod(vp("ct"), 0604), 0);
	h_sh_ok(r, 20, "touch -d '2001-02-03 04:05:06.5 UTC' %s", vp("ct"));
	h_sh_out(r, "stat -c '%a %Y %y' /scheme/" S "/ct");
	ck_assert_str_eq(r->out, "604 981173106 2001-02-03 04:05:06.500000000 "
				 "+0000\n");
	h_sh_ok(r, 20, "TZ=UTC stat -c '%%a %%Y %%y' %s", vp("ct"));
	ck_assert_str_eq(r->out, "604 981173106 2001-02-03 04:05:06.500000000 "
				 "+0000\n");
	ck_assert_int_eq(truncate(vp("ct"), 1), 0);
	ck_assert_str_eq(get("ct"), "x");
}
END_TEST

START_TEST(mmap_shared_and_private)
{
	char *p;
	int fd;

	put("mm", "0123456789");
	fd = open(vp("mm"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(memcmp(p, "0123456789", 10), 0);
	memcpy(p + 4096, "shared", 6);
	ck_assert_int_eq(msync(p, 8192, MS_SYNC), 0);
	h_sh_out(r, "dd if=/scheme/" S "/mm bs=4096 skip=1 2>/dev/null | "
		    "head -c 6");
	ck_assert_str_eq(r->out, "shared");
	memcpy(p, "unmapped", 8);
	ck_assert_int_eq(munmap(p, 8192), 0);
	ck_assert_int_eq(close(fd), 0);
	h_sh_out(r, "head -c 10 /scheme/" S "/mm");
	ck_assert_str_eq(r->out, "unmapped89");
	/* A private mapping, of a file changed through the preload. */
	put("mm", "private!");
	fd = open(vp("mm"), O_RDONLY);
	p = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(memcmp(p, "private!", 8), 0);
	p[0] = 'P'; /* copy on write: the file keeps its byte */
	munmap(p, 8);
	close(fd);
	ck_assert_str_eq(get("mm"), "private!");
}
END_TEST

START_TEST(exec_binary_and_script)
{
	h_sh_ok(r, 20, "cp /bin/echo %s && chmod +x %s", vp("echo"),
		vp("echo"));
	RUN(false, (char *)vp("echo"), (char *)"from", (char *)"the scheme");
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "from the scheme\n");
	put("s.sh", "#!/bin/sh\necho script \"$@\"\n");
	ck_assert_int_eq(access(vp("s.sh"), X_OK), -1); /* not yet */
	ck_assert_int_eq(errno, EACCES);
	RUN(false, (char *)"sh", (char *)"-c", (char *)vp("s.sh"));
	ck_assert_int_eq(r->status, 126);
	h_sh_out(r, "chmod +x /scheme/" S "/s.sh");
	RUN(false, (char *)vp("s.sh"), (char *)"x");
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(r->out, "script x\n");
	/* A shell's execve, by a relative path from a working directory. */
	h_sh_ok(r, 20, "cd %s && ./s.sh y && exec ./echo z", vp(""));
	ck_assert_str_eq(r->out, "script y\nz\n");
}
END_TEST

START_TEST(static_program)
{
	RUN(false, (char *)TEST_VIEW_STATIC, (char *)vp(""));
	ck_assert_msg(r->status == 0, "%s", r->err);
	ck_assert_str_eq(r->out, "Hello, world!\n"
				 "written by a static program\n"
				 "mapped written by a static program\n"
				 "entry . dir\n"
				 "entry .. dir\n"
				 "entry moved.txt file\n");
	ck_assert_str_eq(get("sdir/moved.txt"),
			 "written by a static program\n");
	h_sh_out(r,
		 "ls /scheme/" S "/sdir; test ! -e /scheme/" S "/static.txt");
	ck_assert_str_eq(r->out, "moved.txt\n");
}
END_TEST

/* Close-to-open: a change through the preload is seen by the next open. */
START_TEST(changes_seen_at_open)
{
	for (int i = 0; i < 20; i++) {
		char text[32];

		snprintf(text, sizeof(text), "version %d%s\n", i,
			 i % 2 ? " (longer)" : "");
		put("co", text);
		ck_assert_str_eq(slurp(vp("co")), text);
	}
}
END_TEST

/*
 * A fifo read waits for a writer; the reader killed, the read must end
 * (the daemon answers the kernel's INTERRUPT), or the reader would stay
 * in D state until someone writes.
 */
START_TEST(waiting_read_interrupted)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		char c;
		int fd = open(vp("fifo"), O_RDONLY);

		_exit(fd >= 0 && read(fd, &c, 1) >= 0 ? 0 : 3);
	}
	h_sleep_ms(300);
	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0); /* it waits */
	kill(pid, SIGKILL);
	ck_assert_int_eq(h_wait_exit(pid, 5), 128 + SIGKILL);
	/* The view still serves, that fifo too. */
	h_sh_out(r, "echo data > /scheme/" S "/fifo");
	RUN(false, (char *)"head", (char *)"-c", (char *)"5",
	    (char *)vp("fifo"));
	ck_assert_str_eq(r->out, "data\n");
}
END_TEST

START_TEST(top_is_the_schemes)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/newscheme", mnt);
	ck_assert_int_eq(mkdir(path, 0755), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(creat(path, 0644), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(rmdir(vp("")), -1);
	ck_assert_int_eq(errno, EPERM);
	snprintf(path, sizeof(path), "%s/hard", mnt);
	ck_assert_int_eq(link(vp("world"), path), -1);
	ck_assert_int_eq(errno, EPERM);
	snprintf(path, sizeof(path), "%s/soft", mnt);
	ck_assert_int_eq(symlink("world", path), -1);
	ck_assert_int_eq(errno, EPERM);
}
END_TEST

/* --- Lifetime: each case with a broker, a provider and a mount of its own. */

static pid_t daemon_pid, watcher_pid;

/* Our children named comm (the daemon and fusermount3, adopted). */
static pid_t
child_named(const char *comm)
{
	char path[300], buf[512], want[64];
	struct dirent *de;
	pid_t found = -1;
	DIR *d = opendir("/proc");
	FILE *f;
	int ppid;

	snprintf(want, sizeof(want), "(%s)", comm);
	while (d != NULL && found < 0 && (de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    strstr(buf, want) != NULL &&
		    sscanf(strstr(buf, want) + strlen(want), " %*c %d",
			   &ppid) == 1 &&
		    ppid == getpid())
			found = atoi(de->d_name);
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static void
life_setup(void)
{
	setup();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	h_world_start(S);
	mount_view();
	daemon_pid = child_named("scheme-fuse");
	watcher_pid = child_named("fusermount3");
	ck_assert_int_gt(daemon_pid, 0);
	ck_assert_str_eq(slurp(vp("world")), "Hello, world!\n");
}

static void
life_teardown(void)
{
	if (mounted(mnt)) /* a case failed: leave none to the next */
		umount2(mnt, MNT_DETACH);
	if (daemon_pid > 0 && kill(daemon_pid, SIGKILL) == 0)
		waitpid(daemon_pid, NULL, 0);
	h_world_stop();
	teardown();
}

/* Unmounted: an ordinary empty directory, and no daemon left. */
static void
gone(int daemon_status)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	ck_assert_int_eq(h_wait_exit(daemon_pid, 10), daemon_status);
	daemon_pid = -1;
	if (watcher_pid > 0) /* fusermount3, for auto_unmount */
		ck_assert_int_eq(h_wait_exit(watcher_pid, 10), 0);
	for (int i = 0; i < 500 && mounted(mnt); i++)
		h_sleep_ms(10);
	ck_assert(!mounted(mnt));
	d = opendir(mnt);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n++;
	closedir(d);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(child_named("scheme-fuse"), -1);
}

START_TEST(umount_stops_the_view)
{
	ck_assert_int_eq(schemectl("mount", mnt), 1); /* once is enough */
	ck_assert_ptr_nonnull(strstr(r->err, "mounted there already"));
	ck_assert_int_eq(schemectl("umount", mnt), 0);
	gone(0);
	ck_assert_int_eq(schemectl("umount", mnt), 1);
	ck_assert_ptr_nonnull(strstr(r->err, "not a view of the schemes"));
}
END_TEST

START_TEST(broker_stop_unmounts)
{
	ck_assert_int_eq(h_stop(h_broker), 0);
	h_broker = -1;
	gone(0);
}
END_TEST

START_TEST(broker_death_unmounts)
{
	kill(h_broker, SIGKILL);
	ck_assert_int_eq(h_wait_exit(h_broker, 5), 128 + SIGKILL);
	h_broker = -1;
	gone(0);
}
END_TEST

/* Even a view killed outright leaves no dead mount (auto_unmount). */
START_TEST(daemon_killed_leaves_no_dead_mount)
{
	kill(daemon_pid, SIGKILL);
	gone(128 + SIGKILL);
}
END_TEST

/* schemed --mount: the broker's child, unmounted when the broker stops. */
START_TEST(schemed_mount)
{
	char *extra[] = {(char *)"--mount", mnt, NULL}, log[300];
	struct stat st;
	pid_t broker;
	int i;

	ck_assert_int_eq(schemectl("umount", mnt), 0);
	gone(0);
	h_stop(h_memfs);
	h_stop(h_broker);
	h_broker = h_memfs = -1;
	broker = h_start_broker_with(extra);
	ck_assert_int_gt(broker, 0);
	h_memfs = h_start_memfs(S);
	for (i = 0; i < 500 && stat(vp("world"), &st) < 0; i++)
		h_sleep_ms(10);
	ck_assert_str_eq(slurp(vp("world")), "Hello, world!\n");
	ck_assert_int_eq(child_named("scheme-fuse"), -1); /* the broker's */
	RUN(false, (char *)"ls", (char *)"-l", mnt); /* stats event:, too */
	ck_assert_int_eq(r->status, 0);
	ck_assert_int_eq(h_stop(broker), 0);
	ck_assert(!mounted(mnt));
	/* The view stopped cleanly (under ASan: without a leak). */
	snprintf(log, sizeof(log), "%s/broker.log", h_dir());
	ck_assert_msg(strstr(slurp(log), "the view (pid") == NULL,
		      "the view did not stop cleanly; the broker's log:\n%s",
		      slurp(log));
	ck_assert_int_eq(stat(vp("world"), &st), -1);
	ck_assert_int_eq(errno, ENOENT); /* not ENOTCONN: no dead mount */
	watcher_pid = child_named("fusermount3");
	if (watcher_pid > 0)
		ck_assert_int_eq(h_wait_exit(watcher_pid, 10), 0);
}
END_TEST

/* --- The daemon as a command. */

START_TEST(command_line)
{
	RUN(false, (char *)TEST_VIEW, (char *)"--help");
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "usage: scheme-fuse "));
	RUN(false, (char *)TEST_VIEW, (char *)"--version");
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "scheme-fuse (scheme) "));
	RUN(false, (char *)TEST_VIEW, (char *)"--cache", (char *)"x");
	ck_assert_int_eq(r->status, 2);
	ck_assert_str_eq(r->out, "");
	ck_assert_ptr_eq(strchr(r->err, '\n'), r->err + r->errlen - 1);
	RUN(false, (char *)TEST_VIEW);
	ck_assert_int_eq(r->status, 2);
	/* Without the preload it would serve nothing: it says so. */
	RUN(false, (char *)TEST_VIEW, (char *)h_dir());
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "schemectl mount"));
	ck_assert(!mounted(h_dir()));
	/* No broker: schemectl says so, as for its other commands. */
	RUN(false, (char *)TEST_SCHEMECTL, (char *)"--socket",
	    (char *)"/nonexistent/sock", (char *)"mount", (char *)h_dir());
	ck_assert_int_eq(r->status, 3);
	ck_assert(!mounted(h_dir()));
	RUN(false, (char *)TEST_SCHEMECTL, (char *)"mount");
	ck_assert_int_eq(r->status, 2);
	ck_assert_ptr_nonnull(strstr(r->err, "a directory"));
}
END_TEST

static Suite *
view_suite(void)
{
	Suite *s = suite_create("view");
	TCase *tc = tcase_create("through the mount");
	TCase *tl = tcase_create("lifetime");
	TCase *tk = tcase_create("command line");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, world_start, world_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lists_the_schemes);
	tcase_add_test(tc, cat_and_write);
	tcase_add_test(tc, stat_matches_preload);
	tcase_add_test(tc, names_change);
	tcase_add_test(tc, links);
	tcase_add_test(tc, chmod_and_touch);
	tcase_add_test(tc, mmap_shared_and_private);
	tcase_add_test(tc, exec_binary_and_script);
	tcase_add_test(tc, static_program);
	tcase_add_test(tc, changes_seen_at_open);
	tcase_add_test(tc, waiting_read_interrupted);
	tcase_add_test(tc, top_is_the_schemes);
	suite_add_tcase(s, tc);

	tcase_set_timeout(tl, 40);
	tcase_add_checked_fixture(tl, life_setup, life_teardown);
	tcase_add_test(tl, umount_stops_the_view);
	tcase_add_test(tl, broker_stop_unmounts);
	tcase_add_test(tl, broker_death_unmounts);
	tcase_add_test(tl, daemon_killed_leaves_no_dead_mount);
	tcase_add_test(tl, schemed_mount);
	suite_add_tcase(s, tl);

	tcase_set_timeout(tk, 30);
	tcase_add_checked_fixture(tk, setup, teardown);
	tcase_add_test(tk, command_line);
	suite_add_tcase(s, tk);
	return s;
}

int
main(void)
{
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr, "test_view: /dev/fuse: %s: skipped\n",
			strerror(errno));
		return 77;
	}
	return h_main(view_suite());
}
