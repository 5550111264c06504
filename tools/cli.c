/*
 * cli.c - --help, --version and usage errors, the same in every command
 * (see cli.h).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef SCHEME_VERSION
#error "SCHEME_VERSION comes from CMakeLists.txt"
#endif

static const char *prog = "scheme";
static const char *usage_text = "";

void
cli_init(const char *name, const char *usage)
{
	prog = name;
	usage_text = usage;
}

const char *
cli_prog(void)
{
	return prog;
}

void
cli_help(void)
{
	fputs(usage_text, stdout);
	exit(fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1);
}

void
cli_version(void)
{
	printf("%s (scheme) %s\n", prog, SCHEME_VERSION);
	exit(fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1);
}

/* One line: what is wrong, and where the usage is. */
void
cli_usage_error(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s (see '%s --help')\n", prog, msg, prog);
	exit(2);
}

/*
 * What getopt_long() rejected, with opterr = 0 and ':' leading the
 * option string: ':' is a missing value, '?' an unknown option (optopt
 * is its letter, or 0 for a long one, which argv[optind - 1] holds).
 */
void
cli_bad_option(char *const argv[], int ch)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;

	if (ch == ':')
		cli_usage_error("option '%s' needs a value",
				arg != NULL ? arg : "?");
	if (ch == '?' && optopt != 0)
		cli_usage_error("unknown option '-%c'", optopt);
	cli_usage_error("unknown option '%s'", arg != NULL ? arg : "?");
}
