// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cost per packet of at_tc_both (run as the ingress hook) against a no-op TC program (r0 = -1;
 * exit), both run by bpf_prog_test_run_opts() with the same packet and repeat count, side by side
 * in every round; the figures are medians over the rounds. test_run itself costs a few tens of ns
 * per repeat, the same for both programs: the ratio is what the classifier adds to the cheapest
 * possible filter.
 *
 * Every TLS packet but one carries FIN and its flow has no state, so nothing is left behind and
 * each repeat is the same flow first seen mid-stream: the counting filter says "no state" (no
 * hash-map lookup), the first two record headers pass the resync test, the records are walked,
 * and with FIN no state is created. The "tracked, mid-record" case is a flow in sync instead (a
 * SYN and a first segment set it up before the rounds): a segment inside a 16000-byte record, the
 * most common TLS segment of a bulk transfer, pays one LRU hash lookup and leaves. The non-TLS
 * packet leaves after one header test and the filter; the pure ACK right after parsing. The last
 * case is the worst case per byte: every record as short as TLS allows.
 *
 * The figures include test_run's own cost per repeat (the no-op's time). On CPUs with return
 * thunk mitigations (SRSO "safe RET") every call and its return cost 6-12 ns: calls dominate.
 * test_run gives linear packets only: a GSO packet's payload (page fragments) is read with
 * bpf_skb_load_bytes(), a helper call per record header, which no case here shows.
 *
 * Usage: bench_tc [ROUNDS [REPEAT]]   (default 7 rounds of 1000000 repeats)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "tc.skel.h"
#include "tc_run.h"

#define __packed __attribute__((packed))

struct tls_hdr {
	__u8 type;
	__be16 version;
	__be16 length;
} __packed;

struct pkt_v4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
	__u8 payload[1448];
} __packed;

struct bcase {
	const char *name;
	const char *what;
	struct pkt_v4 pkt;
	size_t len;
	bool alert;	/* writes one event per repeat */
	int npre;	/* packets of the same flow run once before the rounds */
	struct pkt_v4 pre[2];
	size_t prelen[2];
};

static size_t rec(__u8 *b, size_t at, __u8 type, __u16 len)
{
	struct tls_hdr h = {type, htons(0x0303), htons(len)};

	memcpy(b + at, &h, sizeof(h));
	memset(b + at + sizeof(h), 0xa5, len);
	return at + sizeof(h) + len;
}

static void mkpkt(struct bcase *c, __u16 sport, bool fin, const void *pl, size_t plen)
{
	struct pkt_v4 *p = &c->pkt;

	memset(p, 0, sizeof(*p));
	p->eth.h_proto = htons(ETH_P_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.tot_len = htons(sizeof(p->ip) + sizeof(p->tcp) + plen);
	p->ip.saddr = htonl(0x0a000001);
	p->ip.daddr = htonl(0x0a000002);
	p->tcp.source = htons(sport);
	p->tcp.dest = htons(443);
	p->tcp.seq = htonl(1000);
	p->tcp.ack_seq = htonl(1);
	p->tcp.doff = 5;
	p->tcp.ack = 1;
	p->tcp.psh = 1;
	/* "fin": a segment that leaves no state behind, so every repeat reads it again. A FIN
	 * segment did until the classifier kept where FIN ended a flow (its repeat is read once);
	 * a SYN carrying the bytes starts the flow over each time instead. */
	p->tcp.syn = fin;
	p->tcp.window = htons(512);
	memcpy(p->payload, pl, plen);
	c->len = offsetof(struct pkt_v4, payload) + plen;
}

/* A UDP datagram to port 443 (or 53): the TCP header's place holds the UDP header. */
static void mkudp(struct bcase *c, __u16 dport, const void *pl, size_t plen)
{
	struct pkt_v4 *p = &c->pkt;
	struct {
		__be16 source, dest, len, check;
	} uh = {htons(40000), htons(dport), htons(8 + plen), 0};

	mkpkt(c, 40000, false, NULL, 0);
	p->ip.protocol = IPPROTO_UDP;
	p->ip.tot_len = htons(sizeof(p->ip) + sizeof(uh) + plen);
	memcpy(&p->tcp, &uh, sizeof(uh));
	memcpy((__u8 *)&p->tcp + sizeof(uh), pl, plen);
	c->len = offsetof(struct pkt_v4, tcp) + sizeof(uh) + plen;
}

/* A packet of c's flow, run once before the rounds to set the flow's state up. */
static void mkpre(struct bcase *c, __u32 seq, bool syn, const void *pl, size_t plen)
{
	struct bcase t;

	mkpkt(&t, ntohs(c->pkt.tcp.source), false, pl, plen);
	t.pkt.tcp.seq = htonl(seq);
	t.pkt.tcp.syn = syn;
	c->pre[c->npre] = t.pkt;
	c->prelen[c->npre++] = t.len;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int on_event(void *ctx, void *data, size_t size)
{
	(*(long *)ctx)++;
	return 0;
}

static int run(int fd, const struct bcase *c, int repeat, __u32 *ns)
{
	__u32 retval = 0;
	int err = tc_run(fd, AT_DIR_RECEIVED, &c->pkt, c->len, repeat, &retval, ns);

	if (err)
		return err;
	if (retval != (__u32)TC_ACT_UNSPEC)
		return -EPROTO;
	return 0;
}

int main(int argc, char **argv)
{
	static const char http[] = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
				   "User-Agent: bench\r\nAccept: */*\r\n\r\n";
	struct bpf_insn noop[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int rounds = argc > 1 ? atoi(argv[1]) : 7, repeat = argc > 2 ? atoi(argv[2]) : 1000000;
	struct ring_buffer *rb = NULL;
	struct tc_bpf *skel = NULL;
	static struct bcase cases[10];
	struct tls_hdr big;
	__u8 pl[1448];
	int ncases = 0, noop_fd = -1, fd, err = 1, i, r;
	long nev = 0;
	size_t n;

	if (rounds < 1 || repeat < 1) {
		fprintf(stderr, "usage: bench_tc [ROUNDS [REPEAT]]: both positive integers\n");
		return 2;
	}
	if (geteuid() != 0) {
		printf("SKIP bench_tc: needs root (CAP_BPF): run as root\n");
		return 0;
	}

	/* The cases. */
	cases[ncases] = (struct bcase){.name = "non-TLS TCP",
				       .what = "HTTP request, flow untracked: filter + 1 header test"};
	mkpkt(&cases[ncases++], 50001, false, http, sizeof(http) - 1);
	cases[ncases] = (struct bcase){.name = "TLS app data",
				       .what = "1 record of 1400 bytes: resync + walk"};
	n = rec(pl, 0, 23, 1400);
	mkpkt(&cases[ncases++], 50002, true, pl, n);
	cases[ncases] = (struct bcase){.name = "4 TLS records",
				       .what = "handshake, CCS, finished, app data: walk 4"};
	n = rec(pl, 0, 22, 100);
	n = rec(pl, n, 20, 1);
	n = rec(pl, n, 22, 40);
	n = rec(pl, n, 23, 600);
	mkpkt(&cases[ncases++], 50003, true, pl, n);
	cases[ncases] = (struct bcase){.name = "tracked, mid-rec",
				       .what = "flow in sync, inside a record: 1 LRU lookup"};
	memset(pl, 0xa5, sizeof(pl));
	mkpkt(&cases[ncases], 50007, false, pl, sizeof(pl));
	cases[ncases].pkt.tcp.seq = htonl(1000 + sizeof(pl));
	mkpre(&cases[ncases], 999, true, NULL, 0); /* the stream starts at 1000 */
	big = (struct tls_hdr){23, htons(0x0303), htons(16000)};
	memcpy(pl, &big, sizeof(big)); /* a record the first segment's 1448 bytes cut */
	mkpre(&cases[ncases++], 1000, false, pl, sizeof(pl));
	cases[ncases] = (struct bcase){.name = "plaintext alert", .alert = true,
				       .what = "close_notify: walk 1 record + 1 event"};
	n = rec(pl, 0, 21, 2);
	pl[5] = 1;
	pl[6] = 0;
	mkpkt(&cases[ncases++], 50004, true, pl, n);
	cases[ncases] = (struct bcase){.name = "pure ACK", .what = "no payload: leaves after parsing"};
	mkpkt(&cases[ncases++], 50005, false, NULL, 0);
	cases[ncases] = (struct bcase){.name = "241 tiny records",
				       .what = "1448 bytes of 6-byte records: the worst case"};
	for (n = 0; n + 6 <= sizeof(pl);)
		n = rec(pl, n, 23, 1);
	mkpkt(&cases[ncases++], 50006, true, pl, n);

	noop_fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "at_noop", "GPL", noop, 2, NULL);
	if (noop_fd < 0) {
		fprintf(stderr, "bench_tc: loading the no-op program failed: %s\n", strerror(errno));
		goto cleanup;
	}
	skel = tc_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench_tc: opening the TC object failed: %s\n", strerror(errno));
		goto cleanup;
	}
	cases[ncases] = (struct bcase){.name = "UDP DNS query",
				       .what = "not QUIC: leaves after the first payload byte"};
	mkudp(&cases[ncases++], 53, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
		"\x07example\x03com\x00\x00\x01\x00\x01", 29);
	cases[ncases] = (struct bcase){.name = "QUIC short hdr",
				       .what = "1-RTT packet, 1200 bytes: leaves after one byte"};
	memset(pl, 0x5a, sizeof(pl));
	pl[0] = 0x43;
	mkudp(&cases[ncases++], 443, pl, 1200);
	cases[ncases] = (struct bcase){.name = "QUIC Initial",
				       .what = "v1, 1200 bytes: past the rate limit (a flood)"};
	pl[0] = 0xc3;
	memcpy(pl + 1, "\x00\x00\x00\x01\x08", 5);
	mkudp(&cases[ncases++], 443, pl, 1200);
	/* Room for every event of one run of the alert case: consumed after each run. */
	bpf_map__set_max_entries(skel->maps.events, 1u << 27);
	skel->rodata->at_filt.stream = 1;
	if (tc_bpf__load(skel)) {
		fprintf(stderr, "bench_tc: loading the TC object failed: %s\n", strerror(errno));
		goto cleanup;
	}
	fd = bpf_program__fd(skel->progs.at_tc_both);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &nev, NULL);
	if (!rb) {
		fprintf(stderr, "bench_tc: ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}

	for (i = 0; i < ncases; i++) {
		for (r = 0; r < cases[i].npre; r++) {
			struct bcase pre = cases[i];
			__u32 ns;

			pre.pkt = cases[i].pre[r];
			pre.len = cases[i].prelen[r];
			if (run(fd, &pre, 1, &ns)) {
				fprintf(stderr, "bench_tc: setting up %s failed\n", cases[i].name);
				goto cleanup;
			}
		}
	}
	printf("bench_tc: at_tc_both (ingress) vs no-op, %d rounds x %d repeats, medians\n", rounds,
	       repeat);
	printf("%-16s %10s %10s %7s  %s\n", "case", "noop ns", "ours ns", "ratio", "what");
	for (i = 0; i < ncases; i++) {
		__u32 *a = calloc(rounds, sizeof(*a)), *b = calloc(rounds, sizeof(*b));
		int rep = cases[i].alert && repeat > 1000000 ? 1000000 : repeat;

		if (!a || !b) {
			free(a);
			free(b);
			goto cleanup;
		}
		for (r = 0; r < rounds; r++) {
			/* Alternate which program runs first. */
			int e1 = run(r & 1 ? fd : noop_fd, &cases[i], rep, r & 1 ? &b[r] : &a[r]);
			int e2 = run(r & 1 ? noop_fd : fd, &cases[i], rep, r & 1 ? &a[r] : &b[r]);

			ring_buffer__consume(rb);
			if (e1 || e2) {
				fprintf(stderr, "bench_tc: test run failed: %s\n",
					strerror(-(e1 ? e1 : e2)));
				free(a);
				free(b);
				goto cleanup;
			}
		}
		qsort(a, rounds, sizeof(*a), cmp_u32);
		qsort(b, rounds, sizeof(*b), cmp_u32);
		printf("%-16s %10u %10u %6.2fx  %s\n", cases[i].name, a[rounds / 2], b[rounds / 2],
		       a[rounds / 2] ? (double)b[rounds / 2] / a[rounds / 2] : 0.0, cases[i].what);
		free(a);
		free(b);
	}
	printf("events consumed %ld, lost %llu\n", nev, (unsigned long long)skel->bss->lost);
	err = 0;
cleanup:
	ring_buffer__free(rb);
	tc_bpf__destroy(skel);
	if (noop_fd >= 0)
		close(noop_fd);
	return err;
}
