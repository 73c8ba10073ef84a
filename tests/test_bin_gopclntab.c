// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/bin/gopclntab.c against the Go toolchain's own tools: a small crypto/tls program built by
 * every Go found here (Debian's 1.19, the 1.24-1.27 kept under /var/tmp/alerttrace-go) in four
 * variants (normal, -s -w, PIE, PIE -s -w). Function entries and ends must be `go tool nm`'s of
 * the unstripped build of the same variant (code addresses do not move with -s -w), for named
 * functions and for the whole table; version and module must be `go version [-m]`'s. Copies with
 * the sections renamed take the scan paths; a 1.18+ table rewritten in the 1.16 layout takes
 * that one; bad input is refused with a reason, never a crash. Timings for the largest Go binary.
 */
#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "elf.h"
#include "gopclntab.h"
#include "testlib.h"
#include "go_witness.h"

#define BUILD_CACHE "/var/tmp/alerttrace-go/builds"

static const char prog[] =
    "package main\n\n"
    "import (\n\t\"crypto/tls\"\n\t\"fmt\"\n\t\"os\"\n)\n\n"
    "//go:noinline\n"
    "func dial(addr string) error {\n"
    "\tc, err := tls.Dial(\"tcp\", addr, &tls.Config{ServerName: \"localhost\"})\n"
    "\tif err != nil {\n\t\treturn err\n\t}\n"
    "\treturn c.Close()\n}\n\n"
    "func main() {\n"
    "\tif err := dial(\"127.0.0.1:1\"); err != nil {\n"
    "\t\tfmt.Println(err)\n\t\tos.Exit(1)\n\t}\n}\n";
#define MODULE "example.com/alerttrace/gotls"

static const char *const want_funcs[] = {
    "crypto/tls.(*Conn).sendAlertLocked",
    "crypto/tls.(*Conn).readRecordOrCCS",
    "crypto/tls.(*Conn).sendAlert",
    "crypto/tls.(*Conn).Close",
    "main.main",
    "main.dial",
    "runtime.main",
};
#define NWANT (sizeof(want_funcs) / sizeof(want_funcs[0]))

/* The default links with cgo here (net's resolver, gcc installed): external linking, dynamic.
 * CGO_ENABLED=0, as in most container builds, links internally and statically. */
static const struct variant {
	const char *name, *env, *flags;
	int stripped;
	const char *witness; /* the variant whose nm judges this one */
} variants[] = {
    {"normal", "", "", 0, "normal"},
    {"sw", "", "-ldflags='-s -w'", 1, "normal"},
    {"pie", "", "-buildmode=pie", 0, "pie"},
    {"pie_sw", "", "-buildmode=pie -ldflags='-s -w'", 1, "pie"},
    {"nocgo", "CGO_ENABLED=0", "", 0, "nocgo"},
    {"nocgo_sw", "CGO_ENABLED=0", "-ldflags='-s -w'", 1, "nocgo"},
    {"nocgo_pie", "CGO_ENABLED=0", "-buildmode=pie", 0, "nocgo_pie"},
    {"nocgo_pie_sw", "CGO_ENABLED=0", "-buildmode=pie -ldflags='-s -w'", 1, "nocgo_pie"},
};
#define NVAR (sizeof(variants) / sizeof(variants[0]))

/* Build every variant of prog with t into dir/VARIANT. 0 when all were built. */
static int build_all(const struct tool *t, const char *dir)
{
	char cmd[2048];
	FILE *o;

	snprintf(cmd, sizeof(cmd), "%s/main.go", dir);
	o = fopen(cmd, "w");
	if (!o)
		return -1;
	fputs(prog, o);
	fclose(o);
	snprintf(cmd, sizeof(cmd), "%s/go.mod", dir);
	o = fopen(cmd, "w");
	if (!o)
		return -1;
	fputs("module " MODULE "\n\ngo 1.19\n", o);
	fclose(o);
	for (size_t v = 0; v < NVAR; v++) {
		char *out;

		snprintf(
		    cmd, sizeof(cmd),
		    "cd %s && GOCACHE=" BUILD_CACHE "/%s GOPATH=%s/gopath GOPROXY=off "
		    "GOTOOLCHAIN=local GOTELEMETRY=off GOFLAGS=-mod=mod %s %s build %s -o %s . "
		    "2>&1 || echo BUILD-FAILED",
		    dir, t->version, dir, variants[v].env, t->go, variants[v].flags,
		    variants[v].name);
		out = sh(cmd);
		if (!out || strstr(out, "BUILD-FAILED")) {
			FAILF("go_build", "%s build %s: %s", t->version, variants[v].flags,
			      out ? out : "popen failed");
			free(out);
			return -1;
		}
		free(out);
	}
	return 0;
}

/* A copy of src, changed: without section headers, as sstrip leaves it (e_shoff, e_shnum,
 * e_shstrndx 0), or with .gopclntab and .go.module renamed in place in the section names. */
static int write_changed(const char *src, const char *dst, int no_shdrs)
{
	static const char *const from[] = {"gopclntab", ".go.module"};
	struct bin_elf f;
	int rc;

	if (bin_elf_open(&f, src)) {
		bin_elf_close(&f);
		return -1;
	}
	if (no_shdrs) {
		memset(f.buf + 0x28, 0, 8);
		memset(f.buf + 0x3c, 0, 4);
	}
	for (size_t k = 0; !no_shdrs && k < 2; k++) {
		size_t l = strlen(from[k]) + 1;
		uint8_t *p = f.buf, *end = f.buf + f.size;

		while ((p = memmem(p, end - p, from[k], l))) {
			p[l - 2] = 'X';
			p += l;
		}
	}
	rc = tl_write_file(dst, f.buf, f.size);
	bin_elf_close(&f);
	return rc;
}

/* The named functions in bin against nm; returns 1 when all agree. */
static int check_named(const char *tn, const struct bin_go *g, const struct nm *nm)
{
	int ok = 1;

	for (size_t k = 0; k < NWANT; k++) {
		const struct nmsym *s = nm_named(nm, want_funcs[k]);
		uint64_t entry = 0, end = 0;

		if (!s) {
			FAILF(tn, "nm has no %s", want_funcs[k]);
			ok = 0;
		} else if (bin_go_func(g, want_funcs[k], &entry, &end)) {
			FAILF(tn, "%s: expected 0x%llx, not found", want_funcs[k],
			      (unsigned long long)s->addr);
			ok = 0;
		} else if (entry != s->addr || end != nm_next(nm, s->addr)) {
			FAILF(tn, "%s: expected [0x%llx, 0x%llx), got [0x%llx, 0x%llx)",
			      want_funcs[k], (unsigned long long)s->addr,
			      (unsigned long long)nm_next(nm, s->addr), (unsigned long long)entry,
			      (unsigned long long)end);
			ok = 0;
		}
	}
	if (!bin_go_func(g, "crypto/tls.(*Conn).noSuchFunction", NULL, NULL) ||
	    !bin_go_func(g, "Conn).sendAlertLocked", NULL, NULL)) {
		FAILF(tn, "a name that is no function's (or only a name's tail) was found");
		ok = 0;
	}
	return ok;
}

/* Every function of the table at an nm text address of that name; prints the figures. */
static int check_table(const char *tn, const struct bin_go *g, const struct nm *nm)
{
	uint64_t missing = 0, renamed = 0, prev = 0;
	const char *first_bad = NULL;

	for (uint64_t i = 0; i < g->nfunc; i++) {
		const char *name;
		uint64_t entry, end;

		if (bin_go_func_at(g, i, &name, &entry, &end) || entry < prev || end < entry) {
			FAILF(tn, "function %llu unreadable or out of order",
			      (unsigned long long)i);
			return 0;
		}
		prev = entry;
		if (nm_lower(nm, entry) >= nm->n || nm->s[nm_lower(nm, entry)].addr != entry) {
			missing++;
			if (!first_bad)
				first_bad = name;
		} else if (!nm_has(nm, entry, name)) {
			renamed++; /* generic instantiations: "[...]" in pclntab, the types in nm */
		}
	}
	printf("INFO %s: %llu functions, %llu not at an nm address, %llu named otherwise in nm "
	       "(generics), nm has %zu text symbols\n",
	       tn, (unsigned long long)g->nfunc, (unsigned long long)missing,
	       (unsigned long long)renamed, nm->n);
	if (missing) {
		FAILF(tn, "expected every entry at an nm text address, %llu not (first: %s)",
		      (unsigned long long)missing, first_bad);
		return 0;
	}
	if (renamed * 50 > g->nfunc) {
		FAILF(tn, "expected nm's names for 98%% of the functions, %llu of %llu differ",
		      (unsigned long long)renamed, (unsigned long long)g->nfunc);
		return 0;
	}
	return 1;
}

static void check_buildinfo(const char *tn, const struct bin_elf *e, const struct tool *t,
			    const char *bin)
{
	char ver[64], mod[256], cmd[1024], want[256] = "", *out, *p;

	if (bin_go_buildinfo(e, ver, sizeof(ver), mod, sizeof(mod))) {
		FAILF(tn, "expected build info, got -1");
		return;
	}
	snprintf(cmd, sizeof(cmd), "GOTOOLCHAIN=local %s version -m %s 2>&1", t->go, bin);
	out = sh(cmd);
	if (!out)
		return;
	/* "BIN: go1.19.8\n\tpath\texample.com/...\n\tmod\t..." */
	p = strstr(out, ": ");
	if (p)
		snprintf(want, sizeof(want), "%.*s", (int)strcspn(p + 2, "\n"), p + 2);
	if (CHECK_STR(tn, want, ver)) {
		p = strstr(out, "\tpath\t");
		snprintf(want, sizeof(want), "%.*s", p ? (int)strcspn(p + 6, "\n") : 0,
			 p ? p + 6 : "");
		if (CHECK_STR(tn, want, mod) && CHECK_STR(tn, MODULE, mod))
			printf("PASS %s (%s, %s)\n", tn, ver, mod);
	}
	free(out);
}

/* The 1.18+ table of bin (non-PIE) rewritten in the 1.16-1.17 layout in memory: 7-word header,
 * the same funcnametab, {uintptr entry, uintptr funcoff} functab with absolute pcs, _func
 * records {uintptr entry, i32 nameoff}. No 1.16/1.17 toolchain is at hand; this proves the
 * 0xfffffffa reader against the same entries, not against a real 1.16 build. */
static void test_layout_116(const char *bin, const struct nm *nm)
{
	const char *tn = "gopcln_layout_116";
	struct bin_elf e;
	struct bin_go g, g16;
	const struct bin_sec *sec;
	uint8_t *t = NULL, *d, *names = NULL;
	uint64_t n, pcln, at, last_end = 0, *was = NULL;
	size_t need;
	int ok = 1;

	if (bin_elf_open(&e, bin) || bin_go_open(&g, &e) || g.abs) {
		FAILF(tn, "cannot open %s as a 1.18+ Go binary", bin);
		goto out;
	}
	sec = bin_elf_section(&e, ".gopclntab");
	n = g.nfunc;
	pcln = (64 + g.names_len + 7) & ~7ull;
	need = pcln + (n + 1) * 16 + n * 16;
	if (!sec || !sec->data || need > sec->sh.sh_size || !(t = calloc(1, need))) {
		FAILF(tn, "no room for the 1.16 layout (%zu bytes)", need);
		goto out;
	}
	memcpy(t, "\xfa\xff\xff\xff\x00\x00\x01\x08", 8);
	{
		uint64_t w[7] = {n,   0, 64, 64 + g.names_len, 64 + g.names_len, 64 + g.names_len,
				 pcln};

		memcpy(t + 8, w, sizeof(w));
	}
	memcpy(t + 64, g.names, g.names_len);
	/* what the 1.18+ reader saw, kept: the rewrite overwrites its table */
	was = calloc(n, 3 * sizeof(*was));
	names = malloc(g.names_len);
	if (!was || !names)
		goto out;
	memcpy(names, g.names, g.names_len);
	at = (n + 1) * 16;
	for (uint64_t i = 0; i < n; i++) {
		const char *name;
		uint64_t entry, end;
		int32_t no;

		bin_go_func_at(&g, i, &name, &entry, &end);
		no = (int32_t)((const uint8_t *)name - g.names);
		was[3 * i] = entry;
		was[3 * i + 1] = end;
		was[3 * i + 2] = (uint64_t)no;
		memcpy(t + pcln + i * 16, &entry, 8);
		memcpy(t + pcln + i * 16 + 8, &at, 8);
		memcpy(t + pcln + at, &entry, 8);
		memcpy(t + pcln + at + 8, &no, 4);
		at += 16;
		last_end = end;
	}
	memcpy(t + pcln + n * 16, &last_end, 8);
	d = e.buf + sec->sh.sh_offset; /* the test owns the image */
	memset(d, 0, sec->sh.sh_size);
	memcpy(d, t, need);
	if (bin_go_open(&g16, &e)) {
		FAILF(tn, "expected 0, got -1: %s", g16.why);
		goto out;
	}
	ok = CHECK_EQ(tn, 116, g16.version_class) && CHECK_EQ(tn, n, g16.nfunc) &&
	     check_named(tn, &g16, nm);
	for (uint64_t i = 0; ok && i < n; i++) {
		const char *a, *b = (const char *)names + was[3 * i + 2];
		uint64_t ea, eb = was[3 * i], xa, xb = was[3 * i + 1];

		if (bin_go_func_at(&g16, i, &a, &ea, &xa) || ea != eb || xa != xb || strcmp(a, b)) {
			FAILF(
			    tn,
			    "function %llu: expected %s [0x%llx, 0x%llx), got %s [0x%llx, 0x%llx)",
			    (unsigned long long)i, b, (unsigned long long)eb,
			    (unsigned long long)xb, a, (unsigned long long)ea,
			    (unsigned long long)xa);
			ok = 0;
		}
	}
	if (ok)
		printf("PASS %s (%llu functions, absolute entries)\n", tn, (unsigned long long)n);
out:
	free(t);
	free(was);
	free(names);
	bin_elf_close(&e);
}

static void expect_go_refused(const char *tn, const struct bin_elf *e, const char *want)
{
	struct bin_go g;

	if (!bin_go_open(&g, e))
		FAILF(tn, "expected -1, got 0");
	else if (!strstr(g.why, want))
		FAILF(tn, "expected a reason with \"%s\", got \"%s\"", want, g.why);
	else
		printf("PASS %s (%s)\n", tn, g.why);
}

/* Bad input: not Go, random bytes, cut files and tables, corrupt headers, random damage. */
static void test_bad(const char *bin)
{
	const char *tmp = "/tmp/test_bin_gopclntab.bad";
	char ver[64], mod[256];
	struct bin_elf e;
	struct bin_go g;
	struct bin_sec *sec;
	uint8_t *d, *save = NULL;
	uint64_t size, pclno, nfunc, w;
	int refused = 0, bad_why = 0, opened = 0;

	/* a C program */
	if (bin_elf_open(&e, "/bin/ls")) {
		FAILF("gopcln_refuses_c_binary", "cannot open /bin/ls: %s", e.why);
	} else {
		expect_go_refused("gopcln_refuses_c_binary", &e, "no Go pclntab");
		if (CHECK_EQ("gobuildinfo_refuses_c_binary", -1,
			     bin_go_buildinfo(&e, ver, sizeof(ver), mod, sizeof(mod))) &&
		    CHECK_STR("gobuildinfo_refuses_c_binary", "", ver))
			PASS("gobuildinfo_refuses_c_binary");
	}
	bin_elf_close(&e);
	/* random bytes: the ELF reader refuses them before we look */
	{
		uint8_t r[65536];

		srand(11);
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)rand();
		if (!tl_write_file(tmp, r, sizeof(r))) {
			if (bin_elf_open(&e, tmp))
				printf("PASS gopcln_random_file_refused (%s)\n", e.why);
			else
				expect_go_refused("gopcln_random_file_refused", &e, "");
			bin_elf_close(&e);
		}
	}
	/* cut files: refused by the ELF reader (Go writes section headers last) or by us */
	if (bin_elf_open(&e, bin)) {
		FAILF("gopcln_bad_input", "cannot open %s: %s", bin, e.why);
		bin_elf_close(&e);
		return;
	}
	{
		uint8_t *copy = malloc(e.size);
		size_t n = e.size;

		if (copy) {
			memcpy(copy, e.buf, n);
			for (size_t cut = 1; cut < n; cut += n / 23 + 1) {
				struct bin_elf c;

				if (tl_write_file(tmp, copy, cut))
					continue;
				if (bin_elf_open(&c, tmp)) {
					refused++;
					bad_why += !c.why[0];
				} else if (bin_go_open(&g, &c)) {
					refused++;
					bad_why += !g.why[0];
				} else {
					opened++;
				}
				bin_elf_close(&c);
			}
			free(copy);
		}
		printf("INFO cut files: %d refused, %d opened\n", refused, opened);
		if (CHECK_EQ("gopcln_cut_files_refused", 0, bad_why) &&
		    CHECK_EQ("gopcln_cut_files_refused", 0, opened))
			PASS("gopcln_cut_files_refused");
	}
	/* the table cut short: every cut before the end of the function table is refused */
	sec = (struct bin_sec *)bin_elf_section(&e, ".gopclntab");
	if (!sec || !sec->data || bin_go_open(&g, &e)) {
		FAILF("gopcln_bad_input", "%s: no .gopclntab", bin);
		goto out;
	}
	d = e.buf + sec->sh.sh_offset;
	size = sec->sh.sh_size;
	pclno = (uint64_t)(g.pcln - g.hdr);
	nfunc = g.nfunc;
	refused = bad_why = 0;
	{
		uint64_t cuts[] = {0,
				   4,
				   8,
				   40,
				   71,
				   72,
				   pclno,
				   pclno + 8,
				   pclno + nfunc * 4,
				   pclno + nfunc * 8,
				   pclno + nfunc * 8 + 7};
		int n = sizeof(cuts) / sizeof(cuts[0]);

		for (int i = 0; i < n; i++) {
			sec->sh.sh_size = cuts[i];
			if (bin_go_open(&g, &e)) {
				refused++;
				bad_why += !g.why[0];
			}
		}
		sec->sh.sh_size = size;
		if (CHECK_EQ("gopcln_cut_table_refused", n, refused) &&
		    CHECK_EQ("gopcln_cut_table_refused", 0, bad_why))
			printf("PASS gopcln_cut_table_refused (%d cuts)\n", n);
	}
	save = malloc(size);
	if (!save)
		goto out;
	memcpy(save, d, size);
	/* random bytes in place of the table */
	for (uint64_t i = 0; i < size; i++)
		d[i] = (uint8_t)rand();
	d[0] = 0x12;
	expect_go_refused("gopcln_random_table_refused", &e, "unknown pclntab magic");
	memcpy(d, save, size);
	memcpy(d, "\xfb\xff\xff\xff", 4);
	expect_go_refused("gopcln_go115_refused", &e, "Go 1.2-1.15");
	memcpy(d, save, size);
	d[7] = 4;
	expect_go_refused("gopcln_32bit_refused", &e, "ptrSize 4");
	memcpy(d, save, size);
	w = 1ull << 40;
	memcpy(d + 8, &w, 8); /* nfunc */
	expect_go_refused("gopcln_huge_nfunc_refused", &e, "corrupt pclntab header");
	memcpy(d, save, size);
	memcpy(d + 8 + 7 * 8, &w, 8); /* pclnOffset */
	expect_go_refused("gopcln_bad_offset_refused", &e, "corrupt pclntab header");
	memcpy(d, save, size);
	w = 0;
	memcpy(d + pclno + 8 * (nfunc / 2), &w, 4); /* an entry before its predecessor */
	expect_go_refused("gopcln_unordered_refused", &e, "out of order");
	memcpy(d, save, size);
	w = size;
	memcpy(d + pclno + 8 * (nfunc / 2) + 4, &w, 4); /* a funcoff past the table */
	expect_go_refused("gopcln_funcoff_outside_refused", &e, "outside the table");
	memcpy(d, save, size);
	/* random damage to the header, the function table and the build info: no crash, and every
	 * refusal says why */
	refused = opened = bad_why = 0;
	{
		const struct bin_sec *bi = bin_elf_section(&e, ".go.buildinfo");
		uint8_t *bd = bi && bi->data ? e.buf + bi->sh.sh_offset : NULL;
		uint8_t bsave[512];
		size_t bn = bi && bi->sh.sh_size < sizeof(bsave) ? bi->sh.sh_size : 0;
		uint64_t span =
		    pclno + (nfunc + 1) * 8 + 4096 < size ? pclno + (nfunc + 1) * 8 + 4096 : size;

		if (bd && bn)
			memcpy(bsave, bd, bn);
		for (int k = 0; k < 400; k++) {
			uint64_t entry, end;

			for (int i = 0; i < 1 + rand() % 8; i++) {
				uint64_t at = k % 2 ? (uint64_t)rand() % 72
						    : pclno + (uint64_t)rand() % (span - pclno);
				d[at] = (uint8_t)rand();
			}
			if (bd && bn)
				for (int i = 0; i < 1 + rand() % 4; i++)
					bd[(size_t)rand() % bn] = (uint8_t)rand();
			if (bin_go_open(&g, &e)) {
				refused++;
				bad_why += !g.why[0];
			} else {
				opened++;
				bin_go_func(&g, "crypto/tls.(*Conn).sendAlertLocked", &entry, &end);
				for (uint64_t i = 0; i < g.nfunc; i += 97)
					bin_go_func_at(&g, i, NULL, &entry, &end);
			}
			bin_go_buildinfo(&e, ver, sizeof(ver), mod, sizeof(mod));
			memcpy(d, save, span);
			if (bd && bn)
				memcpy(bd, bsave, bn);
		}
		printf("INFO random damage: %d refused, %d opened\n", refused, opened);
		if (CHECK_EQ("gopcln_random_damage_no_crash", 0, bad_why))
			PASS("gopcln_random_damage_no_crash");
	}
out:
	free(save);
	bin_elf_close(&e);
	unlink(tmp);
}

/* Open and look-up time on the largest Go binary at hand: each toolchain's compile, and any in
 * AT_GO_BIG (space-separated paths). The product's goal: < 50 ms for a 50 MB binary. */
static void test_timing(const struct tool *tools, int nt)
{
	char paths[8][600], *env = getenv("AT_GO_BIG"), *dup = env ? strdup(env) : NULL, *tok,
			    *save;
	int np = 0;

	for (int i = 0; i < nt && np < 8; i++) {
		snprintf(paths[np], sizeof(paths[np]), "%.*s/../pkg/tool/linux_amd64/compile",
			 (int)(strrchr(tools[i].go, '/') - tools[i].go), tools[i].go);
		np += !access(paths[np], R_OK);
	}
	for (tok = dup ? strtok_r(dup, " ", &save) : NULL; tok && np < 8;
	     tok = strtok_r(NULL, " ", &save))
		snprintf(paths[np++], sizeof(paths[0]), "%s", tok);
	free(dup);
	for (int i = 0; i < np; i++) {
		double t0, t1, t2, t3, best_elf = 1e9, best_go = 1e9, best_look = 1e9;
		struct bin_elf e;
		struct bin_go g;
		char ver[64], mod[256];
		int found = 0, ok = 1;

		for (int r = 0; r < 5 && ok; r++) {
			uint64_t entry, end;

			t0 = now_ms();
			if (bin_elf_open(&e, paths[i])) {
				FAILF("gopcln_timing", "%s: %s", paths[i], e.why);
				ok = 0;
			} else {
				t1 = now_ms();
				ok = !bin_go_open(&g, &e);
				if (!ok)
					FAILF("gopcln_timing", "%s: %s", paths[i], g.why);
				t2 = now_ms();
				found = 0;
				for (size_t k = 0; ok && k < NWANT; k++)
					found += !bin_go_func(&g, want_funcs[k], &entry, &end);
				t3 = now_ms();
				if (t1 - t0 < best_elf)
					best_elf = t1 - t0;
				if (t2 - t1 < best_go)
					best_go = t2 - t1;
				if (t3 - t2 < best_look)
					best_look = t3 - t2;
			}
			if (ok && r == 4) {
				bin_go_buildinfo(&e, ver, sizeof(ver), mod, sizeof(mod));
				printf(
				    "INFO timing %s (%s, %.1f MB, %llu functions, %d of %zu names "
				    "found): bin_elf_open %.2f ms, bin_go_open %.2f ms, %zu "
				    "bin_go_func %.2f ms (best of 5)\n",
				    paths[i], ver, e.size / 1e6, (unsigned long long)g.nfunc, found,
				    NWANT, best_elf, best_go, NWANT, best_look);
			}
			bin_elf_close(&e);
		}
		if (ok && best_go + best_look < 50)
			printf("PASS gopcln_timing_%d (pclntab part %.2f ms < 50 ms)\n", i,
			       best_go + best_look);
		else if (ok)
			FAILF("gopcln_timing", "%s: expected < 50 ms, got %.2f ms", paths[i],
			      best_go + best_look);
	}
}

static void test_tool(const struct tool *t, int first)
{
	char dir[] = "/tmp/at_gopclntab.XXXXXX", bin[600], tn[160], cmd[700];
	struct nm nms[NVAR];
	int have_nm[NVAR] = {0};

	if (!mkdtemp(dir)) {
		FAILF("go_build", "mkdtemp failed");
		return;
	}
	if (build_all(t, dir))
		goto out;
	printf("PASS go_build_%s (%zu variants)\n", t->version, NVAR);
	for (size_t v = 0; v < NVAR; v++)
		if (!variants[v].stripped) {
			snprintf(bin, sizeof(bin), "%s/%s", dir, variants[v].name);
			have_nm[v] = !nm_load(&nms[v], t->go, bin);
			if (!have_nm[v])
				FAILF("go_nm", "%s tool nm %s gave no text symbols", t->go, bin);
		}
	for (size_t v = 0; v < NVAR; v++) {
		const struct nm *nm = NULL;
		struct bin_elf e;
		struct bin_go g;
		int want_class = t->minor >= 20 ? 120 : t->minor >= 18 ? 118 : 116;

		for (size_t w = 0; w < NVAR; w++)
			if (have_nm[w] && !strcmp(variants[w].name, variants[v].witness))
				nm = &nms[w];
		snprintf(bin, sizeof(bin), "%s/%s", dir, variants[v].name);
		snprintf(tn, sizeof(tn), "gopcln_%s_%s", t->version, variants[v].name);
		if (bin_elf_open(&e, bin)) {
			FAILF(tn, "bin_elf_open: %s", e.why);
			bin_elf_close(&e);
			continue;
		}
		if (bin_go_open(&g, &e)) {
			FAILF(tn, "expected 0, got -1: %s", g.why);
			bin_elf_close(&e);
			continue;
		}
		printf("INFO %s: class %d, table %s at 0x%llx, text 0x%llx from %s, moduledata "
		       "0x%llx\n",
		       tn, g.version_class, g.table_from, (unsigned long long)g.hdr_va,
		       (unsigned long long)g.text, g.text_from, (unsigned long long)g.moduledata);
		if (CHECK_EQ(tn, want_class, g.version_class) && nm && check_named(tn, &g, nm) &&
		    check_table(tn, &g, nm))
			PASS(tn);
		snprintf(tn, sizeof(tn), "gobuildinfo_%s_%s", t->version, variants[v].name);
		check_buildinfo(tn, &e, t, bin);
		bin_go_close(&g);
		bin_elf_close(&e);
		/* the scan paths: no section called .gopclntab or .go.module, or no sections */
		if (!variants[v].stripped || !nm)
			continue;
		for (int k = 0; k < 2; k++) {
			char ver[64], mod[256];

			snprintf(cmd, sizeof(cmd), "%s.%s", bin, k ? "noshdr" : "renamed");
			snprintf(tn, sizeof(tn), "gopcln_%s_%s_%s", t->version, variants[v].name,
				 k ? "no_section_headers" : "sections_renamed");
			if (write_changed(bin, cmd, k) || bin_elf_open(&e, cmd)) {
				FAILF(tn, "could not write or open %s: %s", cmd, e.why);
				bin_elf_close(&e);
				continue;
			}
			if (bin_go_open(&g, &e)) {
				FAILF(tn, "expected 0, got -1: %s", g.why);
			} else {
				printf("INFO %s: table from %s at 0x%llx, text 0x%llx from %s, "
				       "moduledata 0x%llx\n",
				       tn, g.table_from, (unsigned long long)g.hdr_va,
				       (unsigned long long)g.text, g.text_from,
				       (unsigned long long)g.moduledata);
				if (CHECK_STR(tn, "magic scan", g.table_from) &&
				    CHECK_STR(tn,
					      t->minor >= 26 ? "moduledata.text"
							     : "pcHeader.textStart",
					      g.text_from) &&
				    check_named(tn, &g, nm) && check_table(tn, &g, nm))
					PASS(tn);
			}
			strcat(tn, "_buildinfo");
			if (CHECK_EQ(tn, 0,
				     bin_go_buildinfo(&e, ver, sizeof(ver), mod, sizeof(mod))) &&
			    CHECK_STR(tn, t->version, ver) && CHECK_STR(tn, MODULE, mod))
				PASS(tn);
			bin_go_close(&g);
			bin_elf_close(&e);
		}
	}
	if (first && have_nm[0]) {
		snprintf(bin, sizeof(bin), "%s/sw", dir);
		test_layout_116(bin, &nms[0]);
		test_bad(bin);
	}
	for (size_t v = 0; v < NVAR; v++)
		if (have_nm[v])
			nm_free(&nms[v]);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return;
}

int main(void)
{
	struct tool tools[16];
	int n = find_tools(tools, 16);

	if (!n) {
		FAILF("go_toolchain", "no Go toolchain (" GO119 " or " GO_GLOB
				      "): apt-get install golang-go (tools/deps.sh)");
		return 1;
	}
	if (mkdir(BUILD_CACHE, 0755) && errno != EEXIST)
		printf("INFO cannot create " BUILD_CACHE ": builds are not cached\n");
	for (int i = 0; i < n; i++) {
		printf("INFO toolchain %s: %s\n", tools[i].version, tools[i].go);
		test_tool(&tools[i], i == 0);
	}
	test_timing(tools, n);
	return tl_failed;
}
