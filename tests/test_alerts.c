// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The alert table against the IANA "TLS Alerts" registry, written out here by hand (not taken
 * from the table under test), and the name/level/explain/table helpers built on it.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "alerts.h"

/* IANA TLS Alerts registry, every assigned value, with the registry's spelling. */
static const struct {
	int code;
	const char *iana;
} registry[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 21, "decryption_failed_RESERVED" },
	{ 22, "record_overflow" },
	{ 30, "decompression_failure_RESERVED" },
	{ 40, "handshake_failure" },
	{ 41, "no_certificate_RESERVED" },
	{ 42, "bad_certificate" },
	{ 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" },
	{ 45, "certificate_expired" },
	{ 46, "certificate_unknown" },
	{ 47, "illegal_parameter" },
	{ 48, "unknown_ca" },
	{ 49, "access_denied" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 52, "too_many_cids_requested" },
	{ 60, "export_restriction_RESERVED" },
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 86, "inappropriate_fallback" },
	{ 90, "user_canceled" },
	{ 100, "no_renegotiation_RESERVED" },
	{ 109, "missing_extension" },
	{ 110, "unsupported_extension" },
	{ 111, "certificate_unobtainable_RESERVED" },
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 114, "bad_certificate_hash_value_RESERVED" },
	{ 115, "unknown_psk_identity" },
	{ 116, "certificate_required" },
	{ 120, "no_application_protocol" },
	{ 121, "ech_required" },
};

#define N_REG ((int)(sizeof(registry) / sizeof(registry[0])))
#define SUFFIX "_RESERVED"

static int reg_index(int code)
{
	int i;

	for (i = 0; i < N_REG; i++)
		if (registry[i].code == code)
			return i;
	return -1;
}

/* The plain name: the registry name without _RESERVED. */
static void plain_name(const char *iana, char *out, size_t n)
{
	size_t len = strlen(iana), sl = strlen(SUFFIX);

	if (len > sl && !strcmp(iana + len - sl, SUFFIX))
		len -= sl;
	snprintf(out, n, "%.*s", (int)len, iana);
}

static int is_reserved(const char *iana)
{
	return strstr(iana, SUFFIX) != NULL;
}

static void test_every_registry_code_decodes_to_its_name(void)
{
	const char *name = "every_registry_code_decodes_to_its_name";
	char buf[32], exp[64];
	const struct at_alert *a;
	int i, ok = 1;

	for (i = 0; i < N_REG; i++) {
		int code = registry[i].code;

		plain_name(registry[i].iana, exp, sizeof(exp));
		a = at_alert_by_code(code);
		if (!a) {
			FAILF(name, "code %d: expected an entry, got NULL", code);
			ok = 0;
			continue;
		}
		memset(buf, 'x', sizeof(buf));
		ok &= CHECK_STR(name, exp, at_alert_name(code, buf, sizeof(buf)));
		ok &= CHECK_STR(name, exp, buf);	/* callers may print buf instead */
		ok &= CHECK_STR(name, exp, a->name);
		ok &= CHECK_STR(name, registry[i].iana, a->iana_name);
		ok &= CHECK_EQ(name, code, a->code);
		ok &= CHECK_EQ(name, is_reserved(registry[i].iana), a->reserved);
	}
	if (ok)
		PASS(name);
}

static void test_every_entry_has_rfc_and_one_line_description(void)
{
	const char *name = "every_entry_has_rfc_and_one_line_description";
	const struct at_alert *a;
	int i, ok = 1;

	for (i = 0; i < N_REG; i++) {
		a = at_alert_by_code(registry[i].code);
		if (!a)
			continue;	/* reported by the test above */
		if (!a->rfc || strncmp(a->rfc, "RFC ", 4) || strlen(a->rfc) < 8) {
			FAILF(name, "code %d: rfc \"%s\" is not \"RFC NNNN\"", a->code,
			      a->rfc ? a->rfc : "(null)");
			ok = 0;
		}
		if (!a->desc || !*a->desc || strlen(a->desc) > AT_DESC_MAX ||
		    strpbrk(a->desc, "\n\t\r")) {
			FAILF(name, "code %d: description missing, longer than %d or multi-line",
			      a->code, AT_DESC_MAX);
			ok = 0;
		}
	}
	if (ok)
		PASS(name);
}

static void test_unassigned_codes_decode_as_unknown(void)
{
	const char *name = "unassigned_codes_0_255_decode_as_unknown_n";
	char buf[32], exp[32];
	int code, ok = 1, assigned = 0;

	for (code = 0; code <= 255; code++) {
		if (reg_index(code) >= 0) {
			assigned++;
			continue;
		}
		snprintf(exp, sizeof(exp), "unknown(%d)", code);
		ok &= CHECK_STR(name, exp, at_alert_name(code, buf, sizeof(buf)));
		if (at_alert_by_code(code)) {
			FAILF(name, "code %d: expected NULL entry", code);
			ok = 0;
		}
	}
	ok &= CHECK_EQ(name, 36, assigned);
	if (ok)
		PASS(name);
}

static void test_255_is_not_unsupported_extension(void)
{
	const char *name = "code_255_is_unknown_unsupported_extension_is_110";
	char buf[32];
	int ok = 1;

	ok &= CHECK_STR(name, "unknown(255)", at_alert_name(255, buf, sizeof(buf)));
	ok &= CHECK_EQ(name, 1, at_alert_by_code(255) == NULL);
	ok &= CHECK_STR(name, "unsupported_extension", at_alert_name(110, buf, sizeof(buf)));
	if (ok)
		PASS(name);
}

static void test_out_of_range_codes(void)
{
	const char *name = "out_of_range_codes_are_unknown";
	char buf[32], small[6];
	int ok = 1;

	ok &= CHECK_STR(name, "unknown(-1)", at_alert_name(-1, buf, sizeof(buf)));
	ok &= CHECK_STR(name, "unknown(256)", at_alert_name(256, buf, sizeof(buf)));
	ok &= CHECK_EQ(name, 1, at_alert_by_code(-1) == NULL && at_alert_by_code(256) == NULL);
	/* A short buffer is truncated, still terminated. */
	ok &= CHECK_STR(name, "unkno", at_alert_name(200, small, sizeof(small)));
	/* Without a buffer there is still something to print. */
	ok &= CHECK_STR(name, "unknown", at_alert_name(200, NULL, 0));
	ok &= CHECK_STR(name, "unknown_ca", at_alert_name(48, NULL, 0));
	if (ok)
		PASS(name);
}

static void test_level_names(void)
{
	const char *name = "level_names_warning_fatal_else_level_n";
	char buf[16];
	int ok = 1;

	ok &= CHECK_STR(name, "warning", at_level_name(1, buf, sizeof(buf)));
	ok &= CHECK_STR(name, "fatal", at_level_name(2, buf, sizeof(buf)));
	ok &= CHECK_STR(name, "level(0)", at_level_name(0, buf, sizeof(buf)));
	ok &= CHECK_STR(name, "level(3)", at_level_name(3, buf, sizeof(buf)));
	ok &= CHECK_STR(name, "level(255)", at_level_name(255, buf, sizeof(buf)));
	ok &= CHECK_STR(name, "fatal", at_level_name(2, NULL, 0));
	/* The buffer is filled for the named levels too: callers may print either. */
	memset(buf, 'x', sizeof(buf));
	at_level_name(1, buf, sizeof(buf));
	ok &= CHECK_STR(name, "warning", buf);
	at_level_name(2, buf, sizeof(buf));
	ok &= CHECK_STR(name, "fatal", buf);
	if (ok)
		PASS(name);
}

static void test_by_name_both_spellings(void)
{
	const char *name = "by_name_accepts_plain_and_registry_names_any_case";
	const struct at_alert *a;
	char plain[64], upper[64];
	int i, j, ok = 1;

	for (i = 0; i < N_REG; i++) {
		int code = registry[i].code;

		plain_name(registry[i].iana, plain, sizeof(plain));
		snprintf(upper, sizeof(upper), "%s", registry[i].iana);
		for (j = 0; upper[j]; j++)
			if (upper[j] >= 'a' && upper[j] <= 'z')
				upper[j] -= 'a' - 'A';
		a = at_alert_by_name(plain);
		ok &= CHECK_EQ(name, code, a ? a->code : -1);
		a = at_alert_by_name(registry[i].iana);
		ok &= CHECK_EQ(name, code, a ? a->code : -1);
		a = at_alert_by_name(upper);
		ok &= CHECK_EQ(name, code, a ? a->code : -1);
	}
	a = at_alert_by_name("Decryption_Failed_reserved");
	ok &= CHECK_EQ(name, 21, a ? a->code : -1);
	/* _RESERVED belongs only to the reserved values. */
	ok &= CHECK_EQ(name, 1, at_alert_by_name("unknown_ca_RESERVED") == NULL);
	ok &= CHECK_EQ(name, 1, at_alert_by_name("nosuch") == NULL);
	ok &= CHECK_EQ(name, 1, at_alert_by_name("") == NULL);
	ok &= CHECK_EQ(name, 1, at_alert_by_name(NULL) == NULL);
	/* The seed document's spelling is not the registry's. */
	ok &= CHECK_EQ(name, 1, at_alert_by_name("user_cancelled") == NULL);
	if (ok)
		PASS(name);
}

/* Run at_alert_explain into memory; returns its result, output in *out (caller frees). */
static int explain(const char *arg, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	int ret;

	if (!f) {
		*out = NULL;
		return -2;
	}
	ret = at_alert_explain(f, arg);
	fclose(f);
	return ret;
}

static void test_explain_by_number_and_name(void)
{
	const char *name = "explain_by_number_and_by_name_print_the_same";
	const char *args[] = { "48", "unknown_ca", "UNKNOWN_CA", "048" };
	char *first = NULL, *out;
	int i, ok = 1;

	for (i = 0; i < 4; i++) {
		ok &= CHECK_EQ(name, 0, explain(args[i], &out));
		if (!out)
			continue;
		if (!first) {
			first = out;
			continue;
		}
		if (strcmp(first, out)) {
			FAILF(name, "explain %s differs from explain %s", args[i], args[0]);
			ok = 0;
		}
		free(out);
	}
	if (first) {
		const char *want[] = { "code:        48\n", "name:        unknown_ca\n",
				       "iana name:   unknown_ca\n", "reserved:    no\n",
				       "defined in:  RFC 8446\n", "description: " };

		for (i = 0; i < 6; i++) {
			if (!strstr(first, want[i])) {
				FAILF(name, "expected \"%.*s\" in:\n%s", (int)strlen(want[i]) - 1,
				      want[i], first);
				ok = 0;
			}
		}
	}
	free(first);
	if (ok)
		PASS(name);
}

static void test_explain_reserved(void)
{
	const char *name = "explain_reserved_shows_both_names_and_flag";
	const char *want[] = { "code:        21\n", "name:        decryption_failed\n",
			       "iana name:   decryption_failed_RESERVED\n", "reserved:    yes" };
	char *out;
	int i, ok = 1;

	ok &= CHECK_EQ(name, 0, explain("decryption_failed_RESERVED", &out));
	for (i = 0; out && i < 4; i++) {
		if (!strstr(out, want[i])) {
			FAILF(name, "expected \"%s\" in:\n%s", want[i], out);
			ok = 0;
		}
	}
	free(out);
	if (ok)
		PASS(name);
}

static void test_explain_bad_arguments(void)
{
	const char *name = "explain_bad_arguments_return_minus_1_print_nothing";
	const char *bad[] = { "48x", "-1", "256", "", "nosuch", " 48", "48 ", "+48", "0x30",
			      "255", "1000000000000000000000", "4 8", "unknown_ca ", "1,2" };
	char *out;
	size_t i;
	int ok = 1, ret;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = explain(bad[i], &out);
		if (ret != -1 || (out && *out)) {
			FAILF(name, "\"%s\": expected -1 and no output, got %d and \"%s\"", bad[i],
			      ret, out ? out : "(null)");
			ok = 0;
		}
		free(out);
	}
	ret = explain(NULL, &out);
	ok &= CHECK_EQ(name, -1, ret);
	free(out);
	if (ok)
		PASS(name);
}

static void test_table(void)
{
	const char *name = "list_table_has_every_alert_aligned_within_100_cols";
	char *out = NULL, *line, *save, plain[64];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int ok = 1, rows = 0, desc_col = -1, code;
	const struct at_alert *a;

	if (!f) {
		FAILF(name, "open_memstream failed");
		return;
	}
	at_alerts_print_table(f);
	fclose(f);
	if (strchr(out, '\t')) {
		FAILF(name, "table contains a tab");
		ok = 0;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *d;
		int col;

		if (strlen(line) > 100) {
			FAILF(name, "line longer than 100 columns (%zu): %s", strlen(line), line);
			ok = 0;
		}
		if (!strncmp(line, "CODE", 4)) {
			d = strstr(line, "DESCRIPTION");
			desc_col = d ? d - line : -1;
			if (rows) {
				FAILF(name, "header not first");
				ok = 0;
			}
			continue;
		}
		code = atoi(line);
		a = at_alert_by_code(code);
		if (!a || reg_index(code) < 0) {
			FAILF(name, "row for unassigned code: %s", line);
			ok = 0;
			continue;
		}
		rows++;
		plain_name(registry[reg_index(code)].iana, plain, sizeof(plain));
		if (!strstr(line, plain) || strstr(line, SUFFIX)) {
			FAILF(name, "row for %d lacks the plain name %s: %s", code, plain, line);
			ok = 0;
		}
		if (!!strstr(line, " reserved ") != is_reserved(registry[reg_index(code)].iana)) {
			FAILF(name, "row for %d: reserved marker wrong: %s", code, line);
			ok = 0;
		}
		d = strstr(line, a->desc);
		col = d ? d - line : -2;
		if (col != desc_col) {
			FAILF(name, "row for %d: description at column %d, header at %d", code,
			      col, desc_col);
			ok = 0;
		}
	}
	ok &= CHECK_EQ(name, N_REG, rows);
	ok &= CHECK_EQ(name, 1, desc_col > 0);
	free(out);
	if (ok)
		PASS(name);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_every_registry_code_decodes_to_its_name();
	test_every_entry_has_rfc_and_one_line_description();
	test_unassigned_codes_decode_as_unknown();
	test_255_is_not_unsupported_extension();
	test_out_of_range_codes();
	test_level_names();
	test_by_name_both_spellings();
	test_explain_by_number_and_name();
	test_explain_reserved();
	test_explain_bad_arguments();
	test_table();
	return tl_failed ? 1 : 0;
}
