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

#define BUILD_CACHE "/var/tmp/alerttrace-go/builds"
#define GO119 "/usr/lib/go-1.19/bin/go"
#define GO_GLOB "/var/tmp/alerttrace-go/1.*/usr/lib/go-1.*/bin/go"

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

static const struct variant {
	const char *name, *flags;
	int stripped;
	const char *witness; /* the variant whose nm judges this one */
} variants[] = {
    {"normal", "", 0, "normal"},
    {"sw", "-ldflags='-s -w'", 1, "normal"},
    {"pie", "-buildmode=pie", 0, "pie"},
    {"pie_sw", "-buildmode=pie -ldflags='-s -w'", 1, "pie"},
};
#define NVAR (sizeof(variants) / sizeof(variants[0]))

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Output of cmd, malloc'ed ("" when it printed nothing); NULL when it could not run. */
static char *sh(const char *cmd)
{
	char *out = NULL, buf[4096];
	size_t n = 0, r;
	FILE *p = popen(cmd, "r"), *m;

	if (!p)
		return NULL;
	m = open_memstream(&out, &n);
	while (m && (r = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, r, m);
	if (m)
		fclose(m);
	pclose(p);
	return out;
}

/* go tool nm's text symbols, by address. */
struct nmsym {
	uint64_t addr;
	char *name;
};
struct nm {
	struct nmsym *s;
	size_t n;
	char *text;
};

static int nm_cmp(const void *a, const void *b)
{
	const struct nmsym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int nm_load(struct nm *nm, const char *go, const char *bin)
{
	char cmd[1024], *line, *save;
	size_t cap = 0;

	memset(nm, 0, sizeof(*nm));
	snprintf(cmd, sizeof(cmd), "%s tool nm %s 2>/dev/null", go, bin);
	nm->text = sh(cmd);
	if (!nm->text)
		return -1;
	for (line = strtok_r(nm->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end, *name;
		uint64_t a = strtoull(line, &end, 16);

		/* "  4010a0 T runtime.text": address, type, name (names may hold spaces) */
		while (*end == ' ')
			end++;
		if ((end[0] != 'T' && end[0] != 't') || end[1] != ' ')
			continue;
		name = end + 2;
		if (nm->n == cap) {
			cap = cap ? cap * 2 : 4096;
			nm->s = realloc(nm->s, cap * sizeof(*nm->s));
			if (!nm->s)
				return -1;
		}
		nm->s[nm->n++] = (struct nmsym){a, name};
	}
	qsort(nm->s, nm->n, sizeof(*nm->s), nm_cmp);
	return nm->n ? 0 : -1;
}

static void nm_free(struct nm *nm)
{
	free(nm->s);
	free(nm->text);
}

/* Index of the first symbol at addr or above. */
static size_t nm_lower(const struct nm *nm, uint64_t addr)
{
	size_t lo = 0, hi = nm->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (nm->s[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct nmsym *nm_named(const struct nm *nm, const char *name)
{
	for (size_t i = 0; i < nm->n; i++)
		if (!strcmp(nm->s[i].name, name))
			return &nm->s[i];
	return NULL;
}

/* The next text address after addr, 0 when none. */
static uint64_t nm_next(const struct nm *nm, uint64_t addr)
{
	size_t i = nm_lower(nm, addr + 1);

	return i < nm->n ? nm->s[i].addr : 0;
}

/* Does nm have a symbol called name (or name.abi0: pclntab names drop the ABI suffix) at addr? */
static int nm_has(const struct nm *nm, uint64_t addr, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = nm_lower(nm, addr); i < nm->n && nm->s[i].addr == addr; i++)
		if (!strcmp(nm->s[i].name, name) ||
		    (!strncmp(nm->s[i].name, name, l) && !strcmp(nm->s[i].name + l, ".abi0")))
			return 1;
	return 0;
}

struct tool {
	char go[512];
	char version[64]; /* "go1.19.8" */
	int minor;
};

static int find_tools(struct tool *t, int max)
{
	glob_t gl;
	int n = 0;

	if (!access(GO119, X_OK))
		snprintf(t[n++].go, sizeof(t->go), "%s", GO119);
	if (!glob(GO_GLOB, 0, NULL, &gl)) {
		for (size_t i = 0; i < gl.gl_pathc && n < max; i++)
			if (!access(gl.gl_pathv[i], X_OK))
				snprintf(t[n++].go, sizeof(t->go), "%s", gl.gl_pathv[i]);
		globfree(&gl);
	}
	for (int i = 0; i < n; i++) {
		char cmd[600], *v, *p;

		snprintf(cmd, sizeof(cmd), "GOTOOLCHAIN=local GOTELEMETRY=off %s env GOVERSION",
			 t[i].go);
		v = sh(cmd);
		p = v ? v : "";
		p[strcspn(p, "\n")] = 0;
		snprintf(t[i].version, sizeof(t[i].version), "%s", p);
		t[i].minor = atoi(strchr(p, '.') ? strchr(p, '.') + 1 : "0");
		free(v);
	}
	return n;
}

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

		snprintf(cmd, sizeof(cmd),
			 "cd %s && GOCACHE=" BUILD_CACHE "/%s GOPATH=%s/gopath GOPROXY=off "
			 "GOTOOLCHAIN=local GOTELEMETRY=off GOFLAGS=-mod=mod %s build %s -o %s . "
			 "2>&1 || echo BUILD-FAILED",
			 dir, t->version, dir, t->go, variants[v].flags, variants[v].name);
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

/* Rename sections in a copy of src, in place in the names: .gopclntab, .go.module. */
static int write_renamed(const char *src, const char *dst)
{
	static const char *const from[] = {"gopclntab", ".go.module"};
	struct bin_elf f;
	FILE *o;
	int ok;

	if (bin_elf_open(&f, src)) {
		bin_elf_close(&f);
		return -1;
	}
	for (size_t k = 0; k < 2; k++) {
		size_t l = strlen(from[k]) + 1;
		uint8_t *p = f.buf, *end = f.buf + f.size;

		while ((p = memmem(p, end - p, from[k], l))) {
			p[l - 2] = 'X';
			p += l;
		}
	}
	o = fopen(dst, "w");
	ok = o && fwrite(f.buf, 1, f.size, o) == f.size;
	if (o)
		fclose(o);
	bin_elf_close(&f);
	return ok ? 0 : -1;
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
			FAILF(tn, "function %llu unreadable or out of order", (unsigned long long)i);
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

static void test_tool(const struct tool *t)
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
	printf("PASS go_build_%s (4 variants)\n", t->version);
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
		/* the scan paths: no section called .gopclntab or .go.module */
		if (!variants[v].stripped || !nm)
			continue;
		snprintf(cmd, sizeof(cmd), "%s.renamed", bin);
		snprintf(tn, sizeof(tn), "gopcln_%s_%s_no_sections", t->version, variants[v].name);
		if (write_renamed(bin, cmd) || bin_elf_open(&e, cmd)) {
			FAILF(tn, "could not write or open %s", cmd);
			bin_elf_close(&e);
			continue;
		}
		if (bin_go_open(&g, &e)) {
			FAILF(tn, "expected 0, got -1: %s", g.why);
		} else {
			printf("INFO %s: table from %s at 0x%llx, text 0x%llx from %s, moduledata "
			       "0x%llx\n",
			       tn, g.table_from, (unsigned long long)g.hdr_va,
			       (unsigned long long)g.text, g.text_from,
			       (unsigned long long)g.moduledata);
			if (CHECK_STR(tn, "magic scan", g.table_from) &&
			    CHECK_STR(tn, t->minor >= 26 ? "moduledata.text" : "pcHeader.textStart",
				      g.text_from) &&
			    check_named(tn, &g, nm))
				PASS(tn);
		}
		bin_go_close(&g);
		bin_elf_close(&e);
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
		test_tool(&tools[i]);
	}
	return tl_failed;
}
