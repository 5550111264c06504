/*
 * test_cli.c - the commands as a user meets them, and their manual pages.
 *
 * schemerun, schemed, schemectl and bench: --help on stdout with status 0,
 * --version equal to `pkg-config --modversion scheme`, a usage error in
 * one line on stderr with status 2, and no crash on any argument list.
 * Messages that say what is wrong: another user against root's broker is
 * told it is a permission problem and whose broker it is (run as nobody,
 * so only as root, which CI is); schemectl irq-raise without the
 * simulator says how to get one.  The broker's log: ISO 8601 times with
 * milliseconds, and with --verbose each connection with pid and uid.
 * `schemectl info`'s counters add up.  The manual pages: installed by
 * `cmake --install`, every one of them (pages added later too), and
 * rendering without a warning as lintian renders them.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY "65534"

static struct run_result *r;

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

/* Run argv (NULL-terminated list of strings) without the preload. */
static void
run(int seconds, const char *arg0, ...)
{
	char *argv[32];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)arg0;
	va_start(ap, arg0);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	h_run(r, false, NULL, seconds, argv);
}

static const char *
base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* The lines in s (a last one without a newline counts). */
static int
lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n' || s[1] == '\0';
	return n;
}

static const char *const commands[] = {TEST_SCHEMERUN, TEST_SCHEMED,
				       TEST_SCHEMECTL, TEST_BENCH};

/* pkg-config's version of the package the build tree describes. */
static void
pc_version(char *buf, size_t len)
{
	char script[512];

	snprintf(script, sizeof(script),
		 "PKG_CONFIG_PATH='%s' pkg-config --modversion scheme",
		 TEST_BUILD_DIR);
	run(20, "sh", "-c", script, NULL);
	ck_assert_msg(r->status == 0, "pkg-config: %s", r->err);
	snprintf(buf, len, "%.*s", (int)strcspn(r->out, "\n"), r->out);
}

START_TEST(help_on_stdout)
{
	const char *cmd = commands[_i];
	char want[64];

	run(20, cmd, "--help", NULL);
	ck_assert_msg(r->status == 0, "%s --help: status %d", cmd, r->status);
	snprintf(want, sizeof(want), "usage: %s ", base(cmd));
	ck_assert_msg(strncmp(r->out, want, strlen(want)) == 0,
		      "%s --help printed: %s", cmd, r->out);
	ck_assert_msg(r->err[0] == '\0', "%s --help on stderr: %s", cmd,
		      r->err);
	run(20, cmd, "-h", NULL);
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "--version"));
}
END_TEST

START_TEST(version_is_pkg_config_s)
{
	const char *cmd = commands[_i];
	char want[128], ver[64];

	pc_version(ver, sizeof(ver));
	snprintf(want, sizeof(want), "%s (scheme) %s\n", base(cmd), ver);
	run(20, cmd, "--version", NULL);
	ck_assert_msg(r->status == 0, "%s --version: status %d", cmd,
		      r->status);
	ck_assert_str_eq(r->out, want);
	ck_assert_str_eq(r->err, "");
	run(20, cmd, "-V", NULL);
	ck_assert_str_eq(r->out, want);
}
END_TEST

/* A usage error: status 2, nothing on stdout, one line on stderr. */
static void
usage_error(const char *cmd, const char *a1, const char *a2)
{
	run(20, cmd, a1, a2, NULL);
	ck_assert_msg(r->status == 2, "%s %s %s: status %d (%s)", cmd, a1,
		      a2 ? a2 : "", r->status, r->err);
	ck_assert_str_eq(r->out, "");
	ck_assert_msg(lines(r->err) == 1, "%s %s: not one line: %s", cmd, a1,
		      r->err);
	ck_assert_msg(strncmp(r->err, base(cmd), strlen(base(cmd))) == 0,
		      "%s: the line does not name the command: %s", cmd,
		      r->err);
}

START_TEST(usage_errors_one_line)
{
	const char *cmd = commands[_i];

	usage_error(cmd, "--no-such-option", NULL);
	usage_error(cmd, "-Z", NULL);
	if (cmd == commands[3]) { /* bench: parts, no option values */
		usage_error(cmd, "no-such-part", NULL);
		return;
	}
	usage_error(cmd, "--socket", NULL);
	if (cmd == commands[0])
		usage_error(cmd, "--socket", "/tmp/x"); /* and no command */
	else
		usage_error(cmd, "--socket=/tmp/x", "extra-argument");
}
END_TEST

START_TEST(schemectl_usage)
{
	usage_error(TEST_SCHEMECTL, NULL, NULL);
	usage_error(TEST_SCHEMECTL, "frobnicate", NULL);
	usage_error(TEST_SCHEMECTL, "list", "extra");
	usage_error(TEST_SCHEMECTL, "irq-raise", "x3");
	usage_error(TEST_SCHEMECTL, "irq-raise", "-1");
	/* It read past argv and died of SIGSEGV. */
	usage_error(TEST_SCHEMECTL, "irq-raise", NULL);
	ck_assert_ptr_nonnull(strstr(r->err, "interrupt number"));
}
END_TEST

/*
 * Argument lists that are wrong in every way we could think of: none may
 * kill a command with a signal or hang it.  None of them starts anything
 * (a daemon, a benchmark or a broker for a command that is not there).
 */
START_TEST(no_crash_on_any_argument_list)
{
	static const char *const lists[][4] = {
	    {"", NULL},
	    {"-", NULL},
	    {"--", "x"},
	    {"-s", NULL},
	    {"-s", "", NULL},
	    {"--socket=", NULL},
	    {"--socket", "", "list"},
	    {"--so", NULL},
	    {"--help=1", NULL},
	    {"--version=2", NULL},
	    {"-hV", "--frob", NULL},
	    {"irq-raise", NULL},
	    {"irq-raise", "", NULL},
	    {"irq-raise", "99999999999999999999999", NULL},
	    {"irq-raise", "3", "4"},
	    {"--irq", NULL},
	    {"--irq", "", NULL},
	    {"--irq", "=", NULL},
	    {"--irq", "999=pci/x/y/z", NULL},
	    {"--irq-config", "/nonexistent", "--frob"},
	    {"--limit", "schemes=", NULL},
	    {"--limit", "schemes=99999999999999999999", NULL},
	    {"--group", "", NULL},
	    {"--vfio", NULL},
	    {"--vfio", "x", NULL},
	    {"--pidfile", NULL},
	    {"--group-creates", NULL},
	    {"-q", "nothing", NULL},
	    {"--", "no-such-command-here", NULL},
	    {"no-such-command-here", NULL},
	};
	char longarg[5000], sock[300];

	memset(longarg, 'x', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	snprintf(sock, sizeof(sock), "--socket=%.*s", 250, longarg);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			run(10, commands[c], lists[i][0], lists[i][1],
			    lists[i][2], lists[i][3], NULL);
			ck_assert_msg(!r->timed_out && r->status < 128,
				      "%s %s %s %s: status %d%s", commands[c],
				      lists[i][0], lists[i][1] ? lists[i][1] : "",
				      lists[i][2] ? lists[i][2] : "", r->status,
				      r->timed_out ? " (hung)" : "");
		}
		run(10, commands[c], longarg, NULL);
		ck_assert_int_ne(r->status, 0);
		ck_assert_int_lt(r->status, 128);
		run(10, commands[c], sock, "list", NULL);
		ck_assert_int_ne(r->status, 0);
		ck_assert_int_lt(r->status, 128);
	}
}
END_TEST

/* Messages ------------------------------------------------------------ */

/* Whether nobody can run our binaries (a build tree in a closed home). */
static bool
nobody_can_run(void)
{
	run(20, "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY,
	    "--clear-groups", TEST_SCHEMECTL, "--socket", "/nonexistent/s",
	    "list", NULL);
	return r->status == 3; /* "no broker at /nonexistent/s" */
}

/* A broker of root's at dir/sock, dir open to all (so nobody may try). */
static pid_t
root_broker(char *dir, size_t len, char *sock, size_t slen)
{
	char *argv[] = {(char *)TEST_SCHEMED, (char *)"--socket", sock, NULL};
	char log[512];
	pid_t pid;
	int out, i;

	/* Ours, searchable by all: removed with the rest of h_dir(). */
	snprintf(dir, len, "%s/open", h_dir());
	ck_assert_int_eq(chmod(h_dir(), 0711), 0);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(sock, slen, "%s/sock", dir);
	snprintf(log, sizeof(log), "%s/broker.log", h_dir());
	out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	pid = h_spawn(argv, false, out);
	close(out);
	for (i = 0; i < 1500; i++) {
		run(5, TEST_SCHEMECTL, "--socket", sock, "list", NULL);
		if (r->status == 0)
			return pid;
		h_sleep_ms(10);
	}
	ck_abort_msg("the broker did not come up");
	return -1;
}

static void
as_nobody(const char *cmd, const char *a1, const char *a2, const char *a3)
{
	run(20, "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY,
	    "--clear-groups", cmd, a1, a2, a3, NULL);
}

/*
 * Another user against root's broker: told it is a permission problem,
 * whose broker it is and who may use it; schemerun starts no broker over
 * it, and schemed does not call it "another broker answering".
 */
START_TEST(another_user_told_permission)
{
	char dir[128], sock[160];
	pid_t broker;

	if (geteuid() != 0) {
		fprintf(stderr, "test_cli: another_user_told_permission needs "
				"root (to run as nobody): skipped\n");
		return;
	}
	if (!nobody_can_run()) {
		fprintf(stderr, "test_cli: nobody cannot run %s: skipped\n",
			TEST_SCHEMECTL);
		return;
	}
	broker = root_broker(dir, sizeof(dir), sock, sizeof(sock));

	as_nobody(TEST_SCHEMECTL, "--socket", sock, "info");
	ck_assert_msg(r->status == 3, "status %d: %s", r->status, r->err);
	ck_assert_msg(strstr(r->err, "permission denied") != NULL &&
			  strstr(r->err, "answers only root") != NULL &&
			  strstr(r->err, "uid 65534") != NULL,
		      "schemectl said: %s", r->err);
	ck_assert_int_eq(lines(r->err), 1);

	as_nobody(TEST_SCHEMERUN, "--socket", sock, "true");
	ck_assert_msg(r->status == 127, "status %d: %s", r->status, r->err);
	ck_assert_msg(strstr(r->err, "permission denied") != NULL &&
			  strstr(r->err, "answers only root") != NULL &&
			  strstr(r->err, "no broker") == NULL &&
			  strstr(r->err, ".log") == NULL,
		      "schemerun said: %s", r->err);

	as_nobody(TEST_SCHEMED, "--socket", sock, NULL);
	ck_assert_msg(r->status == 1, "status %d: %s", r->status, r->err);
	ck_assert_msg(strstr(r->err, "permission denied") != NULL &&
			  strstr(r->err, "another broker") == NULL,
		      "schemed said: %s", r->err);

	/* Let in by the kernel, turned away by the broker: the same. */
	ck_assert_int_eq(chmod(sock, 0666), 0);
	as_nobody(TEST_SCHEMECTL, "--socket", sock, "list");
	ck_assert_msg(r->status == 3, "status %d: %s", r->status, r->err);
	ck_assert_msg(strstr(r->err, "permission denied") != NULL,
		      "schemectl said: %s", r->err);

	run(20, TEST_SCHEMECTL, "--socket", sock, "list", NULL);
	ck_assert_int_eq(r->status, 0); /* still root's, still there */
	h_stop_daemon(broker, "schemed");
}
END_TEST

START_TEST(irq_raise_without_simulator_says_so)
{
	pid_t broker;

	h_setup_env();
	broker = h_start_broker();
	ck_assert_int_gt(broker, 0);
	run(20, TEST_SCHEMECTL, "irq-raise", "3", NULL);
	ck_assert_int_eq(r->status, 1);
	ck_assert_msg(strstr(r->err, "serves no irq:3") != NULL &&
			  strstr(r->err, "--irq-sim") != NULL,
		      "schemectl said: %s", r->err);
	ck_assert_int_eq(lines(r->err), 1);
	h_stop_daemon(broker, "schemed");
}
END_TEST

/* Every line of the broker's log starts "2026-12-06T14:03:07.123+01:00 ". */
static void
assert_log_times(const char *log)
{
	regex_t re;
	char day[16], line[1024];
	const char *p, *nl;
	time_t now = time(NULL);
	struct tm tm;
	int n = 0;

	ck_assert_int_eq(
	    regcomp(&re,
		    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
		    "\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} schemed\\[[0-9]+\\]: ",
		    REG_EXTENDED | REG_NOSUB),
	    0);
	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	for (p = log; *p != '\0'; p = nl + 1) {
		nl = strchrnul(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0,
			      "log line: %s", line);
		ck_assert_msg(strncmp(line, day, strlen(day)) == 0 ||
				  tm.tm_hour == 0,
			      "not today (%s): %s", day, line);
		n++;
		if (*nl == '\0')
			break;
	}
	regfree(&re);
	ck_assert_int_gt(n, 3);
}

START_TEST(log_iso8601_and_verbose)
{
	char *verbose[] = {(char *)"--verbose", NULL}, path[256], want[128];
	char *log;
	pid_t broker, prov;
	size_t len;

	h_setup_env();
	snprintf(path, sizeof(path), "%s/broker.log", h_dir());
	unlink(path);
	broker = h_start_broker_with(verbose);
	ck_assert_int_gt(broker, 0);
	prov = h_start_memfs("clilog");
	ck_assert_int_gt(prov, 0);
	run(20, TEST_SCHEMECTL, "list", NULL);
	ck_assert_int_eq(r->status, 0);
	h_stop_daemon(prov, "scheme-memfs");
	for (int i = 0; i < 500 && h_scheme_exists("clilog"); i++)
		h_sleep_ms(10);
	h_stop_daemon(broker, "schemed");

	log = h_read_file(path, &len);
	ck_assert_ptr_nonnull(log);
	log[len] = '\0';
	assert_log_times(log);
	snprintf(want, sizeof(want), "scheme clilog: created by pid %d uid %u",
		 (int)prov, (unsigned)geteuid());
	ck_assert_msg(strstr(log, want) != NULL, "no '%s' in:\n%s", want, log);
	snprintf(want, sizeof(want), "scheme clilog: removed (provider pid %d "
				     "uid %u",
		 (int)prov, (unsigned)geteuid());
	ck_assert_msg(strstr(log, want) != NULL, "no '%s' in:\n%s", want, log);
	snprintf(want, sizeof(want), "debug: pid %d uid %u gid %u: connected",
		 (int)prov, (unsigned)geteuid(), (unsigned)getegid());
	ck_assert_msg(strstr(log, want) != NULL, "no '%s' in:\n%s", want, log);
	snprintf(want, sizeof(want), "debug: pid %d uid %u: connection closed",
		 (int)prov, (unsigned)geteuid());
	ck_assert_msg(strstr(log, want) != NULL, "no '%s' in:\n%s", want, log);
	free(log);
}
END_TEST

/* A counter of scheme `name` in `schemectl info`, or -1. */
static long
counter(const char *name, const char *key)
{
	char line[96], k[64];
	const char *p;

	snprintf(line, sizeof(line), "scheme %s ", name);
	snprintf(k, sizeof(k), " %s ", key);
	if ((p = strstr(r->out, line)) == NULL || (p = strstr(p, k)) == NULL)
		return -1;
	return strtol(p + strlen(k), NULL, 10);
}

/*
 * A provider holding one read (scheme-memfs's fifo) among many answered
 * requests and closes: info says requests = answers + unanswered, with
 * exactly that one unanswered.  SYS_CLOSE answers were counted without
 * their requests (more answers than requests), and the counters were
 * taken just after a read, with its requests not answered yet.
 */
START_TEST(info_counters_add_up)
{
	char *fifo[] = {(char *)"cat", (char *)"clicount:fifo", NULL};
	char *world[] = {(char *)"cat", (char *)"clicount:world", NULL};
	long req = -1, ans = -1, una = -1;
	pid_t broker, prov, reader;
	int i;

	h_setup_env();
	broker = h_start_broker();
	prov = h_start_memfs("clicount");
	ck_assert(broker > 0 && prov > 0);
	for (i = 0; i < 5; i++) {
		h_run(r, true, NULL, 20, world);
		ck_assert_str_eq(r->out, "Hello, world!\n");
	}
	reader = h_spawn(fifo, true, -1); /* its read is kept */
	/*
	 * The provider reports at most every 100 ms, when it next reads: a
	 * request after a pause makes it report what came before.
	 */
	for (i = 0; i < 20; i++) {
		h_sleep_ms(250);
		h_run(r, true, NULL, 20, world);
		h_sleep_ms(50);
		run(20, TEST_SCHEMECTL, "info", NULL);
		ck_assert_int_eq(r->status, 0);
		req = counter("clicount", "requests");
		ans = counter("clicount", "answers");
		una = counter("clicount", "unanswered");
		ck_assert_msg(req >= 0 && ans >= 0 && una >= 0, "info: %s",
			      r->out);
		ck_assert_msg(req == ans + una,
			      "requests %ld != answers %ld + unanswered %ld",
			      req, ans, una);
		if (una == 1 && req > 20)
			break;
	}
	ck_assert_msg(una == 1 && req > 20,
		      "requests %ld answers %ld unanswered %ld:\n%s", req, ans,
		      una, r->out);
	ck_assert_ptr_nonnull(strstr(r->out, "# unanswered"));
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	h_stop_daemon(prov, "scheme-memfs");
	h_stop_daemon(broker, "schemed");
}
END_TEST

/* Manual pages --------------------------------------------------------- */

static char prefix[256];

#define sh(...) h_sh_ok(r, 120, __VA_ARGS__)

static void
install_setup(void)
{
	setup();
	snprintf(prefix, sizeof(prefix), "%s/prefix", h_dir());
	sh("'%s' --install '%s' --prefix '%s' >/dev/null", TEST_CMAKE,
	   TEST_BUILD_DIR, prefix);
}

/* Every page in doc/man is installed, in the section its name says. */
START_TEST(pages_installed)
{
	const char *want[] = {"man1/schemerun.1", "man1/schemectl.1",
			      "man7/scheme.7",	  "man8/schemed.8",
			      "man3/getns.3",	  "man3/setrens.3",
			      "man3/mkns.3"};
	char path[512], src[512];
	struct dirent *de;
	size_t n;
	DIR *d;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), "%s/share/man/%s", prefix,
			 want[i]);
		ck_assert_msg(access(path, R_OK) == 0, "%s is not installed",
			      path);
	}
	snprintf(src, sizeof(src), "%s/doc/man", TEST_SOURCE_DIR);
	ck_assert_ptr_nonnull(d = opendir(src));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 3 || de->d_name[n - 2] != '.' ||
		    de->d_name[n - 1] < '1' || de->d_name[n - 1] > '8')
			continue;
		snprintf(path, sizeof(path), "%s/share/man/man%c/%s", prefix,
			 de->d_name[n - 1], de->d_name);
		ck_assert_msg(access(path, R_OK) == 0, "%s is not installed",
			      path);
	}
	closedir(d);
}
END_TEST

/*
 * Every installed page renders without a warning, as lintian renders it
 * (from the man directory, so that a .so link resolves), and has a NAME
 * line whatis can read.
 */
START_TEST(pages_render_without_warnings)
{
	sh("command -v man >/dev/null && command -v lexgrog >/dev/null || "
	   "{ echo 'man-db is missing: sh tools/install-deps.sh' >&2; exit 1; }"
	   ";cd '%s/share/man' && n=0 && for p in man[1-8]/*; do "
	   "n=$((n + 1)); "
	   "LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 "
	   "-l -Tutf8 -Z \"$p\" 2>\"$p.err\" >/dev/null || exit 1; "
	   "if [ -s \"$p.err\" ]; then cat \"$p.err\" >&2; exit 1; fi; "
	   "rm \"$p.err\"; "
	   "lexgrog \"$p\" >/dev/null || { echo \"$p: no whatis\" >&2; exit 1; }"
	   "; done; [ $n -ge 7 ]",
	   prefix);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("commands");
	TCase *msg = tcase_create("messages");
	TCase *man = tcase_create("pages");
	int ncmd = sizeof(commands) / sizeof(commands[0]);

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, help_on_stdout, 0, ncmd);
	tcase_add_loop_test(tc, version_is_pkg_config_s, 0, ncmd);
	tcase_add_loop_test(tc, usage_errors_one_line, 0, ncmd);
	tcase_add_test(tc, schemectl_usage);
	tcase_add_test(tc, no_crash_on_any_argument_list);
	suite_add_tcase(s, tc);

	tcase_set_timeout(msg, 60);
	tcase_add_checked_fixture(msg, setup, teardown);
	tcase_add_test(msg, another_user_told_permission);
	tcase_add_test(msg, irq_raise_without_simulator_says_so);
	tcase_add_test(msg, log_iso8601_and_verbose);
	tcase_add_test(msg, info_counters_add_up);
	suite_add_tcase(s, msg);

	tcase_set_timeout(man, 180);
	tcase_add_checked_fixture(man, install_setup, teardown);
	tcase_add_test(man, pages_installed);
	tcase_add_test(man, pages_render_without_warnings);
	suite_add_tcase(s, man);
	return s;
}

int
main(void)
{
	return h_main(cli_suite());
}
