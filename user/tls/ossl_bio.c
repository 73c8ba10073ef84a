// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The session's socket, for the addresses of a library event: SSL -> rbio (or wbio) -> a BIO of a
 * descriptor type (BIO_TYPE_DESCRIPTOR: socket, fd, connect, accept), whose num is the fd; a
 * filter BIO the application pushed in front is stepped over through next_bio. The offsets are
 * read off the exported one-line accessors: SSL_get_rbio and SSL_get_wbio in libssl
 * (ssl/ssl_lib.c: `return s->rbio`; SSL_get_wbio returns s->wbio when no buffering BIO is
 * pushed, else BIO_next(s->bbio)), BIO_get_init, BIO_get_shutdown, BIO_get_retry_reason, BIO_next
 * and BIO_method_type (`b->method->type`) in libcrypto (crypto/bio/bio_lib.c). BIO.num has no
 * accessor: crypto/bio/bio_local.h lays out `int init, shutdown, flags, retry_reason, num; void
 * *ptr; BIO *next_bio` from 1.1.1 to 3.5 (3.x puts libctx first), so num is retry_reason + 4 once
 * the accessors agree with that run of fields. Without a readable libcrypto, that layout is taken
 * for the libcrypto soname the library needs.
 */
#include "ossl_local.h"

#include <string.h>

/* Two loads at every ret: rax = LOAD4(LOAD8(rdi + d1) + d2), BIO_method_type. */
struct ret2_ctx {
	int n, conflict;
	int64_t d1, d2;
};

static int ret2_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct ret2_ctx *c = vctx;
	uint32_t mb;
	int64_t d1, d2;

	if (fn->ins[idx].flow != XF_RET)
		return 0;
	if (!xf_is_load(&fn->vt, s->r[XF_RAX], 0, 4, &d2, &mb) ||
	    !xf_is_load(&fn->vt, mb, xf_entry(fn, XF_RDI), 8, &d1, NULL))
		return 0;
	if (c->n && (d1 != c->d1 || d2 != c->d2))
		c->conflict = 1;
	c->d1 = d1;
	c->d2 = d2;
	c->n++;
	return 0;
}

static const struct bin_sym *fsym(struct ctx *c, const char *name)
{
	return bin_elf_sym(&c->f->e, name, STT_FUNC);
}

static int64_t getter(struct ctx *c, const char *name, int size)
{
	const struct bin_sym *s = fsym(c, name);

	return s ? ossl_getter_at(c, s->value, s->size, size) : -1;
}

static const uint8_t *code_bytes(void *ctx, uint64_t va, uint64_t len)
{
	const struct ofile *f = ctx;

	return bin_elf_va_ptr(&f->e, va, len, 1);
}

void ossl_analyse_bio_crypto(struct ofile *f, struct oh_result *r)
{
	struct ctx c = {.f = f, .r = r};
	struct xf_code code = {code_bytes, f};
	struct oh_bio *b = &r->bio;
	const struct bin_sym *mt;
	int64_t init, shut, rr, next;

	b->off_method = b->off_type = b->off_num = b->off_next = -1;
	if (xf_open(&c.x, &code)) {
		snprintf(r->bio_crypto_why, sizeof(r->bio_crypto_why), "capstone unavailable");
		return;
	}
	init = getter(&c, "BIO_get_init", 4);
	shut = getter(&c, "BIO_get_shutdown", 4);
	rr = getter(&c, "BIO_get_retry_reason", 4);
	next = getter(&c, "BIO_next", 8);
	mt = fsym(&c, "BIO_method_type");
	if (mt) {
		struct xf_fn fn;
		struct ret2_ctx rc = {0};
		char why[160];

		if (!ossl_run_fn(&c, &fn, mt->value, mt->size, why, sizeof(why))) {
			xf_fn_walk(&fn, ret2_cb, &rc);
			xf_fn_free(&fn);
		}
		if (rc.n && !rc.conflict) {
			b->off_method = (int)rc.d1;
			b->off_type = (int)rc.d2;
		}
	}
	xf_close(&c.x);
	if (init < 0 || shut < 0 || rr < 0 || next < 0 || b->off_method < 0)
		snprintf(r->bio_crypto_why, sizeof(r->bio_crypto_why),
			 "BIO accessors not read: init %lld, shutdown %lld, retry_reason %lld, "
			 "next %lld, method %d",
			 (long long)init, (long long)shut, (long long)rr, (long long)next,
			 b->off_method);
	else if (shut != init + 4 || rr != init + 12 || next != init + 32 || init > 0x100)
		snprintf(r->bio_crypto_why, sizeof(r->bio_crypto_why),
			 "BIO layout not the one known (init +0x%llx, shutdown +0x%llx, "
			 "retry_reason +0x%llx, next_bio +0x%llx)",
			 (unsigned long long)init, (unsigned long long)shut,
			 (unsigned long long)rr, (unsigned long long)next);
	else {
		b->off_num = (int)(rr + 4);
		b->off_next = (int)next;
		r->bio_crypto_why[0] = 0;
		return;
	}
	b->off_method = b->off_type = -1;
}

/*
 * No libcrypto could be read where the library names it (a copy loaded through another root, its
 * libcrypto not at the path the analysis tries): bio_local.h's layout for the libcrypto soname the
 * library needs, 1.1 (method first) or 3 (libctx first).
 */
static int bio_layout_of_soname(struct ctx *c, struct oh_bio *b)
{
	const char *so = c->f->needed_crypto;
	int base;

	if (!strcmp(so, "libcrypto.so.1.1"))
		base = 0;
	else if (!strcmp(so, "libcrypto.so.3"))
		base = 8;
	else
		return -1;
	b->off_method = base;
	b->off_type = 0;
	b->off_num = base + 0x30;
	b->off_next = base + 0x40;
	return 0;
}

void ossl_analyse_bio_ssl(struct ctx *c)
{
	struct oh_bio *b = &c->r->bio;
	int64_t rb = getter(c, "SSL_get_rbio", 8), wb = getter(c, "SSL_get_wbio", 8);

	b->off_rbio = rb >= 0 && rb < 0x8000 ? (int)rb : -1;
	b->off_wbio = wb >= 0 && wb < 0x8000 ? (int)wb : -1;
	b->ok = 0;
	if (c->r->bio_crypto_why[0] && bio_layout_of_soname(c, b))
		WHY(b, "%s", c->r->bio_crypto_why);
	else if (b->off_num < 0)
		WHY(b, "no libcrypto analysed for the BIO layout");
	else if (b->off_rbio < 0 && b->off_wbio < 0)
		WHY(b, "SSL_get_rbio/SSL_get_wbio not read");
	else
		b->ok = 1;
}
