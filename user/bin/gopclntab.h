/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Go executables without symbols: function entries from the pclntab, which the Go runtime needs
 * for tracebacks and garbage collection and so survives `-ldflags=-s -w`, and the Go version and
 * main module from .go.buildinfo. x86-64 Go 1.16 and later; knows nothing of crypto/tls.
 * Layouts: runtime/symtab.go (pcHeader, functab, _func, moduledata) and debug/buildinfo.
 */
#ifndef AT_BIN_GOPCLNTAB_H
#define AT_BIN_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "elf.h"

struct bin_go {
	int version_class;     /* 116 (magic 0xfffffffa, Go 1.16-1.17), 118 (0xfffffff0, 1.18-1.19),
				  120 (0xfffffff1, 1.20+) */
	uint64_t text;	       /* runtime.text: the base of function entry offsets (1.18+) */
	char why[160];	       /* why bin_go_open failed */
	const char *text_from; /* "pcHeader.textStart", "moduledata.text", ".text section" */
	const char *table_from; /* the section's name, or "magic scan" */
	uint64_t hdr_va;	/* the pcHeader's vaddr */
	uint64_t moduledata;	/* vaddr of the moduledata when text came from it, else 0 */
	uint64_t nfunc;
	/* internal: the tables in the file image of the bin_elf (valid while it is open) */
	const struct bin_elf *e;
	const uint8_t *hdr;
	const uint8_t *names; /* funcnametab */
	size_t names_len;
	const uint8_t *pcln; /* pclntable: the function table, then the _func records */
	size_t pcln_len;
	uint64_t pcln_va;
	int abs; /* 116: entries are absolute pointers (relocated in a PIE) */
};

/*
 * Find and check the pclntab of a Go x86-64 executable: the .gopclntab section (1.18-1.19 PIE:
 * .data.rel.ro.gopclntab), else a scan of the file for the pcHeader. The text base from the
 * header's textStart (1.18-1.25), else runtime.text in the moduledata (1.26+: textStart is 0),
 * else the .text section. Returns 0, or -1 with why set. Every read is bounds-checked. e must
 * stay open while g is used.
 */
int bin_go_open(struct bin_go *g, const struct bin_elf *e);
void bin_go_close(struct bin_go *g);

/*
 * Entry vaddr of the function named exactly name (pclntab names: no ".abi0" suffix) and its end,
 * the next function's entry (the end of text for the last one). When several functions share
 * the name (an ABI wrapper and its target), the first in address order. Linear: a memmem of
 * the name in funcnametab, then one pass over the function table comparing name offsets.
 * 0 found, -1 not found.
 */
int bin_go_func(const struct bin_go *g, const char *name, uint64_t *entry, uint64_t *end);

/* Function i (0 <= i < g->nfunc) in address order: its name (NUL-terminated in the file image,
 * "" when unreadable), entry and end. 0, or -1 when i is out of range. */
int bin_go_func_at(const struct bin_go *g, uint64_t i, const char **name, uint64_t *entry,
		   uint64_t *end);

/*
 * .go.buildinfo (magic "\xff Go buildinf:"): the Go version ("go1.26.10") into ver and the main
 * module path (modinfo's "path\t" line) into mod, "" when absent. Both formats: 1.18+ inline
 * varint-prefixed strings (flag bit 2), and the older pointers to Go strings (resolved through
 * relocations in a PIE). 0 when the file has Go build info, -1 otherwise.
 */
int bin_go_buildinfo(const struct bin_elf *e, char *ver, size_t vn, char *mod, size_t mn);

#endif
