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
 *
 * The same file keeps what a look at each file of the host's standard directories found (which
 * provider marks it, its build-id, or that none does: pc_peek), so that the next start does not
 * open the 1,800 programs of /usr/bin again (65 ms of a 230 ms start on the development VM).
 * Such a record holds while the file has the same device, inode, size, mtime and ctime: any
 * change to a file, or a new file under its name, sets a new ctime or inode.
 */
#ifndef AT_PLANCACHE_H
#define AT_PLANCACHE_H

#include <stdbool.h>
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

/* What a look at a file (libpath.c's peek) found, valid while the file is unchanged. */
struct pc_peek {
	__u64 dev, ino, size;
	__s64 mtime_ns, ctime_ns;
	char provider[16];	/* the provider whose mark the file has, "" none */
	char build_id[41];	/* "" none */
	char failed;		/* the look failed: why */
	char why[96];
};

struct plancache {
	int fd;			/* -1: off */
	char *pbuf;		/* pc_peek records not yet written */
	size_t plen, pcap;
	char path[300];
	char why[512];		/* off: why ("" when disabled by ALERTTRACE_CACHE=off) */
};

/* Open (creating DIR and the file) and call fn for every good plan record, peek for every
 * good pc_peek record. 0, or -errno with pc->why set and pc->fd -1: the caller runs without
 * the cache. */
int pc_open(struct plancache *pc, void (*fn)(void *ctx, struct pc_entry *e),
	    void (*peek)(void *ctx, const struct pc_peek *k), void *ctx);
/* The whole records at the start of buf (n bytes), each good one to fn or peek as pc_open does.
 * Returns the bytes they take: a record cut short at the end waits for more; *bad (when not
 * NULL): a header that is none, after which nothing lines up. */
size_t pc_parse(const char *buf, size_t n, void (*fn)(void *ctx, struct pc_entry *e),
		void (*peek)(void *ctx, const struct pc_peek *k), void *ctx, bool *bad);
/* Append n bytes of whole records (pc_parse's) as they are, in one write. */
void pc_append(struct plancache *pc, const char *buf, size_t n);
/* Append one plan (placed, or a refusal: plan->rc -1) of a file of the host's root. */
void pc_put(struct plancache *pc, const char *provider, const char *key,
	    const struct tp_plan *plan);
/* Keep one look at a file of the host's root: written at pc_flush (or pc_close). */
void pc_put_peek(struct plancache *pc, const struct pc_peek *k);
/* Write the looks kept so far, in one append. */
void pc_flush(struct plancache *pc);
/* The build-id of path (41 bytes), "" when it has none or cannot be read. */
void pc_build_id(const char *path, char *id);
void pc_close(struct plancache *pc);

#endif
