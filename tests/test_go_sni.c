// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/tls/go_sni.c on hand-assembled code shaped as Go's (*Conn).connectionStateLocked (Go
 * 1.19's, tests/t_go_sni.sh checks the real ones): a duffzero call, then state.Version = c.vers
 * (a 16-bit copy), state.NegotiatedProtocol and state.ServerName (two 8-byte copies each) from
 * the receiver. The offset found must be the one assembled; every shape that is not that copy
 * (Conn.vers elsewhere, a ServerName from another base, a length not next to its pointer, no
 * Conn.vers known) must give -1 with a reason, never a guess.
 */
#include "go_hooks.h"
#include "testlib.h"
#include "x86flow.h"

#define BASE 0x1000

static uint8_t code[128];
static size_t ncode;

static const uint8_t *code_at(void *ctx, uint64_t va, uint64_t len)
{
	return va >= BASE && va - BASE + len <= ncode ? code + (va - BASE) : NULL;
}

/* sub rsp,0xb8; call BASE; movzx ecx,word [rax+0x40]; mov [rsp],cx;
 * mov rcx,[rax+0x148]; mov rdx,[rax+0x150]; mov [rsp+8],rcx; mov [rsp+0x10],rdx;
 * mov rcx,[rax+0xc0]; mov rdx,[rax+0xc8]; mov [rsp+0x20],rcx; mov [rsp+0x28],rdx;
 * add rsp,0xb8; ret (as(1) -msyntax=intel) */
static const uint8_t state_fn[] = {
    0x48, 0x81, 0xec, 0xb8, 0x00, 0x00, 0x00, 0xe8, 0xf4, 0xff, 0xff, 0xff, 0x0f, 0xb7, 0x48, 0x40,
    0x66, 0x89, 0x0c, 0x24, 0x48, 0x8b, 0x88, 0x48, 0x01, 0x00, 0x00, 0x48, 0x8b, 0x90, 0x50, 0x01,
    0x00, 0x00, 0x48, 0x89, 0x4c, 0x24, 0x08, 0x48, 0x89, 0x54, 0x24, 0x10, 0x48, 0x8b, 0x88, 0xc0,
    0x00, 0x00, 0x00, 0x48, 0x8b, 0x90, 0xc8, 0x00, 0x00, 0x00, 0x48, 0x89, 0x4c, 0x24, 0x20, 0x48,
    0x89, 0x54, 0x24, 0x28, 0x48, 0x81, 0xc4, 0xb8, 0x00, 0x00, 0x00, 0xc3,
};
#define AT_LEN_LOAD 51 /* the 0x48 0x8b 0x90 of `mov rdx, [rax+0xc8]` */

/* Run go_sni_offset on state_fn with patch applied (byte at off := val, when off >= 0). */
static int run(struct xf *x, int off_vers, int off, uint8_t val, char *why, size_t n)
{
	memcpy(code, state_fn, sizeof(state_fn));
	ncode = sizeof(state_fn);
	if (off >= 0)
		code[off] = val;
	why[0] = 0;
	return go_sni_offset(x, BASE, BASE + ncode, off_vers, why, n);
}

static void refused(struct xf *x, const char *name, int off_vers, int off, uint8_t val,
		    const char *because)
{
	char why[200];
	int got = run(x, off_vers, off, val, why, sizeof(why));

	if (CHECK_EQ(name, -1, got) &&
	    (strstr(why, because) ||
	     (FAILF(name, "expected a reason with \"%s\", got \"%s\"", because, why), 0)))
		PASS(name);
}

int main(void)
{
	struct xf x;
	char why[200];

	if (xf_open(&x, &(struct xf_code){code_at, NULL})) {
		FAILF("go_sni_xf_open", "expected a capstone handle, got none");
		return 1;
	}
	if (CHECK_EQ("go_sni_offset_of_the_copy", 0xc0, run(&x, 0x40, -1, 0, why, sizeof(why))))
		PASS("go_sni_offset_of_the_copy");
	refused(&x, "go_sni_no_version_known", -1, -1, 0, "Conn.vers unknown");
	refused(&x, "go_sni_version_elsewhere", 0x48, -1, 0, "0 stores of Conn.vers");
	/* the length from [rbx+0xc8]: not the Conn's */
	refused(&x, "go_sni_length_from_another_base", 0x40, AT_LEN_LOAD + 2, 0x93,
		"not a copy of one string field");
	/* the length from [rax+0xd0]: not the word after the pointer */
	refused(&x, "go_sni_length_not_after_the_pointer", 0x40, AT_LEN_LOAD + 3, 0xd0,
		"not a copy of one string field");
	/* the function's end inside an instruction: refused by the analysis */
	memcpy(code, state_fn, sizeof(state_fn));
	ncode = sizeof(state_fn);
	if (CHECK_EQ("go_sni_bad_bounds", -1,
		     go_sni_offset(&x, BASE, BASE + 9, 0x40, why, sizeof(why))) &&
	    CHECK_EQ("go_sni_bad_bounds", 1, strstr(why, GO_CONN_STATE) != NULL))
		PASS("go_sni_bad_bounds");
	xf_close(&x);
	return tl_failed;
}
