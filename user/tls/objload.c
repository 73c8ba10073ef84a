// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The library path's BPF objects (libpath_local.h): one per provider, loaded at once. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "libpath.h"
#include "libpath_local.h"
#include "log.h"
#include "provider.h"
#include "shared.h"
#include "umulti.h"

/* One provider's object load, in a thread of its own (lp_load_objs). */
struct obj_load {
	const struct tls_provider *p;
	struct pobj *po;
	pthread_t th;
	bool threaded;
	int err;
	double t0, t1;
};

static void *load_one(void *arg)
{
	struct obj_load *j = arg;

	j->t0 = shared_now_ms();
	j->err = j->p->load(j->po->skel);
	j->t1 = shared_now_ms();
	return NULL;
}

/* A provider whose object cannot be opened, shared or loaded: its files are reported with why.
 * One library's object that this kernel refuses leaves the others working. */
static void obj_failed(const struct tls_provider *p, struct pobj *po)
{
	p_err("%s: its libraries are not hooked", po->why);
	p->destroy(po->skel);
	po->skel = NULL;
	po->obj = NULL;
}

static const char *const cut_progs[2] = {"pending_exit", "pending_exec"};

/* A provider whose return probe waits for an entry's state (AT_PENDING_CUT in
 * bpf/libprobe.bpf.h) takes it at a thread's exit and exec too: loaded unless that return probe
 * is never attached (a tracer that counts only, AT_SKIP_WRITTEN). */
static void cut_prepare(struct pobj *po, bool no_return)
{
	for (int k = 0; k < 2; k++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(po->obj, cut_progs[k]);

		if (prog && no_return)
			bpf_program__set_autoload(prog, false);
	}
}

/* Attached once for the object (raw tracepoints, by name: no tracefs). One that fails is said:
 * an alert whose thread ends inside its write is then not reported by this provider. */
static void cut_attach(const struct tls_provider *p, struct pobj *po)
{
	for (int k = 0; k < 2; k++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(po->obj, cut_progs[k]);
		long err;

		po->cut[k] = NULL;
		if (!prog || !bpf_program__autoload(prog))
			continue;
		po->cut[k] = bpf_program__attach(prog);
		err = libbpf_get_error(po->cut[k]);
		if (err) {
			po->cut[k] = NULL;
			p_err("%s: cannot attach %s (%s): an alert whose thread %s inside its write is "
			      "not reported", p->name, cut_progs[k], strerror((int)-err),
			      k ? "execs" : "exits");
		}
	}
}

void lp_cut_detach(struct pobj *po)
{
	for (int k = 0; k < 2; k++) {
		bpf_link__destroy(po->cut[k]);
		po->cut[k] = NULL;
	}
}

/*
 * Every provider's object opened and its maps shared here, then loaded at once, each in a
 * thread (the verifier and libbpf's CO-RE work of three objects overlap, as the TC object's
 * does: libbpf shares only its cache of the kernel's features between objects).
 */
int lp_load_objs(struct lib_tracer *lt, const struct libs_opts *o, int ringbuf_fd)
{
	struct obj_load jobs[NPROV_MAX] = {};
	struct at_filter filt = {.stream = 1};
	int i, err = 0, loaded = 0, eperm = 0;

	if (o && o->shared) {
		/* The tracer's maps and filters, shared with the other BPF objects. */
		filt = o->shared->filt;
		lt->lib_skip = filt.lib_skip;
	} else {
		for (i = 0; o && i < o->npids; i++)
			filt.pids[i] = o->pids[i];
	}
	for (i = 0; tls_providers[i] && i < NPROV_MAX; i++) {
		const struct tls_provider *p = tls_providers[i];
		struct pobj *po = &lt->objs[i];

		lt->nprov = i + 1;
		jobs[i].p = p;
		jobs[i].po = po;
		po->skel = p->open(&po->obj, &filt);
		if (!po->skel) {
			err = -errno;
			snprintf(po->why, sizeof(po->why), "cannot open the %s uprobe object: %s",
				 p->name, strerror(-err));
			obj_failed(p, po);
			continue;
		}
		if (p->prepare)
			p->prepare(po->obj);
		cut_prepare(po, filt.lib_skip & AT_SKIP_WRITTEN);
		if (o && o->shared)
			err = shared_reuse(po->obj, o->shared);
		else if (ringbuf_fd >= 0)
			err = bpf_map__reuse_fd(bpf_object__find_map_by_name(po->obj, "events"),
						ringbuf_fd);
		else
			err = 0;
		if (err) {
			snprintf(po->why, sizeof(po->why),
				 "cannot share the tracer's maps with the %s uprobes: %s", p->name,
				 strerror(-err));
			obj_failed(p, po);
			continue;
		}
		if (lt->multi)
			um_prepare(po->obj);
		jobs[i].threaded = !pthread_create(&jobs[i].th, NULL, load_one, &jobs[i]);
		if (!jobs[i].threaded)
			load_one(&jobs[i]);
	}
	for (i = 0; i < lt->nprov; i++) {
		struct obj_load *j = &jobs[i];
		struct pobj *po = &lt->objs[i];
		struct bpf_map *m;

		if (j->threaded)
			pthread_join(j->th, NULL);
		if (!po->skel)
			continue;
		if (j->err) {
			snprintf(po->why, sizeof(po->why), "cannot load the %s uprobes: %s%s",
				 j->p->name, strerror(-j->err),
				 j->err == -EPERM
					 ? " (need root or CAP_BPF and CAP_PERFMON: run with sudo)"
					 : " (run with -v for libbpf's log)");
			err = j->err;
			eperm |= err == -EPERM;
			obj_failed(j->p, po);
			continue;
		}
		shared_report_load(j->p->name, po->obj, j->t0, j->t1);
		cut_attach(j->p, po);
		m = bpf_object__find_map_by_name(po->obj, "cfgs");
		po->cfgs_fd = m ? bpf_map__fd(m) : -1;
		po->cfg_size = m ? bpf_map__value_size(m) : 0;
		loaded++;
	}
	/* No privilege refuses them all. */
	if (eperm)
		return -EPERM;
	if (!loaded)
		return err;
	return 0;
}

