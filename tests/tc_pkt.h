/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the TC classifier's tests share (test_tc.c: crafted packets; test_tc_live.c: real traffic
 * over lo): packets built from __packed header structs, the real program run on them with
 * bpf_prog_test_run_opts(), and the events it wrote to the ring buffer compared field by field
 * with what the packet holds. Included once per test program, after its system headers.
 */
#ifndef AT_TC_PKT_H
#define AT_TC_PKT_H

#include "alerttrace.h"
#include "tc.h"
#include "tc.skel.h"
#include "tc_run.h"
#include "testlib.h"

#define __packed __attribute__((packed))

/* RFC 8446 5.1 / RFC 5246 6.2.1: TLSPlaintext header; RFC 8446 6: Alert. */
struct tls_hdr {
	__u8 type;
	__be16 version;
	__be16 length;
} __packed;

struct tls_alert {
	struct tls_hdr h;
	__u8 level;
	__u8 desc;
} __packed;

struct vlan_tag {
	__be16 tci;
	__be16 proto;
} __packed;

/* IPv6 hop-by-hop or destination options header padded to 8 bytes (RFC 8200 4.3, 4.6). */
struct ip6_opt8 {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 padn[6];
} __packed;

struct ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
} __packed;

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* What to put in front of the payload. */
struct spec {
	int ipv;		/* 4 or 6 */
	int vlans;		/* 0, 1 or 2 (802.1ad outer, 802.1Q inner) */
	int ipopt;		/* IPv4 option bytes, multiple of 4 */
	bool v6ext;		/* hop-by-hop and destination options before TCP */
	int v6frag;		/* 0: none; n: fragment header, offset n - 1 (8-byte units), M set */
	__u8 proto;		/* 0: TCP */
	__u16 v4frag;		/* IPv4 frag_off field (flags and offset), host order */
	int doff;		/* TCP data offset in words, 0: 5; > 5 adds NOP options */
	__u16 sport, dport;
	__u32 seq;
	__u8 flags;		/* TH_*, 0: ACK|PSH */
};

static __attribute__((unused)) const __u8 v4_src[4] = {10, 0, 0, 1}, v4_dst[4] = {10, 0, 0, 2};
static __attribute__((unused)) const __u8 v6_src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static __attribute__((unused)) const __u8 v6_dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

#define PUT(p, v) (memcpy((p), &(v), sizeof(v)), (p) += sizeof(v))

/* Build the packet into out; returns its length. */
static __attribute__((unused)) size_t build(__u8 *out, const struct spec *s, const void *pl, size_t plen)
{
	struct ethhdr eth = {.h_dest = {2, 0, 0, 0, 0, 2}, .h_source = {2, 0, 0, 0, 0, 1}};
	__u16 l3proto = s->ipv == 6 ? ETH_P_IPV6 : ETH_P_IP;
	int doff = s->doff ? s->doff : 5;
	__u8 proto = s->proto ? s->proto : IPPROTO_TCP, *p = out, *ip_start;
	size_t l4len = proto == IPPROTO_TCP ? doff * 4 + plen : sizeof(struct udphdr) + plen;

	eth.h_proto = htons(s->vlans == 2 ? ETH_P_8021AD : s->vlans == 1 ? ETH_P_8021Q : l3proto);
	PUT(p, eth);
	if (s->vlans == 2) {
		struct vlan_tag outer = {htons(100), htons(ETH_P_8021Q)};
		PUT(p, outer);
	}
	if (s->vlans >= 1) {
		struct vlan_tag inner = {htons(200), htons(l3proto)};
		PUT(p, inner);
	}
	ip_start = p;
	if (s->ipv == 6) {
		struct ipv6hdr ip6 = {.version = 6, .hop_limit = 64};
		__u8 *nh = &ip6.nexthdr;
		struct ip6_opt8 hbh = {.padn = {1, 4}}, dst = {.padn = {1, 4}};
		struct ip6_frag fr = {.frag_off = htons(s->v6frag ? (s->v6frag - 1) << 3 | 1 : 0),
				      .id = htonl(7)};
		size_t ext = (s->v6ext ? 16 : 0) + (s->v6frag ? 8 : 0);
		__u8 *ip6p;

		memcpy(&ip6.saddr, v6_src, 16);
		memcpy(&ip6.daddr, v6_dst, 16);
		ip6.payload_len = htons(ext + l4len);
		ip6p = p;
		PUT(p, ip6);
		nh = ip6p + offsetof(struct ipv6hdr, nexthdr); /* packed: no struct access */
		if (s->v6ext) {
			*nh = IPPROTO_HOPOPTS;
			nh = p;
			PUT(p, hbh);
			*nh = IPPROTO_DSTOPTS;
			nh = p;
			PUT(p, dst);
		}
		if (s->v6frag) {
			*nh = IPPROTO_FRAGMENT;
			nh = p;
			PUT(p, fr);
		}
		*nh = proto;
	} else {
		struct iphdr ip = {.version = 4, .ihl = 5 + s->ipopt / 4, .ttl = 64, .protocol = proto};

		ip.tot_len = htons(20 + s->ipopt + l4len);
		ip.frag_off = htons(s->v4frag);
		memcpy(&ip.saddr, v4_src, 4);
		memcpy(&ip.daddr, v4_dst, 4);
		PUT(p, ip);
		/* NOPs then end of options (RFC 791). */
		memset(p, 1, s->ipopt);
		if (s->ipopt)
			p[s->ipopt - 1] = 0;
		p += s->ipopt;
	}
	(void)ip_start;
	if (proto == IPPROTO_TCP) {
		struct tcphdr th = {.source = htons(s->sport), .dest = htons(s->dport),
				    .seq = htonl(s->seq), .ack_seq = htonl(1), .doff = doff,
				    .window = htons(512)};
		__u8 f = s->flags ? s->flags : TH_ACK | TH_PSH;

		th.fin = !!(f & TH_FIN);
		th.syn = !!(f & TH_SYN);
		th.rst = !!(f & TH_RST);
		th.psh = !!(f & TH_PSH);
		th.ack = !!(f & TH_ACK);
		PUT(p, th);
		memset(p, 1, (doff - 5) * 4);
		p += (doff - 5) * 4;
	} else {
		struct udphdr uh = {.source = htons(s->sport), .dest = htons(s->dport),
				    .len = htons(sizeof(uh) + plen)};
		PUT(p, uh);
	}
	if (plen) /* pl may be NULL for a segment without payload */
		memcpy(p, pl, plen);
	p += plen;
	return p - out;
}

/* TLS record builders: each appends to a payload buffer and returns the new length. */
static __attribute__((unused)) size_t rec(__u8 *b, size_t at, __u8 type, __u16 ver, __u16 len)
{
	struct tls_hdr h = {type, htons(ver), htons(len)};

	memcpy(b + at, &h, sizeof(h));
	/* Body: bytes that never look like a record header. */
	memset(b + at + sizeof(h), 0xee, len);
	return at + sizeof(h) + len;
}

static __attribute__((unused)) size_t alert(__u8 *b, size_t at, __u16 ver, __u8 level, __u8 desc)
{
	struct tls_alert a = {{21, htons(ver), htons(2)}, level, desc};

	memcpy(b + at, &a, sizeof(a));
	return at + sizeof(a);
}

/* --- running the program and collecting events --- */

#define MAX_EV 64
static __attribute__((unused)) struct at_event got[MAX_EV];
static __attribute__((unused)) int ngot, nseen;
static __attribute__((unused)) struct tc_bpf *skel;
static __attribute__((unused)) struct ring_buffer *rb;
static __attribute__((unused)) int prog_fd;
/* The hook a frame is run as (tests/tc_run.h). */
#define HOOK_IN AT_DIR_RECEIVED
#define HOOK_OUT AT_DIR_SENT

static __attribute__((unused)) int on_event(void *ctx, void *data, size_t size)
{
	nseen++;
	if (ngot < MAX_EV && size >= sizeof(struct at_event))
		memcpy(&got[ngot++], data, sizeof(struct at_event));
	return 0;
}

/* The frame starts 2 bytes into aligned storage, so that its IP header (after the 14-byte
 * Ethernet header) is 4-byte aligned, as the cases read it through struct iphdr (UBSan). */
static __attribute__((unused)) __u8 pkt_store[8192 + 2] __attribute__((aligned(8)));
static __attribute__((unused)) __u8 *const pkt = pkt_store + 2;

/* Run one packet through fd as hook (HOOK_IN, HOOK_OUT) sees it; on a failure of the run itself,
 * say so under name and return -1. */
static __attribute__((unused)) int run_fd(const char *name, int fd, int hook, const void *data, size_t len)
{
	__u32 retval = 0;
	int err = tc_run(fd, hook, data, len, 1, &retval, NULL);

	if (err) {
		FAILF(name, "bpf_prog_test_run_opts: expected 0, got %d (%s)", err, strerror(-err));
		return -1;
	}
	if (retval != (__u32)TC_ACT_UNSPEC) {
		FAILF(name, "retval: expected 0x%x (TC_ACT_UNSPEC), got 0x%x",
		      (__u32)TC_ACT_UNSPEC, retval);
		return -1;
	}
	return 0;
}

static __attribute__((unused)) int run(const char *name, int hook, const void *data, size_t len)
{
	return run_fd(name, prog_fd, hook, data, len);
}

/* Run a raw packet and collect its events into got[]. */
static __attribute__((unused)) int run_raw(const char *name, int hook, const void *data, size_t len)
{
	int err = run(name, hook, data, len);

	ring_buffer__consume(rb);
	return err;
}

/* Build and run: the events of this packet are added to got[]. */
static __attribute__((unused)) int send_seg(const char *name, int hook, const struct spec *s, const void *pl,
		    size_t plen)
{
	size_t n = build(pkt, s, pl, plen);
	int err = run(name, hook, pkt, n);

	ring_buffer__consume(rb);
	return err;
}

static __attribute__((unused)) void reset_events(void)
{
	ngot = 0;
	nseen = 0;
	ring_buffer__consume(rb);
	ngot = 0;
	nseen = 0;
}

struct want {
	__u8 dir, ipv, level, code, flags;
	__u16 version, length, sport, dport;
};

/* Compare got[] with the wanted events, every field the wire source fills. */
static __attribute__((unused)) bool check_events(const char *name, const struct want *w, int n)
{
	char buf[64];
	int i;

	if (ngot != n) {
		FAILF(name, "events: expected %d, got %d", n, ngot);
		return false;
	}
	for (i = 0; i < n; i++) {
		const struct at_event *e = &got[i];
		const __u8 *sa = w[i].ipv == 6 ? v6_src : v4_src, *da = w[i].ipv == 6 ? v6_dst : v4_dst;
		__u8 zero[16] = {}, esa[16] = {}, eda[16] = {};
		int alen = w[i].ipv == 6 ? 16 : 4;

		memcpy(esa, sa, alen);
		memcpy(eda, da, alen);
		if (w[i].dir == AT_DIR_SENT) { /* reply direction in the egress cases */
			memcpy(esa, da, alen);
			memcpy(eda, sa, alen);
		}
		snprintf(buf, sizeof(buf), "%s", name);
		if (!CHECK_EQ(buf, AT_SRC_WIRE, e->source) || !CHECK_EQ(buf, w[i].dir, e->direction) ||
		    !CHECK_EQ(buf, w[i].ipv, e->ip_version) ||
		    !CHECK_EQ(buf, w[i].version, e->version) ||
		    !CHECK_EQ(buf, w[i].level, e->level) || !CHECK_EQ(buf, w[i].code, e->code) ||
		    !CHECK_EQ(buf, w[i].flags, e->flags) ||
		    !CHECK_EQ(buf, w[i].length, e->length) ||
		    !CHECK_EQ(buf, w[i].sport, e->sport) || !CHECK_EQ(buf, w[i].dport, e->dport) ||
		    !CHECK_EQ(buf, 1, e->ifindex) || !CHECK_EQ(buf, AT_HOOK_NONE, e->hook) ||
		    !CHECK_EQ(buf, 0, e->pid) || !CHECK_EQ(buf, 0, e->cgroup_id))
			return false;
		if (e->ts_ns == 0) {
			FAILF(name, "ts_ns: expected non-zero, got 0");
			return false;
		}
		if (memcmp(e->saddr, esa, 16) || memcmp(e->daddr, eda, 16)) {
			char s1[64], s2[64];

			inet_ntop(alen == 16 ? AF_INET6 : AF_INET, e->saddr, s1, sizeof(s1));
			inet_ntop(alen == 16 ? AF_INET6 : AF_INET, e->daddr, s2, sizeof(s2));
			FAILF(name, "addresses: got %s -> %s (or non-zero tail)", s1, s2);
			return false;
		}
		if (alen == 4 && (memcmp(e->saddr + 4, zero, 12) || memcmp(e->daddr + 4, zero, 12))) {
			FAILF(name, "IPv4 address tail: expected zero, got non-zero");
			return false;
		}
	}
	return true;
}

static __attribute__((unused)) void expect(const char *name, const struct want *w, int n)
{
	if (check_events(name, w, n))
		PASS(name);
}

static __attribute__((unused)) bool flow_exists(const struct spec *s, __u8 dir)
{
	struct at_flow_key k = {};
	struct at_flow v;

	memcpy(k.saddr, s->ipv == 6 ? v6_src : v4_src, s->ipv == 6 ? 16 : 4);
	memcpy(k.daddr, s->ipv == 6 ? v6_dst : v4_dst, s->ipv == 6 ? 16 : 4);
	k.sport = htons(s->sport);
	k.dport = htons(s->dport);
	k.ifindex = 1;
	k.direction = dir;
	k.ip_version = s->ipv;
	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.flows), &k, &v) == 0;
}

#define WANT_ALERT(dir_, ipv_, sp, dp, lvl, desc) \
	{.dir = dir_, .ipv = ipv_, .level = lvl, .code = desc, .flags = AT_F_HAS_ADDR, \
	 .version = 0x0303, .length = 2, .sport = sp, .dport = dp}

static __attribute__((unused)) __u8 pl[8192];

/* The program as the tracer loads it for its default mode, and the ring buffer: 0, or 1 after a
 * FAIL line. */
static __attribute__((unused)) int tc_pkt_open(void)
{
	skel = tc_bpf__open();
	if (skel) {
		skel->rodata->at_filt.stream = 1; /* what the tracer sets for its default mode */
		if (tc_bpf__load(skel)) {
			tc_bpf__destroy(skel);
			skel = NULL;
		}
	}
	if (!skel) {
		FAILF("tc_load", "tc_bpf__open_and_load: %s", strerror(errno));
		return 1;
	}
	PASS("tc_load");
	prog_fd = bpf_program__fd(skel->progs.at_tc_both);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		FAILF("tc_ringbuf", "ring_buffer__new: %s", strerror(errno));
		tc_bpf__destroy(skel);
		return 1;
	}
	return 0;
}

/* No event lost, then everything freed; the test's status. */
static __attribute__((unused)) int tc_pkt_close(void)
{
	if (CHECK_EQ("no_lost_events", 0, skel->bss->lost))
		PASS("no_lost_events");
	ring_buffer__free(rb);
	tc_bpf__destroy(skel);
	return tl_failed;
}

#endif
