// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TC classifier: TLS alert records (content type 21) on the wire, both directions.
 *
 * Every TCP segment is placed in the byte stream of its flow by its sequence number. A flow
 * remembers where the next TLS record header starts (struct at_flow); a segment is walked from
 * there, record header after record header (RFC 8446 5.1, RFC 5246 6.2), and every header of type
 * 21 becomes an event. A flow without state (first seen mid-stream, or after a gap) is picked up
 * again at a segment that starts with a record header. The program only reads the packet: it
 * always returns TC_ACT_UNSPEC, so the filters after it run.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "alerttrace.h"
#include "tc.h"
#include "emit.bpf.h"
#include "owners.bpf.h"

#define TLS_CT_CCS 20
#define TLS_CT_ALERT 21
#define TLS_CT_HEARTBEAT 24
#define TLS_HDR_LEN 5
#define TLS_ALERT_LEN 2
/* A record header and the 2 bytes of a plaintext alert: what the walk reads per record. */
#define TLS_PEEK (TLS_HDR_LEN + TLS_ALERT_LEN)

#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88a8)
#define IP_OFFSET_MASK 0x1fff
#define IP6_OFFSET_MASK 0xfff8
#define AT_MAX_VLAN 2
#define AT_MAX_IP6_EXT 4
/*
 * Bytes that must be in the linear part of the skb to parse the headers in place: Ethernet, two
 * VLAN tags, IPv6 with a hop-by-hop and a destination-options header of 8 bytes each, and the
 * fixed TCP header (options are skipped by offset, never read). A longer chain that the driver did
 * not make linear leaves unparsed.
 */
#define AT_HDR_LINEAR (ETH_HLEN + 2 * 4 + 40 + 2 * 8 + 20)
/*
 * Records walked inline before the walk goes on in bpf_loop(), whose callback costs a call per
 * record (about 6 ns where returns go through a mitigation thunk). 8 is what the verifier takes.
 */
#define AT_FAST_RECORDS 8

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AT_MAX_FLOWS);
	__type(key, struct at_flow_key);
	__type(value, struct at_flow);
} flows SEC(".maps");

/*
 * A counting filter in front of `flows`: per bucket of the flow hash, how many entries of `flows`
 * may exist. A zero bucket proves the flow has no state, so the segments of flows that are not
 * TLS (most of them) leave without a hash-map lookup. Incremented when this program creates an
 * entry, decremented when it deletes one; an entry the LRU evicts leaves its count behind, which
 * only costs a useless lookup later.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << AT_TRACK_BITS);
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");


/* Where the walk stopped. */
enum walk_stop {
	WALK_BOUND = 0,	/* AT_MAX_RECORDS reached with payload left */
	WALK_DONE,	/* the next record header starts at or past the segment end */
	WALK_CARRY,	/* a header or alert body is cut by the segment end: bytes carried */
	WALK_BAD,	/* a header that does not look like TLS: the flow is not in sync */
};

struct walk {
	struct __sk_buff *skb;
	struct at_flow_key *key;
	__u32 poff;	/* offset of the TCP payload in the skb */
	__u32 plen;	/* TCP payload length */
	__u32 pos;	/* payload offset of the next byte to read */
	__u32 npart;	/* carried bytes of the current record (read in an earlier segment) */
	__u64 part;
	__u32 stop;	/* enum walk_stop */
};

static __always_inline int tls_hdr_ok(__u64 w)
{
	__u32 type = w & 0xff;
	__u32 ver = (w >> 8 & 0xff) << 8 | (w >> 16 & 0xff);
	__u32 len = (w >> 24 & 0xff) << 8 | (w >> 32 & 0xff);

	return type >= TLS_CT_CCS && type <= TLS_CT_HEARTBEAT && ver >= 0x0300 && ver <= 0x0304 &&
	       len >= 1 && len <= AT_TLS_MAX_RECORD_LEN;
}

static __always_inline __u32 tls_hdr_len(__u64 w)
{
	return (w >> 24 & 0xff) << 8 | (w >> 32 & 0xff);
}

/*
 * Read n (1..7) payload bytes at skb offset off into the low bytes of a u64, byte i in bits 8i.
 * In place when they are in the linear part (the common case, and much cheaper than a helper
 * call); with bpf_skb_load_bytes() when not (GSO packets keep their payload in page fragments).
 */
static __always_inline int load(struct __sk_buff *skb, __u32 off, __u64 n, __u64 *w)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	void *p;

	*w = 0;
	if (off <= 0xfff0) {
		__u64 o = off;

		/* Hide the test from clang so that it masks the register the verifier sees. */
		asm volatile("" : "+r"(o));
		o &= 0xffff;
		p = data + o;
		if (p + sizeof(__u64) <= data_end) {
			*w = *(__u64 *)p & (~0ULL >> (64 - 8 * n));
			return 0;
		}
		/* At the end of the linear part: the 8 bytes that end with the n wanted. */
		if (o >= 8) {
			__u64 q = o - 8 + n;

			asm volatile("" : "+r"(q));
			p = data + (q & 0xffff);
			if (p + sizeof(__u64) <= data_end) {
				*w = *(__u64 *)p >> (64 - 8 * n);
				return 0;
			}
		}
	}
	return bpf_skb_load_bytes(skb, off, w, n);
}

/*
 * One alert record: the event, with the process that owns the socket when bpf/sock.bpf.c knows it.
 * A global function: verified once, not in every place the walk reaches it.
 */
__noinline int emit(struct at_flow_key *k, __u64 w)
{
	struct at_event *e = at_event_new();
	__u32 len = tls_hdr_len(w);

	if (!k || !e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->source = AT_SRC_WIRE;
	e->direction = k->direction;
	e->ip_version = k->ip_version;
	e->version = (w >> 8 & 0xff) << 8 | (w >> 16 & 0xff);
	e->length = len;
	if (len == TLS_ALERT_LEN) {
		e->level = w >> 40 & 0xff;
		e->code = w >> 48 & 0xff;
		e->flags = AT_F_HAS_ADDR;
	} else {
		/* TLS 1.2 after ChangeCipherSpec: level and description are encrypted. */
		e->flags = AT_F_HAS_ADDR | AT_F_ENCRYPTED;
	}
	e->sport = bpf_ntohs(k->sport);
	e->dport = bpf_ntohs(k->dport);
	e->ifindex = k->ifindex;
	__builtin_memcpy(e->saddr, k->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, k->daddr, sizeof(e->daddr));
	/* Every interface this program is attached to lives in the tracer's network namespace. */
	at_owner_fill(e, at_filt.netns);
	at_emit(e);
	return 0;
}

/*
 * One record: read its header (completing carried bytes), report it if it is an alert, step to
 * the next header. Returns 0 to go on, 1 when the walk stopped (c->stop says why).
 */
static __always_inline int walk_rec(struct walk *c)
{
	__u32 npart = c->npart, have;
	__u64 w, n, rem; /* 64-bit: the length checked is the one the helper gets */

	if (c->pos >= c->plen) {
		c->stop = WALK_DONE;
		return 1;
	}
	if (npart > TLS_PEEK - 1)
		npart = TLS_PEEK - 1;
	rem = (__u64)c->plen - c->pos;
	n = TLS_PEEK - npart;
	if (n > rem)
		n = rem;
	if (n < 1 || n > TLS_PEEK) { /* for the verifier: 1 <= n <= 7 */
		c->stop = WALK_BAD;
		return 1;
	}
	if (load(c->skb, c->poff + c->pos, n, &w)) {
		c->stop = WALK_BAD;
		return 1;
	}
	w = c->part | w << (npart * 8);
	have = npart + n;
	if (have < TLS_HDR_LEN)
		goto carry;
	if (!tls_hdr_ok(w)) {
		c->stop = WALK_BAD;
		return 1;
	}
	if ((w & 0xff) == TLS_CT_ALERT) {
		if (tls_hdr_len(w) == TLS_ALERT_LEN && have < TLS_PEEK)
			goto carry;
		emit(c->key, w);
	}
	/* The record began npart bytes before pos; npart <= 6 < 5 + length. */
	c->pos = c->pos + TLS_HDR_LEN + tls_hdr_len(w) - npart;
	c->npart = 0;
	c->part = 0;
	return 0;
carry:
	c->part = w;
	c->npart = have;
	c->pos = c->plen;
	c->stop = WALK_CARRY;
	return 1;
}

static long walk_cb(__u64 i, void *ctx)
{
	return walk_rec(ctx);
}

static __always_inline void walk(struct walk *c)
{
	int i;

	for (i = 0; i < AT_FAST_RECORDS; i++)
		if (walk_rec(c))
			return;
	bpf_loop(AT_MAX_RECORDS - AT_FAST_RECORDS, walk_cb, c, 0);
}

/*
 * A segment of a flow whose position is unknown: accept it only if it starts with a record
 * header and, when the header after it also starts in the segment, that one too. A random
 * position passes one header test with p ~ 1e-6, two with ~1e-12.
 */
static __always_inline int resync_ok(struct __sk_buff *skb, __u32 poff, __u32 plen)
{
	__u32 next;
	__u64 w;

	if (plen < TLS_HDR_LEN || load(skb, poff, TLS_HDR_LEN, &w) || !tls_hdr_ok(w))
		return 0;
	next = TLS_HDR_LEN + tls_hdr_len(w);
	if (next + TLS_HDR_LEN > plen)
		return 1;
	if (load(skb, poff + next, TLS_HDR_LEN, &w))
		return 0;
	return tls_hdr_ok(w);
}

static __always_inline __u32 track_idx(__u64 a, __u64 b, __u32 ports, __u8 dir)
{
	__u64 x = (a * 0x9e3779b97f4a7c15ULL) ^ b;

	x ^= (__u64)ports << 32 | dir;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x >> (64 - AT_TRACK_BITS);
}

/* Create the flow's state; count it in the filter when it is new. */
static __always_inline void flow_create(struct at_flow_key *k, struct at_flow *v, __u32 *slot)
{
	if (bpf_map_update_elem(&flows, k, v, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(slot, 1);
	else
		bpf_map_update_elem(&flows, k, v, BPF_ANY);
}

static __always_inline void flow_delete(struct at_flow_key *k, __u32 *slot)
{
	if (bpf_map_delete_elem(&flows, k) == 0)
		__sync_fetch_and_add(slot, -1);
}

/* What at_segment() gets from the header parser. */
struct seg {
	struct at_flow_key key;
	__u32 seq;	/* sequence number of the first payload byte (or of the SYN) */
	__u32 poff;	/* offset of the TCP payload in the skb */
	__u32 plen;	/* TCP payload length */
	__u32 flags;	/* SEG_* */
	__u32 idx;	/* bucket in `tracked` */
	__u32 synced;	/* the caller found a record header at payload offset 0 (resync_ok) */
};

#define SEG_SYN 1
#define SEG_FIN 2
#define SEG_RST 4

/*
 * One segment of a flow that has state, or that may start it. A global function: the verifier
 * checks it once, not once per path through the header parser (which made it too large).
 */
__noinline int at_segment(struct __sk_buff *skb, struct seg *sg)
{
	struct at_flow *st = NULL, nst = {};
	struct at_flow_key *key;
	struct walk c = {};
	__u32 *slot, seq, poff, plen, tcpflags;
	int resync = 1;

	if (!sg)
		return 0;
	key = &sg->key;
	seq = sg->seq;
	poff = sg->poff;
	plen = sg->plen;
	tcpflags = sg->flags;
	slot = bpf_map_lookup_elem(&tracked, &sg->idx);
	if (!slot)
		return 0;
	if (tcpflags & SEG_RST) {
		flow_delete(key, slot);
		return 0;
	}
	if (tcpflags & SEG_SYN) {
		/* The stream starts after the SYN's own sequence number: in sync from byte 0. */
		seq++;
		nst.next = seq;
		flow_create(key, &nst, slot);
	}
	if (*slot)
		st = bpf_map_lookup_elem(&flows, key);
	if (st) {
		/* Serial-number arithmetic (RFC 1982): differences as signed 32-bit. */
		__u32 d = st->next - seq;

		if ((__s32)d >= 0) {
			/* The segment ends at or before the next header: inside a record, or a
			 * retransmission of what was walked already. */
			if (d >= plen)
				goto out;
			c.pos = d;
			c.npart = st->npart;
			c.part = st->part;
			resync = 0;
		}
		/* Else a gap (loss, reordering): resync on a segment that starts with a
		 * header; until then the state stays as it is. */
	}
	if (resync && !sg->synced && !resync_ok(skb, poff, plen))
		goto out;

	c.skb = skb;
	c.key = key;
	c.poff = poff;
	c.plen = plen;
	walk(&c);

	if (c.stop == WALK_BAD) {
		/* Not TLS, or lost: forget the flow; a later segment may resync. */
		if (st)
			flow_delete(key, slot);
		return 0;
	}
	/* WALK_BOUND keeps the position: a retransmission of this segment resumes there. */
	nst.next = seq + c.pos;
	nst.npart = c.npart;
	nst.part = c.part;
	if (st)
		*st = nst;
	else if (!(tcpflags & SEG_FIN))
		flow_create(key, &nst, slot);
out:
	if ((tcpflags & SEG_FIN) && (st || (tcpflags & SEG_SYN)))
		flow_delete(key, slot);
	return 0;
}

static __always_inline int at_tc(struct __sk_buff *skb, __u8 dir)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 off, ip_end, thlen, poff, plen, len = skb->len, idx, *slot, fl;
	struct seg sg;
	struct ethhdr *eth;
	struct tcphdr *th;
	void *l3;
	__u64 ha, hb;
	__be16 proto;
	__u8 l4, ipv;
	int i;

	/*
	 * Headers are read in place. When the driver left them outside the linear part, make them
	 * linear: this moves bytes within the skb, it never changes them.
	 */
	if (data + AT_HDR_LINEAR > data_end && len > (__u32)(data_end - data)) {
		bpf_skb_pull_data(skb, len < AT_HDR_LINEAR ? len : AT_HDR_LINEAR);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}

	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_UNSPEC;
	proto = *(__be16 *)(data + 12); /* one load: struct ethhdr is packed */
	off = sizeof(*eth);
#pragma unroll
	for (i = 0; i < AT_MAX_VLAN; i++) {
		struct vlan_tag *vt = data + off;

		if (proto != ETH_P_8021Q_BE && proto != ETH_P_8021AD_BE)
			break;
		if ((void *)(vt + 1) > data_end)
			return TC_ACT_UNSPEC;
		proto = vt->proto;
		off += sizeof(*vt);
	}

	l3 = data + off;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;
		__u32 tot;

		if ((void *)(iph + 1) > data_end)
			return TC_ACT_UNSPEC;
		if (iph->version != 4 || iph->ihl < 5)
			return TC_ACT_UNSPEC;
		/* Only the first fragment has the TCP header. */
		if (iph->protocol != IPPROTO_TCP || (iph->frag_off & bpf_htons(IP_OFFSET_MASK)))
			return TC_ACT_UNSPEC;
		tot = bpf_ntohs(iph->tot_len);
		if (tot && tot < iph->ihl * 4U)
			return TC_ACT_UNSPEC;
		/* tot_len 0: a GSO packet past 64 KiB (IPv4 BIG TCP); the skb knows. */
		ip_end = tot ? off + tot : len;
		ha = iph->saddr;
		hb = iph->daddr;
		ipv = 4;
		off += iph->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		__u32 plen6;

		if ((void *)(ip6 + 1) > data_end)
			return TC_ACT_UNSPEC;
		if (ip6->version != 6)
			return TC_ACT_UNSPEC;
		plen6 = bpf_ntohs(ip6->payload_len);
		/* payload_len 0: a jumbogram (IPv6 BIG TCP); the skb knows. */
		ip_end = plen6 ? off + sizeof(*ip6) + plen6 : len;
		l4 = ip6->nexthdr;
		ha = *(__u64 *)&ip6->saddr ^ *((__u64 *)&ip6->saddr + 1) * 0xff51afd7ed558ccdULL;
		hb = *(__u64 *)&ip6->daddr ^ *((__u64 *)&ip6->daddr + 1) * 0xc4ceb9fe1a85ec53ULL;
		ipv = 6;
		off += sizeof(*ip6);
		/* RFC 8200 4.1: hop-by-hop first, then routing, fragment, destination options. */
#pragma unroll
		for (i = 0; i < AT_MAX_IP6_EXT; i++) {
			__u8 *x = data + off;

			if (l4 != IPPROTO_HOPOPTS && l4 != IPPROTO_ROUTING &&
			    l4 != IPPROTO_DSTOPTS && l4 != IPPROTO_FRAGMENT)
				break;
			if ((void *)(x + 8) > data_end)
				return TC_ACT_UNSPEC;
			if (l4 == IPPROTO_FRAGMENT) {
				if (*(__be16 *)(x + 2) & bpf_htons(IP6_OFFSET_MASK))
					return TC_ACT_UNSPEC;
				off += 8;
			} else {
				off += (x[1] + 1) * 8;
			}
			l4 = x[0];
		}
		if (l4 != IPPROTO_TCP)
			return TC_ACT_UNSPEC;
	} else {
		return TC_ACT_UNSPEC;
	}

	th = data + off;
	if ((void *)(th + 1) > data_end)
		return TC_ACT_UNSPEC;
	thlen = th->doff * 4;
	if (thlen < sizeof(*th))
		return TC_ACT_UNSPEC;
	if (ip_end > len) /* bad length or truncated: stay within the skb */
		ip_end = len;
	if (off + thlen > ip_end)
		return TC_ACT_UNSPEC;
	poff = off + thlen;
	plen = ip_end - poff;
	fl = (th->syn ? SEG_SYN : 0) | (th->fin ? SEG_FIN : 0) | (th->rst ? SEG_RST : 0);
	/* Pure ACKs, the most common segments, leave before any map access. */
	if (!plen && !fl)
		return TC_ACT_UNSPEC;

	/* The interface is left out of the filter's hash: one load less, a rare false hit. */
	idx = track_idx(ha, hb, *(__u32 *)&th->source, dir);
	slot = bpf_map_lookup_elem(&tracked, &idx);
	if (!slot)
		return TC_ACT_UNSPEC;
	/*
	 * A flow without state can only start at a SYN or at a segment that starts with a record
	 * header: every other segment (those of flows that are not TLS) leaves here, without
	 * building the key or a hash-map lookup.
	 */
	__builtin_memset(&sg, 0, sizeof(sg));
	if (!*slot && !(fl & SEG_SYN)) {
		if ((fl & SEG_RST) || !resync_ok(skb, poff, plen))
			return TC_ACT_UNSPEC;
		sg.synced = 1;
	}

	if (ipv == 4) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end) /* checked above; again for the verifier */
			return TC_ACT_UNSPEC;
		__builtin_memcpy(sg.key.saddr, &iph->saddr, 4);
		__builtin_memcpy(sg.key.daddr, &iph->daddr, 4);
	} else {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return TC_ACT_UNSPEC;
		__builtin_memcpy(sg.key.saddr, &ip6->saddr, 16);
		__builtin_memcpy(sg.key.daddr, &ip6->daddr, 16);
	}
	sg.key.sport = th->source;
	sg.key.dport = th->dest;
	sg.key.ifindex = skb->ifindex;
	sg.key.direction = dir;
	sg.key.ip_version = ipv;
	sg.seq = bpf_ntohl(th->seq);
	sg.poff = poff;
	sg.plen = plen;
	sg.flags = fl;
	sg.idx = idx;
	at_segment(skb, &sg);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int at_tc_ingress(struct __sk_buff *skb)
{
	return at_tc(skb, AT_DIR_RECEIVED);
}

SEC("tc")
int at_tc_egress(struct __sk_buff *skb)
{
	return at_tc(skb, AT_DIR_SENT);
}
