// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The TC classifier (bpf/tc.bpf.c) on crafted packets, in the manner of the kernel's BPF
 * selftests: each packet is built from __packed header structs, run through the real program
 * with bpf_prog_test_run_opts(), and the events it wrote to the ring buffer are compared field by
 * field with what the packet holds. The flow map persists across runs, so every case uses its
 * own ports. Real traffic over lo is test_tc_live.c's.
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

#include "tc_pkt.h"

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

int main(void)
{
	if (!tl_need_root("tc"))
		return 0;
	if (tc_pkt_open())
		return 1;
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
	return tc_pkt_close();
}
