/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The classifier's UDP branch: a QUIC long-header Initial packet (RFC 9000 17.2.2; QUIC v2's type
 * bits, RFC 9369 3.2) is copied to the ring `quic_pkts` for the loader to open. Included by
 * tc.bpf.c after its headers. A global function: the verifier checks it once, apart from the TCP
 * walk.
 */
#ifndef AT_QUIC_BPF_H
#define AT_QUIC_BPF_H

#include <linux/udp.h>
#include "quic_pkt.h"

#define AT_QUIC_V1 0x00000001
#define AT_QUIC_V2 0x6b3343cf

/* Initial packets dropped by the rate limit, and those the ring had no room for. */
__u64 quic_limited = 0;
__u64 quic_lost = 0;
__u64 quic_seen = 0;

/*
 * Set by the loader where the kernel lets TC programs call bpf_get_current_pid_tgid() (6.x): a
 * datagram a local socket sends passes the egress hook in the sending task (udp_sendmsg ->
 * dev_queue_xmit, before any qdisc), which names the sender; without it the loader looks the
 * socket up in /proc.
 */
const volatile __u8 at_quic_task = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, AT_QUIC_RING);
} quic_pkts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct at_quic_bucket);
} quic_bucket SEC(".maps");

/* One token of the CPU's bucket, refilled at AT_QUIC_RATE a second. */
static __always_inline bool quic_take(void)
{
	__u32 zero = 0;
	struct at_quic_bucket *b = bpf_map_lookup_elem(&quic_bucket, &zero);
	__u64 now = bpf_ktime_get_ns(), add;

	if (!b)
		return false;
	add = (now - b->last_ns) / (1000000000ULL / AT_QUIC_RATE);
	if (add) {
		b->tokens += add;
		if (b->tokens > AT_QUIC_BURST)
			b->tokens = AT_QUIC_BURST;
		b->last_ns = now;
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

/* L3 and L4: offsets of the IP and UDP headers in the skb. */
__noinline int at_quic(struct __sk_buff *skb, __u32 l3, __u32 l4, __u32 ipv, __u32 dir)
{
	struct at_quic_pkt *r;
	struct udphdr uh;
	__u8 b[5];
	__u32 ver, type, len;
	__u64 n;

	if (!skb || l4 > 0xffff || bpf_skb_load_bytes(skb, l4, &uh, sizeof(uh)) ||
	    bpf_skb_load_bytes(skb, l4 + sizeof(uh), b, sizeof(b)))
		return 0;
	/* Long header with the fixed bit (RFC 9000 17.2). */
	if ((b[0] & 0xc0) != 0xc0)
		return 0;
	ver = (__u32)b[1] << 24 | (__u32)b[2] << 16 | (__u32)b[3] << 8 | b[4];
	type = (b[0] >> 4) & 3;
	if (!(ver == AT_QUIC_V1 && type == 0) && !(ver == AT_QUIC_V2 && type == 1))
		return 0;
	__sync_fetch_and_add(&quic_seen, 1);
	if (!quic_take()) {
		__sync_fetch_and_add(&quic_limited, 1);
		return 0;
	}
	len = bpf_ntohs(uh.len);
	if (len < sizeof(uh) + sizeof(b))
		return 0;
	len -= sizeof(uh);
	if (len > skb->len - l4 - sizeof(uh))
		len = skb->len - l4 - sizeof(uh);
	r = bpf_ringbuf_reserve(&quic_pkts, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&quic_lost, 1);
		return 0;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->ifindex = skb->ifindex;
	r->direction = dir;
	r->ip_version = ipv;
	r->udplen = len;
	r->sport = bpf_ntohs(uh.source);
	r->dport = bpf_ntohs(uh.dest);
	r->pad = 0;
	r->has_task = 0;
	/* A forwarded packet has no socket (a veth crossing namespaces orphans it): there the
	 * task is whoever the softirq interrupted. */
	if (at_quic_task && dir == AT_DIR_SENT && bpf_get_socket_cookie(skb)) {
		__u64 pt = bpf_get_current_pid_tgid();

		r->pid = pt >> 32;
		r->tid = (__u32)pt;
		r->uid = (__u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(r->comm, sizeof(r->comm));
		r->has_task = r->pid != 0;
	}
	__builtin_memset(r->saddr, 0, sizeof(r->saddr));
	__builtin_memset(r->daddr, 0, sizeof(r->daddr));
	if (ipv == 4) {
		bpf_skb_load_bytes(skb, l3 + offsetof(struct iphdr, saddr), r->saddr, 4);
		bpf_skb_load_bytes(skb, l3 + offsetof(struct iphdr, daddr), r->daddr, 4);
	} else {
		bpf_skb_load_bytes(skb, l3 + offsetof(struct ipv6hdr, saddr), r->saddr, 16);
		bpf_skb_load_bytes(skb, l3 + offsetof(struct ipv6hdr, daddr), r->daddr, 16);
	}
	/* The bound in the instructions themselves: clang would test one register and pass
	 * another, whose range the verifier does not know. */
	n = len;
	asm volatile("if %[n] <= %[cap] goto +1; %[n] = %[cap]"
		     : [n] "+r"(n)
		     : [cap] "i"(AT_QUIC_CAP));
	r->caplen = 0;
	if (n >= 1 && !bpf_skb_load_bytes(skb, l4 + sizeof(uh), r->data, n))
		r->caplen = n;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

#endif /* AT_QUIC_BPF_H */
