// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finding OpenSSL's functions: by name when the file has symbols, otherwise from the SSL_METHOD
 * tables behind TLS_method()/DTLS_method() (ssl/methods.c), the slot layout confirmed from the
 * code of ssl3_shutdown, which calls through the table at the read_bytes and dispatch_alert slots.
 * Also the one-load getters (SSL_version, SSL_get_ssl_method, SSL_get_shutdown) that give field
 * offsets.
 */
#include "ossl_local.h"

#include <string.h>

const struct mlayout ossl_layouts[2] = {
    {111, 0x50, 0x68, 0x78}, /* 1.1.1, 3.0, 3.1 */
    {320, 0x68, 0x80, 0x90}, /* 3.2 and later */
};

/* Indirect calls/jumps through a loaded method pointer: target LOAD(LOAD(B, m, 8), k, 8). */
struct mcall_ctx {
	int n;
	int64_t m[16], k[16];
};

static int mcall_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct mcall_ctx *c = vctx;
	const struct xf_insn *in = &fn->ins[idx];
	uint32_t t, mb;
	int64_t k, m;

	if (in->flow != XF_ICALL && in->flow != XF_IJMP)
		return 0;
	t = xf_call_target(fn, s, in);
	if (!xf_is_load(&fn->vt, t, 0, 8, &k, &mb) || !xf_is_load(&fn->vt, mb, 0, 8, &m, NULL))
		return 0;
	if (c->n < 16) {
		c->m[c->n] = m;
		c->k[c->n] = k;
		c->n++;
	}
	return 0;
}

/* Values in rax at each ret: LOAD(entry rdi, d, size). */
struct ret_ctx {
	int size;
	int n, conflict;
	int64_t d;
};

static int ret_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct ret_ctx *c = vctx;
	const struct xf_insn *in = &fn->ins[idx];
	uint32_t rdi0 = xf_entry(fn, XF_RDI);
	int64_t d;

	if (in->flow != XF_RET)
		return 0;
	if (!xf_is_load(&fn->vt, s->r[XF_RAX], rdi0, c->size, &d, NULL))
		return 0;
	if (c->n && d != c->d)
		c->conflict = 1;
	c->d = d;
	c->n++;
	return 0;
}

/* Function bounds for a start address: FDE first, else the symbol size. */
static int fn_bounds(const struct ofile *f, uint64_t start, uint64_t symsize, uint64_t *end,
		     char *why, size_t n)
{
	const struct bin_fde *d = bin_fde_at(&f->fdes, start);

	if (d) {
		*end = d->end;
		return 0;
	}
	if (symsize) {
		*end = start + symsize;
		return 0;
	}
	ossl_setwhy(why, n, "0x%llx is not the start of an .eh_frame FDE (not a function)",
		    (unsigned long long)start);
	return -1;
}

int ossl_run_fn(struct ctx *c, struct xf_fn *fn, uint64_t start, uint64_t symsize, char *why,
		size_t n)
{
	uint64_t end;

	if (fn_bounds(c->f, start, symsize, &end, why, n))
		return -1;
	if (xf_fn_analyze(fn, &c->x, start, end)) {
		ossl_setwhy(why, n, "%s", fn->why[0] ? fn->why : "disassembly failed");
		xf_fn_free(fn);
		return -1;
	}
	return 0;
}

/* lea rax,[rip+X]; ret (after endbr64) -> X. mov eax,imm32; ret in non-PIC code. */
static int getter_table(struct ctx *c, uint64_t va, uint64_t *table)
{
	const uint8_t *code = bin_elf_va_ptr(&c->f->e, va, 1, 1);
	uint64_t off, addr = va;
	size_t left;
	cs_insn *ci;
	int n = 0, rc = -1;
	uint64_t t = 0;
	struct xf_insn in;

	if (!code || bin_elf_va2off(&c->f->e, va, 1, &off, 1))
		return -1;
	left = c->f->e.size - off < 32 ? c->f->e.size - off : 32;
	ci = cs_malloc(c->x.h);
	if (!ci)
		return -1;
	while (n < 4 && xf_decode(&c->x, &code, &left, &addr, ci, &in)) {
		const struct xf_op *o = in.op;

		n++;
		if (in.id == X86_INS_ENDBR64 && !t)
			continue;
		if (!t && in.id == X86_INS_LEA && in.nop == 2 && o[0].type == X86_OP_REG &&
		    o[0].reg == XF_RAX && o[0].size == 8 && o[1].base == XF_RIP &&
		    o[1].index == -1) {
			t = in.addr + in.size + o[1].v;
			continue;
		}
		if (!t && in.id == X86_INS_MOV && in.nop == 2 && o[0].type == X86_OP_REG &&
		    o[0].reg == XF_RAX && (o[0].size == 8 || o[0].size == 4) &&
		    o[1].type == X86_OP_IMM) {
			t = (uint64_t)o[1].v;
			continue;
		}
		if (t && in.id == X86_INS_RET) {
			*table = t;
			rc = 0;
		}
		break;
	}
	cs_free(ci, 1);
	return rc;
}

/* Does ssl3_shutdown call through the method table at the layout's two slots? -> off_method */
static int confirm_layout(struct ctx *c, uint64_t shut, const struct mlayout *L, int64_t *m_out,
			  char *why, size_t n)
{
	struct xf_fn fn;
	struct mcall_ctx mc = {0};
	int rb = 0, da = 0;
	int64_t m = -1;

	if (ossl_run_fn(c, &fn, shut, 0, why, n))
		return -1;
	xf_fn_walk(&fn, mcall_cb, &mc);
	/* ssl3_shutdown reads s->shutdown: confirms SSL_get_shutdown's offset */
	if (c->shutdown_off >= 0 && xf_has_load(&fn, 4, c->shutdown_off))
		c->shutdown_seen = 1;
	for (int i = 0; i < mc.n; i++) {
		if (mc.k[i] == L->read_bytes) {
			rb = 1;
			m = mc.m[i];
		}
		if (mc.k[i] == L->dispatch)
			da = 1;
	}
	for (int i = 0; i < mc.n; i++)
		if ((mc.k[i] == L->read_bytes || mc.k[i] == L->dispatch) && mc.m[i] != m)
			rb = 0; /* the two calls must go through the same SSL field */
	xf_fn_free(&fn);
	if (!rb || !da) {
		ossl_setwhy(why, n,
			    "ssl3_shutdown candidate 0x%llx does not call method+0x%x and +0x%x",
			    (unsigned long long)shut, L->read_bytes, L->dispatch);
		return -1;
	}
	*m_out = m;
	return 0;
}
/* A one-load getter at va: rax at every ret is a load of size bytes from the argument at one
 * offset, which is returned; -1 when not. */
int64_t ossl_getter_at(struct ctx *c, uint64_t va, uint64_t symsize, int size)
{
	struct xf_fn fn;
	struct ret_ctx rc = {.size = size};
	char why[160];

	if (ossl_run_fn(c, &fn, va, symsize, why, sizeof(why)))
		return -1;
	xf_fn_walk(&fn, ret_cb, &rc);
	xf_fn_free(&fn);
	return rc.n && !rc.conflict ? rc.d : -1;
}

/* off_version from SSL_version, off_method from SSL_get_ssl_method, off_shutdown from
 * SSL_get_shutdown. */
int64_t ossl_getter_field(struct ctx *c, int sym, int size)
{
	if (!c->f->sym[sym])
		return -1;
	return ossl_getter_at(c, c->f->sym[sym]->value, osym_size(c->f, sym), size);
}

void ossl_locate_functions(struct ctx *c)
{
	struct ofile *f = c->f;
	struct oh_result *r = c->r;
	static const int need[] = {S_ssl3_dispatch_alert, S_dtls1_dispatch_alert, S_ssl3_read_bytes,
				   S_dtls1_read_bytes};
	int all = 1;
	char why[160] = "";

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		all &= f->sym[need[i]] != NULL;
	if (f->sym[S_TLS_method] &&
	    getter_table(c, f->sym[S_TLS_method]->value, &c->tls_table) == 0)
		r->tls_method = c->tls_table;
	if (f->sym[S_DTLS_method] &&
	    getter_table(c, f->sym[S_DTLS_method]->value, &c->dtls_table) == 0)
		r->dtls_method = c->dtls_table;

	/* layout: try the hinted one first, accept the first the code confirms */
	{
		int first =
		    f->new_verdef || (r->version[0] && strncmp(r->version, "OpenSSL 1.", 10) &&
				      strncmp(r->version, "OpenSSL 3.0.", 12) &&
				      strncmp(r->version, "OpenSSL 3.1.", 12));

		if (f->new_verdef || r->version[0])
			r->layout_hint = ossl_layouts[first].id;

		for (int t = 0; t < 2 && !r->layout; t++) {
			const struct mlayout *L = &ossl_layouts[t ? !first : first];
			uint64_t shut = 0;
			int64_t m;

			if (f->sym[S_ssl3_shutdown])
				shut = f->sym[S_ssl3_shutdown]->value;
			else if (!c->tls_table ||
				 bin_elf_read_ptr(&f->e, c->tls_table + L->shutdown, &shut))
				continue;
			if (confirm_layout(c, shut, L, &m, why, sizeof(why)))
				continue;
			r->layout = L->id;
			r->ssl.off_method = (int)m;
			c->fn_shut = shut;
			r->shutdown_fn = shut;
		}
		if (!r->layout)
			snprintf(c->layout_why, sizeof(c->layout_why),
				 "SSL_METHOD layout not confirmed: %.120s",
				 why[0] ? why : "no TLS_method table and no ssl3_shutdown symbol");
	}

	if (all) {
		r->from_symbols = 1;
		c->fn_tls_da = f->sym[S_ssl3_dispatch_alert]->value;
		c->fn_dtls_da = f->sym[S_dtls1_dispatch_alert]->value;
		c->fn_tls_rb = f->sym[S_ssl3_read_bytes]->value;
		c->fn_dtls_rb = f->sym[S_dtls1_read_bytes]->value;
		return;
	}
	if (!r->layout)
		return;
	{
		const struct mlayout *L = r->layout == 320 ? &ossl_layouts[1] : &ossl_layouts[0];
		uint32_t v;

		if (c->tls_table && !bin_elf_read_u32(&f->e, c->tls_table, &v) &&
		    v == TLS_ANY_VERSION) {
			bin_elf_read_ptr(&f->e, c->tls_table + L->read_bytes, &c->fn_tls_rb);
			bin_elf_read_ptr(&f->e, c->tls_table + L->dispatch, &c->fn_tls_da);
		}
		if (c->dtls_table && !bin_elf_read_u32(&f->e, c->dtls_table, &v) &&
		    v == DTLS_ANY_VERSION) {
			bin_elf_read_ptr(&f->e, c->dtls_table + L->read_bytes, &c->fn_dtls_rb);
			bin_elf_read_ptr(&f->e, c->dtls_table + L->dispatch, &c->fn_dtls_da);
		}
	}
}
