// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: x86 data flow (user/bin/x86flow.c on capstone) on one function's bytes. The
 * first byte picks where the function ends (the rest may hold a jump table's targets or data);
 * the code sits at an address like a library's .text. Seeds: slices of the host libssl's .text
 * (tests/t_fuzz.sh).
 */
#include <stdint.h>
#include <string.h>
#include "x86flow.h"

#define BASE 0x401000ULL

static const uint8_t *code;
static size_t code_len;

static const uint8_t *bytes(void *ctx, uint64_t va, uint64_t len)
{
	if (va < BASE || len > code_len || va - BASE > code_len - len)
		return NULL;
	return code + (va - BASE);
}

static int walk_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *ctx)
{
	const struct xf_insn *in = &fn->ins[idx];
	int i;

	if (in->flow == XF_CALL || in->flow == XF_ICALL || in->flow == XF_IJMP)
		xf_val(&fn->vt, xf_call_target(fn, s, in));
	for (i = 0; i < in->nop && i < 3; i++) {
		int64_t d;
		uint32_t v = xf_src_val(fn, s, in, &in->op[i], 8);

		xf_split(&fn->vt, v, &d);
		xf_is_load(&fn->vt, v, 0, 0, &d, NULL);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xf_code src = {bytes, NULL};
	static struct xf x;
	static int opened;
	struct xf_fn fn;
	uint64_t end;
	int i;

	if (size < 2)
		return 0;
	code = data + 1;
	code_len = size - 1;
	end = BASE + (data[0] ? code_len * data[0] / 255 : code_len);
	if (!opened && xf_open(&x, &src))
		return 0;
	opened = 1; /* one capstone handle for the run */
	memset(&fn, 0, sizeof(fn));
	if (xf_fn_analyze(&fn, &x, BASE, end) == 0) {
		xf_fn_walk(&fn, walk_cb, NULL);
		for (i = 0; i < fn.nins; i += 7) {
			struct xf_state st;

			xf_state_at(&fn, i, &st);
			xf_blk_of_insn(&fn, i);
			xf_insn_at(&fn, fn.ins[i].addr);
		}
		for (i = 0; i < XF_NGPR; i++)
			xf_entry(&fn, i);
		xf_has_load(&fn, 8, 0x10);
	}
	xf_fn_free(&fn);
	return 0;
}
