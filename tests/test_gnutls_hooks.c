// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The GnuTLS analyser (user/tls/gnutls.c) against witnesses it does not compute itself: binutils'
 * nm and objdump on the same file, and gnutls-cli's own version line.
 *   - last_alert's offset is the displacement objdump shows in gnutls_alert_get;
 *   - the receive probe is an instruction objdump shows as a 32-bit store to that displacement,
 *     whose base register is the session register the analyser chose, right after a movzbl of
 *     byte 1 from the register the analyser chose for the alert bytes;
 *   - pversion's offset is what objdump shows gnutls_protocol_get_version reading from %rdi;
 *   - the version text is "GnuTLS " + the version gnutls-cli --version prints (same package);
 *   - files that are not GnuTLS are refused with a reason, never a crash.
 * With a GnuTLS 3.8 root (tools/mkroot-trixie.sh) its library is checked the same way.
 *   test_gnutls_hooks [LIB]   one file: print what the analyser found
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include "gnutls_hooks.h"
#include "testlib.h"

#define HOST_LIB "/usr/lib/x86_64-linux-gnu/libgnutls.so.30"

/* cmd's whole output, up to n bytes; 0 when it exited 0. */
static int run(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t got;

	if (!p)
		return -1;
	got = fread(out, 1, n - 1, p);
	out[got] = 0;
	return pclose(p) == 0 ? 0 : -1;
}

static unsigned long long sym_addr(const char *lib, const char *sym)
{
	char cmd[512], out[256];

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s | awk '{sub(/@.*/, \"\", $3)} $3 == \"%s\" {print $1}'", lib,
		 sym);
	if (run(cmd, out, sizeof(out)) || !out[0])
		return 0;
	return strtoull(out, NULL, 16);
}

/* objdump's text of [va, va + len). */
static int disasm(const char *lib, unsigned long long va, int len, char *out, size_t n)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "objdump -d --no-show-raw-insn --start-address=0x%llx --stop-address=0x%llx %s",
		 va, va + len, lib);
	return run(cmd, out, n);
}

static void check_lib(const char *tag, const char *lib, const char *cli_version_cmd)
{
	static char out[8192];
	struct gt_result r;
	char name[128], want[160], *p;
	unsigned long long a;

	if (gt_analyze(lib, &r)) {
		snprintf(name, sizeof(name), "%s_analysed", tag);
		FAILF(name, "expected the file analysed, got refused: %s", r.why);
		return;
	}
	printf("   %s: %s, last_alert +0x%llx, store at 0x%llx (session %s, alert %s), "
	       "pversion +0x%x id +0x%x, %d candidate disp32 hits\n",
	       lib, r.version, (unsigned long long)r.off_last_alert,
	       (unsigned long long)r.rec.vaddr, r.session_reg_name, r.alert_reg_name, r.off_pversion,
	       r.off_ver_id, r.candidates);

	/* last_alert: objdump of gnutls_alert_get */
	a = sym_addr(lib, "gnutls_alert_get");
	snprintf(name, sizeof(name), "%s_last_alert_offset_is_what_gnutls_alert_get_reads", tag);
	snprintf(want, sizeof(want), "mov    0x%llx(%%rdi),%%eax",
		 (unsigned long long)r.off_last_alert);
	if (!a || disasm(lib, a, 16, out, sizeof(out)))
		FAILF(name, "nm/objdump could not show gnutls_alert_get");
	else if (!strstr(out, want))
		FAILF(name, "expected '%s' in objdump's gnutls_alert_get, got:\n%s", want, out);
	else
		PASS(name);

	/* the store, and the load of byte 1 before it */
	snprintf(name, sizeof(name), "%s_receive_probe_is_the_store_after_the_byte_load", tag);
	if (!r.rec.ok) {
		FAILF(name, "expected a receive probe, got: %s", r.rec.why);
	} else if (disasm(lib, r.rec.vaddr - 4, 10, out, sizeof(out))) {
		FAILF(name, "objdump failed at 0x%llx", (unsigned long long)r.rec.vaddr);
	} else {
		char st[96], ld[96];

		snprintf(st, sizeof(st), "%llx:\tmov    %%e", (unsigned long long)r.rec.vaddr);
		snprintf(ld, sizeof(ld), "movzbl 0x1(%%%s),%%e", r.alert_reg_name);
		snprintf(want, sizeof(want), ",0x%llx(%%%s)", (unsigned long long)r.off_last_alert,
			 r.session_reg_name);
		p = strstr(out, st);
		if (!p || !strstr(p, want) || !strstr(out, ld))
			FAILF(name, "expected '%s...%s' after '%s', got:\n%s", st, want, ld, out);
		else
			PASS(name);
	}

	/* pversion: objdump of gnutls_protocol_get_version */
	a = sym_addr(lib, "gnutls_protocol_get_version");
	snprintf(name, sizeof(name), "%s_pversion_offset_is_what_protocol_get_version_reads", tag);
	snprintf(want, sizeof(want), "mov    0x%x(%%rdi),%%rax", r.off_pversion);
	if (!a || disasm(lib, a, 32, out, sizeof(out)))
		FAILF(name, "nm/objdump could not show gnutls_protocol_get_version");
	else if (r.off_pversion < 0 || !strstr(out, want))
		FAILF(name, "expected '%s' in objdump's gnutls_protocol_get_version, got:\n%s", want,
		      out);
	else
		PASS(name);

	snprintf(name, sizeof(name), "%s_version_is_gnutls_cli_version", tag);
	if (run(cli_version_cmd, out, sizeof(out)) || !(p = strstr(out, "gnutls-cli "))) {
		FAILF(name, "'%s' printed no version", cli_version_cmd);
	} else {
		p[strcspn(p, "\n")] = 0;
		snprintf(want, sizeof(want), "GnuTLS %s", p + strlen("gnutls-cli "));
		if (CHECK_STR(name, want, r.version))
			PASS(name);
	}
	snprintf(name, sizeof(name), "%s_send_probe_at_gnutls_alert_send", tag);
	if (CHECK_EQ(name, sym_addr(lib, "gnutls_alert_send"), (unsigned long long)r.send.vaddr))
		PASS(name);
}

static void expect_refused(const char *name, const char *path, const char *want)
{
	struct gt_result r;

	if (gt_analyze(path, &r) == 0)
		FAILF(name, "expected refused ('%s'), got analysed", want);
	else if (!strstr(r.why, want))
		FAILF(name, "expected a reason with '%s', got '%s'", want, r.why);
	else
		PASS(name);
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/at_gt_XXXXXX", cmd[600];
	glob_t g;

	if (argc > 1) {
		struct gt_result r;

		gt_analyze(argv[1], &r);
		printf("rc=%d why=%s version=%s store=0x%llx off=0x%llx sni_priv=0x%x sni_set=0x%x "
		       "sni_why=%s\n",
		       r.rc, r.why, r.version, (unsigned long long)r.rec.vaddr,
		       (unsigned long long)r.off_last_alert, r.off_sni_priv, r.off_sni_set, r.sni_why);
		return r.rc ? 1 : 0;
	}
	check_lib("gnutls37", HOST_LIB, "gnutls-cli --version 2>&1");
	/* GnuTLS 3.8 in the trixie root that the version tests use, when it is there. */
	if (glob("/var/tmp/alerttrace-trixie/usr/lib/x86_64-linux-gnu/libgnutls.so.30.*", 0, NULL,
		 &g) == 0) {
		check_lib("gnutls38", g.gl_pathv[0],
			  "chroot /var/tmp/alerttrace-trixie gnutls-cli --version 2>&1");
		globfree(&g);
	} else {
		printf("   no GnuTLS 3.8 root in /var/tmp/alerttrace-trixie: checked by "
		       "tests/versions/t_gnutls38.sh\n");
	}
	expect_refused("refuses_libz", "/usr/lib/x86_64-linux-gnu/libz.so.1", "not a GnuTLS");
	expect_refused("refuses_missing_file", "/nonexistent/libgnutls.so.30", "cannot open");
	if (mkstemp(tmp) >= 0) {
		snprintf(cmd, sizeof(cmd), "head -c 100000 /dev/urandom > %s", tmp);
		if (system(cmd) == 0)
			expect_refused("refuses_random_bytes", tmp, "ELF");
		/* the real library cut in the middle: less, never a crash */
		snprintf(cmd, sizeof(cmd), "head -c 300000 %s > %s", HOST_LIB, tmp);
		if (system(cmd) == 0) {
			struct gt_result r;

			gt_analyze(tmp, &r);
			if (r.rc == 0 && r.rec.ok)
				FAILF("truncated_library_places_no_receive_probe",
				      "expected no probe in a cut file, got one at 0x%llx",
				      (unsigned long long)r.rec.vaddr);
			else
				PASS("truncated_library_places_no_receive_probe");
		}
		unlink(tmp);
	}
	return tl_failed;
}
