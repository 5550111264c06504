/*
 * cli.h - what every command does with its command line, as GNU and BSD
 * tools do: --help prints the usage on stdout and exits 0, --version
 * prints the project's version (the same as `pkg-config --modversion
 * scheme`) and exits 0, and a usage error is one line on stderr and exit
 * status 2.
 *
 *	cli_init("schemectl", usage_text);
 *	opterr = 0;	(getopt's own messages would make a second line)
 *	while ((ch = getopt_long(argc, argv, "+:s:hV", opts, NULL)) != -1)
 *		switch (ch) {
 *		case 'h': cli_help();
 *		case 'V': cli_version();
 *		...
 *		default: cli_bad_option(argv, ch);
 *		}
 */
#ifndef TOOLS_CLI_H
#define TOOLS_CLI_H

#include <stddef.h>

void cli_init(const char *prog, const char *usage);
const char *cli_prog(void);
void cli_help(void) __attribute__((noreturn));
void cli_version(void) __attribute__((noreturn));
void cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void cli_bad_option(char *const argv[], int ch) __attribute__((noreturn));

/* --socket PATH into path[len], or a usage error. */
void cli_socket_path(const char *arg, char *path, size_t len);

/*
 * The options of schemerun and schemectl: --socket, --help, --version,
 * up to the first argument that is not an option (optind is then it).
 */
void cli_socket_options(int argc, char **argv, char *path, size_t len);

/* Their lines in the usage. */
#define CLI_SOCKET_HELP                                                        \
	"  -s, --socket PATH  the broker's socket (default: $SCHEME_SOCKET,\n" \
	"                     else /run/scheme for root, else\n"               \
	"                     $XDG_RUNTIME_DIR/scheme, else "                  \
	"/tmp/scheme-UID/socket)\n"                                            \
	"  -h, --help         print this and exit\n"                           \
	"  -V, --version      print the version and exit\n"

#endif
