/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The GnuTLS provider (source `gnutls`): libgnutls.so.30, 3.7 and 3.8, stripped. From the file
 * alone it finds
 *  - sent: gnutls_alert_send (exported; GnuTLS calls it through its PLT for its own alerts);
 *  - received: the one instruction of the record layer that stores a received alert's
 *    description into session->internals.last_alert (lib/record.c, record_add_to_buffers),
 *    found through the offset gnutls_alert_get reads and checked by data flow: the stored value
 *    is byte [P+1] of a pointer P still held in a register, whose byte [P] is the level;
 *  - the protocol version: the session field and the version entry field that
 *    gnutls_protocol_get_version reads;
 *  - the session's socket: the transport field gnutls_transport_get_int and
 *    gnutls_transport_get_ptr read.
 */
#ifndef AT_GNUTLS_PROVIDER_H
#define AT_GNUTLS_PROVIDER_H

#include <stdint.h>

struct gt_probe {
	int ok;
	uint64_t vaddr, file_off;
	char why[160];
};

struct gt_result {
	int rc;			/* 0 analysed, -1 refused (why) */
	char why[200];
	char version[32];	/* "GnuTLS 3.7.9", "" when not found */
	char build_id[41];
	int64_t off_last_alert;	/* session->internals.last_alert, -1 unknown */
	int off_pversion;	/* session->security_parameters.pversion, -1 unknown */
	int off_ver_id;		/* version_entry_st.id */
	struct gt_probe send;	/* gnutls_alert_send entry */
	struct gt_probe rec;	/* the last_alert store */
	int alert_reg, session_reg; /* at rec: pt_regs words of P and of the session */
	char alert_reg_name[8], session_reg_name[8];
	int candidates;		/* stores of last_alert's offset looked at */
	/* the server name (gnutls_sni.c): ext_data[GNUTLS_EXTENSION_SERVER_NAME] */
	int off_sni_priv;	/* its priv pointer: 2-byte big-endian length, then the name */
	int off_sni_set;	/* its set flag (a byte) */
	char sni_why[160];	/* why not found; "" found */
	struct gt_probe appropriate; /* gnutls_alert_send_appropriate entry: the reason */
	int off_transport;	/* session->internals.transport_recv_ptr, which
				 * gnutls_transport_get_int reads (the fd of set_int, or the pointer of
				 * set_ptr, often an fd cast); -1 unknown */
};

/* Analyse path. Returns r->rc; never crashes on bad input. */
int gt_analyze(const char *path, struct gt_result *r);

struct bin_elf;
struct bin_fdes;
struct xf;
/* Fill r's server name offsets (-1 with sni_why when not found). */
void gt_analyse_sni(const struct bin_elf *e, const struct bin_fdes *fdes, struct xf *x,
		    struct gt_result *r);

#endif
