/*
 * test_package.c - the Debian package (debian/): dpkg-buildpackage builds
 * it from a copy of the source, lintian finds no error in it, each binary
 * package holds what it should, and the extracted packages work: a
 * provider built against -dev, run by the packaged schemerun, serves the
 * packaged cat.  Nothing is installed on this machine (dpkg -x only).
 *
 * Label "package": it takes about a minute (the build is most of it).
 */
#define _GNU_SOURCE
#include <check.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define DEB(pkg) pkg "_" SCHEME_VERSION "_amd64.deb"

static struct run_result *r;
static int built = -1; /* dpkg-buildpackage's status */

static void sh(int seconds, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Run a shell script in h_dir(); r holds how it went. */
static void
sh(int seconds, const char *fmt, ...)
{
	char script[8192];
	va_list ap;
	int n;

	n = snprintf(script, sizeof(script), "set -e; cd '%s'; ", h_dir());
	va_start(ap, fmt);
	vsnprintf(script + n, sizeof(script) - (size_t)n, fmt, ap);
	va_end(ap);
	char *argv[] = {(char *)"sh", (char *)"-c", script, NULL};
	h_run(r, false, NULL, seconds, argv);
}

#define sh_ok(...)                                                             \
	do {                                                                   \
		sh(120, __VA_ARGS__);                                          \
		ck_assert_msg(r->status == 0, "status %d\n%s%s", r->status,    \
			      r->out, r->err);                                 \
	} while (0)

/* Once, for every case: build the packages from a copy of the source. */
static void
build(void)
{
	r = calloc(1, sizeof(*r));
	sh(900,
	   "mkdir src; tar -C '%s' --exclude='./build*' --exclude=./.git "
	   "-cf - . | tar -C src -xf -; cd src;"
	   "dpkg-buildpackage -us -uc -b -jauto > ../build.log 2>&1 ||"
	   " { tail -40 ../build.log; exit 1; }",
	   TEST_SOURCE_DIR);
	built = r->status;
	if (built != 0)
		fprintf(stderr, "dpkg-buildpackage failed (status %d):\n%s%s",
			built, r->out, r->err);
}

static void
unbuild(void)
{
	free(r);
}

static void
need_build(void)
{
	ck_assert_msg(built == 0, "the packages did not build");
}

/* The packages are named after the project's version (CMakeLists.txt). */
START_TEST(changelog_has_project_version)
{
	sh_ok("dpkg-parsechangelog -l '%s/debian/changelog' -S Version",
	      TEST_SOURCE_DIR);
	r->out[strcspn(r->out, "\n")] = '\0';
	ck_assert_msg(strcmp(r->out, SCHEME_VERSION) == 0,
		      "debian/changelog is at %s, the project at %s: add an "
		      "entry (dch -v %s)",
		      r->out, SCHEME_VERSION, SCHEME_VERSION);
}
END_TEST

START_TEST(builds_three_packages)
{
	need_build();
	sh_ok("ls %s %s %s", DEB("scheme-tools"), DEB("libscheme0"),
	      DEB("libscheme-dev"));
}
END_TEST

/* No error (warnings are printed, for the log). */
START_TEST(lintian_finds_no_error)
{
	need_build();
	sh(300, "lintian --fail-on error scheme_%s_amd64.changes",
	   SCHEME_VERSION);
	fprintf(stderr, "lintian:\n%s%s", r->out, r->err);
	ck_assert_msg(r->status == 0, "lintian: status %d\n%s", r->status,
		      r->out);
}
END_TEST

static const struct {
	const char *pkg, *path;
} holds[] = {
    {"scheme-tools", "./usr/bin/schemed"},
    {"scheme-tools", "./usr/bin/schemerun"},
    {"scheme-tools", "./usr/bin/schemectl"},
    {"scheme-tools", "./usr/bin/scheme-memfs"},
    {"scheme-tools", "./usr/lib/x86_64-linux-gnu/libscheme-preload.so"},
    {"scheme-tools", "./lib/systemd/system/schemed.socket"},
    {"scheme-tools", "./lib/systemd/system/schemed.service"},
    {"scheme-tools", "./usr/lib/systemd/user/schemed.socket"},
    {"scheme-tools", "./usr/lib/systemd/user/schemed.service"},
    {"libscheme0", "./usr/lib/x86_64-linux-gnu/libscheme.so.0"},
    {"libscheme-dev", "./usr/include/scheme/scheme.h"},
    {"libscheme-dev", "./usr/lib/x86_64-linux-gnu/libscheme.so"},
    {"libscheme-dev", "./usr/lib/x86_64-linux-gnu/pkgconfig/scheme.pc"},
    {"libscheme-dev",
     "./usr/lib/x86_64-linux-gnu/cmake/Scheme/SchemeConfig.cmake"},
    {"libscheme-dev", "./usr/share/doc/libscheme-dev/examples/memfs.c"},
    {"libscheme-dev",
     "./usr/share/doc/libscheme-dev/examples/memfs_locks.c"},
};

START_TEST(package_holds)
{
	need_build();
	sh_ok("dpkg-deb -c %s_%s_amd64.deb | awk '{print $6}' | grep -qx '%s'",
	      holds[_i].pkg, SCHEME_VERSION, holds[_i].path);
}
END_TEST

/* Every page in doc/man: section 3 with -dev, the others with the tools. */
START_TEST(manual_pages_packaged)
{
	glob_t g;
	char pat[512];

	need_build();
	snprintf(pat, sizeof(pat), "%s/doc/man/*.[1-8]", TEST_SOURCE_DIR);
	if (glob(pat, 0, NULL, &g) != 0)
		return; /* no pages in this tree */
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *page = strrchr(g.gl_pathv[i], '/') + 1;
		char sec = page[strlen(page) - 1];

		sh_ok("dpkg-deb -c %s | grep -q ' ./usr/share/man/man%c/%s.gz'",
		      sec == '3' ? DEB("libscheme-dev") : DEB("scheme-tools"),
		      sec, page);
	}
	globfree(&g);
}
END_TEST

/* The version is the project's; the library's package is its SONAME's. */
START_TEST(names_and_versions)
{
	need_build();
	sh_ok("test \"$(dpkg-deb -f %s Version)\" = '%s'", DEB("scheme-tools"),
	      SCHEME_VERSION);
	sh_ok("rm -rf x; dpkg -x %s x;"
	      "objdump -p x/usr/lib/x86_64-linux-gnu/libscheme.so.* |"
	      " grep -q 'SONAME *libscheme.so.0$'",
	      DEB("libscheme0"));
	sh_ok("dpkg-deb -f %s Depends | grep -q 'libscheme0 (= %s)'",
	      DEB("libscheme-dev"), SCHEME_VERSION);
}
END_TEST

/*
 * Extracted (not installed): a provider built with the packaged
 * pkg-config file, run by the packaged schemerun and broker, serves the
 * packaged tools' programs.
 */
START_TEST(extracted_packages_work)
{
	need_build();
	sh_ok("rm -rf root; for p in scheme-tools libscheme0 libscheme-dev; do"
	      " dpkg -x ${p}_%s_amd64.deb root; done;"
	      "R=$PWD/root; L=$R/usr/lib/x86_64-linux-gnu;"
	      "export PKG_CONFIG_PATH=$L/pkgconfig LD_LIBRARY_PATH=$L;"
	      "export SCHEME_SOCKET=$PWD/pkg.sock;"
	      "cc $(pkg-config --cflags scheme) -o prov"
	      " $R/usr/share/doc/libscheme-dev/examples/hello.c"
	      " $(pkg-config --libs scheme);"
	      "$R/usr/bin/schemerun ./prov deb & p=$!;"
	      "for i in $(seq 100); do $R/usr/bin/schemectl list 2>/dev/null |"
	      " grep -qx deb && break; sleep 0.05; done;"
	      "$R/usr/bin/schemerun cat deb:package; kill $p; wait $p || true;"
	      "$R/usr/bin/schemectl stop",
	      SCHEME_VERSION);
	ck_assert_str_eq(r->out, "Hello, package!\n");
}
END_TEST

static Suite *
package_suite(void)
{
	Suite *s = suite_create("package");
	TCase *tc = tcase_create("package");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, build, unbuild);
	tcase_add_test(tc, changelog_has_project_version);
	tcase_add_test(tc, builds_three_packages);
	tcase_add_test(tc, lintian_finds_no_error);
	tcase_add_loop_test(tc, package_holds, 0,
			    sizeof(holds) / sizeof(holds[0]));
	tcase_add_test(tc, manual_pages_packaged);
	tcase_add_test(tc, names_and_versions);
	tcase_add_test(tc, extracted_packages_work);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(package_suite());
}
