/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between bpf/go.bpf.c and user/tls/go.c: the per-binary configuration in `cfgs`
 * (indexed by lib_id) and the cookie of the receive probe. Fixed-width types only.
 */
#ifndef AT_GO_H
#define AT_GO_H

#define GO_NREGS 21	/* 8-byte words in x86-64 struct pt_regs */
#define GO_REG_NONE 0xff

struct go_cfg {
	__s32 off_vers;	/* crypto/tls.Conn.vers (uint16), read off readRecordOrCCS; -1 unknown */
	__s32 recv_conn_sp; /* read_record without the *Conn in a register: it is at [rsp + this]
			     * (a stack slot, by data flow); 0: not known */
	/* The connection's socket: Conn.conn is a net.Conn (itab, data) at +0; its itab's first
	 * method (Close) is net.(*TCPConn).Close exactly when data is a *net.TCPConn. These are
	 * that function's address minus each probe's (the probe's runtime address is the uprobe's
	 * ip, PIE or not); 0: not found. */
	__s64 tcpclose_from_send;
	__s64 tcpclose_from_recv;
	/* Conn.serverName (string: pointer, length), read off connectionStateLocked; -1 unknown */
	__s32 off_sni;
	__s32 pad;
};

/* Go's layouts, stable from Go 1.17 to 1.27 (src/net/net.go, tcpsock.go, fd_posix.go,
 * internal/poll/fd_unix.go, fd_mutex.go): TCPConn{conn{fd *netFD}}, netFD{pfd poll.FD, ...},
 * poll.FD{fdmu fdMutex (16 bytes), Sysfd int, ...}; runtime itab{inter, _type, hash, fun[]}. */
#define GO_OFF_CONN_DATA 8	/* tls.Conn.conn's data word (Conn.conn is the first field) */
#define GO_OFF_ITAB_FUN0 24	/* itab.fun[0] */
#define GO_OFF_SYSFD 16		/* netFD.pfd.Sysfd */

/*
 * Cookie:
 *   bits  0..31  lib_id
 *   bits 32..39  pt_regs word of the alert: sendAlertLocked, the register holding the alert
 *                byte (BL under ABIInternal); readRecordOrCCS, the one pointing at the
 *                record's 2 bytes
 *   bits 40..47  pt_regs word holding the *Conn, GO_REG_NONE when not known there
 *   bits 48..55  read_record without the *Conn: the pt_regs word holding c.vers itself (its low
 *                16 bits), GO_REG_NONE when not known either
 */
#define GO_CK_LIB(c) ((__u32)((c)&0xffffffffULL))
#define GO_CK_ALERT_REG(c) ((__u32)(((c) >> 32) & 0xff))
#define GO_CK_CONN_REG(c) ((__u32)(((c) >> 40) & 0xff))
#define GO_CK_VERS_REG(c) ((__u32)(((c) >> 48) & 0xff))

static inline __u64 go_cookie(int alert_reg, int conn_reg, int vers_reg)
{
	__u64 c = 0;

	c |= (__u64)((vers_reg >= 0 && vers_reg < GO_NREGS) ? vers_reg : GO_REG_NONE) << 48;
	c |= (__u64)((alert_reg >= 0 && alert_reg < GO_NREGS) ? alert_reg : GO_REG_NONE) << 32;
	c |= (__u64)((conn_reg >= 0 && conn_reg < GO_NREGS) ? conn_reg : GO_REG_NONE) << 40;
	return c;
}

#endif /* AT_GO_H */
