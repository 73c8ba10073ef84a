// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The library path's attaching (libpath_local.h): a plan's probes, with rollback. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libpath_local.h"
#include "umulti.h"

static int attach(struct lib_tracer *lt, struct lib *l, const struct tp_probe *pr,
		  const char *path, char *why, size_t whysz)
{
	struct bpf_uprobe_opts o = {.sz = sizeof(o), .bpf_cookie = pr->cookie | l->id,
				    .retprobe = pr->ret};
	struct bpf_program *prog;
	struct bpf_link *link;

	prog = bpf_object__find_program_by_name(lt->objs[l->pv].obj, pr->prog);
	if (!prog) {
		snprintf(why, whysz, "internal: no BPF program %s", pr->prog);
		return -1;
	}
	if (l->nlinks >= MAX_LINKS) {
		snprintf(why, whysz, "internal: too many links");
		return -1;
	}
	if (lt->multi) {
		int fd = um_attach(bpf_program__fd(prog), path, pr->file_off, o.bpf_cookie, pr->ret);

		if (fd < 0) {
			errno = -fd;
			goto failed;
		}
		l->links[l->nlinks++] = (struct lp_link){NULL, fd};
		return 0;
	}
	link = bpf_program__attach_uprobe_opts(prog, -1, path, (size_t)pr->file_off, &o);
	if (!link)
		goto failed;
	l->links[l->nlinks++] = (struct lp_link){link, -1};
	return 0;
failed:
	snprintf(why, whysz, "%s at file offset 0x%llx failed: %s",
		 pr->ret ? "uretprobe" : "uprobe", (unsigned long long)pr->file_off,
		 strerror(errno));
	return -1;
}

static void destroy_link(struct lp_link *k)
{
	if (k->bl)
		bpf_link__destroy(k->bl);
	else if (k->fd >= 0)
		close(k->fd);
}

/* An aux file hook already carried for another library: its lib_id, else 0. */
static __u32 aux_owner(struct lib_tracer *lt, const struct stat *st, const char *key)
{
	int i;

	for (i = 0; i < lt->naux; i++)
		if (lt->aux[i].dev == st->st_dev && lt->aux[i].ino == st->st_ino &&
		    !strcmp(lt->aux[i].key, key))
			return lt->aux[i].lib_id;
	return 0;
}

static bool str_in(const char *const *list, const char *s)
{
	for (int i = 0; list && list[i]; i++)
		if (s && !strcmp(list[i], s))
			return true;
	return false;
}

/* A hook that only feeds what AT_SKIP_DETAIL leaves out (the provider's detail_hooks). */
static bool detail_only(const struct tls_provider *p, const char *key)
{
	return str_in(p->detail_hooks, key);
}

/* A probe that only tells what AT_SKIP_WRITTEN leaves out (the provider's written_progs): its
 * hook's other probes count the alert. */
static bool probe_unneeded(const struct lib_tracer *lt, const struct tls_provider *p,
			   const struct tp_probe *pr)
{
	return (lt->lib_skip & AT_SKIP_WRITTEN) && str_in(p->written_progs, pr->prog);
}

/* All of a hook's probes, or none (rollback). */
static void hook_one(struct lib_tracer *lt, struct lib *l, int hi)
{
	const struct tp_hook *h = &l->plan.hooks[hi];
	const char *path = l->path;
	size_t whysz = sizeof(l->why[hi]);
	char *why = l->why[hi];
	struct auxfile *na;
	struct stat st;
	int i, n0 = l->nlinks;
	__u32 owner;

	if (h->unless >= 0 && h->unless < l->plan.nhooks && l->on[h->unless] && !lt->err_always) {
		snprintf(why, whysz, "%s", h->unless_why ? h->unless_why : "not needed");
		return;
	}
	if (!h->placed) {
		snprintf(why, whysz, "%s", h->why[0] ? h->why : "not found");
		return;
	}
	if ((lt->lib_skip & AT_SKIP_DETAIL) && detail_only(tls_providers[l->pv], h->key)) {
		snprintf(why, whysz, "not needed: nothing shows reasons (-H)");
		return;
	}
	if (h->on_aux) {
		path = l->plan.aux_path;
		if (!path[0] || stat(path, &st) < 0) {
			snprintf(why, whysz, "cannot reach '%.120s': %s", path,
				 path[0] ? strerror(errno) : "no path");
			return;
		}
		owner = h->aux_once ? aux_owner(lt, &st, h->key) : 0;
		if (owner) {
			snprintf(why, whysz,
				 "'%.100s' carries library %u's hook, which reports these alerts",
				 path, owner);
			return;
		}
	}
	for (i = 0; i < h->nprobes; i++) {
		if (probe_unneeded(lt, tls_providers[l->pv], &h->probes[i]))
			continue;
		if (attach(lt, l, &h->probes[i], path, why, whysz)) {
			while (l->nlinks > n0)
				destroy_link(&l->links[--l->nlinks]);
			return;
		}
	}
	if (h->on_aux && h->aux_once) {
		na = realloc(lt->aux, (lt->naux + 1) * sizeof(*na));
		if (na) {
			lt->aux = na;
			lt->aux[lt->naux++] = (struct auxfile){st.st_dev, st.st_ino, l->id, h->key};
		}
	}
	l->on[hi] = true;
}

void lp_hook_lib(struct lib_tracer *lt, struct lib *l)
{
	const struct pobj *po = &lt->objs[l->pv];
	int h, pass;

	if (l->plan.cfg_size &&
	    (l->plan.cfg_size != po->cfg_size ||
	     bpf_map_update_elem(po->cfgs_fd, &l->id, l->plan.cfg, BPF_ANY) < 0)) {
		for (h = 0; h < l->plan.nhooks; h++)
			snprintf(l->why[h], sizeof(l->why[h]), "cannot store the layout: %s",
				 l->plan.cfg_size != po->cfg_size ? "size mismatch"
								  : strerror(errno));
		return;
	}
	/* Hooks that another makes unnecessary come last, once that one's fate is known. */
	for (pass = 0; pass < 2; pass++)
		for (h = 0; h < l->plan.nhooks; h++)
			if ((l->plan.hooks[h].unless >= 0) == pass)
				hook_one(lt, l, h);
}


/*
 * Closing a uprobe makes the kernel wait for RCU grace periods (about 0.1 s a probe here: 50
 * libraries took 33 s, past a pod's grace period). uprobe_multi links closed from many threads
 * at once wait together; perf-event uprobes (older kernels) close one after another whatever
 * we do, under the kernel's event_mutex.
 */
#define DETACH_THREADS 32

struct detach_q {
	struct lp_link *links;
	int n, next;
};

static void *detach_worker(void *arg)
{
	struct detach_q *q = arg;
	int i;

	while ((i = __atomic_fetch_add(&q->next, 1, __ATOMIC_RELAXED)) < q->n)
		destroy_link(&q->links[i]);
	return NULL;
}

void lp_destroy_links(struct lp_link *links, int n)
{
	struct detach_q q = {links, n, 0};
	pthread_t th[DETACH_THREADS];
	int i, nt = 0, want = n / 2 < DETACH_THREADS ? n / 2 : DETACH_THREADS;

	for (i = 0; i < want; i++)
		if (pthread_create(&th[nt], NULL, detach_worker, &q) == 0)
			nt++;
	/* This thread works too: with no thread started, it closes them all. */
	detach_worker(&q);
	for (i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
}
