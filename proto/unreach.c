/*
 * unreach.c - see unreach.h.
 */
#include <elf.h>
#include <string.h>

#include "unreach.h"

/* 1: static (no PT_INTERP), 0: dynamic, -1: not an ELF64 we can read. */
static int
elf_static(const unsigned char *head, size_t len)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (len < sizeof(eh))
		return -1;
	memcpy(&eh, head, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(ph) || eh.e_phoff > len ||
	    (len - eh.e_phoff) / sizeof(ph) < eh.e_phnum)
		return -1;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		memcpy(&ph, head + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return 0;
	}
	return 1;
}

enum unreach
unreach_of(const void *head, size_t len, const struct stat *st, uid_t uid,
	   gid_t gid, bool has_caps)
{
	if (elf_static(head, len) == 1)
		return UNREACH_STATIC;
	if (((st->st_mode & S_ISUID) && st->st_uid != uid) ||
	    ((st->st_mode & S_ISGID) && st->st_gid != gid))
		return UNREACH_SETID;
	if (has_caps)
		return UNREACH_CAPS;
	return UNREACH_NO;
}

const char *
unreach_why(enum unreach u)
{
	switch (u) {
	case UNREACH_STATIC:
		return "is statically linked: LD_PRELOAD cannot reach it, so "
		       "it would see no schemes";
	case UNREACH_SETID:
		return "is set-user-ID or set-group-ID: the loader drops "
		       "LD_PRELOAD for it, so it would see no schemes";
	case UNREACH_CAPS:
		return "has file capabilities: the loader drops LD_PRELOAD "
		       "for it, so it would see no schemes";
	default:
		return NULL;
	}
}
