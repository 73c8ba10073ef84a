// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The TLS alert table. Source: the IANA "TLS Alerts" registry (tls-parameters). The rfc column
 * names the document that gives the alert its meaning: RFC 8446 section 6.2 for the TLS 1.3
 * alerts, the extension's RFC for the others, and for reserved values the last RFC that still
 * allowed sending them. Code 255 is unassigned (some old lists show unsupported_extension there;
 * the registry has it at 110).
 */
#include <string.h>
#include <strings.h>

#include "alerts.h"
#include "strutil.h"

#define A(c, n, iana, rsv, r, d) [c] = { c, n, iana, rsv, r, d }
#define CUR(c, n, r, d) A(c, #n, #n, false, r, d)
#define RSV(c, n, r, d) A(c, #n, #n "_RESERVED", true, r, d)

/* Indexed by code; an entry whose name is NULL is unassigned. */
static const struct at_alert alerts[256] = {
	CUR(0, close_notify, "RFC 8446", "Sender will send no more data on this connection"),
	CUR(10, unexpected_message, "RFC 8446",
	    "A message arrived that is not valid at this point"),
	CUR(20, bad_record_mac, "RFC 8446", "A record failed its integrity check (MAC or AEAD)"),
	RSV(21, decryption_failed, "RFC 2246",
	    "Bad CBC padding or length; TLS 1.0 only, now unused"),
	CUR(22, record_overflow, "RFC 8446", "A record was longer than the protocol allows"),
	RSV(30, decompression_failure, "RFC 5246",
	    "Record decompression failed (TLS 1.2 and older)"),
	CUR(40, handshake_failure, "RFC 8446", "No set of security parameters both sides accept"),
	RSV(41, no_certificate, "RFC 6101", "No certificate to send (SSL 3.0 only)"),
	CUR(42, bad_certificate, "RFC 8446", "A certificate was corrupt or its signature invalid"),
	CUR(43, unsupported_certificate, "RFC 8446", "The certificate is of an unsupported type"),
	CUR(44, certificate_revoked, "RFC 8446", "The certificate has been revoked by its issuer"),
	CUR(45, certificate_expired, "RFC 8446", "The certificate has expired or is not yet valid"),
	CUR(46, certificate_unknown, "RFC 8446", "The certificate was rejected for another reason"),
	CUR(47, illegal_parameter, "RFC 8446",
	    "A handshake field was out of range or inconsistent"),
	CUR(48, unknown_ca, "RFC 8446", "The chain's CA is unknown or not trusted"),
	CUR(49, access_denied, "RFC 8446", "Valid certificate, but access control refused it"),
	CUR(50, decode_error, "RFC 8446", "A message was malformed or had a wrong length"),
	CUR(51, decrypt_error, "RFC 8446", "Handshake crypto check failed (signature, Finished)"),
	CUR(52, too_many_cids_requested, "RFC 9147", "Peer requested too many DTLS connection IDs"),
	RSV(60, export_restriction, "RFC 2246", "Parameters broke export rules (TLS 1.0 only)"),
	CUR(70, protocol_version, "RFC 8446", "The offered protocol version is not supported"),
	CUR(71, insufficient_security, "RFC 8446",
	    "Peer's ciphers are weaker than this side requires"),
	CUR(80, internal_error, "RFC 8446", "A local failure unrelated to the peer or protocol"),
	CUR(86, inappropriate_fallback, "RFC 7507",
	    "Needless fallback to an older version (downgrade)"),
	CUR(90, user_canceled, "RFC 8446", "Handshake aborted for a reason outside the protocol"),
	RSV(100, no_renegotiation, "RFC 5246",
	    "Renegotiation request declined (TLS 1.2 and older)"),
	CUR(109, missing_extension, "RFC 8446", "A required extension was missing (TLS 1.3)"),
	CUR(110, unsupported_extension, "RFC 8446", "An extension arrived where it is not allowed"),
	RSV(111, certificate_unobtainable, "RFC 6066",
	    "Certificate could not be fetched from its URL"),
	CUR(112, unrecognized_name, "RFC 6066", "No server matches the requested SNI host name"),
	CUR(113, bad_certificate_status_response, "RFC 6066",
	    "Certificate status (OCSP) response was bad"),
	RSV(114, bad_certificate_hash_value, "RFC 6066",
	    "Fetched certificate did not match its hash"),
	CUR(115, unknown_psk_identity, "RFC 4279", "No key is known for the offered PSK identity"),
	CUR(116, certificate_required, "RFC 8446",
	    "A client certificate is required but none was sent"),
	CUR(120, no_application_protocol, "RFC 7301",
	    "Server supports none of the ALPN protocols offered"),
	CUR(121, ech_required, "RFC 9849", "ECH was rejected by the server; client aborts"),
};

#define N_CODES ((int)(sizeof(alerts) / sizeof(alerts[0])))

const struct at_alert *at_alert_by_code(int code)
{
	if (code < 0 || code >= N_CODES || !alerts[code].name)
		return NULL;
	return &alerts[code];
}

const struct at_alert *at_alert_by_name(const char *name)
{
	int i;

	if (!name)
		return NULL;
	for (i = 0; i < N_CODES; i++) {
		if (!alerts[i].name)
			continue;
		if (!strcasecmp(name, alerts[i].name) || !strcasecmp(name, alerts[i].iana_name))
			return &alerts[i];
	}
	return NULL;
}

const char *at_alert_name(int code, char *buf, size_t n)
{
	const struct at_alert *a = at_alert_by_code(code);

	if (buf && n) {
		if (a)
			snprintf(buf, n, "%s", a->name);
		else
			snprintf(buf, n, "unknown(%d)", code);
	}
	if (a)
		return a->name;
	return buf && n ? buf : "unknown";
}

const char *at_level_name(int level, char *buf, size_t n)
{
	const char *s = NULL;

	if (level == AT_LEVEL_WARNING)
		s = "warning";
	else if (level == AT_LEVEL_FATAL)
		s = "fatal";
	if (buf && n) {
		if (s)
			snprintf(buf, n, "%s", s);
		else
			snprintf(buf, n, "level(%d)", level);
	}
	if (s)
		return s;
	return buf && n ? buf : "level";
}

void at_alerts_print_table(FILE *f)
{
	int i, w = 4;	/* at least as wide as the header "NAME" */

	for (i = 0; i < N_CODES; i++) {
		if (alerts[i].name && (int)strlen(alerts[i].name) > w)
			w = strlen(alerts[i].name);
	}
	fprintf(f, "CODE  %-*s  %-8s  %s\n", w, "NAME", "STATUS", "DESCRIPTION");
	for (i = 0; i < N_CODES; i++) {
		if (!alerts[i].name)
			continue;
		fprintf(f, "%4d  %-*s  %-8s  %s\n", i, w, alerts[i].name,
			alerts[i].reserved ? "reserved" : "current", alerts[i].desc);
	}
}

int at_alert_explain(FILE *f, const char *arg)
{
	const struct at_alert *a;
	__u32 code;

	if (!arg)
		return -1;
	/* No alert name starts with a digit: a leading digit means a number, strictly. */
	if (*arg >= '0' && *arg <= '9') {
		if (parse_u32(arg, 255, &code))
			return -1;
		a = at_alert_by_code(code);
	} else {
		a = at_alert_by_name(arg);
	}
	if (!a)
		return -1;
	fprintf(f, "code:        %d\n", a->code);
	fprintf(f, "name:        %s\n", a->name);
	fprintf(f, "iana name:   %s\n", a->iana_name);
	fprintf(f, "reserved:    %s\n",
		a->reserved ? "yes (obsolete: the registry says it must not be sent)" : "no");
	fprintf(f, "defined in:  %s\n", a->rfc);
	fprintf(f, "description: %s\n", a->desc);
	return 0;
}
