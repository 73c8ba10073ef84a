// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One interface at a time, for interfaces that come and go after start (ifwatch.c): the same
 * rules as tc_attach_all (whose per-link step link_up is), under the same lock. The record lists
 * the link before its filters exist and until they are gone, and the qdisc's marker is written
 * before the qdisc, so a SIGKILL at any step leaves what the next start cleans.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "tc_attach.h"
#include "tc_attach_local.h"

/* One link of ts (its entry counted in ts->n already), under the lock: the qdisc, the record,
 * the two filters. 0 or -errno with one line in err; what was placed is in l for the undo. */
int link_up(struct tc_set *ts, struct tc_link *l, int ifindex, int prog_in, int prog_out,
	    char *err, size_t errlen)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	if (!if_indextoname(l->ifindex, l->ifname))
		snprintf(l->ifname, sizeof(l->ifname), "if%d", l->ifindex);
	ret = create_clsact(l->ifindex);
	if (ret) {
		snprintf(err, errlen, "cannot create a clsact qdisc on %s: %s%s", l->ifname,
			 strerror(-ret), perm_hint(ret));
		return ret;
	}
	/* Record before attaching: a SIGKILL between the two steps must leave a record. */
	ret = write_state(ts);
	if (ret) {
		snprintf(err, errlen, "cannot write %s: %s", ts->state_path, strerror(-ret));
		return ret;
	}
	ret = attach_hook(l, true, prog_in, ts->prio);
	if (!ret) {
		l->ingress = true;
		ret = attach_hook(l, false, prog_out, ts->prio);
	}
	if (ret) {
		snprintf(err, errlen, "cannot attach the TC classifier to %s: %s%s", l->ifname,
			 strerror(-ret), perm_hint(ret));
		return ret;
	}
	l->egress = true;
	return 0;
}

static int find(const struct tc_set *ts, int ifindex)
{
	int i;

	for (i = 0; i < ts->n; i++)
		if (ts->links[i].ifindex == ifindex)
			return i;
	return -1;
}

void link_down(struct tc_set *ts, struct tc_link *l)
{
	if (l->ingress)
		detach_one(l->ifindex, true, ts->prio);
	if (l->egress)
		detach_one(l->ifindex, false, ts->prio);
	release_qdisc(l->ifindex, l->ifname, true);
}

/* Undo link i: our filters, the qdisc if ours and empty, the entry, then the record. */
static void drop(struct tc_set *ts, int i)
{
	link_down(ts, &ts->links[i]);
	ts->links[i] = ts->links[--ts->n];
	write_state(ts);
}

int tc_attach_link(struct tc_set *ts, int ifindex, int prog_in, int prog_out, char *err,
		   size_t errlen)
{
	struct tc_link *links;
	int ret, lock;

	if (!ts->state_path[0]) {
		snprintf(err, errlen, "the TC set is not started");
		return -EINVAL;
	}
	if (find(ts, ifindex) >= 0)
		return 0;
	links = realloc(ts->links, (ts->n + 1) * sizeof(*links));
	if (!links) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ts->links = links;
	lock = state_lock();
	if (lock < 0) {
		snprintf(err, errlen, "cannot lock %s/.lock: %s", AT_STATE_DIR, strerror(-lock));
		return lock;
	}
	ret = link_up(ts, &ts->links[ts->n++], ifindex, prog_in, prog_out, err, errlen);
	if (ret)
		goto fail;
	state_unlock(lock);
	return 0;
fail:
	drop(ts, ts->n - 1);
	state_unlock(lock);
	return ret;
}

int tc_detach_link(struct tc_set *ts, int ifindex)
{
	int i = find(ts, ifindex), lock;

	if (i < 0)
		return -ENOENT;
	lock = state_lock();
	drop(ts, i);
	state_unlock(lock);
	return 0;
}
