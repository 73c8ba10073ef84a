/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TC classifier (bpf/tc.bpf.c, one program on both hooks) run on one frame with
 * bpf_prog_test_run_opts() as the hook of direction dir sees it. The program tells the hooks apart
 * by the skb's input interface: the kernel's receive path sets it to the receiving device before
 * the ingress hook runs, a packet the host sends has 0. test_run's device is lo (ifindex 1) and
 * takes the input interface from the __sk_buff context, the one field set there: 1 for
 * AT_DIR_RECEIVED, 0 (no context) for AT_DIR_SENT.
 */
#ifndef AT_TC_RUN_H
#define AT_TC_RUN_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "alerttrace.h"

#define TC_RUN_LO_IFINDEX 1

/* 0 or test_run's -errno; the program's return value in *retval, ns per repeat in *ns. */
static inline int tc_run(int prog_fd, int dir, const void *data, __u32 len, int repeat,
			 __u32 *retval, __u32 *ns)
{
	struct __sk_buff ctx = {.ingress_ifindex = TC_RUN_LO_IFINDEX};
	bool in = dir == AT_DIR_RECEIVED;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .repeat = repeat,
		    .ctx_in = in ? &ctx : NULL, .ctx_size_in = in ? sizeof(ctx) : 0);
	int err = bpf_prog_test_run_opts(prog_fd, &o);

	if (retval)
		*retval = o.retval;
	if (ns)
		*ns = o.duration;
	return err;
}

#endif
