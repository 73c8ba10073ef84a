// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Names for the why of an alert: the X509_V_ERR code of a failed certificate verification and
 * OpenSSL's packed reason (ERR_GET_LIB << 23 | ERR_GET_REASON).
 *
 * The names come from the host's own OpenSSL where it can be loaded: libssl.so.3 (else
 * libssl.so.1.1) by its soname through the dynamic loader's own search path, never a file a
 * traced process (or a container) could have put somewhere, with OPENSSL_init_ssl(load the error
 * strings, not the configuration), then ERR_reason_error_string and X509_verify_cert_error_string.
 * The static build (make static) loads nothing (no _DYNAMIC; dlopen and dlsym are weak
 * references) and falls back to a short table of verification results written from RFC 5280 and
 * OpenSSL's openssl-verify(1) documentation, and to "reason(N)".
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "why.h"

#pragma weak dlopen
#pragma weak dlsym
/* The linker defines _DYNAMIC in a dynamic executable only: the static build may still link
 * glibc's dlopen (pulled in by its name service code), which must not load a second C library. */
extern const char _DYNAMIC[] __attribute__((weak));

#define INIT_LOAD_CRYPTO_STRINGS 0x00000002L /* include/openssl/crypto.h */
#define INIT_NO_LOAD_CONFIG 0x00000080L
#define INIT_LOAD_SSL_STRINGS 0x00200000L    /* include/openssl/ssl.h */

static struct {
	int tried;
	int v111; /* 1.1.1 packs ERR_PACK(lib, func, reason) as lib << 24 | reason */
	const char *(*reason)(unsigned long e);
	const char *(*x509)(long n);
} ossl;

static void ossl_load(void)
{
	static const char *const sonames[] = {"libssl.so.3", "libssl.so.1.1"};
	int (*init)(uint64_t opts, const void *settings);
	void *h = NULL;
	size_t i;

	if (ossl.tried)
		return;
	ossl.tried = 1;
	if (!_DYNAMIC || !dlopen || !dlsym)
		return;
	for (i = 0; i < sizeof(sonames) / sizeof(sonames[0]) && !h; i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	ossl.v111 = i == 2;
	init = (int (*)(uint64_t, const void *))dlsym(h, "OPENSSL_init_ssl");
	ossl.reason = (const char *(*)(unsigned long))dlsym(h, "ERR_reason_error_string");
	ossl.x509 = (const char *(*)(long))dlsym(h, "X509_verify_cert_error_string");
	if (!init || !init(INIT_LOAD_SSL_STRINGS | INIT_LOAD_CRYPTO_STRINGS | INIT_NO_LOAD_CONFIG,
			   NULL))
		ossl.reason = NULL;
}

/* The common verification results (X509_V_ERR_*): a short name for the text column and the
 * description. */
static const struct {
	int code;
	const char *brief, *text;
} x509[] = {
    {2, "no issuer cert", "unable to get issuer certificate"},
    {4, "bad cert sig", "unable to decrypt certificate's signature"},
    {7, "bad cert sig", "certificate signature failure"},
    {9, "not yet valid", "certificate is not yet valid"},
    {10, "expired", "certificate has expired"},
    {13, "bad notBefore", "format error in certificate's notBefore field"},
    {14, "bad notAfter", "format error in certificate's notAfter field"},
    {18, "self-signed", "self-signed certificate"},
    {19, "untrusted root", "self-signed certificate in certificate chain"},
    {20, "no local issuer", "unable to get local issuer certificate"},
    {21, "leaf unverifiable", "unable to verify the first certificate"},
    {22, "chain too long", "certificate chain too long"},
    {23, "revoked", "certificate revoked"},
    {24, "invalid CA", "invalid CA certificate"},
    {25, "path too long", "path length constraint exceeded"},
    {26, "bad purpose", "unsupported certificate purpose"},
    {27, "untrusted", "certificate not trusted"},
    {28, "rejected", "certificate rejected"},
    {62, "wrong hostname", "hostname mismatch"},
    {63, "wrong email", "email address mismatch"},
    {64, "wrong IP", "IP address mismatch"},
    {66, "key too small", "EE certificate key too weak"},
    {67, "CA key too small", "CA certificate key too weak"},
    {68, "CA md too weak", "CA signature digest algorithm too weak"},
};

static int x509_idx(__s32 code)
{
	for (size_t i = 0; i < sizeof(x509) / sizeof(x509[0]); i++)
		if (x509[i].code == code)
			return (int)i;
	return -1;
}

const char *why_verify_reason(__s32 code, char *buf, size_t n)
{
	const char *s = NULL;
	int i;

	ossl_load();
	if (ossl.x509)
		s = ossl.x509(code);
	/* OpenSSL's answer for a code it does not know */
	if (s && (!strncmp(s, "error number", 12) || !strncmp(s, "unknown certificate", 19)))
		s = NULL;
	if (!s && (i = x509_idx(code)) >= 0)
		s = x509[i].text;
	if (s)
		snprintf(buf, n, "%s", s);
	else
		snprintf(buf, n, "verify(%d)", code);
	return buf;
}

const char *why_verify_brief(__s32 code, char *buf, size_t n)
{
	int i = x509_idx(code);

	if (i >= 0)
		snprintf(buf, n, "%s", x509[i].brief);
	else
		snprintf(buf, n, "verify(%d)", code);
	return buf;
}

const char *why_reason(__u32 packed, char *buf, size_t n)
{
	unsigned lib = packed >> 23, r = packed & 0x7fffff;
	const char *s = NULL;

	ossl_load();
	if (ossl.reason && lib != WHY_LIB_SYS)
		s = ossl.reason(ossl.v111 ? (unsigned long)lib << 24 | (r & 0xfff) : packed);
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
		return why_reason(e->reason, buf, n);
	snprintf(buf, n, "-");
	return buf;
}
