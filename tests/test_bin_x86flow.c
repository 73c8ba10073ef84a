// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/bin/x86flow.c on code whose data flow is known by construction: hand-assembled byte
 * sequences (a getter, a spill and reload, a call through a method table, a two-way merge) and
 * functions compiled here by gcc from structs whose offsets the test states; then undecodable,
 * out-of-range and random code, which must fail with a reason or analyse, never crash.
 */
#include <stddef.h>
#include <stdlib.h>

#include "ehframe.h"
#include "elf.h"
#include "testlib.h"
#include "x86flow.h"

#define BASE 0x1000

struct buf {
	const uint8_t *p;
	size_t n;
};

static const uint8_t *buf_bytes(void *ctx, uint64_t va, uint64_t len)
{
	const struct buf *b = ctx;

	if (va < BASE || va - BASE > b->n || len > b->n - (va - BASE))
		return NULL;
	return b->p + (va - BASE);
}

/* Analyse n bytes at BASE; the state before the last instruction (the ret) in *s. */
static int run(struct xf *x, struct buf *b, const uint8_t *code, size_t n, struct xf_fn *fn,
	       struct xf_state *s)
{
	b->p = code;
	b->n = n;
	if (xf_fn_analyze(fn, x, BASE, BASE + n))
		return -1;
	return s ? xf_state_at(fn, fn->nins - 1, s) : 0;
}

static void test_getter(struct xf *x, struct buf *b)
{
	static const uint8_t code[] = {0x8b, 0x47, 0x44, 0xc3}; /* mov eax,[rdi+0x44]; ret */
	struct xf_fn fn;
	struct xf_state s;
	int64_t d = 0;

	if (run(x, b, code, sizeof(code), &fn, &s)) {
		FAILF("xf_getter_load", "expected analysis, got \"%s\"", fn.why);
	} else if (CHECK_EQ("xf_getter_load", 2, fn.nins) &&
		   CHECK_EQ("xf_getter_load", XF_RET, fn.ins[1].flow) &&
		   CHECK_EQ("xf_getter_load", 1,
			    xf_is_load(&fn.vt, s.r[XF_RAX], xf_entry(&fn, XF_RDI), 4, &d, NULL)) &&
		   CHECK_EQ("xf_getter_load", 0x44, d) &&
		   CHECK_EQ("xf_getter_load", 1, xf_has_load(&fn, 4, 0x44)) &&
		   CHECK_EQ("xf_getter_load", 0, xf_has_load(&fn, 8, 0x44)))
		PASS("xf_getter_load");
	xf_fn_free(&fn);
}

static void test_spill(struct xf *x, struct buf *b)
{
	/* push rbx; mov rbx,rdi; sub rsp,0x10; mov [rsp+8],rsi; mov rax,[rsp+8]; add rsp,0x10;
	 * pop rbx; ret */
	static const uint8_t code[] = {0x53, 0x48, 0x89, 0xfb, 0x48, 0x83, 0xec, 0x10,
				       0x48, 0x89, 0x74, 0x24, 0x08, 0x48, 0x8b, 0x44,
				       0x24, 0x08, 0x48, 0x83, 0xc4, 0x10, 0x5b, 0xc3};
	struct xf_fn fn;
	struct xf_state s;

	if (run(x, b, code, sizeof(code), &fn, &s)) {
		FAILF("xf_spill_reload", "expected analysis, got \"%s\"", fn.why);
	} else if (CHECK_EQ("xf_spill_reload", xf_entry(&fn, XF_RSI), s.r[XF_RAX]) &&
		   CHECK_EQ("xf_spill_reload", xf_entry(&fn, XF_RBX), s.r[XF_RBX]) &&
		   CHECK_EQ("xf_spill_reload", fn.entry_rsp, s.r[XF_RSP]) &&
		   CHECK_EQ("xf_spill_reload", 1u << XF_RBX | 1u << XF_RSP, fn.ins[6].wmask))
		PASS("xf_spill_reload");
	xf_fn_free(&fn);
}

static int icall_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *ctx)
{
	uint32_t *t = ctx;

	if (fn->ins[idx].flow == XF_ICALL || fn->ins[idx].flow == XF_IJMP)
		*t = xf_call_target(fn, s, &fn->ins[idx]);
	return 0;
}

/* Is t LOAD(LOAD(entry rdi + m, 8) + k, 8)? */
static int is_method_call(struct xf_fn *fn, uint32_t t, int64_t m, int64_t k)
{
	int64_t dk, dm;
	uint32_t mb;

	return xf_is_load(&fn->vt, t, 0, 8, &dk, &mb) && dk == k &&
	       xf_is_load(&fn->vt, mb, xf_entry(fn, XF_RDI), 8, &dm, NULL) && dm == m;
}

static void test_method_call(struct xf *x, struct buf *b)
{
	/* mov rax,[rdi+8]; call [rax+0x68]; ret */
	static const uint8_t code[] = {0x48, 0x8b, 0x47, 0x08, 0xff, 0x50, 0x68, 0xc3};
	struct xf_fn fn;
	uint32_t t = 0;

	if (run(x, b, code, sizeof(code), &fn, NULL)) {
		FAILF("xf_method_call_target", "expected analysis, got \"%s\"", fn.why);
	} else {
		xf_fn_walk(&fn, icall_cb, &t);
		if (CHECK_EQ("xf_method_call_target", XF_ICALL, fn.ins[1].flow) &&
		    CHECK_EQ("xf_method_call_target", 1, is_method_call(&fn, t, 8, 0x68)) &&
		    CHECK_EQ("xf_method_call_target", 1,
			     (fn.ins[1].wmask & XF_CALLER_SAVED) == XF_CALLER_SAVED))
			PASS("xf_method_call_target");
	}
	xf_fn_free(&fn);
}

static void test_merge(struct xf *x, struct buf *b)
{
	/* test edi,edi; je L; mov eax,1; jmp E; L: mov eax,2; E: ret */
	static const uint8_t code[] = {0x85, 0xff, 0x74, 0x07, 0xb8, 0x01, 0x00, 0x00, 0x00,
				       0xeb, 0x05, 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3};
	struct xf_fn fn;
	struct xf_state s1, s2, se;

	if (run(x, b, code, sizeof(code), &fn, &se)) {
		FAILF("xf_merge", "expected analysis, got \"%s\"", fn.why);
	} else if (CHECK_EQ("xf_merge", 4, fn.nb) && CHECK_EQ("xf_merge", XF_JCC, fn.ins[1].flow) &&
		   CHECK_EQ("xf_merge", BASE + 0xb, fn.ins[1].target) &&
		   CHECK_EQ("xf_merge", 5, xf_insn_at(&fn, BASE + 0x10)) &&
		   CHECK_EQ("xf_merge", -1, xf_insn_at(&fn, BASE + 0x5)) &&
		   CHECK_EQ("xf_merge", 0, xf_state_at(&fn, 3, &s1)) &&
		   CHECK_EQ("xf_merge", 1, xf_is_const(&fn, s1.r[XF_RAX], 1)) &&
		   CHECK_EQ("xf_merge", 0, xf_state_at(&fn, 4, &s2)) &&
		   CHECK_EQ("xf_merge", xf_entry(&fn, XF_RAX), s2.r[XF_RAX]) &&
		   CHECK_EQ("xf_merge", XF_V_PHI, xf_val(&fn.vt, se.r[XF_RAX])->k) &&
		   CHECK_EQ("xf_merge", xf_entry(&fn, XF_RDI), se.r[XF_RDI]))
		PASS("xf_merge");
	xf_fn_free(&fn);
}

static const uint8_t *elf_bytes(void *ctx, uint64_t va, uint64_t len)
{
	return bin_elf_va_ptr(ctx, va, len, 1);
}

/* Functions compiled by gcc, bounds from .eh_frame; the offsets are the structs' own. */
static void test_compiled(void)
{
	static const char src[] =
	    "#include <stddef.h>\n"
	    "struct ops { char pad[0x68]; int (*fn)(void *, int); };\n"
	    "struct obj { char pad[0x44]; int v; char pad2[0x20]; struct ops *ops; };\n"
	    "int get_v(struct obj *p) { return p->v; }\n"
	    "int call_fn(struct obj *p) { return p->ops->fn(p, 21) + 1; }\n";
	char so[64];
	const int64_t off_v = 0x44, off_ops = 0x68, off_fn = 0x68; /* 0x44 + 4 + 0x20 = 0x68 */
	struct bin_elf f;
	struct bin_fdes t;
	struct xf x;

	if (tl_build(src, "-O2 -fPIC -shared", so, sizeof(so)) || bin_elf_open(&f, so)) {
		SKIP("xf_compiled", "gcc or the ELF reader failed");
		return;
	}
	bin_fdes_load(&t, &f);
	if (!xf_open(&x, &(struct xf_code){elf_bytes, &f})) {
		const struct bin_sym *g = bin_elf_sym(&f, "get_v", STT_FUNC);
		const struct bin_sym *c = bin_elf_sym(&f, "call_fn", STT_FUNC);
		const struct bin_fde *dg = g ? bin_fde_at(&t, g->value) : NULL;
		const struct bin_fde *dc = c ? bin_fde_at(&t, c->value) : NULL;
		struct xf_fn fn;
		uint32_t tg = 0;
		int64_t d = 0;
		struct xf_state s;

		if (!dg || xf_fn_analyze(&fn, &x, dg->start, dg->end) ||
		    xf_state_at(&fn, fn.nins - 1, &s))
			FAILF("xf_compiled_getter", "expected an analysed get_v, got \"%s\"",
			      dg ? fn.why : "no FDE");
		else if (CHECK_EQ(
			     "xf_compiled_getter", 1,
			     xf_is_load(&fn.vt, s.r[XF_RAX], xf_entry(&fn, XF_RDI), 4, &d, NULL)) &&
			 CHECK_EQ("xf_compiled_getter", off_v, d))
			PASS("xf_compiled_getter");
		xf_fn_free(&fn);
		if (!dc || xf_fn_analyze(&fn, &x, dc->start, dc->end)) {
			FAILF("xf_compiled_method_call", "expected an analysed call_fn, got \"%s\"",
			      dc ? fn.why : "no FDE");
		} else {
			xf_fn_walk(&fn, icall_cb, &tg);
			if (CHECK_EQ("xf_compiled_method_call", 1,
				     is_method_call(&fn, tg, off_ops, off_fn)))
				PASS("xf_compiled_method_call");
		}
		xf_fn_free(&fn);
		xf_close(&x);
	}
	bin_fdes_free(&t);
	bin_elf_close(&f);
	tl_rmbuild(so);
}

static void test_bad(struct xf *x, struct buf *b)
{
	static const uint8_t bad[] = {0x90, 0x06, 0xc3}; /* nop; push es (invalid in 64-bit) */
	uint8_t *r = malloc(4096);
	struct xf_fn fn;

	if (CHECK_EQ("xf_undecodable", -1, run(x, b, bad, sizeof(bad), &fn, NULL)) &&
	    CHECK_STR("xf_undecodable", "undecodable instruction at 0x1001", fn.why))
		PASS("xf_undecodable");
	xf_fn_free(&fn);
	b->n = sizeof(bad);
	if (CHECK_EQ("xf_empty_bounds", -1, xf_fn_analyze(&fn, x, BASE + 2, BASE + 2)) &&
	    CHECK_EQ("xf_empty_bounds", 1, strstr(fn.why, "not plausible") != NULL))
		PASS("xf_empty_bounds");
	xf_fn_free(&fn);
	if (CHECK_EQ("xf_code_not_there", -1, xf_fn_analyze(&fn, x, BASE, BASE + 64)) &&
	    CHECK_EQ("xf_code_not_there", 1, strstr(fn.why, "not in an executable") != NULL))
		PASS("xf_code_not_there");
	xf_fn_free(&fn);
	if (!r)
		return;
	srand(11);
	for (int k = 0; k < 400; k++) {
		size_t n = 1 + (size_t)rand() % 4096;
		struct xf_state s;

		for (size_t i = 0; i < n; i++)
			r[i] = (uint8_t)rand();
		if (!run(x, b, r, n, &fn, NULL))
			for (int i = 0; i < fn.nins; i += 7)
				xf_state_at(&fn, i, &s);
		xf_fn_free(&fn);
	}
	free(r);
	PASS("xf_random_code_no_crash");
}

int main(void)
{
	struct buf b = {0};
	struct xf x;

	if (xf_open(&x, &(struct xf_code){buf_bytes, &b})) {
		FAILF("xf_open", "expected a capstone handle, got none");
		return 1;
	}
	test_getter(&x, &b);
	test_spill(&x, &b);
	test_method_call(&x, &b);
	test_merge(&x, &b);
	test_bad(&x, &b);
	xf_close(&x);
	test_compiled();
	return tl_failed;
}
