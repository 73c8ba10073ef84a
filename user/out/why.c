// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Names for the why of an alert: the X509_V_ERR code of a failed certificate verification and
 * OpenSSL's packed reason (ERR_GET_LIB << 23 | ERR_GET_REASON).
 *
 * alerttrace links the host's libcrypto (the QUIC decoder's): X509_verify_cert_error_string and
 * ERR_reason_error_string come from it, the static build's included. The SSL library's reasons
 * are libssl's strings: the dynamic build loads the host's libssl.so.3 by its soname through the
 * dynamic loader's own search path, never a file a traced process (or a container) could have
 * put somewhere, and registers them with OPENSSL_init_ssl (the error strings, not the
 * configuration). The static build loads nothing (no _DYNAMIC; dlopen and dlsym are weak
 * references): it names the SSL library's reasons "reason(N)".
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include "why.h"

#pragma weak dlopen
#pragma weak dlsym
/* The linker defines _DYNAMIC in a dynamic executable only: the static build may still link
 * glibc's dlopen (pulled in by its name service code), which must not load a second C library. */
extern const char _DYNAMIC[] __attribute__((weak));

#define INIT_LOAD_SSL_STRINGS 0x00200000L /* include/openssl/ssl.h */

static void strings_load(void)
{
	static int tried;
	int (*init)(uint64_t opts, const void *settings);
	void *h;

	if (tried)
		return;
	tried = 1;
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if (!_DYNAMIC || !dlopen || !dlsym)
		return;
	h = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
	init = h ? (int (*)(uint64_t, const void *))dlsym(h, "OPENSSL_init_ssl") : NULL;
	if (init)
		init(INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
}

/* Short names of the common verification results (X509_V_ERR_*, RFC 5280 6.1 and OpenSSL's
 * openssl-verify(1)) for the text column. */
static const struct {
	int code;
	const char *brief;
} x509[] = {
    {2, "no issuer cert"},   {4, "bad cert sig"},	   {7, "bad cert sig"},
    {9, "not yet valid"},    {10, "expired"},		   {13, "bad notBefore"},
    {14, "bad notAfter"},    {18, "self-signed"},	   {19, "untrusted root"},
    {20, "no local issuer"}, {21, "leaf unverifiable"}, {22, "chain too long"},
    {23, "revoked"},	     {24, "invalid CA"},	   {25, "path too long"},
    {26, "bad purpose"},     {27, "untrusted"},	   {28, "rejected"},
    {62, "wrong hostname"},  {63, "wrong email"},	   {64, "wrong IP"},
    {66, "key too small"},   {67, "CA key too small"},  {68, "CA md too weak"},
};

static int x509_idx(__s32 code)
{
	for (size_t i = 0; i < sizeof(x509) / sizeof(x509[0]); i++)
		if (x509[i].code == code)
			return (int)i;
	return -1;
}

/* s into buf, or "fmt(v)" when the library had no name (s NULL, or its text for unknown codes,
 * which starts with unknown). */
static const char *name_or(const char *s, const char *unknown, const char *fmt, int v, char *buf,
			   size_t n)
{
	if (s && (!unknown || strncmp(s, unknown, strlen(unknown))))
		snprintf(buf, n, "%s", s);
	else
		snprintf(buf, n, fmt, v);
	return buf;
}

const char *why_verify_reason(__s32 code, char *buf, size_t n)
{
	const char *s = X509_verify_cert_error_string(code);

	/* OpenSSL 3's answer for a code it does not know */
	return name_or(s, "unknown certificate", "verify(%d)", code, buf, n);
}

const char *why_verify_brief(__s32 code, char *buf, size_t n)
{
	int i = x509_idx(code);

	return name_or(i >= 0 ? x509[i].brief : NULL, NULL, "verify(%d)", code, buf, n);
}

/* GnuTLS's text of its error code, from the host's libgnutls.so.30 (by its soname; not in the
 * static build), else "gnutls(N)". */
static const char *gnutls_reason(int err, char *buf, size_t n)
{
	static const char *(*strerr)(int);
	static int tried;
	const char *s = NULL;
	void *h;

	if (!tried) {
		tried = 1;
		h = _DYNAMIC && dlopen && dlsym ? dlopen("libgnutls.so.30", RTLD_NOW | RTLD_LOCAL)
						: NULL;
		strerr = h ? (const char *(*)(int))dlsym(h, "gnutls_strerror") : NULL;
	}
	if (strerr)
		s = strerr(err);
	return name_or(s, "(unknown error code)", "gnutls(%d)", err, buf, n);
}

const char *why_reason(__u8 source, __u32 packed, char *buf, size_t n)
{
	unsigned lib = packed >> 23, r = packed & 0x7fffff;
	const char *s = NULL;

	if (source == AT_SRC_GNUTLS)
		return gnutls_reason((int)packed, buf, n);
	strings_load();
	if (lib != WHY_LIB_SYS)
		s = ERR_reason_error_string(packed);
	if (s && s[0])
		snprintf(buf, n, "%s", s);
	else if (lib == WHY_LIB_SYS && r)
		snprintf(buf, n, "system error %u: %s", r, strerror((int)r));
	else if (lib == WHY_LIB_SSL)
		snprintf(buf, n, "reason(%u)", r);
	else
		snprintf(buf, n, "reason(%u:%u)", lib, r);
	return buf;
}

const char *why_text(const struct at_event *e, bool brief, char *buf, size_t n)
{
	if (e->xflags & AT_X_VERIFY)
		return brief ? why_verify_brief(e->verify_error, buf, n)
			     : why_verify_reason(e->verify_error, buf, n);
	if (e->xflags & AT_X_REASON)
		return why_reason(e->source, e->reason, buf, n);
	snprintf(buf, n, "-");
	return buf;
}
