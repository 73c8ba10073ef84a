/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which interfaces to trace, as -i says: nothing (the default: lo and the interfaces of the
 * default routes), "all", or a comma list of names and shell patterns (fnmatch: `veth*,eth0`).
 * A plain name is the device it names at start, kept through renames; a pattern, "all" and the
 * default are matched against the interfaces as they come, go and are renamed (ifwatch.c).
 */
#ifndef AT_IFACES_H
#define AT_IFACES_H

#include <stdbool.h>
#include <stddef.h>

/* Where a device's packets start, from its link type (ARPHRD_*). */
enum if_hdr {
	IF_HDR_NONE,		/* not traced: neither of the two */
	IF_HDR_ETHER,		/* an Ethernet header (lo's is zero) */
	IF_HDR_IP,		/* the IP header: tun, wireguard, ipip, sit, ip6tnl, PPP, rawip */
};

struct if_spec {
	char **toks;		/* names and patterns, as given */
	int ntoks;
	bool all;		/* -i all */
	bool dflt;		/* no -i */
	bool follow;		/* all, default or a pattern: interfaces after start too */
};

enum if_hdr if_hdr_of(unsigned short arphrd);
/* "ethernet", "ip" or NULL. */
const char *if_hdr_name(enum if_hdr h);
/* A token with a shell pattern character (*, ?, [). */
bool if_is_pattern(const char *tok);

/* spec: NULL for the default. 0 or -errno with one line in err. */
int if_spec_parse(const char *spec, struct if_spec *s, char *err, size_t errlen);
void if_spec_free(struct if_spec *s);
/* The first pattern of s that name matches, or NULL (plain names are not patterns). */
const char *if_spec_pattern_match(const struct if_spec *s, const char *name);

/* Ifindexes of the interfaces a default route leaves through, IPv4 (/proc/net/route) and IPv6
 * (/proc/net/ipv6_route). Returns the count (at most cap). */
int if_default_routes(int *out, int cap);

#endif
