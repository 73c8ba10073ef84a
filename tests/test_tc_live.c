// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The TC classifier (bpf/tc.bpf.c) on real traffic over lo in a private network namespace: a
 * 64 KiB GSO packet on egress, and an alert through the one program attached to both hooks, as
 * the tracer does (tc_pkt.h: the program, the ring buffer, the checks of test_tc.c).
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
	if (!tl_need_root("tc_live"))
		return 0;
	if (tc_pkt_open())
		return 1;
	t_gso();
	t_lo_both_hooks();
	return tc_pkt_close();
}
