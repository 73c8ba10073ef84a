/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A quick look at an ELF file without reading it whole (elf.h reads every byte): its build-id,
 * its section names and the names of the functions it defines. Discovery runs it on every new executable mapping
 * of the host, so it maps the file and touches only the notes and symbol tables.
 */
#ifndef AT_BIN_ELFPEEK_H
#define AT_BIN_ELFPEEK_H

#include <stdbool.h>
#include <stddef.h>

enum bin_peek_kind {
	BIN_PEEK_SECTION,	/* name is a section's (".go.buildinfo") */
	BIN_PEEK_FUNC,		/* name is a function the file defines */
};

/* Called for every section name, then every function the file defines (.dynsym, then .symtab;
 * imports do not count), until it returns true. */
typedef bool (*bin_peek_fn)(void *ctx, const char *name, enum bin_peek_kind kind);

/*
 * build_id (41 bytes) gets the GNU build-id in hex, "" when none; fn sees the section names and
 * the defined functions.
 * Returns 0, or -1 when the file cannot be opened or is not ELF (why set).
 */
int bin_elf_peek(const char *path, bin_peek_fn fn, void *ctx, char *build_id, char *why,
		 size_t wsz);

#endif
