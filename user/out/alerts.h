/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TLS alert table: every value of the IANA "TLS Alerts" registry (tls-parameters), with a
 * one-line description and the document that defines it.
 *
 * Reserved values: the registry spells the alerts that must no longer be sent with a _RESERVED
 * suffix (decryption_failed_RESERVED). alerttrace prints the plain name (decryption_failed)
 * everywhere a name is printed, because that is what the alert meant on the wire and what old
 * peers still send; the reserved flag says the value is obsolete, and iana_name keeps the
 * registry's exact spelling. Lookup by name accepts both spellings.
 */
#ifndef AT_ALERTS_H
#define AT_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* AlertLevel, RFC 8446 section 6 (TLS 1.3 ignores it except for close_notify/user_canceled). */
#define AT_LEVEL_WARNING 1
#define AT_LEVEL_FATAL 2

struct at_alert {
	int code;		/* AlertDescription, 0..255 */
	const char *name;	/* plain name, what alerttrace prints: "decryption_failed" */
	const char *iana_name;	/* registry spelling: "decryption_failed_RESERVED" */
	bool reserved;		/* registry marks it as not to be sent any more */
	const char *rfc;	/* defining document(s): "RFC 8446" */
	const char *desc;	/* one line, at most AT_DESC_MAX characters */
};

/* Keeps the --list-alerts table within 100 columns. */
#define AT_DESC_MAX 51

/* The entry for code, NULL when code is not assigned (or outside 0..255). */
const struct at_alert *at_alert_by_code(int code);
/* Plain or registry name, case-insensitive; NULL when there is none. */
const struct at_alert *at_alert_by_name(const char *name);
/*
 * The plain name of code, or "unknown(N)". The text is also written into buf (n bytes, may be
 * NULL/0), so callers can use either; the returned pointer is never truncated for a known code.
 */
const char *at_alert_name(int code, char *buf, size_t n);
/* "warning", "fatal", or "level(N)"; written into buf as well, like at_alert_name. */
const char *at_level_name(int level, char *buf, size_t n);

/* The --list-alerts table: a header, then one line per alert: CODE NAME STATUS DESCRIPTION. */
void at_alerts_print_table(FILE *f);

/*
 * --explain ARG: ARG is a code (strict decimal, 0..255) or a name as at_alert_by_name takes it.
 * Prints code, names, reserved flag, RFC and description and returns 0. Returns -1 and prints
 * nothing when ARG is malformed, out of range, or names no assigned alert; the caller reports it.
 */
int at_alert_explain(FILE *f, const char *arg);

#endif
