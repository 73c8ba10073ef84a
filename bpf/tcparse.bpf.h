/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TC classifier's header parser (bpf/tc.bpf.c): Ethernet, 802.1Q/802.1ad, IPv4 with options,
 * IPv6 with extension headers, TCP, and devices without a link-layer header; what it finds of a
 * packet in struct pkt, for the record walk and the flow state of tc.bpf.c. Included once, by
 * tc.bpf.c, after track_idx() and the SEG_* flags.
 */
#ifndef AT_TCPARSE_BPF_H
#define AT_TCPARSE_BPF_H

#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88a8)
#define IP_OFFSET_MASK 0x1fff
#define IP6_OFFSET_MASK 0xfff8
#define AT_MAX_VLAN 2
#define AT_MAX_IP6_EXT 4
/*
 * Headers are parsed in place. When one lies past the linear part of the skb (rare: drivers and
 * the stack keep headers linear), up to this many bytes are made linear and the packet is parsed
 * again: Ethernet, two VLAN tags, IPv6 with a hop-by-hop and a destination-options header of 8
 * bytes each, and the fixed TCP header (options are skipped by offset, never read). A longer chain
 * that the driver did not make linear leaves unparsed. Never before it is needed:
 * bpf_skb_pull_data() makes the bytes writable, which on a clone (every TCP transmission is one)
 * copies the head into a new kmalloc'ed buffer, and the payload bytes it moves there keep the
 * receiver from coalescing the segment into the one before (skb_try_coalesce). Pulled on every
 * segment TCP sends (their payload is in page fragments), that cost a bulk TLS transfer on lo
 * about 5% of its throughput and 6% more CPU.
 */
#define AT_HDR_LINEAR (ETH_HLEN + 2 * 4 + 40 + 2 * 8 + 20)

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* Devices without a link-layer header (tc.h): set by the loader before it attaches to one;
 * l3_any counts them, so a host without one pays a single load per packet. */
__u8 l3_ifs[AT_L3_IFS / 8];
__u32 l3_any;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AT_L3_HIGH_MAX);
	__type(key, __u32);
	__type(value, __u8);
} l3_ifs_high SEC(".maps");

/* A bit of .bss for nearly every device: no call on the path of an Ethernet packet. */
static __always_inline int l3_dev(__u32 ifindex)
{
	if (ifindex < AT_L3_IFS)
		return l3_ifs[ifindex / 8] & (1 << (ifindex & 7));
	return bpf_map_lookup_elem(&l3_ifs_high, &ifindex) != NULL;
}

/* What the header parser found. */
struct pkt {
	__u32 idx;	/* the flow's bucket in `tracked` */
	__u32 poff;	/* offset of the TCP payload */
	__u32 plen;	/* TCP payload length */
	__u32 flags;	/* SEG_* */
	__u16 l3;	/* offset of the IP header */
	__u16 l4;	/* offset of the TCP header */
	__u8 ipv;	/* 4 or 6 */
	__u8 fast;	/* parsed on the fast path: Ethernet, IPv4 without options or IPv6 without
			 * extension headers, TCP */
};

enum parse_res {
	P_OK,
	P_SKIP,		/* not a TCP segment this program reads */
	P_SHORT,	/* a header runs past the linear part of the skb */
	P_UDP,		/* a UDP datagram (l3, l4, ipv set): QUIC's branch looks at it */
};

/* The TCP header at offset off; ip_end: where the IP packet ends. */
static __always_inline int parse_tcp(struct __sk_buff *skb, struct pkt *p, struct tcphdr *th,
				     void *data_end, __u32 off, __u32 ip_end, __u64 addrs,
				     __u32 dir)
{
	__u32 thlen, len;

	if ((void *)(th + 1) > data_end)
		return P_SHORT;
	thlen = th->doff * 4;
	if (thlen < sizeof(*th))
		return P_SKIP;
	len = skb->len;
	if (ip_end > len) /* bad length or truncated: stay within the skb */
		ip_end = len;
	if (off + thlen > ip_end)
		return P_SKIP;
	p->l4 = off;
	p->poff = off + thlen;
	p->plen = ip_end - (off + thlen);
	p->flags = *((__u8 *)th + 13) & (SEG_FIN | SEG_SYN | SEG_RST);
	/* Here, not later: the fewer values live after parse(), the fewer clang spills. */
	p->idx = track_idx(addrs, *(__u32 *)th, dir);
	return P_OK;
}

/* IPv6 source and destination folded to 64 bits for the filter. */
static __always_inline __u64 ip6_fold(struct ipv6hdr *ip6)
{
	__u64 *a = (void *)ip6 + offsetof(struct ipv6hdr, saddr); /* void *: one 8-byte load */

	return (a[0] ^ a[1] * 0xff51afd7ed558ccdULL) ^
	       (a[2] ^ a[3] * 0xc4ceb9fe1a85ec53ULL) * 0x9e3779b97f4a7c15ULL;
}

/*
 * Every layout: VLAN tags, IPv4 with options, IPv6 with extension headers, and no link-layer
 * header at all on a device marked in l3_ifs. A global function: the verifier checks it once,
 * with whatever headers, instead of following every path through it into the rest of the program
 * (each VLAN count, extension header and option length was a state of its own there). parse()
 * takes the common layouts first, inline.
 */
__noinline int parse_slow(struct __sk_buff *skb, struct pkt *p, __u32 dir)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 off = ETH_HLEN, ip_end;
	__be16 proto;
	__u64 addrs;
	int i;

	if (!p)
		return P_SKIP;
	if (l3_any && l3_dev(skb->ifindex)) {
		/* No link-layer header: the version nibble says which IP, as tun itself reads it
		 * (drivers/net/tun.c, IFF_NO_PI); the IPv4 branch checks it is 4. */
		if (data + 1 > data_end)
			return P_SHORT;
		proto = (*(__u8 *)data >> 4) == 6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
		off = 0;
		p->fast = 0;
		goto l3;
	}
	if (data + ETH_HLEN > data_end)
		return P_SHORT;
	proto = *(__be16 *)(data + 12);
	p->fast = 0;
#pragma unroll
	for (i = 0; i < AT_MAX_VLAN; i++) {
		struct vlan_tag *vt = data + off;

		if (proto != ETH_P_8021Q_BE && proto != ETH_P_8021AD_BE)
			break;
		if ((void *)(vt + 1) > data_end)
			return P_SHORT;
		proto = vt->proto;
		off += sizeof(*vt);
	}

l3:
	p->l3 = off;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + off;
		__u32 vihl, ihl, tot;

		if ((void *)(iph + 1) > data_end)
			return P_SHORT;
		vihl = *(__u8 *)iph;
		if ((vihl >> 4) != 4 || (vihl & 0xf) < 5)
			return P_SKIP;
		/* Only the first fragment has the TCP (or UDP) header. */
		if (iph->frag_off & bpf_htons(IP_OFFSET_MASK))
			return P_SKIP;
		ihl = (vihl & 0xf) * 4;
		if (iph->protocol == IPPROTO_UDP) {
			p->l4 = off + ihl;
			p->ipv = 4;
			return P_UDP;
		}
		if (iph->protocol != IPPROTO_TCP)
			return P_SKIP;
		tot = bpf_ntohs(iph->tot_len);
		if (tot && tot < ihl)
			return P_SKIP;
		/* tot_len 0: a GSO packet past 64 KiB (IPv4 BIG TCP); the skb knows. */
		ip_end = tot ? off + tot : skb->len;
		addrs = *(__u64 *)((void *)iph + offsetof(struct iphdr, saddr));
		p->ipv = 4;
		off += ihl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		__u32 plen6;
		__u8 l4;

		if ((void *)(ip6 + 1) > data_end)
			return P_SHORT;
		if (ip6->version != 6)
			return P_SKIP;
		plen6 = bpf_ntohs(ip6->payload_len);
		/* payload_len 0: a jumbogram (IPv6 BIG TCP); the skb knows. */
		ip_end = plen6 ? off + sizeof(*ip6) + plen6 : skb->len;
		l4 = ip6->nexthdr;
		addrs = ip6_fold(ip6);
		p->ipv = 6;
		off += sizeof(*ip6);
		/* RFC 8200 4.1: hop-by-hop first, then routing, fragment, destination options. */
#pragma unroll
		for (i = 0; i < AT_MAX_IP6_EXT; i++) {
			__u8 *x = data + off;

			if (l4 != IPPROTO_HOPOPTS && l4 != IPPROTO_ROUTING &&
			    l4 != IPPROTO_DSTOPTS && l4 != IPPROTO_FRAGMENT)
				break;
			if ((void *)(x + 8) > data_end)
				return P_SHORT;
			if (l4 == IPPROTO_FRAGMENT) {
				if (*(__be16 *)(x + 2) & bpf_htons(IP6_OFFSET_MASK))
					return P_SKIP;
				off += 8;
			} else {
				off += (x[1] + 1) * 8;
			}
			l4 = x[0];
		}
		if (l4 == IPPROTO_UDP) {
			p->l4 = off;
			p->ipv = 6;
			return P_UDP;
		}
		if (l4 != IPPROTO_TCP)
			return P_SKIP;
	} else {
		return P_SKIP;
	}
	return parse_tcp(skb, p, data + off, data_end, off, ip_end, addrs, dir);
}

/*
 * Parse Ethernet, VLAN, IPv4/IPv6 and TCP headers in place. Every header is checked against
 * data_end; one that lies past it makes P_SHORT, for the caller to make it linear.
 *
 * Ethernet + IPv4 without options or IPv6 without extension headers + TCP, nearly every packet,
 * first: their TCP header sits at a fixed offset, so the CPU reads it without waiting for the
 * IP header's length, with fewer tests.
 */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p, __u32 dir)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__be16 proto;

	/* No link-layer header (a device marked in l3_ifs): parse_slow() reads it. */
	if (l3_any && l3_dev(skb->ifindex))
		return parse_slow(skb, p, dir);
	if (data + ETH_HLEN > data_end)
		return P_SHORT;
	proto = *(__be16 *)(data + 12); /* one load: struct ethhdr is packed */
	if (proto == bpf_htons(ETH_P_IP) &&
	    data + ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr) <= data_end &&
	    *(__u8 *)(data + ETH_HLEN) == 0x45) {
		struct iphdr *iph = data + ETH_HLEN;
		__u32 tot = bpf_ntohs(iph->tot_len);

		/* A tot_len below 20 fails parse_tcp()'s test of where the TCP header ends. */
		if (iph->frag_off & bpf_htons(IP_OFFSET_MASK))
			return P_SKIP;
		if (iph->protocol == IPPROTO_UDP) {
			p->l3 = ETH_HLEN;
			p->l4 = ETH_HLEN + sizeof(*iph);
			p->ipv = 4;
			return P_UDP;
		}
		if (iph->protocol != IPPROTO_TCP)
			return P_SKIP;
		p->l3 = ETH_HLEN;
		p->ipv = 4;
		p->fast = 1;
		return parse_tcp(skb, p, (void *)(iph + 1), data_end, ETH_HLEN + sizeof(*iph),
				 tot ? ETH_HLEN + tot : skb->len,
				 *(__u64 *)((void *)iph + offsetof(struct iphdr, saddr)), dir);
	}
	if (proto == bpf_htons(ETH_P_IPV6) &&
	    data + ETH_HLEN + sizeof(struct ipv6hdr) + sizeof(struct tcphdr) <= data_end) {
		struct ipv6hdr *ip6 = data + ETH_HLEN;
		__u32 plen6 = bpf_ntohs(ip6->payload_len);

		if (ip6->version == 6 && ip6->nexthdr == IPPROTO_TCP) {
			p->l3 = ETH_HLEN;
			p->ipv = 6;
			p->fast = 1;
			return parse_tcp(skb, p, (void *)(ip6 + 1), data_end,
					 ETH_HLEN + sizeof(*ip6),
					 plen6 ? ETH_HLEN + sizeof(*ip6) + plen6 : skb->len,
					 ip6_fold(ip6), dir);
		}
		if (ip6->version == 6 && ip6->nexthdr == IPPROTO_UDP) {
			p->l3 = ETH_HLEN;
			p->l4 = ETH_HLEN + sizeof(*ip6);
			p->ipv = 6;
			return P_UDP;
		}
	}

	return parse_slow(skb, p, dir);
}
#endif /* AT_TCPARSE_BPF_H */
