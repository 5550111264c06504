/*
 * schemerun - run a command with schemes reachable.
 *
 *	schemerun [--socket PATH] [--] CMD [ARGS...]
 *
 * Puts the preload library in LD_PRELOAD and the broker's address in
 * SCHEME_SOCKET, starts a broker on that address if none answers (in the
 * background, logging to PATH.log, not our child), then execs CMD: its pid,
 * signals and exit status are CMD's own.
 *
 * A CMD the preload cannot reach, a statically linked one (no ELF
 * interpreter to honour LD_PRELOAD) or a Go one (its own system calls,
 * not libc's, even with cgo), is run under a supervisor instead (sup.h,
 * runsup.h): its path calls on scheme paths are served through the
 * kernel-visible view.  A CMD stored on a scheme is run from the view.
 * Refused with a line saying why (exit 126): one the dynamic loader runs
 * in secure mode, which drops LD_PRELOAD (set-user-ID or set-group-ID to
 * another than the caller, or carrying file capabilities), and a CMD that
 * needs the view when none can be mounted.
 *
 * A broker that is there but not the caller's to use (another user's,
 * say root's /run/scheme) is said so, with who may use it; no broker is
 * started over it.  See schemerun(1).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../proto/unreach.h"
#include "../proto/wire/path.h"
#include "../proto/wire/sockpath.h"
#include "cli.h"
#include "paths.h"
#include "reach.h"
#include "runsup.h"
#include "sup.h"

static const char *prog = "schemerun";

static const char usage_text[] =
    "usage: schemerun [--socket PATH] [--] CMD [ARGS...]\n"
    "Run CMD with scheme paths (name:path, /scheme/name/path) reachable:\n"
    "the preload library in LD_PRELOAD and the broker's socket in\n"
    "SCHEME_SOCKET, starting a broker there if none answers (detached,\n"
    "logging to PATH.log).  CMD's pid, signals and exit status are its "
    "own.\n"
    "\n"
    "Options:\n" CLI_SOCKET_HELP "\n"
    "A statically linked or Go CMD is served through the kernel-visible\n"
    "view of the schemes (FUSE) by a supervisor (seccomp); so is a CMD\n"
    "stored on a scheme.\n"
    "\n"
    "Exit status: CMD's; 2 usage; 126 CMD cannot be run, or cannot be\n"
    "served (set-user-ID, file capabilities, no FUSE); 127 CMD not\n"
    "found, or no broker could be had.  See schemerun(1).\n";

static _Noreturn void
die(const char *msg, const char *detail)
{
	fprintf(stderr, "%s: %s%s%s\n", prog, msg, detail ? ": " : "",
		detail ? detail : "");
	exit(127);
}

/* 0 when a broker answers at path, else why not (-errno). */
static int
broker_answers(const char *path)
{
	int fd = sockpath_connect(path);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* The last line of the broker's log: what it said before it gave up. */
static void
die_with_log(const char *log)
{
	char line[512] = "", buf[512];
	FILE *f = fopen(log, "re");

	while (f != NULL && fgets(buf, sizeof(buf), f) != NULL)
		if (buf[0] != '\n')
			memcpy(line, buf, sizeof(line));
	if (f != NULL)
		fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (line[0] == '\0')
		die("the broker did not start; its log is", log);
	fprintf(stderr, "%s: the broker did not start (%s): %s\n", prog, log,
		line);
	exit(127);
}

/* Start schemed detached (double fork, new session), and wait for it. */
static void
start_broker(const char *schemed, const char *path)
{
	char log[PATH_MAX];
	struct timespec ts = {0, 10 * 1000 * 1000};
	pid_t pid;
	int i, st, fd;

	snprintf(log, sizeof(log), "%s.log", path);
	/* Made here, so that a log we cannot write is said as such. */
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr,
			"%s: no broker at %s, and none can be started there: "
			"its log %s: %s\n",
			prog, path, log, strerror(errno));
		exit(127);
	}
	pid = fork();
	if (pid < 0)
		die("cannot fork", strerror(errno));
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		dup2(fd, 1);
		dup2(fd, 2);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		/* Empty, not unset: our exec wrappers restore a missing one. */
		setenv("LD_PRELOAD", "", 1);
		execl(schemed, "schemed", "--socket", path, (char *)NULL);
		_exit(127);
	}
	close(fd);
	waitpid(pid, &st, 0);
	for (i = 0; i < 500; i++) { /* 5 seconds */
		if (broker_answers(path) == 0)
			return;
		nanosleep(&ts, NULL);
	}
	die_with_log(log);
}

/* Our preload first (after the sanitizer runtime, which must lead). */
static void
set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *val;
	int n;

	if (old != NULL && strstr(old, lib) != NULL)
		return;
	n = asprintf(&val, "%s%s%s%s%s", SCHEME_ASAN_RUNTIME,
		     SCHEME_ASAN_RUNTIME[0] ? ":" : "", lib,
		     old && *old ? ":" : "", old && *old ? old : "");
	if (n < 0 || setenv("LD_PRELOAD", val, 1) < 0)
		die("out of memory", NULL);
	free(val);
}

/* A file execve() could run: executable, and not a directory. */
static bool
runnable(const char *file)
{
	struct stat st;

	if (access(file, X_OK) < 0 || stat(file, &st) < 0)
		return false;
	if (S_ISDIR(st.st_mode)) {
		errno = EACCES;
		return false;
	}
	return true;
}

/* CMD as execvp would find it; false when it is not found. */
static bool
resolve(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	if (cmd[0] == '\0') {
		errno = ENOENT;
		return false;
	}
	if (strchr(cmd, '/') != NULL) {
		snprintf(out, len, "%s", cmd);
		return runnable(out);
	}
	for (p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0'; p = end) {
		end = strchrnul(p, ':');
		snprintf(out, len, "%.*s%s%s", (int)(end - p), p,
			 end > p ? "/" : "", cmd);
		if (runnable(out))
			return true;
		if (*end == ':')
			end++;
	}
	return false;
}

/* Whether the notes at [off, off + len) hold Go's build id. */
static bool
notes_go(int fd, off_t off, size_t len)
{
	char buf[4096];
	size_t at = 0;
	Elf64_Nhdr nh;

	if (len > sizeof(buf))
		len = sizeof(buf);
	if (pread(fd, buf, len, off) != (ssize_t)len)
		return false;
	while (at + sizeof(nh) <= len) {
		memcpy(&nh, buf + at, sizeof(nh));
		at += sizeof(nh);
		if ((nh.n_namesz == 3 || nh.n_namesz == 4) && at + 3 <= len &&
		    memcmp(buf + at, "Go", 3) == 0)
			return true;
		at += ((nh.n_namesz + 3) & ~3u) + ((nh.n_descsz + 3) & ~3u);
	}
	return false;
}

enum elf_kind { ELF_OTHER, ELF_DYNAMIC, ELF_STATIC, ELF_GO };

/*
 * What the preload can do for an ELF file: a program interpreter makes
 * it dynamic (reached), unless Go's build-id note says Go, which makes
 * its own system calls; none makes it static.  Scripts and what we do
 * not know are the kernel's business (ELF_OTHER).
 */
static enum elf_kind
elf_kind(const char *file)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(file, O_RDONLY | O_CLOEXEC), i;
	bool interp = false, go = false;

	if (fd < 0)
		return ELF_OTHER;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64) {
		close(fd);
		return ELF_OTHER;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph),
			  (off_t)(eh.e_phoff +
				  (Elf64_Off)i * eh.e_phentsize)) != sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP)
			interp = true;
		if (ph.p_type == PT_NOTE && !go)
			go = notes_go(fd, (off_t)ph.p_offset,
				      (size_t)ph.p_filesz);
	}
	close(fd);
	return go ? ELF_GO : interp ? ELF_DYNAMIC : ELF_STATIC;
}

/*
 * Why neither the preload nor the supervisor can run FILE, or NULL: a
 * static program is the supervisor's (proto/unreach.h for the rest).
 */
static const char *
unreachable(const char *file)
{
	unsigned char head[4096];
	struct stat st;
	enum unreach u;
	ssize_t n = -1;
	int fd;

	if (stat(file, &st) < 0)
		return NULL; /* execv will say */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = pread(fd, head, sizeof(head), 0);
		close(fd);
	}
	u = unreach_of(head, n > 0 ? (size_t)n : 0, &st, getuid(), getgid(),
		       getxattr(file, "security.capability", NULL, 0) > 0);
	return u == UNREACH_STATIC ? NULL : unreach_why(u);
}

/* A broker at path: the one there, or one we start; never over another's. */
static void
need_broker(const char *path, const char *schemed)
{
	char why[512];
	int r = broker_answers(path);

	if (r == 0)
		return;
	if (r != -ENOENT && r != -ECONNREFUSED) {
		reach_explain(path, r, why, sizeof(why));
		fprintf(stderr, "%s: %s\n", prog, why);
		exit(127);
	}
	start_broker(schemed, path);
}

/* Our preload out of LD_PRELOAD: a supervised program does without. */
static void
drop_preload(const char *lib)
{
	char *val, *p = NULL, *tok, *save = NULL;
	const char *old = getenv("LD_PRELOAD");
	size_t n = 0;

	if (old == NULL || strstr(old, lib) == NULL)
		return;
	if ((val = malloc(strlen(old) + 1)) == NULL ||
	    (p = strdup(old)) == NULL)
		die("out of memory", NULL);
	for (tok = strtok_r(p, ": ", &save); tok != NULL;
	     tok = strtok_r(NULL, ": ", &save))
		if (strcmp(tok, lib) != 0)
			n +=
			    (size_t)sprintf(val + n, "%s%s", n ? ":" : "", tok);
	val[n] = '\0';
	setenv("LD_PRELOAD", val, 1);
	free(p);
	free(val);
}

/* The broker at path (started if none answers), and where our parts are. */
static void
prepare(char *path, size_t len, char *lib, size_t liblen)
{
	char schemed[PATH_MAX];

	if (path[0] == '\0' && sockpath_default(path, len) < 0)
		die("socket path too long; set SCHEME_SOCKET", NULL);
	if (sockpath_mkdir(path) < 0)
		die("cannot use the directory of", path);
	if (paths_find(lib, liblen, PATHS_PRELOAD) < 0 ||
	    paths_find(schemed, sizeof(schemed), PATHS_SCHEMED) < 0)
		die("cannot find the preload library or schemed", NULL);
	setenv("SCHEME_SOCKET", path, 1);
	need_broker(path, schemed);
}

/* CMD not found or not runnable: said before a broker is started. */
static int
not_found(const char *cmd)
{
	fprintf(stderr, "%s: %s: %s\n", prog, cmd,
		strchr(cmd, '/') != NULL || strchr(cmd, ':') != NULL
		    ? strerror(errno)
		    : "command not found");
	return errno == ENOENT || strchr(cmd, '/') == NULL ? 127 : 126;
}

int
main(int argc, char **argv)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lib[PATH_MAX], file[PATH_MAX], need[PATH_MAX + 64];
	struct scheme_path sp;
	struct run_view v = {.own = false};
	const char *why, *cmd;
	bool on_scheme = false, supervise;
	enum elf_kind kind;

	cli_init(prog, usage_text);
	path[0] = '\0';
	cli_socket_options(argc, argv, path, sizeof(path));
	if (optind >= argc)
		cli_usage_error("a command to run is needed");
	cmd = argv[optind];
	if (path_classify(cmd, &sp)) {
		/* Stored on a scheme: executed from the view. */
		prepare(path, sizeof(path), lib, sizeof(lib));
		snprintf(need, sizeof(need), "%s (stored on a scheme)", cmd);
		if (runsup_view(path, &v, need) < 0)
			return 126;
		on_scheme = sup_view_path(v.dir, cmd, file, sizeof(file)) > 0;
		if (on_scheme && !runnable(file)) {
			runsup_drop(&v);
			return not_found(cmd);
		}
	}
	if (!on_scheme && !resolve(cmd, file, sizeof(file))) {
		runsup_drop(&v);
		return not_found(cmd);
	}
	if ((why = unreachable(file)) != NULL) {
		runsup_drop(&v);
		fprintf(stderr, "%s: %s %s\n", prog, file, why);
		return 126;
	}
	kind = elf_kind(file);
	supervise = kind == ELF_STATIC || kind == ELF_GO;
	if (!on_scheme)
		prepare(path, sizeof(path), lib, sizeof(lib));
	if (supervise && v.dir[0] == '\0') {
		snprintf(need, sizeof(need), "%s (%s)", file,
			 kind == ELF_GO ? "a Go program" : "statically linked");
		if (runsup_view(path, &v, need) < 0)
			return 126;
	}
	if (supervise)
		drop_preload(lib);
	else
		set_preload(lib);
	if ((v.own || supervise) && runsup_start(&v, supervise) < 0) {
		runsup_drop(&v);
		return 126;
	}
	/* The run's view, for its programs' exec of a scheme path. */
	if (v.dir[0] != '\0')
		setenv("SCHEME_VIEW", v.dir, 1);
	if (on_scheme || supervise)
		execv(file, argv + optind);
	else
		execvp(cmd, argv + optind);
	fprintf(stderr, "%s: %s: %s\n", prog, cmd, strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
