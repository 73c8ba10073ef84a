// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Go pclntab and build info (gopclntab.h). Layouts, x86-64 (ptrSize 8):
 *   pcHeader (runtime/symtab.go): u32 magic, u8 pad1 pad2 minLC ptrSize, then words: nfunc,
 *     nfiles, [1.18+: textStart,] funcnameOffset, cuOffset, filetabOffset, pctabOffset,
 *     pclnOffset, the offsets relative to the header.
 *   pclntable starts with nfunc+1 functab entries {u32 entryoff, u32 funcoff} (1.18+) or
 *     {uintptr entry, uintptr funcoff} (1.16-1.17, absolute pcs); the last entry's pc is the
 *     end of text. The _func at pclntable+funcoff begins u32 entryOff (1.16: uintptr entry),
 *     then i32 nameOff into funcnametab.
 *   moduledata: pcHeader, then 6 slices (funcnametab cutab filetab pctab pclntable ftab),
 *     findfunctab, minpc, maxpc, text: word 22, +176. Unchanged from 1.16 to 1.26.
 *   .go.buildinfo (debug/buildinfo): 14-byte magic, u8 ptrSize, u8 flags (bit 0 big endian,
 *     bit 1 inline strings: 1.18+), then at 16 two pointers to Go strings (old) or at 32 two
 *     uvarint-prefixed strings (inline): the version and the modinfo.
 */
#include "gopclntab.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u
#define MAGIC_12 0xfffffffbu /* Go 1.2-1.15: a different header, not supported */
#define MD_WORD_MINPC 20
#define MD_WORD_TEXT 22
#define MAX_NFUNC (16u << 20) /* far above any real program (a 50 MB binary has ~150k) */

static const char buildinfo_magic[14] = "\xff Go buildinf:";

static void setwhy(struct bin_go *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void setwhy(struct bin_go *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->why, sizeof(g->why), fmt, ap);
	va_end(ap);
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The pointer stored at va: its relocation (a PIE's words are R_X86_64_RELATIVE, the file
 * holds no pointer there), else the file's bytes. Unlike bin_elf_read_ptr, a PIE slot without
 * relocation is read too: the header's offsets and the functab's pcs are plain numbers. */
static int word_at(const struct bin_elf *e, uint64_t va, uint64_t *out)
{
	const struct bin_rel *r = bin_elf_rel_at(e, va);
	const uint8_t *p;

	if (r) {
		*out = r->val;
		return 0;
	}
	p = bin_elf_va_ptr(e, va, 8, 0);
	if (!p)
		return -1;
	*out = le64(p);
	return 0;
}

/* Raw functab pc of entry i (i <= nfunc): the entry offset (1.18+) or the absolute pc. */
static int raw_pc(const struct bin_go *g, uint64_t i, uint64_t *pc)
{
	if (i > g->nfunc)
		return -1;
	if (!g->abs) {
		*pc = le32(g->pcln + i * 8);
		return 0;
	}
	if (word_at(g->e, g->pcln_va + i * 16, pc))
		*pc = le64(g->pcln + i * 16);
	return 0;
}

/* The _func of function i (i < nfunc), NULL when outside the table. */
static const uint8_t *func_rec(const struct bin_go *g, uint64_t i)
{
	uint64_t foff, need = g->abs ? 12 : 8;

	if (i >= g->nfunc)
		return NULL;
	foff = g->abs ? le64(g->pcln + i * 16 + 8) : le32(g->pcln + i * 8 + 4);
	if (foff > g->pcln_len || need > g->pcln_len - foff)
		return NULL;
	return g->pcln + foff;
}

static int64_t name_off(const struct bin_go *g, const uint8_t *f)
{
	return (int32_t)le32(f + (g->abs ? 8 : 4));
}

/* Check the header at p (len bytes readable, at vaddr va) and fill g's tables from it. */
static int check_table(struct bin_go *g, const uint8_t *p, size_t len, uint64_t va)
{
	uint64_t w[8], nw, nfunc, nameo, cuo, pclno, es, prev = 0;
	uint32_t magic;

	if (len < 8) {
		setwhy(g, "pclntab truncated: %zu bytes", len);
		return -1;
	}
	magic = le32(p);
	switch (magic) {
	case MAGIC_116:
		g->version_class = 116;
		break;
	case MAGIC_118:
		g->version_class = 118;
		break;
	case MAGIC_120:
		g->version_class = 120;
		break;
	case MAGIC_12:
		setwhy(g, "pclntab of Go 1.2-1.15 (magic 0x%x): not supported", magic);
		return -1;
	default:
		setwhy(g, "unknown pclntab magic 0x%x", magic);
		return -1;
	}
	if (p[4] || p[5] || p[6] != 1 || p[7] != 8) {
		setwhy(g, "not an x86-64 pclntab (pad %u %u, minLC %u, ptrSize %u)", p[4], p[5],
		       p[6], p[7]);
		return -1;
	}
	g->abs = g->version_class == 116;
	nw = g->abs ? 7 : 8;
	if (len < 8 + nw * 8) {
		setwhy(g, "pclntab truncated: %zu bytes", len);
		return -1;
	}
	for (uint64_t i = 0; i < nw; i++)
		w[i] = le64(p + 8 + 8 * i);
	nfunc = w[0];
	nameo = w[nw - 5];
	cuo = w[nw - 4];
	pclno = w[nw - 1];
	es = g->abs ? 16 : 8;
	if (!nfunc || nfunc > MAX_NFUNC || nameo >= len || pclno >= len ||
	    (nfunc + 1) * es > len - pclno) {
		setwhy(g,
		       "corrupt pclntab header: nfunc %llu, names at %llu, functab at %llu, "
		       "table %zu bytes",
		       (unsigned long long)nfunc, (unsigned long long)nameo,
		       (unsigned long long)pclno, len);
		return -1;
	}
	g->hdr = p;
	g->hdr_va = va;
	g->nfunc = nfunc;
	g->names = p + nameo;
	/* funcnametab ends where cutab starts (the linker writes them in header order) */
	g->names_len = (cuo > nameo && cuo <= len ? cuo : len) - nameo;
	g->pcln = p + pclno;
	g->pcln_len = len - pclno;
	g->pcln_va = va + pclno;
	/* One pass over the table: pcs in order, every _func inside it, agreeing with its functab
	 * entry, and named inside funcnametab. A corrupt or cut table is refused here, once. */
	for (uint64_t i = 0; i <= nfunc; i++) {
		const uint8_t *f;
		uint64_t pc;
		int64_t no;

		raw_pc(g, i, &pc);
		if (pc < prev) {
			setwhy(g, "corrupt pclntab: function %llu out of order",
			       (unsigned long long)i);
			return -1;
		}
		prev = pc;
		if (i == nfunc)
			break;
		f = func_rec(g, i);
		if (!f) {
			setwhy(g, "corrupt pclntab: function %llu outside the table",
			       (unsigned long long)i);
			return -1;
		}
		no = name_off(g, f);
		if (!g->abs && le32(f) != pc) {
			setwhy(g, "corrupt pclntab: function %llu entry 0x%x, table says 0x%llx",
			       (unsigned long long)i, le32(f), (unsigned long long)pc);
			return -1;
		}
		if (no < 0 || (uint64_t)no >= g->names_len) {
			setwhy(g, "corrupt pclntab: function %llu name outside funcnametab",
			       (unsigned long long)i);
			return -1;
		}
	}
	return 0;
}

/* text from the moduledata at va when it is the one of this pclntab, else 0. */
static uint64_t md_text(const struct bin_go *g, uint64_t va)
{
	uint64_t w0, w1, minpc, text, first;

	if (word_at(g->e, va, &w0) || w0 != g->hdr_va || word_at(g->e, va + 8, &w1) ||
	    w1 != g->hdr_va + (uint64_t)(g->names - g->hdr) ||
	    word_at(g->e, va + 8 * MD_WORD_MINPC, &minpc) ||
	    word_at(g->e, va + 8 * MD_WORD_TEXT, &text) || raw_pc(g, 0, &first))
		return 0;
	/* minpc is the first function's entry: text + its offset (1.18+), or the pc itself */
	if (g->abs ? minpc != first || text > minpc : text + first != minpc)
		return 0;
	return text;
}

/* The moduledata: runtime.firstmoduledata (symbols), .go.module (1.26+), else a search of the
 * writable segments for its first two words, in the relocations for a PIE. */
static uint64_t find_text_in_md(struct bin_go *g)
{
	const struct bin_elf *e = g->e;
	const struct bin_sym *s = bin_elf_sym(e, "runtime.firstmoduledata", -1);
	const struct bin_sec *sec = bin_elf_section(e, ".go.module");
	uint64_t pat[2] = {g->hdr_va, g->hdr_va + (uint64_t)(g->names - g->hdr)}, t;

	if (s && (t = md_text(g, s->value)))
		return g->moduledata = s->value, t;
	if (sec && (t = md_text(g, sec->sh.sh_addr)))
		return g->moduledata = sec->sh.sh_addr, t;
	for (size_t i = 0; i < e->nrel; i++)
		if (e->rel[i].val == pat[0] && (t = md_text(g, e->rel[i].off)))
			return g->moduledata = e->rel[i].off, t;
	for (size_t i = 0; i < e->nph; i++) {
		const GElf_Phdr *p = &e->ph[i];
		const uint8_t *b, *end, *hit;

		if (p->p_type != PT_LOAD || !(p->p_flags & PF_W) || p->p_offset > e->size)
			continue;
		b = e->buf + p->p_offset;
		end =
		    b + (p->p_filesz < e->size - p->p_offset ? p->p_filesz : e->size - p->p_offset);
		while ((hit = memmem(b, end - b, pat, sizeof(pat)))) {
			uint64_t va = p->p_vaddr + (uint64_t)(hit - (e->buf + p->p_offset));

			if (!(va & 7) && (t = md_text(g, va)))
				return g->moduledata = va, t;
			b = hit + 1;
		}
	}
	return 0;
}

/* Files without the section: the pcHeader's magic, pad, minLC 1 and ptrSize 8, 8-aligned, in a
 * non-executable segment; the first candidate whose table checks out. */
static int scan_table(struct bin_go *g)
{
	static const uint8_t tail[7] = {0xff, 0xff, 0xff, 0, 0, 1, 8};
	const struct bin_elf *e = g->e;
	char first_why[sizeof(g->why)] = "";

	for (size_t i = 0; i < e->nph; i++) {
		const GElf_Phdr *p = &e->ph[i];
		const uint8_t *seg, *b, *end, *hit;

		if (p->p_type != PT_LOAD || (p->p_flags & PF_X) || p->p_offset >= e->size)
			continue;
		seg = e->buf + p->p_offset;
		end = seg +
		      (p->p_filesz < e->size - p->p_offset ? p->p_filesz : e->size - p->p_offset);
		for (b = seg; (hit = memmem(b, end - b, tail, sizeof(tail))); b = hit + 1) {
			const uint8_t *h;
			uint64_t va;

			if (hit == seg)
				continue;
			h = hit - 1;
			va = p->p_vaddr + (uint64_t)(h - seg);
			if ((va & 7) || (*h != 0xfa && *h != 0xf0 && *h != 0xf1))
				continue;
			if (!check_table(g, h, end - h, va)) {
				g->table_from = "magic scan";
				return 0;
			}
			if (!first_why[0])
				memcpy(first_why, g->why, sizeof(first_why));
		}
	}
	if (first_why[0])
		memcpy(g->why, first_why, sizeof(g->why));
	else
		setwhy(g, "no Go pclntab: no .gopclntab section and no pcHeader magic (not a Go "
			  "program)");
	return -1;
}

int bin_go_open(struct bin_go *g, const struct bin_elf *e)
{
	static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
	const struct bin_sec *sec = NULL, *text;
	uint64_t ts = 0;

	memset(g, 0, sizeof(*g));
	g->e = e;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !sec; i++)
		sec = bin_elf_section(e, names[i]);
	if (sec) {
		if (!sec->data) {
			setwhy(g, "%s lies outside the file (truncated?)", sec->name);
			return -1;
		}
		if (check_table(g, sec->data, sec->sh.sh_size, sec->sh.sh_addr))
			return -1;
		g->table_from = sec->name;
	} else if (scan_table(g)) {
		return -1;
	}
	if (!g->abs && !word_at(e, g->hdr_va + 24, &ts) && ts) {
		g->text = ts;
		g->text_from = "pcHeader.textStart";
	} else if ((g->text = find_text_in_md(g))) {
		g->text_from = "moduledata.text";
	} else if ((text = bin_elf_section(e, ".text"))) {
		g->text = text->sh.sh_addr;
		g->text_from = ".text section";
	} else if (!g->abs) {
		setwhy(g, "no text base: textStart is 0, no moduledata and no .text section");
		g->pcln = NULL;
		return -1;
	}
	return 0;
}

void bin_go_close(struct bin_go *g)
{
	if (g)
		memset(g, 0, sizeof(*g));
}

static uint64_t pc_of(const struct bin_go *g, uint64_t raw)
{
	return g->abs ? raw : g->text + raw;
}

int bin_go_func_at(const struct bin_go *g, uint64_t i, const char **name, uint64_t *entry,
		   uint64_t *end)
{
	const uint8_t *f;
	uint64_t a, b;
	int64_t no;

	if (!g->pcln || i >= g->nfunc || !(f = func_rec(g, i)) || raw_pc(g, i, &a) ||
	    raw_pc(g, i + 1, &b))
		return -1;
	no = name_off(g, f);
	if (name)
		*name = no >= 0 && (uint64_t)no < g->names_len &&
				memchr(g->names + no, 0, g->names_len - no)
			    ? (const char *)g->names + no
			    : "";
	if (entry)
		*entry = pc_of(g, a);
	if (end)
		*end = pc_of(g, b);
	return 0;
}

int bin_go_func(const struct bin_go *g, const char *name, uint64_t *entry, uint64_t *end)
{
	size_t nl = strlen(name), from = 0;
	const uint8_t *hit;

	if (!g->pcln || !nl)
		return -1;
	/* funcnametab holds each name once: find it with its NUL, then the function that
	 * points there. A hit inside a longer name (not after a NUL) is passed over. */
	while (from < g->names_len &&
	       (hit = memmem(g->names + from, g->names_len - from, name, nl + 1))) {
		uint64_t off = (uint64_t)(hit - g->names);

		if (!off || hit[-1] == 0)
			for (uint64_t i = 0; i < g->nfunc; i++) {
				const uint8_t *f = func_rec(g, i);

				if (f && name_off(g, f) == (int64_t)off)
					return bin_go_func_at(g, i, NULL, entry, end);
			}
		from = off + 1;
	}
	return -1;
}

/* Go's uvarint; 0 on success with *at advanced. */
static int uvarint(const uint8_t *b, size_t n, size_t *at, uint64_t *v)
{
	*v = 0;
	for (unsigned s = 0; s < 64 && *at < n; s += 7) {
		uint8_t c = b[(*at)++];

		*v |= (uint64_t)(c & 0x7f) << s;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

static void copy_str(char *dst, size_t dn, const uint8_t *s, size_t n)
{
	if (!dn)
		return;
	if (n >= dn)
		n = dn - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* A Go string header {ptr, len} at va (old format): its bytes, NULL when unreadable. */
static const uint8_t *go_string(const struct bin_elf *e, uint64_t va, uint64_t *n)
{
	uint64_t p;

	if (!va || word_at(e, va, &p) || word_at(e, va + 8, n) || *n > (1u << 20))
		return NULL;
	return *n ? bin_elf_va_ptr(e, p, *n, 0) : (const uint8_t *)"";
}

/* The main module path from modinfo: the "path\t" line, after the 16-byte sentinel the
 * linker puts around it (cmd/go/internal/modload: infoStart/infoEnd). */
static void module_path(const uint8_t *m, size_t n, char *mod, size_t mn)
{
	if (n >= 33 && m[n - 17] == '\n') {
		m += 16;
		n -= 32;
	}
	for (size_t i = 0; i < n;) {
		const uint8_t *nl = memchr(m + i, '\n', n - i);
		size_t ll = nl ? (size_t)(nl - (m + i)) : n - i;

		if (ll > 5 && !memcmp(m + i, "path\t", 5)) {
			copy_str(mod, mn, m + i + 5, ll - 5);
			return;
		}
		i += ll + 1;
	}
}

/* The build info blob: the .go.buildinfo section, else the magic 16-aligned in a writable
 * segment (where the linker puts it when section headers are gone). */
static const uint8_t *find_buildinfo(const struct bin_elf *e, size_t *len, uint64_t *va)
{
	const struct bin_sec *s = bin_elf_section(e, ".go.buildinfo");

	if (s && s->data && s->sh.sh_size >= 32 && !memcmp(s->data, buildinfo_magic, 14)) {
		*len = s->sh.sh_size;
		*va = s->sh.sh_addr;
		return s->data;
	}
	for (size_t i = 0; i < e->nph; i++) {
		const GElf_Phdr *p = &e->ph[i];
		uint64_t n;

		if (p->p_type != PT_LOAD || !(p->p_flags & PF_W) || p->p_offset >= e->size)
			continue;
		n = p->p_filesz < e->size - p->p_offset ? p->p_filesz : e->size - p->p_offset;
		for (uint64_t o = (16 - (p->p_vaddr & 15)) & 15; o + 32 <= n; o += 16)
			if (!memcmp(e->buf + p->p_offset + o, buildinfo_magic, 14)) {
				*len = n - o;
				*va = p->p_vaddr + o;
				return e->buf + p->p_offset + o;
			}
	}
	return NULL;
}

int bin_go_buildinfo(const struct bin_elf *e, char *ver, size_t vn, char *mod, size_t mn)
{
	const uint8_t *b, *v = NULL, *m = NULL;
	uint64_t vl = 0, ml = 0, va;
	size_t len, at = 32;

	copy_str(ver, vn, (const uint8_t *)"", 0);
	copy_str(mod, mn, (const uint8_t *)"", 0);
	b = find_buildinfo(e, &len, &va);
	if (!b)
		return -1;
	if (b[15] & 2) {
		/* inline: uvarint length, bytes; twice */
		if (uvarint(b, len, &at, &vl) || vl > len - at)
			return -1;
		v = b + at;
		at += vl;
		if (!uvarint(b, len, &at, &ml) && ml <= len - at)
			m = b + at;
		else
			ml = 0;
	} else {
		if (b[14] != 8 || (b[15] & 1))
			return -1; /* a 32-bit or big-endian build: not x86-64 */
		uint64_t pv, pm;

		if (word_at(e, va + 16, &pv) || !(v = go_string(e, pv, &vl)))
			return -1;
		if (!word_at(e, va + 24, &pm))
			m = go_string(e, pm, &ml);
		if (!m)
			ml = 0;
	}
	if (!vl)
		return -1;
	copy_str(ver, vn, v, vl);
	if (m)
		module_path(m, ml, mod, mn);
	return 0;
}
