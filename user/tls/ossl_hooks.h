/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Hook discovery: from one OpenSSL library file (stripped or not, x86-64) compute where the alert
 * paths are (issue 3). The file alone is the input: symbols when present, otherwise the SSL_METHOD
 * tables behind TLS_method/DTLS_method, .rela.dyn, .eh_frame and disassembly (capstone).
 * Every probe is self-checked; a probe whose check failed has ok == 0 and a reason in why.
 */
#ifndef AT_OSSL_HOOKS_H
#define AT_OSSL_HOOKS_H

#include <stdint.h>
#include <limits.h>

struct oh_probe {
	int ok;			/* 1: found and self-checked, attach it */
	uint64_t vaddr;		/* virtual address in the ELF file */
	uint64_t file_off;	/* file offset, what a uprobe takes */
	char why[160];		/* reason when ok == 0 */
};

/* Receive probe: how to get the alert and the SSL* from the registers at the probe point. */
struct oh_read_probe {
	struct oh_probe p;
	int alert_reg;		/* index of the register in struct pt_regs, in 8-byte words */
	int alert_is_ptr;	/* 1: register holds a pointer to the 2 alert bytes; 0: the bytes
				 * themselves, level in bits 0-7, description in bits 8-15 */
	int ssl_reg;		/* index in struct pt_regs of the register holding SSL* */
	/* added: for reports and tests */
	uint64_t func, func_end;	/* the function the probe lies in (.eh_frame bounds) */
	char alert_reg_name[8];	/* "rcx", ... */
	char ssl_reg_name[8];
	int ssl_is_conn;	/* 1: ssl_reg holds the SSL_CONNECTION the callback is read from (3.2+;
				 * the same address as SSL* for a TLS or DTLS connection), because
				 * the SSL* argument itself is on the stack there */
};

/* Inside a dispatch function, right after its record write returned (ossl_done.c): the registers
 * that hold the write's return value and SSL*. One probe instead of an entry probe and a
 * uretprobe; p.ok == 0 (with why) where it cannot stand for them (3.2+). */
struct oh_done_probe {
	struct oh_probe p;
	int rc_reg;		/* pt_regs index (8-byte words) of the write's return value (int) */
	int ssl_reg;		/* pt_regs index of SSL* */
	int emulated;		/* 1: a conditional branch, which the kernel emulates: no single-step */
	char rc_reg_name[8];	/* "rax", ... */
	char ssl_reg_name[8];
};

/* Offsets inside OpenSSL's structures, read off the code (never carried in a table). */
struct oh_layout {
	int off_version;	/* SSL.version (int) */
	int off_method;		/* SSL.method (const SSL_METHOD *) */
	int off_method_version;	/* SSL_METHOD.version (int), 0 in every release */
	int off_s3;		/* 1.1.1: offset of the s3 pointer in SSL; -1 when s3 is inline */
	int off_send_alert;	/* send_alert[2] from SSL (off_s3 == -1) or from *s3 */
	/* added */
	int off_shutdown;	/* SSL.shutdown, from SSL_get_shutdown and confirmed by ssl3_shutdown
				 * reading it; -1 when not both */
	int ok;			/* 1: version, method, method_version and send_alert all found and
				 * every cross-check agreed */
	char why[160];		/* reason when ok == 0 */
};

/* Where the server name and the verification result live (ossl_why.c); -1: not found. */
struct oh_why {
	int off_hostname;	/* SSL.ext.hostname, the direct load SSL_get_servername returns */
	int off_session;	/* SSL.session ... */
	int off_sess_hostname;	/* ... and SSL_SESSION.ext.hostname, its other return value */
	int off_verify_result;	/* SSL.verify_result, what SSL_get_verify_result returns */
	char sni_why[160];	/* why the server name offsets were not found; "" found */
	char verify_why[160];	/* the same for verify_result */
};

/*
 * The session's socket: SSL -> rbio/wbio -> (next_bio ...) -> a BIO of a descriptor type, whose
 * num is the fd. rbio/wbio from SSL_get_rbio/SSL_get_wbio (libssl); the BIO fields from
 * libcrypto's one-line accessors, laid out as crypto/bio/bio_local.h has it from 1.1.1 to 3.5
 * (init, shutdown, flags, retry_reason, num, ptr, next_bio).
 */
struct oh_bio {
	int off_rbio, off_wbio;	/* in SSL (SSL_CONNECTION in 3.x: the same address for TLS) */
	int off_method;		/* BIO.method, from BIO_method_type */
	int off_type;		/* BIO_METHOD.type, from BIO_method_type */
	int off_num;		/* BIO.num: BIO_get_retry_reason's field + 4 */
	int off_next;		/* BIO.next_bio, from BIO_next */
	int ok;			/* every offset found and the BIO layout checks agreed */
	char why[160];		/* reason when ok == 0 */
};

enum oh_err_kind {
	OH_ERR_NONE = 0,
	OH_ERR_VSET = 1,	/* ERR_vset_error(int lib, int reason, const char *fmt, va_list) */
	OH_ERR_PUT = 2,		/* ERR_put_error(int lib, int func, int reason, const char *file, int line) */
};

struct oh_result {
	char path[PATH_MAX];
	char build_id[41];	/* hex, "" when the file has none */
	char version[96];	/* e.g. "OpenSSL 3.0.19 27 Jan 2026", from the file's .rodata */
	int layout;		/* SSL_METHOD layout: 111 (1.1.1/3.0/3.1) or 320 (3.2+) */
	int from_symbols;	/* 1: hooks came from .symtab/.dynsym names */
	struct oh_probe dispatch;	/* ssl3_dispatch_alert entry */
	struct oh_probe dtls_dispatch;	/* dtls1_dispatch_alert entry */
	struct oh_read_probe read;	/* inside ssl3_read_bytes */
	struct oh_read_probe dtls_read;	/* inside dtls1_read_bytes */
	struct oh_layout ssl;
	/* fatal-receive fallback, in the libcrypto this library depends on (or in the file itself
	 * for a static binary) */
	char err_path[PATH_MAX];
	enum oh_err_kind err_kind;
	struct oh_probe err;
	char why[256];		/* set when the whole file is refused */
	/* added */
	char version_src[16];	/* "file", "libcrypto" (libssl 3.x carries no version text), or ""
				 * when unknown */
	int layout_hint;	/* layout suggested by the symbol versions / version text, 0: none */
	uint64_t tls_method;	/* SSL_METHOD table returned by TLS_method(), 0 when not found */
	uint64_t dtls_method;	/* same for DTLS_method() */
	uint64_t shutdown_fn;	/* ssl3_shutdown, which confirmed the layout */
	int rc;			/* what oh_analyze returned: -1 refused (why set), 0 analysed; for
				 * the results of oh_analyze_cached */
	struct oh_why why_;	/* the server name and the verification result */
	struct oh_done_probe dispatch_done;	 /* in ssl3_dispatch_alert, after the write */
	struct oh_done_probe dtls_dispatch_done; /* in dtls1_dispatch_alert, after the write */
	struct oh_bio bio;	/* the session's fd, for the connection's addresses */
	char bio_crypto_why[160]; /* the libcrypto part of bio, when it failed */
};

/*
 * Analyse PATH. Returns 0 when the file is an OpenSSL libssl (or a binary that links it) and
 * r is filled (individual probes may still be !ok, with reasons); -1 when the file is refused
 * (not ELF, malformed, not OpenSSL, unsupported arch), with r->why set. Never crashes on bad input.
 * root: prefix for resolving the libcrypto dependency (e.g. "/proc/PID/root"), "" for the host.
 * path is opened as given; its libcrypto (DT_NEEDED) is looked for along DT_RUNPATH/DT_RPATH
 * ($ORIGIN = the directory of path, other entries under root), in the directory of path (and that
 * directory under root when path does not already start with root), then in the standard library
 * directories under root. A binary that defines ERR_vset_error/ERR_put_error itself (static link)
 * uses its own. The version text comes from the file, else from that libcrypto (version_src).
 */
int oh_analyze(const char *path, const char *root, struct oh_result *r);

/* Same, cached by build-id (or by device+inode when there is none) for the life of the process. */
const struct oh_result *oh_analyze_cached(const char *path, const char *root);

/*
 * Recompute only the fatal-receive fallback of r (err_path, err_kind, err; version and
 * version_src only when r->version is empty) for the libssl at path as seen under root: the same
 * file (by build-id) in another container has its own libcrypto. The rest of r, analysed once,
 * stays. Returns 0 when recomputed (r->err may still be !ok, with a reason), -1 when path cannot
 * be read as ELF (r->err.why says why).
 */
int oh_analyze_err(const char *path, const char *root, struct oh_result *r);

#endif
