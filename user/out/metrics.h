/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus metrics: the cumulative alert totals in the text exposition format 0.0.4, served over
 * HTTP (GET /metrics, libevent's evhttp) and/or written to a node_exporter textfile (*.prom).
 *
 *   alerttrace_alerts_total{source,direction,level,alert,comm[,pid][,container_id,pod_uid]}
 *                                                                      counter
 *   alerttrace_lost_events_total                                      counter (ring buffer full)
 *   alerttrace_hist_lost_total                                        counter (histogram map full)
 *   alerttrace_wire_possible_misses_total                             counter (segments unread)
 *   alerttrace_quic_unopened_total                                    counter (rate limit)
 *   alerttrace_hooked_libraries                                       gauge
 *   alerttrace_build_info{version}                                    gauge, always 1
 *
 * Without with_pid, rows that differ only by pid are summed: one series per comm keeps the
 * cardinality bounded. Rows whose labels render the same (encrypted alerts, comms that differ
 * only in bytes the escaping maps to the same text) are summed too, so no series is duplicated.
 * Series are sorted, so the same totals always render the same text.
 */
#ifndef AT_METRICS_H
#define AT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "agg.h"

struct metrics_info {
	__u64 lost_events;	/* ring-buffer reserve failures, cumulative */
	__u64 hist_lost;	/* histogram updates dropped because the map was full, cumulative */
	__u64 possible_misses;	/* TCP segments of followed TLS flows the classifier could not read */
	__u64 quic_unopened;	/* QUIC Initial packets the rate limit left */
	__u32 hooked_libs;	/* libraries with attached probes now */
	const char *version;	/* build_info version label; NULL: "unknown" */
	bool with_pid;		/* --metrics-pid: add a pid label instead of summing over pids */
	bool with_container;	/* --metrics-label container: container_id and pod_uid labels
				 * (container.h; "" outside containers) instead of summing */
};

/* Write the exposition text to f. 0, -ENOMEM, or -EIO when f reports a write error. */
int metrics_render(FILE *f, const struct agg_table *totals, const struct metrics_info *info);

/*
 * Start the HTTP server on addr_port, "[ADDR:]PORT": PORT alone listens on 127.0.0.1; ADDR is a
 * numeric IPv4 address or an IPv6 one in brackets ("[::1]:9800"). Serves GET/HEAD /metrics from
 * a thread of its own; 404 elsewhere, 503 until the first metrics_publish. Returns 0, or a
 * negative errno with one line (no newline) in err: bad syntax, port in use, address not local.
 */
int metrics_serve(const char *addr_port, char *err, size_t errlen);

/*
 * Render totals and info and make them what /metrics serves from now on. Cheap enough to call
 * every second; the HTTP thread always serves one whole snapshot. A no-op when not serving.
 * When memory runs out the previous snapshot stays.
 */
void metrics_publish(const struct agg_table *totals, const struct metrics_info *info);

/* Stop the server and drop the snapshot. Safe to call when not serving. */
void metrics_stop(void);

/*
 * Write the exposition text to path atomically (node_exporter textfile collector: name it
 * *.prom): a temporary file ".NAME.XXXXXX" in the same directory, which the collector ignores,
 * is written, fsync'ed, made 0644 and renamed over path. Returns 0, or a negative errno with one
 * line in err.
 */
int metrics_write_textfile(const char *path, const struct agg_table *totals,
			   const struct metrics_info *info, char *err, size_t errlen);
/* At start: the textfile's directory takes a file (one made and removed there). 0, or a negative
 * errno with one line in err. */
int metrics_check_textfile(const char *path, char *err, size_t errlen);

#endif
