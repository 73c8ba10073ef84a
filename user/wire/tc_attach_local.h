/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The steps tc_attach.c and tc_link.c (one interface at a time) share. */
#ifndef AT_TC_ATTACH_LOCAL_H
#define AT_TC_ATTACH_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tc_attach.h"

/* The lock every change of the records runs under: a fd, or -errno. */
int state_lock(void);
void state_unlock(int fd);
/* Rewrite /run/alerttrace/PID from ts (by rename): 0 or -errno. */
int write_state(const struct tc_set *ts);
/* The clsact qdisc, created (marker first) unless one is there: 0 or -errno. */
int create_clsact(int ifindex);
int attach_hook(struct tc_link *l, bool ingress, int prog_fd, int prio);
int detach_one(int ifindex, bool ingress, __u32 prio);
/* Remove the qdisc if an alerttrace created it and it is empty now: 1 when removed. */
int release_qdisc(int ifindex, const char *ifname, bool report);
/* Place one link (tc_link.c): see there. */
int link_up(struct tc_set *ts, struct tc_link *l, int ifindex, int prog_in, int prog_out,
	    char *err, size_t errlen);
/* Our two filters of l gone (a device already gone: nothing to do), the qdisc if an alerttrace
 * created it and nothing sits on it. */
void link_down(struct tc_set *ts, struct tc_link *l);
/* " (needs CAP_NET_ADMIN: run with sudo)" for -EPERM, else "". */
const char *perm_hint(int err);

#endif
