/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the OpenSSL analyser (ossl_hooks.c, ossl_locate.c, ossl_probes.c, ossl_err.c): the file
 * as OpenSSL's analysis sees it and the state of one analysis. Not an API.
 */
#ifndef AT_OSSL_LOCAL_H
#define AT_OSSL_LOCAL_H

#include <stdarg.h>
#include <stdio.h>

#include "ehframe.h"
#include "elf.h"
#include "ossl_hooks.h"
#include "x86flow.h"

#define SSL3_RT_ALERT 21
#define TLS_ANY_VERSION 0x10000
#define DTLS_ANY_VERSION 0x1ffff

/* The functions the analysis looks up by name (ossl_names in ossl_hooks.c). */
enum {
	S_TLS_method,
	S_DTLS_method,
	S_SSL_CTX_new,
	S_SSL_version,
	S_SSL_get_ssl_method,
	S_SSL_get_shutdown,
	S_ssl3_dispatch_alert,
	S_dtls1_dispatch_alert,
	S_ssl3_read_bytes,
	S_dtls1_read_bytes,
	S_ssl3_shutdown,
	S_ERR_vset_error,
	S_ERR_put_error,
	S_SSL_get_servername,	/* ossl_why.c */
	S_SSL_get_verify_result,
	NSYM
};
extern const char *const ossl_names[NSYM];

/* SSL_METHOD slot offsets (ssl/ssl_local.h, struct ssl_method_st). */
struct mlayout {
	int id;
	int shutdown, read_bytes, dispatch;
};
extern const struct mlayout ossl_layouts[2];

/* One libssl (or libcrypto, or a binary linking them) as the analysis reads it. */
struct ofile {
	struct bin_elf e;
	struct bin_fdes fdes;
	const struct bin_sym *sym[NSYM]; /* STT_FUNC definitions, NULL when absent */
	int new_verdef;			 /* defines OPENSSL_3.2.0 or a later version node */
	char version[96];		 /* OPENSSL_VERSION_TEXT found in read-only data */
	char needed_crypto[128];	 /* DT_NEEDED libcrypto.so.* */
};

int ofile_open(struct ofile *f, const char *path);
void ofile_close(struct ofile *f);

static inline uint64_t osym_size(const struct ofile *f, int k)
{
	return f->sym[k] ? f->sym[k]->size : 0;
}

/* One analysis. */
struct ctx {
	struct ofile *f;
	struct oh_result *r;
	struct xf x;
	uint64_t fn_tls_rb, fn_dtls_rb, fn_tls_da, fn_dtls_da, fn_shut;
	uint64_t tls_table, dtls_table;
	char layout_why[160];
	int64_t shutdown_off; /* from SSL_get_shutdown */
	int shutdown_seen;    /* ssl3_shutdown loads it too */
};

void ossl_setwhy(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define WHY(p, ...) ossl_setwhy((p)->why, sizeof((p)->why), __VA_ARGS__)

/* ossl_locate.c */
int ossl_run_fn(struct ctx *c, struct xf_fn *fn, uint64_t start, uint64_t symsize, char *why,
		size_t n);
void ossl_locate_functions(struct ctx *c);
int64_t ossl_getter_field(struct ctx *c, int sym, int size);
int64_t ossl_getter_at(struct ctx *c, uint64_t va, uint64_t symsize, int size);

/* ossl_bio.c */
void ossl_analyse_bio_ssl(struct ctx *c);
void ossl_analyse_bio_crypto(struct ofile *f, struct oh_result *r);

/* ossl_probes.c */
void ossl_set_probe(struct ctx *c, struct oh_probe *p, uint64_t va);
void ossl_analyse_dispatch(struct ctx *c, struct oh_probe *p, uint64_t va, uint64_t symsize,
			   const char *name, int64_t *send, int64_t *s3, int64_t *ver);
void ossl_analyse_read(struct ctx *c, struct oh_read_probe *rp, uint64_t va, uint64_t symsize,
		       const char *name);

/* ossl_why.c */
void ossl_analyse_why(struct ctx *c);
/* ossl_done.c */
void ossl_analyse_dispatch_done(struct ctx *c, struct oh_done_probe *dp, uint64_t va,
				uint64_t symsize, const char *name);

/* ossl_err.c */
void ossl_analyse_err(struct ofile *f, struct oh_result *r, const char *path, const char *root);

#endif
