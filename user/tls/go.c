// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Go provider (go_hooks.h): analysis of a Go program into a probe plan for bpf/go.bpf.c.
 * Facts relied on (crypto/tls/conn.go, Go 1.19 to 1.27, shared/notes/go-probes.md): every alert
 * Go writes goes through (*Conn).sendAlertLocked(err alert), receiver in RAX and alert in BL
 * under ABIInternal; readRecordOrCCS's alert branch tests len(data) != 2, then loads data[1] and
 * tests it against alertCloseNotify, so a register points at the record there; the same
 * function compares c.vers with VersionTLS13.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "alerttrace.h"
#include "elf.h"
#include "gopclntab.h"
#include "go.h"
#include "go_hooks.h"
#include "log.h"
#include "provider.h"
#include "x86flow.h"
#include "go.skel.h"

TP_SKEL_OPS(go)

#define SEND_ALERT "crypto/tls.(*Conn).sendAlertLocked"
#define READ_RECORD "crypto/tls.(*Conn).readRecordOrCCS"
#define RECORD_TYPE_ALERT 0x15 /* crypto/tls/common.go recordTypeAlert */
#define VERSION_TLS13 0x304
#define MAX_GO_FN (256u << 10)

struct gctx {
	struct bin_elf e;
	struct bin_go g;
	int have_go;
	struct xf x;
	struct go_result *r;
};

static const uint8_t *code_bytes(void *ctx, uint64_t va, uint64_t len)
{
	return bin_elf_va_ptr(ctx, va, len, 1);
}

/* [entry, end) of a function: .symtab when it has it, else .gopclntab. */
static int func_bounds(struct gctx *c, const char *name, uint64_t *entry, uint64_t *end)
{
	const struct bin_sym *s = bin_elf_sym(&c->e, name, STT_FUNC);

	if (s && s->size) {
		*entry = s->value;
		*end = s->value + s->size;
		c->r->from_symbols = 1;
		return 0;
	}
	return c->have_go ? bin_go_func(&c->g, name, entry, end) : -1;
}

static int skip_pad(const struct xf_insn *in)
{
	return in->id == X86_INS_NOP || (in->id == X86_INS_XCHG && in->nop == 2 &&
					 in->op[0].type == X86_OP_REG &&
					 in->op[1].type == X86_OP_REG && in->op[0].reg == in->op[1].reg);
}

/* The instruction before/after idx, padding skipped; -1 at the ends. */
static int prev_insn(const struct xf_fn *fn, int idx)
{
	while (--idx >= 0 && skip_pad(&fn->ins[idx]))
		;
	return idx;
}

static int next_insn(const struct xf_fn *fn, int idx)
{
	while (++idx < fn->nins && skip_pad(&fn->ins[idx]))
		;
	return idx < fn->nins ? idx : -1;
}

static int is_cmp_imm(const struct xf_insn *in, int64_t imm)
{
	return in->id == X86_INS_CMP && in->nop == 2 && in->op[1].type == X86_OP_IMM &&
	       in->op[1].v == imm;
}

/*
 * The first instruction after Go's stack-growth check (`cmp rsp, [r14+16]; jbe morestack`, or
 * with a lea first): the morestack path jumps back to the entry, so the entry is a join and the
 * arguments' values are those of this point, merged with their reloads.
 */
static int after_prologue(const struct xf_fn *fn)
{
	int i;

	for (i = 0; i < fn->nins && i < 4; i++)
		if (fn->ins[i].flow == XF_JCC && fn->ins[i].target > fn->ins[i].addr)
			return i + 1 < fn->nins ? i + 1 : 0;
	return 0;
}

/* The value of reg at the first instruction after the prologue (0 when not reached). */
static uint32_t arg_value(struct xf_fn *fn, int reg)
{
	struct xf_state st;

	if (xf_state_at(fn, after_prologue(fn), &st) < 0)
		return 0;
	return st.r[reg];
}

/* sendAlertLocked reads the entry value of BL (the alert): a test, compare or spill of BL. */
struct bl_ctx {
	uint32_t entry_rbx;
	int seen;
};

static int bl_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct bl_ctx *b = vctx;
	const struct xf_insn *in = &fn->ins[idx];
	int i, first = 0, last = -1;

	if (!b->entry_rbx || s->r[XF_RBX] != b->entry_rbx)
		return 0;
	if (in->id == X86_INS_TEST || in->id == X86_INS_CMP)
		last = in->nop - 1; /* any operand is read */
	else if (in->id == X86_INS_MOV && in->nop == 2)
		first = last = 1; /* the source: a spill of BL */
	for (i = first; i <= last && i < 3; i++)
		if (in->op[i].type == X86_OP_REG && in->op[i].reg == XF_RBX && in->op[i].size == 1)
			b->seen = 1;
	return b->seen;
}

static void analyse_send(struct gctx *c, uint64_t entry, uint64_t end)
{
	struct go_result *r = c->r;
	struct xf_fn fn = {0};
	struct bl_ctx b = {0};

	r->send_fn = entry;
	if (end <= entry || end - entry > MAX_GO_FN || xf_fn_analyze(&fn, &c->x, entry, end) < 0) {
		snprintf(r->send.why, sizeof(r->send.why), "%s at 0x%llx: %.120s", SEND_ALERT,
			 (unsigned long long)entry, fn.why[0] ? fn.why : "implausible bounds");
		goto out;
	}
	b.entry_rbx = arg_value(&fn, XF_RBX);
	xf_fn_walk(&fn, bl_cb, &b);
	if (!b.seen) {
		snprintf(r->send.why, sizeof(r->send.why),
			 "%s at 0x%llx never reads BL: not the register ABI (Go < 1.17?)",
			 SEND_ALERT, (unsigned long long)entry);
		goto out;
	}
	/* After the stack check, not at the entry: a call that grows its stack runs the entry
	 * twice (morestack jumps back to it), and would be reported twice. The arguments are in
	 * their registers there all the same. */
	r->send.vaddr = fn.ins[after_prologue(&fn)].addr;
	if (bin_elf_va2off(&c->e, r->send.vaddr, 1, &r->send.file_off, 1) == 0)
		r->send.ok = 1;
	else
		snprintf(r->send.why, sizeof(r->send.why), "%s not in the file", SEND_ALERT);
out:
	xf_fn_free(&fn);
}

/* A register holding v in s, -1 when none (rsp excluded). */
static int reg_holding(const struct xf_state *s, uint32_t v)
{
	int i;

	for (i = 0; i < XF_NGPR; i++)
		if (i != XF_RSP && s->r[i] == v)
			return i;
	return -1;
}

/*
 * The receiver's spill slot: ABIInternal functions store their register arguments in the
 * caller-reserved area above the return address, the receiver (RAX) at entry rsp + 8: after the
 * stack check, `sub rsp, F` then `mov [rsp + F + 8], rax`. Go keeps rsp fixed inside the body
 * (no push or pop; `add rsp, F` only before a ret), so at any point of the body the slot is
 * [rsp + F + 8]; it holds the *Conn when nothing else in the function writes those 8 bytes.
 * Returns F + 8, or -1 when the function is not shaped so.
 */
static int conn_spill(struct xf_fn *fn)
{
	int64_t frame = -1;
	int i, stores = 0;
	uint32_t written = 0;

	for (i = 0; i < fn->nins; i++) {
		const struct xf_insn *in = &fn->ins[i];
		const struct xf_op *o = &in->op[0];

		if (frame < 0) {
			if (in->id == X86_INS_SUB && o->type == X86_OP_REG && o->reg == XF_RSP &&
			    in->op[1].type == X86_OP_IMM && in->op[1].v > 0 && in->op[1].v < 0x10000)
				frame = in->op[1].v;
			else if (in->flow == XF_CALL || in->flow == XF_ICALL || i > 8)
				return -1;
			continue;
		}
		if ((in->wmask & (1u << XF_RSP)) && in->flow != XF_CALL && in->flow != XF_ICALL &&
		    in->flow != XF_RET &&
		    !(in->id == X86_INS_ADD && o->type == X86_OP_REG && o->reg == XF_RSP &&
		      in->op[1].type == X86_OP_IMM && in->op[1].v == frame))
			return -1;
		if (in->nop < 1 || o->type != X86_OP_MEM || o->base != XF_RSP || o->index != -1 ||
		    in->id == X86_INS_CMP || in->id == X86_INS_TEST || o->v + o->size <= frame + 8 ||
		    o->v >= frame + 16) {
			if (!stores)
				written |= in->wmask;
			continue;
		}
		/* the first store there is RAX as it came in; nothing else writes there */
		if (stores || in->id != X86_INS_MOV || o->v != frame + 8 || o->size != 8 ||
		    in->op[1].type != X86_OP_REG || in->op[1].reg != XF_RAX ||
		    (written & (1u << XF_RAX)))
			return -1;
		stores++;
	}
	return stores ? (int)(frame + 8) : -1;
}

/* The 16-bit field of operand o (a memory operand, or a register loaded from one by the
 * movzx just before), as base register and displacement; -1 when neither. */
static int word_field(const struct xf_fn *fn, int i, const struct xf_op *o, int *base)
{
	const struct xf_insn *p;
	int j;

	if (o->type == X86_OP_MEM && o->size == 2 && o->index == -1 && o->base >= 0 &&
	    o->base < XF_NGPR) {
		*base = o->base;
		return o->v >= 0 && o->v < 0x10000 ? (int)o->v : -1;
	}
	if (o->type != X86_OP_REG || (j = prev_insn(fn, i)) < 0)
		return -1;
	p = &fn->ins[j];
	if (p->id != X86_INS_MOVZX || p->op[0].type != X86_OP_REG || p->op[0].reg != o->reg)
		return -1;
	return word_field(fn, j, &p->op[1], base);
}

/*
 * c.vers: the 16-bit field readRecordOrCCS compares with VersionTLS13, `cmp word [B+OFF], 0x304`
 * or a movzx of it just before `cmp R16, 0x304`. Other fields are compared with 0x304 too
 * (c.in.version), so the offset most of the comparisons use wins, with two at least; by data
 * flow, a comparison whose base is the receiver decides.
 */
static int find_vers(struct xf_fn *fn, uint32_t conn)
{
	int offs[16], cnt[16], n = 0, i, j, best = -1;
	struct xf_state st;

	for (i = 0; i < fn->nins; i++) {
		const struct xf_insn *in = &fn->ins[i];
		int base, off;

		if (!is_cmp_imm(in, VERSION_TLS13) ||
		    (off = word_field(fn, i, &in->op[0], &base)) < 0)
			continue;
		if (conn && xf_state_at(fn, i, &st) == 0 && st.r[base] == conn)
			return off;
		for (j = 0; j < n && offs[j] != off; j++)
			;
		if (j == n && n < 16) {
			offs[n] = off;
			cnt[n++] = 0;
		}
		if (j < n)
			cnt[j]++;
	}
	for (j = 0; j < n; j++)
		if (cnt[j] >= 2 && (best < 0 || cnt[j] > cnt[best]))
			best = j;
	return best >= 0 ? offs[best] : -1;
}

/*
 * The register holding the *Conn at the probe: one with the receiver's value, else the base of
 * the first c.vers access after it (the close_notify test is followed by `c.vers == TLS13`) when
 * nothing in between writes it. -1 when unknown.
 */
static int conn_at(struct xf_fn *fn, int at, const struct xf_state *st, uint32_t conn, int vers)
{
	uint32_t written = 0;
	int i, r;

	if (conn && (r = reg_holding(st, conn)) >= 0)
		return r;
	for (i = next_insn(fn, at); vers >= 0 && i >= 0 && i < at + 40; i = next_insn(fn, i)) {
		const struct xf_insn *in = &fn->ins[i];
		int k;

		for (k = 0; k < in->nop && k < 3; k++)
			if (in->op[k].type == X86_OP_MEM && in->op[k].size == 2 &&
			    in->op[k].v == vers && in->op[k].base >= 0 && in->op[k].base < XF_NGPR &&
			    in->op[k].base != XF_RSP)
				return (written & (1u << in->op[k].base)) ? -1 : in->op[k].base;
		written |= in->wmask;
	}
	return -1;
}

/* The register holding c.vers at the probe: the first `cmp R16, 0x304` after it, when nothing in
 * between writes R (the branch after the close_notify test compares the version). */
static int vers_at(struct xf_fn *fn, int at)
{
	uint32_t written = 0;
	int i;

	for (i = next_insn(fn, at); i >= 0 && i < at + 16; i = next_insn(fn, i)) {
		const struct xf_insn *in = &fn->ins[i];

		if (is_cmp_imm(in, VERSION_TLS13) && in->op[0].type == X86_OP_REG &&
		    in->op[0].reg >= 0 && in->op[0].reg < XF_NGPR && in->op[0].size == 2)
			return (written & (1u << in->op[0].reg)) ? -1 : in->op[0].reg;
		if (in->flow != XF_SEQ && in->flow != XF_JCC)
			return -1;
		written |= in->wmask;
	}
	return -1;
}

static void analyse_recv(struct gctx *c, uint64_t entry, uint64_t end)
{
	struct go_result *r = c->r;
	struct xf_fn fn = {0};
	struct xf_state st;
	int i, hits = 0, at = -1, preg = -1;
	uint32_t conn;

	r->read_fn = entry;
	if (end <= entry || end - entry > MAX_GO_FN || xf_fn_analyze(&fn, &c->x, entry, end) < 0) {
		snprintf(r->recv.why, sizeof(r->recv.why), "%s at 0x%llx: %.120s", READ_RECORD,
			 (unsigned long long)entry, fn.why[0] ? fn.why : "implausible bounds");
		goto out;
	}
	conn = arg_value(&fn, XF_RAX);
	for (i = 0; i < fn.nins; i++) {
		const struct xf_insn *in = &fn.ins[i], *t;
		int n = next_insn(&fn, i), j = prev_insn(&fn, i), k, seen21 = 0;

		/* movzx E, byte [R + 1]; test Eb, Eb */
		if (in->id != X86_INS_MOVZX || in->op[0].type != X86_OP_REG ||
		    in->op[1].type != X86_OP_MEM || in->op[1].size != 1 || in->op[1].v != 1 ||
		    in->op[1].index != -1 || in->op[1].base < 0 || in->op[1].base >= XF_NGPR ||
		    n < 0)
			continue;
		t = &fn.ins[n];
		if (t->id != X86_INS_TEST || t->op[0].type != X86_OP_REG ||
		    t->op[0].reg != in->op[0].reg || t->op[1].type != X86_OP_REG ||
		    t->op[1].reg != in->op[0].reg)
			continue;
		/* before it: cmp L, 2; jne (len(data) != 2) */
		if (j < 0 || fn.ins[j].id != X86_INS_JNE || (j = prev_insn(&fn, j)) < 0 ||
		    !is_cmp_imm(&fn.ins[j], 2))
			continue;
		/* and the recordTypeAlert test within reach before that */
		for (k = prev_insn(&fn, j); k >= 0 && k >= j - 12 && !seen21; k = prev_insn(&fn, k))
			seen21 = is_cmp_imm(&fn.ins[k], RECORD_TYPE_ALERT);
		if (!seen21)
			continue;
		if (++hits == 1) {
			at = i;
			preg = in->op[1].base;
		}
	}
	if (hits != 1) {
		snprintf(r->recv.why, sizeof(r->recv.why),
			 "%s at 0x%llx: %d alert branches (len 2, data[1] vs close_notify, type 21): "
			 "need exactly one",
			 READ_RECORD, (unsigned long long)entry, hits);
		goto out;
	}
	/* Data flow: the record pointer is a value the function computed, not garbage. */
	if (xf_state_at(&fn, at, &st) < 0) {
		snprintf(r->recv.why, sizeof(r->recv.why), "%s: the alert branch is not reached",
			 READ_RECORD);
		goto out;
	}
	r->alert_reg = xf_ptregs_index(preg);
	r->off_vers = find_vers(&fn, conn);
	r->conn_reg = xf_ptregs_index(conn_at(&fn, at, &st, conn, r->off_vers));
	r->conn_sp = r->conn_reg < 0 ? conn_spill(&fn) : -1;
	if (r->conn_reg < 0)
		r->vers_reg = xf_ptregs_index(vers_at(&fn, at));
	r->recv.vaddr = fn.ins[at].addr;
	if (bin_elf_va2off(&c->e, r->recv.vaddr, 1, &r->recv.file_off, 1) == 0)
		r->recv.ok = 1;
	else
		snprintf(r->recv.why, sizeof(r->recv.why), "probe at 0x%llx not in the file",
			 (unsigned long long)r->recv.vaddr);
out:
	xf_fn_free(&fn);
}

int go_analyze(const char *path, struct go_result *r)
{
	struct gctx c = {.r = r};
	struct xf_code code;
	uint64_t a, b;

	memset(r, 0, sizeof(*r));
	r->rc = -1;
	r->alert_reg = r->conn_reg = r->vers_reg = r->off_vers = r->conn_sp = r->off_sni = -1;
	if (bin_elf_open(&c.e, path)) {
		snprintf(r->why, sizeof(r->why), "%s", c.e.why);
		bin_elf_close(&c.e);
		return -1;
	}
	snprintf(r->build_id, sizeof(r->build_id), "%s", c.e.build_id);
	if (bin_go_buildinfo(&c.e, r->go_version, sizeof(r->go_version), r->module,
			     sizeof(r->module))) {
		snprintf(r->why, sizeof(r->why), "not a Go program: no Go build info");
		goto out_elf;
	}
	c.have_go = bin_go_open(&c.g, &c.e) == 0;
	if (func_bounds(&c, SEND_ALERT, &a, &b)) {
		if (c.have_go)
			snprintf(r->why, sizeof(r->why), "%.31s without crypto/tls: no %s",
				 r->go_version[0] ? r->go_version : "Go program", SEND_ALERT);
		else
			snprintf(r->why, sizeof(r->why), "%.31s: no symbols, and no pclntab: %.100s",
				 r->go_version[0] ? r->go_version : "Go program", c.g.why);
		goto out_go;
	}
	code = (struct xf_code){code_bytes, &c.e};
	if (xf_open(&c.x, &code)) {
		snprintf(r->why, sizeof(r->why), "capstone: cannot open an x86-64 disassembler");
		goto out_go;
	}
	r->rc = 0;
	{
		uint64_t ca, cb;

		if (func_bounds(&c, "net.(*TCPConn).Close", &ca, &cb) == 0)
			r->tcp_close = ca;
	}
	analyse_send(&c, a, b);
	if (func_bounds(&c, READ_RECORD, &a, &b) == 0)
		analyse_recv(&c, a, b);
	else
		snprintf(r->recv.why, sizeof(r->recv.why), "%s not found", READ_RECORD);
	if (func_bounds(&c, GO_CONN_STATE, &a, &b) == 0)
		r->off_sni = go_sni_offset(&c.x, a, b, r->off_vers, r->sni_why, sizeof(r->sni_why));
	else
		snprintf(r->sni_why, sizeof(r->sni_why), "%s not found", GO_CONN_STATE);
	xf_close(&c.x);
out_go:
	if (c.have_go)
		bin_go_close(&c.g);
out_elf:
	bin_elf_close(&c.e);
	return r->rc;
}

/* ---- the provider ---- */

static int go_plan(const char *path, const char *root, struct tp_plan *p)
{
	static struct go_result r;
	struct go_cfg cfg = {.off_vers = -1, .off_sni = -1};
	struct tp_hook *h;

	go_analyze(path, &r);
	tp_plan_set(p, r.rc, r.why, r.go_version, r.build_id);
	if (p->rc < 0)
		return p->rc;
	snprintf(p->detail, sizeof(p->detail), "%s%s%s", r.from_symbols ? ", from symbols" : "",
		 r.off_vers < 0 ? ", protocol version unknown" : "",
		 !r.tcp_close ? ", addresses unknown" : "");
	cfg.off_vers = r.off_vers;
	cfg.off_sni = r.off_sni;
	p_debug("%s: net.(*TCPConn).Close at 0x%llx; at the receive probe the *Conn is in pt_regs "
		"word %d, else at [rsp+%d]; Conn.vers at +%d, Conn.serverName at +%d (-1: not "
		"known)\n",
		path, (unsigned long long)r.tcp_close, r.conn_reg, r.conn_sp, r.off_vers, r.off_sni);
	if (r.tcp_close && r.send.ok && !tp_addrs_off())
		cfg.tcpclose_from_send = (__s64)(r.tcp_close - r.send.vaddr);
	if (r.tcp_close && r.recv.ok && (r.conn_reg >= 0 || r.conn_sp > 0) &&
	    !tp_addrs_off())
		cfg.tcpclose_from_recv = (__s64)(r.tcp_close - r.recv.vaddr);
	if (r.conn_reg < 0 && r.conn_sp > 0)
		cfg.recv_conn_sp = r.conn_sp;
	memcpy(p->cfg, &cfg, sizeof(cfg));
	p->cfg_size = sizeof(cfg);
	h = tp_hook_add(p, "sent", "sent");
	if (r.send.ok)
		/* ABIInternal: the alert in BL (RBX's word), the receiver in RAX */
		tp_hook_probe(h, "send_alert", r.send.file_off,
			      go_cookie(xf_ptregs_index(XF_RBX), xf_ptregs_index(XF_RAX), -1), false);
	else
		snprintf(h->why, sizeof(h->why), "%s", r.send.why);
	h = tp_hook_add(p, "received", "received");
	if (r.recv.ok)
		tp_hook_probe(h, "read_record", r.recv.file_off,
			      go_cookie(r.alert_reg, r.conn_reg, r.vers_reg), false);
	else
		snprintf(h->why, sizeof(h->why), "%s", r.recv.why);
	/* No probe of its own: the server name is read at the two above, placed when its offset
	 * is known; the report says why not. */
	h = tp_hook_add(p, "sni", "sni");
	if (r.off_sni >= 0)
		h->placed = true;
	else
		snprintf(h->why, sizeof(h->why), "%s", r.sni_why);
	return 0;
}

static const char *const go_mark_sections[] = {".go.buildinfo", NULL};

const struct tls_provider go_provider = {
	.name = "go",
	.source = AT_SRC_GO,
	.mark_sections = go_mark_sections,
	.analyse = go_plan,
	TP_SKEL(go),
};
