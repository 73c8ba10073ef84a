/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The last resort of attribution: TCP sockets that existed before alerttrace started (a server
 * that has been listening for days) are invisible to bpf/sock.bpf.c, which sees connect() and
 * listen() as they happen. At start, the kernel's socket diagnostics (NETLINK_SOCK_DIAG, as ss(8)
 * reads them) give their inodes and ends, /proc/PID/fd the inodes' owners.
 */
#ifndef AT_OWNERS_SEED_H
#define AT_OWNERS_SEED_H

#include <stdbool.h>
#include <linux/types.h>

/* Add the owners of existing TCP listeners and connections of every network namespace to the
 * owners map (never replacing what the kernel side recorded), keyed by each namespace's cookie
 * (netns: the tracer's), or, netns 0 (a kernel without cookies), all keyed alike. Returns the
 * number of sockets added, or -errno. */
int owners_seed(int owners_fd, __u64 netns);

/* The cookie of PID's network namespace (0: ours), as the kernel's net_cookie; 0 when the
 * kernel has none (before 5.14) or it cannot be read. */
__u64 netns_cookie_of(int pid);

#endif
