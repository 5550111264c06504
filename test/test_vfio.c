/*
 * test_vfio.c - irq: on real VFIO: boots a QEMU guest (test/vfio/) once,
 * then each case reads what its check printed on the guest's console.
 *
 * The guest runs the broker (irq:0-3 on edu INTx, edu MSI and e1000e's
 * MSI-X vectors 0 and 1), scheme-irqdrv (irq: + time: + event: through
 * the preload, BAR0 mapped from the VFIO device fd irq: handed it), and
 * guestcheck, which raises interrupts through the driver and checks each
 * arrives and is acked.
 *
 *	test_vfio		Debian 12's kernel (6.1): the group path,
 *				chosen by --vfio auto
 *	test_vfio cdev		a kernel built here with IOMMUFD and the VFIO
 *				cdev (test/vfio/build-kernel.sh, ~4 min; no
 *				Debian kernel has them): --vfio cdev
 *
 * The console log stays in the build tree: vfio/console.log (or
 * vfio-cdev/console.log).
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char *console; /* the guest's serial output */
static char logpath[512];
static bool cdev; /* the kernel built here, --vfio cdev */

static void
boot(void)
{
	char cmd[2048];
	size_t len, i, j = 0;
	int st;

	const char *work = cdev ? "vfio-cdev" : "vfio";

	snprintf(logpath, sizeof(logpath), "%s/%s/console.log", TEST_BUILD_DIR,
		 work);
	if (cdev)
		snprintf(
		    cmd, sizeof(cmd),
		    "mkdir -p '%s/%s' && "
		    "sh '%s/test/vfio/build-kernel.sh' '%s/%s' >'%s' 2>&1 && "
		    "SCHEME_VFIO_KERNEL='%s/%s/kernel-cdev' "
		    "sh '%s/test/vfio/run-guest.sh' '%s' '%s/%s' cdev "
		    ">>'%s' 2>&1",
		    TEST_BUILD_DIR, work, TEST_SOURCE_DIR, TEST_BUILD_DIR, work,
		    logpath, TEST_BUILD_DIR, work, TEST_SOURCE_DIR,
		    TEST_BUILD_DIR, TEST_BUILD_DIR, work, logpath);
	else
		snprintf(cmd, sizeof(cmd),
			 "mkdir -p '%s/%s' && sh '%s/test/vfio/run-guest.sh' "
			 "'%s' '%s/%s' auto >'%s' 2>&1",
			 TEST_BUILD_DIR, work, TEST_SOURCE_DIR, TEST_BUILD_DIR,
			 TEST_BUILD_DIR, work, logpath);
	st = system(cmd);
	console = h_read_file(logpath, &len);
	if (console == NULL)
		console = strdup("");
	/* The serial console ends its lines with \r\n. */
	for (i = 0, j = 0; i < len; i++)
		if (console[i] != '\r')
			console[j++] = console[i];
	console[j] = '\0';
	if (st != 0)
		fprintf(stderr,
			"test_vfio: the guest run ended with status %d; "
			"see %s\n",
			st, logpath);
}

static void
teardown(void)
{
	free(console);
}

/* The line the check printed: PASS, or the case fails with it. */
static void
expect_pass(const char *label)
{
	char pass[128], fail[128];
	const char *p, *f;

	ck_assert_msg(strstr(console, "GUEST_END") != NULL,
		      "the guest did not finish; see %s", logpath);
	snprintf(pass, sizeof(pass), "CHECK PASS %s ", label);
	snprintf(fail, sizeof(fail), "CHECK FAIL %s ", label);
	f = strstr(console, fail);
	ck_assert_msg(f == NULL, "%.*s (see %s)", (int)strcspn(f, "\n"), f,
		      logpath);
	p = strstr(console, pass);
	ck_assert_msg(p != NULL, "no result for %s; see %s", label, logpath);
	fprintf(stderr, "%.*s\n", (int)strcspn(p, "\n"), p);
}

START_TEST(edu_intx)
{
	expect_pass("edu-intx");
}
END_TEST

START_TEST(edu_intx_timeout)
{
	expect_pass("edu-intx-timeout");
}
END_TEST

START_TEST(edu_intx_loopback)
{
	expect_pass("edu-intx-loopback");
}
END_TEST

START_TEST(edu_msi)
{
	expect_pass("edu-msi");
	expect_pass("edu-msi-loopback");
}
END_TEST

START_TEST(edu_msi_direct)
{
	expect_pass("edu-msi-direct");
}
END_TEST

START_TEST(e1000e_msix)
{
	expect_pass("e1000e-msix-0");
	expect_pass("e1000e-msix-1");
	expect_pass("e1000e-msix-loopback");
}
END_TEST

/* The broker opened both devices by the path this kernel calls for. */
START_TEST(opened_by_the_right_path)
{
	const char *want =
	    cdev ? "opened by the cdev path" : "opened by the group path";
	const char *p = strstr(console, want);

	ck_assert_msg(p != NULL && strstr(p + 1, want) != NULL,
		      "want two devices %s; see %s", want, logpath);
}
END_TEST

/* The driver read config space and mapped BAR0 through the handed fd. */
START_TEST(device_handover)
{
	ck_assert_msg(strstr(console, "device 1234:11e8, BAR0") != NULL,
		      "edu's config space/BAR0 not reached; see %s", logpath);
	ck_assert_msg(strstr(console, "device 8086:10d3, BAR0") != NULL,
		      "e1000e's config space/BAR0 not reached; see %s",
		      logpath);
}
END_TEST

/*
 * Every daemon in the guest exited cleanly (0: under the sanitizers, an
 * error or a leak changes the status).
 */
START_TEST(clean_exits)
{
	const char *p = console, *e;
	int n = 0;

	while ((p = strstr(p, "GUEST ")) != NULL) {
		p += 6;
		e = strstr(p, " exited ");
		if (e == NULL || memchr(p, '\n', (size_t)(e - p)) != NULL)
			continue;
		n++;
		ck_assert_msg(strncmp(e, " exited 0\n", 10) == 0,
			      "%.*s; see %s", (int)strcspn(p, "\n"), p,
			      logpath);
	}
	ck_assert_int_eq(n, 5); /* four drivers and the broker */
}
END_TEST

static Suite *
vfio_suite(void)
{
	Suite *s = suite_create("vfio");
	TCase *tc = tcase_create("guest");

	tcase_add_unchecked_fixture(tc, boot, teardown);
	tcase_add_test(tc, edu_intx);
	tcase_add_test(tc, edu_intx_timeout);
	tcase_add_test(tc, edu_intx_loopback);
	tcase_add_test(tc, edu_msi);
	tcase_add_test(tc, edu_msi_direct);
	tcase_add_test(tc, e1000e_msix);
	tcase_add_test(tc, opened_by_the_right_path);
	tcase_add_test(tc, device_handover);
	tcase_add_test(tc, clean_exits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	cdev = argc > 1 && strcmp(argv[1], "cdev") == 0;
	return h_main(vfio_suite());
}
