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
 * option string: ':' is a missing value, '?' an unknown option or a long
 * one given a value it does not take (argv[optind - 1] holds a long one;
 * optopt a short one's letter).
 */
void
cli_bad_option(char *const argv[], int ch)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;

	if (ch == ':')
		cli_usage_error("option '%s' needs a value",
				arg != NULL ? arg : "?");
	if (arg != NULL && strncmp(arg, "--", 2) == 0)
		cli_usage_error("unknown option, or one that takes no value: "
				"'%s'",
				arg);
	if (optopt != 0)
		cli_usage_error("unknown option '-%c'", optopt);
	cli_usage_error("unknown option '%s'", arg != NULL ? arg : "?");
}

void
cli_socket_path(const char *arg, char *path, size_t len)
{
	if (arg[0] == '\0' || strlen(arg) >= len)
		cli_usage_error("--socket: a path of 1 to %zu bytes", len - 1);
	strcpy(path, arg);
}

void
cli_socket_options(int argc, char **argv, char *path, size_t len)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			cli_socket_path(optarg, path, len);
			break;
		case 'h':
			cli_help();
		case 'V':
			cli_version();
		default:
			cli_bad_option(argv, ch);
		}
	}
}
