/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ELF reader for binary analysis, independent of any library it is pointed at: the whole file in
 * memory, parsed with libelf behind our own bounds checks, so a truncated or corrupt file is
 * refused with a reason or yields less, never a crash. Inside a SIGBUS guard (binguard.h) the
 * file is mapped, shared and read-only, and only the pages the analysis touches are read;
 * outside one it is read whole. x86-64 (ELFCLASS64, little endian) only:
 * the analysers on top disassemble x86-64.
 */
#ifndef AT_BIN_ELF_H
#define AT_BIN_ELF_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

/* Which symbol table a symbol came from. */
enum { BIN_DYNSYM = 1, BIN_SYMTAB = 2 };

/* One defined, named symbol of .dynsym or .symtab. */
struct bin_sym {
	const char *name; /* in the file's string table: valid until bin_elf_close */
	uint64_t value, size;
	uint8_t type, bind; /* STT_*, STB_* */
	uint8_t table;	    /* BIN_DYNSYM or BIN_SYMTAB */
	uint32_t next;	    /* internal: next symbol of the same name + 1, 0 at the end */
};

/* A section header, with its bytes when they lie inside the file. */
struct bin_sec {
	const char *name; /* "" when the name is unreadable */
	GElf_Shdr sh;
	const uint8_t *data; /* sh_size bytes; NULL for SHT_NOBITS or a range outside the file */
};

/* An R_X86_64_RELATIVE or R_X86_64_64 relocation, resolved: the pointer stored at off. */
struct bin_rel {
	uint64_t off, val;
};

struct bin_elf {
	const char *path;
	uint8_t *buf; /* the whole file: mapped shared, or read (see read_file) */
	size_t size;
	int mapped;   /* buf is a mapping of size bytes, not a malloc'ed copy */
	Elf *elf;
	GElf_Ehdr eh;
	GElf_Phdr *ph;
	size_t nph;
	struct bin_sec *sec; /* in section header order, index 0 (SHN_UNDEF) left out */
	size_t nsec;
	struct bin_sym *sym; /* in file order: the tables in section order, each in its order */
	size_t nsym;
	uint64_t *sym_hash; /* open addressing: name hash << 32 | symbol index + 1, 0 empty */
	size_t sym_hcap;
	struct bin_rel *rel; /* sorted by off */
	size_t nrel, relcap;
	const char **needed; /* DT_NEEDED, in order */
	size_t nneeded;
	const char **verdef; /* name of every version definition (first Verdaux), in order */
	size_t nverdef;
	char runpath[512]; /* DT_RUNPATH, else DT_RPATH, "" when neither */
	char build_id[41]; /* NT_GNU_BUILD_ID in hex, "" when none */
	char why[200];	   /* why bin_elf_open failed */
};

/* Read and parse path. -1 with f->why set when the file is not a usable x86-64 ELF shared object
 * or executable; bin_elf_close must be called either way. */
int bin_elf_open(struct bin_elf *f, const char *path);
void bin_elf_close(struct bin_elf *f);

/* vaddr -> file offset through PT_LOAD; len bytes must be backed by the file (need_exec: in a
 * PF_X segment). 0 on success. */
int bin_elf_va2off(const struct bin_elf *f, uint64_t va, uint64_t len, uint64_t *off,
		   int need_exec);
/* Pointer to len file bytes at va, NULL when not backed (see bin_elf_va2off). */
const uint8_t *bin_elf_va_ptr(const struct bin_elf *f, uint64_t va, uint64_t len, int need_exec);
/* The 8-byte pointer stored at va once relocated: its relocation, else the file's bytes (not in a
 * relocated shared object, where a slot without relocation holds no pointer). 0 on success. */
int bin_elf_read_ptr(const struct bin_elf *f, uint64_t va, uint64_t *out);
int bin_elf_read_u32(const struct bin_elf *f, uint64_t va, uint32_t *out);

/* The symbol called name of type (STT_*, or -1 for any): a global definition rather than a local
 * or weak one, the last global in file order (.symtab usually follows .dynsym and they agree on
 * values), else the first. NULL when there is none. O(1) through a hash. */
const struct bin_sym *bin_elf_sym(const struct bin_elf *f, const char *name, int type);
/* The same for n names at once: out[i] for names[i]. Returns how many were found. */
int bin_elf_syms(const struct bin_elf *f, const char *const *names, int n, int type,
		 const struct bin_sym **out);

/* First section called name, NULL when none. */
const struct bin_sec *bin_elf_section(const struct bin_elf *f, const char *name);
/* The relocation at exactly off, NULL when none. */
const struct bin_rel *bin_elf_rel_at(const struct bin_elf *f, uint64_t off);

#endif
