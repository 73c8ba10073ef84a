// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Hook discovery for OpenSSL (issue 3): from one libssl file (or a binary linking it statically)
 * compute the alert hooks. See ossl_hooks.h for the contract and
 * shared/notes/openssl-hooks.md for the facts this relies on.
 *
 * Method, in short:
 *  1. The file through user/bin: ELF (elf.h: symbols, relocations, build-id), .eh_frame FDEs
 *     (ehframe.h); here the OpenSSL names, the version text and the libcrypto dependency.
 *  2. Functions: by name from .symtab/.dynsym when present; otherwise from the SSL_METHOD tables
 *     behind TLS_method()/DTLS_method() (ossl_locate.c).
 *  3. The data flow of one function at a time (x86flow.h) reads off the SSL field offsets and
 *     finds the probes (ossl_probes.c); the fatal fallback lives in libcrypto (ossl_err.c).
 *  4. The cross-checks between the places each offset was read from, and the cache (here).
 */
#include "ossl_local.h"
#include "plancache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const ossl_names[NSYM] = {
    "TLS_method",	  "DTLS_method",      "SSL_CTX_new",	     "SSL_version",
    "SSL_get_ssl_method", "SSL_get_shutdown", "ssl3_dispatch_alert", "dtls1_dispatch_alert",
    "ssl3_read_bytes",	  "dtls1_read_bytes", "ssl3_shutdown",	     "ERR_vset_error",
    "ERR_put_error",	  "SSL_get_servername", "SSL_get_verify_result",
};

void ossl_setwhy(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}
/* "OpenSSL 3.0.19 27 Jan 2026", "OpenSSL 1.1.1w  11 Sep 2023": OPENSSL_VERSION_TEXT. */
static int version_like(const char *s, size_t n)
{
	size_t i = 8, dots = 0;

	if (n < 20 || n > 90 || strncmp(s, "OpenSSL ", 8) || s[8] < '0' || s[8] > '9')
		return 0;
	for (; i < n && s[i] != ' '; i++) {
		if (s[i] == '.')
			dots++;
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
			   s[i] == '-'))
			return 0;
	}
	if (dots < 2)
		return 0;
	/* ends with a 4-digit year */
	for (int k = 1; k <= 4; k++)
		if (s[n - k] < '0' || s[n - k] > '9')
			return 0;
	return s[n - 5] == ' ';
}

static void find_version(struct ofile *f, const uint8_t *p, size_t n)
{
	const uint8_t *q = p, *end = p + n;

	while (!f->version[0] && q < end) {
		const uint8_t *h = memmem(q, end - q, "OpenSSL ", 8);
		size_t len;

		if (!h)
			break;
		len = strnlen((const char *)h, end - h);
		if (h + len < end && (h == p || h[-1] == 0) && version_like((const char *)h, len) &&
		    len < sizeof(f->version))
			memcpy(f->version, h, len + 1);
		q = h + 1;
	}
}

static int new_version_node(const char *name)
{
	unsigned maj = 0, min = 0;

	return sscanf(name, "OPENSSL_%u.%u", &maj, &min) == 2 &&
	       (maj > 3 || (maj == 3 && min >= 2));
}

/* The ELF file and what OpenSSL's analysis needs of it; -1 with f->e.why when not usable. */
int ofile_open(struct ofile *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	if (bin_elf_open(&f->e, path))
		return -1;
	bin_fdes_load(&f->fdes, &f->e);
	bin_elf_syms(&f->e, ossl_names, NSYM, STT_FUNC, f->sym);
	for (size_t i = 0; i < f->e.nneeded; i++)
		if (!strncmp(f->e.needed[i], "libcrypto.so", 12) && !strchr(f->e.needed[i], '/'))
			snprintf(f->needed_crypto, sizeof(f->needed_crypto), "%s", f->e.needed[i]);
	for (size_t i = 0; i < f->e.nverdef; i++)
		f->new_verdef |= new_version_node(f->e.verdef[i]);
	for (size_t i = 0; i < f->e.nsec && !f->version[0]; i++) {
		const struct bin_sec *s = &f->e.sec[i];

		if (s->sh.sh_type == SHT_PROGBITS && (s->sh.sh_flags & SHF_ALLOC) &&
		    !(s->sh.sh_flags & SHF_EXECINSTR) && s->data)
			find_version(f, s->data, s->sh.sh_size);
	}
	return 0;
}

void ofile_close(struct ofile *f)
{
	bin_fdes_free(&f->fdes);
	bin_elf_close(&f->e);
}

/* Code for the data flow: only bytes in an executable PT_LOAD segment. */
static const uint8_t *code_bytes(void *ctx, uint64_t va, uint64_t len)
{
	const struct ofile *f = ctx;

	return bin_elf_va_ptr(&f->e, va, len, 1);
}

static void check_entry(struct ctx *c, struct oh_probe *p, uint64_t va, const char *name)
{
	if (!va) {
		WHY(p, "%s not found", name);
		return;
	}
	if (c->f->fdes.n && !bin_fde_at(&c->f->fdes, va)) {
		WHY(p, "%s candidate 0x%llx is not an FDE start", name, (unsigned long long)va);
		p->vaddr = va;
		return;
	}
}

int oh_analyze(const char *path, const char *root, struct oh_result *r)
{
	struct ofile f;
	struct ctx c = {0};
	struct xf_code code = {code_bytes, &f};
	int64_t send1, s31, ver1, send2, s32, ver2, v;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->ssl.off_version = r->ssl.off_method = r->ssl.off_send_alert = r->ssl.off_s3 = -1;
	r->ssl.off_shutdown = -1;
	r->why_.off_hostname = r->why_.off_session = r->why_.off_sess_hostname = -1;
	r->why_.off_verify_result = -1;
	r->read.alert_reg = r->read.ssl_reg = r->dtls_read.alert_reg = r->dtls_read.ssl_reg = -1;
	if (!root)
		root = "";
	if (!path || strlen(path) >= sizeof(r->path)) {
		snprintf(r->why, sizeof(r->why), "bad path");
		r->rc = -1;
		return -1;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (ofile_open(&f, path)) {
		snprintf(r->why, sizeof(r->why), "%s", f.e.why);
		ofile_close(&f);
		r->rc = -1;
		return -1;
	}
	snprintf(r->build_id, sizeof(r->build_id), "%s", f.e.build_id);
	if (f.version[0]) {
		snprintf(r->version, sizeof(r->version), "%s", f.version);
		snprintf(r->version_src, sizeof(r->version_src), "file");
	}
	if (!f.sym[S_TLS_method] && !f.sym[S_SSL_CTX_new]) {
		snprintf(r->why, sizeof(r->why),
			 "not an OpenSSL library: defines neither TLS_method nor SSL_CTX_new");
		goto out;
	}
	if (xf_open(&c.x, &code)) {
		snprintf(r->why, sizeof(r->why), "capstone: cannot open an x86-64 disassembler");
		goto out;
	}
	c.f = &f;
	c.r = r;
	rc = 0;

	/* libcrypto first: it may supply the version that hints the layout */
	r->bio.off_method = r->bio.off_type = r->bio.off_num = r->bio.off_next = -1;
	snprintf(r->bio_crypto_why, sizeof(r->bio_crypto_why), "libcrypto not analysed");
	ossl_analyse_err(&f, r, path, root);
	c.shutdown_off = ossl_getter_field(&c, S_SSL_get_shutdown, 4);
	ossl_locate_functions(&c);
	r->ssl.off_method_version = -1;

	check_entry(&c, &r->dispatch, c.fn_tls_da, "ssl3_dispatch_alert");
	check_entry(&c, &r->dtls_dispatch, c.fn_dtls_da, "dtls1_dispatch_alert");
	send1 = send2 = s31 = s32 = ver1 = ver2 = -2;
	if (c.fn_tls_da && !r->dispatch.why[0])
		ossl_analyse_dispatch(&c, &r->dispatch, c.fn_tls_da,
				      osym_size(&f, S_ssl3_dispatch_alert), "ssl3_dispatch_alert",
				      &send1, &s31, &ver1);
	if (c.fn_dtls_da && !r->dtls_dispatch.why[0])
		ossl_analyse_dispatch(&c, &r->dtls_dispatch, c.fn_dtls_da,
				      osym_size(&f, S_dtls1_dispatch_alert), "dtls1_dispatch_alert",
				      &send2, &s32, &ver2);
	WHY(&r->dispatch_done.p, "%s", "ssl3_dispatch_alert not analysed");
	WHY(&r->dtls_dispatch_done.p, "%s", "dtls1_dispatch_alert not analysed");
	if (r->dispatch.ok)
		ossl_analyse_dispatch_done(&c, &r->dispatch_done, c.fn_tls_da,
					   osym_size(&f, S_ssl3_dispatch_alert),
					   "ssl3_dispatch_alert");
	if (r->dtls_dispatch.ok)
		ossl_analyse_dispatch_done(&c, &r->dtls_dispatch_done, c.fn_dtls_da,
					   osym_size(&f, S_dtls1_dispatch_alert),
					   "dtls1_dispatch_alert");
	if (!c.fn_tls_rb)
		WHY(&r->read.p, "ssl3_read_bytes not found");
	else
		ossl_analyse_read(&c, &r->read, c.fn_tls_rb, osym_size(&f, S_ssl3_read_bytes),
				  "ssl3_read_bytes");
	if (!c.fn_dtls_rb)
		WHY(&r->dtls_read.p, "dtls1_read_bytes not found");
	else
		ossl_analyse_read(&c, &r->dtls_read, c.fn_dtls_rb,
				  osym_size(&f, S_dtls1_read_bytes), "dtls1_read_bytes");

	ossl_analyse_bio_ssl(&c);

	/* SSL field offsets, each from two places where possible */
	{
		struct oh_layout *L = &r->ssl;
		int64_t gv = ossl_getter_field(&c, S_SSL_version, 4);
		int64_t gm = ossl_getter_field(&c, S_SSL_get_ssl_method, 8);
		uint32_t tv = 0, dv = 0;

		L->off_shutdown = c.shutdown_seen ? (int)c.shutdown_off : -1;
		if (send1 >= 0 || send2 >= 0) {
			L->off_send_alert = (int)(send1 >= 0 ? send1 : send2);
			L->off_s3 = (int)(send1 >= 0 ? s31 : s32);
		}
		v = ver1 >= 0 ? ver1 : ver2;
		L->off_version = (int)(gv >= 0 ? gv : v);
		if (L->off_method < 0 && gm >= 0)
			L->off_method = (int)gm;
		/* SSL_METHOD.version is the first field: the tables start with the ANY versions */
		if ((c.tls_table && !bin_elf_read_u32(&f.e, c.tls_table, &tv) &&
		     tv == TLS_ANY_VERSION) ||
		    (c.dtls_table && !bin_elf_read_u32(&f.e, c.dtls_table, &dv) &&
		     dv == DTLS_ANY_VERSION))
			L->off_method_version = 0;

		if (send1 >= 0 && send2 >= 0 && (send1 != send2 || s31 != s32))
			WHY(L, "send_alert: TLS and DTLS dispatch disagree (+0x%llx, +0x%llx)",
			    (unsigned long long)send1, (unsigned long long)send2);
		else if (ver1 >= 0 && ver2 >= 0 && ver1 != ver2)
			WHY(L, "version: TLS and DTLS dispatch disagree (+0x%llx, +0x%llx)",
			    (unsigned long long)ver1, (unsigned long long)ver2);
		else if (gv >= 0 && v >= 0 && gv != v)
			WHY(L, "version: SSL_version reads +0x%llx, dispatch passes +0x%llx",
			    (unsigned long long)gv, (unsigned long long)v);
		else if (gm >= 0 && r->layout && gm != L->off_method)
			WHY(L, "method: SSL_get_ssl_method reads +0x%llx, ssl3_shutdown uses +0x%x",
			    (unsigned long long)gm, L->off_method);
		else if (!r->layout)
			WHY(L, "%s", c.layout_why);
		else if (L->off_method_version < 0)
			WHY(L, "method tables do not start with TLS_ANY_VERSION/DTLS_ANY_VERSION");
		else if (L->off_version < 0 || L->off_method < 0 || L->off_send_alert < 0)
			WHY(L, "not found: version %d, method %d, send_alert %d", L->off_version,
			    L->off_method, L->off_send_alert);
		else
			L->ok = 1;
	}
	ossl_analyse_why(&c);
out:
	xf_close(&c.x);
	ofile_close(&f);
	r->rc = rc;
	return rc;
}

int oh_analyze_err(const char *path, const char *root, struct oh_result *r)
{
	struct ofile f;
	int rc = -1;

	r->err_path[0] = 0;
	r->err_kind = OH_ERR_NONE;
	memset(&r->err, 0, sizeof(r->err));
	if (!path) {
		WHY(&r->err, "bad path");
		return -1;
	}
	if (ofile_open(&f, path)) {
		WHY(&r->err, "%s: %s", path, f.e.why);
	} else {
		ossl_analyse_err(&f, r, path, root ? root : "");
		rc = 0;
	}
	ofile_close(&f);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Cache: one analysis per distinct file for the life of the process */

struct cache_ent {
	struct cache_ent *next;
	char key[PATH_MAX + 96];
	struct oh_result r;
};

static struct cache_ent *cache_head;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int cache_key(const char *path, const char *root, char *key, size_t n)
{
	char id[41];
	struct stat st;

	/* build-id when the file has one (its note alone is read), else dev+inode */
	if (stat(path, &st))
		return -1;
	pc_build_id(path, id);
	if (id[0])
		snprintf(key, n, "b:%s:%s", id, root);
	else
		snprintf(key, n, "i:%llx:%llx:%lld:%s", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_mtime, root);
	return 0;
}

const struct oh_result *oh_analyze_cached(const char *path, const char *root)
{
	char key[sizeof(((struct cache_ent *)0)->key)];
	struct cache_ent *e;

	if (!root)
		root = "";
	if (!path || cache_key(path, root, key, sizeof(key)))
		return NULL;
	pthread_mutex_lock(&cache_lock);
	for (e = cache_head; e; e = e->next)
		if (!strcmp(e->key, key))
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e) {
			snprintf(e->key, sizeof(e->key), "%s", key);
			oh_analyze(path, root, &e->r);
			e->next = cache_head;
			cache_head = e;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return e ? &e->r : NULL;
}
