/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attach the TC classifier safely on a production host (issue 2):
 * - create the clsact qdisc only where none exists, and remove only a qdisc an alerttrace created
 *   (a marker in /run/alerttrace says so), when the last tracer leaves and no other filter sits
 *   on it;
 * - every filter we add carries the handle AT_TC_HANDLE and a program named at_tc_*: that is the
 *   mark by which a later start (or --cleanup) finds what a killed tracer left;
 * - each tracer records what it attached in /run/alerttrace/PID so that a stale record (dead pid)
 *   can be cleaned, and two live tracers never touch each other's filters.
 */
#ifndef AT_TC_ATTACH_H
#define AT_TC_ATTACH_H

#include <stdbool.h>

#define AT_TC_HANDLE 0xa1e7		/* the mark on our filters */
#define AT_TC_PRIO_BASE 0xa1e0		/* one priority per live tracer: base .. base+15 */
#define AT_STATE_DIR "/run/alerttrace"

struct tc_link {
	int ifindex;
	char ifname[16];
	bool ingress, egress;		/* our filter is attached */
};

struct tc_set {
	struct tc_link *links;
	int n;
	int prio;
	char state_path[128];
};

/* Attach prog_in/prog_out to every interface of ifindexes; on error, undo and return -errno with
 * a one-line message in err. */
int tc_attach_all(struct tc_set *ts, const int *ifindexes, int n, int prog_in, int prog_out,
		  char *err, size_t errlen);
/* Detach what tc_attach_all attached; remove the qdiscs alerttrace created that are now empty.
 * Accepts an empty set. */
void tc_detach_all(struct tc_set *ts, bool verbose);
/* One more interface for a started set (tc_link.c), or one less: its filters, the qdisc if an
 * alerttrace created it and it is empty, its line in the record. A device already gone is only
 * forgotten. 0 or -errno (attach: with one line in err; the set is as before). */
int tc_attach_link(struct tc_set *ts, int ifindex, int prog_in, int prog_out, char *err,
		   size_t errlen);
int tc_detach_link(struct tc_set *ts, int ifindex);
/* Remove what tracers that are no longer alive left in this network namespace. Returns the
 * number of filters removed, prints one line per removal on stderr when report is set. */
int tc_cleanup_stale(bool report);

#endif
