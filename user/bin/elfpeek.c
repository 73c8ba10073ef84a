// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A quick look at an ELF file: build-id and defined functions (elfpeek.h). The mapping libelf
 * makes may hold other uprobes' breakpoints (see elf.c): only notes and symbols are read here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>
#include "elfpeek.h"

#define NT_GO_BUILDID 4 /* cmd/link: the "Go" note holding the Go build ID */

/*
 * The GNU build-id in hex; a Go program linked internally has none, only Go's own build ID (a
 * string of some 80 characters): then "go-" and a 64-bit FNV-1a hash of it, unique enough to
 * key the analysis cache. A GNU build-id wins over the Go one whichever note comes first.
 */
static void note_build_id(Elf_Data *data, char *build_id)
{
	size_t off = 0, no, doff, i;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &no, &doff)) > 0) {
		const unsigned char *d = (const unsigned char *)data->d_buf + doff;
		const char *name = (const char *)data->d_buf + no;

		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_descsz > 0 && nh.n_descsz <= 20 &&
		    nh.n_namesz == 4 && !memcmp(name, "GNU", 4)) {
			for (i = 0; i < nh.n_descsz; i++)
				snprintf(build_id + 2 * i, 3, "%02x", d[i]);
			return;
		}
		if (nh.n_type == NT_GO_BUILDID && nh.n_namesz >= 3 && !memcmp(name, "Go", 3) &&
		    !build_id[0]) {
			unsigned long long h = 0xcbf29ce484222325ULL;

			for (i = 0; i < nh.n_descsz; i++)
				h = (h ^ d[i]) * 0x100000001b3ULL;
			snprintf(build_id, 41, "go-%016llx", h);
		}
	}
}

/* Returns true when fn asked to stop. */
static bool syms(Elf *e, Elf_Data *data, const GElf_Shdr *sh, bin_peek_fn fn, void *ctx)
{
	size_t i, n = sh->sh_size / sh->sh_entsize;

	for (i = 0; i < n; i++) {
		const char *s;
		GElf_Sym sym;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		s = elf_strptr(e, sh->sh_link, sym.st_name);
		if (s && fn(ctx, s, BIN_PEEK_FUNC))
			return true;
	}
	return false;
}

int bin_elf_peek(const char *path, bin_peek_fn fn, void *ctx, char *build_id, char *why,
		 size_t wsz)
{
	bool stop = false;
	Elf_Scn *scn = NULL;
	Elf *e = NULL;
	size_t shstr;
	int fd, rc = -1;

	build_id[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, wsz, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (elf_version(EV_CURRENT) == EV_NONE ||
	    !(e = elf_begin(fd, ELF_C_READ_MMAP, NULL)) || elf_kind(e) != ELF_K_ELF) {
		snprintf(why, wsz, "not an ELF file");
		goto cleanup;
	}
	rc = 0;
	if (elf_getshdrstrndx(e, &shstr) == 0)
		while (!stop && (scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *n;

			if (gelf_getshdr(scn, &sh) && (n = elf_strptr(e, shstr, sh.sh_name)))
				stop = fn(ctx, n, BIN_PEEK_SECTION);
		}
	scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *data;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		if (sh.sh_type == SHT_NOTE && (!build_id[0] || !strncmp(build_id, "go-", 3)))
			note_build_id(data, build_id);
		else if ((sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB) && sh.sh_entsize &&
			 !stop)
			stop = syms(e, data, &sh, fn, ctx);
	}
cleanup:
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}
