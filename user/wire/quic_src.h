/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The quic source: QUIC Initial packets from the classifier's ring `quic_pkts` (bpf/quic.bpf.h),
 * opened (quic.c), each CONNECTION_CLOSE with a TLS alert made an event (source AT_SRC_QUIC,
 * level fatal, the socket's owner from udp_owner.c) and handed to the caller.
 */
#ifndef AT_QUIC_SRC_H
#define AT_QUIC_SRC_H

#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "quic.h"

struct quic_src;
typedef void (*quic_event_fn)(void *ctx, struct at_event *e);

/* Adds the ring MAP_FD to RB. 0 or -errno. */
int quic_src_open(struct quic_src **out, struct ring_buffer *rb, int map_fd, quic_event_fn cb,
		  void *ctx);
void quic_src_close(struct quic_src *q);
const struct quic_stats *quic_src_stats(const struct quic_src *q);

#endif
