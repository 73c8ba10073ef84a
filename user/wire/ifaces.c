// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "log.h"
#include "ifaces.h"

/* The classifier parses Ethernet; lo also carries a (zero) Ethernet header. */
static int link_type(const char *name, short *flags)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), type = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		*flags = ifr.ifr_flags;
		if (!ioctl(fd, SIOCGIFHWADDR, &ifr))
			type = ifr.ifr_hwaddr.sa_family;
	}
	close(fd);
	return type;
}

static int add(int *out, int n, int cap, int ifindex)
{
	int i;

	for (i = 0; i < n; i++)
		if (out[i] == ifindex)
			return n;
	return n < cap ? (out[n] = ifindex, n + 1) : n;
}

static int add_checked(int *out, int n, int cap, const char *name, int quiet)
{
	short flags = 0;
	int type = link_type(name, &flags);

	if (type != ARPHRD_ETHER && type != ARPHRD_LOOPBACK) {
		if (!quiet)
			return -EPROTONOSUPPORT;
		p_info("skipping %s: not an Ethernet device (link type %d)", name, type);
		return n;
	}
	return add(out, n, cap, if_nametoindex(name));
}

/* Interfaces named by a default route, IPv4 (/proc/net/route) and IPv6 (/proc/net/ipv6_route). */
static int default_route_ifaces(int *out, int n, int cap)
{
	char line[512], name[IF_NAMESIZE + 1], dst[40];
	unsigned long d, mask;
	int plen;
	FILE *f = fopen("/proc/net/route", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%16s %lx %*x %*x %*d %*d %*d %lx", name, &d, &mask) == 3 && !d &&
		    !mask && if_nametoindex(name))
			n = add_checked(out, n, cap, name, 1);
	if (f)
		fclose(f);
	f = fopen("/proc/net/ipv6_route", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %16s", dst, &plen, name) == 3 &&
		    !plen && !strcmp(dst, "00000000000000000000000000000000") &&
		    strcmp(name, "lo") && if_nametoindex(name))
			n = add_checked(out, n, cap, name, 1);
	if (f)
		fclose(f);
	return n;
}

int ifaces_resolve(const char *spec, int *out, int cap, char *err, size_t errlen)
{
	struct if_nameindex *ifs, *it;
	char *copy, *tok, *save = NULL;
	int n = 0, lo;

	if (!spec) {
		lo = if_nametoindex("lo");
		if (lo)
			n = add(out, n, cap, lo);
		return default_route_ifaces(out, n, cap);
	}
	if (!strcmp(spec, "all")) {
		ifs = if_nameindex();
		for (it = ifs; it && it->if_index; it++) {
			short flags = 0;

			if (link_type(it->if_name, &flags) >= 0 && (flags & IFF_UP))
				n = add_checked(out, n, cap, it->if_name, 1);
		}
		if (ifs)
			if_freenameindex(ifs);
		if (!n) {
			snprintf(err, errlen, "no interface is up");
			return -ENODEV;
		}
		return n;
	}
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int r;

		if (!if_nametoindex(tok)) {
			snprintf(err, errlen, "unknown interface '%s': see 'ip link'", tok);
			free(copy);
			return -ENODEV;
		}
		r = add_checked(out, n, cap, tok, 0);
		if (r < 0) {
			snprintf(err, errlen, "cannot trace %s: not an Ethernet device (tun, wireguard "
				 "and other L3 devices are not supported yet)", tok);
			free(copy);
			return r;
		}
		n = r;
	}
	free(copy);
	if (!n) {
		snprintf(err, errlen, "no interface given to -i");
		return -EINVAL;
	}
	return n;
}
