/*
 * trace.h - schemectl trace's printing (trace.c).
 */
#ifndef TOOLS_TRACE_H
#define TOOLS_TRACE_H

#include <stdbool.h>
#include <stdio.h>

struct wire_trace;
struct wire_traced;

/* One record (wire_trace_check passed) as a line, or a JSON object. */
void trace_print(FILE *f, const char *scheme, const struct wire_trace *r,
		 bool json);

/*
 * Print, one line (or JSON object) each, the records coming down fds[i]
 * from schemes[i], until every scheme is gone.  Returns an exit code: 0,
 * or 1 when a scheme turned the tracer away (it had enough of them).
 */
int trace_run(const struct wire_traced *schemes, const int *fds, int n,
	      bool json);

#endif
