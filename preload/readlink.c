/*
 * readlink.c - reading a symbolic link of a scheme: for readlink(2), for
 * the walk that follows links (follow.c), and for ".." after a link
 * (resolve.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "client.h"
#include "real.h"

/*
 * The target of the link sp names (its last component not followed), in
 * out as a string: its length, -EINVAL when it is no link (a provider
 * without links may ignore SCHEME_O_SYMLINK and open the file: its fstat
 * tells), or -errno.
 */
int
sc_readlink(const struct scheme_path *sp, char *out, size_t len)
{
	struct iovec iov = {out, len - 1};
	struct sc_desc d;
	struct stat st;
	struct sfd tmp;
	struct sc_at a = {.oflags = SCHEME_O_SYMLINK | O_RDONLY,
			  .op = SYS_FSTAT,
			  .d = sizeof(st),
			  .out = &st,
			  .outlen = sizeof(st)};
	int64_t at;
	ssize_t n;
	int fd, r;

	/*
	 * Whether it is a link at all, in one round trip: most names asked
	 * are not (ls -l, cp and realpath ask every one).
	 */
	at = sc_at(sp, &a);
	if (at == SC_PASS || (at < 0 && at != -EXDEV && at != SC_SEPARATE))
		return (int)at;
	if (at == 0 && (a.got != sizeof(st) || !S_ISLNK(st.st_mode)))
		return -EINVAL;
	fd = sc_open_once(sp, SCHEME_O_SYMLINK | O_RDONLY | O_CLOEXEC, 0, &d);
	if (fd < 0)
		return fd;
	sc_desc_sfd(&tmp, &d);
	if (d.key == 0 || (r = sc_fstat(fd, &tmp, &st)) < 0 ||
	    !S_ISLNK(st.st_mode))
		n = -EINVAL;
	else if ((n = sc_readv(fd, &tmp, &iov, 1)) >= 0)
		out[n] = '\0';
	REAL(close)(fd);
	return n == (ssize_t)len - 1 ? -ENAMETOOLONG : (int)n;
}
