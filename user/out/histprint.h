/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The histogram printout of `alerttrace -H`: one interval's aggregated table, as a picture for
 * an operator (text) or as JSON lines.
 *
 * Text, every line at most HP_COLS bytes (here with -P):
 *
 *   (empty line)
 *   22:13:20                                       the interval's end, local time
 *     SOURCE  DIR  LEVEL   ALERT                   COUNT DISTRIBUTION
 *   pid 2314 nginx: sent 49, received 8            without -P: "comm nginx: ..."
 *     openssl sent fatal   unknown_ca(48)             37 |*************************|
 *     openssl sent fatal   certificate_unknown(46)    12 |********                 |
 *     openssl recv warning close_notify(0)             5 |***                      |
 *     wire    recv -       encrypted                   3 |**                       |
 *   [unknown owner]: sent 9, received 0            wire alerts of no known process
 *     wire    sent fatal   handshake_failure(40)       9 |******                   |
 *
 * An empty interval prints the time line and "no alerts in this interval". Column widths follow
 * the longest value in the interval; the bar takes what is left of the line, at most HP_BAR_MAX
 * stars, scaled to the largest count of the whole interval (rounded; a non-zero count gets at
 * least one star). Counts of 10^7 and more are shown as "12345k", "1234M", ... so no line
 * overflows. comm goes through text_safe and is cut (with "...") at HP_COMM_MAX bytes.
 *
 * --by container adds a CONTAINER column after ALERT: the container id's first 12 digits, "-"
 * outside containers, "?" for a cgroup that could not be resolved, "pod-" and 8 digits of the
 * pod UID for a process in a pod's own cgroup. Rows are grouped by container id, not by cgroup:
 * the cgroups of one container, and every cgroup outside containers, sum into one row. --by sni
 * adds an SNI column (text_safe, cut with "..." at HP_SNI_MAX bytes, or shorter, down to 3, where
 * the line would pass HP_COLS; "-" for no name). The one exception to HP_COLS: with --by
 * container, a row that holds the longest alert name (36), the warning level and a 7-digit count
 * at once is up to 4 bytes longer.
 *
 * JSON (-j): one object per row per line, no header line and nothing for an empty interval:
 *   {"ts":NS,"pid":N|null,"comm":"..."|null,"source":"wire"|"openssl",
 *    "direction":"sent"|"received","level":N|null,"code":N|null,"alert":"unknown_ca",
 *    ["container_id":"<64 hex>"|null,"pod_uid":"..."|null,] ["sni":"..."|null,] "count":N}
 * (container_id and pod_uid with --by container, sni with --by sni).
 * pid is null without -P and for the unknown owner; comm is null for the unknown owner; level
 * and code are null for an encrypted alert, whose alert is "encrypted". An unassigned code is
 * "unknown(N)" in both formats.
 *
 * Order, both formats: processes by total count descending (ties: comm, pid, the unknown owner
 * last); within a process rows by count descending (ties: source, direction, code with encrypted
 * after every code, level). Rows with count 0 are not printed. Without -P, rows that differ only
 * in pid are summed, so a table that was not grouped by comm still prints one block per comm.
 */
#ifndef AT_HISTPRINT_H
#define AT_HISTPRINT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "agg.h"

#define HP_COLS 80     /* no text line is longer */
#define HP_BAR_MAX 40  /* stars of the largest count, when the line has room (bcc's width) */
#define HP_COMM_MAX 30 /* bytes of escaped comm in a process header */
#define HP_SNI_MAX 24  /* bytes of escaped server name in the SNI column */

struct hist_print_opts {
	bool json;
	bool per_pid; /* -P: one block per pid; otherwise rows were grouped by comm (pid 0) */
	bool by_container; /* --by container: a CONTAINER column; else rows are summed over it */
	bool by_sni;	   /* --by sni: an SNI column; else rows are summed over it */
};

/*
 * Print one interval's table. ts_ns: the interval's end, ns since the epoch. Flushes f. When
 * memory runs out, prints one line on stderr and nothing on f.
 */
void hist_print(FILE *f, const struct agg_table *t, __u64 ts_ns, const struct hist_print_opts *o);

#endif
