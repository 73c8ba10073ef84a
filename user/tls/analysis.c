// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The library path's analyses (libpath_local.h): one per build-id for the life of the tracer, and
 * those of earlier runs read from the plan cache on disk (plancache.h), where each new one goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "binguard.h"
#include "libpath_local.h"
#include "log.h"
#include "plancache.h"
#include "provider.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * A plan from disk holds while the file its aux hooks go into is the build it was analysed with
 * (libssl and its libcrypto may be upgraded apart); for another root the provider redoes them.
 */
static bool disk_plan_valid(struct cent *c, const char *root)
{
	char id[41];

	if (!c->strs || !c->plan.aux_path[0] || root[0] || c->aux_checked)
		return true;
	pc_build_id(c->plan.aux_path, id);
	c->aux_checked = true;
	if (id[0] && !strcmp(id, c->aux_id))
		return true;
	c->pv = -1; /* never again: analysed afresh, the new plan cached */
	return false;
}

/*
 * The provider's analysis, its files mapped (bin/elf.h) under a SIGBUS guard: a file truncated
 * while it is read is refused, not a crash (what the analysis had allocated is lost then).
 */
static void analyse_guarded(const struct tls_provider *p, const char *path, const char *root,
			    struct tp_plan *plan)
{
	struct bin_guard g;

	tp_plan_init(plan);
	if (bin_guard_enter(&g)) {
		tp_plan_init(plan);
		plan->rc = -1;
		snprintf(plan->why, sizeof(plan->why),
			 "the file shrank while it was analysed (SIGBUS): truncated or rewritten in place");
	} else {
		p->analyse(path, root, plan);
	}
	bin_guard_leave(&g);
}

/*
 * A refusal is kept (a Go program without crypto/tls is refused at every start otherwise) when
 * it was about the bytes of the file: not one that changed or went away during the analysis
 * (a truncation's SIGBUS, an upgrade's rename), nor one of the moment ("cannot open: ...",
 * "out of memory", capstone that "cannot open" a disassembler: the analysers' words for what
 * failed around the file, never for what is in it).
 */
static bool refusal_lasts(const char *path, const struct stat *was, const char *why)
{
	struct stat st;

	if (strstr(why, "cannot") || strstr(why, "out of memory") || strstr(why, "SIGBUS"))
		return false;
	return stat(path, &st) == 0 && st.st_dev == was->st_dev && st.st_ino == was->st_ino &&
	       st.st_size == was->st_size && st.st_mtim.tv_sec == was->st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == was->st_mtim.tv_nsec &&
	       st.st_ctim.tv_sec == was->st_ctim.tv_sec && st.st_ctim.tv_nsec == was->st_ctim.tv_nsec;
}

/* The cache's key of a file: its build-id when it has one, else the file itself. */
static void cache_key(char *key, size_t n, const char *build_id, const struct stat *st)
{
	if (build_id[0])
		snprintf(key, n, "b:%s", build_id);
	else
		snprintf(key, n, "i:%llx:%llx:%lld", (unsigned long long)st->st_dev,
			 (unsigned long long)st->st_ino, (long long)st->st_mtime);
}

static struct cent *cache_find(struct lib_tracer *lt, int pv, const char *key, const char *root)
{
	struct cent *c;

	for (c = lt->cache; c; c = c->next)
		if (c->pv == pv && !strcmp(c->key, key) && disk_plan_valid(c, root))
			break;
	return c;
}

bool lp_have_plan(struct lib_tracer *lt, int pv, const char *build_id, const struct stat *st)
{
	char key[80];

	cache_key(key, sizeof(key), build_id, st);
	return cache_find(lt, pv, key, "") != NULL;
}

void lp_analyse(struct lib_tracer *lt, struct lib *l, const char *path, const char *root,
		    const char *build_id, const struct stat *st)
{
	const struct tls_provider *p = tls_providers[l->pv];
	double t0 = now_ms();
	struct cent *c;
	char key[80];

	cache_key(key, sizeof(key), build_id, st);
	c = cache_find(lt, l->pv, key, root);
	if (c) {
		l->plan = c->plan;
		/* alerttrace-prep's analysis of this run is reported as that analysis, once: by the
		 * first library of the report (id 0: lp_prepare's look, never reported). */
		l->prepped = c->prepped;
		l->cached = !c->prepped;
		l->from_disk = !c->prepped && c->strs != NULL;
		if (l->id)
			c->prepped = false;
		if (strcmp(c->root, root) && p->rebase && l->plan.rc == 0)
			p->rebase(path, root, &l->plan);
	} else {
		analyse_guarded(p, path, root, &l->plan);
		l->plan.analysis_us = (__u32)((now_ms() - t0) * 1e3);
		/* A Go program linked internally has Go's build ID alone: report the key made of it. */
		if (!l->plan.build_id[0] && build_id[0])
			snprintf(l->plan.build_id, sizeof(l->plan.build_id), "%s", build_id);
		c = calloc(1, sizeof(*c));
		if (c) {
			c->pv = l->pv;
			snprintf(c->key, sizeof(c->key), "%s", key);
			snprintf(c->root, sizeof(c->root), "%s", root);
			c->plan = l->plan;
			c->next = lt->cache;
			lt->cache = c;
		}
		/* By build-id only (an inode and mtime may name another file in a later run), and
		 * of the host's root (a container's root is a /proc/PID path that goes away). */
		if (build_id[0] && !root[0] && (l->plan.rc == 0 || refusal_lasts(path, st, l->plan.why)))
			pc_put(&lt->pc, p->name, key, &l->plan);
	}
	l->ms = l->prepped ? l->plan.analysis_us / 1e3 : now_ms() - t0;
}

/* pc_open()'s callback: a plan of an earlier run into the cache, for a provider of this build. */
static void add_cached(void *ctx, struct pc_entry *e)
{
	struct lib_tracer *lt = ctx;
	struct cent *c;
	int i;

	for (i = 0; tls_providers[i] && strcmp(tls_providers[i]->name, e->provider); i++)
		;
	c = tls_providers[i] ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		free(e->strs);
		return;
	}
	c->pv = i;
	memcpy(c->key, e->key, sizeof(c->key));
	memcpy(c->aux_id, e->aux_id, sizeof(c->aux_id));
	c->plan = e->plan;
	c->strs = e->strs;
	c->next = lt->cache;
	lt->cache = c;
	lt->ndisk++;
}

static size_t peek_slot(const struct lib_tracer *lt, __u64 dev, __u64 ino)
{
	__u64 h = (ino * 0x9e3779b97f4a7c15ULL) ^ dev;
	size_t i = (h ^ (h >> 29)) & (lt->peekcap - 1);

	while (lt->peeks[i].ino && (lt->peeks[i].ino != ino || lt->peeks[i].dev != dev))
		i = (i + 1) & (lt->peekcap - 1);
	return i;
}

static void peek_insert(struct lib_tracer *lt, const struct pc_peek *k)
{
	if (!k->ino)
		return;
	if ((lt->npeeks + 1) * 2 > lt->peekcap) {
		size_t cap = lt->peekcap ? lt->peekcap * 2 : 4096;
		struct pc_peek *old = lt->peeks, *n = calloc(cap, sizeof(*n));
		size_t oldcap = lt->peekcap;

		if (!n)
			return;
		lt->peeks = n;
		lt->peekcap = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].ino)
				lt->peeks[peek_slot(lt, old[i].dev, old[i].ino)] = old[i];
		free(old);
	}
	{
		size_t i = peek_slot(lt, k->dev, k->ino);

		lt->npeeks += !lt->peeks[i].ino;
		lt->peeks[i] = *k; /* a later look at the same inode replaces the earlier */
	}
}

static void add_peek(void *ctx, const struct pc_peek *k)
{
	peek_insert(ctx, k);
}

static void peek_of(struct pc_peek *k, const struct stat *st)
{
	memset(k, 0, sizeof(*k)); /* the record's padding too: it is summed and written */
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->size = st->st_size;
	k->mtime_ns = st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	k->ctime_ns = st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

const struct pc_peek *lp_peek_find(const struct lib_tracer *lt, const struct stat *st)
{
	const struct pc_peek *k;
	struct pc_peek now;

	if (!lt->npeeks)
		return NULL;
	k = &lt->peeks[peek_slot(lt, st->st_dev, st->st_ino)];
	peek_of(&now, st);
	if (!k->ino || k->size != now.size || k->mtime_ns != now.mtime_ns ||
	    k->ctime_ns != now.ctime_ns)
		return NULL;
	return k;
}

void lp_peek_keep(struct lib_tracer *lt, const struct stat *st, const char *provider,
		  const char *build_id, const char *why)
{
	struct pc_peek k;

	peek_of(&k, st);
	snprintf(k.provider, sizeof(k.provider), "%s", provider ? provider : "");
	snprintf(k.build_id, sizeof(k.build_id), "%s", build_id ? build_id : "");
	if (why) {
		k.failed = 1;
		snprintf(k.why, sizeof(k.why), "%s", why);
	}
	peek_insert(lt, &k);
	pc_put_peek(&lt->pc, &k);
}

/* lp_take_records()'s callback: a plan alerttrace-prep made in this run. */
static void add_prepped(void *ctx, struct pc_entry *e)
{
	struct lib_tracer *lt = ctx;
	struct cent *head = lt->cache;

	add_cached(ctx, e);
	if (lt->cache != head)
		lt->cache->prepped = true;
}

size_t lp_take_records(struct lib_tracer *lt, const char *buf, size_t n, bool *bad)
{
	size_t used = pc_parse(buf, n, add_prepped, add_peek, lt, bad);

	pc_append(&lt->pc, buf, used); /* for the next start, as the records came */
	return used;
}

void lp_open_plan_cache(struct lib_tracer *lt)
{
	double t0 = now_ms();
	int err = pc_open(&lt->pc, add_cached, add_peek, lt);

	if (!lt->verbose)
		return;
	if (err && lt->pc.why[0])
		p_debug("libs: no plan cache: %s\n", lt->pc.why);
	else if (!err)
		p_debug("start-up: libs: %d plans and %zu looks at files read from %s in %.1f ms\n",
			lt->ndisk, lt->npeeks, lt->pc.path, now_ms() - t0);
}

void lp_free_cache(struct lib_tracer *lt)
{
	struct cent *c, *cn;

	for (c = lt->cache; c; c = cn) {
		cn = c->next;
		free(c->strs);
		free(c);
	}
	lt->cache = NULL;
	free(lt->peeks);
	lt->peeks = NULL;
	lt->npeeks = lt->peekcap = 0;
	pc_close(&lt->pc);
}
