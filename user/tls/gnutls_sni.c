// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where a GnuTLS session keeps its server name (issue 9), read off the code of the exported
 * gnutls_server_name_get (lib/ext/server_name.c, GnuTLS 3.7 and 3.8):
 *   gnutls_server_name_get(session, ...) calls
 *     _gnutls_hello_ext_get_datum(session, GNUTLS_EXTENSION_SERVER_NAME = 18, &datum), which calls
 *       _gnutls_hello_ext_get_priv(session, id, &priv) (lib/hello_ext.c):
 *           mov esi, esi; lea rax, [rsi + rsi*2]; lea rax, [rdi + rax*8]
 *           cmp byte [rax + SET], 0; je ...; mov rax, [rax + PRIV]
 *       i.e. session->internals.ext_data[id] of 24 bytes, its `set` flag and `priv` pointer;
 *     and the datum is the 2-byte big-endian length at priv, the name after it.
 * A client stores the name it asks for there (gnutls_server_name_set), a server the name it
 * received: the session offsets are PRIV + 18 * 24 and SET + 18 * 24.
 */
#include <stdio.h>
#include <string.h>
#include "ehframe.h"
#include "elf.h"
#include "gnutls_hooks.h"
#include "x86flow.h"

#define EXT_SERVER_NAME 18
#define EXT_ENTRY 24

struct call_ctx {
	int want_rsi;	/* the constant in esi, or -1: the entry rsi */
	int n;
	uint64_t target;
};

static int call_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct call_ctx *c = vctx;
	const struct xf_insn *in = &fn->ins[idx];

	if (in->flow != XF_CALL || s->r[XF_RDI] != xf_entry(fn, XF_RDI))
		return 0;
	if (c->want_rsi >= 0 ? !xf_is_const(fn, s->r[XF_RSI], c->want_rsi)
			     : s->r[XF_RSI] != xf_entry(fn, XF_RSI))
		return 0;
	c->n++;
	c->target = in->target;
	return 0;
}

/* The one direct call of the function at va passing (its rdi, want_rsi); 0 when not one. */
static uint64_t one_call(const struct bin_fdes *fdes, struct xf *x, uint64_t va, int want_rsi,
			 struct xf_fn *fn)
{
	const struct bin_fde *f = bin_fde_at(fdes, va);
	struct call_ctx c = {.want_rsi = want_rsi};

	memset(fn, 0, sizeof(*fn));
	if (!f || xf_fn_analyze(fn, x, f->start, f->end))
		return 0;
	xf_fn_walk(fn, call_cb, &c);
	return c.n == 1 ? c.target : 0;
}

static int is_reg(const struct xf_op *o, int reg)
{
	return o->type == X86_OP_REG && o->reg == reg;
}

/* lea D, [B + I*scale], no displacement: REX.W 8d /r with a SIB byte (its scale in the top two
 * bits; the decoded operand does not keep it). */
static int is_lea(const struct bin_elf *e, const struct xf_insn *in, int d, int b, int i,
		  int scale)
{
	const struct xf_op *m = &in->op[1];
	const uint8_t *c = bin_elf_va_ptr(e, in->addr, 4, 1);

	return in->id == X86_INS_LEA && in->nop == 2 && is_reg(&in->op[0], d) &&
	       m->type == X86_OP_MEM && m->base == b && m->index == i && m->v == 0 && c &&
	       in->size == 4 && (c[0] & 0xf8) == 0x48 && c[1] == 0x8d && (c[2] & 0xc7) == 0x04 &&
	       (1 << (c[3] >> 6)) == scale;
}

/* The prologue of _gnutls_hello_ext_get_priv: SET and PRIV, or -1. */
static void get_priv_layout(const struct bin_elf *e, struct xf_fn *fn, int64_t *set,
			    int64_t *priv)
{
	int i = 0, a;

	*set = *priv = -1;
	if (i < fn->nins && fn->ins[i].id == X86_INS_ENDBR64)
		i++;
	if (i < fn->nins && fn->ins[i].id == X86_INS_MOV && is_reg(&fn->ins[i].op[0], XF_RSI) &&
	    is_reg(&fn->ins[i].op[1], XF_RSI))
		i++;
	if (i + 4 >= fn->nins || !is_lea(e, &fn->ins[i], fn->ins[i].op[0].reg, XF_RSI, XF_RSI, 2))
		return;
	a = fn->ins[i].op[0].reg;
	/* [rsi + rsi*2] is rsi*3, times 8: entries of 24 bytes */
	if (!is_lea(e, &fn->ins[i + 1], a, XF_RDI, a, 8))
		return;
	i += 2;
	if (fn->ins[i].id != X86_INS_CMP || fn->ins[i].op[0].type != X86_OP_MEM ||
	    fn->ins[i].op[0].size != 1 || fn->ins[i].op[0].base != a ||
	    fn->ins[i].op[0].index != -1 || fn->ins[i].op[1].type != X86_OP_IMM ||
	    fn->ins[i].op[1].v != 0 || fn->ins[i + 1].flow != XF_JCC)
		return;
	if (fn->ins[i + 2].id != X86_INS_MOV || fn->ins[i + 2].op[1].type != X86_OP_MEM ||
	    fn->ins[i + 2].op[1].size != 8 || fn->ins[i + 2].op[1].base != a ||
	    fn->ins[i + 2].op[1].index != -1)
		return;
	*set = fn->ins[i].op[0].v;
	*priv = fn->ins[i + 2].op[1].v;
}

void gt_analyse_sni(const struct bin_elf *e, const struct bin_fdes *fdes, struct xf *x,
		    struct gt_result *r)
{
	const struct bin_sym *s = bin_elf_sym(e, "gnutls_server_name_get", STT_FUNC);
	struct xf_fn fn;
	uint64_t datum, getp;
	int64_t set, priv;

	r->off_sni_priv = r->off_sni_set = -1;
	if (!s) {
		snprintf(r->sni_why, sizeof(r->sni_why), "gnutls_server_name_get not defined");
		return;
	}
	datum = one_call(fdes, x, s->value, EXT_SERVER_NAME, &fn);
	xf_fn_free(&fn);
	getp = datum ? one_call(fdes, x, datum, -1, &fn) : 0;
	xf_fn_free(&fn);
	if (!getp) {
		snprintf(r->sni_why, sizeof(r->sni_why),
			 "gnutls_server_name_get: no call chain (session, %d) to the extension data",
			 EXT_SERVER_NAME);
		return;
	}
	memset(&fn, 0, sizeof(fn));
	if (!bin_fde_at(fdes, getp) ||
	    xf_fn_analyze(&fn, x, getp, bin_fde_at(fdes, getp)->end)) {
		xf_fn_free(&fn);
		snprintf(r->sni_why, sizeof(r->sni_why), "extension getter 0x%llx not analysable",
			 (unsigned long long)getp);
		return;
	}
	get_priv_layout(e, &fn, &set, &priv);
	xf_fn_free(&fn);
	if (set < 0 || priv < 0 || set > 0x10000 || priv > 0x10000 || set == priv) {
		snprintf(r->sni_why, sizeof(r->sni_why),
			 "extension getter 0x%llx: not ext_data[id] of %d bytes", (unsigned long long)getp,
			 EXT_ENTRY);
		return;
	}
	r->off_sni_set = (int)(set + EXT_SERVER_NAME * EXT_ENTRY);
	r->off_sni_priv = (int)(priv + EXT_SERVER_NAME * EXT_ENTRY);
}
