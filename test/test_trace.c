/*
 * test_trace.c - schemectl trace, the packet tracer, against a real
 * broker, scheme-memfs and real programs (sh, cat, rm).
 *
 * A known sequence of requests gives the lines expected, in order, with
 * pid, command name, decoded arguments, results, errno names and
 * latencies; --json gives the same as objects a JSON parser reads.
 * Requests the serving code answers itself are marked refused.  The
 * tracer ends when its scheme is gone.  Hostile: a tracer that stops
 * reading cannot slow or stop the scheme (records are lost, and the
 * tracer is told how many); tracers killed mid-way do not take the
 * provider with them, nor keep their place; one tracer too many is told
 * so; another user traces its own schemes, not root's.  Usage errors.
 *
 * A tracer gets its socket at the provider a moment after the broker
 * answers it, so each case first makes requests until one shows up.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"
#include "raw.h"

static struct run_result *r;
static pid_t tracer = -1;
static pid_t others[WIRE_TRACE_PER_SCHEME]; /* too_many's */
static char out_path[256];

static void
setup(void)
{
	r = calloc(1, sizeof(*r));
	h_world_start("memfs");
}

static void
teardown(void)
{
	if (tracer > 0) {
		kill(tracer, SIGCONT);
		h_stop(tracer);
	}
	tracer = -1;
	for (int k = 0; k < WIRE_TRACE_PER_SCHEME; k++)
		if (others[k] > 0)
			h_stop(others[k]);
	memset(others, 0, sizeof(others));
	h_world_stop();
	free(r);
	ck_assert_int_eq(h_daemon_failures, 0); /* they exited cleanly */
}

/* schemectl trace with args (NULL-ended), its output to out_path. */
static void
start_tracer(const char *a1, const char *a2)
{
	static int n;
	char *argv[] = {(char *)TEST_SCHEMECTL, (char *)"trace", (char *)a1,
			(char *)a2, NULL};
	int fd;

	snprintf(out_path, sizeof(out_path), "%s/trace-%d.out", h_dir(), n++);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	tracer = h_spawn(argv, false, fd);
	close(fd);
	ck_assert_int_gt(tracer, 0);
}

static char *
output(void)
{
	size_t len;
	char *s = h_read_file(out_path, &len);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* Until the output holds needle (ms milliseconds at most). */
static bool
wait_ms(const char *needle, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		char *s = output();
		bool found = strstr(s, needle) != NULL;

		free(s);
		if (found)
			return true;
		h_sleep_ms(10);
	}
	return false;
}

static bool
wait_for(const char *needle)
{
	return wait_ms(needle, 10000);
}

/* Requests until the tracer sees one: it is then in place. */
static void
sync_tracer_on(const char *scheme)
{
	static int n;
	char script[128], needle[64];

	for (int i = 0; i < 50; i++, n++) {
		snprintf(needle, sizeof(needle), "\"sync-%d\"", n);
		snprintf(script, sizeof(script), "test -e %s:sync-%d", scheme,
			 n);
		h_sh(r, script);
		if (wait_ms(needle, 200))
			return;
	}
	ck_abort_msg("the tracer saw nothing:\n%s", output());
}

static void
sync_tracer(void)
{
	sync_tracer_on("memfs");
}

/* The tracer is done: its output, whole. */
static char *
stop_tracer(void)
{
	h_stop(tracer);
	tracer = -1;
	return output();
}

/*
 * The first line at or after *at matching re (POSIX extended); *at moves
 * past it; the subexpressions are copied into m (up to 3 of them).
 */
static bool
next_line(const char **at, const char *re, char m[][64])
{
	regex_t rx;
	regmatch_t pm[4];
	const char *p = *at;
	char line[1024];
	bool found = false;

	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE), 0);
	while (*p != '\0' && !found) {
		const char *nl = strchrnul(p, '\n');
		size_t len = (size_t)(nl - p) < sizeof(line) - 1
				 ? (size_t)(nl - p)
				 : sizeof(line) - 1;

		memcpy(line, p, len);
		line[len] = '\0';
		if (regexec(&rx, line, 4, pm, 0) == 0) {
			found = true;
			for (int i = 1; m != NULL && i < 4; i++) {
				int l = pm[i].rm_so < 0
					    ? 0
					    : (int)(pm[i].rm_eo - pm[i].rm_so);

				snprintf(
				    m[i - 1], 64, "%.*s", l > 63 ? 63 : l,
				    line + (pm[i].rm_so < 0 ? 0 : pm[i].rm_so));
			}
		}
		p = *nl ? nl + 1 : nl;
	}
	regfree(&rx);
	*at = p;
	return found;
}

#define EXPECT_LINE(at, m, ...)                                                \
	do {                                                                   \
		char re_[512];                                                 \
		snprintf(re_, sizeof(re_), __VA_ARGS__);                       \
		ck_assert_msg(next_line(at, re_, m), "no line /%s/ in:\n%s",   \
			      re_, all);                                       \
	} while (0)

/* A line's start: time, pid, command, scheme. */
#define TIME                                                                   \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
#define LAT " <[0-9]+\\.[0-9] us>( pipe)?$"

/* The sequence the text and JSON cases trace: its sh's pid on stdout. */
static const char sequence[] =
    "umask 022; echo $$; exec sh -c 'printf hello > memfs:f; "
    "cat memfs:f >/dev/null; cat memfs:missing 2>/dev/null; rm memfs:f'";

START_TEST(known_sequence)
{
	char m[3][64], h[64], pid[32], sh[160], *all;
	const char *at;
	struct tm tm;
	time_t t0 = time(NULL), when;

	start_tracer("memfs", NULL);
	sync_tracer();
	h_sh(r, sequence);
	ck_assert_int_eq(r->status, 0);
	snprintf(pid, sizeof(pid), "%d", atoi(r->out));
	snprintf(sh, sizeof(sh), TIME "%s sh memfs: ", pid);
	ck_assert(wait_for("UNLINK(\"f\") = 0"));
	all = stop_tracer();
	at = strstr(all, "\"sync-");
	ck_assert_ptr_nonnull(at);

	EXPECT_LINE(&at, m,
		    "%sOPEN\\(\"f\", O_WRONLY\\|O_CREAT\\|O_TRUNC, 0644\\) "
		    "= ([0-9]+)" LAT,
		    sh);
	snprintf(h, sizeof(h), "%s", m[0]);
	EXPECT_LINE(&at, NULL, "%sWRITE\\(%s, 5\\) = 5" LAT, sh, h);
	EXPECT_LINE(&at, NULL, "%sCLOSE\\(%s\\) = 0" LAT, sh, h);
	EXPECT_LINE(&at, m,
		    TIME "[0-9]+ cat memfs: OPEN\\(\"f\", O_RDONLY\\) "
			 "= ([0-9]+)" LAT);
	snprintf(h, sizeof(h), "%s", m[0]);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ cat memfs: READ\\(%s, [0-9]+\\) = 5" LAT, h);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ cat memfs: READ\\(%s, [0-9]+\\) = 0" LAT, h);
	EXPECT_LINE(&at, NULL, TIME "[0-9]+ cat memfs: CLOSE\\(%s\\) = 0" LAT,
		    h);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ cat memfs: OPEN\\(\"missing\", O_RDONLY\\) "
			 "= -1 ENOENT \\(No such file or directory\\)" LAT);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ rm memfs: UNLINK\\(\"f\"\\) = 0" LAT);

	/* The time is now's, to the second (give or take the run). */
	at = strstr(all, "OPEN(\"f\"");
	ck_assert_ptr_nonnull(at);
	while (at > all && at[-1] != '\n')
		at--;
	memset(&tm, 0, sizeof(tm));
	ck_assert_ptr_nonnull(strptime(at, "%Y-%m-%dT%H:%M:%S", &tm));
	when = timegm(&tm);
	ck_assert_msg(when >= t0 - 1 && when <= time(NULL) + 1,
		      "a line's time %lld is not now (%lld)", (long long)when,
		      (long long)t0);
	free(all);
}
END_TEST

/* Positioned I/O and fallocate: offsets, sizes, flags, mode. */
START_TEST(positioned)
{
	char m[3][64], h[64], *all;
	const char *at;

	start_tracer("memfs", NULL);
	sync_tracer();
	h_sh(r, "python3 -c 'import os; "
		"fd = os.open(\"memfs:pio\", os.O_RDWR | os.O_CREAT, 0o644); "
		"os.pwrite(fd, b\"abcdef\", 10); os.pread(fd, 4, 12); "
		"os.pwritev(fd, [b\"x\"], 3, os.RWF_DSYNC); "
		"os.posix_fallocate(fd, 0, 100)'; rm memfs:pio");
	ck_assert_msg(r->status == 0, "status %d: %s", r->status, r->err);
	ck_assert(wait_for("UNLINK(\"pio\") = 0"));
	all = stop_tracer();
	at = strstr(all, "\"sync-");
	ck_assert_ptr_nonnull(at);
	EXPECT_LINE(&at, m,
		    TIME "[0-9]+ python3 memfs: OPEN\\(\"pio\", "
			 "O_RDWR\\|O_CREAT, 0644\\) = ([0-9]+)" LAT);
	snprintf(h, sizeof(h), "%s", m[0]);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ python3 memfs: WRITE2\\(%s, 6, 10\\) = 6" LAT,
		    h);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ python3 memfs: READ2\\(%s, 4, 12\\) = 4" LAT,
		    h);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ python3 memfs: WRITE2\\(%s, 1, 3, RWF_DSYNC\\) "
			 "= 1" LAT,
		    h);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ python3 memfs: FALLOCATE\\(%s, 0, 0, 100\\) "
			 "= 0" LAT,
		    h);
	free(all);
}
END_TEST

/*
 * A lock offered to the provider (SYS_LOCK) is named with its command,
 * kind, type and start; scheme-memfs without --own-locks says ENOSYS,
 * and the system then asks the file's identity to keep it itself.
 */
START_TEST(lock_offered)
{
	char m[3][64], h[64], *all;
	const char *at;

	start_tracer("memfs", NULL);
	sync_tracer();
	h_sh(r, "python3 -c 'import os, fcntl; "
		"fd = os.open(\"memfs:lk\", os.O_RDWR | os.O_CREAT, 0o644); "
		"fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)'; rm memfs:lk");
	ck_assert_msg(r->status == 0, "status %d: %s", r->status, r->err);
	ck_assert(wait_for("UNLINK(\"lk\") = 0"));
	all = stop_tracer();
	at = strstr(all, "\"sync-");
	ck_assert_ptr_nonnull(at);
	EXPECT_LINE(&at, m,
		    TIME "[0-9]+ python3 memfs: OPEN\\(\"lk\", "
			 "O_RDWR\\|O_CREAT, 0644\\) = ([0-9]+)" LAT);
	snprintf(h, sizeof(h), "%s", m[0]);
	EXPECT_LINE(&at, NULL,
		    TIME
		    "[0-9]+ python3 memfs: LOCK\\(%s, SET, FLOCK, F_WRLCK, "
		    "0\\) = -1 ENOSYS [^\n]*" LAT,
		    h);
	EXPECT_LINE(&at, NULL,
		    TIME "[0-9]+ python3 memfs: FSTAT\\(%s\\) = 0" LAT, h);
	free(all);
}
END_TEST

START_TEST(json)
{
	char *all, script[4096];

	start_tracer("--json", "memfs");
	sync_tracer();
	h_sh(r, sequence);
	ck_assert_int_eq(r->status, 0);
	ck_assert(wait_for("\"UNLINK\""));
	all = stop_tracer();
	/* Every line after the first (which says what is traced) is one
	 * object, with the fields, and the sequence's requests are there. */
	snprintf(script, sizeof(script),
		 "python3 - %s %d <<'EOF'\n"
		 "import json, sys\n"
		 "lines = open(sys.argv[1]).read().splitlines()[1:]\n"
		 "objs = [json.loads(l) for l in lines]\n"
		 "keys = {'time','pid','comm','uid','gid','scheme','op',"
		 "'result','latency_us'}\n"
		 "for o in objs:\n"
		 "    assert keys <= set(o), o\n"
		 "    assert o['scheme'] == 'memfs', o\n"
		 "pid = int(sys.argv[2])\n"
		 "w = [o for o in objs if o['op'] == 'OPEN' and "
		 "o.get('path') == 'f' and o['comm'] == 'sh']\n"
		 "assert len(w) == 1, objs\n"
		 "assert w[0]['flags'] == 'O_WRONLY|O_CREAT|O_TRUNC', w\n"
		 "assert w[0]['mode'] == '0644' and w[0]['pid'] == pid, w\n"
		 "h = w[0]['result']\n"
		 "wr = [o for o in objs if o['op'] == 'WRITE' and "
		 "o['handle'] == h and o['pid'] == pid]\n"
		 "assert wr and wr[0]['len'] == 5 and wr[0]['result'] == 5, "
		 "objs\n"
		 "m = [o for o in objs if o.get('path') == 'missing']\n"
		 "assert m and m[0]['errno'] == 'ENOENT' and "
		 "m[0]['result'] == -2, m\n"
		 "assert any(o['op'] == 'UNLINK' and o['comm'] == 'rm' "
		 "for o in objs)\n"
		 "assert all(o['latency_us'] >= 0 for o in objs)\n"
		 "EOF",
		 out_path, atoi(r->out));
	h_sh_ok(r, 20, "%s", script);
	free(all);
}
END_TEST

/* Requests the serving code answers itself, without the provider. */
START_TEST(refused)
{
	char path[5000], *all;
	struct wire_ctl rep;
	const char *at;
	int ctl, ch = -1;

	start_tracer("memfs", NULL);
	sync_tracer();
	ctl = raw_conn();
	ck_assert_int_ge(ctl, 0);
	ck_assert_int_eq(raw_call(ctl, WIRE_CTL_CONNECT, 0, "memfs", &rep, &ch),
			 0);
	/* A description that does not exist; a path past WIRE_MAX_PATH. */
	ck_assert_int_eq(raw_req(ch, SYS_READ, 987654, 0, 8, NULL), -EBADF);
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_eq(raw_open(ch, path, O_RDONLY, NULL, NULL),
			 -ENAMETOOLONG);
	ck_assert(wait_for("ENAMETOOLONG"));
	close(ch);
	close(ctl);
	all = stop_tracer();
	at = all;
	EXPECT_LINE(&at, NULL,
		    TIME "%d [^ ]+ memfs: READ\\(\\?, 8\\) = -1 EBADF "
			 "\\(Bad file descriptor\\) refused$",
		    (int)getpid());
	EXPECT_LINE(
	    &at, NULL,
	    TIME "%d [^ ]+ memfs: OPEN\\(\"p{256}\"\\.\\.\\., O_RDONLY\\) = -1 "
		 "ENAMETOOLONG \\(File name too long\\) refused$",
	    (int)getpid());
	free(all);
}
END_TEST

/* The tracer ends, saying so, when the scheme it traces is gone. */
START_TEST(scheme_gone)
{
	char *all;

	start_tracer("memfs", NULL);
	sync_tracer();
	h_stop_daemon(h_memfs, "scheme-memfs");
	h_memfs = -1;
	ck_assert_int_eq(h_wait_exit(tracer, 10), 0);
	tracer = -1;
	all = output();
	ck_assert_msg(strstr(all, "memfs: the scheme is gone") != NULL, "%s",
		      all);
	free(all);
}
END_TEST

/*
 * Hostile: a tracer that stops reading (^Z, or a slow terminal).  The
 * scheme serves on at full speed: records it cannot send are counted,
 * and the next one the tracer gets says how many were lost.
 */
START_TEST(stopped_tracer)
{
	char *all;

	start_tracer("memfs", NULL);
	sync_tracer();
	h_sh(r, "echo x > memfs:f");
	ck_assert_int_eq(kill(tracer, SIGSTOP), 0);
	h_sh(r, "i=0; while [ $i -lt 3000 ]; do : < memfs:f; i=$((i+1)); "
		"done; echo done");
	ck_assert_msg(!r->timed_out && r->status == 0, "status %d%s: %s",
		      r->status, r->timed_out ? " (timed out)" : "", r->err);
	ck_assert_int_eq(kill(tracer, SIGCONT), 0);
	h_sh(r, "test -e memfs:after");
	ck_assert(wait_for("\"after\""));
	all = stop_tracer();
	ck_assert_msg(strstr(all, "records lost before this one") != NULL,
		      "nothing said lost:\n%.2000s", all);
	free(all);
}
END_TEST

/* The fds pid holds. */
static int
fds_of(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Hostile: tracers killed mid-way, more of them than a scheme serves at
 * once.  The provider does not die with them, forgets each (its socket
 * closed) and takes the next.
 */
START_TEST(killed_tracers)
{
	pid_t hello = h_start_provider(TEST_HELLO, "greet");
	int before;

	h_sh(r, "cat greet:world");
	before = fds_of(hello);
	for (int k = 0; k < WIRE_TRACE_PER_SCHEME + 2; k++) {
		start_tracer("greet", NULL);
		sync_tracer_on("greet");
		ck_assert_int_eq(kill(tracer, SIGKILL), 0);
		ck_assert_int_eq(waitpid(tracer, NULL, 0), tracer);
		tracer = -1;
		h_sh(r, "cat greet:world");
		ck_assert_msg(r->status == 0, "status %d: %s", r->status,
			      r->err);
		ck_assert_str_eq(r->out, "Hello, world!\n");
	}
	ck_assert_int_eq(waitpid(hello, NULL, WNOHANG), 0); /* alive */
	/*
	 * None kept.  The provider learns of the last tracer's end and of
	 * the last cat's channel from its event loop, after the cat has
	 * exited: give it a few seconds to get there.
	 */
	for (int i = 0; i < 500 && fds_of(hello) > before; i++)
		usleep(10 * 1000);
	ck_assert_int_le(fds_of(hello), before);
	h_stop(hello); /* it has no SIGTERM handler: 143 is its clean end */
}
END_TEST

/* One tracer more than a scheme serves at once is told so. */
START_TEST(too_many)
{
	char *argv[] = {(char *)TEST_SCHEMECTL, (char *)"trace",
			(char *)"memfs", NULL};

	for (int k = 0; k < WIRE_TRACE_PER_SCHEME; k++) {
		start_tracer("memfs", NULL);
		sync_tracer();
		others[k] = tracer;
	}
	h_run(r, false, NULL, 10, argv);
	ck_assert_msg(r->status == 1 &&
			  strstr(r->err, "memfs: 8 tracers "
					 "trace it already") != NULL,
		      "status %d: %s", r->status, r->err);
	/* The others still trace. */
	h_sh(r, "test -e memfs:still");
	ck_assert(wait_for("\"still\""));
}
END_TEST

/*
 * Hostile: another user may trace its own schemes and not root's, named
 * or not.  The broker admits nobody (--group nogroup); root serves memfs
 * and nobody serves nmem.
 */
START_TEST(other_user)
{
	char *extra[] = {(char *)"--group", (char *)"nogroup",
			 (char *)"--group-creates", NULL};
	char *nmem[] = {(char *)"setpriv",
			(char *)"--reuid=65534",
			(char *)"--regid=65534",
			(char *)"--clear-groups",
			(char *)TEST_MEMFS,
			(char *)"nmem",
			NULL};
	char *named[] = {(char *)"setpriv",	  (char *)"--reuid=65534",
			 (char *)"--regid=65534", (char *)"--clear-groups",
			 (char *)TEST_SCHEMECTL,  (char *)"--socket",
			 (char *)h_socket(),	  (char *)"trace",
			 (char *)"memfs",	  NULL};
	char *every[] = {(char *)"setpriv",
			 (char *)"--reuid=65534",
			 (char *)"--regid=65534",
			 (char *)"--clear-groups",
			 (char *)TEST_SCHEMECTL,
			 (char *)"--socket",
			 (char *)h_socket(),
			 (char *)"trace",
			 NULL};
	pid_t theirs;
	int i;

	if (geteuid() != 0)
		return; /* no second user to be; CI runs as root */
	h_stop_daemon(h_broker, "schemed");
	h_broker = -1;
	h_stop_daemon(h_memfs, "scheme-memfs");
	ck_assert_int_eq(chmod(h_dir(), 0711), 0);
	h_broker = h_start_broker_with(extra);
	ck_assert_int_gt(h_broker, 0);
	h_memfs = h_start_memfs("memfs");
	theirs = h_spawn(nmem, true, -1);
	for (i = 0; i < 1000 && !h_scheme_exists("nmem"); i++)
		h_sleep_ms(10);
	ck_assert_msg(i < 1000, "nobody's nmem did not come up");

	h_run(r, false, NULL, 10, named);
	ck_assert_msg(r->status == 1 && strstr(r->err, "memfs: permission "
						       "denied") != NULL,
		      "status %d: %s", r->status, r->err);
	/* Every one it may: its own nmem alone (the broker's are root's). */
	h_run(r, false, NULL, 2, every);
	ck_assert_msg(r->timed_out, "status %d: %s", r->status, r->err);
	ck_assert_msg(strstr(r->err, "tracing nmem: (") != NULL, "%s", r->err);
	h_stop(theirs);
	h_run(r, false, NULL, 10, every);
	ck_assert_msg(r->status == 1 &&
			  strstr(r->err, "no scheme you may trace") != NULL,
		      "status %d: %s", r->status, r->err);
}
END_TEST

START_TEST(usage)
{
	char *bad[] = {(char *)TEST_SCHEMECTL, (char *)"trace",
		       (char *)"--bogus", NULL};
	char *badname[] = {(char *)TEST_SCHEMECTL, (char *)"trace",
			   (char *)"a/b", NULL};
	char *missing[] = {(char *)TEST_SCHEMECTL, (char *)"trace",
			   (char *)"memfs", (char *)"nosuch", NULL};

	h_run(r, false, NULL, 10, bad);
	ck_assert_int_eq(r->status, 2);
	ck_assert_ptr_nonnull(strstr(r->err, "--bogus"));
	h_run(r, false, NULL, 10, badname);
	ck_assert_int_eq(r->status, 2);
	h_run(r, false, NULL, 10, missing);
	ck_assert_msg(r->status == 1 &&
			  strstr(r->err, "nosuch: no such scheme") != NULL,
		      "status %d: %s", r->status, r->err);
}
END_TEST

static Suite *
trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, known_sequence);
	tcase_add_test(tc, positioned);
	tcase_add_test(tc, lock_offered);
	tcase_add_test(tc, json);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, scheme_gone);
	tcase_add_test(tc, stopped_tracer);
	tcase_add_test(tc, killed_tracers);
	tcase_add_test(tc, too_many);
	tcase_add_test(tc, other_user);
	tcase_add_test(tc, usage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(trace_suite());
}
