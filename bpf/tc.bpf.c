// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TC classifier: TLS alert records (content type 21) on the wire, both directions.
 *
 * Every TCP segment is placed in the byte stream of its flow by its sequence number. A flow
 * remembers where the next TLS record header starts (struct at_flow); a segment is walked from
 * there, record header after record header (RFC 8446 5.1, RFC 5246 6.2), and every header of type
 * 21 becomes an event. A flow without state (first seen mid-stream, or after a gap) is picked up
 * again at a segment that starts with a record header. The program only reads the packet: it
 * always returns TC_ACT_UNSPEC, so the filters after it run. The header parser is
 * tcparse.bpf.h, QUIC's Initial packets quic.bpf.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "alerttrace.h"
#include "tc.h"
#include "emit.bpf.h"
#include "owners.bpf.h"
#include "quic.bpf.h"

#define TLS_CT_CCS 20
#define TLS_CT_ALERT 21
#define TLS_CT_HEARTBEAT 24
#define TLS_HDR_LEN 5
#define TLS_ALERT_LEN 2
/* A record header and the 2 bytes of a plaintext alert: what the walk reads per record. */
#define TLS_PEEK (TLS_HDR_LEN + TLS_ALERT_LEN)

/*
 * Records walked inline before the walk goes on in walk_slow() (a call, then bpf_loop()), and
 * records walked per bpf_loop() iteration at most, whose callback is a call too: a call and its
 * return cost about 6-12 ns where returns go through a mitigation thunk. Each costs the verifier
 * a little (about 1,200 instructions per inline record, nothing per iteration record).
 */
#define AT_FAST_RECORDS 8
#define AT_CB_RECORDS 16

/* The TCP flags the program acts on, as bits 0-2 of byte 13 of the TCP header (RFC 9293 3.1). */
#define SEG_FIN 1
#define SEG_SYN 2
#define SEG_RST 4

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AT_MAX_FLOWS);
	__type(key, struct at_flow_key);
	__type(value, struct at_flow);
} flows SEC(".maps");

/*
 * Links whose far end is another network namespace, set by the loader (user/wire/peerns.c): the
 * namespace cookie the owners of their connections are keyed by. ifpeer_any counts them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AT_MAX_IFACES_PEER);
	__type(key, __u32);
	__type(value, struct at_ifpeer);
} ifpeer SEC(".maps");
__u32 ifpeer_any;

/*
 * Out-of-order and lost segments: a flow that resyncs past a gap keeps the range it jumped over
 * here, so that a late segment inside it is still read (on its own: the flow's position stays).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AT_MAX_GAPS);
	__type(key, struct at_flow_key);
	__type(value, struct at_gap);
} gaps SEC(".maps");

/*
 * Where the stream of a flow ended by a FIN ended: its state is gone, and a retransmission of the
 * FIN segment (whose ACK was lost) would be read again as a new flow.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AT_MAX_FINNED);
	__type(key, struct at_flow_key);
	__type(value, __u32);
} finned SEC(".maps");

/* Segments of followed flows that could not be read (past a gap, not starting with a record
 * header; or a gap given up): an alert in them is missed. Stats and metrics show it. */
__u64 possible_miss = 0;

/*
 * A counting filter in front of `flows`: per bucket of the flow hash, how many entries of `flows`
 * may exist. A zero bucket proves the flow has no state, so the segments of flows that are not
 * TLS (most of them) leave without a hash-map lookup. Incremented when this program creates an
 * entry, decremented when it deletes one; an entry the LRU evicts leaves its count behind, which
 * only costs a useless lookup later. A global array (.bss), not an ARRAY map: the bucket is
 * addressed directly. A map lookup is a call as far as clang knows (the verifier inlines it
 * later), so clang kept the parsed headers on the stack around it on the path of every segment.
 */
__u32 tracked[1 << AT_TRACK_BITS];

/* Where the walk stopped. */
enum walk_stop {
	WALK_BOUND = 0,	/* AT_MAX_RECORDS reached with payload left */
	WALK_DONE,	/* the next record header starts at or past the segment end */
	WALK_CARRY,	/* a header or alert body is cut by the segment end: bytes carried */
	WALK_BAD,	/* a header that does not look like TLS: the flow is not in sync */
	WALK_MORE,	/* one record read, go on */
	WALK_SLOW,	/* (walk_fast) not a record it reads: the general walk takes over */
};

/* The walk in memory, for the bpf_loop() callback. */
struct walk {
	__u32 poff;	/* offset of the TCP payload in the skb */
	__u32 plen;	/* TCP payload length */
	struct at_flow at; /* .next: the payload offset of the next byte to read */
	__u32 stop;	/* enum walk_stop */
};

/* What the bpf_loop() callback gets. */
struct walk_ctx {
	struct __sk_buff *skb;
	struct at_flow_key *key;
	struct walk w;
	__u32 left;	/* records it may still walk */
};

/* RFC 8446 5.1 / RFC 5246 6.2: content type 20..24, version 3.0..3.4, length 1..2^14 + 2048. */
static __always_inline int tls_hdr_ok(__u64 w)
{
	__u32 type = w & 0xff;
	__u32 len = (w >> 24 & 0xff) << 8 | (w >> 32 & 0xff);

	return type - TLS_CT_CCS <= TLS_CT_HEARTBEAT - TLS_CT_CCS && (w >> 8 & 0xff) == 3 &&
	       (w >> 16 & 0xff) <= 4 && len - 1 < AT_TLS_MAX_RECORD_LEN;
}

static __always_inline __u32 tls_hdr_len(__u64 w)
{
	return (w >> 24 & 0xff) << 8 | (w >> 32 & 0xff);
}

/*
 * Read n (1..7) payload bytes at skb offset off into the low bytes of *w, byte i in bits 8i.
 * In place when they are in the linear part (much cheaper than a helper call); with
 * bpf_skb_load_bytes() when not (GSO packets keep their payload in page fragments), into a buffer
 * of its own so that *w can stay in a register.
 */
static __always_inline int load(struct __sk_buff *skb, __u32 off, __u64 n, __u64 *w)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u64 buf = 0;
	void *p;

	if (off <= 0xfff0) {
		__u64 o = off;

		/* Hide the test from clang so that it masks the register the verifier sees. */
		asm volatile("" : "+r"(o));
		o &= 0xffff;
		p = data + o;
		if (p + sizeof(__u64) <= data_end) {
			*w = *(__u64 *)p & (~0ULL >> (64 - 8 * n));
			return 0;
		}
		/* At the end of the linear part: the 8 bytes that end with the n wanted. */
		if (o >= 8) {
			__u64 q = o - 8 + n;

			asm volatile("" : "+r"(q));
			p = data + (q & 0xffff);
			if (p + sizeof(__u64) <= data_end) {
				*w = *(__u64 *)p >> (64 - 8 * n);
				return 0;
			}
		}
	}
	if (bpf_skb_load_bytes(skb, off, &buf, n))
		return -1;
	*w = buf;
	return 0;
}

/*
 * One alert record: the event, with the process that owns the socket when bpf/sock.bpf.c knows it.
 * A global function: verified once, not in every place the walk reaches it.
 */
__noinline int emit(struct at_flow_key *k, __u64 w)
{
	struct at_event *e = at_event_new();
	__u32 len = tls_hdr_len(w);

	if (!k || !e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->source = AT_SRC_WIRE;
	e->direction = k->direction;
	e->ip_version = k->ip_version;
	e->version = (w >> 8 & 0xff) << 8 | (w >> 16 & 0xff);
	e->length = len;
	if (len == TLS_ALERT_LEN) {
		e->level = w >> 40 & 0xff;
		e->code = w >> 48 & 0xff;
		e->flags = AT_F_HAS_ADDR;
	} else {
		/* TLS 1.2 after ChangeCipherSpec: level and description are encrypted. */
		e->flags = AT_F_HAS_ADDR | AT_F_ENCRYPTED;
	}
	e->sport = bpf_ntohs(k->sport);
	e->dport = bpf_ntohs(k->dport);
	e->ifindex = k->ifindex;
	__builtin_memcpy(e->saddr, k->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, k->daddr, sizeof(e->daddr));
	/* Every interface this program is attached to lives in the tracer's network namespace;
	 * the connections on one whose far end is another namespace (a container's veth, seen
	 * from the host) may have their sockets there: what leaves the host side, that namespace
	 * receives. An owner in our own namespace comes first (the namespace at the far end of a
	 * veth our own connections use), then the far namespace's. */
	if (ifpeer_any) {
		struct at_ifpeer *pe = bpf_map_lookup_elem(&ifpeer, &k->ifindex);

		if (pe && !at_owner_find(e, at_filt.netns, false)) {
			e->direction = e->direction == AT_DIR_SENT ? AT_DIR_RECEIVED : AT_DIR_SENT;
			if (at_owner_find(e, pe->netns, false)) {
				e->xflags |= AT_X_PEER_NS;
				at_emit(e);
				return 0;
			}
			e->direction = e->direction == AT_DIR_SENT ? AT_DIR_RECEIVED : AT_DIR_SENT;
		}
	}
	if (!(e->flags & AT_F_HAS_TASK))
		at_owner_fill(e, at_filt.netns);
	at_emit(e);
	return 0;
}

/*
 * One record: read its header (completing carried bytes), report it if it is an alert, step to
 * the next header. Returns WALK_MORE to go on, or why the walk stopped.
 */
static __always_inline __u32 walk_rec(struct __sk_buff *skb, struct at_flow_key *key, __u32 poff,
				      __u32 plen, struct at_flow *at)
{
	__u32 pos = at->next, npart = at->npart, have;
	__u64 w, n, rem; /* 64-bit: the length checked is the one the helper gets */

	if (pos >= plen)
		return WALK_DONE;
	if (npart > TLS_PEEK - 1)
		npart = TLS_PEEK - 1;
	rem = (__u64)plen - pos;
	n = TLS_PEEK - npart;
	if (n > rem)
		n = rem;
	if (n < 1 || n > TLS_PEEK) /* for the verifier: 1 <= n <= 7 */
		return WALK_BAD;
	if (load(skb, poff + pos, n, &w))
		return WALK_BAD;
	w = at->part | w << (npart * 8);
	have = npart + n;
	if (have < TLS_HDR_LEN)
		goto carry;
	if (!tls_hdr_ok(w))
		return WALK_BAD;
	if ((w & 0xff) == TLS_CT_ALERT) {
		if (tls_hdr_len(w) == TLS_ALERT_LEN && have < TLS_PEEK)
			goto carry;
		emit(key, w);
	}
	/* The record began npart bytes before pos; npart <= 6 < 5 + length. */
	at->next = pos + TLS_HDR_LEN + tls_hdr_len(w) - npart;
	at->npart = 0;
	at->part = 0;
	return WALK_MORE;
carry:
	at->part = w;
	at->npart = have;
	at->next = plen;
	return WALK_CARRY;
}

/*
 * A record whose header and the 2 bytes after it lie in the linear part, with no bytes carried:
 * read in place, the position in a register. WALK_SLOW for anything else, an alert too (the
 * general walk reports it): no branch of this walk joins another, so the verifier's work grows
 * with the records in a straight line.
 */
static __always_inline __u32 walk_fast(struct __sk_buff *skb, __u32 poff, __u32 plen, __u32 *pos)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 p = *pos;
	__u64 o, w;
	void *q;

	if (p >= plen)
		return WALK_DONE;
	if (plen - p < TLS_PEEK)
		return WALK_SLOW;
	o = (__u64)poff + p;
	if (o > 0xfff0)
		return WALK_SLOW;
	/* Hide the test from clang so that it masks the register the verifier sees. */
	asm volatile("" : "+r"(o));
	q = data + (o & 0xffff);
	if (q + sizeof(__u64) > data_end)
		return WALK_SLOW;
	w = *(__u64 *)q;
	if (!tls_hdr_ok(w))
		return WALK_BAD;
	if ((w & 0xff) == TLS_CT_ALERT)
		return WALK_SLOW;
	*pos = p + TLS_HDR_LEN + tls_hdr_len(w);
	return WALK_MORE;
}

/*
 * walk_rec() for the bpf_loop() callback and at_segment(): a global function, verified once, not
 * in each state they reach it with (12,300 instructions of 38,500 were the callback's). A call
 * per AT_CB_RECORDS records.
 */
__noinline int walk_rec_call(struct __sk_buff *skb, struct at_flow_key *key, __u32 poff,
			     __u32 plen, struct at_flow *at)
{
	if (!at)
		return WALK_BAD;
	return walk_rec(skb, key, poff, plen, at);
}

/*
 * One bpf_loop() iteration: a record with walk_rec(), then up to AT_CB_RECORDS - 1 more with
 * walk_fast(): one call per AT_CB_RECORDS records while they are simple, not one per record.
 */
static long walk_cb(__u64 i, void *ctx)
{
	struct walk_ctx *c = ctx;
	__u32 stop;
	int k;

	stop = walk_rec_call(c->skb, c->key, c->w.poff, c->w.plen, &c->w.at);
	c->left--; /* >= 1 before: bpf_loop() runs no more iterations than records allowed */
	for (k = 1; k < AT_CB_RECORDS && stop == WALK_MORE && c->left; k++) {
		stop = walk_fast(c->skb, c->w.poff, c->w.plen, &c->w.at.next);
		if (stop == WALK_MORE)
			c->left--;
	}
	if (stop == WALK_SLOW) /* not walked: the next iteration's walk_rec() reads it */
		stop = WALK_MORE;
	if (stop != WALK_MORE) {
		c->w.stop = stop;
		return 1;
	}
	return !c->left; /* with c->w.stop still WALK_BOUND */
}

/*
 * The general walk from *at, up to nr records, in bpf_loop(); seg: the payload's offset in the skb
 * (high 32 bits) and its length. A global function: the verifier checks it once, whatever the
 * inline walk before it.
 */
__noinline int walk_slow(struct __sk_buff *skb, struct at_flow_key *key, struct at_flow *at,
			 __u64 seg, __u32 nr)
{
	struct walk_ctx c;

	if (!at)
		return WALK_BAD;
	c.skb = skb;
	c.key = key;
	c.w.poff = seg >> 32;
	c.w.plen = (__u32)seg;
	c.w.at = *at;
	c.w.stop = WALK_BOUND;
	/* Not clamped to a constant: a count the verifier knows would make it follow every
	 * iteration of the callback. The caller passes at most AT_MAX_RECORDS. */
	c.left = nr;
	if (nr) /* every iteration walks a record at least */
		bpf_loop(nr, walk_cb, &c, 0);
	*at = c.w.at;
	return c.w.stop;
}

/*
 * Walk the segment's records from at, AT_MAX_RECORDS at most: the first one with walk_rec() (it
 * may complete carried bytes, or need bpf_skb_load_bytes(); slow: through walk_rec_call(), for
 * at_segment(), where one call more costs little and saves the verifier a copy), then walk_fast()
 * while it can, up to AT_FAST_RECORDS in all, then walk_slow().
 */
static __always_inline __u32 walk(struct __sk_buff *skb, struct at_flow_key *key, __u32 poff,
				  __u32 plen, struct at_flow *at, bool slow)
{
	__u32 stop;
	int i;

	stop = slow ? walk_rec_call(skb, key, poff, plen, at) : walk_rec(skb, key, poff, plen, at);
	for (i = 1; i < AT_FAST_RECORDS && stop == WALK_MORE; i++)
		stop = walk_fast(skb, poff, plen, &at->next);
	if (stop != WALK_MORE && stop != WALK_SLOW)
		return stop;
	if (stop == WALK_SLOW)
		i--; /* that record was not walked */
	return walk_slow(skb, key, at, (__u64)poff << 32 | plen, AT_MAX_RECORDS - i);
}

/*
 * A segment of a flow whose position is unknown: accept it only if it starts with a record
 * header and, when the header after it also starts in the segment, that one too. A random
 * position passes one header test with p ~ 1e-6, two with ~1e-12.
 */
static __always_inline int resync_ok(struct __sk_buff *skb, __u32 poff, __u32 plen)
{
	__u32 next;
	__u64 w;

	if (plen < TLS_HDR_LEN || load(skb, poff, TLS_HDR_LEN, &w) || !tls_hdr_ok(w))
		return 0;
	next = TLS_HDR_LEN + tls_hdr_len(w);
	if (next + TLS_HDR_LEN > plen)
		return 1;
	if (load(skb, poff + next, TLS_HDR_LEN, &w))
		return 0;
	return tls_hdr_ok(w);
}

/*
 * resync_ok() for segment(), where it is rare (a gap, or a new flow whose bucket in `tracked` is
 * taken): a global function, verified once instead of in every copy of segment().
 */
__noinline int resync_ok_call(struct __sk_buff *skb, __u32 poff, __u32 plen)
{
	return resync_ok(skb, poff, plen);
}

/*
 * The filter's bucket: a multiplicative hash of the addresses (folded to 64 bits), the ports and
 * the direction; the top bits of the product depend on every bit of its input. The interface is
 * left out: one load less, a rare false hit.
 */
static __always_inline __u32 track_idx(__u64 addrs, __u32 ports, __u32 dir)
{
	__u64 x = addrs ^ ((__u64)ports << 16) ^ dir;

	return (x * 0x9e3779b97f4a7c15ULL) >> (64 - AT_TRACK_BITS);
}

/* Create the flow's state; count it in the filter when it is new. */
static __always_inline void flow_create(struct at_flow_key *k, struct at_flow *v, __u32 *slot)
{
	if (bpf_map_update_elem(&flows, k, v, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(slot, 1);
	else
		bpf_map_update_elem(&flows, k, v, BPF_ANY);
}

static __always_inline void flow_delete(struct at_flow_key *k, __u32 *slot)
{
	if (bpf_map_delete_elem(&flows, k) == 0)
		__sync_fetch_and_add(slot, -1);
}

/* What at_segment() gets from the header parser. */
struct seg {
	struct at_flow_key key;
	__u32 seq;	/* sequence number of the first payload byte (or of the SYN) */
	__u32 poff;	/* offset of the TCP payload in the skb */
	__u32 plen;	/* TCP payload length */
	__u32 flags;	/* SEG_* */
	__u32 idx;	/* bucket in `tracked` */
	__u32 synced;	/* the caller found a record header at payload offset 0 (resync_ok) */
};

/* One segment of a flow that has state, or that may start it; slow: see walk(). */
static __always_inline int segment(struct __sk_buff *skb, struct seg *sg, bool slow)
{
	/* The flow's new state; while walking, f.next is a payload offset (one struct: the
	 * frames of the deepest call chain must fit in 512 bytes together). */
	struct at_flow f = {};
	struct at_flow *st = NULL;
	struct at_flow_key *key;
	struct at_gap *gp = NULL;
	__u32 *slot, seq, poff, plen, tcpflags, stop, *end;
	int resync = 1, ahead = 0, late = 0;

	if (!sg)
		return 0;
	key = &sg->key;
	seq = sg->seq;
	poff = sg->poff;
	plen = sg->plen;
	tcpflags = sg->flags;
	slot = &tracked[sg->idx & ((1 << AT_TRACK_BITS) - 1)];
	if (tcpflags & SEG_RST) {
		flow_delete(key, slot);
		return 0;
	}
	if (tcpflags & SEG_SYN) {
		/* The stream starts after the SYN's own sequence number: in sync from byte 0. */
		seq++;
		f.next = seq;
		flow_create(key, &f, slot);
		f.next = 0;
		bpf_map_delete_elem(&finned, key); /* a new connection on the same ends */
	}
	if (*slot)
		st = bpf_map_lookup_elem(&flows, key);
	if (st) {
		/* Serial-number arithmetic (RFC 1982): differences as signed 32-bit. */
		__u32 d = st->next - seq;

		if ((__s32)d >= 0) {
			/* The segment ends at or before the next header: inside a record, a
			 * retransmission of what was walked already, or a late segment of a gap the
			 * flow jumped over. */
			if (d >= plen) {
				if (!(st->fflags & AT_FLOW_GAP))
					goto out;
				gp = bpf_map_lookup_elem(&gaps, key);
				if (!gp || (__s32)(seq - gp->from) < 0 || (__s32)(gp->to - seq) <= 0)
					goto out;
				late = 1;
			} else {
				f.next = d;
				f.npart = st->npart;
				f.part = st->part;
				resync = 0;
			}
		} else {
			/* A gap (loss, reordering): resync on a segment that starts with a
			 * header; until then the state stays as it is. */
			ahead = 1;
		}
	}
	if (resync && !sg->synced && !resync_ok_call(skb, poff, plen)) {
		if ((ahead || late) && plen)
			__sync_fetch_and_add(&possible_miss, 1);
		goto out;
	}
	if (!st && !(tcpflags & SEG_SYN)) {
		/* A retransmission of the segment that ended a flow: read already. */
		end = bpf_map_lookup_elem(&finned, key);
		if (end && (__s32)(*end - (seq + plen)) >= 0)
			return 0;
	}
	if (late && gp) {
		/* Only the records that start inside the gap: the rest was read. */
		__u32 in = gp->to - seq;

		if (in < plen)
			plen = in;
		/* Rare: the general walk alone, a call, not another inline copy to verify. */
		walk_slow(skb, key, &f, (__u64)poff << 32 | plen, AT_MAX_RECORDS);
		/* The gap closes from its start; the flow's position stays. */
		if (seq == gp->from) {
			gp->from = seq + plen;
			if (gp->from == gp->to)
				st->fflags &= ~AT_FLOW_GAP;
		}
		goto out;
	}

	stop = walk(skb, key, poff, plen, &f, slow);
	if (stop == WALK_BAD) {
		/* Not TLS, or lost: forget the flow; a later segment may resync. */
		if (st)
			flow_delete(key, slot);
		return 0;
	}
	/* WALK_BOUND keeps the position: a retransmission of this segment resumes there. */
	f.next += seq;
	if (st && ahead) {
		struct at_gap g = {.from = st->next, .to = seq};

		/* A gap still open is given up: its late segments will not be read. */
		if (st->fflags & AT_FLOW_GAP)
			__sync_fetch_and_add(&possible_miss, 1);
		bpf_map_update_elem(&gaps, key, &g, BPF_ANY);
		f.fflags = AT_FLOW_GAP;
	} else if (st) {
		f.fflags = st->fflags & AT_FLOW_GAP;
	}
	if (st)
		*st = f;
	else if (!(tcpflags & SEG_FIN))
		flow_create(key, &f, slot);
	if (!st && (tcpflags & SEG_FIN)) {
		/* Read without state: remember its end all the same. */
		seq += plen;
		bpf_map_update_elem(&finned, key, &seq, BPF_ANY);
	}
out:
	if ((tcpflags & SEG_FIN) && (st || (tcpflags & SEG_SYN))) {
		seq = sg->seq + sg->plen + !!(tcpflags & SEG_SYN);
		flow_delete(key, slot);
		bpf_map_update_elem(&finned, key, &seq, BPF_ANY);
	}
	return 0;
}

/*
 * segment() for the layouts parse() reads on its slow path: a global function, which the
 * verifier checks once, not once per path through the header parser (which made it too large).
 * The common layouts get segment() inline instead: a call and its return cost about 12 ns here.
 */
__noinline int at_segment(struct __sk_buff *skb, struct seg *sg)
{
	if (!sg)
		return 0;
	return segment(skb, sg, true);
}

#include "tcparse.bpf.h"

static __always_inline int at_tc(struct __sk_buff *skb, __u8 dir)
{
	struct iphdr *iph;
	struct ipv6hdr *ip6;
	struct tcphdr *th;
	struct pkt p;
	struct seg sg;
	void *data, *data_end;
	__u32 synced = 0, len, lin;
	int pass = 0, r;

	/*
	 * A second pass only after making the headers linear, and only when the first found one
	 * past the linear part: this moves bytes within the skb, it never changes them. The second
	 * parses with parse_slow() (every layout, verified once), never inline.
	 */
	r = parse(skb, &p, dir);
	if (r == P_SHORT) {
		len = skb->len;
		lin = skb->data_end - skb->data;
		if (lin >= AT_HDR_LINEAR || len <= lin)
			return TC_ACT_UNSPEC;
		bpf_skb_pull_data(skb, len < AT_HDR_LINEAR ? len : AT_HDR_LINEAR);
		pass = 1;
		r = parse_slow(skb, &p, dir);
		if (r == P_SHORT)
			return TC_ACT_UNSPEC;
	}
	if (r == P_UDP) {
		at_quic(skb, p.l3, p.l4, p.ipv, dir);
		return TC_ACT_UNSPEC;
	}
	if (r != P_OK)
		return TC_ACT_UNSPEC;
	/* Pure ACKs, the most common segments, leave before the filter. */
	if (!p.plen && !p.flags)
		return TC_ACT_UNSPEC;

	/*
	 * A flow without state can only start at a SYN or at a segment that starts with a record
	 * header: every other segment (those of flows that are not TLS) leaves here, without
	 * building the key or a hash-map lookup.
	 */
	if (!tracked[p.idx & ((1 << AT_TRACK_BITS) - 1)] && !(p.flags & SEG_SYN)) {
		if ((p.flags & SEG_RST) || !resync_ok(skb, p.poff, p.plen))
			return TC_ACT_UNSPEC;
		synced = 1;
	}

	/* The key, from the headers parse() checked (checked again for the verifier). */
	__builtin_memset(&sg, 0, sizeof(sg));
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (p.ipv == 4) {
		iph = data + (p.l3 & 0xff);
		if ((void *)(iph + 1) > data_end)
			return TC_ACT_UNSPEC;
		__builtin_memcpy(sg.key.saddr, &iph->saddr, 4);
		__builtin_memcpy(sg.key.daddr, &iph->daddr, 4);
	} else {
		ip6 = data + (p.l3 & 0xff);
		if ((void *)(ip6 + 1) > data_end)
			return TC_ACT_UNSPEC;
		__builtin_memcpy(sg.key.saddr, &ip6->saddr, 16);
		__builtin_memcpy(sg.key.daddr, &ip6->daddr, 16);
	}
	/* l4 is at most 14 + 8 + 40 + 4 * 2048 + 60 (four IPv6 extension headers of the largest
	 * size): the mask tells the verifier so, as parse_slow() returns no bounds. */
	th = data + (p.l4 & 0x3fff);
	if ((void *)(th + 1) > data_end)
		return TC_ACT_UNSPEC;
	sg.key.sport = th->source;
	sg.key.dport = th->dest;
	sg.key.ifindex = skb->ifindex;
	sg.key.direction = dir;
	sg.key.ip_version = p.ipv;
	sg.seq = bpf_ntohl(th->seq);
	sg.poff = p.poff;
	sg.plen = p.plen;
	sg.flags = p.flags;
	sg.idx = p.idx;
	sg.synced = synced;
	if (p.fast && !pass)
		segment(skb, &sg, false);
	else
		at_segment(skb, &sg);
	return TC_ACT_UNSPEC;
}

/*
 * The direction of a packet, for one program on both hooks (one verification at start, not two):
 * before the ingress hook runs, the kernel sets the skb's input interface (skb_iif, read as
 * ingress_ifindex) to the device that received it (__netif_receive_skb_core), the one the
 * program runs on; a packet this host sends has 0 there (alloc_skb() zeroes it; TCP's clones keep
 * it), a packet it forwards the interface it came in on. Only a packet forwarded out of the
 * interface it came in on (a hairpin) reads as received on egress too.
 */
static __always_inline __u8 pkt_dir(struct __sk_buff *skb)
{
	return skb->ingress_ifindex == skb->ifindex ? AT_DIR_RECEIVED : AT_DIR_SENT;
}

/* Attached to the clsact ingress and egress hooks both. */
SEC("tc")
int at_tc_both(struct __sk_buff *skb)
{
	return at_tc(skb, pkt_dir(skb));
}
