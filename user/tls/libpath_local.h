/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the library path (libpath.h): the tracer's state, shared by libpath.c (discovery's
 * callbacks, the API), analysis.c (the analysis cache), attach.c (a library's plan into uprobes,
 * all of a hook or none) and report.c (the coverage report).
 */
#ifndef AT_LIBPATH_LOCAL_H
#define AT_LIBPATH_LOCAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "discover.h"
#include "plancache.h"
#include "provider.h"

struct bpf_link;
struct stat;
struct bpf_object;
struct execwatch;

#define MAX_LINKS (TP_MAX_HOOKS * TP_MAX_PROBES)
#define NPROV_MAX 8

/* One attached probe: a uprobe_multi link's fd (umulti.h), else libbpf's perf-event link. */
struct lp_link {
	struct bpf_link *bl;
	int fd;
};

struct lib {
	__u32 id;		/* lib_id: index in lt->libs + 1 */
	int pv;			/* index in tls_providers[], -1: no provider took the file */
	bool refused;		/* plan.rc < 0 (plan.why), or not a TLS library */
	bool cached;		/* the plan came from the cache */
	bool from_disk;		/* ... read from the plan cache on disk (plancache.h) */
	bool prepped;		/* analysed in this run by alerttrace-prep (binprep.c): not cached */
	double ms;		/* analysis time (alerttrace-prep's when prepped) */
	char path[PATH_MAX];	/* what the probes are attached to */
	struct tp_plan plan;
	bool on[TP_MAX_HOOKS];
	char why[TP_MAX_HOOKS][200]; /* why a hook is not attached */
	struct lp_link links[MAX_LINKS];
	int nlinks;
};

/* A provider's BPF object, loaded once, shared by its libraries. */
struct pobj {
	void *skel;
	struct bpf_object *obj;
	int cfgs_fd;
	__u32 cfg_size;
	char why[200];		/* skel == NULL: why this kernel has no such object */
	struct bpf_link *cut[2]; /* its pending_exit and pending_exec (objload.c), or NULL */
};

/* An aux file (OpenSSL's libcrypto) that carries a hook once for every library sharing it. */
struct auxfile {
	__u64 dev, ino;
	__u32 lib_id;
	const char *key;
};

/* Analyses by build-id for the life of the tracer; some read from the plan cache on disk. */
struct cent {
	struct cent *next;
	int pv;
	char key[80];
	char root[64];
	struct tp_plan plan;
	char *strs;		/* from disk: the strings plan points to; NULL otherwise */
	char aux_id[41];	/* from disk: plan.aux_path's build-id when analysed */
	bool aux_checked;	/* ... and it is that build now */
	bool prepped;		/* analysed in this run by alerttrace-prep, not yet taken by a lib */
};

/* The binary directories' programs that need a file read, prepared by a child (binprep.c). */
struct binprep {
	char **paths;
	int n, cap;
	int pid;		/* the child, 0 none */
	int fd;			/* its records, -1 none */
	int *progress;		/* shared with the child: paths[0 .. *progress-1] done by it */
	bool eof;		/* all came, paths[next..] not yet hooked */
	int next;		/* paths[0 .. next-1] hooked or found to need no hook */
	char *buf;		/* what came and is not yet a whole record */
	size_t len, bufcap;
	int hooked;
	double t0;
};

struct lib_tracer {
	struct pobj objs[NPROV_MAX];
	int nprov;
	bool verbose;
	bool err_always;
	__u8 lib_skip;		/* the shared filter's AT_SKIP_*: detail_hooks not attached */
	char **extra;
	struct lib **libs;
	int nlibs, caplibs;
	struct auxfile *aux;
	int naux;
	struct cent *cache;
	struct plancache pc;	/* the plans of earlier runs, and where new ones go */
	int ndisk;		/* plans read from it */
	bool scanned;
	bool named_done;	/* the files of --lib were looked at (libs_hook_named) */
	int reported;		/* libs[0 .. reported-1] are in a report already */
	struct disc disc;
	struct execwatch *ew;	/* discovery at exec, NULL: the rescan alone */
	bool multi;		/* probes as uprobe_multi links (umulti.h) */
	struct pc_peek *peeks;	/* looks at host files, from the cache and this run: by dev, ino */
	size_t npeeks, peekcap;
	struct binprep bp;
	struct peeked {		/* libpath.c's peek(): the last file's answer */
		__u64 dev, ino;
		long long mtime;
		int pv;
		char build_id[41];
	} peeked;
};

/* The plan of the file at path (analysis.c): from the cache by build-id (build_id, else the
 * file st names) or analysed, into l->plan, l->cached, l->from_disk, l->ms. */
void lp_analyse(struct lib_tracer *lt, struct lib *l, const char *path, const char *root,
		const char *build_id, const struct stat *st);
struct libs_opts;
/* Every provider's object opened, its maps shared, then all loaded at once, each in a thread
 * (objload.c). 0 when at least one loaded; -EPERM when privilege refused them. */
int lp_load_objs(struct lib_tracer *lt, const struct libs_opts *o, int ringbuf_fd);
/* The object's exit and exec tracepoints (objload.c) detached. */
void lp_cut_detach(struct pobj *po);
enum lp_prep { LP_PREP_NOW, LP_PREP_KNOWN, LP_PREP_CHILD, LP_PREP_ALL };
/* A program of the standard binary directories prepared (libpath.c says how). */
int lp_prepare(struct lib_tracer *lt, const char *path, enum lp_prep how);
/* binprep.c: a program whose look or plan needs the file read, for the child; the child
 * started (after the first scan's static part); its records taken and what they allow hooked
 * (returns how many); the child ended (killed when still running). */
void bp_defer(struct lib_tracer *lt, const char *path);
void bp_start(struct lib_tracer *lt);
int bp_poll(struct lib_tracer *lt);
void bp_stop(struct lib_tracer *lt);
/* A plan for the host file st (its build_id, "" none) of provider pv is in the cache. */
bool lp_have_plan(struct lib_tracer *lt, int pv, const char *build_id, const struct stat *st);
/* Plan cache records (plancache.h's, as another process wrote them) into lt->cache and the
 * looks kept, and onto the plan cache on disk. Returns the bytes of the whole records taken. */
size_t lp_take_records(struct lib_tracer *lt, const char *buf, size_t n, bool *bad);
/* Read the plan cache on disk into lt->cache; its writes go there too (-v says what it read). */
void lp_open_plan_cache(struct lib_tracer *lt);
/* The look kept for the host file st describes when it is unchanged since, else NULL. */
const struct pc_peek *lp_peek_find(const struct lib_tracer *lt, const struct stat *st);
/* Keep a look at the host file st describes, for this run and (pc_flush) the next. */
void lp_peek_keep(struct lib_tracer *lt, const struct stat *st, const char *provider,
		  const char *build_id, const char *why);
/* Free lt->cache and close the plan cache. */
void lp_free_cache(struct lib_tracer *lt);

/* Attach l's plan (attach.c): its config into the provider's `cfgs`, then each hook whole. */
/* Detach n probes at once, in parallel (each close waits in the kernel). */
void lp_destroy_links(struct lp_link *links, int n);
void lp_hook_lib(struct lib_tracer *lt, struct lib *l);
/* Look at one file of --lib (libpath.c): hooked, refused with a reason, or listed as unopenable.
 * Returns 1 when it was hooked. */
int lp_scan_extra(struct lib_tracer *lt, const char *path);

#endif
