/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Go provider (source `go`): programs built with Go 1.17 and later (ABIInternal), static,
 * stripped or not, PIE or not. From the file alone it finds
 *  - sent: crypto/tls.(*Conn).sendAlertLocked after its stack check (the entry runs twice when
 *    the stack grows), checked by data flow: the function reads BL (the alert) as it came in,
 *    and RAX is the receiver;
 *  - received: in (*Conn).readRecordOrCCS, the load of data[1] in the alert branch: a
 *    `movzx E, byte [R+1]` right after the len(data) != 2 test, followed by the close_notify
 *    test of E, within reach of the recordTypeAlert (21) comparison; R points at the record;
 *  - c.vers: the field readRecordOrCCS compares with VersionTLS13 (0x304), a 16-bit load from
 *    the receiver;
 *  - net.(*TCPConn).Close, which tells a Conn.conn of type *net.TCPConn (bpf/go.h);
 *  - Conn.serverName (a string), the server name of both ends, copied by
 *    (*Conn).connectionStateLocked into ConnectionState.ServerName (go_sni.c).
 * Functions come from .symtab when present, else from .gopclntab (bin/gopclntab.h).
 */
#ifndef AT_GO_HOOKS_H
#define AT_GO_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#define GO_CONN_STATE "crypto/tls.(*Conn).connectionStateLocked"
struct xf;

struct go_probe {
	int ok;
	uint64_t vaddr, file_off;
	char why[200];
};

struct go_result {
	int rc;			/* 0 analysed, -1 refused (why) */
	char why[200];
	char go_version[32];	/* "go1.26.10", from .go.buildinfo */
	char module[128];	/* the main module's path */
	char build_id[41];	/* GNU build-id, "" for Go's internal linker */
	int from_symbols;	/* functions from .symtab (else .gopclntab) */
	uint64_t send_fn, read_fn;	/* entries of sendAlertLocked, readRecordOrCCS */
	struct go_probe send, recv;
	int alert_reg, conn_reg;	/* pt_regs words at recv: record pointer, *Conn (-1) */
	int vers_reg;		/* at recv without conn_reg: the word holding c.vers (-1) */
	int conn_sp;		/* at recv without conn_reg: the *Conn at [rsp + conn_sp] (-1) */
	int off_vers;		/* Conn.vers, -1 unknown */
	int off_sni;		/* Conn.serverName (pointer, then length), -1 unknown (sni_why) */
	char sni_why[200];
	uint64_t tcp_close;	/* net.(*TCPConn).Close, 0 when not in the program */
};

/* Analyse path. Returns r->rc; never crashes on bad input. */
int go_analyze(const char *path, struct go_result *r);

/* Conn.serverName's offset, read off connectionStateLocked at [entry, end) knowing Conn.vers at
 * off_vers (go_sni.c); -1 with why when not found. */
int go_sni_offset(struct xf *x, uint64_t entry, uint64_t end, int off_vers, char *why,
		  size_t whysz);

#endif
