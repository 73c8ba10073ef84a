// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "alerttrace.h"
#include "container.h"
#include "hist.h"

_Static_assert(sizeof(((struct agg_row *)0)->sni) == AT_SNI_LEN, "agg_row.sni is AT_SNI_LEN");

static void key_to_row(const struct at_hist_key *k, __u64 count, struct agg_row *r)
{
	memset(r, 0, sizeof(*r));
	r->pid = k->pid;
	memcpy(r->comm, k->comm, sizeof(k->comm));
	r->comm[sizeof(r->comm) - 1] = 0;
	r->source = k->source;
	r->direction = k->direction;
	r->level = k->level;
	r->code = k->code;
	r->encrypted = k->encrypted;
	r->cgroup_id = k->cgroup_id;
	memcpy(r->sni, k->sni, sizeof(r->sni));
	r->sni[sizeof(r->sni) - 1] = 0;
	r->count = count;
}

int hist_collect(struct hist_state *h)
{
	struct at_hist_key key, next;
	void *prev = NULL;
	int n = 0, err;

	while (!bpf_map_get_next_key(h->map_fd, prev, &next)) {
		struct agg_row r;
		__u64 v, seen;

		prev = &key;
		key = next;
		if (bpf_map_lookup_elem(h->map_fd, &key, &v))
			continue;
		n++;
		key_to_row(&key, 0, &r);
		seen = agg_count(&h->seen, &r);
		if (v <= seen)
			continue;
		r.count = v - seen;
		/* Resolve the container while its cgroup exists: the printout and the exporters
		 * may come long after the container is gone; resolved, it stays cached. */
		if (r.cgroup_id && !seen)
			ct_lookup(r.cgroup_id);
		err = agg_add(&h->seen, &r);
		if (!err)
			err = agg_add(&h->totals, &r);
		if (!err)
			err = agg_add(&h->interval, &r);
		if (err)
			return err;
	}
	return n;
}

void hist_interval_reset(struct hist_state *h)
{
	agg_reset(&h->interval);
}

void hist_free(struct hist_state *h)
{
	agg_free(&h->seen);
	agg_free(&h->totals);
	agg_free(&h->interval);
}
