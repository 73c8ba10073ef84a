/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The network namespace on the other side of a link: a veth whose peer sits in a container's
 * namespace carries that container's connections, whose sockets (and their owners) live there.
 * The link's IFLA_LINK_NETNSID is an id our namespace gives the other one; the namespaces that
 * `ip netns` names and those of running processes are asked for theirs (RTM_GETNSID) and the
 * match's cookie is read from a socket made in it (setns in a thread of its own: CAP_SYS_ADMIN).
 */
#ifndef AT_PEERNS_H
#define AT_PEERNS_H

#include <linux/types.h>

/* The IFLA_LINK_NETNSID of a link (RTM_GETLINK), or -1: its far end is in our namespace. */
int peerns_link_nsid(int ifindex);
/* The cookie of the namespace NSID names. 0, -ENOENT (no such namespace found), -EPERM. */
int peerns_cookie(int nsid, __u64 *cookie);

#endif
