// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* .eh_frame into a sorted FDE table (see ehframe.h). */
#include "ehframe.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CIE 64 /* a compiler emits a handful per object; later ones are ignored */

/* A bounded reader: any read past n sets bad and yields 0 from then on. */
struct rd {
	const uint8_t *p;
	size_t n, i;
	int bad;
};

static uint64_t rd_u(struct rd *r, int n)
{
	uint64_t v = 0;

	if (r->bad || n > 8 || r->i + n > r->n) {
		r->bad = 1;
		return 0;
	}
	for (int k = 0; k < n; k++)
		v |= (uint64_t)r->p[r->i + k] << (8 * k);
	r->i += n;
	return v;
}

/* LEB128; sign-extended from the last byte's bit 6 when sign (DWARF 5, 7.6). */
static uint64_t rd_leb(struct rd *r, int sign)
{
	uint64_t v = 0;
	int sh = 0;
	uint8_t b = 0;

	while (!r->bad) {
		b = (uint8_t)rd_u(r, 1);
		if (sh < 64)
			v |= (uint64_t)(b & 0x7f) << sh;
		sh += 7;
		if (!(b & 0x80))
			break;
		if (sh > 70)
			r->bad = 1;
	}
	if (sign && sh < 64 && (b & 0x40))
		v |= ~0ull << sh;
	return v;
}

/* DW_EH_PE_* pointer; field_va is the vaddr of the field, the base of pcrel. */
static uint64_t rd_enc(struct rd *r, uint8_t enc, uint64_t field_va, int apply_rel)
{
	uint64_t v;

	switch (enc & 0x0f) {
	case 0x00:
	case 0x04:
	case 0x0c:
		v = rd_u(r, 8);
		break;
	case 0x01:
		v = rd_leb(r, 0);
		break;
	case 0x02:
		v = rd_u(r, 2);
		break;
	case 0x03:
		v = rd_u(r, 4);
		break;
	case 0x09:
		v = rd_leb(r, 1);
		break;
	case 0x0a:
		v = (uint64_t)(int64_t)(int16_t)rd_u(r, 2);
		break;
	case 0x0b:
		v = (uint64_t)(int64_t)(int32_t)rd_u(r, 4);
		break;
	default:
		r->bad = 1;
		return 0;
	}
	if (!apply_rel)
		return v;
	switch (enc & 0x70) {
	case 0x00:
		return v;
	case 0x10:
		return v + field_va;
	default:
		r->bad = 1;
		return 0; /* textrel/datarel/funcrel: not used by GCC/clang here */
	}
}

struct cie {
	size_t off;
	uint8_t fde_enc;
};

/* The CIE's augmentation: only the FDE pointer encoding ('R') matters for the table. */
static int parse_cie(struct rd *r, size_t end, uint64_t va, struct cie *c)
{
	uint8_t ver = (uint8_t)rd_u(r, 1);
	char aug[16];
	size_t k = 0;

	while (!r->bad) {
		uint8_t ch = (uint8_t)rd_u(r, 1);

		if (!ch)
			break;
		if (k < sizeof(aug) - 1)
			aug[k++] = (char)ch;
	}
	aug[k] = 0;
	if (strstr(aug, "eh"))
		rd_u(r, 8);
	rd_leb(r, 0); /* code alignment */
	rd_leb(r, 1); /* data alignment */
	if (ver == 1)
		rd_u(r, 1);
	else
		rd_leb(r, 0); /* return address register */
	if (aug[0] == 'z') {
		uint64_t alen = rd_leb(r, 0);
		size_t aend = r->i + alen;

		if (alen > end - r->i)
			return -1;
		for (size_t j = 1; aug[j] && !r->bad && r->i <= aend; j++) {
			if (aug[j] == 'R') {
				c->fde_enc = (uint8_t)rd_u(r, 1);
			} else if (aug[j] == 'L') {
				rd_u(r, 1);
			} else if (aug[j] == 'P') {
				uint8_t pe = (uint8_t)rd_u(r, 1);

				rd_enc(r, pe, va + r->i, 0);
			} else if (aug[j] != 'S' && aug[j] != 'B') {
				break;
			}
		}
	}
	return r->bad ? -1 : 0;
}

static int add_fde(struct bin_fdes *t, uint64_t start, uint64_t end)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		struct bin_fde *nf = realloc(t->v, nc * sizeof(*nf));

		if (!nf)
			return -1;
		t->v = nf;
		t->cap = nc;
	}
	t->v[t->n].start = start;
	t->v[t->n].end = end;
	t->n++;
	return 0;
}

int bin_fdes_parse(struct bin_fdes *t, const uint8_t *p, size_t n, uint64_t va)
{
	struct cie cies[MAX_CIE];
	size_t ncie = 0, pos = 0;

	while (pos + 4 <= n) {
		struct rd r = {p, n, pos, 0};
		uint64_t len = rd_u(&r, 4), id_pos, end, start, range;
		const struct cie *c = NULL;
		uint32_t id;

		if (len == 0)
			break; /* terminator */
		if (len == 0xffffffffu)
			len = rd_u(&r, 8);
		if (r.bad || len > n - r.i)
			return -1;
		end = r.i + len;
		id_pos = r.i;
		id = (uint32_t)rd_u(&r, 4);
		if (id == 0) {
			struct cie nc = {pos, 0};

			if (parse_cie(&r, end, va, &nc))
				return -1;
			if (ncie < MAX_CIE)
				cies[ncie++] = nc;
			pos = end;
			continue;
		}
		/* FDE: id is the distance back to its CIE from id_pos */
		if (id > id_pos)
			return -1;
		for (size_t j = 0; j < ncie; j++)
			if (cies[j].off == id_pos - id)
				c = &cies[j];
		if (!c)
			return -1;
		start = rd_enc(&r, c->fde_enc, va + r.i, 1);
		range = rd_enc(&r, c->fde_enc & 0x0f, 0, 0);
		if (r.bad || r.i > end)
			return -1;
		if (range && start + range > start && add_fde(t, start, start + range))
			return -1;
		pos = end;
	}
	return 0;
}

static int fde_cmp(const void *a, const void *b)
{
	const struct bin_fde *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void bin_fdes_sort(struct bin_fdes *t)
{
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), fde_cmp);
}

size_t bin_fdes_load(struct bin_fdes *t, const struct bin_elf *f)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < f->nsec; i++) {
		const struct bin_sec *s = &f->sec[i];

		/* a bad entry keeps what was parsed before it */
		if (s->sh.sh_type == SHT_PROGBITS && s->data && !strcmp(s->name, ".eh_frame"))
			bin_fdes_parse(t, s->data, s->sh.sh_size, s->sh.sh_addr);
	}
	bin_fdes_sort(t);
	return t->n;
}

void bin_fdes_free(struct bin_fdes *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

const struct bin_fde *bin_fde_at(const struct bin_fdes *t, uint64_t va)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->v[mid].start < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->v[lo].start == va ? &t->v[lo] : NULL;
}

const struct bin_fde *bin_fde_containing(const struct bin_fdes *t, uint64_t va)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->v[mid].start <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	return va < t->v[lo - 1].end ? &t->v[lo - 1] : NULL;
}
