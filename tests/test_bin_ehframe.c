// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/bin/ehframe.c: this machine's libssl and libc give the FDE ranges readelf -wf reads, one
 * for one; a hand-built .eh_frame gives the ranges written into it; truncated, corrupted and
 * random .eh_frame bytes end the parse without a crash and never invent an FDE past the cut.
 */
#include <stdlib.h>

#include "ehframe.h"
#include "testlib.h"

static int cmp_fde(const void *a, const void *b)
{
	const struct bin_fde *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The FDEs as binutils reads them, sorted. */
static size_t readelf_fdes(const char *path, struct bin_fde **out)
{
	char cmd[512], line[512];
	size_t n = 0, cap = 0;
	struct bin_fde *v = NULL;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "readelf -wf %s 2>/dev/null | sed -n 's/.* FDE "
		 ".*pc=\\([0-9a-f]*\\)\\.\\.\\([0-9a-f]*\\).*/"
		 "\\1 \\2/p'",
		 path);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx %llx", &s, &e) != 2)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				break;
		}
		v[n].start = s;
		v[n++].end = e;
	}
	pclose(p);
	if (v)
		qsort(v, n, sizeof(*v), cmp_fde);
	*out = v;
	return v ? n : 0;
}

static void test_real(const char *name, const char *path)
{
	struct bin_elf f;
	struct bin_fdes t;
	struct bin_fde *want = NULL;
	size_t nw = readelf_fdes(path, &want), i = 0;
	int same = 1;
	char tn[96];

	snprintf(tn, sizeof(tn), "ehframe_%s_as_readelf", name);
	if (!nw) {
		SKIP(tn, "readelf gave no FDEs");
		return;
	}
	if (bin_elf_open(&f, path)) {
		FAILF(tn, "cannot open %s: %s", path, f.why);
		bin_elf_close(&f);
		free(want);
		return;
	}
	bin_fdes_load(&t, &f);
	if (CHECK_EQ(tn, nw, t.n)) {
		bin_fdes_for_each(d, &t)
		{
			if (d->start != want[i].start || d->end != want[i].end) {
				FAILF(tn, "FDE %zu: expected 0x%llx..0x%llx, got 0x%llx..0x%llx", i,
				      (unsigned long long)want[i].start,
				      (unsigned long long)want[i].end, (unsigned long long)d->start,
				      (unsigned long long)d->end);
				same = 0;
				break;
			}
			i++;
		}
		if (same)
			printf("PASS %s (%zu FDEs)\n", tn, nw);
	}
	/* lookups on the witness's own ranges */
	snprintf(tn, sizeof(tn), "ehframe_%s_lookups", name);
	{
		const struct bin_fde *w = &want[nw / 2], *a, *c, *o;
		uint64_t mid = w->start + (w->end - w->start) / 2;

		a = bin_fde_at(&t, w->start);
		c = bin_fde_containing(&t, mid);
		o = bin_fde_at(&t, w->start + 1);
		if (CHECK_EQ(tn, 1, a && a->end == w->end) &&
		    CHECK_EQ(tn, 1, c && c->start == w->start) &&
		    CHECK_EQ(tn, 1, o == NULL || (o->start == w->start + 1)) &&
		    CHECK_EQ(tn, 1,
			     bin_fde_containing(&t, want[0].start - 1) == NULL ||
				 want[0].start == 0))
			PASS(tn);
	}
	bin_fdes_free(&t);
	bin_elf_close(&f);
	free(want);
}

/* Append a little-endian value. */
static size_t put(uint8_t *b, size_t at, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[at + i] = (uint8_t)(v >> (8 * i));
	return at + n;
}

/* A CIE "zR" with FDE encoding pcrel|sdata4 and two FDEs at known addresses. */
static size_t build(uint8_t *b, uint64_t va)
{
	static const uint8_t cie[] = {0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b, 0, 0, 0};
	size_t at = 0;

	at = put(b, at, sizeof(cie), 4);
	memcpy(b + at, cie, sizeof(cie));
	at += sizeof(cie);
	for (int k = 0; k < 2; k++) {
		uint64_t start = 0x401000 + k * 0x100, len = 0x40 + k;

		at = put(b, at, 16, 4);
		at = put(b, at, at, 4); /* distance back to the CIE at 0 */
		at = put(b, at, (uint32_t)(start - (va + at)), 4);
		at = put(b, at, len, 4);
		at = put(b, at, 0, 4); /* augmentation length 0, padding */
	}
	return put(b, at, 0, 4); /* terminator */
}

static void test_constructed(void)
{
	uint8_t b[256];
	uint64_t va = 0x600000;
	size_t n = build(b, va);
	struct bin_fdes t = {0};
	int rc = bin_fdes_parse(&t, b, n, va);

	bin_fdes_sort(&t);
	if (CHECK_EQ("ehframe_constructed", 0, rc) && CHECK_EQ("ehframe_constructed", 2, t.n) &&
	    CHECK_EQ("ehframe_constructed", 0x401000, t.v[0].start) &&
	    CHECK_EQ("ehframe_constructed", 0x401040, t.v[0].end) &&
	    CHECK_EQ("ehframe_constructed", 0x401100, t.v[1].start) &&
	    CHECK_EQ("ehframe_constructed", 0x401141, t.v[1].end))
		PASS("ehframe_constructed");
	bin_fdes_free(&t);

	/* an FDE pointing at no CIE: refused, the FDE before it kept */
	b[44] = 4; /* FDE 2's CIE pointer: offset 40, which is no CIE */
	rc = bin_fdes_parse(&t, b, n, va);
	if (CHECK_EQ("ehframe_bad_cie_pointer", -1, rc) &&
	    CHECK_EQ("ehframe_bad_cie_pointer", 1, t.n))
		PASS("ehframe_bad_cie_pointer");
	bin_fdes_free(&t);
	build(b, va);

	/* a length running past the end */
	put(b, 20, 0xfffff0, 4);
	rc = bin_fdes_parse(&t, b, n, va);
	if (CHECK_EQ("ehframe_length_past_end", -1, rc) &&
	    CHECK_EQ("ehframe_length_past_end", 0, t.n))
		PASS("ehframe_length_past_end");
	bin_fdes_free(&t);
	build(b, va);

	/* every cut: never more FDEs than fit before it */
	{
		int bad = 0;

		for (size_t cut = 0; cut < n; cut++) {
			bin_fdes_parse(&t, b, cut, va);
			if (t.n > (cut >= 60 ? 2u : cut >= 40 ? 1u : 0u))
				bad++;
			bin_fdes_free(&t);
		}
		if (CHECK_EQ("ehframe_truncated_no_invented_fde", 0, bad))
			PASS("ehframe_truncated_no_invented_fde");
	}
}

static void test_garbage(void)
{
	struct bin_fdes t = {0};
	uint8_t *b = malloc(1 << 16);
	struct bin_elf f;
	const struct bin_sec *s;

	if (!b)
		return;
	srand(3);
	for (int k = 0; k < 2000; k++) {
		size_t n = (size_t)rand() % (1 << 16);

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rand();
		if (k % 2) /* small lengths, so that records are parsed at all */
			for (size_t i = 0; i + 4 <= n; i += 24)
				put(b, i, (size_t)rand() % 40, 4);
		bin_fdes_parse(&t, b, n, 0x1000);
		bin_fdes_sort(&t);
		bin_fde_containing(&t, 0x2000);
		bin_fdes_free(&t);
	}
	PASS("ehframe_random_bytes_no_crash");
	/* libssl's real .eh_frame with bytes flipped */
	if (!bin_elf_open(&f, "/usr/lib/x86_64-linux-gnu/libssl.so.3") &&
	    (s = bin_elf_section(&f, ".eh_frame")) && s->data && s->sh.sh_size <= (1 << 20)) {
		uint8_t *m = malloc(s->sh.sh_size);

		for (int k = 0; m && k < 300; k++) {
			memcpy(m, s->data, s->sh.sh_size);
			for (int i = 0; i < 1 + rand() % 16; i++)
				m[(size_t)rand() % s->sh.sh_size] = (uint8_t)rand();
			bin_fdes_parse(&t, m, s->sh.sh_size, s->sh.sh_addr);
			bin_fdes_free(&t);
		}
		free(m);
		PASS("ehframe_corrupted_libssl_no_crash");
	}
	bin_elf_close(&f);
	free(b);
}

int main(void)
{
	test_real("libssl", "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	test_real("libc", "/usr/lib/x86_64-linux-gnu/libc.so.6");
	test_constructed();
	test_garbage();
	return tl_failed;
}
