// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Driver for the hook analyser (user/ossl_hooks.c).
 *   test_ossl_hooks PATH [ROOT]  analyse PATH, print the oh_result as key=value lines (exit 0
 *                                 when analysed, 1 when refused) and the time it took.
 *   test_ossl_hooks               built-in checks: malformed and foreign inputs are refused with
 *                                 a reason and never crash; the cache returns one result per file.
 * tests/t_analyser.sh compares the printed values with the truth from nm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "ossl_hooks.h"
#include "testlib.h"

#define SYS_LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void print_probe(const char *k, const struct oh_probe *p)
{
	printf("%s.ok=%d\n%s.vaddr=0x%llx\n%s.file_off=0x%llx\n%s.why=%s\n", k, p->ok, k,
	       (unsigned long long)p->vaddr, k, (unsigned long long)p->file_off, k, p->why);
}

static void print_read(const char *k, const struct oh_read_probe *r)
{
	print_probe(k, &r->p);
	printf("%s.func=0x%llx\n%s.func_end=0x%llx\n%s.alert_reg=%d\n%s.alert_reg_name=%s\n"
	       "%s.alert_is_ptr=%d\n%s.ssl_reg=%d\n%s.ssl_reg_name=%s\n%s.ssl_is_conn=%d\n",
	       k, (unsigned long long)r->func, k, (unsigned long long)r->func_end, k, r->alert_reg,
	       k, r->alert_reg_name, k, r->alert_is_ptr, k, r->ssl_reg, k, r->ssl_reg_name, k,
	       r->ssl_is_conn);
}

static void print_done(const char *k, const struct oh_done_probe *d)
{
	print_probe(k, &d->p);
	printf("%s.rc_reg=%d\n%s.rc_reg_name=%s\n%s.ssl_reg=%d\n%s.ssl_reg_name=%s\n"
	       "%s.emulated=%d\n",
	       k, d->rc_reg, k, d->rc_reg_name, k, d->ssl_reg, k, d->ssl_reg_name, k, d->emulated);
}

static int dump(const char *path, const char *root)
{
	static struct oh_result r;
	double t0 = now_ms(), t1;
	int rc = oh_analyze(path, root, &r);

	t1 = now_ms();
	printf("path=%s\nrc=%d\nwhy=%s\nms=%.1f\n", r.path, rc, r.why, t1 - t0);
	if (rc)
		return 1;
	printf("build_id=%s\nversion=%s\nversion_src=%s\nlayout=%d\nlayout_hint=%d\n"
	       "from_symbols=%d\ntls_method=0x%llx\ndtls_method=0x%llx\nshutdown_fn=0x%llx\n",
	       r.build_id, r.version, r.version_src, r.layout, r.layout_hint, r.from_symbols,
	       (unsigned long long)r.tls_method, (unsigned long long)r.dtls_method,
	       (unsigned long long)r.shutdown_fn);
	print_probe("dispatch", &r.dispatch);
	print_probe("dtls_dispatch", &r.dtls_dispatch);
	print_done("dispatch_done", &r.dispatch_done);
	print_done("dtls_dispatch_done", &r.dtls_dispatch_done);
	print_read("read", &r.read);
	print_read("dtls_read", &r.dtls_read);
	printf("ssl.ok=%d\nssl.why=%s\nssl.off_version=0x%x\nssl.off_method=0x%x\n"
	       "ssl.off_method_version=0x%x\nssl.off_s3=%d\nssl.off_send_alert=0x%x\n"
	       "ssl.off_shutdown=0x%x\n",
	       r.ssl.ok, r.ssl.why, r.ssl.off_version, r.ssl.off_method, r.ssl.off_method_version,
	       r.ssl.off_s3, r.ssl.off_send_alert, r.ssl.off_shutdown);
	printf("why.off_hostname=0x%x\nwhy.off_session=0x%x\nwhy.off_sess_hostname=0x%x\n"
	       "why.sni_why=%s\nwhy.off_verify_result=0x%x\nwhy.verify_why=%s\n",
	       r.why_.off_hostname, r.why_.off_session, r.why_.off_sess_hostname, r.why_.sni_why,
	       r.why_.off_verify_result, r.why_.verify_why);
	printf("err_path=%s\nerr_kind=%d\n", r.err_path, r.err_kind);
	print_probe("err", &r.err);
	return 0;
}

/* Write n bytes of src (or random bytes when src is NULL) to a temp file. */
static int make_file(char *tmpl, const unsigned char *src, size_t n)
{
	int fd = mkstemp(tmpl);
	unsigned char *buf;
	int ok;

	if (fd < 0)
		return -1;
	buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = src ? src[i] : (unsigned char)rand();
	ok = n == 0 || write(fd, buf, n) == (ssize_t)n;
	free(buf);
	close(fd);
	return ok ? 0 : -1;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	b = malloc(st.st_size);
	if (b && read(fd, b, st.st_size) != st.st_size) {
		free(b);
		b = NULL;
	}
	close(fd);
	*n = st.st_size;
	return b;
}

/* Expect a refusal with a reason containing want (NULL: any reason). */
static void expect_refused(const char *name, const char *path, const char *want)
{
	static struct oh_result r;
	int rc = oh_analyze(path, "", &r);

	if (rc != -1)
		FAILF(name, "expected refusal, got rc %d", rc);
	else if (!r.why[0])
		FAILF(name, "expected a reason, got an empty why");
	else if (want && !strstr(r.why, want))
		FAILF(name, "expected a reason with \"%s\", got \"%s\"", want, r.why);
	else
		printf("PASS %s (%s)\n", name, r.why);
}

static void unit(void)
{
	char p[64];
	size_t n = 0;
	unsigned char *lib = slurp(SYS_LIBSSL, &n);
	static struct oh_result r;
	int bad = 0;

	strcpy(p, "/tmp/oh_empty.XXXXXX");
	if (!make_file(p, NULL, 0)) {
		expect_refused("refuses_empty_file", p, "empty");
		unlink(p);
	}
	expect_refused("refuses_missing_file", "/nonexistent/libssl.so.3", "cannot open");
	{
		const struct oh_result *z =
		    oh_analyze_cached("/usr/lib/x86_64-linux-gnu/libz.so.1", "");

		if (z && (z->rc != -1 || !z->why[0]))
			FAILF("cache_keeps_refusal", "expected rc -1 with a reason, got %d \"%s\"",
			      z->rc, z->why);
		else if (z)
			PASS("cache_keeps_refusal");
	}
	expect_refused("refuses_directory", "/tmp", "regular");
	srand(1);
	strcpy(p, "/tmp/oh_rand.XXXXXX");
	if (!make_file(p, NULL, 65536)) {
		expect_refused("refuses_random_bytes", p, "not an ELF");
		unlink(p);
	}
	if (!access("/usr/lib/x86_64-linux-gnu/libz.so.1", R_OK))
		expect_refused("refuses_non_openssl_libz", "/usr/lib/x86_64-linux-gnu/libz.so.1",
			       "not an OpenSSL library");
	if (!access("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", R_OK))
		expect_refused("refuses_libcrypto_alone",
			       "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
			       "not an OpenSSL library");
	if (!access("/bin/true", R_OK))
		expect_refused("refuses_plain_executable", "/bin/true", "not an OpenSSL library");
	if (!lib) {
		SKIP("truncated_libssl", SYS_LIBSSL " not readable");
		return;
	}
	{
		/* the same libssl claiming to be AArch64 (e_machine 183) */
		unsigned char save[2] = {lib[18], lib[19]};

		lib[18] = 183;
		lib[19] = 0;
		strcpy(p, "/tmp/oh_arm.XXXXXX");
		if (!make_file(p, lib, n)) {
			expect_refused("refuses_other_machine", p, "x86-64 only");
			unlink(p);
		}
		lib[18] = save[0];
		lib[19] = save[1];
	}
	strcpy(p, "/tmp/oh_t4k.XXXXXX");
	if (!make_file(p, lib, 4096)) {
		expect_refused("refuses_libssl_first_4k", p, NULL);
		unlink(p);
	}
	strcpy(p, "/tmp/oh_t100k.XXXXXX");
	if (!make_file(p, lib, 100 * 1024)) {
		expect_refused("refuses_libssl_first_100k", p, NULL);
		unlink(p);
	}
	strcpy(p, "/tmp/oh_t32.XXXXXX");
	if (!make_file(p, lib, 32)) {
		expect_refused("refuses_truncated_elf_header", p, NULL);
		unlink(p);
	}
	/* Every truncation point on a coarse grid, and random corruption of the headers and of the
	 * whole file: each result is a refusal or an analysis, never a crash. */
	for (size_t cut = 1; cut < n; cut += n / 97 + 1) {
		strcpy(p, "/tmp/oh_cut.XXXXXX");
		if (make_file(p, lib, cut))
			continue;
		if (oh_analyze(p, "", &r) == 0 && (r.read.p.ok || r.dispatch.ok))
			bad++; /* a short copy cannot carry the code past the cut */
		unlink(p);
	}
	if (bad)
		FAILF("truncations_refused_or_probes_off", "%d truncated copies gave probes", bad);
	else
		PASS("truncations_refused_or_probes_off");
	for (int k = 0; k < 200; k++) {
		unsigned char *m = malloc(n);
		int flips = 1 + rand() % 64;

		if (!m)
			break;
		memcpy(m, lib, n);
		for (int i = 0; i < flips; i++) {
			/* half the time in the first 4 KiB (headers, dynsym), else anywhere, plus
			 * the section headers at the end */
			size_t at = k % 3 == 0	 ? (size_t)rand() % 4096
				    : k % 3 == 1 ? (size_t)rand() % n
						 : n - 1 - (size_t)rand() % (n < 4096 ? n : 4096);
			m[at] = (unsigned char)rand();
		}
		strcpy(p, "/tmp/oh_mut.XXXXXX");
		if (!make_file(p, m, n)) {
			oh_analyze(p, "", &r);
			unlink(p);
		}
		free(m);
	}
	PASS("corrupted_copies_no_crash");
	free(lib);

	/* the cache: one result per file, the same pointer on a second call */
	{
		const struct oh_result *a = oh_analyze_cached(SYS_LIBSSL, ""), *b;
		double t0 = now_ms();

		b = oh_analyze_cached(SYS_LIBSSL, "");
		if (a && a->rc != 0)
			FAILF("cache_analysed", "expected rc 0 for " SYS_LIBSSL ", got %d: %s",
			      a->rc, a->why);
		else if (!a || a != b)
			FAILF("cache_same_result", "expected the same pointer, got %p and %p",
			      (const void *)a, (const void *)b);
		else
			printf("PASS cache_same_result (second call %.2f ms)\n", now_ms() - t0);
	}
}

/* oh_analyze_err: a result computed under one root, its ERR fallback recomputed for another, is
 * what a whole analysis under that other root gives. A copy of trixie's libssl with no libcrypto
 * beside it finds trixie's libcrypto under its root and this machine's under "". */
static void err_other_root(void)
{
	static const char *root = "/var/tmp/alerttrace-openssl/trixie";
	static struct oh_result a, b;
	char src[256], cmd[600], dir[] = "/tmp/oh_err.XXXXXX", copy[300];

	snprintf(src, sizeof(src), "%s/usr/lib/x86_64-linux-gnu/libssl.so.3", root);
	if (access(src, R_OK) || !mkdtemp(dir)) {
		SKIP("err_other_root", "no fetched trixie libssl (tools/fetch-openssl.sh)");
		return;
	}
	snprintf(copy, sizeof(copy), "%s/libssl.so.3", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", src, copy);
	if (system(cmd) || oh_analyze(copy, root, &a) || oh_analyze(copy, "", &b)) {
		FAILF("err_other_root", "expected both analyses, got \"%s\" \"%s\"", a.why, b.why);
	} else if (!strcmp(a.err_path, b.err_path)) {
		FAILF("err_other_root", "expected two libcryptos, got %s twice", a.err_path);
	} else if (CHECK_EQ("err_other_root", 0, oh_analyze_err(copy, "", &a)) &&
		   CHECK_STR("err_other_root", b.err_path, a.err_path) &&
		   CHECK_EQ("err_other_root", b.err_kind, a.err_kind) &&
		   CHECK_EQ("err_other_root", b.err.ok, a.err.ok) &&
		   CHECK_EQ("err_other_root", b.err.vaddr, a.err.vaddr) &&
		   CHECK_EQ("err_other_root", b.err.file_off, a.err.file_off) &&
		   CHECK_STR("err_other_root", b.err.why, a.err.why) &&
		   CHECK_EQ("err_other_root", -1, oh_analyze_err("/nonexistent", "", &a)) &&
		   CHECK_EQ("err_other_root", 1, a.err.why[0] != 0)) {
		printf("PASS err_other_root (%s -> %s)\n", root, b.err_path);
	}
	unlink(copy);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc >= 2)
		return dump(argv[1], argc >= 3 ? argv[2] : "");
	unit();
	err_other_root();
	return tl_failed;
}
