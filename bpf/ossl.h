/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between bpf/ossl.bpf.c and user/libs.c: the per-library configuration the loader writes
 * into the `cfgs` array (indexed by lib_id) and the layout of the 64-bit BPF cookie every OpenSSL
 * uprobe carries. Fixed-width types only.
 */
#ifndef AT_OSSL_H
#define AT_OSSL_H

#define OSSL_NREGS 21	   /* 8-byte words in x86-64 struct pt_regs */
#define OSSL_REG_NONE 0xff /* cookie: no register (e.g. SSL* unknown at the read probe) */

/* Offsets inside the SSL object (struct oh_layout of user/ossl_hooks.h). */
struct ossl_cfg {
	__s32 off_version;	  /* SSL.version (int) */
	__s32 off_method;	  /* SSL.method (const SSL_METHOD *) */
	__s32 off_method_version; /* SSL_METHOD.version (int) */
	__s32 off_s3;		  /* 1.1.1: the s3 pointer in SSL; -1: s3 is inline */
	__s32 off_send_alert;	  /* send_alert[2], from SSL or from *s3 */
	__u32 err_kind;		  /* 1: ERR_vset_error(lib, reason, ...), 2: ERR_put_error(lib,
				   * func, reason, ...); 0: no fallback */
	/* Why and where (user/tls/ossl_why.c): -1 where not found */
	__s32 off_hostname;	  /* SSL.ext.hostname (char *), from SSL_get_servername */
	__s32 off_session;	  /* SSL.session (SSL_SESSION *) */
	__s32 off_sess_hostname;  /* SSL_SESSION.ext.hostname (char *) */
	__s32 off_verify_result;  /* SSL.verify_result (long), from SSL_get_verify_result */
	/* The session's fd (struct oh_bio of user/tls/ossl_hooks.h); -1: not known */
	__s16 off_rbio, off_wbio; /* SSL.rbio, SSL.wbio */
	__s16 off_bio_method;	  /* BIO.method */
	__s16 off_bio_type;	  /* BIO_METHOD.type */
	__s16 off_bio_num;	  /* BIO.num: the fd of a descriptor BIO */
	__s16 off_bio_next;	  /* BIO.next_bio */
};

/*
 * BPF cookie:
 *   bits  0..31  lib_id (index into `cfgs`)
 *   bits 32..39  read probe: pt_regs word holding the alert (bytes or pointer); dispatch_done:
 *                the word holding the record write's return value
 *   bits 40..47  read probe, dispatch_done: pt_regs word holding SSL*, OSSL_REG_NONE when unknown
 *   bit  48      read probe: the alert register is a pointer to the 2 bytes
 *   bit  49      the probe sits in a DTLS function (dtls1_dispatch_alert / dtls1_read_bytes)
 */
#define OSSL_CK_ALERT_PTR (1ULL << 48)
#define OSSL_CK_DTLS (1ULL << 49)
#define OSSL_CK_LIB(c) ((__u32)((c)&0xffffffffULL))
#define OSSL_CK_ALERT_REG(c) ((__u32)(((c) >> 32) & 0xff))
#define OSSL_CK_SSL_REG(c) ((__u32)(((c) >> 40) & 0xff))
#define OSSL_CK_RC_REG(c) OSSL_CK_ALERT_REG(c)

static inline __u64 ossl_cookie(__u32 lib_id, int alert_reg, int ssl_reg, int alert_is_ptr,
				int dtls)
{
	__u64 c = lib_id;

	c |= (__u64)((alert_reg >= 0 && alert_reg < OSSL_NREGS) ? alert_reg : OSSL_REG_NONE) << 32;
	c |= (__u64)((ssl_reg >= 0 && ssl_reg < OSSL_NREGS) ? ssl_reg : OSSL_REG_NONE) << 40;
	if (alert_is_ptr)
		c |= OSSL_CK_ALERT_PTR;
	if (dtls)
		c |= OSSL_CK_DTLS;
	return c;
}

#endif /* AT_OSSL_H */
