/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between bpf/gnutls.bpf.c and user/tls/gnutls.c: the per-library configuration in the
 * `cfgs` array (indexed by lib_id) and the cookie of the record probe. Fixed-width types only.
 */
#ifndef AT_GNUTLS_H
#define AT_GNUTLS_H

#define GT_NREGS 21	 /* 8-byte words in x86-64 struct pt_regs */
#define GT_REG_NONE 0xff

/* Offsets read off the library's exported code (gnutls_protocol_get_version,
 * gnutls_transport_get_int). */
struct gnutls_cfg {
	__s32 off_pversion;	/* session->security_parameters.pversion (const version_entry_st *);
				 * -1: unknown */
	__s32 off_ver_id;	/* version_entry_st.id (gnutls_protocol_t) */
	/* the server name (user/tls/gnutls_sni.c), -1 unknown */
	__s32 off_sni_priv;	/* session->internals.ext_data[SERVER_NAME].priv: be16 length, name */
	__s32 off_sni_set;	/* ... its set flag (a byte) */
	__s32 off_transport;	/* session->internals.transport_recv_ptr (the fd of
				 * gnutls_transport_set_int); -1: unknown */
};

/*
 * Cookie of the record probe:
 *   bits  0..31  lib_id
 *   bits 32..39  pt_regs word holding the pointer to the alert's 2 bytes (level, description)
 *   bits 40..47  pt_regs word holding the session
 */
#define GT_CK_LIB(c) ((__u32)((c)&0xffffffffULL))
#define GT_CK_ALERT_REG(c) ((__u32)(((c) >> 32) & 0xff))
#define GT_CK_SESSION_REG(c) ((__u32)(((c) >> 40) & 0xff))

static inline __u64 gnutls_cookie(int alert_reg, int session_reg)
{
	__u64 c = 0;

	c |= (__u64)((alert_reg >= 0 && alert_reg < GT_NREGS) ? alert_reg : GT_REG_NONE) << 32;
	c |= (__u64)((session_reg >= 0 && session_reg < GT_NREGS) ? session_reg : GT_REG_NONE)
	     << 40;
	return c;
}

#endif /* AT_GNUTLS_H */
