/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The process behind a UDP socket of this network namespace, looked up when a QUIC close needs
 * it: /proc/net/udp{,6} give the socket's inode for the local port, /proc/PID/fd the process that
 * holds it. Nothing follows UDP sockets in the kernel (no probe on the data path), so a process
 * that exited before its close was opened has no owner.
 */
#ifndef AT_UDP_OWNER_H
#define AT_UDP_OWNER_H

#include <linux/types.h>
#include "alerttrace.h"

/* The owner of the UDP socket bound to ADDR (4 or 16 bytes, FAMILY 4/6) and PORT, or to the
 * wildcard address and PORT. 0 or -ENOENT. */
int udp_owner(int family, const __u8 *addr, __u16 port, struct at_owner *o);

#endif
