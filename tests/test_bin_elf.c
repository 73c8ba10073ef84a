// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/bin/elf.c against readelf/nm on real files (this machine's libssl and libc, a program
 * compiled here with known symbols, a pointer table and a DT_RUNPATH) and against bad input
 * (truncated, corrupted, foreign): what it reads agrees with binutils, bad files are refused with
 * a reason or read partly, never a crash.
 */
#include <stdlib.h>

#include "elf.h"
#include "testlib.h"

#define LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"

/* First line of cmd's output, "" when none. */
static const char *sh1(const char *cmd)
{
	static char line[512];
	FILE *p = popen(cmd, "r");

	line[0] = 0;
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = 0;
		pclose(p);
	}
	line[strcspn(line, "\n")] = 0;
	return line;
}

static unsigned long long shx(const char *cmd)
{
	return strtoull(sh1(cmd), NULL, 16);
}

static void test_libssl(void)
{
	struct bin_elf f;
	const struct bin_sym *s, *many[3];
	const char *names[3] = {"SSL_CTX_new", "TLS_method", "no_such_symbol"};
	const struct bin_sec *text;
	const struct bin_rel *r;
	unsigned long long off, want;
	uint64_t got;
	char cmd[512];

	if (access(LIBSSL, R_OK)) {
		SKIP("elf_libssl", LIBSSL " not readable");
		return;
	}
	if (bin_elf_open(&f, LIBSSL)) {
		FAILF("elf_opens_libssl", "expected 0, got -1: %s", f.why);
		bin_elf_close(&f);
		return;
	}
	PASS("elf_opens_libssl");
	if (CHECK_STR("elf_build_id_as_readelf",
		      sh1("readelf -n " LIBSSL " | sed -n 's/.*Build ID: //p'"), f.build_id))
		PASS("elf_build_id_as_readelf");
	s = bin_elf_sym(&f, "SSL_CTX_new", STT_FUNC);
	want = shx("readelf -W --dyn-syms " LIBSSL
		   " | awk '$8 ~ /^SSL_CTX_new@/ && $4 == \"FUNC\" { print $2; exit }'");
	if (!s)
		FAILF("elf_dynsym_as_readelf", "expected SSL_CTX_new, got none");
	else if (CHECK_EQ("elf_dynsym_as_readelf", want, s->value) &&
		 CHECK_EQ("elf_dynsym_as_readelf",
			  atoll(sh1("readelf -W --dyn-syms " LIBSSL " | awk '$8 ~ /^SSL_CTX_new@/ "
				    "{ print $3; exit }'")),
			  s->size) &&
		 CHECK_EQ("elf_dynsym_as_readelf", BIN_DYNSYM, s->table))
		PASS("elf_dynsym_as_readelf");
	if (CHECK_EQ("elf_syms_in_one_pass", 2, bin_elf_syms(&f, names, 3, STT_FUNC, many)) &&
	    CHECK_EQ("elf_syms_in_one_pass", 1, many[0] == s) &&
	    CHECK_EQ("elf_syms_in_one_pass", 1, many[2] == NULL))
		PASS("elf_syms_in_one_pass");
	if (CHECK_EQ("elf_sym_type_filter", 1, bin_elf_sym(&f, "SSL_CTX_new", STT_OBJECT) == NULL))
		PASS("elf_sym_type_filter");
	/* DT_NEEDED in order */
	if (CHECK_EQ("elf_needed_as_readelf", 2, f.nneeded) &&
	    CHECK_STR("elf_needed_as_readelf",
		      sh1("readelf -d " LIBSSL " | sed -n 's/.*NEEDED.*\\[\\(.*\\)\\]/\\1/p' | "
			  "head -1"),
		      f.needed[0]))
		PASS("elf_needed_as_readelf");
	/* .text: header and va -> offset */
	text = bin_elf_section(&f, ".text");
	want = shx("readelf -SW " LIBSSL " | awk '$2 == \".text\" { print $4 }'");
	off = shx("readelf -SW " LIBSSL " | awk '$2 == \".text\" { print $5 }'");
	if (!text)
		FAILF("elf_section_as_readelf", "expected .text, got none");
	else if (CHECK_EQ("elf_section_as_readelf", want, text->sh.sh_addr) &&
		 CHECK_EQ("elf_section_as_readelf", off, text->sh.sh_offset) &&
		 CHECK_EQ("elf_section_as_readelf", 1, text->data == f.buf + off))
		PASS("elf_section_as_readelf");
	if (CHECK_EQ("elf_va2off_text", 0, bin_elf_va2off(&f, want, 16, &got, 1)) &&
	    CHECK_EQ("elf_va2off_text", off, got))
		PASS("elf_va2off_text");
	/* a RELATIVE relocation: the pointer is the addend */
	off = shx("readelf -rW " LIBSSL " | awk '$3 == \"R_X86_64_RELATIVE\" { print $1; exit }'");
	want = shx("readelf -rW " LIBSSL " | awk '$3 == \"R_X86_64_RELATIVE\" { print $4; exit }'");
	r = bin_elf_rel_at(&f, off);
	if (!r)
		FAILF("elf_relative_as_readelf", "expected a relocation at 0x%llx, got none", off);
	else if (CHECK_EQ("elf_relative_as_readelf", want, r->val) &&
		 CHECK_EQ("elf_relative_as_readelf", 0, bin_elf_read_ptr(&f, off, &got)) &&
		 CHECK_EQ("elf_relative_as_readelf", want, got))
		PASS("elf_relative_as_readelf");
	/* every RELATIVE is kept; R_X86_64_64 too, so this is a lower bound */
	snprintf(cmd, sizeof(cmd), "readelf -rW %s | grep -c R_X86_64_RELATIVE", LIBSSL);
	if (f.nrel < (size_t)atol(sh1(cmd)))
		FAILF("elf_relocation_count", "expected at least %s, got %zu", sh1(cmd), f.nrel);
	else
		PASS("elf_relocation_count");
	for (size_t i = 1; i < f.nrel; i++)
		if (f.rel[i - 1].off > f.rel[i].off) {
			FAILF("elf_relocations_sorted", "0x%llx before 0x%llx",
			      (unsigned long long)f.rel[i - 1].off,
			      (unsigned long long)f.rel[i].off);
			break;
		}
	bin_elf_close(&f);
}

static void test_libc_verdef(void)
{
	struct bin_elf f;
	int base = 0, v34 = 0;
	long n = atol(sh1("readelf -V " LIBC " | sed -n 's/.*version_d. contains \\([0-9]*\\) "
			  "entries.*/\\1/p'"));

	if (bin_elf_open(&f, LIBC)) {
		FAILF("elf_verdef_as_readelf", "cannot open " LIBC ": %s", f.why);
		bin_elf_close(&f);
		return;
	}
	for (size_t i = 0; i < f.nverdef; i++) {
		base |= !strcmp(f.verdef[i], "GLIBC_2.2.5");
		v34 |= !strcmp(f.verdef[i], "GLIBC_2.34");
	}
	if (CHECK_EQ("elf_verdef_as_readelf", n, f.nverdef) &&
	    CHECK_EQ("elf_verdef_as_readelf", 1, base) && CHECK_EQ("elf_verdef_as_readelf", 1, v34))
		PASS("elf_verdef_as_readelf");
	bin_elf_close(&f);
}

/* A PIE with a global and a local function, a pointer to one of them and a DT_RUNPATH. */
static void test_compiled(void)
{
	static const char src[] =
	    "int known_global(int x) { return x * 3 + 1; }\n"
	    "static __attribute__((noinline, used)) int known_local(int x) { return x - 7; }\n"
	    "int (*known_ptr)(int) = known_global;\n"
	    "int main(int c, char **v) { return known_ptr(c) + known_local(c); }\n";
	char cmd[1024], bin[64];
	struct bin_elf f;
	const struct bin_sym *g, *l;
	uint64_t p;

	if (tl_build(src, "-O1 -pie -fPIE -Wl,--enable-new-dtags,-rpath,/opt/at/lib:/x", bin,
		     sizeof(bin))) {
		SKIP("elf_compiled", "gcc failed");
		return;
	}
	if (bin_elf_open(&f, bin)) {
		FAILF("elf_compiled_opens", "expected 0, got -1: %s", f.why);
		goto out;
	}
	g = bin_elf_sym(&f, "known_global", STT_FUNC);
	l = bin_elf_sym(&f, "known_local", -1);
	snprintf(cmd, sizeof(cmd), "nm %s | awk '$3 == \"known_global\" { print $1 }'", bin);
	if (!g || !l) {
		FAILF("elf_symtab_as_nm", "expected known_global and known_local, got %p %p",
		      (const void *)g, (const void *)l);
	} else if (CHECK_EQ("elf_symtab_as_nm", shx(cmd), g->value) &&
		   CHECK_EQ("elf_symtab_as_nm", BIN_SYMTAB, g->table) &&
		   CHECK_EQ("elf_symtab_as_nm", STB_GLOBAL, g->bind) &&
		   CHECK_EQ("elf_symtab_as_nm", STB_LOCAL, l->bind)) {
		snprintf(cmd, sizeof(cmd), "nm %s | awk '$3 == \"known_local\" { print $1 }'", bin);
		if (CHECK_EQ("elf_symtab_as_nm", shx(cmd), l->value))
			PASS("elf_symtab_as_nm");
	}
	/* known_ptr holds known_global once relocated (R_X86_64_RELATIVE in a PIE) */
	snprintf(cmd, sizeof(cmd), "nm %s | awk '$3 == \"known_ptr\" { print $1 }'", bin);
	if (g && CHECK_EQ("elf_read_ptr_relocated", 0, bin_elf_read_ptr(&f, shx(cmd), &p)) &&
	    CHECK_EQ("elf_read_ptr_relocated", g->value, p))
		PASS("elf_read_ptr_relocated");
	if (CHECK_STR("elf_runpath", "/opt/at/lib:/x", f.runpath))
		PASS("elf_runpath");
	if (CHECK_EQ("elf_no_section_called_so", 1, bin_elf_section(&f, ".no_such") == NULL))
		PASS("elf_no_section_called_so");
out:
	bin_elf_close(&f);
	tl_rmbuild(bin);
}

static void expect_refused(const char *name, const char *path, const char *want)
{
	struct bin_elf f;

	if (!bin_elf_open(&f, path))
		FAILF(name, "expected a refusal, got 0");
	else if (!strstr(f.why, want))
		FAILF(name, "expected a reason with \"%s\", got \"%s\"", want, f.why);
	else
		printf("PASS %s (%s)\n", name, f.why);
	bin_elf_close(&f);
}

static void test_bad(void)
{
	const char *tmp = "/tmp/test_bin_elf.bad";
	struct bin_elf f;
	uint8_t *b;
	size_t n;
	int crashed_not = 1, refused = 0;

	if (bin_elf_open(&f, LIBSSL)) {
		bin_elf_close(&f);
		return;
	}
	n = f.size;
	b = malloc(n);
	if (!b)
		return;
	memcpy(b, f.buf, n);
	bin_elf_close(&f);
	expect_refused("elf_refuses_missing", "/nonexistent", "cannot open");
	expect_refused("elf_refuses_directory", "/tmp", "regular");
	if (!tl_write_file(tmp, b, 40))
		expect_refused("elf_refuses_truncated_header", tmp, "truncated ELF header");
	b[18] = 183; /* e_machine: AArch64 */
	if (!tl_write_file(tmp, b, n))
		expect_refused("elf_refuses_other_machine", tmp, "x86-64 only");
	b[18] = 62;
	{
		uint64_t save, huge = 1ull << 40;

		memcpy(&save, b + 0x28, 8); /* e_shoff */
		memcpy(b + 0x28, &huge, 8);
		if (!tl_write_file(tmp, b, n))
			expect_refused("elf_refuses_bad_shoff", tmp, "section headers");
		memcpy(b + 0x28, &save, 8);
	}
	/* every cut on a grid: refused with a reason, or opened with every section inside */
	for (size_t cut = 1; cut < n; cut += n / 61 + 1) {
		if (tl_write_file(tmp, b, cut))
			continue;
		if (bin_elf_open(&f, tmp)) {
			refused++;
			if (!f.why[0])
				crashed_not = 0;
		} else {
			for (size_t i = 0; i < f.nsec; i++)
				if (f.sec[i].data &&
				    f.sec[i].sh.sh_offset + f.sec[i].sh.sh_size > cut)
					crashed_not = 0;
		}
		bin_elf_close(&f);
	}
	if (CHECK_EQ("elf_truncations_refused_or_bounded", 1, crashed_not) &&
	    CHECK_EQ("elf_truncations_refused_or_bounded", 1, refused > 0))
		PASS("elf_truncations_refused_or_bounded");
	srand(7);
	for (int k = 0; k < 150; k++) {
		uint8_t *m = malloc(n);

		if (!m)
			break;
		memcpy(m, b, n);
		for (int i = 0; i < 1 + rand() % 32; i++)
			m[k % 2 ? (size_t)rand() % 4096 : n - 1 - (size_t)rand() % 4096] =
			    (uint8_t)rand();
		if (!tl_write_file(tmp, m, n)) {
			uint64_t p;

			if (!bin_elf_open(&f, tmp)) {
				bin_elf_sym(&f, "SSL_CTX_new", -1);
				bin_elf_read_ptr(&f, 0x1000, &p);
			}
			bin_elf_close(&f);
		}
		free(m);
	}
	PASS("elf_corrupted_copies_no_crash");
	unlink(tmp);
	free(b);
}

int main(void)
{
	test_libssl();
	test_libc_verdef();
	test_compiled();
	test_bad();
	return tl_failed;
}
