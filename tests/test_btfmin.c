// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/btfmin.c against libbpf itself: every BPF object of the tracer is loaded twice into this
 * kernel, once the way libbpf does by default (the kernel's whole BTF) and once with its cut
 * (btfmin_build, handed over as btfmin_opts() does: a memfd), and libbpf's own log of its CO-RE
 * decisions ("relo #N: patched insn #I ... off A -> B", or an instruction poisoned) must be the
 * same, line for line, for every program: the cut leads libbpf to the same offsets, sizes and
 * existence answers. Both loads must pass the verifier, and btfmin_opts() must give every object
 * a cut. With the cut libbpf must not read the kernel's BTF at all, except for sock's BTF-typed
 * tp_btf/sys_exit (its attach id): loaded without that program, as user/wire/accept.c does
 * where the accept tracepoints are found, not even for sock.
 * Then the cut itself: small, and refusals (by-type relocations, unknown roots, bad input).
 */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "testlib.h"
#include "alerttrace.h"
#include "btfmin.h"
#include "tc.skel.h"
#include "sock.skel.h"
#include "exec.skel.h"
#include "ossl.skel.h"
#include "gnutls.skel.h"
#include "go.skel.h"

static char *logbuf;
static size_t loglen, logcap;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[4096];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (loglen + n + 1 > logcap) {
		logcap = (loglen + n + 1) * 2;
		logbuf = realloc(logbuf, logcap);
		if (!logbuf)
			exit(2);
	}
	memcpy(logbuf + loglen, line, n + 1);
	loglen += n;
	return n;
}

/* libbpf's CO-RE decisions in the captured log, one per line, the BTF type ids taken out
 * (they number different BTFs): "prog 'P': relo #N: patched insn ..." and poisonings. */
static char *decisions(const char *log, int *n)
{
	regex_t re, ids;
	regmatch_t m;
	size_t cap = strlen(log) + 1, len = 0;
	char *out = calloc(1, cap);
	const char *p = log;

	*n = 0;
	regcomp(&re, "relo #[0-9]+: (patched insn|substituting insn|poison)", REG_EXTENDED);
	regcomp(&ids, "\\[[0-9]+\\]", REG_EXTENDED);
	while (out && *p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char line[4096];

		snprintf(line, sizeof(line), "%.*s", (int)(l < sizeof(line) ? l : sizeof(line) - 1),
			 p);
		if (!regexec(&re, line, 0, NULL, 0)) {
			char *q = line;

			while (!regexec(&ids, q, 1, &m, 0)) {
				memmove(q + m.rm_so, q + m.rm_eo, strlen(q + m.rm_eo) + 1);
				q += m.rm_so;
			}
			len += snprintf(out + len, cap - len, "%s\n", line);
			(*n)++;
		}
		p += l + (e ? 1 : 0);
	}
	regfree(&re);
	regfree(&ids);
	return out;
}

struct obj {
	const char *name;
	const void *(*elf)(size_t *);
	bool tp_btf; /* a BTF-typed tracepoint: libbpf reads the kernel's BTF for its attach id */
};

#define ELF_FN(n)                                                                                  \
	static const void *n##_elf(size_t *sz)                                                     \
	{                                                                                          \
		return n##_bpf__elf_bytes(sz);                                                     \
	}
ELF_FN(tc)
ELF_FN(sock)
ELF_FN(exec)
ELF_FN(ossl)
ELF_FN(gnutls)
ELF_FN(go)

/* Load the object with opts; its log's decisions, or NULL when open or load failed (why). */
static char *load(const struct obj *o, const struct bpf_object_open_opts *opts, int *n,
		  bool *read_kernel, char *why, size_t whylen, const char *skip)
{
	size_t sz;
	const void *elf = o->elf(&sz);
	struct bpf_object *obj;
	char *d = NULL;
	int err;

	loglen = 0;
	if (logbuf)
		logbuf[0] = 0;
	obj = bpf_object__open_mem(elf, sz, opts);
	if (!obj) {
		snprintf(why, whylen, "open: %s", strerror(errno));
		return NULL;
	}
	if (skip)
		bpf_program__set_autoload(bpf_object__find_program_by_name(obj, skip), false);
	err = bpf_object__load(obj);
	if (err)
		snprintf(why, whylen, "load: %s", strerror(-err));
	else
		d = decisions(logbuf ? logbuf : "", n);
	*read_kernel = logbuf && strstr(logbuf, "loading kernel BTF");
	bpf_object__close(obj);
	return d;
}

/* The cut of the object made by btfmin_build into a memfd, as btfmin_opts would hand it. */
static bool cut_opts(const struct btf *k, const struct obj *o, struct bpf_object_open_opts *opts,
		     char *path, size_t pathlen, char *why, size_t whylen)
{
	size_t sz;
	const void *elf = o->elf(&sz);
	int nrelo, fd;
	__u32 rawlen;
	struct btf *b = btfmin_build(k, elf, sz, &nrelo, why, whylen);
	const void *raw = b ? btf__raw_data(b, &rawlen) : NULL;

	fd = raw ? memfd_create("test-btfmin", MFD_CLOEXEC) : -1;
	if (fd < 0 || write(fd, raw, rawlen) != (ssize_t)rawlen) {
		if (b)
			snprintf(why, whylen, "memfd: %s", strerror(errno));
		btf__free(b);
		return false;
	}
	btf__free(b);
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->btf_custom_path = path;
	return true;
}

static void differential(const struct btf *k, const struct obj *o)
{
	struct bpf_object_open_opts whole = {.sz = sizeof(whole)}, cut;
	struct btfmin_open bo;
	char name[128], why[256] = "", path[64] = "", *a, *b = NULL;
	bool ka = false, kb = false;
	int na = 0, nb = 0;
	size_t sz;
	const void *elf = o->elf(&sz);

	libbpf_set_print(capture);
	/* what the tracer does: a cut for every object */
	snprintf(name, sizeof(name), "btfmin_%s_cut_used", o->name);
	if (btfmin_opts(&bo, o->name, elf, sz)->btf_custom_path)
		PASS(name);
	else
		FAILF(name, "no cut: see -v");
	a = load(o, &whole, &na, &ka, why, sizeof(why), NULL);
	snprintf(name, sizeof(name), "btfmin_%s_loads_whole", o->name);
	a ? PASS(name) : FAILF(name, "%s", why);
	snprintf(name, sizeof(name), "btfmin_%s_loads_cut", o->name);
	if (cut_opts(k, o, &cut, path, sizeof(path), why, sizeof(why)))
		b = load(o, &cut, &nb, &kb, why, sizeof(why), NULL);
	b ? PASS(name) : FAILF(name, "%s", why);
	snprintf(name, sizeof(name), "btfmin_%s_same_decisions", o->name);
	printf("# %s: %d CO-RE decisions with the kernel's BTF, %d with the cut\n", o->name, na, nb);
	if (a && b)
		tl_check_text(name, b, a);
	snprintf(name, sizeof(name), "btfmin_%s_decisions_seen", o->name);
	/* tc reads no kernel type: nothing to compare, which the count says */
	if (strcmp(o->name, "tc"))
		na > 0 ? PASS(name) : FAILF(name, "libbpf logged no CO-RE decision");
	else if (CHECK_EQ(name, 0, na))
		PASS(name);
	/* the witness that the log capture works: the default load reads the kernel's BTF */
	snprintf(name, sizeof(name), "btfmin_%s_whole_reads_kernel", o->name);
	if (strcmp(o->name, "tc"))
		ka ? PASS(name) : FAILF(name, "libbpf's log never says it read the kernel's BTF");
	snprintf(name, sizeof(name), "btfmin_%s_cut_reads_kernel_btf_only_for_tp_btf", o->name);
	if (kb == o->tp_btf)
		PASS(name);
	else
		FAILF(name, "libbpf %s the kernel's BTF", kb ? "read" : "did not read");
	/* sock without its tp_btf program, as user/wire/accept.c loads it where the syscalls'
	 * tracepoints are found: the cut alone */
	if (o->tp_btf && b) {
		char *c = load(o, &cut, &nb, &kb, why, sizeof(why), "sys_exit_any");

		snprintf(name, sizeof(name), "btfmin_%s_without_tp_btf_reads_no_kernel_btf",
			 o->name);
		if (c && !kb)
			PASS(name);
		else
			FAILF(name, "%s", c ? "libbpf read the kernel's BTF" : why);
		free(c);
	}
	if (path[0] && b)
		close(atoi(path + strlen("/proc/self/fd/")));
	free(a);
	free(b);
	libbpf_set_print(NULL);
}

/* Where the section called name lies in the ELF elf[0..sz): its offset and size, or -1. */
static long section(const void *elf, size_t sz, const char *name, size_t *len)
{
	Elf *e;
	Elf_Scn *s = NULL;
	GElf_Shdr sh;
	size_t shstrndx;
	long off = -1;

	elf_version(EV_CURRENT);
	e = elf_memory((char *)elf, sz);
	if (!e || elf_getshdrstrndx(e, &shstrndx))
		goto out;
	while ((s = elf_nextscn(e, s))) {
		const char *n;

		if (gelf_getshdr(s, &sh) && (n = elf_strptr(e, shstrndx, sh.sh_name)) &&
		    !strcmp(n, name) && sh.sh_offset + sh.sh_size <= sz) {
			off = sh.sh_offset;
			*len = sh.sh_size;
			break;
		}
	}
out:
	if (e)
		elf_end(e);
	return off;
}

/* A copy of the object elf[0..sz) with its first CO-RE relocation changed by fn. */
static void *mutate_first_relo(const void *elf, size_t sz,
			       void (*fn)(struct bpf_core_relo *, void *), void *arg)
{
	size_t len = 0;
	long off = section(elf, sz, ".BTF.ext", &len);
	struct {
		__u16 magic;
		__u8 version, flags;
		__u32 hdr_len, fo, fl, lo, ll, co, cl;
	} h;
	struct bpf_core_relo rel;
	char *copy, *r;

	if (off < 0 || len < sizeof(h))
		return NULL;
	memcpy(&h, (const char *)elf + off, sizeof(h));
	/* the record size, the first section's name and count, then its records */
	if (h.cl < 4 + 8 + sizeof(rel) || h.hdr_len + h.co + h.cl > len)
		return NULL;
	copy = malloc(sz);
	if (!copy)
		return NULL;
	memcpy(copy, elf, sz);
	r = copy + off + h.hdr_len + h.co + 4 + 8;
	memcpy(&rel, r, sizeof(rel));
	fn(&rel, arg);
	memcpy(r, &rel, sizeof(rel));
	return copy;
}

static struct btf *local_btf(const void *elf, size_t sz)
{
	size_t len = 0;
	long off = section(elf, sz, ".BTF", &len);

	return off < 0 ? NULL : btf__new((const char *)elf + off, len);
}

static void to_type_exists(struct bpf_core_relo *r, void *arg)
{
	(void)arg;
	r->kind = BPF_CORE_TYPE_EXISTS;
}

static void to_type(struct bpf_core_relo *r, void *arg)
{
	r->type_id = *(__u32 *)arg;
}

/* Refusals: the object then loads against the kernel's whole BTF (btfmin_opts leaves
 * btf_custom_path NULL). A by-type relocation (whole types compared: not cut), a root the
 * kernel has no type of (libbpf would look in the modules' BTF), not an ELF object. */
static void refusals(const struct btf *k)
{
	size_t sz;
	const void *elf = ossl_bpf__elf_bytes(&sz);
	char why[256];
	int nrelo;
	struct btf *b, *local;
	void *m;
	__s32 ours;

	errno = 0;
	b = btfmin_build(k, "not an elf", 10, &nrelo, why, sizeof(why));
	if (!b && errno == EINVAL)
		PASS("btfmin_refuses_non_elf");
	else
		FAILF("btfmin_refuses_non_elf", "errno %d", errno);
	btf__free(b);

	m = mutate_first_relo(elf, sz, to_type_exists, NULL);
	errno = 0;
	b = m ? btfmin_build(k, m, sz, &nrelo, why, sizeof(why)) : NULL;
	if (m && !b && errno == ENOTSUP)
		PASS("btfmin_refuses_type_relocation");
	else
		FAILF("btfmin_refuses_type_relocation", "mutated %d, errno %d", !!m, errno);
	btf__free(b);
	free(m);

	/* struct at_event: the object's own type, which the kernel has none of */
	local = local_btf(elf, sz);
	ours = local ? btf__find_by_name_kind(local, "at_event", BTF_KIND_STRUCT) : -1;
	m = ours > 0 ? mutate_first_relo(elf, sz, to_type, &ours) : NULL;
	errno = 0;
	b = m ? btfmin_build(k, m, sz, &nrelo, why, sizeof(why)) : NULL;
	if (m && !b && errno == ENOENT && strstr(why, "at_event"))
		PASS("btfmin_refuses_unknown_root");
	else
		FAILF("btfmin_refuses_unknown_root", "type %d, errno %d: %s", ours, errno, why);
	btf__free(b);
	btf__free(local);
	free(m);
}

static void sizes(const struct btf *k)
{
	size_t sz;
	const void *elf = ossl_bpf__elf_bytes(&sz);
	char why[256] = "";
	int nrelo = 0;
	struct btf *b = btfmin_build(k, elf, sz, &nrelo, why, sizeof(why));
	__u32 rawlen = 0;

	if (!b) {
		FAILF("btfmin_ossl_small", "%s", why);
		return;
	}
	btf__raw_data(b, &rawlen);
	printf("# ossl: %d relocations; cut BTF %u types, %u bytes; kernel %u types\n", nrelo,
	       btf__type_cnt(b) - 1, rawlen, btf__type_cnt(k) - 1);
	if (rawlen < 64 * 1024 && btf__type_cnt(b) < btf__type_cnt(k) / 100)
		PASS("btfmin_ossl_small");
	else
		FAILF("btfmin_ossl_small", "%u bytes, %u types", rawlen, btf__type_cnt(b));
	btf__free(b);
}

int main(void)
{
	static const struct obj objs[] = {
	    {"tc", tc_elf, false},     {"sock", sock_elf, true},      {"exec", exec_elf, false},
	    {"ossl", ossl_elf, false}, {"gnutls", gnutls_elf, false}, {"go", go_elf, false},
	};
	struct btf *k;

	if (geteuid()) {
		SKIP("btfmin", "needs root to load BPF objects");
		return 0;
	}
	unsetenv("ALERTTRACE_BTF");
	k = btf__load_vmlinux_btf();
	if (!k) {
		FAILF("btfmin_kernel_btf", "%s", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		differential(k, &objs[i]);
	sizes(k);
	refusals(k);
	btf__free(k);
	btfmin_release();
	return tl_failed;
}
