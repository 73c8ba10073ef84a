/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * x86-64 data flow on capstone (decoding: x86dec.c), one function at a time. Knows nothing of
 * file formats: the caller hands it code bytes through struct xf_code and the function's bounds
 * (from .eh_frame, symbols, or whatever its format gives).
 *
 * Values are hash-consed symbolic expressions, so equal ids are equal expressions: the entry
 * value of a register, a constant, base + displacement, a load of 1..8 bytes from base + disp, the
 * opaque result of one instruction, a merge at a block. xf_fn_analyze disassembles the function,
 * builds its CFG and runs the abstract interpretation to a fixpoint; the queries then read the
 * state before any instruction. Stack slots relative to the entry rsp are tracked too, so spills
 * and reloads keep their values. Everything not understood becomes opaque, never wrong.
 */
#ifndef AT_BIN_X86FLOW_H
#define AT_BIN_X86FLOW_H

#include <capstone/capstone.h>
#include <stdint.h>

/* Canonical general-purpose registers, in x86 encoding order; XF_RIP for rip-relative bases. */
enum {
	XF_RAX,
	XF_RCX,
	XF_RDX,
	XF_RBX,
	XF_RSP,
	XF_RBP,
	XF_RSI,
	XF_RDI,
	XF_R8,
	XF_R9,
	XF_R10,
	XF_R11,
	XF_R12,
	XF_R13,
	XF_R14,
	XF_R15,
	XF_NGPR
};
#define XF_RIP 16
/* The System V x86-64 ABI's caller-saved registers: lost across a call. */
#define XF_CALLER_SAVED                                                                            \
	((1u << XF_RAX) | (1u << XF_RCX) | (1u << XF_RDX) | (1u << XF_RSI) | (1u << XF_RDI) |      \
	 (1u << XF_R8) | (1u << XF_R9) | (1u << XF_R10) | (1u << XF_R11))
extern const char *const xf_gpr_name[XF_NGPR]; /* "rax", ... */
/* Index of GPR reg in the kernel's struct pt_regs, in 8-byte words: what a uprobe reads. */
int xf_ptregs_index(int reg);

/* Control flow class of an instruction. */
enum {
	XF_SEQ,	 /* falls through */
	XF_JMP,	 /* direct jump to target */
	XF_JCC,	 /* conditional jump to target, or falls through */
	XF_CALL, /* direct call to target */
	XF_RET,
	XF_IJMP,  /* indirect jump (jump table, tail call through a pointer) */
	XF_ICALL, /* indirect call */
	XF_STOP,  /* ud2, hlt, int3: does not continue */
};

/* One operand, registers in canonical numbering. */
struct xf_op {
	uint8_t type;	    /* X86_OP_REG, X86_OP_IMM, X86_OP_MEM */
	uint8_t size;	    /* bytes */
	int8_t reg;	    /* REG: canonical GPR, XF_RIP, or -1 for any other register */
	int8_t base, index; /* MEM: canonical GPR, XF_RIP, -1 none, -2 not a GPR */
	uint8_t seg;	    /* MEM: 1 when a segment override (fs:, gs:) */
	int64_t v;	    /* IMM value, MEM displacement */
};

/* One decoded instruction. */
struct xf_insn {
	uint64_t addr;
	uint64_t target;	 /* XF_JMP/XF_JCC/XF_CALL: destination */
	uint32_t wmask;		 /* GPRs written (any width), 1 << XF_* */
	uint16_t id;		 /* X86_INS_* */
	uint8_t size, nop, flow; /* length, operand count (at most 3), XF_SEQ... */
	struct xf_op op[3];
};

/* Kinds of symbolic value. */
enum { XF_V_TOP, XF_V_ENTRY, XF_V_CONST, XF_V_ADD, XF_V_LOAD, XF_V_OPQ, XF_V_PHI };

struct xf_val {
	uint8_t k, size; /* XF_V_*, LOAD: width in bytes */
	int32_t a;	 /* ENTRY/OPQ/PHI: register; ADD/LOAD: base value id */
	int64_t c;	 /* CONST value, ADD/LOAD displacement, OPQ/PHI instruction address */
};

/* The function's value table: id 0 is TOP (unknown), ids 1..n-1 index v. */
struct xf_vtab {
	struct xf_val *v;
	uint32_t n, cap;
	uint32_t *h;
	uint32_t hcap;
};

#define XF_NSLOT 48

/* A stack slot at off from the entry rsp. */
struct xf_slot {
	int32_t off;
	uint32_t v;
	uint8_t size;
};

/* Abstract state: a value id per register, and the known stack slots. */
struct xf_state {
	uint32_t r[XF_NGPR];
	uint8_t ns;
	struct xf_slot s[XF_NSLOT];
};

/* A basic block of the function's CFG. */
struct xf_blk {
	int first, last; /* instruction indexes */
	int succ[2], nsucc;
	int ijmp;	    /* ends in an indirect jump */
	int orphan;	    /* no direct predecessor: reached through a jump table, if at all */
	int visited, inq;   /* visited: reached from the entry */
	struct xf_state in; /* state at the block's entry, at the fixpoint */
};

/* One analysed function. */
struct xf_fn {
	uint64_t start, end;
	struct xf_insn *ins; /* in address order */
	int nins;
	struct xf_blk *b; /* in address order */
	int nb;
	struct xf_vtab vt;
	uint32_t entry_rsp; /* value id of rsp at the entry */
	char why[160];	    /* why xf_fn_analyze failed */
};

/* Where code comes from: bytes(ctx, va, len) returns len bytes of executable code at va, or
 * NULL when that range is not code. */
struct xf_code {
	const uint8_t *(*bytes)(void *ctx, uint64_t va, uint64_t len);
	void *ctx;
};

/* A decoder: capstone's handle with detail on, and the code source. */
struct xf {
	csh h;
	struct xf_code code;
};

/* 0 on success; -1 when capstone cannot open an x86-64 decoder. */
int xf_open(struct xf *x, const struct xf_code *code);
void xf_close(struct xf *x);

/* Decode one instruction at *code (*left bytes, at address *addr) into in and advance; 0 at the
 * end or on an undecodable instruction. ci is scratch from cs_malloc(x->h). */
int xf_decode(struct xf *x, const uint8_t **code, size_t *left, uint64_t *addr, cs_insn *ci,
	      struct xf_insn *in);

/* Disassemble [start, end), build the CFG, run the fixpoint. -1 with fn->why when the bounds are
 * implausible, the code is not there, an instruction does not decode or there is no fixpoint.
 * xf_fn_free must be called either way. */
int xf_fn_analyze(struct xf_fn *fn, struct xf *x, uint64_t start, uint64_t end);
void xf_fn_free(struct xf_fn *fn);

/* Calls cb(fn, idx, state before instruction idx, ctx) for every instruction of a reached block,
 * in address order; stops at and returns the first non-zero cb result. */
typedef int (*xf_walk_cb)(struct xf_fn *fn, int idx, const struct xf_state *s, void *ctx);
int xf_fn_walk(struct xf_fn *fn, xf_walk_cb cb, void *ctx);
/* State before instruction idx; -1 when its block is not reached from the entry. */
int xf_state_at(struct xf_fn *fn, int idx, struct xf_state *out);
/* Index of the instruction at addr, -1 when none starts there. */
int xf_insn_at(const struct xf_fn *fn, uint64_t addr);
/* Index of the block holding instruction idx, -1 when none. */
int xf_blk_of_insn(const struct xf_fn *fn, int idx);

/* Value of a call's/jump's target in state s: the register, or the pointer loaded. */
uint32_t xf_call_target(struct xf_fn *fn, const struct xf_state *s, const struct xf_insn *in);
/* Value of operand o of in read as a source of w bytes in state s (0: unknown). */
uint32_t xf_src_val(struct xf_fn *fn, const struct xf_state *s, const struct xf_insn *in,
		    const struct xf_op *o, int w);

/* The value of id (TOP for 0 or an unknown id). */
const struct xf_val *xf_val(const struct xf_vtab *t, uint32_t id);
/* Is id the constant c? */
int xf_is_const(const struct xf_fn *fn, uint32_t id, int64_t c);
/* Is id a load of size bytes (0: any) from [b + disp] with b == base (base 0: any)? Sets *disp and
 * *out_base when given. */
int xf_is_load(const struct xf_vtab *t, uint32_t id, uint32_t base, int size, int64_t *disp,
	       uint32_t *out_base);
/* Split id into base and displacement: base + *d == id. */
uint32_t xf_split(const struct xf_vtab *t, uint32_t id, int64_t *d);
/* The value id of a load of size bytes from [b + d] if the function computed it, else 0. */
uint32_t xf_find_load(struct xf_vtab *t, uint32_t b, int64_t d, int size);
/* The entry value of register reg (0 if never used). */
uint32_t xf_entry(struct xf_fn *fn, int reg);
/* Does the function load size bytes at displacement disp from any base anywhere? */
int xf_has_load(const struct xf_fn *fn, int size, int64_t disp);

#endif
