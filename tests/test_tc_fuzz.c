// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Differential fuzzing of the TC classifier: seeded sequences of frames (tests/fuzz/tcgen.c) run
 * through the real program with bpf_prog_test_run_opts() and through a reference model written
 * from the RFCs (tests/fuzz/tcref.c); every frame's events must be the same, field by field, in
 * the same order. A disagreement prints the frames of its sequence in hex, what each side reported,
 * and the line to replay it.
 *
 * FUZZ_SECONDS (default 50), FUZZ_SEED (default: random, printed), FUZZ_SEQ=N (replay only
 * sequence N of the seed), FUZZ_VERBOSE=1 (hex of every frame of a replayed sequence).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "tc.h"
#include "tc.skel.h"
#include "tc_run.h"
#include "testlib.h"
#include "fuzz/tcgen.h"
#include "fuzz/tcref.h"

#define MAX_GOT 2048
static struct at_event got[MAX_GOT];
static int ngot;
static struct tc_bpf *skel;
static struct ring_buffer *rb;
static struct ref_model model;
static struct gen_pkt pkts[GEN_MAX_PKTS];

static struct {
	uint64_t packets, refused, sequences, events, plain, encrypted, multi_event, kinds[GK_N];
	uint64_t possible_miss;
	uint64_t parse[REF_NRES];
} st;

static const char *const parse_name[REF_NRES] = {"tcp", "not-ip", "bad-ip", "not-tcp", "bad-tcp"};

static int on_event(void *ctx, void *data, size_t size)
{
	if (ngot < MAX_GOT && size >= sizeof(struct at_event))
		memcpy(&got[ngot++], data, sizeof(struct at_event));
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void hex(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x%s", b[i], i + 1 == n ? "\n" : (i % 32 == 31 ? "\n        " : ""));
	if (!n)
		printf("\n");
}

static void print_ref(const struct ref_ev *e)
{
	char a[64], b[64];
	int i, alen = e->ipv == 6 ? 16 : 4;

	for (i = 0; i < alen; i++) {
		sprintf(a + 2 * i, "%02x", e->saddr[i]);
		sprintf(b + 2 * i, "%02x", e->daddr[i]);
	}
	printf("    dir %u ipv%u ver 0x%04x len %u %s level %u code %u %s:%u > %s:%u\n", e->dir,
	       e->ipv, e->version, e->length, e->encrypted ? "encrypted" : "plain", e->level,
	       e->code, a, e->sport, b, e->dport);
}

/* The BPF event as the model would have written it; -1 if a field has no model counterpart
 * (source, hook, owner, interface) with the wrong value. */
static int to_ref(const struct at_event *e, struct ref_ev *r)
{
	memset(r, 0, sizeof(*r));
	r->dir = e->direction;
	r->ipv = e->ip_version;
	r->encrypted = !!(e->flags & AT_F_ENCRYPTED);
	r->level = e->level;
	r->code = e->code;
	r->version = e->version;
	r->length = e->length;
	r->sport = e->sport;
	r->dport = e->dport;
	memcpy(r->saddr, e->saddr, 16);
	memcpy(r->daddr, e->daddr, 16);
	if (e->source != AT_SRC_WIRE || e->hook || e->pid || e->ifindex != 1 || !e->ts_ns ||
	    !(e->flags & AT_F_HAS_ADDR) || (e->flags & ~(AT_F_HAS_ADDR | AT_F_ENCRYPTED)))
		return -1;
	return 0;
}

static void report(uint64_t seed, uint64_t seq, int upto, const char *why)
{
	struct ref_ev r;
	int i;

	printf("FAIL tc_fuzz_differential: %s (replay: FUZZ_SEED=%" PRIu64 " FUZZ_SEQ=%" PRIu64
	       " %s)\n",
	       why, seed, seq, ".output/tests/test_tc_fuzz");
	for (i = 0; i <= upto; i++) {
		printf("  frame %d (%s, %zu bytes):%s\n        ", i,
		       pkts[i].dir == AT_DIR_SENT ? "egress" : "ingress", pkts[i].len,
		       i == upto ? " <- this one" : "");
		hex(pkts[i].b, pkts[i].len);
	}
	printf("  model: %d event(s)\n", model.nev);
	for (i = 0; i < model.nev; i++)
		print_ref(&model.ev[i]);
	printf("  classifier: %d event(s)\n", ngot);
	for (i = 0; i < ngot; i++) {
		if (to_ref(&got[i], &r))
			printf("    (source %u hook %u pid %u ifindex %u flags 0x%x ts %llu)\n",
			       got[i].source, got[i].hook, got[i].pid, got[i].ifindex, got[i].flags,
			       (unsigned long long)got[i].ts_ns);
		print_ref(&r);
	}
}

/* Forget every flow, in the map and (every so often, a 1 MiB write) in the counting filter. */
static void clear_map(int fd)
{
	struct at_flow_key k, next;

	while (bpf_map_get_next_key(fd, NULL, &next) == 0) {
		k = next;
		bpf_map_delete_elem(fd, &k);
	}
}

static void clear_flows(uint64_t seq)
{
	clear_map(bpf_map__fd(skel->maps.flows));
	clear_map(bpf_map__fd(skel->maps.gaps));
	clear_map(bpf_map__fd(skel->maps.finned));
	if (seq % 64 == 0)
		memset(skel->bss->tracked, 0, sizeof(skel->bss->tracked));
}

/*
 * test_run (kernel 6.18) refuses an IPv4 frame shorter than Ethernet + 20 bytes and an IPv6 one
 * shorter than Ethernet + 40 with EINVAL (measured): such frames cannot be run, only counted.
 */
static int refused_by_test_run(const struct gen_pkt *p)
{
	unsigned type = p->len >= 14 ? p->b[12] << 8 | p->b[13] : 0;

	return (type == 0x0800 && p->len < 34) || (type == 0x86dd && p->len < 54);
}

/* One sequence: 0 when both sides agreed on every frame. */
static int run_sequence(uint64_t seed, uint64_t seq, int verbose, int quiet)
{
	struct rng r = {seed ^ (seq * 0xd1b54a32d192ed03ULL)};
	int n = gen_sequence(&r, pkts, GEN_MAX_PKTS), i, j,
	    fd = bpf_program__fd(skel->progs.at_tc_both);

	__u64 miss0;

	clear_flows(seq);
	ref_reset(&model);
	miss0 = skel->bss->possible_miss;
	st.sequences++;
	for (i = 0; i < n; i++) {
		enum ref_parse_res pr;
		__u32 retval = 0;
		int err;

		ngot = 0;
		err = tc_run(fd, pkts[i].dir, pkts[i].b, pkts[i].len, 1, &retval, NULL);
		ring_buffer__consume(rb);
		pr = ref_packet(&model, pkts[i].b, pkts[i].len, pkts[i].dir);
		st.packets++;
		st.parse[pr]++;
		for (j = 0; j < GK_N; j++)
			if (pkts[i].kinds & (1u << j))
				st.kinds[j]++;
		if (verbose) {
			printf("  frame %d (%s): ", i,
			       pkts[i].dir == AT_DIR_SENT ? "egress" : "ingress");
			hex(pkts[i].b, pkts[i].len);
		}
		if (err == -EINVAL && refused_by_test_run(&pkts[i]) && !model.nev) {
			st.refused++; /* the model read nothing from it either */
			continue;
		}
		if (err || retval != (__u32)TC_ACT_UNSPEC) {
			char why[128];

			snprintf(why, sizeof(why),
				 "test_run: err %d, retval 0x%x (expected 0, 0x%x)", err, retval,
				 (__u32)TC_ACT_UNSPEC);
			if (!quiet)
				report(seed, seq, i, why);
			return -1;
		}
		if (ngot != model.nev) {
			if (!quiet)
				report(seed, seq, i, "event counts differ");
			return -1;
		}
		for (j = 0; j < ngot; j++) {
			struct ref_ev e;

			if (to_ref(&got[j], &e) || memcmp(&e, &model.ev[j], sizeof(e))) {
				if (!quiet)
					report(seed, seq, i, "events differ");
				return -1;
			}
			st.events++;
			if (e.encrypted)
				st.encrypted++;
			else
				st.plain++;
		}
		if (ngot > 1)
			st.multi_event++;
		/* The segments neither could read: the same count, frame by frame. */
		if (skel->bss->possible_miss - miss0 != model.possible_miss) {
			if (!quiet)
				report(seed, seq, i, "possible-miss counts differ");
			return -1;
		}
	}
	st.possible_miss += model.possible_miss;
	return 0;
}

/*
 * The comparison must be able to fail: a model with one deliberate mistake has to disagree with
 * the classifier within 60000 sequences, a few seconds (the counts above are not updated
 * meanwhile).
 */
static void check_quirks(uint64_t seed)
{
	static const char *const names[REF_NQUIRKS] = {NULL, "tc_fuzz_detects_model_without_qinq",
						       "tc_fuzz_detects_model_max_len_off_by_one",
						       "tc_fuzz_detects_model_without_carry",
						       "tc_fuzz_detects_model_reading_a_fin_again",
						       "tc_fuzz_detects_model_without_gaps"};
	typeof(st) saved = st;
	int q;

	for (q = 1; q < REF_NQUIRKS; q++) {
		uint64_t seq, found = 0;

		model.quirk = q;
		for (seq = 0; seq < 60000 && !found; seq++)
			if (run_sequence(seed + q, seq, 0, 1))
				found = seq + 1;
		if (found) {
			printf("tc_fuzz: the wrong model (%s) disagreed at sequence %" PRIu64 "\n",
			       names[q] + 8, found - 1);
			PASS(names[q]);
		} else
			FAILF(names[q], "no disagreement in 60000 sequences with a wrong model");
	}
	model.quirk = REF_QUIRK_NONE;
	st = saved;
}

int main(void)
{
	const char *s_seed = getenv("FUZZ_SEED"), *s_secs = getenv("FUZZ_SECONDS"),
		   *s_seq = getenv("FUZZ_SEQ");
	double secs = s_secs ? atof(s_secs) : 50, t0, el;
	uint64_t seed, seq, failures = 0;
	int i;

	if (!tl_need_root("tc_fuzz"))
		return 0;
	if (s_seed)
		seed = strtoull(s_seed, NULL, 0);
	else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL);
	printf("tc_fuzz: seed %" PRIu64 " (FUZZ_SEED=%" PRIu64 " replays this run)\n", seed, seed);
	skel = tc_bpf__open();
	if (skel) {
		skel->rodata->at_filt.stream = 1;
		if (tc_bpf__load(skel)) {
			tc_bpf__destroy(skel);
			skel = NULL;
		}
	}
	if (!skel) {
		FAILF("tc_fuzz_load", "tc_bpf__open_and_load: %s", strerror(errno));
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		FAILF("tc_fuzz_ringbuf", "ring_buffer__new: %s", strerror(errno));
		tc_bpf__destroy(skel);
		return 1;
	}
	t0 = now();
	if (s_seq) {
		seq = strtoull(s_seq, NULL, 0);
		failures = !!run_sequence(seed, seq, !!getenv("FUZZ_VERBOSE"), 0);
	} else {
		for (seq = 0; now() - t0 < secs && failures < 3; seq++)
			failures += !!run_sequence(seed, seq, 0, 0);
	}
	el = now() - t0;
	printf("tc_fuzz: %" PRIu64 " frames in %" PRIu64 " sequences, %.1f s (%.0f frames/s); "
	       "events %" PRIu64 " (plaintext %" PRIu64 ", encrypted %" PRIu64
	       "), frames with several %" PRIu64 "\n",
	       st.packets, st.sequences, el, st.packets / (el > 0 ? el : 1), st.events, st.plain,
	       st.encrypted, st.multi_event);
	printf("tc_fuzz: %" PRIu64 " frames refused by test_run (short IPv4/IPv6 headers); %" PRIu64
	       " segments neither side could read (possible misses, counted alike)\n",
	       st.refused, st.possible_miss);
	printf("tc_fuzz: parsed as");
	for (i = 0; i < REF_NRES; i++)
		printf(" %s %" PRIu64, parse_name[i], st.parse[i]);
	printf("\ntc_fuzz: kinds");
	for (i = 0; i < GK_N; i++)
		printf(" %s %" PRIu64, gen_kind_name[i], st.kinds[i]);
	printf("\n");
	if (!failures)
		PASS("tc_fuzz_differential");
	if (!s_seq) {
		/* A run that made no alerts, or none of a kind, proved nothing about them. */
		if (CHECK_EQ("tc_fuzz_coverage", 1,
			     st.plain > 100 && st.encrypted > 100 && st.multi_event > 10 &&
				 st.kinds[GK_GAP] && st.kinds[GK_OVERLAP] && st.kinds[GK_IP6EXT] &&
				 st.kinds[GK_VLAN] && st.kinds[GK_REORDER] && st.possible_miss))
			PASS("tc_fuzz_coverage");
	}
	if (!s_seq)
		check_quirks(seed);
	if (CHECK_EQ("tc_fuzz_no_lost_events", 0, skel->bss->lost))
		PASS("tc_fuzz_no_lost_events");
	ring_buffer__free(rb);
	tc_bpf__destroy(skel);
	return tl_failed;
}
