/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Printing events: fixed text columns or one JSON object per line (schema in README.md). */
#ifndef AT_OUTPUT_H
#define AT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "alerttrace.h"

struct out_opts {
	bool json;
	bool timestamps;	/* -T: a TIME column in text mode */
	bool wide;		/* -w: SNI and WHY in full, not cut to their columns */
};

void out_init(const struct out_opts *o);
void out_header(FILE *f);
/* lib: the path of the library behind e->lib_id, NULL for wire events. id: the event's number in
 * this run; same_as: the id of an earlier observation of the same alert (user/match.h), or 0. */
void out_event(FILE *f, const struct at_event *e, const char *lib, __u64 id, __u64 same_as);
/* Nanoseconds since the epoch for a bpf_ktime_get_ns() value. */
__u64 out_epoch_ns(__u64 mono_ns);
/* "TLS1.2", "DTLS1.2", "SSL3.0", or "0xNNNN" into buf. */
const char *out_version_name(__u16 v, bool dtls, char *buf, size_t n);
const char *out_ifname(__u32 ifindex);

#endif
