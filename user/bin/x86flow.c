// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Data flow over one function (see x86flow.h); the decoding is in x86dec.c. */
#include <asm/ptrace.h>
#include <stddef.h>
#include "x86flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FN_SIZE (64u << 10) /* bound on one function's disassembly */

static void setwhy(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setwhy(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------------------------ */
/* Symbolic values, hash-consed: equal ids are equal expressions */

static uint32_t vhash(int k, int size, int32_t a, int64_t c)
{
	uint64_t x = ((uint64_t)k << 56) ^ ((uint64_t)size << 48) ^ ((uint64_t)(uint32_t)a << 16) ^
		     (uint64_t)c * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint32_t)x;
}

static int vt_grow(struct xf_vtab *t)
{
	uint32_t nh = t->hcap ? t->hcap * 2 : 1024;
	uint32_t *h = calloc(nh, sizeof(*h));

	if (!h)
		return -1;
	for (uint32_t i = 1; i < t->n; i++) {
		const struct xf_val *v = &t->v[i];
		uint32_t j = vhash(v->k, v->size, v->a, v->c) & (nh - 1);

		while (h[j])
			j = (j + 1) & (nh - 1);
		h[j] = i;
	}
	free(t->h);
	t->h = h;
	t->hcap = nh;
	return 0;
}

/* Id of the value; insert when asked. 0 (TOP) when absent or out of memory. */
static uint32_t vt_get(struct xf_vtab *t, int k, int size, int32_t a, int64_t c, int insert)
{
	uint32_t j;

	if (!t->hcap || (t->n + 1) * 2 > t->hcap) {
		if (!insert && !t->hcap)
			return 0;
		if (insert && vt_grow(t))
			return 0;
	}
	j = vhash(k, size, a, c) & (t->hcap - 1);
	while (t->h[j]) {
		const struct xf_val *v = &t->v[t->h[j]];

		if (v->k == k && v->size == size && v->a == a && v->c == c)
			return t->h[j];
		j = (j + 1) & (t->hcap - 1);
	}
	if (!insert)
		return 0;
	if (t->n == t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 1024;
		struct xf_val *nv = realloc(t->v, nc * sizeof(*nv));

		if (!nv)
			return 0;
		t->v = nv;
		t->cap = nc;
		if (t->n == 0)
			t->n = 1; /* id 0 is TOP */
	}
	t->v[t->n] = (struct xf_val){(uint8_t)k, (uint8_t)size, a, c};
	t->h[j] = t->n;
	return t->n++;
}

static void vt_free(struct xf_vtab *t)
{
	free(t->v);
	free(t->h);
	memset(t, 0, sizeof(*t));
}

const struct xf_val *xf_val(const struct xf_vtab *t, uint32_t id)
{
	static const struct xf_val top = {XF_V_TOP, 0, 0, 0};

	return id && id < t->n ? &t->v[id] : &top;
}

static uint32_t v_const(struct xf_vtab *t, int64_t c)
{
	return vt_get(t, XF_V_CONST, 8, 0, c, 1);
}

static uint32_t v_opq(struct xf_vtab *t, uint64_t addr, int reg)
{
	return vt_get(t, XF_V_OPQ, 8, reg, (int64_t)addr, 1);
}

static uint32_t v_add(struct xf_vtab *t, uint32_t b, int64_t d)
{
	const struct xf_val *v = xf_val(t, b);

	if (!b)
		return 0;
	if (!d)
		return b;
	if (v->k == XF_V_CONST)
		return v_const(t, v->c + d);
	if (v->k == XF_V_ADD)
		return v->c + d ? vt_get(t, XF_V_ADD, 8, v->a, v->c + d, 1) : (uint32_t)v->a;
	return vt_get(t, XF_V_ADD, 8, (int32_t)b, d, 1);
}

/* Split b into (base, disp). */
uint32_t xf_split(const struct xf_vtab *t, uint32_t b, int64_t *d)
{
	const struct xf_val *v = xf_val(t, b);

	if (v->k == XF_V_ADD) {
		*d = v->c;
		return (uint32_t)v->a;
	}
	*d = 0;
	return b;
}

static uint32_t v_load(struct xf_vtab *t, uint32_t b, int64_t d, int size, int insert)
{
	int64_t d0;
	uint32_t base;

	if (!b)
		return 0;
	base = xf_split(t, b, &d0);
	return vt_get(t, XF_V_LOAD, size, (int32_t)base, d0 + d, insert);
}

/* Is id a LOAD of size from [base'+disp] with base' == base (base 0: any)? */
int xf_is_load(const struct xf_vtab *t, uint32_t id, uint32_t base, int size, int64_t *disp,
	       uint32_t *out_base)
{
	const struct xf_val *v = xf_val(t, id);

	if (v->k != XF_V_LOAD || (size && v->size != size) || (base && (uint32_t)v->a != base))
		return 0;
	if (disp)
		*disp = v->c;
	if (out_base)
		*out_base = (uint32_t)v->a;
	return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Abstract state and interpretation of one function */

void xf_fn_free(struct xf_fn *fn)
{
	free(fn->ins);
	free(fn->b);
	vt_free(&fn->vt);
	memset(fn, 0, sizeof(*fn));
}

int xf_insn_at(const struct xf_fn *fn, uint64_t addr)
{
	int lo = 0, hi = fn->nins;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (fn->ins[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fn->nins && fn->ins[lo].addr == addr ? lo : -1;
}

int xf_blk_of_insn(const struct xf_fn *fn, int idx)
{
	int lo = 0, hi = fn->nb;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (fn->b[mid].last < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fn->nb && fn->b[lo].first <= idx ? lo : -1;
}

/* Stack offset of an address value relative to the entry rsp. */
static int stack_off(const struct xf_fn *fn, uint32_t addr, int32_t *off)
{
	int64_t d;
	uint32_t base = xf_split(&fn->vt, addr, &d);

	if (!addr || base != fn->entry_rsp || d < -(1 << 20) || d > (1 << 20))
		return 0;
	*off = (int32_t)d;
	return 1;
}

static void slot_store(struct xf_state *s, int32_t off, int size, uint32_t v)
{
	int j = 0;

	for (int i = 0; i < s->ns; i++) {
		const struct xf_slot *x = &s->s[i];

		if (x->off < off + size && off < x->off + x->size)
			continue; /* overlapped: forget */
		s->s[j++] = *x;
	}
	s->ns = (uint8_t)j;
	if (!v || size <= 0)
		return;
	if (s->ns == XF_NSLOT) {
		memmove(&s->s[0], &s->s[1], (XF_NSLOT - 1) * sizeof(s->s[0]));
		s->ns--;
	}
	s->s[s->ns++] = (struct xf_slot){off, v, (uint8_t)size};
}

static uint32_t slot_load(const struct xf_state *s, int32_t off, int size)
{
	for (int i = 0; i < s->ns; i++)
		if (s->s[i].off == off && s->s[i].size == size)
			return s->s[i].v;
	return 0;
}

/* Address value of a memory operand, 0 when unknown (index, segment, non-GPR base). */
static uint32_t mem_addr(struct xf_fn *fn, const struct xf_state *s, const struct xf_insn *in,
			 const struct xf_op *o)
{
	if (o->seg || o->index != -1 || o->base == -2)
		return 0;
	if (o->base == XF_RIP)
		return v_const(&fn->vt, (int64_t)(in->addr + in->size) + o->v);
	if (o->base == -1)
		return v_const(&fn->vt, o->v);
	return v_add(&fn->vt, s->r[(int)o->base], o->v);
}

/* Value loaded by a memory operand (0 when unknown). */
static uint32_t mem_load(struct xf_fn *fn, const struct xf_state *s, const struct xf_insn *in,
			 const struct xf_op *o, int size)
{
	uint32_t a = mem_addr(fn, s, in, o);
	int32_t off;

	if (!a)
		return 0;
	if (stack_off(fn, a, &off))
		return slot_load(s, off, size);
	return v_load(&fn->vt, a, 0, size, 1);
}

static void mem_store(struct xf_fn *fn, struct xf_state *s, const struct xf_insn *in,
		      const struct xf_op *o, uint32_t v)
{
	uint32_t a = mem_addr(fn, s, in, o);
	int32_t off;

	if (a && stack_off(fn, a, &off))
		slot_store(s, off, o->size, v);
	else if (!a && o->base == XF_RSP)
		s->ns = 0; /* unknown stack write: forget the frame */
}

/* Value of an operand as a source, width w. */
uint32_t xf_src_val(struct xf_fn *fn, const struct xf_state *s, const struct xf_insn *in,
		    const struct xf_op *o, int w)
{
	if (o->type == X86_OP_IMM)
		return v_const(&fn->vt, w == 4 ? (int64_t)(uint32_t)o->v : o->v);
	if (o->type == X86_OP_MEM)
		return mem_load(fn, s, in, o, w);
	if (o->type == X86_OP_REG && o->reg >= 0 && o->reg < XF_NGPR) {
		uint32_t v = s->r[(int)o->reg];
		const struct xf_val *x = xf_val(&fn->vt, v);

		if (w == 8)
			return v;
		/* a 32-bit copy keeps values that already fit in 32 bits */
		if (w == 4 && ((x->k == XF_V_LOAD && x->size <= 4) ||
			       (x->k == XF_V_CONST && (uint64_t)x->c <= 0xffffffffu)))
			return v;
	}
	return 0;
}

static void set_reg(struct xf_fn *fn, struct xf_state *s, const struct xf_insn *in, int r,
		    uint32_t v)
{
	if (r < 0 || r >= XF_NGPR)
		return;
	s->r[r] = v ? v : v_opq(&fn->vt, in->addr, r);
}

/* Abstract effect of one instruction on s. */
static void transfer(struct xf_fn *fn, struct xf_state *s, const struct xf_insn *in)
{
	const struct xf_op *o0 = &in->op[0], *o1 = &in->op[1];
	uint32_t done = 0;
	int w = o0->size;

	switch (in->id) {
	case X86_INS_MOV:
	case X86_INS_MOVABS:
		if (in->nop != 2)
			break;
		if (o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < XF_NGPR) {
			set_reg(fn, s, in, o0->reg, w >= 4 ? xf_src_val(fn, s, in, o1, w) : 0);
			done = 1u << o0->reg;
		} else if (o0->type == X86_OP_MEM) {
			mem_store(fn, s, in, o0,
				  o1->type == X86_OP_MEM ? 0 : xf_src_val(fn, s, in, o1, w));
		}
		break;
	case X86_INS_MOVZX:
		if (in->nop == 2 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < XF_NGPR) {
			uint32_t v = o1->type == X86_OP_MEM ? mem_load(fn, s, in, o1, o1->size) : 0;

			set_reg(fn, s, in, o0->reg, w >= 4 ? v : 0);
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_LEA:
		if (in->nop == 2 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < XF_NGPR) {
			uint32_t v = w == 8 ? mem_addr(fn, s, in, o1) : 0;

			set_reg(fn, s, in, o0->reg, v);
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_ADD:
	case X86_INS_SUB:
		if (in->nop == 2 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < XF_NGPR) {
			uint32_t v = 0;

			if (o1->type == X86_OP_IMM && w == 8)
				v = v_add(&fn->vt, s->r[(int)o0->reg],
					  in->id == X86_INS_ADD ? o1->v : -o1->v);
			else if (in->id == X86_INS_SUB && o1->type == X86_OP_REG &&
				 o1->reg == o0->reg && w >= 4)
				v = v_const(&fn->vt, 0);
			set_reg(fn, s, in, o0->reg, v);
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_XOR:
		if (in->nop == 2 && o0->type == X86_OP_REG && o1->type == X86_OP_REG &&
		    o0->reg == o1->reg && o0->reg >= 0 && o0->reg < XF_NGPR && w >= 4) {
			set_reg(fn, s, in, o0->reg, v_const(&fn->vt, 0));
			done = 1u << o0->reg;
		}
		break;
	case X86_INS_PUSH: {
		uint32_t v = in->nop == 1 ? xf_src_val(fn, s, in, o0, 8) : 0;
		int32_t off;

		s->r[XF_RSP] = v_add(&fn->vt, s->r[XF_RSP], -8);
		if (s->r[XF_RSP] && stack_off(fn, s->r[XF_RSP], &off))
			slot_store(s, off, 8, v ? v : v_opq(&fn->vt, in->addr, XF_NGPR));
		if (!s->r[XF_RSP])
			s->r[XF_RSP] = v_opq(&fn->vt, in->addr, XF_RSP);
		done = 1u << XF_RSP;
		break;
	}
	case X86_INS_POP: {
		int32_t off;
		uint32_t v = 0;

		if (stack_off(fn, s->r[XF_RSP], &off))
			v = slot_load(s, off, 8);
		s->r[XF_RSP] = v_add(&fn->vt, s->r[XF_RSP], 8);
		if (!s->r[XF_RSP])
			s->r[XF_RSP] = v_opq(&fn->vt, in->addr, XF_RSP);
		done = 1u << XF_RSP;
		if (in->nop == 1 && o0->type == X86_OP_REG && o0->reg >= 0 && o0->reg < XF_NGPR) {
			set_reg(fn, s, in, o0->reg, o0->reg == XF_RSP ? 0 : v);
			done |= 1u << o0->reg;
		}
		break;
	}
	case X86_INS_CALL:
		/* the callee pops its return address: rsp is unchanged, caller-saved are lost */
		for (int r = 0; r < XF_NGPR; r++)
			if (XF_CALLER_SAVED & (1u << r))
				set_reg(fn, s, in, r, 0);
		done = XF_CALLER_SAVED | (1u << XF_RSP);
		break;
	default:
		break;
	}
	for (int r = 0; r < XF_NGPR; r++) {
		if (!(in->wmask & (1u << r)) || (done & (1u << r)))
			continue;
		set_reg(fn, s, in, r, 0);
		if (r == XF_RSP)
			s->ns = 0;
	}
}

static int st_join(struct xf_fn *fn, struct xf_state *dst, const struct xf_state *src,
		   uint64_t baddr)
{
	int changed = 0, j = 0;

	for (int r = 0; r < XF_NGPR; r++) {
		if (dst->r[r] == src->r[r])
			continue;
		uint32_t phi = vt_get(&fn->vt, XF_V_PHI, 8, r, (int64_t)baddr, 1);

		if (dst->r[r] != phi) {
			dst->r[r] = phi;
			changed = 1;
		}
	}
	for (int i = 0; i < dst->ns; i++) {
		const struct xf_slot *x = &dst->s[i];
		int keep = 0;

		for (int k = 0; k < src->ns; k++)
			if (src->s[k].off == x->off && src->s[k].size == x->size &&
			    src->s[k].v == x->v)
				keep = 1;
		if (keep)
			dst->s[j++] = *x;
		else
			changed = 1;
	}
	dst->ns = (uint8_t)j;
	return changed;
}

/* Disassemble [start, end), build the CFG, run the fixpoint. */
int xf_fn_analyze(struct xf_fn *fn, struct xf *x, uint64_t start, uint64_t end)
{
	const uint8_t *code;
	uint64_t addr = start;
	size_t left;
	cs_insn *ci;
	int cap = 0, *leader = NULL, *queue = NULL, qh = 0, qt = 0, steps = 0, rc = -1;

	memset(fn, 0, sizeof(*fn));
	fn->start = start;
	fn->end = end;
	if (end <= start || end - start > MAX_FN_SIZE) {
		setwhy(fn->why, sizeof(fn->why), "function bounds 0x%llx..0x%llx not plausible",
		       (unsigned long long)start, (unsigned long long)end);
		return -1;
	}
	code = x->code.bytes(x->code.ctx, start, end - start);
	if (!code) {
		setwhy(fn->why, sizeof(fn->why), "function 0x%llx not in an executable segment",
		       (unsigned long long)start);
		return -1;
	}
	left = end - start;
	ci = cs_malloc(x->h);
	if (!ci)
		return -1;
	while (left) {
		if (fn->nins == cap) {
			int nc = cap ? cap * 2 : 512;
			struct xf_insn *ni = realloc(fn->ins, nc * sizeof(*ni));

			if (!ni)
				goto out;
			fn->ins = ni;
			cap = nc;
		}
		if (!xf_decode(x, &code, &left, &addr, ci, &fn->ins[fn->nins])) {
			setwhy(fn->why, sizeof(fn->why), "undecodable instruction at 0x%llx",
			       (unsigned long long)addr);
			goto out;
		}
		fn->nins++;
	}
	if (!fn->nins)
		goto out;

	/* leaders */
	leader = calloc(fn->nins, sizeof(*leader));
	if (!leader)
		goto out;
	leader[0] = 1;
	for (int i = 0; i < fn->nins; i++) {
		const struct xf_insn *in = &fn->ins[i];

		if (in->flow == XF_JMP || in->flow == XF_JCC) {
			int t = xf_insn_at(fn, in->target);

			if (t >= 0)
				leader[t] = 1;
		}
		if (in->flow != XF_SEQ && in->flow != XF_CALL && in->flow != XF_ICALL &&
		    i + 1 < fn->nins)
			leader[i + 1] = 1;
	}
	for (int i = 0; i < fn->nins; i++)
		fn->nb += leader[i];
	fn->b = calloc(fn->nb, sizeof(*fn->b));
	queue = calloc(fn->nb, sizeof(*queue));
	if (!fn->b || !queue)
		goto out;
	for (int i = 0, k = -1; i < fn->nins; i++) {
		if (leader[i])
			fn->b[++k].first = i;
		fn->b[k].last = i;
	}
	for (int k = 0; k < fn->nb; k++) {
		struct xf_blk *b = &fn->b[k];
		const struct xf_insn *in = &fn->ins[b->last];
		int t;

		if ((in->flow == XF_JMP || in->flow == XF_JCC) &&
		    (t = xf_insn_at(fn, in->target)) >= 0)
			b->succ[b->nsucc++] = xf_blk_of_insn(fn, t);
		if (in->flow != XF_JMP && in->flow != XF_RET && in->flow != XF_IJMP &&
		    in->flow != XF_STOP && k + 1 < fn->nb)
			b->succ[b->nsucc++] = k + 1;
		b->ijmp = in->flow == XF_IJMP;
	}

	/* fixpoint from the entry; blocks without a direct predecessor (switch-table targets)
	 * are successors of every indirect jump */
	for (int k = 1; k < fn->nb; k++)
		fn->b[k].orphan = 1;
	for (int k = 0; k < fn->nb; k++)
		for (int j = 0; j < fn->b[k].nsucc; j++)
			fn->b[fn->b[k].succ[j]].orphan = 0;
	for (int r = 0; r < XF_NGPR; r++)
		fn->b[0].in.r[r] = vt_get(&fn->vt, XF_V_ENTRY, 8, r, 0, 1);
	fn->entry_rsp = fn->b[0].in.r[XF_RSP];
	fn->b[0].visited = fn->b[0].inq = 1;
	queue[qt++ % fn->nb] = 0;
	while (qh != qt) {
		int k = queue[qh++ % fn->nb], ns;
		struct xf_blk *b = &fn->b[k];
		struct xf_state s = b->in;

		b->inq = 0;
		if (++steps > fn->nb * 64 + 4096) {
			setwhy(fn->why, sizeof(fn->why), "no fixpoint in 0x%llx",
			       (unsigned long long)start);
			goto out;
		}
		for (int i = b->first; i <= b->last; i++)
			transfer(fn, &s, &fn->ins[i]);
		ns = b->ijmp ? fn->nb : b->nsucc;
		for (int j = 0; j < ns; j++) {
			int tk = b->ijmp ? j : b->succ[j], ch;
			struct xf_blk *t = &fn->b[tk];

			if (b->ijmp && !t->orphan)
				continue;
			if (!t->visited) {
				t->in = s;
				t->visited = ch = 1;
			} else {
				ch = st_join(fn, &t->in, &s, fn->ins[t->first].addr);
			}
			if (ch && !t->inq) {
				t->inq = 1;
				queue[qt++ % fn->nb] = tk;
			}
		}
	}
	rc = 0;
out:
	cs_free(ci, 1);
	free(leader);
	free(queue);
	return rc;
}

/* Calls cb(fn, idx, state before insn idx, ctx) for every instruction in a reached block. */
int xf_fn_walk(struct xf_fn *fn, xf_walk_cb cb, void *ctx)
{
	for (int k = 0; k < fn->nb; k++) {
		const struct xf_blk *b = &fn->b[k];
		struct xf_state s;

		if (!b->visited)
			continue;
		s = b->in;
		for (int i = b->first; i <= b->last; i++) {
			int rc = cb(fn, i, &s, ctx);

			if (rc)
				return rc;
			transfer(fn, &s, &fn->ins[i]);
		}
	}
	return 0;
}

/* State before instruction idx. */
int xf_state_at(struct xf_fn *fn, int idx, struct xf_state *out)
{
	int k = xf_blk_of_insn(fn, idx);

	if (k < 0 || !fn->b[k].visited)
		return -1;
	*out = fn->b[k].in;
	for (int i = fn->b[k].first; i < idx; i++)
		transfer(fn, out, &fn->ins[i]);
	return 0;
}

/* Target value of a call/jmp: the register or the loaded pointer. */
uint32_t xf_call_target(struct xf_fn *fn, const struct xf_state *s, const struct xf_insn *in)
{
	const struct xf_op *o = &in->op[0];

	if (in->nop != 1)
		return 0;
	if (o->type == X86_OP_REG && o->reg >= 0 && o->reg < XF_NGPR)
		return s->r[(int)o->reg];
	if (o->type == X86_OP_MEM)
		return mem_load(fn, s, in, o, 8);
	return 0;
}

int xf_is_const(const struct xf_fn *fn, uint32_t id, int64_t c)
{
	const struct xf_val *v = xf_val(&fn->vt, id);

	return v->k == XF_V_CONST && v->c == c;
}

uint32_t xf_find_load(struct xf_vtab *t, uint32_t b, int64_t d, int size)
{
	return v_load(t, b, d, size, 0);
}

uint32_t xf_entry(struct xf_fn *fn, int reg)
{
	return vt_get(&fn->vt, XF_V_ENTRY, 8, reg, 0, 0);
}

int xf_has_load(const struct xf_fn *fn, int size, int64_t disp)
{
	for (uint32_t i = 1; i < fn->vt.n; i++)
		if (fn->vt.v[i].k == XF_V_LOAD && fn->vt.v[i].size == size && fn->vt.v[i].c == disp)
			return 1;
	return 0;
}

/* From the UAPI header itself, not a table of numbers. */
#define PTI(f) ((int)(offsetof(struct pt_regs, f) / sizeof(unsigned long)))
static const int gpr_ptregs[XF_NGPR] = {PTI(rax), PTI(rcx), PTI(rdx), PTI(rbx), PTI(rsp), PTI(rbp),
					PTI(rsi), PTI(rdi), PTI(r8),  PTI(r9),	PTI(r10), PTI(r11),
					PTI(r12), PTI(r13), PTI(r14), PTI(r15)};

int xf_ptregs_index(int reg)
{
	return reg >= 0 && reg < XF_NGPR ? gpr_ptregs[reg] : -1;
}
