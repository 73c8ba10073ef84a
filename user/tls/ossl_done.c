// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "done" probe of a dispatch function (ssl3_dispatch_alert, dtls1_dispatch_alert of ssl/
 * s3_msg.c and ssl/d1_msg.c in 1.1.1 to 3.1): one instruction right after the record write
 *     i = do_ssl3_write(s, SSL3_RT_ALERT, ...);   (do_dtls1_write in DTLS)
 * returned, where registers hold i (the alert was written when i > 0, and the function returns
 * i) and s; the alert is still in s->s3.send_alert. It stands for the entry probe and the
 * uretprobe: one probe hit per dispatch instead of two, no return probe, no pending entry. It is
 * placed only where it sees what the return probe saw:
 *  - exactly one direct call in the function passes (s, 21, ...): the write;
 *  - every path from the entry to a return passes through that call, and no path leads back to
 *    it: one write per call of the function (3.2+ returns early and writes through the record
 *    layer's method table: no such call, so it keeps the entry probe and the uretprobe);
 *  - from the call to the probe, straight-line code that no other path enters.
 * It prefers the conditional branch that tests i: the kernel emulates a jcc, where it runs most
 * other instructions out of line under a single-step, a second trap per hit (arch/x86/kernel/
 * uprobes.c, branch_setup_xol_ops).
 */
#include <stdbool.h>
#include <stdlib.h>
#include "ossl_local.h"

struct write_ctx {
	uint32_t s; /* SSL *s: rdi at the entry */
	int n, idx;
};

static int write_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct write_ctx *c = vctx;
	const struct xf_insn *in = &fn->ins[idx];

	if (in->flow != XF_CALL || s->r[XF_RDI] != c->s ||
	    !xf_is_const(fn, s->r[XF_RSI], SSL3_RT_ALERT))
		return 0;
	c->idx = idx;
	c->n++;
	return 0;
}

/*
 * A walk over the blocks from block `from`, never past block `stop` (from == stop: from its
 * successors). Returns 1 when the walk reaches `stop` again (a loop back to it), -1 when, with
 * exits set, it leaves the function without passing `stop` (a return, an indirect jump, a jump
 * out: a tail call), 0 otherwise.
 */
static int walk(const struct xf_fn *fn, int from, int stop, bool exits)
{
	char *seen = calloc(fn->nb, 1);
	int *q = malloc(sizeof(*q) * (fn->nb + 1));
	int nq = 0, rc = 0;

	if (!seen || !q) {
		free(seen);
		free(q);
		return -1;
	}
	q[nq++] = from;
	seen[from] = 1;
	while (nq && rc == 0) {
		int bi = q[--nq];
		const struct xf_blk *b = &fn->b[bi];
		const struct xf_insn *last = &fn->ins[b->last];

		if (bi == stop && bi != from)
			continue;
		if (exits && bi != stop &&
		    (last->flow == XF_RET || last->flow == XF_IJMP || b->ijmp ||
		     ((last->flow == XF_JMP || last->flow == XF_JCC) &&
		      (last->target < fn->start || last->target >= fn->end)) ||
		     (b->nsucc == 0 && last->flow != XF_STOP))) {
			rc = -1;
			break;
		}
		for (int k = 0; k < b->nsucc; k++) {
			int s = b->succ[k];

			if (s < 0 || s >= fn->nb)
				continue;
			if (s == stop && !exits) {
				rc = 1;
				break;
			}
			if (!seen[s]) {
				seen[s] = 1;
				q[nq++] = s;
			}
		}
	}
	free(seen);
	free(q);
	return rc;
}

static int find_reg(const struct xf_state *s, uint32_t v, const int *pref)
{
	for (int k = 0; k < XF_NGPR; k++)
		if (pref[k] != XF_RSP && v && s->r[pref[k]] == v)
			return pref[k];
	return -1;
}

void ossl_analyse_dispatch_done(struct ctx *c, struct oh_done_probe *dp, uint64_t va,
				uint64_t symsize, const char *name)
{
	/* callee-saved first for SSL*: they survive the calls after the write */
	static const int spref[XF_NGPR] = {XF_RBX, XF_RBP, XF_R12, XF_R13, XF_R14, XF_R15,
					   XF_RDI, XF_RSI, XF_RDX, XF_RCX, XF_R8,  XF_R9,
					   XF_R10, XF_R11, XF_RAX, XF_RSP};
	static const int rpref[XF_NGPR] = {XF_RAX, XF_RBP, XF_RBX, XF_R12, XF_R13, XF_R14,
					   XF_R15, XF_RCX, XF_RDX, XF_RSI, XF_RDI, XF_R8,
					   XF_R9,  XF_R10, XF_R11, XF_RSP};
	struct oh_probe *p = &dp->p;
	struct write_ctx wc = {0};
	struct xf_fn fn;
	struct xf_state st;
	const struct xf_val *rv;
	uint32_t ret;
	int cb, pick = -1, prreg = -1, psreg = -1;

	p->ok = 0;
	dp->rc_reg = dp->ssl_reg = -1;
	dp->emulated = 0;
	if (ossl_run_fn(c, &fn, va, symsize, p->why, sizeof(p->why)))
		return;
	wc.s = xf_entry(&fn, XF_RDI);
	if (wc.s)
		xf_fn_walk(&fn, write_cb, &wc);
	if (wc.n != 1) {
		WHY(p, "%s 0x%llx: %d calls write(s, 21, ...), expected 1", name,
		    (unsigned long long)va, wc.n);
		goto out;
	}
	cb = xf_blk_of_insn(&fn, wc.idx);
	if (cb < 0 || fn.nb < 1 || fn.b[0].first != 0 || (cb != 0 && walk(&fn, 0, cb, true)) ||
	    walk(&fn, cb, cb, false)) {
		WHY(p, "%s: a path returns without the write at 0x%llx, or comes back to it", name,
		    (unsigned long long)fn.ins[wc.idx].addr);
		goto out;
	}
	if (wc.idx + 1 >= fn.nins || xf_state_at(&fn, wc.idx + 1, &st)) {
		WHY(p, "%s: nothing after the write at 0x%llx", name,
		    (unsigned long long)fn.ins[wc.idx].addr);
		goto out;
	}
	ret = st.r[XF_RAX];
	rv = xf_val(&fn.vt, ret);
	if (rv->k != XF_V_OPQ || rv->a != XF_RAX || (uint64_t)rv->c != fn.ins[wc.idx].addr) {
		WHY(p, "%s: the write's return value is not in rax after 0x%llx", name,
		    (unsigned long long)fn.ins[wc.idx].addr);
		goto out;
	}
	/* Straight-line code after the call, up to and including its first branch. */
	for (int i = wc.idx + 1; i < fn.nins; i++) {
		const struct xf_insn *in = &fn.ins[i];
		int k = xf_blk_of_insn(&fn, i), rreg, sreg;

		if (i > wc.idx + 1 && k >= 0 && fn.b[k].first == i)
			break; /* another path enters here */
		if (xf_state_at(&fn, i, &st))
			break;
		rreg = find_reg(&st, ret, rpref);
		sreg = find_reg(&st, wc.s, spref);
		if (rreg >= 0 && sreg >= 0 && (pick < 0 || in->flow == XF_JCC)) {
			pick = i;
			prreg = rreg;
			psreg = sreg;
		}
		if (in->flow != XF_SEQ)
			break;
	}
	if (pick < 0) {
		WHY(p, "%s: no register holds both the write's result and SSL* after 0x%llx", name,
		    (unsigned long long)fn.ins[wc.idx].addr);
		goto out;
	}
	dp->rc_reg = xf_ptregs_index(prreg);
	dp->ssl_reg = xf_ptregs_index(psreg);
	dp->emulated = fn.ins[pick].flow == XF_JCC;
	snprintf(dp->rc_reg_name, sizeof(dp->rc_reg_name), "%s", xf_gpr_name[prreg]);
	snprintf(dp->ssl_reg_name, sizeof(dp->ssl_reg_name), "%s", xf_gpr_name[psreg]);
	ossl_set_probe(c, p, fn.ins[pick].addr);
out:
	xf_fn_free(&fn);
}
