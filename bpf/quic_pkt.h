/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * QUIC Initial packets the TC classifier hands to the loader (bpf/quic.bpf.h -> ring `quic_pkts`
 * -> user/wire/quic_src.c), which opens them: their keys derive from the connection ID, which
 * BPF cannot do (HKDF, AES-GCM). Only long-header Initial packets of QUIC v1 and v2, counted and
 * rate-limited; nothing else of UDP leaves the kernel.
 */
#ifndef AT_QUIC_REC_H
#define AT_QUIC_REC_H

/* Bytes of a UDP payload copied: QUIC's datagrams stay within 1500-byte paths (RFC 9000 14:
 * a client's Initial datagrams are at least 1200 bytes). */
#define AT_QUIC_CAP 1500
/* Rate limit per CPU: this many packets a second, bursts of AT_QUIC_BURST. */
#define AT_QUIC_RATE 2000
#define AT_QUIC_BURST 256
#define AT_QUIC_RING (1 << 20)

struct at_quic_pkt {
	__u64 ts_ns;
	__u32 ifindex;
	__u8 direction;		/* enum at_direction */
	__u8 ip_version;	/* 4 or 6 */
	__u16 caplen;		/* bytes in data */
	__u16 udplen;		/* the UDP payload's length */
	__u16 sport;		/* host order */
	__u16 dport;
	__u8 has_task;		/* sent by a local socket: pid..comm are the sender's */
	__u8 pad;
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 pid, tid, uid;
	char comm[16];
	__u8 data[AT_QUIC_CAP];
};

/* Per CPU: the token bucket. */
struct at_quic_bucket {
	__u64 last_ns;
	__u64 tokens;		/* in units of 1/AT_QUIC_RATE s: at most AT_QUIC_BURST tokens */
};

#endif /* AT_QUIC_REC_H */
