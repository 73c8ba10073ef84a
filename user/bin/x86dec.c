// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* x86-64 decoding on capstone into struct xf_insn: canonical registers, flow class, writes. */
#include "x86flow.h"

#include <string.h>

const char *const xf_gpr_name[XF_NGPR] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					  "r8",	 "r9",	"r10", "r11", "r12", "r13", "r14", "r15"};

/* Capstone register -> canonical GPR (or XF_RIP), width in bytes; -1 when not a GPR. */
static int gpr_of(x86_reg r, int *width)
{
	static const struct {
		x86_reg r[5]; /* 64, 32, 16, 8-bit low, 8-bit high */
	} t[XF_NGPR] = {
	    [XF_RAX] = {{X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH}},
	    [XF_RCX] = {{X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH}},
	    [XF_RDX] = {{X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH}},
	    [XF_RBX] = {{X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH}},
	    [XF_RSP] = {{X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL}},
	    [XF_RBP] = {{X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL}},
	    [XF_RSI] = {{X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL}},
	    [XF_RDI] = {{X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL}},
	};
	static const int w_of[5] = {8, 4, 2, 1, 1};
	int w = 8, g = -1;

	if (r == X86_REG_RIP) {
		g = XF_RIP;
	} else if (r >= X86_REG_R8 && r <= X86_REG_R15) {
		g = XF_R8 + (r - X86_REG_R8);
	} else if (r >= X86_REG_R8D && r <= X86_REG_R15D) {
		g = XF_R8 + (r - X86_REG_R8D);
		w = 4;
	} else if (r >= X86_REG_R8W && r <= X86_REG_R15W) {
		g = XF_R8 + (r - X86_REG_R8W);
		w = 2;
	} else if (r >= X86_REG_R8B && r <= X86_REG_R15B) {
		g = XF_R8 + (r - X86_REG_R8B);
		w = 1;
	} else {
		for (int i = 0; i < XF_R8 && g < 0; i++)
			for (int k = 0; k < 5; k++)
				if (t[i].r[k] != X86_REG_INVALID && t[i].r[k] == r) {
					g = i;
					w = w_of[k];
					break;
				}
	}
	if (g >= 0 && width)
		*width = w;
	return g;
}
static void decode_one(csh h, const cs_insn *ci, struct xf_insn *in)
{
	const cs_x86 *x = &ci->detail->x86;
	cs_regs rr, rw;
	uint8_t nr = 0, nw = 0;

	memset(in, 0, sizeof(*in));
	in->addr = ci->address;
	in->size = (uint8_t)ci->size;
	in->id = (uint16_t)ci->id;
	in->nop = x->op_count > 3 ? 3 : x->op_count;
	for (int i = 0; i < in->nop; i++) {
		const cs_x86_op *o = &x->operands[i];
		struct xf_op *d = &in->op[i];

		d->type = (uint8_t)o->type;
		d->size = o->size;
		d->reg = d->base = d->index = -1;
		if (o->type == X86_OP_REG) {
			d->reg = (int8_t)gpr_of(o->reg, NULL);
			if (d->reg >= 0 && d->reg < XF_NGPR && (o->access & CS_AC_WRITE))
				in->wmask |= 1u << d->reg;
		} else if (o->type == X86_OP_IMM) {
			d->v = o->imm;
		} else if (o->type == X86_OP_MEM) {
			d->base =
			    o->mem.base == X86_REG_INVALID ? -1 : (int8_t)gpr_of(o->mem.base, NULL);
			if (o->mem.base != X86_REG_INVALID && d->base < 0)
				d->base = -2; /* not a GPR: unknown */
			d->index = o->mem.index == X86_REG_INVALID
				       ? -1
				       : (int8_t)gpr_of(o->mem.index, NULL);
			if (o->mem.index != X86_REG_INVALID && d->index < 0)
				d->index = -2;
			d->seg = o->mem.segment != X86_REG_INVALID;
			d->v = o->mem.disp;
		}
	}
	if (cs_regs_access(h, ci, rr, &nr, rw, &nw) == CS_ERR_OK) {
		for (int i = 0; i < nw; i++) {
			int g = gpr_of((x86_reg)rw[i], NULL);

			if (g >= 0 && g < XF_NGPR)
				in->wmask |= 1u << g;
		}
	}
	switch (ci->id) {
	case X86_INS_JMP:
		in->flow = in->nop == 1 && in->op[0].type == X86_OP_IMM ? XF_JMP : XF_IJMP;
		in->target = (uint64_t)in->op[0].v;
		break;
	case X86_INS_LJMP:
		in->flow = XF_IJMP;
		break;
	case X86_INS_CALL:
		in->flow = in->nop == 1 && in->op[0].type == X86_OP_IMM ? XF_CALL : XF_ICALL;
		in->target = (uint64_t)in->op[0].v;
		in->wmask |= XF_CALLER_SAVED;
		break;
	case X86_INS_RET:
	case X86_INS_RETF:
	case X86_INS_UD2:
	case X86_INS_HLT:
	case X86_INS_INT3:
		in->flow = ci->id == X86_INS_RET || ci->id == X86_INS_RETF ? XF_RET : XF_STOP;
		break;
	default:
		if (cs_insn_group(h, ci, CS_GRP_JUMP)) {
			in->flow = XF_JCC;
			in->target = in->nop >= 1 && in->op[0].type == X86_OP_IMM
					 ? (uint64_t)in->op[0].v
					 : 0;
		}
		break;
	}
}

int xf_open(struct xf *x, const struct xf_code *code)
{
	memset(x, 0, sizeof(*x));
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &x->h) != CS_ERR_OK)
		return -1;
	cs_option(x->h, CS_OPT_DETAIL, CS_OPT_ON);
	x->code = *code;
	return 0;
}

void xf_close(struct xf *x)
{
	if (x->h)
		cs_close(&x->h);
}

int xf_decode(struct xf *x, const uint8_t **code, size_t *left, uint64_t *addr, cs_insn *ci,
	      struct xf_insn *in)
{
	if (!cs_disasm_iter(x->h, code, left, addr, ci))
		return 0;
	decode_one(x->h, ci, in);
	return 1;
}
