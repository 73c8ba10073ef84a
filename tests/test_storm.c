// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An alert storm through the real TC classifier in histogram mode (what -H loads: at_filt.hist = 1,
 * stream = 0): every alert must be counted exactly in the `hist` map, none lost.
 *
 * The packet is a SYN carrying one plaintext alert record (TCP Fast Open's shape): each repeat of
 * bpf_prog_test_run_opts() starts the flow again at the SYN and reads the alert, so every repeat
 * is exactly one alert (bench/bench_tc.c's "plaintext alert" case). A FIN segment would not do:
 * the classifier keeps where a FIN ended its flow and reads a repeat of it once. Cases:
 *  - 100000 repeats on one CPU: the key's count is exactly 100000;
 *  - one thread per CPU, 100000 repeats each, on a new key: the threads race to create the key
 *    (BPF_NOEXIST) and then add to it atomically: exactly 100000 x threads;
 *  - the map filled past AT_HIST_MAX distinct keys (one alert each): every alert is either
 *    counted or counted in hist_lost, never dropped silently.
 * The rates (alerts/s through the classifier) are printed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#include "testlib.h"

#define __packed __attribute__((packed))
#define REPEAT 100000

struct alert_pkt {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
	__u8 rec[7]; /* RFC 5246 6.2.1 header + RFC 8446 6 Alert: 15 03 03 00 02 LEVEL DESC */
} __packed;

static void mkpkt(struct alert_pkt *p, __u16 sport, __u8 level, __u8 desc)
{
	const __u8 rec[7] = {21, 3, 3, 0, 2, level, desc};

	memset(p, 0, sizeof(*p));
	p->eth.h_proto = htons(ETH_P_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.tot_len = htons(sizeof(p->ip) + sizeof(p->tcp) + sizeof(p->rec));
	p->ip.saddr = htonl(0x0a000001);
	p->ip.daddr = htonl(0x0a000002);
	p->tcp.source = htons(sport);
	p->tcp.dest = htons(443);
	p->tcp.seq = htonl(1000);
	p->tcp.ack_seq = htonl(1);
	p->tcp.doff = 5;
	p->tcp.ack = 1;
	p->tcp.psh = 1;
	p->tcp.syn = 1;
	p->tcp.window = htons(512);
	memcpy(p->rec, rec, sizeof(rec));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The count of the wire/received key with this level and code (no owner: pid 0, comm ""). */
static long long hist_count(int fd, __u8 level, __u8 code)
{
	struct at_hist_key k = {
	    .source = AT_SRC_WIRE, .direction = AT_DIR_RECEIVED, .level = level, .code = code};
	__u64 v;

	if (bpf_map_lookup_elem(fd, &k, &v))
		return -1;
	return v;
}

static long long hist_sum(int fd, long *keys)
{
	struct at_hist_key k, next;
	long long sum = 0;
	void *prev = NULL;
	__u64 v;

	*keys = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &v)) {
			sum += v;
			(*keys)++;
		}
	}
	return sum;
}

struct runner {
	int prog_fd, cpu, err;
	struct alert_pkt pkt;
	__u32 duration; /* mean ns per repeat, as test_run measures it */
	pthread_t th;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	cpu_set_t set;
	__u32 retval = 0;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	r->err = tc_run(r->prog_fd, AT_DIR_RECEIVED, &r->pkt, sizeof(r->pkt), REPEAT, &retval,
			&r->duration);
	if (!r->err && retval != (__u32)TC_ACT_UNSPEC)
		r->err = -EPROTO;
	return NULL;
}

int main(void)
{
	struct tc_bpf *skel = NULL;
	struct runner one = {}, *rs = NULL;
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), prog_fd, hist_fd, i, err;
	long long total = 0, expect_counted, sum;
	double t0, t1;
	long keys;

	if (!tl_need_root("tc_storm"))
		return 0;
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > 64)
		ncpu = 64;
	skel = tc_bpf__open();
	if (!skel) {
		FAILF("tc_storm_load", "opening the TC object: %s", strerror(errno));
		return 1;
	}
	/* What the loader sets for -H: count in the kernel, stream nothing. */
	skel->rodata->at_filt.hist = 1;
	skel->rodata->at_filt.stream = 0;
	err = tc_bpf__load(skel);
	if (err) {
		FAILF("tc_storm_load", "loading the TC object: %s", strerror(-err));
		goto cleanup;
	}
	prog_fd = bpf_program__fd(skel->progs.at_tc_both);
	hist_fd = bpf_map__fd(skel->maps.hist);

	/* 1. One CPU. */
	one.prog_fd = prog_fd;
	one.cpu = sched_getcpu() < 0 ? 0 : sched_getcpu();
	mkpkt(&one.pkt, 50001, 2, 48);
	t0 = now_s();
	run_thread(&one);
	t1 = now_s();
	if (one.err) {
		FAILF("tc_storm_one_cpu", "test run failed: %s", strerror(-one.err));
		goto cleanup;
	}
	if (CHECK_EQ("tc_storm_one_cpu_exact", REPEAT, hist_count(hist_fd, 2, 48)))
		PASS("tc_storm_one_cpu_exact");
	printf("   rate, one CPU: %.0f alerts/s (%u ns per alert in test_run, %.3f s wall)\n",
	       one.duration ? 1e9 / one.duration : 0.0, one.duration, t1 - t0);
	total += REPEAT;

	/* 2. Every CPU at once on a new key: unknown_ca -> protocol_version. */
	rs = calloc(ncpu, sizeof(*rs));
	if (!rs)
		goto cleanup;
	t0 = now_s();
	for (i = 0; i < ncpu; i++) {
		rs[i].prog_fd = prog_fd;
		rs[i].cpu = i;
		mkpkt(&rs[i].pkt, 51000 + i, 2, 70);
		if (pthread_create(&rs[i].th, NULL, run_thread, &rs[i])) {
			FAILF("tc_storm_all_cpus", "pthread_create failed");
			ncpu = i;
			break;
		}
	}
	for (i = 0; i < ncpu; i++)
		pthread_join(rs[i].th, NULL);
	t1 = now_s();
	for (i = 0; i < ncpu; i++)
		if (rs[i].err) {
			FAILF("tc_storm_all_cpus", "test run on CPU %d failed: %s", i,
			      strerror(-rs[i].err));
			goto cleanup;
		}
	if (CHECK_EQ("tc_storm_all_cpus_exact", (long long)REPEAT * ncpu,
		     hist_count(hist_fd, 2, 70)))
		printf("PASS tc_storm_all_cpus_exact: %d CPUs x %d\n", ncpu, REPEAT);
	printf("   rate, %d CPUs at once: %.0f alerts/s (%.3f s wall)\n", ncpu,
	       (double)REPEAT * ncpu / (t1 - t0), t1 - t0);
	total += (long long)REPEAT * ncpu;

	if (CHECK_EQ("tc_storm_hist_lost_zero", 0, skel->bss->hist_lost) &
	    CHECK_EQ("tc_storm_lost_zero", 0, skel->bss->lost))
		PASS("tc_storm_no_loss");
	sum = hist_sum(hist_fd, &keys);
	if (CHECK_EQ("tc_storm_map_total", total, sum) & CHECK_EQ("tc_storm_map_keys", 2, keys))
		PASS("tc_storm_map_holds_exactly_the_alerts");

	/*
	 * 3. Past the map's capacity: one alert on each of AT_HIST_MAX + 100 new keys (levels
	 * 3..255 x every code): each is counted in the map or in hist_lost.
	 */
	{
		struct alert_pkt p;
		int n = 0, want = AT_HIST_MAX + 100, lvl, code;

		for (lvl = 3; lvl < 256 && n < want; lvl++)
			for (code = 0; code < 256 && n < want; code++, n++) {
				mkpkt(&p, 52000, lvl, code);
				if (tc_run(prog_fd, AT_DIR_RECEIVED, &p, sizeof(p), 1, NULL, NULL)) {
					FAILF("tc_storm_map_full", "test run failed: %s",
					      strerror(errno));
					goto cleanup;
				}
			}
		sum = hist_sum(hist_fd, &keys);
		expect_counted = total + (AT_HIST_MAX - 2);
		if (CHECK_EQ("tc_storm_map_full_keys", AT_HIST_MAX, keys) &
		    CHECK_EQ("tc_storm_map_full_counted", expect_counted, sum) &
		    CHECK_EQ("tc_storm_map_full_hist_lost", want - (AT_HIST_MAX - 2),
			     skel->bss->hist_lost))
			printf("PASS tc_storm_map_full_every_alert_counted_or_reported: %d keys, "
			       "%llu in hist_lost\n",
			       AT_HIST_MAX, (unsigned long long)skel->bss->hist_lost);
	}
cleanup:
	free(rs);
	tc_bpf__destroy(skel);
	return tl_failed;
}
