// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The GnuTLS provider (gnutls_hooks.h): analysis of a stripped libgnutls into a probe plan for
 * bpf/gnutls.bpf.c. Facts relied on (GnuTLS 3.7.9 and 3.8.9, lib/record.c, lib/alert.c,
 * lib/state.c): gnutls_alert_get is `return session->internals.last_alert`; the record layer's
 * only store to that field is `last_alert = bufel->msg.data[1]`, followed by the tests of
 * data[1] == close_notify and data[0] == fatal, so the record pointer is still in a register.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "alerttrace.h"
#include "ehframe.h"
#include "elf.h"
#include "gnutls.h"
#include "gnutls_hooks.h"
#include "provider.h"
#include "x86flow.h"
#include "gnutls.skel.h"

TP_SKEL_OPS(gnutls)

#define MAX_CANDIDATE_FNS 64

struct gctx {
	struct bin_elf e;
	struct bin_fdes fdes;
	struct xf x;
	struct gt_result *r;
};

static const uint8_t *code_bytes(void *ctx, uint64_t va, uint64_t len)
{
	return bin_elf_va_ptr(ctx, va, len, 1);
}

/* Decode up to n instructions from va (a function entry); endbr64 is skipped. */
static int decode_at(struct gctx *c, uint64_t va, struct xf_insn *out, int n)
{
	const uint8_t *p = bin_elf_va_ptr(&c->e, va, 16, 1);
	size_t left = 64;
	cs_insn *ci;
	int i = 0;

	if (!p)
		return 0;
	/* at most 64 bytes, within the segment */
	while (left > 16 && !bin_elf_va_ptr(&c->e, va, left, 1))
		left /= 2;
	p = bin_elf_va_ptr(&c->e, va, left, 1);
	ci = cs_malloc(c->x.h);
	if (!ci)
		return 0;
	while (i < n && xf_decode(&c->x, &p, &left, &va, ci, &out[i]))
		if (out[i].id != X86_INS_ENDBR64)
			i++;
	cs_free(ci, 1);
	return i;
}

static const struct bin_sym *func(struct gctx *c, const char *name)
{
	return bin_elf_sym(&c->e, name, STT_FUNC);
}

/* gnutls_alert_get: mov eax, dword [rdi + OFF]; ret. */
static int64_t last_alert_offset(struct gctx *c, char *why, size_t n)
{
	const struct bin_sym *s = func(c, "gnutls_alert_get");
	struct xf_insn in[2];

	if (!s) {
		snprintf(why, n, "gnutls_alert_get not defined");
		return -1;
	}
	if (decode_at(c, s->value, in, 2) < 2 || in[0].id != X86_INS_MOV ||
	    in[0].op[0].type != X86_OP_REG || in[0].op[0].reg != XF_RAX ||
	    in[0].op[1].type != X86_OP_MEM || in[0].op[1].base != XF_RDI ||
	    in[0].op[1].index != -1 || in[0].op[1].size != 4 || in[1].flow != XF_RET) {
		snprintf(why, n, "gnutls_alert_get at 0x%llx is not a read of one session field",
			 (unsigned long long)s->value);
		return -1;
	}
	return in[0].op[1].v;
}

/* gnutls_protocol_get_version: returns the dword at +ID of the pointer at session+PV. */
static void version_offsets(struct gctx *c)
{
	const struct bin_sym *s = func(c, "gnutls_protocol_get_version");
	struct xf_fn fn = {0};
	struct xf_state st;
	int i;

	if (!s || xf_fn_analyze(&fn, &c->x, s->value, s->value + (s->size ? s->size : 64)) < 0)
		goto out;
	for (i = 0; i < fn.nins; i++) {
		uint32_t ent, rdi = xf_entry(&fn, XF_RDI);
		int64_t d1, d2;

		if (fn.ins[i].flow != XF_RET || xf_state_at(&fn, i, &st) < 0)
			continue;
		if (xf_is_load(&fn.vt, st.r[XF_RAX], 0, 4, &d2, &ent) &&
		    xf_is_load(&fn.vt, ent, rdi, 8, &d1, NULL) && d1 >= 0 && d1 < 0x10000 &&
		    d2 >= 0 && d2 < 0x100) {
			c->r->off_pversion = (int)d1;
			c->r->off_ver_id = (int)d2;
			break;
		}
	}
out:
	xf_fn_free(&fn);
}

/* The session field a getter returns (rax at every ret a load of size bytes from rdi + off). */
static int64_t getter_field(struct gctx *c, const char *name, int size)
{
	const struct bin_sym *s = func(c, name);
	struct xf_fn fn = {0};
	struct xf_state st;
	int64_t off = -1, d;
	int i;

	if (!s || xf_fn_analyze(&fn, &c->x, s->value, s->value + (s->size ? s->size : 64)) < 0)
		goto out;
	for (i = 0; i < fn.nins; i++) {
		if (fn.ins[i].flow != XF_RET || xf_state_at(&fn, i, &st) < 0)
			continue;
		if (!xf_is_load(&fn.vt, st.r[XF_RAX], xf_entry(&fn, XF_RDI), size, &d, NULL) ||
		    (off >= 0 && d != off)) {
			off = -1;
			break;
		}
		off = d;
	}
out:
	xf_fn_free(&fn);
	return off;
}

/* lib/state.c: gnutls_transport_get_int returns (int)transport_recv_ptr, get_ptr the pointer. */
static void transport_offset(struct gctx *c)
{
	int64_t i = getter_field(c, "gnutls_transport_get_int", 4);
	int64_t p = getter_field(c, "gnutls_transport_get_ptr", 8);

	if (i >= 0 && i < 0x10000 && (p < 0 || p == i))
		c->r->off_transport = (int)i;
}

/* gnutls_check_version: the first rip-relative lea names the version string ("3.7.9"). */
static void version_text(struct gctx *c)
{
	const struct bin_sym *s = func(c, "gnutls_check_version");
	struct xf_insn in[8];
	int i, n;

	if (!s)
		return;
	n = decode_at(c, s->value, in, 8);
	for (i = 0; i < n; i++) {
		const struct xf_op *o = &in[i].op[1];
		const char *str;
		uint64_t va;
		size_t k;

		if (in[i].id != X86_INS_LEA || o->type != X86_OP_MEM || o->base != XF_RIP)
			continue;
		va = in[i].addr + in[i].size + o->v;
		str = (const char *)bin_elf_va_ptr(&c->e, va, 16, 0);
		if (!str)
			return;
		for (k = 0; k < 15 && (isdigit((unsigned char)str[k]) || str[k] == '.'); k++)
			;
		if (k >= 5 && str[k] == 0 && isdigit((unsigned char)str[0]))
			snprintf(c->r->version, sizeof(c->r->version), "GnuTLS %s", str);
		return;
	}
}

struct store_ctx {
	struct gctx *c;
	int64_t off;
	int matches;
};

/* Is instruction j a `cmp byte [..], imm` whose operand is the load id with imm? */
static int is_cmp(struct xf_fn *fn, int j, uint32_t load, int64_t imm)
{
	const struct xf_insn *in = &fn->ins[j];
	struct xf_state st;

	if (in->id != X86_INS_CMP || in->nop != 2 || in->op[0].type != X86_OP_MEM ||
	    in->op[0].size != 1 || in->op[1].type != X86_OP_IMM || in->op[1].v != imm)
		return 0;
	if (xf_state_at(fn, j, &st) < 0)
		return 0;
	return load && xf_src_val(fn, &st, in, &in->op[0], 1) == load;
}

/*
 * The store `mov dword [S + off], Rv` where Rv holds byte [P + 1] and P is still in a register;
 * confirmed by the record layer's next tests, byte [P + 1] == 0 (close_notify) and byte [P] == 2
 * (fatal), within the following instructions.
 */
static int store_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct store_ctx *sc = vctx;
	const struct xf_insn *in = &fn->ins[idx];
	const struct xf_op *d = &in->op[0], *v = &in->op[1];
	uint32_t p, desc, lvl;
	int64_t disp;
	int r, j, pr = -1, seen1 = 0, seen0 = 0;

	if (in->id != X86_INS_MOV || in->nop != 2 || d->type != X86_OP_MEM || d->size != 4 ||
	    d->v != sc->off || d->base < 0 || d->base >= XF_NGPR || d->base == XF_RSP ||
	    d->index != -1 || v->type != X86_OP_REG || v->reg < 0 || v->reg >= XF_NGPR)
		return 0;
	desc = s->r[(int)v->reg];
	if (!xf_is_load(&fn->vt, desc, 0, 1, &disp, &p) || disp != 1)
		return 0;
	for (r = 0; r < XF_NGPR && pr < 0; r++)
		if (r != v->reg && r != XF_RSP && s->r[r] == p)
			pr = r;
	if (pr < 0)
		return 0;
	lvl = xf_find_load(&fn->vt, p, 0, 1);
	for (j = idx + 1; j < fn->nins && j <= idx + 8; j++) {
		seen1 |= is_cmp(fn, j, desc, 0);
		seen0 |= is_cmp(fn, j, lvl, 2);
	}
	if (!seen1 || !seen0)
		return 0;
	if (++sc->matches == 1) {
		struct gt_result *rr = sc->c->r;

		rr->rec.vaddr = in->addr;
		rr->alert_reg = xf_ptregs_index(pr);
		rr->session_reg = xf_ptregs_index(d->base);
		snprintf(rr->alert_reg_name, sizeof(rr->alert_reg_name), "%s", xf_gpr_name[pr]);
		snprintf(rr->session_reg_name, sizeof(rr->session_reg_name), "%s",
			 xf_gpr_name[(int)d->base]);
	}
	return 0;
}

/* Functions of .text holding the 4 bytes of off (a disp32), then the data-flow check in each. */
static void find_store(struct gctx *c, int64_t off)
{
	const struct bin_sec *t = bin_elf_section(&c->e, ".text");
	struct store_ctx sc = {c, off, 0};
	uint64_t fns[MAX_CANDIDATE_FNS];
	struct gt_result *r = c->r;
	const uint8_t *p, *end;
	uint32_t key = (uint32_t)off;
	int nf = 0, i;

	if (!t || !t->data) {
		snprintf(r->rec.why, sizeof(r->rec.why), "no .text");
		return;
	}
	end = t->data + t->sh.sh_size;
	for (p = t->data; p + 4 <= end && (p = memmem(p, end - p, &key, 4)); p++) {
		const struct bin_fde *f = bin_fde_containing(&c->fdes, t->sh.sh_addr + (p - t->data));

		r->candidates++;
		if (!f || (nf && fns[nf - 1] == f->start))
			continue;
		for (i = 0; i < nf && fns[i] != f->start; i++)
			;
		if (i == nf && nf < MAX_CANDIDATE_FNS)
			fns[nf++] = f->start;
	}
	for (i = 0; i < nf; i++) {
		const struct bin_fde *f = bin_fde_at(&c->fdes, fns[i]);
		struct xf_fn fn = {0};

		if (f && xf_fn_analyze(&fn, &c->x, f->start, f->end) == 0)
			xf_fn_walk(&fn, store_cb, &sc);
		xf_fn_free(&fn);
	}
	if (sc.matches != 1) {
		snprintf(r->rec.why, sizeof(r->rec.why),
			 "%d stores of last_alert (+0x%llx) read from a record in %d candidate "
			 "functions: need exactly one",
			 sc.matches, (unsigned long long)off, nf);
		return;
	}
	if (bin_elf_va2off(&c->e, r->rec.vaddr, 1, &r->rec.file_off, 1) == 0)
		r->rec.ok = 1;
	else
		snprintf(r->rec.why, sizeof(r->rec.why), "store at 0x%llx not in the file",
			 (unsigned long long)r->rec.vaddr);
}

int gt_analyze(const char *path, struct gt_result *r)
{
	struct xf_code code;
	const struct bin_sym *s;
	struct gctx c = {.r = r};
	int64_t off;

	memset(r, 0, sizeof(*r));
	r->rc = -1;
	r->off_last_alert = r->off_pversion = r->off_transport = -1;
	r->off_sni_priv = r->off_sni_set = -1;
	r->alert_reg = r->session_reg = -1;
	if (bin_elf_open(&c.e, path)) {
		snprintf(r->why, sizeof(r->why), "%s", c.e.why);
		bin_elf_close(&c.e);
		return -1;
	}
	snprintf(r->build_id, sizeof(r->build_id), "%s", c.e.build_id);
	s = func(&c, "gnutls_alert_send");
	if (!s) {
		snprintf(r->why, sizeof(r->why), "not a GnuTLS library: gnutls_alert_send not defined");
		goto out_elf;
	}
	code = (struct xf_code){code_bytes, &c.e};
	if (xf_open(&c.x, &code)) {
		snprintf(r->why, sizeof(r->why), "capstone: cannot open an x86-64 disassembler");
		goto out_elf;
	}
	r->rc = 0;
	bin_fdes_load(&c.fdes, &c.e);
	version_text(&c);
	version_offsets(&c);
	transport_offset(&c);
	r->send.vaddr = s->value;
	if (bin_elf_va2off(&c.e, s->value, 1, &r->send.file_off, 1) == 0)
		r->send.ok = 1;
	else
		snprintf(r->send.why, sizeof(r->send.why), "gnutls_alert_send not in the file");
	off = last_alert_offset(&c, r->rec.why, sizeof(r->rec.why));
	r->off_last_alert = off;
	if (off >= 0)
		find_store(&c, off);
	gt_analyse_sni(&c.e, &c.fdes, &c.x, r);
	/* the reason of a sent alert: the error code handed to gnutls_alert_send_appropriate */
	s = func(&c, "gnutls_alert_send_appropriate");
	if (!s)
		snprintf(r->appropriate.why, sizeof(r->appropriate.why),
			 "gnutls_alert_send_appropriate not defined");
	else if (bin_elf_va2off(&c.e, s->value, 1, &r->appropriate.file_off, 1) == 0)
		r->appropriate.ok = 1;
	else
		snprintf(r->appropriate.why, sizeof(r->appropriate.why),
			 "gnutls_alert_send_appropriate not in the file");
	bin_fdes_free(&c.fdes);
	xf_close(&c.x);
out_elf:
	bin_elf_close(&c.e);
	return r->rc;
}

/* ---- the provider ---- */

static bool gt_named(const char *base)
{
	return strncmp(base, "libgnutls.so", 12) == 0;
}

static int gt_plan(const char *path, const char *root, struct tp_plan *p)
{
	static struct gt_result r;
	struct gnutls_cfg cfg;
	struct tp_hook *h;

	gt_analyze(path, &r);
	tp_plan_set(p, r.rc, r.why, r.version, r.build_id);
	if (p->rc < 0)
		return p->rc;
	cfg.off_pversion = r.off_pversion;
	cfg.off_ver_id = r.off_ver_id;
	cfg.off_sni_priv = r.off_sni_priv;
	cfg.off_sni_set = r.off_sni_set;
	cfg.off_transport = tp_addrs_off() ? -1 : r.off_transport;
	memcpy(p->cfg, &cfg, sizeof(cfg));
	p->cfg_size = sizeof(cfg);
	h = tp_hook_add(p, "sent", "sent");
	if (r.send.ok) {
		tp_hook_probe(h, "alert_send_entry", r.send.file_off, 0, false);
		tp_hook_probe(h, "alert_send_return", r.send.file_off, 0, true);
	} else {
		snprintf(h->why, sizeof(h->why), "%s", r.send.why);
	}
	h = tp_hook_add(p, "received", "received");
	if (r.rec.ok)
		tp_hook_probe(h, "record_alert", r.rec.file_off,
			      gnutls_cookie(r.alert_reg, r.session_reg), false);
	else
		snprintf(h->why, sizeof(h->why), "%s", r.rec.why);
	h = tp_hook_add(p, "reason", "reason");
	if (r.appropriate.ok)
		tp_hook_probe(h, "alert_appropriate", r.appropriate.file_off, 0, false);
	else
		snprintf(h->why, sizeof(h->why), "%s", r.appropriate.why);
	/* No probe of its own: the server name is read at the two above when its offsets are
	 * known; the report says why not. */
	h = tp_hook_add(p, "sni", "sni");
	if (h && r.off_sni_priv >= 0)
		h->placed = true;
	else if (h)
		snprintf(h->why, sizeof(h->why), "%s", r.sni_why[0] ? r.sni_why : "not found");
	snprintf(p->detail, sizeof(p->detail), "%s%s",
		 r.off_pversion < 0 ? ", protocol version unknown" : "",
		 r.off_transport < 0 ? ", addresses unknown" : "");
	return 0;
}

static const char *const gt_marks[] = {"gnutls_alert_send", NULL};

/* The reason hook feeds a sent alert's reason only. */
static const char *const gt_detail_hooks[] = {"reason", NULL};

const struct tls_provider gnutls_provider = {
	.name = "gnutls",
	.source = AT_SRC_GNUTLS,
	.named = gt_named,
	.marks = gt_marks,
	.analyse = gt_plan,
	.detail_hooks = gt_detail_hooks,
	TP_SKEL(gnutls),
};
