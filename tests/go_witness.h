/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The witnesses test_bin_gopclntab.c judges the Go reader by: the Go toolchains on this machine
 * (Debian's 1.19, the 1.24-1.27 of tools/fetch-go.sh) and `go tool nm`'s text symbols of a build,
 * by address. Nothing here calls the code under test.
 */
#ifndef AT_GO_WITNESS_H
#define AT_GO_WITNESS_H

#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GO119 "/usr/lib/go-1.19/bin/go"
#define GO_GLOB "/var/tmp/alerttrace-go/1.*/usr/lib/go-1.*/bin/go"

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

		snprintf(cmd, sizeof(cmd), "GOTOOLCHAIN=local GOTELEMETRY=off %.500s env GOVERSION",
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

#endif
