/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading the kernel histogram (map `hist`): its counts only grow, so each read takes the
 * difference with what was seen before; that difference feeds the interval's table (-H printout)
 * and the running totals (exporters). Nothing is deleted from the map while BPF adds to it, so no
 * increment is ever lost between a read and a delete.
 */
#ifndef AT_HIST_H
#define AT_HIST_H

#include "agg.h"

struct hist_state {
	int map_fd;
	struct agg_table seen;		/* cumulative counts per key, as last read */
	struct agg_table totals;	/* the same, for the exporters */
	struct agg_table interval;	/* what arrived since the last hist_interval_reset() */
};

/* Read the map and fold new counts in. Returns the number of keys or -errno. */
int hist_collect(struct hist_state *h);
void hist_interval_reset(struct hist_state *h);
void hist_free(struct hist_state *h);

#endif
