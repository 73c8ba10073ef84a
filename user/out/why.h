/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Names for an event's why: its certificate verification result and the library's reason. */
#ifndef AT_WHY_H
#define AT_WHY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "alerttrace.h"

#define WHY_LIB_SYS 2  /* ERR_LIB_SYS: the reason is an errno */
#define WHY_LIB_SSL 20 /* ERR_LIB_SSL */

/* "certificate has expired" for X509_V_ERR 10 (the linked libcrypto), else "verify(N)". */
const char *why_verify_reason(__s32 code, char *buf, size_t n);
/* A short form for the text column: "expired", "self-signed", "wrong hostname". */
const char *why_verify_brief(__s32 code, char *buf, size_t n);
/* The reason of an event of source: openssl: "no shared cipher" for a packed reason
 * (ERR_GET_LIB << 23 | ERR_GET_REASON), from the linked libcrypto with the host's libssl's
 * strings, else "reason(N)" (ERR_LIB_SSL) or "reason(LIB:N)"; gnutls: gnutls_strerror of the
 * error code (a negative int), else "gnutls(N)". */
const char *why_reason(__u8 source, __u32 reason, char *buf, size_t n);
/* The text column: the verification result (brief or full), else the reason, else "-". */
const char *why_text(const struct at_event *e, bool brief, char *buf, size_t n);

#endif
