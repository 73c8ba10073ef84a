/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * QUIC Initial packets, opened in the loader: the one place where a QUIC connection's TLS alert
 * can be read by anyone on the path. Initial keys derive from the client's first Destination
 * Connection ID (RFC 9001 5.2, RFC 9369 3.3.1 for QUIC v2); a CONNECTION_CLOSE frame with an error
 * of 0x100 + alert (RFC 9001 4.8) is a TLS alert.
 */
#ifndef AT_QUIC_H
#define AT_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu
#define QUIC_CID_MAX 20

/* A UDP flow as the classifier sees it, either direction: the loader orders the two ends. */
struct quic_flow_key {
	uint8_t a[16], b[16];	/* addresses, IPv4 in the first 4 bytes */
	uint16_t pa, pb;	/* ports, host order */
	uint8_t family;		/* 4 or 6 */
};

/* One CONNECTION_CLOSE with a crypto error found in an Initial packet. */
struct quic_close {
	uint32_t version;
	bool by_client;		/* opened with the client's Initial keys */
	uint8_t alert;		/* error code - 0x100 */
	uint64_t frame_type;	/* the frame that triggered it, 0 when unknown */
	char reason[64];	/* the reason phrase, cut, NUL-terminated (bytes as sent) */
};

struct quic_stats {
	uint64_t datagrams;	/* handed to quic_datagram */
	uint64_t initials;	/* Initial packets found in them */
	uint64_t opened;	/* ... whose protection was removed */
	uint64_t flows;		/* flows learned from a client's first Initial */
	uint64_t unknown_flow;	/* ... of a flow whose first client Initial was not seen */
	uint64_t bad;		/* malformed, or no key opened them */
};

struct quic_flows;

struct quic_flows *quic_flows_new(unsigned cap);
void quic_flows_free(struct quic_flows *fl);
const struct quic_stats *quic_stats(const struct quic_flows *fl);

/*
 * One UDP payload of flow K, either direction. Walks the coalesced QUIC packets,
 * opens each Initial with the flow's keys (a client's first Initial establishes them) and stores
 * up to MAX crypto-error closes in OUT. Returns how many, or -1 when no packet was an Initial.
 */
int quic_datagram(struct quic_flows *fl, const struct quic_flow_key *k, const uint8_t *d,
		  size_t n, struct quic_close *out, int max);

/* A flow's client Initial seen elsewhere (tests: the RFC's sample packets). */
int quic_flow_learn(struct quic_flows *fl, const struct quic_flow_key *k, uint32_t version,
		    const uint8_t *odcid, size_t len);

/* Exposed for tests: the Initial keys of a connection ID (RFC 9001 5.2). */
struct quic_keys {
	uint8_t key[16], iv[12], hp[16];
};
int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, bool client,
		      struct quic_keys *k);

#endif /* AT_QUIC_H */
