/*
 * fuzz_path.c - telling scheme paths from ordinary ones, and resolving
 * them: path_classify (proto/path.c) on every path a program opens, and
 * the preload's lexical resolution (preload/resolve.c): a scheme path's
 * canonical spelling (resolve_canonical, what chdir and realpath keep)
 * and a relative path joined to a scheme directory (resolve_at), the
 * working directory's or a directory fd's, whose place is what its
 * provider answers SYS_FPATH with.
 *
 * Input: the first byte picks the output buffers' size (mostly PATH_MAX,
 * sometimes a few bytes); then A, a NUL, then B.  A and B are classified
 * and canonicalised; A's canonical spelling becomes the working directory
 * (as chdir into it would make it) and B is resolved against it; then B
 * is resolved against a scheme directory fd whose provider says it is A
 * (resolve_at's *at path, as find and rm -r make it).  Buffers are heap
 * blocks of exactly the size given, so ASan sees a write past one.
 *
 * resolve.c is linked as it is; what it needs from the rest of the
 * preload (fdtab, sc_fpath) is supplied by preload_stubs.c.
 *
 * Checks: what path_classify says is in the path; a canonical spelling is
 * a scheme path of the same scheme (a root path ":name/..." is scheme
 * "name"'s) and a fixed point; and a relative path with no ".." resolved
 * in a scheme directory stays under /scheme: no provider's answer may
 * send a program's openat(dirfd, "file") to a file of the host.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../preload/resolve.h"
#include "../proto/wire/path.h"
#include "../proto/wire/wire.h"
#include "fuzz.h"
#include "preload_stubs.h"

/*
 * Found here, fixed: resolve_canonical() resolved ".." across the whole
 * path, so "hello:../../etc" was "/etc", and a root path whose first
 * component is no valid name (":a b") was "/scheme/a b", an ordinary
 * path.  A provider answering SYS_FPATH so for a directory sent the
 * program's relative calls on it (openat, unlinkat: rm -r) to the host's
 * files.  Seeds escape-* reproduce it.
 */

/* What path_classify says must be what the path says. */
static void
check_classified(const char *path, const struct scheme_path *sp)
{
	size_t n = strlen(sp->name);

	if (n > WIRE_MAX_NAME || (n > 0 && wire_name_check(sp->name, n) < 0))
		fuzz_fail("classified %s with a bad name", path);
	if (sp->rest < path || sp->rest > path + strlen(path) ||
	    strlen(sp->rest) != sp->restlen)
		fuzz_fail("classified %s with rest outside it", path);
}

static char *
out_buf(size_t len)
{
	char *p = malloc(len);

	if (p == NULL)
		fuzz_fail("out of memory");
	return p;
}

/* Whether the canonical spelling out of sp stays with sp's scheme. */
static bool
stays(const struct scheme_path *sp, const char *out, struct scheme_path *sp2)
{
	if (!path_classify(out, sp2))
		return false;
	return sp->name[0] == '\0' || strcmp(sp->name, sp2->name) == 0;
}

/* path's canonical spelling (to free), or NULL when it has none. */
static char *
canonical(const char *path, size_t len)
{
	struct scheme_path sp, sp2;
	char *out = out_buf(len), *again;

	if (!path_classify(path, &sp)) {
		free(out);
		return NULL;
	}
	check_classified(path, &sp);
	if (resolve_canonical(&sp, out, len) < 0) {
		free(out);
		return NULL;
	}
	if (strlen(out) >= len || out[0] != '/')
		fuzz_fail("canonical %s is %s", path, out);
	if (!stays(&sp, out, &sp2))
		fuzz_fail("canonical %s of %s leaves its scheme", out, path);
	again = out_buf(PATH_MAX);
	if (resolve_canonical(&sp2, again, PATH_MAX) < 0 ||
	    strcmp(again, out) != 0)
		fuzz_fail("canonical %s is not a fixed point (%s)", out, again);
	free(again);
	return out;
}

static bool
has_dotdot(const char *p)
{
	const char *s;

	for (s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return true;
	return false;
}

/* rel resolved in dirfd (or the working directory): where does it go? */
static void
relative(int dirfd, const char *where, const char *rel, size_t len)
{
	struct scheme_path sp;
	const char *p = rel;
	char *buf = out_buf(len);
	int r;

	r = resolve_at(&dirfd, &p, buf, len, &sp);
	if (r == 1)
		check_classified(p, &sp);
	if (r == 0 && p == buf) { /* rewritten for the kernel */
		if (buf[0] != '/' || dirfd != AT_FDCWD)
			fuzz_fail("%s in %s is %s for the kernel", rel, where,
				  buf);
		if (!has_dotdot(rel) && strncmp(buf, "/scheme", 7) != 0)
			fuzz_fail("%s in scheme directory %s is host file %s",
				  rel, where, buf);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, alen;
	char *a, *b, *cwd;

	if (size < 1)
		return 0;
	/* Mostly room enough, sometimes very little. */
	len = data[0] < 0xf0 ? PATH_MAX : (size_t)(data[0] - 0xf0) * 3 + 1;
	data++;
	size--;
	a = malloc(size + 1);
	if (a == NULL)
		fuzz_fail("out of memory");
	memcpy(a, data, size);
	a[size] = '\0';
	alen = strlen(a);
	b = alen < size ? a + alen + 1 : a + size;
	cwd = canonical(a, len);
	free(canonical(b, len));
	if (cwd != NULL) {
		resolve_set_cwd(cwd);
		relative(AT_FDCWD, cwd, b, len);
		resolve_set_cwd(NULL);
		free(cwd);
	}
	/* The same A from a provider, canonicalised at full size. */
	free(canonical(a, PATH_MAX));
	fake.fpath = a;
	fake.fpath_len = alen;
	fake_fd_set(FAKE_FD, 1);
	relative(FAKE_FD, a, b, len);
	fake_fd_clear(FAKE_FD);
	free(a);
	return 0;
}
