/*
 * test_entry.c - every exported entry point, called by name.
 *
 * Programs reach our wrappers through many names (open64, __open_2,
 * __fxstat, fcntl64, execlp...).  Each name in preload.map is looked up
 * as the program sees it, checked to be ours, and called through libffi
 * with its exact prototype, the variadic ones (open, openat, fcntl,
 * execl...) with the variadic calling convention, against a scheme.
 * Runs under the preload.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ffi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define S "te"

static void
start_world(void)
{
	h_world_start(S);
}

static ffi_type *
ftype(char c)
{
	switch (c) {
	case 'i':
		return &ffi_type_sint;
	case 'u':
		return &ffi_type_uint;
	case 'l':
		return &ffi_type_slong;
	case 'z':
		return &ffi_type_ulong;
	case 'p':
		return &ffi_type_pointer;
	default:
		return &ffi_type_void;
	}
}

/*
 * What `name` is for the program: our wrapper, or in the sanitizer build
 * possibly the sanitizer's interceptor (its runtime is preloaded first and
 * forwards to the next definition, ours).  Either way the preload must
 * export it.
 */
static void *
resolve(const char *name)
{
	void *lib = dlopen(TEST_PRELOAD, RTLD_NOW | RTLD_NOLOAD);
	void *fn = dlsym(RTLD_DEFAULT, name), *own;
	Dl_info info;

	ck_assert_ptr_nonnull(lib);
	own = dlsym(lib, name);
	ck_assert_msg(own != NULL, "the preload does not export %s", name);
	ck_assert(dladdr(own, &info) != 0);
	ck_assert_msg(strstr(info.dli_fname, "libscheme-preload") != NULL,
		      "%s comes from %s", name, info.dli_fname);
	ck_assert_msg(fn != NULL, "%s does not resolve", name);
	ck_assert(dladdr(fn, &info) != 0);
	ck_assert_msg(fn == own || (TEST_ASAN_RUNTIME[0] != '\0' &&
				    strstr(info.dli_fname, "libasan") != NULL),
		      "%s resolves to %s, not the preload", name,
		      info.dli_fname);
	dlclose(lib);
	return fn;
}

/*
 * Call `name` as the program would.  sig: return type, ':', argument
 * types; a '.' marks where the variadic arguments begin.
 *	i int, u unsigned, l long (off_t, ssize_t), z size_t, p pointer,
 *	v void
 */
static long
call(const char *name, const char *sig, ...)
{
	union {
		int i;
		unsigned u;
		long l;
		size_t z;
		void *p;
	} v[8];
	ffi_type *types[8];
	void *vals[8];
	ffi_arg rv = 0;
	ffi_cif cif;
	int n = 0, nfixed = -1;
	const char *a;
	void *fn = resolve(name);
	va_list ap;

	va_start(ap, sig);
	for (a = sig + 2; *a != '\0'; a++) {
		if (*a == '.') {
			nfixed = n;
			continue;
		}
		types[n] = ftype(*a);
		switch (*a) {
		case 'i':
			v[n].i = va_arg(ap, int);
			break;
		case 'u':
			v[n].u = va_arg(ap, unsigned);
			break;
		case 'l':
			v[n].l = va_arg(ap, long);
			break;
		case 'z':
			v[n].z = va_arg(ap, size_t);
			break;
		default:
			v[n].p = va_arg(ap, void *);
		}
		vals[n] = &v[n];
		n++;
	}
	va_end(ap);
	if (nfixed >= 0)
		ck_assert_int_eq(ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI,
						  (unsigned)nfixed, (unsigned)n,
						  ftype(sig[0]), types),
				 FFI_OK);
	else
		ck_assert_int_eq(ffi_prep_cif(&cif, FFI_DEFAULT_ABI,
					      (unsigned)n, ftype(sig[0]),
					      types),
				 FFI_OK);
	ffi_call(&cif, FFI_FN(fn), &rv, vals);
	if (sig[0] == 'i')
		return (long)(int)rv;
	return (long)rv;
}

/* Every name preload.map exports resolves, for the program, to us. */
START_TEST(every_export_is_ours)
{
	size_t len;
	char *map = h_read_file(TEST_PRELOAD_MAP, &len), *p, *tok;
	int n = 0;

	ck_assert_ptr_nonnull(map);
	p = strstr(map, "global:");
	ck_assert_ptr_nonnull(p);
	*strstr(p, "local:") = '\0';
	for (tok = strtok(p + 7, " \t\n;"); tok; tok = strtok(NULL, " \t\n;")) {
		resolve(tok);
		n++;
	}
	ck_assert_int_ge(n, 70);
	free(map);
}
END_TEST

static int
check_world_fd(int fd)
{
	char buf[32] = {0};

	ck_assert_msg(fd >= 0, "open failed: %s", strerror(errno));
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 14);
	ck_assert_str_eq(buf, "Hello, world!\n");
	return close(fd);
}

START_TEST(open_family)
{
	const char *p = S ":world";

	check_world_fd((int)call("open", "i:pi.u", p, O_RDONLY, 0u));
	check_world_fd((int)call("open64", "i:pi.u", p, O_RDONLY, 0u));
	check_world_fd(
	    (int)call("openat", "i:ipi.u", AT_FDCWD, p, O_RDONLY, 0u));
	check_world_fd(
	    (int)call("openat64", "i:ipi.u", AT_FDCWD, p, O_RDONLY, 0u));
	check_world_fd((int)call("__open_2", "i:pi", p, O_RDONLY));
	check_world_fd((int)call("__open64_2", "i:pi", p, O_RDONLY));
	check_world_fd((int)call("__openat_2", "i:ipi", AT_FDCWD, p, O_RDONLY));
	check_world_fd(
	    (int)call("__openat64_2", "i:ipi", AT_FDCWD, p, O_RDONLY));
	/* Variadic mode with O_CREAT, through the variadic convention. */
	int fd =
	    (int)call("open", "i:pi.u", S ":made", O_CREAT | O_RDWR, 0640u);
	struct stat st;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640 & ~022);
	close(fd);
	fd = (int)call("creat", "i:pu", S ":creat", 0600u);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "c", 1), 1);
	close(fd);
	fd = (int)call("creat64", "i:pu", S ":creat", 0600u);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0); /* O_TRUNC */
	close(fd);
}
END_TEST

START_TEST(io_family)
{
	char b[16] = {0}, c[16] = {0};
	struct iovec iv[2] = {{b, 2}, {c, 3}};
	int fd = open(S ":io", O_CREAT | O_RDWR | O_TRUNC, 0600);

	ck_assert_int_eq(call("write", "l:ipz", fd, "abcdefgh", (size_t)8), 8);
	ck_assert_int_eq(call("lseek", "l:ili", fd, 0L, SEEK_SET), 0);
	ck_assert_int_eq(call("read", "l:ipz", fd, b, (size_t)2), 2);
	ck_assert_int_eq(
	    call("__read_chk", "l:ipzz", fd, b, (size_t)2, sizeof(b)), 2);
	ck_assert_str_eq(b, "cd");
	ck_assert_int_eq(call("readv", "l:ipi", fd, iv, 2), 4); /* 2 + 2 */
	ck_assert_int_eq(call("lseek64", "l:ili", fd, 0L, SEEK_CUR), 8);
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(call("pread", "l:ipzl", fd, b, (size_t)3, 1L), 3);
	ck_assert_str_eq(b, "bcd");
	ck_assert_int_eq(call("pread64", "l:ipzl", fd, b, (size_t)1, 0L), 1);
	ck_assert_int_eq(
	    call("__pread_chk", "l:ipzlz", fd, b, (size_t)1, 7L, sizeof(b)), 1);
	ck_assert_int_eq(b[0], 'h');
	ck_assert_int_eq(
	    call("__pread64_chk", "l:ipzlz", fd, b, (size_t)1, 6L, sizeof(b)),
	    1);
	ck_assert_int_eq(b[0], 'g');
	iv[0].iov_len = 1;
	iv[1].iov_len = 1;
	ck_assert_int_eq(call("preadv", "l:ipil", fd, iv, 2, 2L), 2);
	ck_assert_int_eq(call("preadv64", "l:ipil", fd, iv, 2, 4L), 2);
	ck_assert_int_eq(b[0], 'e');
	ck_assert_int_eq(call("pwrite", "l:ipzl", fd, "X", (size_t)1, 0L), 1);
	ck_assert_int_eq(call("pwrite64", "l:ipzl", fd, "Y", (size_t)1, 1L), 1);
	struct iovec wv[2] = {{(char *)"1", 1}, {(char *)"2", 1}};
	ck_assert_int_eq(call("pwritev", "l:ipil", fd, wv, 2, 2L), 2);
	ck_assert_int_eq(call("pwritev64", "l:ipil", fd, wv, 1, 4L), 1);
	ck_assert_int_eq(call("writev", "l:ipi", fd, wv, 2), 2); /* at 8 */
	ck_assert_int_eq(call("pwritev2", "l:ipili", fd, wv, 1, 5L, 0), 1);
	ck_assert_int_eq(call("pwritev64v2", "l:ipili", fd, wv + 1, 1, 6L, 0),
			 1);
	ck_assert_int_eq(call("preadv2", "l:ipili", fd, iv, 1, 5L, 0), 1);
	ck_assert_int_eq(b[0], '1');
	ck_assert_int_eq(call("preadv64v2", "l:ipili", fd, iv, 1, 6L, 0), 1);
	ck_assert_int_eq(b[0], '2');
	ck_assert_int_eq(call("fallocate", "i:iill", fd, 0, 0L, 11L), 0);
	ck_assert_int_eq(call("fallocate64", "i:iill", fd, 0, 0L, 12L), 0);
	ck_assert_int_eq(call("posix_fallocate", "i:ill", fd, 0L, 13L), 0);
	ck_assert_int_eq(call("posix_fallocate64", "i:ill", fd, 0L, 14L), 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), 14);
	ck_assert_int_eq(lseek(fd, 10, SEEK_SET), 10);
	ck_assert_int_eq(call("fsync", "i:i", fd), 0);
	ck_assert_int_eq(call("fdatasync", "i:i", fd), 0);
	ck_assert_int_eq(call("ftruncate", "i:il", fd, 9L), 0);
	ck_assert_int_eq(call("ftruncate64", "i:il", fd, 9L), 0);
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(pread(fd, b, sizeof(b), 0), 9);
	ck_assert_str_eq(b, "XY12112h1");
	close(fd);
}
END_TEST

START_TEST(stat_family)
{
	struct stat st;
	struct statx sx;
	const char *p = S ":world";
	int fd = open(p, O_RDONLY);

#define SZ(expr)                                                               \
	do {                                                                   \
		memset(&st, 0, sizeof(st));                                    \
		ck_assert_int_eq((expr), 0);                                   \
		ck_assert_int_eq(st.st_size, 14);                              \
	} while (0)
	SZ(call("stat", "i:pp", p, &st));
	SZ(call("stat64", "i:pp", p, &st));
	SZ(call("lstat", "i:pp", p, &st));
	SZ(call("lstat64", "i:pp", p, &st));
	SZ(call("fstat", "i:ip", fd, &st));
	SZ(call("fstat64", "i:ip", fd, &st));
	SZ(call("fstatat", "i:ippi", AT_FDCWD, p, &st, 0));
	SZ(call("fstatat64", "i:ippi", fd, "", &st, AT_EMPTY_PATH));
	SZ(call("__xstat", "i:ipp", 1, p, &st));
	SZ(call("__xstat64", "i:ipp", 1, p, &st));
	SZ(call("__lxstat", "i:ipp", 1, p, &st));
	SZ(call("__lxstat64", "i:ipp", 1, p, &st));
	SZ(call("__fxstat", "i:iip", 1, fd, &st));
	SZ(call("__fxstat64", "i:iip", 1, fd, &st));
	SZ(call("__fxstatat", "i:iippi", 1, AT_FDCWD, p, &st, 0));
	SZ(call("__fxstatat64", "i:iippi", 1, AT_FDCWD, p, &st, 0));
#undef SZ
	ck_assert_int_eq(
	    call("statx", "i:ipiup", AT_FDCWD, p, 0, (unsigned)STATX_SIZE, &sx),
	    0);
	ck_assert_uint_eq(sx.stx_size, 14);
	close(fd);
}
END_TEST

START_TEST(fd_family)
{
	int fd = open(S ":fdf", O_CREAT | O_RDWR, 0600), d, st;
	pid_t pid;

	ck_assert_int_eq(call("fcntl", "i:ii.p", fd, F_GETFL, NULL) & O_ACCMODE,
			 O_RDWR);
	ck_assert_int_eq(
	    call("fcntl64", "i:ii.p", fd, F_SETFL, (void *)(long)O_NONBLOCK),
	    0);
	ck_assert_int_eq(call("fcntl", "i:ii.p", fd, F_GETFL, NULL) &
			     O_NONBLOCK,
			 O_NONBLOCK);
	ck_assert_int_eq(call("flock", "i:ii", fd, LOCK_EX), 0);
	ck_assert_int_eq(call("flock", "i:ii", fd, LOCK_UN), 0);
	ck_assert_int_eq(call("lockf", "i:iil", fd, F_TLOCK, 0L), 0);
	ck_assert_int_eq(call("lockf64", "i:iil", fd, F_ULOCK, 0L), 0);
	d = (int)call("dup", "i:i", fd);
	ck_assert_int_eq(call("dup2", "i:ii", d, 70), 70);
	ck_assert_int_eq(call("dup3", "i:iii", d, 71, O_CLOEXEC), 71);
	ck_assert_int_eq(call("close", "i:i", d), 0);
	ck_assert_int_eq(call("close_range", "i:uui", 70u, 71u, 0), 0);
	ck_assert_int_eq(fcntl(70, F_GETFD), -1);
	pid = fork();
	if (pid == 0) {
		call("closefrom", "v:i", 3);
		_exit(fcntl(fd, F_GETFD) == -1 && errno == EBADF ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	umask(022);
	ck_assert_int_eq(call("umask", "u:u", 027u), 022);
	ck_assert_int_eq(call("umask", "u:u", 022u), 027);
	close(fd);
}
END_TEST

START_TEST(stdio_family)
{
	char line[32];
	FILE *f;

	f = (FILE *)call("fopen", "p:pp", S ":world", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "Hello, world!\n");
	fclose(f);
	f = (FILE *)call("fopen64", "p:pp", S ":world", "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fcntl(fileno(f), F_GETFD), FD_CLOEXEC);
	fclose(f);
	f = (FILE *)call("fdopen", "p:ip", open(S ":world", O_RDONLY), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fgetc(f), 'H');
	fclose(f);
	f = fopen("/dev/null", "r");
	f = (FILE *)call("freopen", "p:ppp", S ":world", "r", f);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fgetc(f), 'H');
	f = (FILE *)call("freopen64", "p:ppp", "/dev/null", "r", f);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fgetc(f), EOF);
	fclose(f);
}
END_TEST

/*
 * Each exec name, with the environment cleared: the child still has the
 * preload and the broker's address, and reads a scheme.
 */
static void
exec_one(const char *name)
{
	char *const argv[] = {
	    (char *)"sh", (char *)"-c",
	    (char *)"test -n \"$LD_PRELOAD\" && cat " S ":world", NULL};
	char *const envp[] = {NULL};
	char out[64] = {0};
	int p[2], st;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		clearenv();
		setenv("PATH", "/usr/bin:/bin", 1);
		if (strcmp(name, "execve") == 0)
			call(name, "i:ppp", "/bin/sh", argv, envp);
		else if (strcmp(name, "execv") == 0)
			call(name, "i:pp", "/bin/sh", argv);
		else if (strcmp(name, "execvp") == 0)
			call(name, "i:pp", "sh", argv);
		else if (strcmp(name, "execvpe") == 0)
			call(name, "i:ppp", "sh", argv, envp);
		else if (strcmp(name, "execl") == 0)
			call(name, "i:pp.ppp", "/bin/sh", argv[0], argv[1],
			     argv[2], NULL);
		else if (strcmp(name, "execlp") == 0)
			call(name, "i:pp.ppp", "sh", argv[0], argv[1], argv[2],
			     NULL);
		else if (strcmp(name, "execle") == 0)
			call(name, "i:pp.pppp", "/bin/sh", argv[0], argv[1],
			     argv[2], NULL, envp);
		else if (strcmp(name, "fexecve") == 0)
			call(name, "i:ipp", open("/bin/sh", O_RDONLY), argv,
			     envp);
		_exit(99);
	}
	close(p[1]);
	ck_assert_int_ge(read(p[0], out, sizeof(out) - 1), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status %d",
		      name, st);
	ck_assert_str_eq(out, "Hello, world!\n");
	close(p[0]);
}

START_TEST(exec_family_keeps_preload)
{
	exec_one("execve");
	exec_one("execv");
	exec_one("execvp");
	exec_one("execvpe");
	exec_one("execl");
	exec_one("execlp");
	exec_one("execle");
	exec_one("fexecve");
}
END_TEST

/* _Fork skips atfork handlers; ours run anyway, and the child works. */
START_TEST(fork_without_handlers)
{
	int fd = open(S ":world", O_RDONLY), st;
	pid_t pid = (pid_t)call("_Fork", "i:");
	char buf[16];

	if (pid == 0)
		_exit(read(fd, buf, sizeof(buf)) == 14 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0); /* shared offset */
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 0), 14);
	close(fd);
}
END_TEST

static Suite *
entry_suite(void)
{
	Suite *s = suite_create("entry");
	TCase *tc = tcase_create("names");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, every_export_is_ours);
	tcase_add_test(tc, open_family);
	tcase_add_test(tc, io_family);
	tcase_add_test(tc, stat_family);
	tcase_add_test(tc, fd_family);
	tcase_add_test(tc, stdio_family);
	tcase_add_test(tc, exec_family_keeps_preload);
	tcase_add_test(tc, fork_without_handlers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(entry_suite());
}
