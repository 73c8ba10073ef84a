// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The TC classifier (bpf/tc.bpf.c) on crafted packets, in the manner of the kernel's BPF
 * selftests: each packet is built from __packed header structs, run through the real program
 * with bpf_prog_test_run_opts(), and the events it wrote to the ring buffer are compared field by
 * field with what the packet holds. The flow map persists across runs, so every case uses its
 * own ports. The last cases send real traffic over lo in a private network namespace: a 64 KiB
 * GSO packet, and an alert through the one program attached to both hooks, as the tracer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
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

static const __u8 v4_src[4] = {10, 0, 0, 1}, v4_dst[4] = {10, 0, 0, 2};
static const __u8 v6_src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const __u8 v6_dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

#define PUT(p, v) (memcpy((p), &(v), sizeof(v)), (p) += sizeof(v))

/* Build the packet into out; returns its length. */
static size_t build(__u8 *out, const struct spec *s, const void *pl, size_t plen)
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
static size_t rec(__u8 *b, size_t at, __u8 type, __u16 ver, __u16 len)
{
	struct tls_hdr h = {type, htons(ver), htons(len)};

	memcpy(b + at, &h, sizeof(h));
	/* Body: bytes that never look like a record header. */
	memset(b + at + sizeof(h), 0xee, len);
	return at + sizeof(h) + len;
}

static size_t alert(__u8 *b, size_t at, __u16 ver, __u8 level, __u8 desc)
{
	struct tls_alert a = {{21, htons(ver), htons(2)}, level, desc};

	memcpy(b + at, &a, sizeof(a));
	return at + sizeof(a);
}

/* --- running the program and collecting events --- */

#define MAX_EV 64
static struct at_event got[MAX_EV];
static int ngot, nseen;
static struct tc_bpf *skel;
static struct ring_buffer *rb;
static int prog_fd;
/* The hook a frame is run as (tests/tc_run.h). */
#define HOOK_IN AT_DIR_RECEIVED
#define HOOK_OUT AT_DIR_SENT

static int on_event(void *ctx, void *data, size_t size)
{
	nseen++;
	if (ngot < MAX_EV && size >= sizeof(struct at_event))
		memcpy(&got[ngot++], data, sizeof(struct at_event));
	return 0;
}

/* The frame starts 2 bytes into aligned storage, so that its IP header (after the 14-byte
 * Ethernet header) is 4-byte aligned, as the cases read it through struct iphdr (UBSan). */
static __u8 pkt_store[8192 + 2] __attribute__((aligned(8)));
static __u8 *const pkt = pkt_store + 2;

/* Run one packet through fd as hook (HOOK_IN, HOOK_OUT) sees it; on a failure of the run itself,
 * say so under name and return -1. */
static int run_fd(const char *name, int fd, int hook, const void *data, size_t len)
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

static int run(const char *name, int hook, const void *data, size_t len)
{
	return run_fd(name, prog_fd, hook, data, len);
}

/* Run a raw packet and collect its events into got[]. */
static int run_raw(const char *name, int hook, const void *data, size_t len)
{
	int err = run(name, hook, data, len);

	ring_buffer__consume(rb);
	return err;
}

/* Build and run: the events of this packet are added to got[]. */
static int send_seg(const char *name, int hook, const struct spec *s, const void *pl,
		    size_t plen)
{
	size_t n = build(pkt, s, pl, plen);
	int err = run(name, hook, pkt, n);

	ring_buffer__consume(rb);
	return err;
}

static void reset_events(void)
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
static bool check_events(const char *name, const struct want *w, int n)
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

static void expect(const char *name, const struct want *w, int n)
{
	if (check_events(name, w, n))
		PASS(name);
}

static bool flow_exists(const struct spec *s, __u8 dir)
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

static __u8 pl[8192];

/* --- the cases --- */

static void t_headers(void)
{
	struct {
		const char *name;
		struct spec s;
	} c[] = {
		{"ipv4_alert", {.ipv = 4, .sport = 40001}},
		{"ipv4_with_options_ihl7", {.ipv = 4, .ipopt = 8, .sport = 40002}},
		{"ipv4_tcp_options_doff8", {.ipv = 4, .doff = 8, .sport = 40003}},
		{"ipv6_hopbyhop_destopts", {.ipv = 6, .v6ext = true, .sport = 40004}},
		{"ipv6_plain", {.ipv = 6, .sport = 40005}},
		{"vlan_one_tag", {.ipv = 4, .vlans = 1, .sport = 40006}},
		{"vlan_qinq_two_tags", {.ipv = 4, .vlans = 2, .sport = 40007}},
		{"vlan_qinq_ipv6_ext", {.ipv = 6, .vlans = 2, .v6ext = true, .sport = 40008}},
		{"ipv6_first_fragment", {.ipv = 6, .v6ext = true, .v6frag = 1, .sport = 40009}},
		{"ipv4_first_fragment_mf", {.ipv = 4, .v4frag = 0x2000, .sport = 40010}},
	};
	size_t i, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct want w = WANT_ALERT(AT_DIR_RECEIVED, c[i].s.ipv, c[i].s.sport, 443, 2, 40);

		c[i].s.dport = 443;
		c[i].s.seq = 1000;
		n = alert(pl, 0, 0x0303, 2, 40); /* fatal handshake_failure */
		reset_events();
		if (send_seg(c[i].name, HOOK_IN, &c[i].s, pl, n))
			continue;
		expect(c[i].name, &w, 1);
	}
}

/* A device without a link-layer header (tun): the loader marks its ifindex, the packet starts at
 * the IP header. test_run runs on lo (ifindex 1); unmarked, the same bytes are no event. */
static void t_l3(void)
{
	int ipv, marked;

	for (marked = 1; marked >= 0; marked--)
		for (ipv = 4; ipv <= 6; ipv += 2) {
			struct spec s = {.ipv = ipv, .sport = (__u16)(40200 + ipv + marked),
					 .dport = 443, .seq = 1000};
			struct want w = WANT_ALERT(AT_DIR_RECEIVED, ipv, s.sport, 443, 2, 40);
			const char *name = marked ? (ipv == 4 ? "l3_ipv4_alert" : "l3_ipv6_alert") :
					   (ipv == 4 ? "l3_unmarked_ipv4_no_event" :
						       "l3_unmarked_ipv6_no_event");
			size_t n = alert(pl, 0, 0x0303, 2, 40), len = build(pkt, &s, pl, n);

			skel->bss->l3_ifs[0] = marked ? 1 << 1 : 0;
			skel->bss->l3_any = marked;
			reset_events();
			if (!run_raw(name, HOOK_IN, pkt + ETH_HLEN, len - ETH_HLEN))
				expect(name, &w, marked);
		}
	skel->bss->l3_ifs[0] = 0;
	skel->bss->l3_any = 0;
}

static void t_records(void)
{
	struct spec s = {.ipv = 4, .sport = 40100, .dport = 443, .seq = 5000, .flags = TH_SYN};
	struct want w = WANT_ALERT(AT_DIR_RECEIVED, 4, 40100, 443, 1, 0);
	size_t n;

	/* Handshake, application data, then close_notify, in one segment of a flow seen from its
	 * SYN. */
	reset_events();
	send_seg("records_alert_last", HOOK_IN, &s, NULL, 0);
	s.flags = 0;
	s.seq = 5001;
	n = rec(pl, 0, 22, 0x0303, 40);
	n = rec(pl, n, 20, 0x0303, 1);
	n = rec(pl, n, 23, 0x0303, 300);
	n = alert(pl, n, 0x0303, 1, 0);
	if (!send_seg("records_alert_last", HOOK_IN, &s, pl, n))
		expect("records_alert_last", &w, 1);

	/* Two alerts in one segment, in order. */
	s.sport = 40101;
	s.seq = 77;
	n = rec(pl, 0, 23, 0x0303, 30);
	n = alert(pl, n, 0x0303, 1, 90); /* user_canceled */
	n = alert(pl, n, 0x0303, 1, 0);
	reset_events();
	if (!send_seg("two_alerts_in_order", HOOK_IN, &s, pl, n)) {
		struct want w2[2] = {WANT_ALERT(AT_DIR_RECEIVED, 4, 40101, 443, 1, 90),
				     WANT_ALERT(AT_DIR_RECEIVED, 4, 40101, 443, 1, 0)};
		expect("two_alerts_in_order", w2, 2);
	}

	/* TLS 1.0 record version and TLS 1.3's 0x0301 legacy record version. */
	s.sport = 40102;
	n = alert(pl, 0, 0x0301, 2, 70); /* protocol_version */
	reset_events();
	if (!send_seg("alert_record_version_0x0301", HOOK_IN, &s, pl, n)) {
		struct want w3 = WANT_ALERT(AT_DIR_RECEIVED, 4, 40102, 443, 2, 70);
		w3.version = 0x0301;
		expect("alert_record_version_0x0301", &w3, 1);
	}
}

static void t_encrypted(void)
{
	struct spec s = {.ipv = 4, .sport = 40200, .dport = 443, .seq = 9};
	struct want w = {.dir = AT_DIR_RECEIVED, .ipv = 4, .flags = AT_F_HAS_ADDR | AT_F_ENCRYPTED,
			 .version = 0x0303, .length = 26, .sport = 40200, .dport = 443};
	size_t n;

	n = rec(pl, 0, 23, 0x0303, 64);
	n = rec(pl, n, 21, 0x0303, 26);
	reset_events();
	if (!send_seg("encrypted_alert_len26", HOOK_IN, &s, pl, n))
		expect("encrypted_alert_len26", &w, 1);
}

/* Segment 1 starts a record it does not finish; segment 2 has its tail and then the alert. */
static void t_mid_segment(void)
{
	struct spec s = {.ipv = 4, .sport = 40300, .dport = 443, .seq = 100000, .flags = TH_SYN};
	struct want w = WANT_ALERT(AT_DIR_RECEIVED, 4, 40300, 443, 2, 20);
	__u8 big[1100];
	size_t n;

	reset_events();
	send_seg("alert_after_record_tail", HOOK_IN, &s, NULL, 0);
	n = rec(big, 0, 23, 0x0303, 1000);
	s.flags = 0;
	s.seq = 100001;
	send_seg("alert_after_record_tail", HOOK_IN, &s, big, 305);
	if (!CHECK_EQ("alert_after_record_tail", 0, ngot))
		return;
	/* The tail starts with bytes that look like an alert header: only the position in the
	 * stream may decide. */
	memcpy(pl, big + 305, n - 305);
	alert(pl, 0, 0x0303, 2, 10);
	n = alert(pl, n - 305, 0x0303, 2, 20);
	s.seq = 100001 + 305;
	if (send_seg("alert_after_record_tail", HOOK_IN, &s, pl, n))
		return;
	expect("alert_after_record_tail", &w, 1);

	/* The same segment again (retransmission): nothing new. */
	reset_events();
	if (!send_seg("retransmission_reported_once", HOOK_IN, &s, pl, n))
		expect("retransmission_reported_once", NULL, 0);

	/* A retransmission that also carries new data: only the new alert. */
	{
		size_t m;

		memcpy(big, pl, n);
		m = alert(big, n, 0x0303, 1, 0);
		reset_events();
		if (!send_seg("retransmission_plus_new_data", HOOK_IN, &s, big, m)) {
			struct want w2 = WANT_ALERT(AT_DIR_RECEIVED, 4, 40300, 443, 1, 0);
			expect("retransmission_plus_new_data", &w2, 1);
		}
	}

	/* Mid-stream resync on a flow without SYN: the first alert segment sent twice. */
	{
		struct spec r = {.ipv = 4, .sport = 40301, .dport = 443, .seq = 123456};

		n = alert(pl, 0, 0x0303, 2, 48);
		reset_events();
		send_seg("retransmitted_alert_no_syn", HOOK_IN, &r, pl, n);
		send_seg("retransmitted_alert_no_syn", HOOK_IN, &r, pl, n);
		w = (struct want)WANT_ALERT(AT_DIR_RECEIVED, 4, 40301, 443, 2, 48);
		expect("retransmitted_alert_no_syn", &w, 1);
	}
}

/* A record header, or an alert body, cut by the segment end: carried to the next segment. */
static void t_truncated(void)
{
	static const struct {
		const char *name;
		size_t cut;	/* alert bytes in segment 1 */
	} c[] = {
		{"header_cut_after_1_byte", 1},
		{"header_cut_after_3_bytes", 3},
		{"header_cut_after_4_bytes", 4},
		{"alert_body_cut_after_header", 5},
		{"alert_body_cut_after_1_byte", 6},
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		__u16 sport = 40400 + i;
		struct spec s = {.ipv = 6, .sport = sport, .dport = 443, .seq = 0xfffffff0,
				 .flags = TH_SYN};
		struct want w = WANT_ALERT(AT_DIR_RECEIVED, 6, sport, 443, 2, 51);
		size_t n, a;

		/* ISN near 2^32: the sequence numbers wrap inside the flow. */
		reset_events();
		send_seg(c[i].name, HOOK_IN, &s, NULL, 0);
		s.flags = 0;
		s.seq = 0xfffffff1;
		a = rec(pl, 0, 23, 0x0303, 20);
		n = alert(pl, a, 0x0303, 2, 51); /* decrypt_error */
		send_seg(c[i].name, HOOK_IN, &s, pl, a + c[i].cut);
		if (!CHECK_EQ(c[i].name, 0, ngot))
			continue;
		s.seq += a + c[i].cut;
		if (send_seg(c[i].name, HOOK_IN, &s, pl + a + c[i].cut, n - a - c[i].cut))
			continue;
		if (!check_events(c[i].name, &w, 1))
			continue;
		/* The stream stays in sync after the carried record. */
		reset_events();
		s.seq += n - a - c[i].cut;
		n = alert(pl, 0, 0x0303, 1, 0);
		if (!send_seg(c[i].name, HOOK_IN, &s, pl, n)) {
			w.level = 1;
			w.code = 0;
			expect(c[i].name, &w, 1);
		}
	}
}

static void t_resync(void)
{
	struct spec s = {.ipv = 4, .sport = 40500, .dport = 443, .seq = 777777};
	struct want w = WANT_ALERT(AT_DIR_RECEIVED, 4, 40500, 443, 2, 80);
	size_t n;

	/* A flow first seen mid-stream, starting with a record header: two headers checked. */
	n = rec(pl, 0, 23, 0x0303, 100);
	n = alert(pl, n, 0x0303, 2, 80); /* internal_error */
	reset_events();
	if (!send_seg("first_seen_mid_stream_resync", HOOK_IN, &s, pl, n))
		expect("first_seen_mid_stream_resync", &w, 1);

	/* First seen in the middle of a record: nothing, no state; the next segment that starts
	 * with a header resynchronises. */
	s.sport = 40501;
	memset(pl, 0xee, 200);
	alert(pl, 50, 0x0303, 2, 80); /* looks like an alert, but mid-record */
	reset_events();
	send_seg("mid_record_no_false_event", HOOK_IN, &s, pl, 200);
	if (CHECK_EQ("mid_record_no_false_event", 0, ngot) &&
	    CHECK_EQ("mid_record_no_false_event", 0, flow_exists(&s, AT_DIR_RECEIVED)))
		PASS("mid_record_no_false_event");
	s.seq += 200;
	n = alert(pl, 0, 0x0303, 2, 80);
	reset_events();
	if (!send_seg("resync_on_next_header", HOOK_IN, &s, pl, n)) {
		w.sport = 40501;
		expect("resync_on_next_header", &w, 1);
	}

	/* Gap: an in-sync flow loses a segment; the next one starts mid-record (nothing), the
	 * one after starts with a header (resync). */
	s = (struct spec){.ipv = 4, .sport = 40502, .dport = 443, .seq = 10, .flags = TH_SYN};
	reset_events();
	send_seg("gap_then_resync", HOOK_IN, &s, NULL, 0);
	s.flags = 0;
	s.seq = 11;
	n = rec(pl, 0, 23, 0x0303, 1000);
	send_seg("gap_then_resync", HOOK_IN, &s, pl, 500);	/* record 1, first half */
	s.seq = 11 + 1005;					/* record 2 lost: 11+505.. */
	memset(pl, 0xee, 300);
	alert(pl, 100, 0x0303, 2, 80);
	send_seg("gap_then_resync", HOOK_IN, &s, pl, 300);	/* middle of record 2 */
	if (!CHECK_EQ("gap_then_resync", 0, ngot))
		return;
	s.seq = 11 + 1005 + 1005;
	n = alert(pl, 0, 0x0303, 2, 80);
	if (!send_seg("gap_then_resync", HOOK_IN, &s, pl, n)) {
		w.sport = 40502;
		expect("gap_then_resync", &w, 1);
	}
}

/*
 * Reordering and retransmission (no netem on this kernel: crafted sequences). A retransmitted
 * FIN segment is read once, with or without state; an alert in a segment that arrives after the
 * one following it is found, the later one first; a late segment that cannot be read (it
 * starts mid-record) is counted as a possible miss, never silent.
 */
static void t_order(void)
{
	struct spec s = {.ipv = 4, .sport = 41001, .dport = 443, .seq = 100, .flags = TH_SYN};
	struct want w = WANT_ALERT(AT_DIR_RECEIVED, 4, 41001, 443, 1, 0), w2[2];
	__u64 miss0;
	size_t n, a, b;

	reset_events();
	send_seg("fin_retransmitted_once", HOOK_IN, &s, NULL, 0);
	s.flags = TH_ACK | TH_FIN;
	s.seq = 101;
	n = alert(pl, 0, 0x0303, 1, 0);
	send_seg("fin_retransmitted_once", HOOK_IN, &s, pl, n);
	send_seg("fin_retransmitted_once", HOOK_IN, &s, pl, n);	/* its ACK was lost */
	expect("fin_retransmitted_once", &w, 1);

	/* A flow first seen at its FIN segment (no state): read once too. */
	s = (struct spec){.ipv = 4, .sport = 41002, .dport = 443, .seq = 7000,
			  .flags = TH_ACK | TH_FIN};
	reset_events();
	n = alert(pl, 0, 0x0303, 2, 48);
	send_seg("fin_without_state_retransmitted_once", HOOK_IN, &s, pl, n);
	send_seg("fin_without_state_retransmitted_once", HOOK_IN, &s, pl, n);
	w = (struct want)WANT_ALERT(AT_DIR_RECEIVED, 4, 41002, 443, 2, 48);
	expect("fin_without_state_retransmitted_once", &w, 1);

	/* A new connection on the same ends after the FIN: read again from its SYN. */
	s.flags = TH_SYN;
	s.seq = 90000;
	reset_events();
	send_seg("fin_then_new_connection", HOOK_IN, &s, NULL, 0);
	s.flags = TH_ACK;
	s.seq = 90001;
	send_seg("fin_then_new_connection", HOOK_IN, &s, pl, n);
	expect("fin_then_new_connection", &w, 1);

	/* Reordered: A (a record), C (an alert), then B (an alert) arrives last. */
	s = (struct spec){.ipv = 4, .sport = 41003, .dport = 443, .seq = 10, .flags = TH_SYN};
	reset_events();
	miss0 = skel->bss->possible_miss;
	send_seg("reordered_alert_found", HOOK_IN, &s, NULL, 0);
	s.flags = TH_ACK;
	s.seq = 11;
	a = rec(pl, 0, 23, 0x0303, 100);
	send_seg("reordered_alert_found", HOOK_IN, &s, pl, a);		/* A */
	b = rec(pl, 0, 23, 0x0303, 50);
	b = alert(pl, b, 0x0303, 2, 80);				/* B: a record, then an alert */
	s.seq = 11 + a + b;
	n = alert(pl + 1000, 0, 0x0303, 2, 10);				/* C */
	send_seg("reordered_alert_found", HOOK_IN, &s, pl + 1000, n);
	s.seq = 11 + a;
	send_seg("reordered_alert_found", HOOK_IN, &s, pl, b);		/* B, late */
	w2[0] = (struct want)WANT_ALERT(AT_DIR_RECEIVED, 4, 41003, 443, 2, 10);
	w2[1] = (struct want)WANT_ALERT(AT_DIR_RECEIVED, 4, 41003, 443, 2, 80);
	if (check_events("reordered_alert_found", w2, 2) &&
	    CHECK_EQ("reordered_alert_found_no_miss", miss0, skel->bss->possible_miss))
		PASS("reordered_alert_found");
	/* B again: the gap is closed, nothing more. */
	reset_events();
	send_seg("reordered_late_segment_once", HOOK_IN, &s, pl, b);
	if (CHECK_EQ("reordered_late_segment_once", 0, ngot))
		PASS("reordered_late_segment_once");

	/* A late segment that starts mid-record cannot be read: counted. A (a record), then C
	 * (an alert) past the gap, then the second half of the lost record B, then its first. */
	s = (struct spec){.ipv = 4, .sport = 41004, .dport = 443, .seq = 10, .flags = TH_SYN};
	reset_events();
	send_seg("late_mid_record_counted", HOOK_IN, &s, NULL, 0);
	s.flags = TH_ACK;
	s.seq = 11;
	a = rec(pl, 0, 23, 0x0303, 100);
	send_seg("late_mid_record_counted", HOOK_IN, &s, pl, a);		/* A */
	b = rec(pl, 0, 23, 0x0303, 300);				/* B: 305 bytes */
	s.seq = 11 + a + b;
	n = alert(pl + 1000, 0, 0x0303, 1, 0);
	send_seg("late_mid_record_counted", HOOK_IN, &s, pl + 1000, n);	/* C */
	miss0 = skel->bss->possible_miss;
	s.seq = 11 + a + 100;
	send_seg("late_mid_record_counted", HOOK_IN, &s, pl + 100, b - 100); /* B's end: unreadable */
	s.seq = 11 + a;
	send_seg("late_mid_record_counted", HOOK_IN, &s, pl, 100);	/* B's start: read, no alert */
	w = (struct want)WANT_ALERT(AT_DIR_RECEIVED, 4, 41004, 443, 1, 0);
	if (check_events("late_mid_record_counted", &w, 1) &&
	    CHECK_EQ("late_mid_record_counted", miss0 + 1, skel->bss->possible_miss))
		PASS("late_mid_record_counted");
}

static void t_no_event(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	struct spec s = {.ipv = 4, .sport = 40600, .dport = 80, .seq = 1, .flags = TH_SYN};
	size_t n;

	/* Plain HTTP on a flow seen from its SYN: no event, and the flow is forgotten. */
	reset_events();
	send_seg("non_tls_http", HOOK_IN, &s, NULL, 0);
	s.flags = 0;
	s.seq = 2;
	if (!send_seg("non_tls_http", HOOK_IN, &s, http, sizeof(http) - 1) &&
	    CHECK_EQ("non_tls_http", 0, ngot) &&
	    CHECK_EQ("non_tls_http_flow_forgotten", 0, flow_exists(&s, AT_DIR_RECEIVED)))
		PASS("non_tls_http");

	/* UDP carrying bytes that look like an alert. */
	s = (struct spec){.ipv = 4, .proto = IPPROTO_UDP, .sport = 40601, .dport = 443};
	n = alert(pl, 0, 0x0303, 2, 40);
	reset_events();
	if (!send_seg("udp_no_event", HOOK_IN, &s, pl, n) && CHECK_EQ("udp_no_event", 0, ngot))
		PASS("udp_no_event");

	/* A non-first IPv4 fragment whose bytes look like TCP + alert. */
	s = (struct spec){.ipv = 4, .v4frag = 100, .sport = 40602, .dport = 443};
	reset_events();
	if (!send_seg("ipv4_non_first_fragment", HOOK_IN, &s, pl, n) &&
	    CHECK_EQ("ipv4_non_first_fragment", 0, ngot))
		PASS("ipv4_non_first_fragment");
	s = (struct spec){.ipv = 6, .v6frag = 101, .sport = 40603, .dport = 443};
	reset_events();
	if (!send_seg("ipv6_non_first_fragment", HOOK_IN, &s, pl, n) &&
	    CHECK_EQ("ipv6_non_first_fragment", 0, ngot))
		PASS("ipv6_non_first_fragment");

	/* A pure ACK and a TLS record of an unknown type. */
	s = (struct spec){.ipv = 4, .sport = 40604, .dport = 443};
	reset_events();
	if (!send_seg("pure_ack_no_event", HOOK_IN, &s, NULL, 0) &&
	    CHECK_EQ("pure_ack_no_event", 0, ngot) &&
	    CHECK_EQ("pure_ack_no_state", 0, flow_exists(&s, AT_DIR_RECEIVED)))
		PASS("pure_ack_no_event");
	n = rec(pl, 0, 25, 0x0303, 2);
	reset_events();
	if (!send_seg("content_type_25_no_event", HOOK_IN, &s, pl, n) &&
	    CHECK_EQ("content_type_25_no_event", 0, ngot))
		PASS("content_type_25_no_event");
}

/* Broken packets: the program must leave without an event, and without a verifier-invisible
 * read (test_run would return an error, or the kernel would complain). */
static void t_garbage(void)
{
	struct spec s = {.ipv = 4, .sport = 40700, .dport = 443, .seq = 1};
	size_t n, len;
	int bad = 0;

	n = alert(pl, 0, 0x0303, 2, 40);
	len = build(pkt, &s, pl, n);

	/*
	 * Ethernet only, then the packet cut at every length up to the full packet minus one.
	 * test_run itself refuses less than ETH_HLEN bytes and, for ETH_P_IP, less than a whole
	 * IPv4 header (-EINVAL): those lengths are sent with another ethertype instead.
	 */
	reset_events();
	for (size_t cut = ETH_HLEN; cut < len && !bad; cut++) {
		if (cut < ETH_HLEN + sizeof(struct iphdr)) {
			static __u8 odd[64];

			memcpy(odd, pkt, cut);
			((struct ethhdr *)odd)->h_proto = htons(ETH_P_8021Q);
			memcpy(odd + ETH_HLEN, "\x00\x01\x08\x00", 4);
			if (cut < ETH_HLEN + 4)
				memset(odd + ETH_HLEN, 0, 4);
			bad = run("truncated_packets", HOOK_IN, odd, cut);
			continue;
		}
		bad = run("truncated_packets", HOOK_IN, pkt, cut);
	}
	ring_buffer__consume(rb);
	if (!bad && CHECK_EQ("truncated_packets", 0, ngot))
		PASS("truncated_packets");

	/* IHL 3: shorter than the fixed header. */
	s.sport = 40701;
	len = build(pkt, &s, pl, n);
	((struct iphdr *)(pkt + ETH_HLEN))->ihl = 3;
	reset_events();
	if (!run_raw("bad_ihl", HOOK_IN, pkt, len) &&
	    CHECK_EQ("bad_ihl", 0, ngot))
		PASS("bad_ihl");

	/* IHL 15: options run past the packet. */
	s.sport = 40702;
	len = build(pkt, &s, pl, n);
	((struct iphdr *)(pkt + ETH_HLEN))->ihl = 15;
	reset_events();
	if (!run_raw("ihl_past_packet", HOOK_IN, pkt, len) &&
	    CHECK_EQ("ihl_past_packet", 0, ngot))
		PASS("ihl_past_packet");

	/* TCP data offset below 5. */
	s.sport = 40703;
	len = build(pkt, &s, pl, n);
	((struct tcphdr *)(pkt + ETH_HLEN + 20))->doff = 3;
	reset_events();
	if (!run_raw("tcp_doff_below_5", HOOK_IN, pkt, len) &&
	    CHECK_EQ("tcp_doff_below_5", 0, ngot))
		PASS("tcp_doff_below_5");

	/* IPv4 total length larger than the packet: only the bytes present are read. */
	s.sport = 40704;
	len = build(pkt, &s, pl, n);
	((struct iphdr *)(pkt + ETH_HLEN))->tot_len = htons(1500);
	reset_events();
	if (!run_raw("tot_len_past_packet", HOOK_IN, pkt, len) &&
	    check_events("tot_len_past_packet",
			 &(struct want)WANT_ALERT(AT_DIR_RECEIVED, 4, 40704, 443, 2, 40), 1))
		PASS("tot_len_past_packet");

	/* Ethernet padding after a short IPv4 packet is not payload: the alert's 2 body bytes
	 * are beyond tot_len, so nothing is reported yet. */
	s.sport = 40705;
	len = build(pkt, &s, pl, n);
	((struct iphdr *)(pkt + ETH_HLEN))->tot_len = htons(20 + 20 + 5);
	reset_events();
	if (!run_raw("ethernet_padding_ignored", HOOK_IN, pkt, len) &&
	    CHECK_EQ("ethernet_padding_ignored", 0, ngot))
		PASS("ethernet_padding_ignored");

	/* Unknown ethertype, and a VLAN tag with nothing after it. */
	len = build(pkt, &s, pl, n);
	((struct ethhdr *)pkt)->h_proto = htons(0x88b5);
	reset_events();
	if (!run_raw("unknown_ethertype", HOOK_IN, pkt, len) &&
	    CHECK_EQ("unknown_ethertype", 0, ngot))
		PASS("unknown_ethertype");
	((struct ethhdr *)pkt)->h_proto = htons(ETH_P_8021Q);
	reset_events();
	if (!run_raw("vlan_tag_truncated", HOOK_IN, pkt, ETH_HLEN + 2) &&
	    CHECK_EQ("vlan_tag_truncated", 0, ngot))
		PASS("vlan_tag_truncated");

	/* Random bytes after a valid header chain, many flows. */
	srand(1);
	reset_events();
	bad = 0;
	for (int i = 0; i < 2000 && !bad; i++) {
		s.sport = 41000 + i;
		s.seq = rand();
		for (int j = 0; j < 300; j++)
			pl[j] = rand();
		len = build(pkt, &s, pl, 300);
		bad = run("random_payloads", HOOK_IN, pkt, len);
	}
	ring_buffer__consume(rb);
	if (!bad && CHECK_EQ("random_payloads", 0, ngot))
		PASS("random_payloads");
}

static void t_direction_and_flags(void)
{
	struct spec s = {.ipv = 4, .sport = 443, .dport = 40800, .seq = 31337};
	struct want w = WANT_ALERT(AT_DIR_SENT, 4, 443, 40800, 2, 42);
	size_t n;

	/* Egress: an alert we send; the packet goes from 10.0.0.2:443 to the client. */
	n = alert(pl, 0, 0x0303, 2, 42); /* bad_certificate */
	{
		/* Build with swapped addresses: our side is 10.0.0.2. */
		size_t len = build(pkt, &s, pl, n);
		struct iphdr *ip = (struct iphdr *)(pkt + ETH_HLEN);
		__be32 t = ip->saddr;

		ip->saddr = ip->daddr;
		ip->daddr = t;
		reset_events();
		if (!run_raw("egress_direction_sent", HOOK_OUT, pkt, len)) {
			expect("egress_direction_sent", &w, 1);
		}
		/* The same packet on ingress is another flow (direction is part of the key). */
		reset_events();
		if (!run_raw("ingress_same_tuple_separate_flow", HOOK_IN, pkt, len)) {
			w.dir = AT_DIR_RECEIVED;
			/* addresses as in the packet: 10.0.0.2 -> 10.0.0.1, like the SENT layout */
			if (ngot == 1 && got[0].direction == AT_DIR_RECEIVED &&
			    got[0].saddr[3] == 2 && got[0].sport == 443)
				PASS("ingress_same_tuple_separate_flow");
			else
				FAILF("ingress_same_tuple_separate_flow",
				      "expected 1 received event from 10.0.0.2:443, got %d", ngot);
		}
	}

	/* FIN with the close_notify: reported, and the state is deleted. */
	s = (struct spec){.ipv = 4, .sport = 40801, .dport = 443, .seq = 50, .flags = TH_SYN};
	reset_events();
	send_seg("fin_with_alert", HOOK_IN, &s, NULL, 0);
	s.flags = TH_ACK | TH_FIN;
	s.seq = 51;
	n = alert(pl, 0, 0x0303, 1, 0);
	if (!send_seg("fin_with_alert", HOOK_IN, &s, pl, n)) {
		w = (struct want)WANT_ALERT(AT_DIR_RECEIVED, 4, 40801, 443, 1, 0);
		if (check_events("fin_with_alert", &w, 1) &&
		    CHECK_EQ("fin_with_alert_state_deleted", 0, flow_exists(&s, AT_DIR_RECEIVED)))
			PASS("fin_with_alert");
	}
	/* RST deletes the state. */
	s = (struct spec){.ipv = 4, .sport = 40802, .dport = 443, .seq = 50, .flags = TH_SYN};
	send_seg("rst_deletes_state", HOOK_IN, &s, NULL, 0);
	if (CHECK_EQ("rst_deletes_state", 1, flow_exists(&s, AT_DIR_RECEIVED))) {
		s.flags = TH_RST;
		s.seq = 51;
		send_seg("rst_deletes_state", HOOK_IN, &s, NULL, 0);
		if (CHECK_EQ("rst_deletes_state", 0, flow_exists(&s, AT_DIR_RECEIVED)))
			PASS("rst_deletes_state");
	}
}

/* The largest packet test_run takes (one page less headroom and skb_shared_info: 3712 bytes on
 * x86-64), filled with the smallest records, alert last: the walk must reach it. */
static void t_many_records(void)
{
	struct spec s = {.ipv = 4, .sport = 40900, .dport = 443, .seq = 1};
	struct want w = WANT_ALERT(AT_DIR_SENT, 4, 40900, 443, 2, 40);
	size_t hdr = ETH_HLEN + 20 + 20, max = 3712, n = 0, cnt, len, avail = max - hdr - 7;

	/* avail / 6 records of 6 bytes, the first one longer by the remainder */
	n = rec(pl, 0, 23, 0x0303, 1 + avail % 6);
	for (cnt = 1; cnt < avail / 6; cnt++)
		n = rec(pl, n, 23, 0x0303, 1);
	n = alert(pl, n, 0x0303, 2, 40);
	len = build(pkt, &s, pl, n);
	reset_events();
	if (run_raw("many_tiny_records_alert_last", HOOK_OUT, pkt, len))
		return;
	ring_buffer__consume(rb);
	{
		/* egress, built in the ingress layout: addresses as the packet has them */
		const struct at_event *e = &got[0];

		if (CHECK_EQ("many_tiny_records_alert_last", 1, ngot) &&
		    CHECK_EQ("many_tiny_records_alert_last", w.code, e->code) &&
		    CHECK_EQ("many_tiny_records_alert_last", 3712, len) &&
		    CHECK_EQ("many_tiny_records_alert_last", AT_DIR_SENT, e->direction)) {
			printf("     (%zu records of 6 bytes and the alert in %zu bytes)\n", cnt, len);
			PASS("many_tiny_records_alert_last");
		}
	}

	/* test_run refuses larger packets: a 64 KiB GSO packet needs real traffic (below). */
	{
		static __u8 big[65536];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = big, .data_size_in = sizeof(big));

		memcpy(big, pkt, len);
		if (CHECK_EQ("test_run_refuses_64k", -EINVAL, bpf_prog_test_run_opts(prog_fd, &o)))
			PASS("test_run_refuses_64k");
	}
}

/* Events are never dropped silently: a full ring buffer counts in `lost`. */
static void t_lost(void)
{
	struct tc_bpf *sk = tc_bpf__open();
	struct spec s = {.ipv = 4, .sport = 41000 - 1, .dport = 443, .seq = 1};
	size_t n = 0, len;
	int i, fd, err, cap;

	if (!sk) {
		FAILF("ringbuf_full_counts_lost", "tc_bpf__open: %s", strerror(errno));
		return;
	}
	bpf_map__set_max_entries(sk->maps.events, 4096);
	sk->rodata->at_filt.stream = 1;
	err = tc_bpf__load(sk);
	if (err) {
		FAILF("ringbuf_full_counts_lost", "load: %d", err);
		goto out;
	}
	for (i = 0; i < 60; i++)
		n = alert(pl, n, 0x0303, 2, i);
	len = build(pkt, &s, pl, n);
	fd = bpf_program__fd(sk->progs.at_tc_both);
	if (run_fd("ringbuf_full_counts_lost", fd, HOOK_IN, pkt, len))
		goto out;
	/* 4096 bytes hold 4096 / (8 + sizeof(struct at_event), rounded to 8) records. */
	cap = 4096 / ((8 + sizeof(struct at_event) + 7) / 8 * 8);
	if (CHECK_EQ("ringbuf_full_counts_lost", 60 - cap, sk->bss->lost))
		PASS("ringbuf_full_counts_lost");
out:
	tc_bpf__destroy(sk);
}

/* --- a real 64 KiB GSO packet: egress on lo in a private network namespace --- */

static int set_lo_up(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) || (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)))
		err = -errno;
	close(fd);
	return err;
}

static int write_all(int fd, const void *b, size_t n)
{
	const __u8 *p = b;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int read_n(int fd, size_t n)
{
	static __u8 sink[65536];

	while (n) {
		ssize_t r = read(fd, sink, n < sizeof(sink) ? n : sizeof(sink));

		if (r <= 0)
			return -1;
		n -= r;
	}
	return 0;
}

#define GSO_PORT 44300
#define GSO_WARMUP (4 << 20)

/*
 * Child: new netns, lo up, the program on lo egress, a TCP connection over 127.0.0.1. The
 * client first sends GSO_WARMUP bytes of 16 KiB records (so that the receive window opens past
 * 128 KiB and TCP builds 64 KiB packets), then in one write 3 full 16 KiB records, one more
 * filling the packet, and a close_notify. A packet socket on lo reports the size of the packet
 * that carried the alert. Writes that size to out_fd; exits 0 on success.
 */
static int gso_child(int prog_fd, int out_fd)
{
	static __u8 buf[70000];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(GSO_PORT),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int ls, cs, ss, ps, one = 1, err;
	size_t n = 0, total = 65000, sent = 0;
	__u32 found = 0;

	if (unshare(CLONE_NEWNET) || set_lo_up())
		return 10;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return 11;
	if (bpf_tc_attach(&hook, &opts))
		return 12;
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	ls = socket(AF_INET, SOCK_STREAM, 0);
	cs = socket(AF_INET, SOCK_STREAM, 0);
	if (ps < 0 || ls < 0 || cs < 0)
		return 13;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (void *)&a, sizeof(a)) || listen(ls, 1) || connect(cs, (void *)&a, sizeof(a)))
		return 14;
	ss = accept(ls, NULL, NULL);
	if (ss < 0)
		return 15;

	/* Warm-up: whole records, read by the server, acknowledged by an echo byte. */
	while (sent < GSO_WARMUP) {
		n = rec(buf, 0, 23, 0x0303, 16384);
		if (write_all(cs, buf, n) || read_n(ss, n))
			return 16;
		sent += n;
	}
	usleep(100000);
	/* Drain the capture so far. */
	while (recv(ps, buf, sizeof(buf), MSG_TRUNC) > 0)
		;

	n = 0;
	for (int i = 0; i < 3; i++)
		n = rec(buf, n, 23, 0x0303, 16384);
	n = rec(buf, n, 23, 0x0303, total - n - 5 - 7);
	n = alert(buf, n, 0x0303, 1, 0);
	if (write_all(cs, buf, n) || read_n(ss, n))
		return 17;
	usleep(100000);

	/* The outgoing packet whose payload ends with the alert: its payload size. */
	for (;;) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		static __u8 cap_store[70000 + 2] __attribute__((aligned(8)));
		__u8 *const cap = cap_store + 2; /* IP header aligned, as with pkt */
		ssize_t r = recvfrom(ps, cap, sizeof(cap_store) - 2, MSG_TRUNC, (void *)&sll, &sl);
		struct iphdr *ip = (struct iphdr *)(cap + ETH_HLEN);
		struct tcphdr *th;
		size_t off, plen;

		if (r <= 0)
			break;
		if (sll.sll_pkttype != PACKET_OUTGOING || r > (ssize_t)sizeof(cap_store) - 2 ||
		    r < ETH_HLEN + 40 || ip->protocol != IPPROTO_TCP)
			continue;
		th = (struct tcphdr *)((__u8 *)ip + ip->ihl * 4);
		if (th->dest != htons(GSO_PORT))
			continue;
		off = ETH_HLEN + ip->ihl * 4 + th->doff * 4;
		plen = r - off;
		if (plen >= 7 && !memcmp(cap + r - 7, buf + n - 7, 7) && plen > found)
			found = plen;
	}
	if (write(out_fd, &found, sizeof(found)) != sizeof(found))
		return 18;
	return 0;
}

static void t_gso(void)
{
	const char *name = "gso_64k_egress_alert_at_end";
	int p[2], st;
	__u32 size = 0;
	pid_t pid;

	if (pipe(p)) {
		FAILF(name, "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	reset_events();
	pid = fork();
	if (pid == 0)
		_exit(gso_child(prog_fd, p[1]));
	close(p[1]);
	if (read(p[0], &size, sizeof(size)) != sizeof(size))
		size = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	if (!CHECK_EQ(name, 0, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)))
		return;
	ring_buffer__consume(rb);
	/* Only our alert: the warm-up is application data, the server sends nothing TLS. */
	if (!CHECK_EQ(name, 1, ngot) || !CHECK_EQ(name, AT_DIR_SENT, got[0].direction) ||
	    !CHECK_EQ(name, GSO_PORT, got[0].dport) || !CHECK_EQ(name, 1, got[0].level) ||
	    !CHECK_EQ(name, 0, got[0].code) || !CHECK_EQ(name, 2, got[0].length))
		return;
	/* The alert came in one packet of (nearly) 64 KiB: the size the packet socket saw. */
	if (!CHECK_EQ(name, 65000, size))
		return;
	printf("     (alert at the end of one %u-byte TCP payload)\n", size);
	PASS(name);
}

/*
 * The one program on both hooks of lo, as the tracer attaches it: a plaintext alert a client
 * writes over 127.0.0.1 crosses egress and then ingress as the same packet. Exactly two events
 * must come of it: sent (egress, the skb has no input interface yet), then received (ingress, lo
 * is its input interface), each with the client's port as source. Child: new netns, lo up, both
 * hooks, the connection; exits 0 on success.
 */
#define LO_PORT 44310

static int lo_child(int prog_fd)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(LO_PORT),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, in, .ifindex = 1, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, out, .ifindex = 1, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, oi, .prog_fd = prog_fd);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, oo, .prog_fd = prog_fd);
	static const __u8 rec[7] = {21, 3, 3, 0, 2, 2, 40}; /* fatal bad_certificate */
	__u8 buf[sizeof(rec)];
	int ls, cs, ss, one = 1, err;

	if (unshare(CLONE_NEWNET) || set_lo_up())
		return 10;
	err = bpf_tc_hook_create(&in);
	if (err && err != -EEXIST)
		return 11;
	if (bpf_tc_attach(&in, &oi) || bpf_tc_attach(&out, &oo))
		return 12;
	ls = socket(AF_INET, SOCK_STREAM, 0);
	cs = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || cs < 0)
		return 13;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (void *)&a, sizeof(a)) || listen(ls, 1) || connect(cs, (void *)&a, sizeof(a)))
		return 14;
	ss = accept(ls, NULL, NULL);
	if (ss < 0 || write_all(cs, rec, sizeof(rec)) || read(ss, buf, sizeof(buf)) != sizeof(buf))
		return 15;
	return 0;
}

static void t_lo_both_hooks(void)
{
	const char *name = "lo_one_program_both_hooks_sent_and_received";
	int st, sent = -1, recv = -1;
	pid_t pid;

	fflush(stdout);
	reset_events();
	pid = fork();
	if (pid == 0)
		_exit(lo_child(prog_fd));
	waitpid(pid, &st, 0);
	if (!CHECK_EQ(name, 0, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)))
		return;
	ring_buffer__consume(rb);
	for (int i = 0; i < ngot; i++) {
		if (got[i].dport != LO_PORT || got[i].code != 40)
			continue;
		if (got[i].direction == AT_DIR_SENT)
			sent = sent < 0 ? i : 99;
		else if (got[i].direction == AT_DIR_RECEIVED)
			recv = recv < 0 ? i : 99;
	}
	if (!CHECK_EQ(name, 2, ngot) || sent < 0 || recv < 0 || sent == 99 || recv == 99) {
		if (ngot == 2)
			FAILF(name, "expected one sent and one received event, got directions %d and %d",
			      got[0].direction, got[1].direction);
		return;
	}
	/* Egress sees the packet first: the one reported sent must be the earlier. */
	if (CHECK_EQ(name, got[sent].sport, got[recv].sport) && CHECK_EQ(name, 2, got[sent].level) &&
	    CHECK_EQ(name, 1, got[sent].ifindex) && CHECK_EQ(name, 1, got[recv].ifindex) &&
	    CHECK_EQ(name, 1, got[sent].ts_ns < got[recv].ts_ns))
		PASS(name);
}

int main(void)
{
	int err;

	if (!tl_need_root("tc"))
		return 0;
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
		err = -errno;
		FAILF("tc_ringbuf", "ring_buffer__new: %s", strerror(-err));
		goto out;
	}

	t_headers();
	t_l3();
	t_records();
	t_encrypted();
	t_mid_segment();
	t_truncated();
	t_resync();
	t_order();
	t_no_event();
	t_garbage();
	t_direction_and_flags();
	t_many_records();
	t_lost();
	t_gso();
	t_lo_both_hooks();
	if (CHECK_EQ("no_lost_events", 0, skel->bss->lost))
		PASS("no_lost_events");
out:
	ring_buffer__free(rb);
	tc_bpf__destroy(skel);
	return tl_failed;
}
