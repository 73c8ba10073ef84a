/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TC classifier's own map layouts (bpf/tc.bpf.c), for the loader and the tests. The event it
 * writes is struct at_event in alerttrace.h.
 */
#ifndef AT_TC_H
#define AT_TC_H

/*
 * Record headers walked per packet at most. A TLS record is at least 6 bytes (5-byte header and
 * 1 byte), so a 64 KiB GSO/GRO packet holds at most 65535 / 6 = 10922 record headers: the bound
 * misses nothing in packets up to 64 KiB, whatever their records. It stops the walk only in a BIG
 * TCP packet (IPv4 or IPv6 GSO past 64 KiB) that holds more than 10923 records, i.e. records of
 * less than 6 bytes on average past 64 KiB; the position is kept, so a retransmission of the
 * same segment goes on from there, a later segment resyncs. The first 8 records are walked
 * inline, the rest in bpf_loop() (up to 16 per iteration), which the verifier checks once whatever
 * the bound: the bound costs only run time, measured at about 4.5 ns per record past the 8th (a
 * 1448-byte segment of 241 records of 6 bytes: 1.1 us), so at most about 50 us for a 64 KiB
 * packet of 6-byte records.
 */
#define AT_MAX_RECORDS 10923

/* RFC 8446 5.2: TLSCiphertext.length must not exceed 2^14 + 256; RFC 5246 6.2.3 allows
 * 2^14 + 2048 for TLS 1.2 ciphertext, the larger of the two. */
#define AT_TLS_MAX_RECORD_LEN (16384 + 2048)

/* Flows tracked at once (LRU: the least recently used goes first); the loader may resize. */
#define AT_MAX_FLOWS 65536
/* log2 of the buckets of the counting filter in front of the flow map (array `tracked`). */
#define AT_TRACK_BITS 18

/*
 * Devices whose packets start at the IP header (tun, wireguard, ipip, sit, ip6tnl, PPP, rawip: no
 * header_ops, so TC sees no link-layer header on ingress or egress) are marked by the loader: a
 * bit per ifindex below AT_L3_IFS in the classifier's .bss array l3_ifs, or an entry of the hash
 * map l3_ifs_high for a larger ifindex; l3_any is how many are marked.
 */
#define AT_L3_IFS (1 << 16)
#define AT_L3_HIGH_MAX 1024

/* One direction of one TCP connection on one interface, as the packet shows it. */
struct at_flow_key {
	__u8 saddr[16];		/* IPv4 in the first 4 bytes, rest zero */
	__u8 daddr[16];
	__u16 sport;		/* network byte order, as in the packet */
	__u16 dport;
	__u32 ifindex;
	__u8 direction;		/* enum at_direction */
	__u8 ip_version;	/* 4 or 6: keeps an IPv4 flow apart from an IPv6 one */
	__u8 pad[2];
};

/* Where the walk of the stream stands. */
struct at_flow {
	__u32 next;		/* TCP sequence number of the next byte to read: the start of the
				 * next record header, or the continuation of the carried bytes */
	__u8 npart;		/* carried bytes (0..6) of a record header, or of an alert header
				 * and its first body byte, cut by the end of the last segment */
	__u8 fflags;		/* AT_FLOW_* */
	__u8 pad[2];
	__u64 part;		/* those bytes, byte i in bits 8i..8i+7 */
};

/* at_flow.fflags: the flow jumped a gap whose range is in the map `gaps`. */
#define AT_FLOW_GAP 1

/* A range of the stream a flow jumped over when it resynced after a gap (loss or reordering). */
struct at_gap {
	__u32 from;		/* sequence number of the first byte not read */
	__u32 to;		/* ... of the segment the flow resynced at */
};

/* Entries of the maps `gaps` and `finned` (flows a FIN ended: where their stream ended). */
#define AT_MAX_GAPS 16384
#define AT_MAX_FINNED 16384

/* A link whose far end is another network namespace (map `ifpeer`, by ifindex). */
struct at_ifpeer {
	__u64 netns;		/* that namespace's cookie */
};
#define AT_MAX_IFACES_PEER 4096

#endif /* AT_TC_H */
