/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every BPF object shares: the maps declared in bpf/emit.bpf.h and bpf/owners.bpf.h
 * (created once here, reused by each object before load) and the filter rodata.
 */
#ifndef AT_SHARED_H
#define AT_SHARED_H

#include <bpf/libbpf.h>
#include "alerttrace.h"

struct at_shared {
	int events_fd;		/* ring buffer */
	int hist_fd;		/* struct at_hist_key -> __u64 */
	int owners_fd;		/* struct at_sock_key -> struct at_owner */
	struct at_filter filt;
};

/* Create the maps. Returns 0 or -errno. */
int shared_create(struct at_shared *s, __u32 ringbuf_size);
/* Before load: make obj use the shared maps it declares (by name). Returns 0 or -errno. */
int shared_reuse(struct bpf_object *obj, const struct at_shared *s);
void shared_close(struct at_shared *s);

#endif
