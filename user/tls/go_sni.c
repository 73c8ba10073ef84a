// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Go provider's server name (issue 9): the offset of crypto/tls.Conn.serverName, read off
 * the machine code of (*Conn).connectionStateLocked (crypto/tls/conn.go), which copies it into
 * ConnectionState.ServerName. Conn.serverName is, on a server, the name of the ClientHello's
 * server_name extension (handshake_server.go, handshake_server_tls13.go) and, on a client, the
 * name its ClientHello carries, set from hostnameInSNI(config.ServerName) before the first
 * flight, "" for an IP address (handshake_client.go; with ECH the outer name until the server
 * accepts it, then config.ServerName): the same field for both ends, Go 1.17 to 1.27.
 *
 * connectionStateLocked fills a ConnectionState, field by field, from the receiver: by data
 * flow, `state.Version = c.vers` is the 16-bit store of a 16-bit load from [C + off_vers] (C the
 * *Conn, whatever register holds it after the duffzero calls), and its destination is the
 * struct's start S; `state.ServerName = c.serverName` is then the two 8-byte stores at S+32 and
 * S+40 of the loads from [C + X] and [C + X + 8], with X the field's offset. 32 is
 * ConnectionState.ServerName in the exported struct (crypto/tls/common.go: Version uint16,
 * HandshakeComplete, DidResume bool, CipherSuite uint16, CurveID uint16 from Go 1.25 in the
 * padding, NegotiatedProtocol string at 8, NegotiatedProtocolIsMutual bool at 24, ServerName
 * string at 32), the same in Go 1.19 and 1.24 to 1.27 (exported fields are appended, never
 * moved).
 */
#include <stdio.h>
#include <string.h>
#include "go_hooks.h"
#include "x86flow.h"

#define CS_SERVER_NAME 32 /* ConnectionState.ServerName (string: pointer, length) */
#define MAX_STATE_FN (64u << 10)

struct sni_ctx {
	int off_vers;
	uint32_t conn;	/* the base of the c.vers load: the *Conn */
	uint32_t sbase; /* the state's start: base value + displacement */
	int64_t sdisp;
	int nstate, mixed; /* stores of c.vers seen; to more than one place */
	int64_t ptr, len;  /* X of the pointer and the length word; -1 not seen */
	int nptr, nlen;
};

/* The destination of a store as base value + displacement; 0 when not computable. */
static uint32_t store_dest(struct xf_fn *fn, const struct xf_state *s, const struct xf_op *o,
			   int64_t *d)
{
	uint32_t b;

	if (o->type != X86_OP_MEM || o->index != -1 || o->seg || o->base < 0 ||
	    o->base >= XF_NGPR || !(b = s->r[(int)o->base]))
		return 0;
	b = xf_split(&fn->vt, b, d);
	*d += o->v;
	return b;
}

/* `mov [S], R16` where R holds a 16-bit load of [C + off_vers]: state.Version = c.vers. */
static void vers_store(struct xf_fn *fn, const struct xf_insn *in, const struct xf_state *s,
		       struct sni_ctx *c)
{
	const struct xf_op *src = &in->op[1];
	uint32_t base, conn;
	int64_t d, disp;

	if (in->op[0].size != 2 || src->type != X86_OP_REG || src->reg < 0 || src->reg >= XF_NGPR ||
	    !xf_is_load(&fn->vt, s->r[(int)src->reg], 0, 2, &disp, &conn) || disp != c->off_vers ||
	    !(base = store_dest(fn, s, &in->op[0], &d)))
		return;
	if (c->nstate++ == 0) {
		c->conn = conn;
		c->sbase = base;
		c->sdisp = d;
	} else if (c->conn != conn || c->sbase != base || c->sdisp != d) {
		c->mixed = 1;
	}
}

static int state_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	const struct xf_insn *in = &fn->ins[idx];

	if (in->id == X86_INS_MOV && in->nop == 2 && in->op[0].type == X86_OP_MEM)
		vers_store(fn, in, s, vctx);
	return 0;
}

/* `mov [S + 32 | 40], R64` where R holds an 8-byte load of [C + X]. */
static int name_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct sni_ctx *c = vctx;
	const struct xf_insn *in = &fn->ins[idx];
	const struct xf_op *src = &in->op[1];
	uint32_t base, conn;
	int64_t d, disp;

	if (in->id != X86_INS_MOV || in->nop != 2 || in->op[0].type != X86_OP_MEM ||
	    in->op[0].size != 8 || !(base = store_dest(fn, s, &in->op[0], &d)) ||
	    base != c->sbase ||
	    (d != c->sdisp + CS_SERVER_NAME && d != c->sdisp + CS_SERVER_NAME + 8))
		return 0;
	disp = -1;
	if (src->type != X86_OP_REG || src->reg < 0 || src->reg >= XF_NGPR ||
	    !xf_is_load(&fn->vt, s->r[(int)src->reg], c->conn, 8, &disp, &conn))
		disp = -2; /* stored from something else: counted, and refused below */
	if (d == c->sdisp + CS_SERVER_NAME) {
		c->ptr = c->nptr++ ? -2 : disp;
	} else {
		c->len = c->nlen++ ? -2 : disp;
	}
	return 0;
}

int go_sni_offset(struct xf *x, uint64_t entry, uint64_t end, int off_vers, char *why, size_t whysz)
{
	struct sni_ctx c = {.off_vers = off_vers, .ptr = -1, .len = -1};
	struct xf_fn fn = {0};
	int rc = -1;

	if (off_vers < 0) {
		snprintf(why, whysz,
			 "Conn.vers unknown: the copy of Conn.serverName in %s is not "
			 "told from the other fields",
			 GO_CONN_STATE);
		return -1;
	}
	if (end <= entry || end - entry > MAX_STATE_FN || xf_fn_analyze(&fn, x, entry, end) < 0) {
		snprintf(why, whysz, "%s at 0x%llx: %.100s", GO_CONN_STATE,
			 (unsigned long long)entry, fn.why[0] ? fn.why : "implausible bounds");
		goto out;
	}
	xf_fn_walk(&fn, state_cb, &c);
	if (c.nstate != 1 || c.mixed) {
		snprintf(why, whysz,
			 "%s at 0x%llx: %d stores of Conn.vers (+%d)%s where one "
			 "(state.Version) was expected",
			 GO_CONN_STATE, (unsigned long long)entry, c.nstate, off_vers,
			 c.mixed ? " to different places" : "");
		goto out;
	}
	xf_fn_walk(&fn, name_cb, &c);
	if (c.nptr != 1 || c.nlen != 1 || c.ptr < 0 || c.len != c.ptr + 8 || (c.ptr & 7) ||
	    c.ptr > 0xffff) {
		snprintf(why, whysz,
			 "%s at 0x%llx: state.ServerName is not a copy of one string "
			 "field of the Conn (%d/%d stores, from +%lld/+%lld)",
			 GO_CONN_STATE, (unsigned long long)entry, c.nptr, c.nlen, (long long)c.ptr,
			 (long long)c.len);
		goto out;
	}
	rc = (int)c.ptr;
out:
	xf_fn_free(&fn);
	return rc;
}
