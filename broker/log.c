/*
 * log.c - one line per event on stderr.  fatalx() is for broken
 * invariants only: a peer's bad input is logged and dropped, never fatal.
 *
 *	2026-12-06T14:03:07.123+01:00 schemed[812]: scheme hello: created ...
 *
 * The time is ISO 8601, local, to the millisecond, with its offset from
 * UTC, so that lines from different machines and time zones compare.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *logname = "schemed";
static int logverbose;

void
log_init(const char *name, int verbose)
{
	logname = name;
	logverbose = verbose;
}

/* "2026-12-06T14:03:07.123+01:00": ISO 8601, local time, milliseconds. */
static void
iso8601(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char zone[8];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) == NULL ||
	    (n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 ||
	    strftime(zone, sizeof(zone), "%z", &tm) != 5) {
		snprintf(buf, len, "%lld.%03ld", (long long)ts.tv_sec,
			 ts.tv_nsec / 1000000);
		return;
	}
	/* strftime's %z is +0100; ISO 8601's extended form wants +01:00. */
	snprintf(buf + n, len - n, ".%03ld%.3s:%.2s", ts.tv_nsec / 1000000,
		 zone, zone + 3);
}

static void __attribute__((format(printf, 2, 0)))
vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[512], when[48];

	iso8601(when, sizeof(when));
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s %s[%d]: %s%s\n", when, logname, (int)getpid(),
		level, buf);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!logverbose)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}
