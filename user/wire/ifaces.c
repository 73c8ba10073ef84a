// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <net/if_arp.h>
#include "ifaces.h"

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

/*
 * The devices without header_ops whose packets TC sees from the IP header on, ingress and egress
 * (the stack pushes no link-layer header for them). GRE (ARPHRD_IPGRE) is not among them: in
 * point-to-multipoint mode it has header_ops that push the outer headers.
 */
enum if_hdr if_hdr_of(unsigned short arphrd)
{
	switch (arphrd) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return IF_HDR_ETHER;
	case ARPHRD_NONE:	/* tun, wireguard */
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:	/* ipip */
	case ARPHRD_TUNNEL6:	/* ip6tnl */
	case ARPHRD_SIT:
	case ARPHRD_PPP:
		return IF_HDR_IP;
	default:
		return IF_HDR_NONE;
	}
}

const char *if_hdr_name(enum if_hdr h)
{
	return h == IF_HDR_ETHER ? "ethernet" : h == IF_HDR_IP ? "ip" : NULL;
}

bool if_is_pattern(const char *tok)
{
	return strpbrk(tok, "*?[") != NULL;
}

void if_spec_free(struct if_spec *s)
{
	int i;

	for (i = 0; i < s->ntoks; i++)
		free(s->toks[i]);
	free(s->toks);
	memset(s, 0, sizeof(*s));
}

int if_spec_parse(const char *spec, struct if_spec *s, char *err, size_t errlen)
{
	char *copy, *tok, *save = NULL, **toks;
	int ret = -ENODEV;

	memset(s, 0, sizeof(*s));
	if (!spec) {
		s->dflt = s->follow = true;
		return 0;
	}
	if (!strcmp(spec, "all")) {
		s->all = s->follow = true;
		return 0;
	}
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strlen(tok) >= IF_NAMESIZE && !if_is_pattern(tok)) {
			snprintf(err, errlen, "unknown interface '%.64s': see 'ip link'", tok);
			goto fail;
		}
		toks = realloc(s->toks, (s->ntoks + 1) * sizeof(*toks));
		if (!toks)
			goto nomem;
		s->toks = toks;
		s->toks[s->ntoks] = strdup(tok);
		if (!s->toks[s->ntoks])
			goto nomem;
		s->follow |= if_is_pattern(s->toks[s->ntoks++]);
	}
	free(copy);
	if (!s->ntoks) {
		snprintf(err, errlen, "no interface given to -i");
		return -EINVAL;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	ret = -ENOMEM;
fail:
	free(copy);
	if_spec_free(s);
	return ret;
}

const char *if_spec_pattern_match(const struct if_spec *s, const char *name)
{
	int i;

	for (i = 0; i < s->ntoks; i++)
		if (if_is_pattern(s->toks[i]) && !fnmatch(s->toks[i], name, 0))
			return s->toks[i];
	return NULL;
}

static int add(int *out, int n, int cap, int ifindex)
{
	int i;

	if (!ifindex)
		return n;
	for (i = 0; i < n; i++)
		if (out[i] == ifindex)
			return n;
	return n < cap ? (out[n] = ifindex, n + 1) : n;
}

int if_default_routes(int *out, int cap)
{
	char line[512], name[IF_NAMESIZE + 1], dst[40];
	unsigned long d, mask;
	unsigned int plen;
	int n = 0;
	FILE *f = fopen("/proc/net/route", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%16s %lx %*x %*x %*d %*d %*d %lx", name, &d, &mask) == 3 && !d &&
		    !mask)
			n = add(out, n, cap, if_nametoindex(name));
	if (f)
		fclose(f);
	f = fopen("/proc/net/ipv6_route", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %16s", dst, &plen, name) == 3 &&
		    !plen && !strcmp(dst, "00000000000000000000000000000000") &&
		    strcmp(name, "lo"))
			n = add(out, n, cap, if_nametoindex(name));
	if (f)
		fclose(f);
	return n;
}
