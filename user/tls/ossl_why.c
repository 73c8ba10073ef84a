// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where OpenSSL keeps the server name and the certificate verification result (issue 9), read
 * off the code of the exported getters, never carried in a table:
 *  - SSL_get_servername (ssl/ssl_lib.c) returns either s->ext.hostname, a load from the SSL
 *    (3.2+: the SSL_CONNECTION, the same address for a TLS connection), or
 *    s->session->ext.hostname, a load through the session pointer; 0 otherwise. The values in
 *    rax at its returns give the three offsets.
 *  - SSL_get_verify_result returns s->verify_result (a long).
 */
#include "ossl_local.h"

#include <string.h>

#define MAX_OFF 0x10000

struct sni_ctx {
	int64_t host, sess, shost;
	uint32_t base;
	int conflict;
};

static int plausible(int64_t d)
{
	return d >= 0 && d < MAX_OFF && !(d & 7);
}

/* The base of every load must be one value: the entry rdi, or the merge of rdi and what the
 * QUIC accessor returned (3.2+), never itself a load. */
static int same_base(struct sni_ctx *c, const struct xf_vtab *t, uint32_t b)
{
	const struct xf_val *v = xf_val(t, b);

	if (v->k != XF_V_ENTRY && v->k != XF_V_PHI)
		return 0;
	if (v->k == XF_V_ENTRY && v->a != XF_RDI)
		return 0;
	if (c->base && c->base != b)
		return 0;
	c->base = b;
	return 1;
}

static void set_once(struct sni_ctx *c, int64_t *dst, int64_t d)
{
	if (*dst >= 0 && *dst != d)
		c->conflict = 1;
	*dst = d;
}

static int sni_ret_cb(struct xf_fn *fn, int idx, const struct xf_state *s, void *vctx)
{
	struct sni_ctx *c = vctx;
	uint32_t v = s->r[XF_RAX], b1, b2;
	int64_t d1, d2;

	if (fn->ins[idx].flow != XF_RET || xf_is_const(fn, v, 0))
		return 0;
	if (!xf_is_load(&fn->vt, v, 0, 8, &d1, &b1))
		return 0; /* a merge of several: the other returns tell */
	if (xf_is_load(&fn->vt, b1, 0, 8, &d2, &b2)) {
		if (!plausible(d1) || !plausible(d2) || !same_base(c, &fn->vt, b2)) {
			c->conflict = 1;
			return 0;
		}
		set_once(c, &c->sess, d2);
		set_once(c, &c->shost, d1);
		return 0;
	}
	if (!plausible(d1) || !same_base(c, &fn->vt, b1)) {
		c->conflict = 1;
		return 0;
	}
	set_once(c, &c->host, d1);
	return 0;
}

static void analyse_sni(struct ctx *c, struct oh_why *w)
{
	const struct bin_sym *sym = c->f->sym[S_SSL_get_servername];
	struct sni_ctx sc = {.host = -1, .sess = -1, .shost = -1};
	struct xf_fn fn;

	if (!sym) {
		ossl_setwhy(w->sni_why, sizeof(w->sni_why), "no SSL_get_servername");
		return;
	}
	if (ossl_run_fn(c, &fn, sym->value, sym->size, w->sni_why, sizeof(w->sni_why)))
		return;
	xf_fn_walk(&fn, sni_ret_cb, &sc);
	xf_fn_free(&fn);
	if (sc.conflict || sc.host < 0 || sc.sess < 0 || sc.host == sc.sess) {
		ossl_setwhy(w->sni_why, sizeof(w->sni_why),
			    "SSL_get_servername: returns not understood (hostname %lld, session "
			    "%lld+%lld%s)",
			    (long long)sc.host, (long long)sc.sess, (long long)sc.shost,
			    sc.conflict ? ", conflicting" : "");
		return;
	}
	w->off_hostname = (int)sc.host;
	w->off_session = (int)sc.sess;
	w->off_sess_hostname = (int)sc.shost;
}

void ossl_analyse_why(struct ctx *c)
{
	struct oh_why *w = &c->r->why_;
	int64_t v;

	analyse_sni(c, w);
	if (!c->f->sym[S_SSL_get_verify_result]) {
		ossl_setwhy(w->verify_why, sizeof(w->verify_why), "no SSL_get_verify_result");
		return;
	}
	v = ossl_getter_field(c, S_SSL_get_verify_result, 8);
	if (!plausible(v) || v == w->off_hostname || v == w->off_session) {
		ossl_setwhy(w->verify_why, sizeof(w->verify_why),
			    "SSL_get_verify_result: not one load from the SSL (%lld)", (long long)v);
		return;
	}
	w->off_verify_result = (int)v;
}
