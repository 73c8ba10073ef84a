/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One provider per TLS library (OpenSSL, GnuTLS, ...). A provider knows one library: how to
 * recognise its files, how to analyse a file into a probe plan (with a reason for every hook it
 * could not place), and its BPF object with a per-library config map `cfgs`. Everything else is
 * the library path's: discovery (discover.c, execwatch.c), the analysis cache by build-id
 * (analysis.c), loss accounting (libpath.c), attaching with rollback (attach.c), the coverage
 * report (report.c). Adding a library is one user/tls/ file pair, one bpf/ object and one line
 * in tls_providers[] (providers.c).
 */
#ifndef AT_PROVIDER_H
#define AT_PROVIDER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "alerttrace.h"
#include "btfmin.h"

struct bpf_object;
struct at_filter;

#define TP_MAX_HOOKS 8	/* hooks of one library in the report */
#define TP_MAX_PROBES 2 /* uprobes of one hook: an entry and its return */
#define TP_CFG_MAX 64	/* bytes of one library's entry in the provider's `cfgs` map */
#define TP_MAX_LIBS AT_MAX_LIBS /* lib_id range shared by every provider */

struct tp_probe {
	const char *prog;	/* program name in the provider's BPF object */
	uint64_t file_off;	/* uprobe offset in the file */
	uint64_t cookie;	/* the provider's bits; the core puts lib_id in bits 0..31 */
	bool ret;		/* uretprobe */
};

struct tp_hook {
	const char *key;	/* JSON key in the coverage report: "sent" */
	const char *name;	/* text: "sent" */
	bool placed;		/* the analysis found and checked every probe below */
	char why[200];		/* !placed: why not; placed: empty */
	int nprobes;
	struct tp_probe probes[TP_MAX_PROBES];
	bool on_aux;		/* the probes go into the plan's aux file, not the library */
	bool aux_once;		/* an aux file shared by two libraries carries this hook once */
	int unless;		/* index of a hook that makes this one unnecessary when attached;
				 * -1: none */
	const char *unless_why;	/* the reason then ("not needed: the read probe is attached") */
};

/* What an analysis of one file found. Plain data: the core copies it into its cache. */
struct tp_plan {
	int rc;			/* 0 analysed (hooks may still be unplaced), -1 refused (why) */
	char why[256];
	char version[96];	/* "OpenSSL 3.0.19 27 Jan 2026", "GnuTLS 3.7.9"; "" unknown */
	char build_id[41];	/* hex, "" when none */
	char detail[96];	/* a note for the report (", from symbols"), "" none */
	char aux_path[PATH_MAX]; /* another file some hooks attach to (OpenSSL: its libcrypto) */
	int nhooks;
	struct tp_hook hooks[TP_MAX_HOOKS];
	__u32 cfg_size;		/* bytes of cfg written to `cfgs`[lib_id]; 0: none */
	__u8 cfg[TP_CFG_MAX];
	__u32 analysis_us;	/* how long the analysis that made this plan took */
};

struct tls_provider {
	const char *name;	/* "openssl": the coverage report, --help */
	__u8 source;		/* enum at_source of its events */
	/* The file's base name says it is this library (libssl.so.3): analysed without the
	 * symbol test. */
	bool (*named)(const char *base);
	/* Functions whose definition (.dynsym or .symtab) marks a file as this library's, e.g. a
	 * binary that links it statically; NULL-terminated. */
	const char *const *marks;
	/* Sections that mark a file as this library's (a Go program's .go.buildinfo); may be
	 * NULL, else NULL-terminated. */
	const char *const *mark_sections;
	/* Analyse path (opened as given; root: its process's root, "" for ours) into plan. Returns
	 * plan->rc. Never crashes on bad input. */
	int (*analyse)(const char *path, const char *root, struct tp_plan *plan);
	/* Optional: a cached plan of the same build-id found under another root: redo what
	 * depends on the root (aux files). */
	void (*rebase)(const char *path, const char *root, struct tp_plan *plan);
	/* The BPF object (TP_SKEL below): open with the filter in rodata, load, destroy, and its
	 * loss counters (ring buffer reserve failures; hist: histogram updates refused). */
	void *(*open)(struct bpf_object **obj, const struct at_filter *filt);
	/* Optional, after open: e.g. programs this tracer will not attach left unloaded. */
	void (*prepare)(struct bpf_object *obj);
	/* Keys of hooks that feed only the stream's details (a sent alert's reason): not attached
	 * when the tracer only counts (AT_SKIP_DETAIL). NULL: none. */
	const char *const *detail_hooks;
	/* Programs that only learn whether a sent alert was written (a return probe whose entry
	 * probe can count the alert itself): not attached when the tracer only counts
	 * (AT_SKIP_WRITTEN). NULL: none. */
	const char *const *written_progs;
	int (*load)(void *skel);
	void (*destroy)(void *skel);
	__u64 (*lost)(void *skel, bool hist);
};

/* The providers, in the order a file is offered to them; NULL-terminated (providers.c). */
extern const struct tls_provider *const tls_providers[];

/* A provider's skeleton operations: every BPF object includes bpf/emit.bpf.h (at_filt in
 * rodata, lost and hist_lost in bss). Use TP_SKEL_OPS(ossl) in the provider's .c after including
 * ossl.skel.h, then TP_SKEL(ossl) in its struct tls_provider. */
#define TP_SKEL_OPS(n)                                                                     \
	static void *n##_tp_open(struct bpf_object **obj, const struct at_filter *f)       \
	{                                                                                  \
		struct n##_bpf *s = BTFMIN_OPEN(n);                                        \
		if (!s)                                                                    \
			return NULL;                                                       \
		s->rodata->at_filt = *f;                                                   \
		*obj = s->obj;                                                             \
		return s;                                                                  \
	}                                                                                  \
	static int n##_tp_load(void *s) { return n##_bpf__load(s); }                       \
	static void n##_tp_destroy(void *s) { n##_bpf__destroy(s); }                       \
	static __u64 n##_tp_lost(void *s, bool hist)                                       \
	{                                                                                  \
		struct n##_bpf *k = s;                                                     \
		if (!k || !k->bss)                                                         \
			return 0;                                                          \
		return hist ? *(volatile __u64 *)&k->bss->hist_lost                        \
			    : *(volatile __u64 *)&k->bss->lost;                            \
	}
#define TP_SKEL(n) .open = n##_tp_open, .load = n##_tp_load, .destroy = n##_tp_destroy, \
		   .lost = n##_tp_lost

/* Helpers for analysers. */
struct tp_hook *tp_hook_add(struct tp_plan *p, const char *key, const char *name);
void tp_hook_probe(struct tp_hook *h, const char *prog, uint64_t file_off, uint64_t cookie,
		   bool ret);
void tp_plan_init(struct tp_plan *p);
/* The analysis's verdict: rc, why (refused), version text and build-id. */
/* ALERTTRACE_OSSL_DONE=1: OpenSSL's sent hook is the one probe after the write (openssl.c). */
bool ossl_done_wanted(void);
/* ALERTTRACE_NO_ADDRS=1 (benchmarks): the probes read no socket, as before they did. */
bool tp_addrs_off(void);
void tp_plan_set(struct tp_plan *p, int rc, const char *why, const char *version,
		 const char *build_id);

#endif
