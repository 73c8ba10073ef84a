/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Aggregation (issue 4): alert counts per process x source x direction x level x alert, read from
 * the BPF histogram map each interval and accumulated here (monotonic totals for the exporters).
 */
#ifndef AT_AGG_H
#define AT_AGG_H

#include <stddef.h>
#include <linux/types.h>

struct agg_row {
	__u32 pid;		/* 0 when grouped by comm (no -P) or unknown owner */
	char comm[16];		/* NUL-terminated; "" for an unknown owner */
	__u8 source;		/* enum at_source */
	__u8 direction;		/* enum at_direction */
	__u8 level;		/* 0 when encrypted */
	__u8 code;
	__u8 encrypted;
	__u64 cgroup_id;	/* 0 unless grouped by container (--by container, a metrics label) */
	char sni[64];		/* AT_SNI_LEN, NUL-terminated; "" unless grouped by server name */
	__u64 count;
};

struct agg_table {
	struct agg_row *rows;
	size_t n, cap;
};

/* Add count to the row with the same key (all fields but count), creating it. 0 or -ENOMEM. */
int agg_add(struct agg_table *t, const struct agg_row *r);
/* The count of the row with r's key, 0 when there is none. */
__u64 agg_count(struct agg_table *t, const struct agg_row *r);
void agg_reset(struct agg_table *t);
void agg_free(struct agg_table *t);

#endif
