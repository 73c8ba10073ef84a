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

void lp_analyse(struct lib_tracer *lt, struct lib *l, const char *path, const char *root,
		    const char *build_id, const struct stat *st)
{
	const struct tls_provider *p = tls_providers[l->pv];
	double t0 = now_ms();
	struct cent *c;
	char key[80];

	/* build-id when the file has one, else the file itself */
	if (build_id[0])
		snprintf(key, sizeof(key), "b:%s", build_id);
	else
		snprintf(key, sizeof(key), "i:%llx:%llx:%lld", (unsigned long long)st->st_dev,
			 (unsigned long long)st->st_ino, (long long)st->st_mtime);
	for (c = lt->cache; c; c = c->next)
		if (c->pv == l->pv && !strcmp(c->key, key) && disk_plan_valid(c, root))
			break;
	if (c) {
		l->plan = c->plan;
		l->cached = true;
		l->from_disk = c->strs != NULL;
		if (strcmp(c->root, root) && p->rebase && l->plan.rc == 0)
			p->rebase(path, root, &l->plan);
	} else {
		tp_plan_init(&l->plan);
		p->analyse(path, root, &l->plan);
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
		if (build_id[0] && !root[0])
			pc_put(&lt->pc, p->name, key, &l->plan);
	}
	l->ms = now_ms() - t0;
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

void lp_open_plan_cache(struct lib_tracer *lt)
{
	double t0 = now_ms();
	int err = pc_open(&lt->pc, add_cached, lt);

	if (!lt->verbose)
		return;
	if (err && lt->pc.why[0])
		p_debug("libs: no plan cache: %s\n", lt->pc.why);
	else if (!err)
		p_debug("start-up: libs: %d plans read from %s in %.1f ms\n", lt->ndisk, lt->pc.path,
			now_ms() - t0);
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
	pc_close(&lt->pc);
}
