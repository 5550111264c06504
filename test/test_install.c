/*
 * test_install.c - what `cmake --install` puts in place works for a
 * provider author: the header through pkg-config and through
 * find_package(Scheme), and the installed tools run the result.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static struct run_result *r;
static char prefix[256];

#define sh(...) h_sh_ok(r, 120, __VA_ARGS__)

static void
setup(void)
{
	r = calloc(1, sizeof(*r));
	snprintf(prefix, sizeof(prefix), "%s/prefix", h_dir());
	sh("'%s' --install '%s' --prefix '%s' >/dev/null", TEST_CMAKE,
	   TEST_BUILD_DIR, prefix);
}

static void
teardown(void)
{
	free(r);
}

START_TEST(installed_files)
{
	const char *files[] = {"bin/schemed", "bin/schemerun", "bin/schemectl",
			       "include/scheme/scheme.h"};

	sh("ls '%s'/lib*/libscheme.so", prefix);

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		sh("test -x '%s/%s' || test -f '%s/%s'", prefix, files[i],
		   prefix, files[i]);
	sh("ls '%s'/lib*/libscheme-preload.so '%s'/lib*/pkgconfig/scheme.pc "
	   "'%s'/lib*/cmake/Scheme/SchemeConfig.cmake",
	   prefix, prefix, prefix);
}
END_TEST

/*
 * The systemd units: under the prefix (not systemd's own), starting the
 * schemed installed with them, and valid as systemd reads them.
 */
START_TEST(systemd_units_installed)
{
	sh("set -e; cd '%s/lib/systemd';"
	   "test -f system/schemed.socket; test -f user/schemed.socket;"
	   "grep -qx 'ExecStart=%s/bin/schemed' system/schemed.service;"
	   "grep -qx 'ExecStart=%s/bin/schemed' user/schemed.service;"
	   "systemd-analyze verify --man=no system/schemed.socket"
	   " system/schemed.service 2>&1;"
	   "XDG_RUNTIME_DIR='%s' systemd-analyze verify --man=no --user"
	   " user/schemed.socket user/schemed.service 2>&1",
	   prefix, prefix, prefix, h_dir());
	ck_assert_msg(r->outlen == 0, "systemd-analyze verify:\n%s", r->out);
}
END_TEST

/*
 * tools/SRC (one or more files, by spaces) built with pkg-config alone,
 * run by the installed schemerun as scheme NAME; what `cat NAME:PATH`
 * prints is left in r->out.
 */
static void
provider_reads(const char *src, const char *name, const char *path)
{
	sh("set -e; export PKG_CONFIG_PATH=$(echo '%s'/lib*/pkgconfig);"
	   "test -f \"$(pkg-config --variable=preload scheme)\";"
	   "src=; for f in %s; do src=\"$src %s/tools/$f\"; done;"
	   "cc $(pkg-config --cflags scheme) -o '%s/%s' $src"
	   " $(pkg-config --libs scheme)"
	   " -Wl,-rpath,\"$(pkg-config --variable=libdir scheme)\";"
	   "export SCHEME_SOCKET='%s/%s.sock';"
	   "'%s/bin/schemerun' '%s/%s' %s & p=$!;"
	   "for i in $(seq 100); do '%s/bin/schemectl' list 2>/dev/null |"
	   " grep -qx %s && break; sleep 0.05; done;"
	   "'%s/bin/schemerun' cat %s:%s; kill $p; wait $p || true;"
	   "'%s/bin/schemectl' stop",
	   prefix, src, TEST_SOURCE_DIR, h_dir(), name, h_dir(), name, prefix,
	   h_dir(), name, name, prefix, name, prefix, name, path, prefix);
}

/* A provider in raw packets. */
START_TEST(pkg_config_provider_runs)
{
	provider_reads("hello.c", "inst", "pkgconfig");
	ck_assert_str_eq(r->out, "Hello, pkgconfig!\n");
}
END_TEST

/* The provider helper is in the installed libscheme: memfs is built on it. */
START_TEST(pkg_config_helper_provider_runs)
{
	provider_reads("memfs.c memfs_locks.c", "mem", "world");
	ck_assert_str_eq(r->out, "Hello, world!\n");
}
END_TEST

/* The CMake package: a project that says find_package(Scheme). */
START_TEST(cmake_package_builds)
{
	sh("set -e; d='%s/consumer'; mkdir -p \"$d\";"
	   "printf 'cmake_minimum_required(VERSION 3.18)\\nproject(c C)\\n"
	   "find_package(Scheme REQUIRED)\\nadd_executable(prov "
	   "%s/tools/hello.c)\\n"
	   "target_link_libraries(prov Scheme::headers Scheme::scheme)\\n"
	   "file(WRITE ${CMAKE_BINARY_DIR}/preload.txt "
	   "${SCHEME_PRELOAD_LIBRARY})\\n'"
	   " > \"$d/CMakeLists.txt\";"
	   "'%s' -S \"$d\" -B \"$d/b\" -DCMAKE_PREFIX_PATH='%s' >/dev/null;"
	   "'%s' --build \"$d/b\" >/dev/null; test -x \"$d/b/prov\";"
	   "test -f \"$(cat \"$d/b/preload.txt\")\"",
	   h_dir(), TEST_SOURCE_DIR, TEST_CMAKE, prefix, TEST_CMAKE);
}
END_TEST

static Suite *
install_suite(void)
{
	Suite *s = suite_create("install");
	TCase *tc = tcase_create("install");

	tcase_set_timeout(tc, 180);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, installed_files);
	tcase_add_test(tc, systemd_units_installed);
	tcase_add_test(tc, pkg_config_provider_runs);
	tcase_add_test(tc, pkg_config_helper_provider_runs);
	tcase_add_test(tc, cmake_package_builds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(install_suite());
}
