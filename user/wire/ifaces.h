/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which interfaces to trace: -i NAME[,NAME], -i all, or the default (lo + default-route ones). */
#ifndef AT_IFACES_H
#define AT_IFACES_H

#include <stddef.h>

#define AT_MAX_IFACES 64

/* spec: NULL for the default, "all", or a comma list of names. Fills ifindexes (cap entries),
 * returns the count or -errno with a one-line message in err. Interfaces that cannot carry an
 * Ethernet frame (tun, wireguard, ...) are refused when named and skipped with a note on stderr
 * otherwise. */
int ifaces_resolve(const char *spec, int *ifindexes, int cap, char *err, size_t errlen);

#endif
