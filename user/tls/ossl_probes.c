// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * OpenSSL's alert probes, read off the data flow of one function at a time (x86flow.h):
 *  - the dispatch functions (ssl3/dtls1_dispatch_alert) call msg_callback(1, s->version, 21,
 *    &send_alert, 2, s, arg), which gives the send_alert and version offsets;
 *  - the receive probe in ssl3/dtls1_read_bytes: the msg_callback(0, v, 21, alert_bytes, 2, s)
 *    call, the test of s->msg_callback that guards it, and the registers that hold alert_bytes
 *    and s there. The choice is re-checked syntactically: no instruction between the probe and
 *    the call writes either register, and both branches of the guard rejoin after the call.
 *    The probe sits on the guard's branch itself where the registers allow (emulated, not
 *    single-stepped).
 */
#include "ossl_local.h"


/* Indirect calls of the form msg_callback(write_p, version, 21, buf, 2, s, arg). */
struct mcb_site {
	int idx;
	uint32_t target, ver, buf, ssl;
};

struct mcb_ctx {
	int write_p;
	int n;
	struct mcb_site site[4];
};

static int mcb_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct mcb_ctx *c = vctx;
	const struct xf_insn *in = &fn->ins[idx];

	if (in->flow != XF_ICALL)
		return 0;
	if (!xf_is_const(fn, s->r[XF_RDI], c->write_p) ||
	    !xf_is_const(fn, s->r[XF_RDX], SSL3_RT_ALERT) || !xf_is_const(fn, s->r[XF_R8], 2))
		return 0;
	if (c->n < 4)
		c->site[c->n] = (struct mcb_site){idx, xf_call_target(fn, s, in), s->r[XF_RSI],
						  s->r[XF_RCX], s->r[XF_R9]};
	c->n++;
	return 0;
}

void ossl_set_probe(struct ctx *c, struct oh_probe *p, uint64_t va)
{
	uint64_t off;

	p->vaddr = va;
	if (bin_elf_va2off(&c->f->e, va, 1, &off, 1)) {
		p->ok = 0;
		WHY(p, "0x%llx is not in an executable PT_LOAD segment", (unsigned long long)va);
		return;
	}
	p->file_off = off;
	p->ok = 1;
	p->why[0] = 0;
}

/* Dispatch function: msg_callback(1, s->version, 21, &send_alert, 2, s, arg) gives the
 * send_alert offset (through s3 in 1.1.1) and the version offset. */
void ossl_analyse_dispatch(struct ctx *c, struct oh_probe *p, uint64_t va, uint64_t symsize,
			   const char *name, int64_t *send, int64_t *s3, int64_t *ver)
{
	struct xf_fn fn;
	struct mcb_ctx mc = {.write_p = 1};
	uint32_t base, inner;
	int64_t d;
	const struct xf_val *bv;

	*send = *s3 = *ver = -2;
	if (ossl_run_fn(c, &fn, va, symsize, p->why, sizeof(p->why))) {
		p->ok = 0;
		return;
	}
	xf_fn_walk(&fn, mcb_cb, &mc);
	if (mc.n != 1) {
		WHY(p, "%s 0x%llx: %d msg_callback(1, v, 21, buf, 2) calls, expected 1", name,
		    (unsigned long long)va, mc.n);
		p->ok = 0;
		goto out;
	}
	base = xf_split(&fn.vt, mc.site[0].buf, &d);
	bv = xf_val(&fn.vt, base);
	if (!base || d <= 0 || d > 0x10000 || bv->k == XF_V_CONST) {
		WHY(p, "%s: send_alert argument is not a field address", name);
		p->ok = 0;
		goto out;
	}
	*send = d;
	*s3 = -1;
	if (xf_is_load(&fn.vt, base, 0, 8, &d, &inner) && d >= 0 && d < 0x10000)
		*s3 = d; /* 1.1.1: &s->s3->send_alert[0] */
	if (xf_is_load(&fn.vt, mc.site[0].ver, 0, 4, &d, NULL))
		*ver = d;
	ossl_set_probe(c, p, va);
out:
	xf_fn_free(&fn);
}

struct guard_ctx {
	uint32_t tested;
};

/* Receive probe inside read_bytes: see the file comment. */
void ossl_analyse_read(struct ctx *c, struct oh_read_probe *rp, uint64_t va, uint64_t symsize,
		       const char *name)
{
	struct oh_probe *p = &rp->p;
	struct xf_fn fn;
	struct mcb_ctx mc = {.write_p = 0};
	const struct xf_insn *call;
	uint32_t buf, ssl, conn = 0, bytes;
	int64_t d;
	int ci, j, gb, g_first;
	uint64_t skip;
	struct xf_state s;

	p->ok = 0;
	rp->alert_reg = rp->ssl_reg = -1;
	if (ossl_run_fn(c, &fn, va, symsize, p->why, sizeof(p->why)))
		return;
	rp->func = va;
	rp->func_end = fn.end;
	xf_fn_walk(&fn, mcb_cb, &mc);
	if (mc.n != 1) {
		WHY(p, "%s 0x%llx: %d msg_callback(0, v, 21, buf, 2) calls, expected 1", name,
		    (unsigned long long)va, mc.n);
		goto out;
	}
	ci = mc.site[0].idx;
	call = &fn.ins[ci];
	buf = mc.site[0].buf;
	ssl = mc.site[0].ssl;
	if (!buf || !ssl) {
		WHY(p, "%s: alert buffer or SSL* unknown at the msg_callback call 0x%llx", name,
		    (unsigned long long)call->addr);
		goto out;
	}
	/* the guard: nearest conditional branch before the call that jumps past it, with only
	 * straight-line code in between */
	for (j = ci - 1; j >= 0; j--) {
		const struct xf_insn *in = &fn.ins[j];

		if (in->flow == XF_JCC && in->target > call->addr)
			break;
		if (in->flow != XF_SEQ) {
			j = -1;
			break;
		}
	}
	if (j < 0) {
		WHY(p, "%s: msg_callback call 0x%llx is not behind a conditional branch", name,
		    (unsigned long long)call->addr);
		goto out;
	}
	for (int i = j + 1; i <= ci; i++) {
		int k = xf_blk_of_insn(&fn, i);

		if (k >= 0 && fn.b[k].first == i && i != j + 1) {
			WHY(p, "%s: another path enters the msg_callback block at 0x%llx", name,
			    (unsigned long long)fn.ins[i].addr);
			goto out;
		}
	}
	/* both branches must meet after the call: only straight-line code up to the target */
	skip = fn.ins[j].target;
	for (int i = ci + 1; i < fn.nins && fn.ins[i].addr < skip; i++) {
		if (fn.ins[i].flow != XF_SEQ) {
			WHY(p, "%s: the msg_callback branch does not rejoin at 0x%llx", name,
			    (unsigned long long)skip);
			goto out;
		}
	}
	if (xf_insn_at(&fn, skip) < 0) {
		WHY(p, "%s: guard target 0x%llx is not an instruction", name,
		    (unsigned long long)skip);
		goto out;
	}
	/* the guard tests the called pointer: test R,R / cmp X,0 on the call target's value */
	gb = xf_blk_of_insn(&fn, j);
	g_first = fn.b[gb].first;
	{
		int tested_ok = 0;

		for (int i = j - 1; i >= g_first; i--) {
			const struct xf_insn *in = &fn.ins[i];
			uint32_t tv = 0;

			if (!(in->id == X86_INS_TEST || in->id == X86_INS_CMP))
				continue;
			if (xf_state_at(&fn, i, &s))
				break;
			if (in->id == X86_INS_TEST && in->nop == 2 &&
			    in->op[0].type == X86_OP_REG && in->op[1].type == X86_OP_REG &&
			    in->op[0].reg == in->op[1].reg && in->op[0].reg >= 0 &&
			    in->op[0].reg < XF_NGPR && in->op[0].size == 8)
				tv = s.r[(int)in->op[0].reg];
			else if (in->id == X86_INS_CMP && in->nop == 2 &&
				 in->op[1].type == X86_OP_IMM && in->op[1].v == 0 &&
				 in->op[0].size == 8)
				tv = xf_src_val(&fn, &s, in, &in->op[0], 8);
			tested_ok = tv && tv == mc.site[0].target;
			break;
		}
		if (!tested_ok) {
			WHY(p, "%s: the branch before msg_callback does not test the callback",
			    name);
			goto out;
		}
	}
	if (!fn.b[gb].visited) {
		WHY(p, "%s: guard block unreachable from the entry", name);
		goto out;
	}
	/* the earliest point of the guard block where registers hold buf (or the two bytes) and
	 * SSL*, neither written again before the call */
	bytes = xf_find_load(&fn.vt, buf, 0, 2);
	/* 3.2+: the callback and the version are read from the SSL_CONNECTION, which for a TLS or
	 * DTLS connection is the SSL itself (ssl_connection_st starts with its ssl_st); a register
	 * holding that base stands for SSL* when the SSL* argument itself sits on the stack */
	if (xf_is_load(&fn.vt, mc.site[0].target, 0, 8, &d, &conn) &&
	    !xf_is_load(&fn.vt, mc.site[0].ver, conn, 4, &d, NULL))
		conn = 0;
	/* The guard's jcc first: the kernel emulates a conditional branch, where it single-steps
	 * most other instructions out of line, a second trap per hit (arch/x86/kernel/uprobes.c,
	 * branch_setup_xol_ops); then the block from its start. */
	for (int n = 0; n <= j - g_first; n++) {
		int pi = n == 0 ? j : g_first + n - 1;
		int areg = -1, isptr = 1, sreg = -1;
		uint32_t written = 0;

		if (xf_state_at(&fn, pi, &s))
			break;
		for (int i = pi; i < ci; i++)
			written |= fn.ins[i].wmask;
		for (int pass = 0; pass < 2 && areg < 0; pass++) {
			uint32_t want = pass ? bytes : buf;
			static const int pref[XF_NGPR] = {
			    XF_RCX, XF_R12, XF_R13, XF_R14, XF_R15, XF_RBX, XF_RBP, XF_RAX,
			    XF_RDX, XF_RSI, XF_RDI, XF_R8,  XF_R9,  XF_R10, XF_R11, XF_RSP};

			if (!want)
				continue;
			for (int k = 0; k < XF_NGPR && areg < 0; k++)
				if (pref[k] != XF_RSP && s.r[pref[k]] == want &&
				    !(written & (1u << pref[k]))) {
					areg = pref[k];
					isptr = !pass;
				}
		}
		for (int pass = 0; pass < 2 && sreg < 0; pass++) {
			uint32_t want = pass ? conn : ssl;

			for (int k = 0; k < XF_NGPR && sreg < 0 && want; k++) {
				/* callee-saved first: they survive calls made after the probe */
				static const int pref[XF_NGPR] = {
				    XF_R13, XF_R12, XF_RBX, XF_RBP, XF_R14, XF_R15, XF_R9,  XF_RDI,
				    XF_RSI, XF_RDX, XF_RCX, XF_RAX, XF_R8,  XF_R10, XF_R11, XF_RSP};

				if (pref[k] != XF_RSP && s.r[pref[k]] == want &&
				    !(written & (1u << pref[k]))) {
					sreg = pref[k];
					rp->ssl_is_conn = pass;
				}
			}
		}
		if (areg < 0 || sreg < 0)
			continue;
		rp->alert_reg = xf_ptregs_index(areg);
		rp->alert_is_ptr = isptr;
		rp->ssl_reg = xf_ptregs_index(sreg);
		snprintf(rp->alert_reg_name, sizeof(rp->alert_reg_name), "%s", xf_gpr_name[areg]);
		snprintf(rp->ssl_reg_name, sizeof(rp->ssl_reg_name), "%s", xf_gpr_name[sreg]);
		if (c->f->fdes.n &&
		    (!bin_fde_containing(&c->f->fdes, fn.ins[pi].addr) ||
		     bin_fde_containing(&c->f->fdes, fn.ins[pi].addr)->start != va)) {
			WHY(p, "%s: probe 0x%llx outside the function's FDE", name,
			    (unsigned long long)fn.ins[pi].addr);
			goto out;
		}
		ossl_set_probe(c, p, fn.ins[pi].addr);
		goto out;
	}
	WHY(p, "%s: no register holds both the alert and SSL* in the guard block 0x%llx", name,
	    (unsigned long long)fn.ins[g_first].addr);
out:
	xf_fn_free(&fn);
}
