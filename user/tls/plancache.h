/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Analyses kept across runs. A probe plan (provider.h) depends on the analysed file's contents,
 * which its build-id names, and on the analysers, which alerttrace's own build-id names: the file
 * DIR/plans-SELF (SELF: the running binary's build-id) keeps one record per plan that placed its
 * hooks, so that the next start hooks the host's Go programs and node without analysing them again
 * (1.3 s of a 1.7 s first scan on the development VM). DIR is /var/cache/alerttrace, or
 * $ALERTTRACE_CACHE ("off": no cache). Trusted only when DIR and the file belong to the tracer's
 * user and no one else may write them: a plan says where uprobes go. Records are checked (length,
 * checksum, bounds) and a bad one is skipped; files of other builds are removed.
 */
#ifndef AT_PLANCACHE_H
#define AT_PLANCACHE_H

#include <stddef.h>
#include "provider.h"

/* One record read back: the strings plan points to live in strs (free it with the entry). */
struct pc_entry {
	char provider[16];
	char key[80];
	char aux_id[41];	/* the build-id of plan.aux_path when analysed, "" none */
	struct tp_plan plan;
	char *strs;
};

struct plancache {
	int fd;			/* -1: off */
	char path[300];
	char why[512];		/* off: why ("" when disabled by ALERTTRACE_CACHE=off) */
};

/* Open (creating DIR and the file) and call fn for every good record. 0, or -errno with
 * pc->why set and pc->fd -1: the caller runs without the cache. */
int pc_open(struct plancache *pc, void (*fn)(void *ctx, struct pc_entry *e), void *ctx);
/* Append one plan (plan->rc == 0) of a file of the host's root. */
void pc_put(struct plancache *pc, const char *provider, const char *key,
	    const struct tp_plan *plan);
/* The build-id of path (41 bytes), "" when it has none or cannot be read. */
void pc_build_id(const char *path, char *id);
void pc_close(struct plancache *pc);

#endif
