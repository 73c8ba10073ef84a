// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ELF reader (see elf.h). libelf walks the structures; every offset and size it would trust is
 * first checked against the file's length here, since libelf on a memory image does not always.
 */
#include "elf.h"
#include "binguard.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_SIZE (512u << 20) /* refuse anything larger: no library we analyse comes close */
#define MAX_VERDEF 4096

#define R_X86_64_64_ 1
#define R_X86_64_RELATIVE_ 8

static void setwhy(struct bin_elf *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void setwhy(struct bin_elf *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

static int range_ok(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static int read_file(struct bin_elf *f, const char *path)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		setwhy(f, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		setwhy(f, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > MAX_FILE_SIZE) {
		setwhy(f, st.st_size ? "file too large" : "empty file");
		close(fd);
		return -1;
	}
	/*
	 * Mapped shared when a guard catches a SIGBUS (a file truncated under us): uprobes never
	 * write their breakpoints into a VM_MAYSHARE mapping (uprobes.c's valid_vma), so the code
	 * decoded is the file's own, not another tracer's or an earlier run's int3 bytes, which a
	 * private mapping (VM_MAYEXEC) would show. Only the pages the analysis touches are read:
	 * a 120 MB Go program costs its headers, tables and a few functions, not 120 MB of copy.
	 * Without a guard (tests, fuzzers, tools), read whole into memory.
	 */
	if (bin_guard_active()) {
		void *m = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);

		if (m != MAP_FAILED) {
			close(fd);
			f->buf = m;
			f->size = st.st_size;
			f->mapped = 1;
			return 0;
		}
	}
	f->buf = malloc(st.st_size);
	if (!f->buf) {
		setwhy(f, "out of memory");
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, f->buf + got, st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	f->size = got; /* a file that shrank under us is just a shorter file */
	if (!got) {
		setwhy(f, "empty file");
		return -1;
	}
	return 0;
}

int bin_elf_va2off(const struct bin_elf *f, uint64_t va, uint64_t len, uint64_t *off, int need_exec)
{
	for (size_t i = 0; i < f->nph; i++) {
		const GElf_Phdr *p = &f->ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (need_exec && !(p->p_flags & PF_X))
			continue;
		if (va < p->p_vaddr || va - p->p_vaddr >= p->p_filesz)
			continue;
		if (len > p->p_filesz - (va - p->p_vaddr))
			continue;
		if (!range_ok(f->size, p->p_offset + (va - p->p_vaddr), len))
			return -1;
		*off = p->p_offset + (va - p->p_vaddr);
		return 0;
	}
	return -1;
}

const uint8_t *bin_elf_va_ptr(const struct bin_elf *f, uint64_t va, uint64_t len, int need_exec)
{
	uint64_t off;

	if (bin_elf_va2off(f, va, len, &off, need_exec))
		return NULL;
	return f->buf + off;
}

/* Section data of sh through libelf, only when it lies inside the file. */
static Elf_Data *sec_data(const struct bin_elf *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS || !range_ok(f->size, sh->sh_offset, sh->sh_size))
		return NULL;
	return elf_getdata(scn, NULL);
}

/* Grow *v (n used of *cap elements of sz bytes) to hold one more; -1 when out of memory. */
static int grow(void *v, size_t n, size_t *cap, size_t sz, size_t first)
{
	void **pv = v, *nv;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	nv = realloc(*pv, nc * sz);
	if (!nv)
		return -1;
	*pv = nv;
	*cap = nc;
	return 0;
}

static void scan_syms(struct bin_elf *f, Elf_Scn *scn, const GElf_Shdr *sh, int table, size_t *cap)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t n;

	if (!d || !sh->sh_entsize)
		return;
	n = d->d_size / sizeof(Elf64_Sym);
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_name)
			continue;
		name = elf_strptr(f->elf, sh->sh_link, s.st_name);
		if (!name || grow(&f->sym, f->nsym, cap, sizeof(*f->sym), 1024))
			continue;
		f->sym[f->nsym++] = (struct bin_sym){
		    .name = name,
		    .value = s.st_value,
		    .size = s.st_size,
		    .type = GELF_ST_TYPE(s.st_info),
		    .bind = GELF_ST_BIND(s.st_info),
		    .table = (uint8_t)table,
		};
	}
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	/* FNV's low bits, the ones a power-of-two table uses, mix poorly: fold the high ones in. */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

/* Hash of the names; a chain per name in file order (built backwards, pushing on the head). */
/* The slot of name (hash h) in the table: its names' chain, or the empty slot it would take.
 * A slot keeps the hash beside the index, so a probe reads the table alone until the hashes
 * agree (the symbols themselves lie far apart in memory). */
static size_t sym_slot(const struct bin_elf *f, const char *name, uint32_t h)
{
	size_t j = h & (f->sym_hcap - 1);

	while (f->sym_hash[j] && ((uint32_t)(f->sym_hash[j] >> 32) != h ||
				  strcmp(f->sym[(uint32_t)f->sym_hash[j] - 1].name, name)))
		j = (j + 1) & (f->sym_hcap - 1);
	return j;
}

static void hash_syms(struct bin_elf *f)
{
	size_t cap = 16;

	while (cap < f->nsym * 2)
		cap *= 2;
	f->sym_hash = calloc(cap, sizeof(*f->sym_hash));
	if (!f->sym_hash)
		return;
	f->sym_hcap = cap;
	for (size_t i = f->nsym; i-- > 0;) {
		uint32_t h = name_hash(f->sym[i].name);
		size_t j = sym_slot(f, f->sym[i].name, h);

		f->sym[i].next = (uint32_t)f->sym_hash[j];
		f->sym_hash[j] = (uint64_t)h << 32 | (uint32_t)(i + 1);
	}
}

const struct bin_sym *bin_elf_sym(const struct bin_elf *f, const char *name, int type)
{
	const struct bin_sym *best = NULL;
	size_t j;

	if (!f->sym_hcap)
		return NULL;
	j = sym_slot(f, name, name_hash(name));
	for (uint32_t k = (uint32_t)f->sym_hash[j]; k; k = f->sym[k - 1].next) {
		const struct bin_sym *s = &f->sym[k - 1];

		if (type >= 0 && s->type != type)
			continue;
		if (!best || s->bind == STB_GLOBAL)
			best = s;
	}
	return best;
}

int bin_elf_syms(const struct bin_elf *f, const char *const *names, int n, int type,
		 const struct bin_sym **out)
{
	int found = 0;

	for (int i = 0; i < n; i++)
		found += (out[i] = bin_elf_sym(f, names[i], type)) != NULL;
	return found;
}

static void scan_rela(struct bin_elf *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = sec_data(f, scn, sh);
	Elf_Data *symd = NULL;
	size_t n, nsym = 0;

	if (!d)
		return;
	if (sh->sh_link) {
		Elf_Scn *ss = elf_getscn(f->elf, sh->sh_link);
		GElf_Shdr ssh;

		if (ss && gelf_getshdr(ss, &ssh) && ssh.sh_type == SHT_DYNSYM) {
			symd = sec_data(f, ss, &ssh);
			nsym = symd ? symd->d_size / sizeof(Elf64_Sym) : 0;
		}
	}
	n = d->d_size / sizeof(Elf64_Rela);
	for (size_t i = 0; i < n; i++) {
		GElf_Rela r;
		uint64_t val;

		if (!gelf_getrela(d, (int)i, &r))
			continue;
		if (GELF_R_TYPE(r.r_info) == R_X86_64_RELATIVE_) {
			val = r.r_addend;
		} else if (GELF_R_TYPE(r.r_info) == R_X86_64_64_ && symd &&
			   GELF_R_SYM(r.r_info) < nsym) {
			GElf_Sym s;

			if (!gelf_getsym(symd, (int)GELF_R_SYM(r.r_info), &s) ||
			    s.st_shndx == SHN_UNDEF)
				continue;
			val = s.st_value + r.r_addend;
		} else {
			continue;
		}
		if (grow(&f->rel, f->nrel, &f->relcap, sizeof(*f->rel), 1024))
			return;
		f->rel[f->nrel].off = r.r_offset;
		f->rel[f->nrel].val = val;
		f->nrel++;
	}
}

static void scan_dynamic(struct bin_elf *f, Elf_Scn *scn, const GElf_Shdr *sh, size_t *cap)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t n;

	if (!d || !sh->sh_entsize)
		return;
	n = d->d_size / sizeof(Elf64_Dyn);
	for (size_t i = 0; i < n; i++) {
		GElf_Dyn dy;
		const char *s;

		if (!gelf_getdyn(d, (int)i, &dy) || dy.d_tag == DT_NULL)
			break;
		if (dy.d_tag != DT_NEEDED && dy.d_tag != DT_RUNPATH && dy.d_tag != DT_RPATH)
			continue;
		s = elf_strptr(f->elf, sh->sh_link, dy.d_un.d_val);
		if (!s)
			continue;
		if (dy.d_tag == DT_NEEDED) {
			if (!grow(&f->needed, f->nneeded, cap, sizeof(*f->needed), 16))
				f->needed[f->nneeded++] = s;
		} else if (dy.d_tag == DT_RUNPATH || !f->runpath[0]) {
			/* ld.so ignores DT_RPATH when DT_RUNPATH is present */
			snprintf(f->runpath, sizeof(f->runpath), "%s", s);
		}
	}
}

static void scan_verdef(struct bin_elf *f, Elf_Scn *scn, const GElf_Shdr *sh, size_t *cap)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t off = 0;

	if (!d)
		return;
	for (unsigned k = 0; k < sh->sh_info && k < MAX_VERDEF; k++) {
		GElf_Verdef vd;
		GElf_Verdaux va;
		const char *name;

		if (!gelf_getverdef(d, (int)off, &vd))
			break;
		if (vd.vd_cnt && gelf_getverdaux(d, (int)(off + vd.vd_aux), &va)) {
			name = elf_strptr(f->elf, sh->sh_link, va.vda_name);
			if (name && !grow(&f->verdef, f->nverdef, cap, sizeof(*f->verdef), 16))
				f->verdef[f->nverdef++] = name;
		}
		if (!vd.vd_next || vd.vd_next > d->d_size - off)
			break;
		off += vd.vd_next;
	}
}

static void scan_note(struct bin_elf *f, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = sec_data(f, scn, sh);
	size_t off = 0, noff, doff;
	GElf_Nhdr nh;

	if (!d)
		return;
	while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((const char *)d->d_buf + noff, "GNU", 4) && nh.n_descsz >= 1 &&
		    nh.n_descsz <= 20 && doff + nh.n_descsz <= d->d_size) {
			const uint8_t *b = (const uint8_t *)d->d_buf + doff;

			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(f->build_id + 2 * i, 3, "%02x", b[i]);
		}
	}
}

static int rel_cmp(const void *a, const void *b)
{
	const struct bin_rel *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

void bin_elf_close(struct bin_elf *f)
{
	if (f->elf)
		elf_end(f->elf);
	free(f->ph);
	free(f->sec);
	free(f->sym);
	free(f->sym_hash);
	free(f->rel);
	free(f->needed);
	free(f->verdef);
	if (f->mapped)
		munmap(f->buf, f->size);
	else
		free(f->buf);
	memset(f, 0, sizeof(*f));
}

static int check_headers(struct bin_elf *f)
{
	if (f->size < EI_NIDENT || memcmp(f->buf, ELFMAG, SELFMAG)) {
		setwhy(f, "not an ELF file");
		return -1;
	}
	if (f->buf[EI_CLASS] != ELFCLASS64 || f->buf[EI_DATA] != ELFDATA2LSB) {
		setwhy(f, "unsupported ELF class/data: x86-64 only");
		return -1;
	}
	if (f->size < sizeof(Elf64_Ehdr)) {
		setwhy(f, "truncated ELF header");
		return -1;
	}
	elf_version(EV_CURRENT);
	f->elf = elf_memory((char *)f->buf, f->size);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &f->eh)) {
		setwhy(f, "malformed ELF: %s", elf_errmsg(-1));
		return -1;
	}
	if (f->eh.e_machine != EM_X86_64) {
		setwhy(f, "unsupported machine %u: x86-64 only", (unsigned)f->eh.e_machine);
		return -1;
	}
	if (f->eh.e_type != ET_DYN && f->eh.e_type != ET_EXEC) {
		setwhy(f, "not a shared object or executable");
		return -1;
	}
	return 0;
}

int bin_elf_open(struct bin_elf *f, const char *path)
{
	size_t shnum = 0, phnum = 0, shstrndx = 0, symcap = 0, needcap = 0, vdcap = 0;
	Elf_Scn *scn = NULL;

	memset(f, 0, sizeof(*f));
	f->path = path;
	if (read_file(f, path) || check_headers(f))
		return -1;
	if (elf_getphdrnum(f->elf, &phnum) || !phnum || phnum > 4096 ||
	    !range_ok(f->size, f->eh.e_phoff, (uint64_t)phnum * sizeof(Elf64_Phdr))) {
		setwhy(f, "malformed or truncated program headers");
		return -1;
	}
	f->ph = calloc(phnum, sizeof(*f->ph));
	if (!f->ph) {
		setwhy(f, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < phnum; i++)
		if (gelf_getphdr(f->elf, (int)i, &f->ph[f->nph]))
			f->nph++;
	/* No section headers at all (e_shoff 0, e_shnum 0: sstrip'ed) is a file of segments only;
	 * the Go pclntab reader finds its tables there by their magic. */
	if (!f->eh.e_shoff && !f->eh.e_shnum)
		return 0;
	if (elf_getshdrnum(f->elf, &shnum) || !shnum || shnum > 65536 ||
	    !range_ok(f->size, f->eh.e_shoff, (uint64_t)shnum * sizeof(Elf64_Shdr)) ||
	    elf_getshdrstrndx(f->elf, &shstrndx)) {
		setwhy(f, "malformed or truncated section headers");
		return -1;
	}
	f->sec = calloc(shnum, sizeof(*f->sec));
	if (!f->sec) {
		setwhy(f, "out of memory");
		return -1;
	}
	while ((scn = elf_nextscn(f->elf, scn))) {
		struct bin_sec *s = &f->sec[f->nsec];

		if (f->nsec + 1 >= shnum || !gelf_getshdr(scn, &s->sh))
			continue;
		f->nsec++;
		s->name = elf_strptr(f->elf, shstrndx, s->sh.sh_name);
		if (!s->name)
			s->name = "";
		if (s->sh.sh_type != SHT_NOBITS &&
		    range_ok(f->size, s->sh.sh_offset, s->sh.sh_size))
			s->data = f->buf + s->sh.sh_offset;
		switch (s->sh.sh_type) {
		case SHT_SYMTAB:
			scan_syms(f, scn, &s->sh, BIN_SYMTAB, &symcap);
			break;
		case SHT_DYNSYM:
			scan_syms(f, scn, &s->sh, BIN_DYNSYM, &symcap);
			break;
		case SHT_RELA:
			scan_rela(f, scn, &s->sh);
			break;
		case SHT_DYNAMIC:
			scan_dynamic(f, scn, &s->sh, &needcap);
			break;
		case SHT_GNU_verdef:
			scan_verdef(f, scn, &s->sh, &vdcap);
			break;
		case SHT_NOTE:
			scan_note(f, scn, &s->sh);
			break;
		default:
			break;
		}
	}
	hash_syms(f);
	if (f->nrel)
		qsort(f->rel, f->nrel, sizeof(*f->rel), rel_cmp);
	return 0;
}

const struct bin_sec *bin_elf_section(const struct bin_elf *f, const char *name)
{
	for (size_t i = 0; i < f->nsec; i++)
		if (!strcmp(f->sec[i].name, name))
			return &f->sec[i];
	return NULL;
}

const struct bin_rel *bin_elf_rel_at(const struct bin_elf *f, uint64_t off)
{
	size_t lo = 0, hi = f->nrel;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->rel[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->nrel && f->rel[lo].off == off ? &f->rel[lo] : NULL;
}

int bin_elf_read_ptr(const struct bin_elf *f, uint64_t va, uint64_t *out)
{
	const struct bin_rel *r = bin_elf_rel_at(f, va);
	const uint8_t *p;

	if (r) {
		*out = r->val;
		return 0;
	}
	if (f->eh.e_type == ET_DYN && f->nrel)
		return -1; /* a PIC table slot without relocation is not a pointer */
	p = bin_elf_va_ptr(f, va, 8, 0);
	if (!p)
		return -1;
	memcpy(out, p, 8);
	return 0;
}

int bin_elf_read_u32(const struct bin_elf *f, uint64_t va, uint32_t *out)
{
	const uint8_t *p = bin_elf_va_ptr(f, va, 4, 0);

	if (!p)
		return -1;
	memcpy(out, p, 4);
	return 0;
}
