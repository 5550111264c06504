/*
 * fuzz_wire.c - the checks every reader of a message makes (proto/wire.c),
 * on bytes any peer can send: wire_req_check (a provider reading a
 * client), wire_rep_check (a client reading a provider), wire_ctl_check
 * (the broker, a provider and schemectl reading each other),
 * wire_name_check (a CREATE's name), wire_op (a request's op) and
 * wire_fdname_parse (the abstract name of a socket an fd refers to,
 * which anyone can bind).
 *
 * Each input is given to all of them.  The bytes are copied to a heap
 * block of exactly their length, so that ASan sees any read past what
 * the kernel handed over.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/wire.h"
#include "fuzz.h"

static void *
copy(const uint8_t *data, size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fuzz_fail("out of memory");
	memcpy(p, data, size);
	return p;
}

/* A header that passes says exactly how long the message is. */
static void
checks(const uint8_t *data, size_t size)
{
	void *m = copy(data, size);
	uint32_t len;

	if (wire_req_check(m, size) == 0) {
		memcpy(&len, data + offsetof(struct wire_req, len), 4);
		if (size != sizeof(struct wire_req) + len ||
		    len > WIRE_MAX_DATA)
			fuzz_fail("wire_req_check passed %zu bytes", size);
	}
	if (wire_rep_check(m, size) == 0) {
		memcpy(&len, data + offsetof(struct wire_rep, len), 4);
		if (size != sizeof(struct wire_rep) + len)
			fuzz_fail("wire_rep_check passed %zu bytes", size);
	}
	if (wire_ctl_check(m, size) == 0) {
		memcpy(&len, data + offsetof(struct wire_ctl, len), 4);
		if (size != sizeof(struct wire_ctl) + len)
			fuzz_fail("wire_ctl_check passed %zu bytes", size);
	}
	free(m);
}

/* A valid name is one a path can carry: path_classify agrees (fuzz_path). */
static void
name(const uint8_t *data, size_t size)
{
	char *m = copy(data, size);
	size_t i;

	if (wire_name_check(m, size) == 0) {
		if (size == 0 || size > WIRE_MAX_NAME)
			fuzz_fail("name of %zu bytes passed", size);
		for (i = 0; i < size; i++)
			if (m[i] == ':' || m[i] == '/' || m[i] == '\0')
				fuzz_fail("name with '%c' passed", m[i]);
	}
	free(m);
}

static void
op(const uint8_t *data, size_t size)
{
	const struct wire_op *o;
	uint32_t v;

	if (size < 4)
		return;
	memcpy(&v, data, 4);
	if ((o = wire_op(v)) != NULL &&
	    (o->op != v || o->name == NULL || o->in > WIRE_IN_BUF ||
	     o->out > WIRE_OUT_STRUCT))
		fuzz_fail("wire_op(%#x) is wrong", v);
}

/*
 * The input as sun_path: the kernel gives getsockname() the family, then
 * the bound bytes.  What parses must format back to a name that parses
 * to the same numbers.
 */
static void
fdname(const uint8_t *data, size_t size)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	struct sockaddr_un *sa, again;
	uint64_t b, i, k, b2, i2, k2;
	socklen_t len;

	if (size > sizeof(sa->sun_path))
		size = sizeof(sa->sun_path);
	sa = malloc(off + size);
	if (sa == NULL)
		fuzz_fail("out of memory");
	sa->sun_family = AF_UNIX;
	memcpy((char *)sa + off, data, size);
	if (wire_fdname_parse(sa, (socklen_t)(off + size), &b, &i, &k) == 0) {
		len = wire_fdname(&again, b, i, k);
		if (wire_fdname_parse(&again, len, &b2, &i2, &k2) != 0 ||
		    b2 != b || i2 != i || k2 != k)
			fuzz_fail("fdname does not round-trip");
	}
	free(sa);
}

/* Any three numbers make a name that parses back to them. */
static void
fdname_make(const uint8_t *data, size_t size)
{
	uint64_t v[3], b, i, k;
	struct sockaddr_un sa;
	socklen_t len;

	if (size < sizeof(v))
		return;
	memcpy(v, data, sizeof(v));
	len = wire_fdname(&sa, v[0], v[1], v[2]);
	if (wire_fdname_parse(&sa, len, &b, &i, &k) != 0 || b != v[0] ||
	    i != v[1] || k != v[2])
		fuzz_fail("wire_fdname(%llx, %llx, %llx) does not parse",
			  (unsigned long long)v[0], (unsigned long long)v[1],
			  (unsigned long long)v[2]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	checks(data, size);
	name(data, size);
	op(data, size);
	fdname(data, size);
	fdname_make(data, size);
	return 0;
}
