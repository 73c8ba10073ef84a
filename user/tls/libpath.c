// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The library path: every TLS library in use on the host and in containers (discover.c), each
 * offered to the providers (provider.h), analysed once per build-id, its uprobes attached with a
 * cookie naming the library, and a coverage report of what is covered and why not.
 *
 * Files are keyed by (device, inode): uprobes live on inodes, so the same file seen through two
 * paths is hooked once, and an identical copy inside a container (another inode) is hooked again,
 * from the cached analysis of its build-id.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "discover.h"
#include "elfpeek.h"
#include "execwatch.h"
#include "jsonw.h"
#include "log.h"
#include "libpath.h"
#include "provider.h"
#include "shared.h"
#include "libpath_local.h"
#include "strutil.h"
#include "umulti.h"

/* ---- which provider takes a file ---- */

static int provider_by_name(const char *path)
{
	const char *b = strrchr(path, '/');
	int i;

	b = b ? b + 1 : path;
	for (i = 0; tls_providers[i]; i++)
		if (tls_providers[i]->named && tls_providers[i]->named(b))
			return i;
	return -1;
}

static bool any_named(const char *base)
{
	int i;

	for (i = 0; tls_providers[i]; i++)
		if (tls_providers[i]->named && tls_providers[i]->named(base))
			return true;
	return false;
}

/* bin_elf_peek's callback: the first provider one of whose marks the file has. */
static bool mark_cb(void *ctx, const char *name, enum bin_peek_kind kind)
{
	int *pv = ctx, i, j;

	for (i = 0; tls_providers[i]; i++) {
		const char *const *m = kind == BIN_PEEK_SECTION ? tls_providers[i]->mark_sections
								: tls_providers[i]->marks;

		for (j = 0; m && m[j]; j++)
			if (strcmp(m[j], name) == 0) {
				*pv = i;
				return true;
			}
	}
	return false;
}

static struct lib *new_lib(struct lib_tracer *lt, const char *path)
{
	struct lib *l;

	if (lt->nlibs + 1 >= TP_MAX_LIBS)
		return NULL;
	if (lt->nlibs == lt->caplibs) {
		int ncap = lt->caplibs ? lt->caplibs * 2 : 16;
		struct lib **n = realloc(lt->libs, ncap * sizeof(*n));

		if (!n)
			return NULL;
		lt->libs = n;
		lt->caplibs = ncap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->pv = -1;
	snprintf(l->path, sizeof(l->path), "%s", path);
	lt->libs[lt->nlibs++] = l;
	l->id = lt->nlibs;
	return l;
}

static void forget_last(struct lib_tracer *lt)
{
	free(lt->libs[--lt->nlibs]);
}

/* discover.h's consider(): look at one file. Returns 1 when a library was hooked. */
/*
 * bin_elf_peek() of the file st names: which provider marks it (pv set when one does, else left
 * as it was) and its build-id. Returns 0, or -1 (why set). The last answer is kept: prepare() peeks at a program and then
 * hands it to consider(), which would read its symbols again (node: 10 ms).
 */
static int peek(struct lib_tracer *lt, const char *path, const struct stat *st, bool host,
		int *pv, char *build_id, char *why, size_t whysz)
{
	struct peeked *k = &lt->peeked;
	const struct pc_peek *c;

	if (k->ino && k->ino == st->st_ino && k->dev == st->st_dev &&
	    k->mtime == st->st_mtime) {
		*pv = k->pv;
		snprintf(build_id, 41, "%s", k->build_id);
		return 0;
	}
	/* A host file looked at by this run or an earlier one (the plan cache), unchanged since. */
	c = host ? lp_peek_find(lt, st) : NULL;
	if (c && c->failed) {
		snprintf(why, whysz, "%s", c->why);
		return -1;
	}
	if (c) {
		int i;

		for (i = 0; c->provider[0] && tls_providers[i]; i++)
			if (!strcmp(tls_providers[i]->name, c->provider))
				*pv = i;
		snprintf(build_id, 41, "%s", c->build_id);
	} else if (bin_elf_peek(path, mark_cb, pv, build_id, why, whysz)) {
		if (host)
			lp_peek_keep(lt, st, NULL, NULL, why);
		return -1;
	} else if (host) {
		lp_peek_keep(lt, st, *pv >= 0 ? tls_providers[*pv]->name : NULL, build_id, NULL);
	}
	*k = (struct peeked){st->st_dev, st->st_ino, st->st_mtime, *pv, ""};
	snprintf(k->build_id, sizeof(k->build_id), "%s", build_id);
	return 0;
}

static int consider(void *ctx, const char *path, const char *root, __u64 mdev, __u64 mino,
		    bool named)
{
	struct lib_tracer *lt = ctx;
	char buf[PATH_MAX + 64], real[PATH_MAX], build_id[41] = "", why[256] = "";
	struct disc_fent *f;
	struct lib *l;
	struct stat st;
	double t0;
	int pv;

	if (stat(path, &st) < 0)
		return 0; /* vanished with its process, or never there: try again later */
	/* Host files by their canonical name (/lib -> /usr/lib); never a /proc/PID/... path, which
	 * would resolve against our own root. */
	if (!root[0] && strncmp(path, "/proc/", 6) && realpath(path, real))
		path = real;
	/* Looked at from now on: its exec no longer wakes the loader. */
	ew_seen(lt->ew, st.st_dev, st.st_ino);
	if (mino)
		ew_seen(lt->ew, mdev, mino);
	f = disc_find(&lt->disc, st.st_dev, st.st_ino);
	if (f) {
		if (mino)
			disc_put(&lt->disc, mdev, mino, f->val);
		return 0;
	}
	pv = -2;
	if (!S_ISREG(st.st_mode))
		snprintf(why, sizeof(why), "not a regular file");
	else if (!peek(lt, path, &st, !root[0] && strncmp(path, "/proc/", 6), &pv, build_id, why,
		       sizeof(why)))
		pv = pv >= 0 ? pv : -1;
	if (pv < 0 && named && provider_by_name(path) >= 0)
		pv = provider_by_name(path);
	if (pv < 0 && !named) {
		/* A dynamic linker tells when a new process has mapped its libraries. */
		if (ew_ldso(lt->ew, path, why, sizeof(why)) < 0)
			p_err("discovery at exec: '%s': %s", text_safe(path, buf, sizeof(buf)), why);
		/* Not a TLS library: remember, never look again. */
		disc_put(&lt->disc, st.st_dev, st.st_ino, -1);
		if (mino)
			disc_put(&lt->disc, mdev, mino, -1);
		return 0;
	}
	l = new_lib(lt, path);
	if (!l) {
		p_err("cannot track more than %d libraries: '%s' is not hooked", TP_MAX_LIBS - 1,
		      text_safe(path, buf, sizeof(buf)));
		/* Say it once, not at every scan. */
		disc_put(&lt->disc, st.st_dev, st.st_ino, -1);
		if (mino)
			disc_put(&lt->disc, mdev, mino, -1);
		return 0;
	}
	l->pv = pv;
	if (pv < 0) {
		/* The user named it, and no provider knows it. */
		l->refused = true;
		tp_plan_init(&l->plan);
		if (pv == -1) {
			size_t n = 0;
			int i, j;

			n += snprintf(why, sizeof(why), "not a TLS library alerttrace knows: defines "
				      "none of");
			for (i = 0; tls_providers[i]; i++) {
				const struct tls_provider *tp = tls_providers[i];

				for (j = 0; tp->marks && tp->marks[j] && n < sizeof(why); j++)
					n += snprintf(why + n, sizeof(why) - n, " %s (%s)",
						      tp->marks[j], tp->name);
				for (j = 0; tp->mark_sections && tp->mark_sections[j] &&
					    n < sizeof(why); j++)
					n += snprintf(why + n, sizeof(why) - n,
						      " section %s (%s)", tp->mark_sections[j],
						      tp->name);
			}
		}
		snprintf(l->plan.why, sizeof(l->plan.why), "%s", why);
	} else if (!lt->objs[pv].skel) {
		l->refused = true;
		tp_plan_init(&l->plan);
		snprintf(l->plan.why, sizeof(l->plan.why), "%s", lt->objs[pv].why);
	} else {
		lp_analyse(lt, l, path, root, build_id, &st);
		if (l->plan.rc < 0 && stat(path, &st) < 0) {
			/* The process (and its root) went away during the analysis: forget it. */
			forget_last(lt);
			return 0;
		}
		l->refused = l->plan.rc < 0;
	}
	disc_put(&lt->disc, st.st_dev, st.st_ino, l->id - 1);
	if (mino)
		disc_put(&lt->disc, mdev, mino, l->id - 1);
	if (l->refused) {
		if (lt->verbose)
			p_debug("libs: %s: refused: %s\n", text_safe(path, buf, sizeof(buf)),
				text_safe(l->plan.why, why, sizeof(why)));
		return 0;
	}
	t0 = shared_now_ms();
	lp_hook_lib(lt, l);
	if (lt->verbose)
		p_debug("libs: %s: %s %s, analysed in %.1f ms%s, %d probes attached in %.1f ms\n",
			text_safe(path, buf, sizeof(buf)), tls_providers[pv]->name,
			l->plan.version[0] ? text_safe(l->plan.version, why, sizeof(why))
					   : "unknown version",
			l->ms, l->from_disk  ? " (cached on disk)"
			: l->cached   ? " (cached by build-id)"
			: l->prepped ? " (by alerttrace-prep)"
				     : "",
			l->nlinks, shared_now_ms() - t0);
	return 1;
}

/*
 * A program in the standard binary directories that carries a TLS library (node, Go programs):
 * analysed, and hooked when the analysis placed hooks, so that its first process runs hooked
 * from its exec (uprobes are per file; attaching once a process runs costs the kernel an RCU
 * grace period, 10-20 ms, in which a Go client has finished its handshake). One it refuses is
 * only cached: listed when a process runs it; so is every one on a kernel without uprobe_multi
 * links (umulti.h), whose uprobes are slow to close.
 *
 * how: LP_PREP_NOW does what needs no file read (the look and the plan both known, from the
 * plan cache) and hands the rest to binprep.c's child (bp_defer); LP_PREP_KNOWN, once the
 * child's records came, does the same and never reads a file; LP_PREP_CHILD, in the child,
 * looks and analyses, and hooks nothing; LP_PREP_ALL does it all here. Returns 1 when hooked.
 */
int lp_prepare(struct lib_tracer *lt, const char *path, enum lp_prep how)
{
	bool no_read = how == LP_PREP_NOW || how == LP_PREP_KNOWN;
	char build_id[41] = "", why[256], buf[PATH_MAX + 64];
	struct lib *l;
	struct stat st;
	int pv = -1, n = 0;

	if (stat(path, &st) < 0)
		return 0;
	if (no_read && !lp_peek_find(lt, &st))
		goto defer;
	if (peek(lt, path, &st, true, &pv, build_id, why, sizeof(why)) || pv < 0 ||
	    !lt->objs[pv].skel)
		return 0;
	/* A file without a build-id has its plans kept in this run alone, never in the records
	 * the child writes: analysed here, as every start did before the child. */
	if (no_read && build_id[0] && !lp_have_plan(lt, pv, build_id, &st))
		goto defer;
	l = calloc(1, sizeof(*l));
	if (!l)
		return 0;
	l->pv = pv;
	lp_analyse(lt, l, path, "", build_id, &st);
	if (lt->verbose)
		p_debug("libs: %s: %s, prepared in %.1f ms\n", text_safe(path, buf, sizeof(buf)),
			tls_providers[pv]->name, l->ms);
	/* Not with perf-event uprobes (kernels before 6.6): each would add 0.1 s to the exit. */
	if (how != LP_PREP_CHILD && l->plan.rc == 0 && lt->multi)
		n = consider(lt, path, "", 0, 0, false); /* the cached analysis, then the attach */
	free(l);
	return n;
defer:
	if (how == LP_PREP_NOW)
		bp_defer(lt, path);
	return 0;
}

/* discover.h's prepare() */
static void prepare(void *ctx, const char *path)
{
	lp_prepare(ctx, path, LP_PREP_NOW);
}

/* A named file that cannot be opened still gets a line in the report. */
int lp_scan_extra(struct lib_tracer *lt, const char *path)
{
	struct stat st;
	struct lib *l;

	if (stat(path, &st) == 0)
		return consider(lt, path, "", 0, 0, true);
	l = new_lib(lt, path);
	if (l) {
		l->refused = true;
		snprintf(l->plan.why, sizeof(l->plan.why), "cannot open: %s", strerror(errno));
	}
	return 0;
}

/* ---- API ---- */

int libs_open(struct lib_tracer **ltp, const struct libs_opts *o, int ringbuf_fd)
{
	struct lib_tracer *lt;
	int err = 0, i, n = 0;

	*ltp = NULL;
	if (o && o->npids > AT_FILT_PIDS) {
		p_err("at most %d pids can be traced (-p), got %d", AT_FILT_PIDS, o->npids);
		return -E2BIG;
	}
	lt = calloc(1, sizeof(*lt));
	if (!lt)
		return -ENOMEM;
	lt->pc.fd = -1;
	lt->bp.fd = -1;
	lt->disc.consider = consider;
	lt->disc.prepare = prepare;
	lt->disc.named = any_named;
	lt->disc.ctx = lt;
	if (o) {
		lt->verbose = o->verbose;
		lt->err_always = o->err_always;
		while (o->extra && o->extra[n])
			n++;
	}
	lt->extra = calloc(n + 1, sizeof(*lt->extra));
	if (!lt->extra) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		lt->extra[i] = strdup(o->extra[i]);
		if (!lt->extra[i]) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	err = disc_init(&lt->disc);
	if (err) {
		p_err("cannot stat /: %s", strerror(-err));
		goto cleanup;
	}
	lt->multi = um_supported();
	err = lp_load_objs(lt, o, ringbuf_fd);
	if (err)
		goto cleanup;
	lp_open_plan_cache(lt);
	*ltp = lt;
	return 0;
cleanup:
	libs_close(lt);
	return err;
}

int libs_scan(struct lib_tracer *lt)
{
	int n = 0, nprocs = 0, nfiles = 0, rc, i;
	double t0 = shared_now_ms(), dt;

	if (!lt)
		return -EINVAL;
	if (!lt->scanned) {
		lt->scanned = true;
		for (i = 0; !lt->named_done && lt->extra[i]; i++)
			n += lp_scan_extra(lt, lt->extra[i]);
		lt->named_done = true;
		n += disc_scan_static(&lt->disc);
		bp_start(lt);
	}
	rc = disc_scan_procs(&lt->disc, &nprocs, &nfiles);
	if (rc < 0) {
		p_err("cannot list /proc: %s", strerror(-rc));
		return rc;
	}
	n += rc;
	pc_flush(&lt->pc); /* the looks at new files, for the next start */
	dt = shared_now_ms() - t0;
	/* Once a second in verbose mode would drown the output: say it when it matters. */
	if (lt->verbose && (n || nfiles || dt > 50))
		p_debug("libs: scan: %d processes, %d new files, %d libraries hooked, "
			"%.1f ms\n",
			nprocs, nfiles, n, dt);
	return n;
}

void libs_set_execwatch(struct lib_tracer *lt, struct execwatch *ew)
{
	if (lt)
		lt->ew = ew;
}

int libs_prepared(struct lib_tracer *lt)
{
	return lt ? bp_poll(lt) : 0;
}

int libs_scan_pid(struct lib_tracer *lt, int pid)
{
	int nfiles = 0;

	return lt ? disc_scan_pid(&lt->disc, pid, &nfiles) : -EINVAL;
}

const char *libs_path(struct lib_tracer *lt, __u32 lib_id)
{
	if (!lt || lib_id < 1 || lib_id > (__u32)lt->nlibs)
		return "?";
	return lt->libs[lib_id - 1]->path;
}

int libs_hooked(struct lib_tracer *lt)
{
	int i, n = 0;

	for (i = 0; lt && i < lt->nlibs; i++)
		n += !lt->libs[i]->refused && lt->libs[i]->nlinks > 0;
	return n;
}

static __u64 lost_sum(struct lib_tracer *lt, bool hist)
{
	__u64 n = 0;
	int i;

	for (i = 0; lt && i < lt->nprov; i++)
		n += tls_providers[i]->lost(lt->objs[i].skel, hist);
	return n;
}

__u64 libs_lost(struct lib_tracer *lt)
{
	return lost_sum(lt, false);
}

__u64 libs_hist_lost(struct lib_tracer *lt)
{
	return lost_sum(lt, true);
}

void libs_close(struct lib_tracer *lt)
{
	struct lp_link *all;
	int i, n;

	if (!lt)
		return;
	bp_stop(lt);
	for (i = n = 0; i < lt->nlibs; i++)
		n += lt->libs[i]->nlinks;
	all = calloc(n ? n : 1, sizeof(*all));
	for (i = n = 0; i < lt->nlibs; i++) {
		struct lib *l = lt->libs[i];

		if (all) {
			memcpy(all + n, l->links, l->nlinks * sizeof(*all));
			n += l->nlinks;
		} else {
			lp_destroy_links(l->links, l->nlinks);
		}
		free(l);
	}
	if (all)
		lp_destroy_links(all, n);
	free(all);
	for (i = 0; i < lt->nprov; i++) {
		lp_cut_detach(&lt->objs[i]);
		tls_providers[i]->destroy(lt->objs[i].skel);
	}
	lp_free_cache(lt);
	for (i = 0; lt->extra && lt->extra[i]; i++)
		free(lt->extra[i]);
	free(lt->extra);
	free(lt->libs);
	free(lt->aux);
	disc_free(&lt->disc);
	free(lt);
}
