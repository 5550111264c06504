/*
 * log.c - one line per event on stderr.  fatalx() is for broken
 * invariants only: a peer's bad input is logged and dropped, never fatal.
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

static void __attribute__((format(printf, 2, 0)))
vlog(const char *level, const char *fmt, va_list ap)
{
	struct timespec ts;
	char buf[512];

	clock_gettime(CLOCK_REALTIME, &ts);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s[%d] %lld.%03ld %s%s\n", logname, (int)getpid(),
		(long long)ts.tv_sec, ts.tv_nsec / 1000000, level, buf);
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
