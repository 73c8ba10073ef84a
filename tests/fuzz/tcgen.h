/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The differential fuzzer's generator: seeded sequences of Ethernet frames, the segments of one to
 * three TCP flows carrying TLS record streams, with the layouts, cuts and mishaps the wire sees
 * (VLAN tags, IPv4 options, IPv6 extension headers, TCP options, lost, repeated, reordered and
 * overlapping segments, SYN/FIN/RST, garbage) and random mutations of the frames' bytes.
 */
#ifndef AT_TCGEN_H
#define AT_TCGEN_H
#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s;
};

uint64_t rng_next(struct rng *r);
/* 0..n-1 (n >= 1) */
uint32_t rng_below(struct rng *r, uint32_t n);

/* What the generator did to a frame, counted per kind by the fuzzer. */
enum gen_kind {
	GK_SEGMENT, /* a segment of a TLS stream, in order */
	GK_SYN,
	GK_SYN_DATA, /* SYN carrying the first bytes of the stream */
	GK_FIN,
	GK_RST,
	GK_ACK,	      /* no payload, no SYN/FIN/RST */
	GK_GAP,	      /* the first segment after one that was dropped */
	GK_REPEAT,    /* a segment sent again */
	GK_OVERLAP,   /* a retransmission that begins before the flow's position */
	GK_REORDER,   /* sent after the segment that follows it */
	GK_GARBAGE,   /* random payload in the stream */
	GK_MIDSTREAM, /* a flow first seen after its start */
	GK_RANDOM,    /* a random frame */
	GK_MUTATED,   /* bytes of the frame changed at random */
	GK_CUT,	      /* the frame cut short */
	GK_PADDED,    /* bytes after the IP packet (Ethernet trailer) */
	GK_LENGTHS,   /* IP length fields made wrong or 0 */
	GK_VLAN,
	GK_IP4OPT,
	GK_IP6EXT,
	GK_TCPOPT,
	GK_OTHERDIR, /* sent through the other direction's program */
	GK_N,
};
extern const char *const gen_kind_name[GK_N];

#define GEN_MAX_FRAME 2048
#define GEN_MAX_PKTS 160

struct gen_pkt {
	uint8_t b[GEN_MAX_FRAME];
	size_t len;
	uint8_t dir;	/* 1 egress (sent), 2 ingress (received) */
	uint32_t kinds; /* bits 1 << enum gen_kind */
};

/* One sequence into out[0..return value). */
int gen_sequence(struct rng *r, struct gen_pkt *out, int max);

#endif
