/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A reference model of what the wire source reports, for the differential fuzzer
 * (tests/test_tc_fuzz.c). Written from the RFCs' definitions of the headers and of the TLS record
 * layer, and from the rules README.md states; not from bpf/tc.bpf.c's code.
 */
#ifndef AT_TCREF_H
#define AT_TCREF_H
#include <stddef.h>
#include <stdint.h>

/* One report of the wire source: a record of content type 21 seen in a segment. */
struct ref_ev {
	uint8_t dir; /* 1 sent (egress), 2 received (ingress) */
	uint8_t ipv;
	uint8_t encrypted;   /* body not 2 bytes long: level and code unknown */
	uint8_t level, code; /* plaintext alerts only */
	uint16_t version;    /* the record's legacy_record_version */
	uint16_t length;     /* the record's length field */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16]; /* IPv4: the first 4 bytes, the rest zero */
};

#define REF_MAX_EV 1024
#define REF_MAX_FLOWS 64

/* One direction of a TCP connection, as the model follows it. */
struct ref_flow {
	int used;
	/* key */
	uint8_t dir, ipv;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	/* stream position: sequence number of the next byte the record reader wants */
	uint32_t want;
	/* bytes of a record header (and a 2-byte alert body) read so far, cut by a segment end */
	uint8_t hdr[7];
	int nhdr;
	/* the range [gap_from, gap_to) the flow jumped over when it was picked up past a gap */
	int gap;
	uint32_t gap_from, gap_to;
};

/* A flow a FIN ended (f.used, its ends): the sequence number its stream ended at. */
struct ref_fin {
	struct ref_flow f;
	uint32_t end;
};

/* Deliberate mistakes, for the fuzzer's check that it notices a wrong model. */
enum ref_quirk {
	REF_QUIRK_NONE = 0,
	REF_QUIRK_NO_QINQ,  /* 802.1ad (0x88a8) tags not looked through */
	REF_QUIRK_MAX_LEN,  /* a record of the largest length (2^14 + 2048) taken as not TLS */
	REF_QUIRK_NO_CARRY, /* a header cut by a segment end forgotten */
	REF_QUIRK_FIN_AGAIN, /* a retransmitted FIN segment read again */
	REF_QUIRK_NO_GAP,   /* a late segment inside a gap not read */
	REF_NQUIRKS,
};

struct ref_model {
	enum ref_quirk quirk;
	struct ref_flow flows[REF_MAX_FLOWS];
	struct ref_fin fins[REF_MAX_FLOWS];
	struct ref_ev ev[REF_MAX_EV];
	int nev;
	uint64_t possible_miss;	/* segments of followed flows that could not be read */
};

/* Why a packet was not read as a TCP segment (for the fuzzer's per-kind counts). */
enum ref_parse_res {
	REF_TCP = 0,
	REF_NOT_IP,  /* ethertype, or VLAN tags past the two the classifier reads */
	REF_BAD_IP,  /* bad version / IHL / lengths, headers cut by the packet end */
	REF_NOT_TCP, /* another protocol, a later fragment, an unknown or too long chain */
	REF_BAD_TCP, /* data offset < 5 or header past the IP packet */
	REF_NRES,
};

void ref_reset(struct ref_model *m);
/* Run one packet (Ethernet frame) seen in direction dir; its reports are m->ev[0..m->nev). */
enum ref_parse_res ref_packet(struct ref_model *m, const uint8_t *pkt, size_t len, uint8_t dir);

#endif
