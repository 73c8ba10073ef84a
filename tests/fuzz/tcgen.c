// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The differential fuzzer's frame generator (see tcgen.h). */
#include <string.h>
#include "tcgen.h"

const char *const gen_kind_name[GK_N] = {
    "segment",	    "syn",
    "syn-data",	    "fin",
    "rst",	    "ack",
    "gap",	    "repeat",
    "overlap",	    "reorder",
    "garbage",	    "midstream",
    "random-frame", "mutated",
    "cut",	    "padded",
    "bad-lengths",  "vlan",
    "ipv4-options", "ipv6-ext",
    "tcp-options",  "other-direction",
};

/* splitmix64: small, fast, and every seed gives a full-period stream */
uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

/* true with probability pct % */
static int chance(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

static void fill(struct rng *r, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rng_next(r);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* --- the TLS byte stream of a flow --- */

#define STREAM_MAX 65536

static size_t add_record(struct rng *r, uint8_t *s, size_t at)
{
	static const uint16_t versions[] = {0x0303, 0x0303, 0x0303, 0x0303,
					    0x0301, 0x0304, 0x0300, 0x0302};
	unsigned pick = rng_below(r, 100), type, len;
	uint16_t ver = versions[rng_below(r, 8)];

	if (chance(r, 5))
		ver = 0x0300 | rng_below(r, 7); /* 3.5 and 3.6 are not TLS */
	if (pick < 36) {
		type = 23;
		len = chance(r, 85) ? 1 + rng_below(r, 400) : 1 + rng_below(r, 3000);
	} else if (pick < 52) {
		type = 22;
		len = 1 + rng_below(r, 600);
	} else if (pick < 70) {
		type = 21;
		len = 2;
	} else if (pick < 78) {
		type = 21;
		len = chance(r, 80) ? 18 + rng_below(r, 40) : 1 + rng_below(r, 5);
	} else if (pick < 85) {
		type = 20;
		len = 1;
	} else if (pick < 88) {
		type = 24;
		len = 3 + rng_below(r, 60);
	} else if (pick < 91) {
		/* the bounds of a record's length: 2^14 + 2048 is the largest taken */
		static const unsigned edge[] = {0, 1, 18431, 18432, 18432, 18433, 0xffff};

		type = 23;
		len = edge[rng_below(r, 7)];
	} else if (pick < 94) {
		/* a header that is not one: wrong type or version */
		type = chance(r, 50) ? rng_below(r, 256) : 19 + 6 * rng_below(r, 2);
		len = 1 + rng_below(r, 50);
		if (chance(r, 50))
			ver = rng_below(r, 0x10000);
	} else {
		type = 23;
		len = 1 + rng_below(r, 12);
	}
	if (at + 5 + len > STREAM_MAX)
		len = STREAM_MAX - at - 5;
	s[at] = type;
	put16(s + at + 1, ver);
	put16(s + at + 3, len);
	if (type == 21 && len == 2) {
		s[at + 5] = chance(r, 80) ? 1 + rng_below(r, 2) : rng_below(r, 256);
		s[at + 6] = rng_below(r, 256);
	} else {
		fill(r, s + at + 5, len);
	}
	return at + 5 + len;
}

static size_t make_stream(struct rng *r, uint8_t *s)
{
	size_t n = 0, target = chance(r, 20) ? rng_below(r, 40) : rng_below(r, 6000);

	while (n < target && n + 5 < STREAM_MAX)
		n = add_record(r, s, n);
	return n;
}

/* --- frames --- */

/* The headers of one flow, chosen once per flow; some fields vary per frame. */
struct layout {
	int ipv;
	int vlans; /* 0..3 (a third tag is not looked through) */
	uint16_t vtype[3];
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint8_t dir;
	int ip4opt; /* option bytes, multiple of 4, 0..40 */
	int ext;    /* IPv6 extension headers, 0..5 */
	uint8_t ext_type[5], ext_len[5];
	int tcpopt;    /* option bytes, multiple of 4, 0..40 */
	uint8_t proto; /* 6 TCP, else another protocol */
};

static void pick_layout(struct rng *r, struct layout *l)
{
	static const uint8_t ext_types[] = {0, 60, 43, 44, 0, 60, 51, 59, 17};
	int i;

	memset(l, 0, sizeof(*l));
	l->ipv = chance(r, 55) ? 4 : 6;
	if (chance(r, 25)) {
		l->vlans = 1 + rng_below(r, chance(r, 10) ? 3 : 2);
		for (i = 0; i < l->vlans; i++)
			l->vtype[i] = chance(r, 50) ? 0x8100 : 0x88a8;
	}
	fill(r, l->saddr, 16);
	fill(r, l->daddr, 16);
	if (l->ipv == 4) {
		memset(l->saddr + 4, 0, 12);
		memset(l->daddr + 4, 0, 12);
	}
	l->sport = rng_below(r, 65536);
	l->dport = chance(r, 50) ? 443 : rng_below(r, 65536);
	if (chance(r, 20)) {
		/* One of a few fixed 4-tuples: flows of a sequence may share a key, and a key of
		 * an earlier sequence finds its bucket of the classifier's counting filter still
		 * counted (the fuzzer empties the map, not always the filter). */
		unsigned k = rng_below(r, 8);

		memset(l->saddr, 0, 16);
		memset(l->daddr, 0, 16);
		l->saddr[0] = l->daddr[0] = l->ipv == 4 ? 10 : 0xfd;
		l->saddr[l->ipv == 4 ? 3 : 15] = 1 + k % 4;
		l->daddr[l->ipv == 4 ? 3 : 15] = 9;
		l->sport = 40000 + k;
		l->dport = 443;
	}
	l->dir = 1 + rng_below(r, 2);
	if (l->ipv == 4 && chance(r, 20))
		l->ip4opt = 4 * (1 + rng_below(r, 10));
	if (l->ipv == 6 && chance(r, 25)) {
		l->ext = 1 + rng_below(r, chance(r, 15) ? 5 : 3);
		for (i = 0; i < l->ext; i++) {
			l->ext_type[i] =
			    chance(r, 90) ? ext_types[rng_below(r, 4)] : ext_types[rng_below(r, 9)];
			l->ext_len[i] = chance(r, 80) ? rng_below(r, 3) : rng_below(r, 256);
		}
	}
	if (chance(r, 30))
		l->tcpopt = 4 * (1 + rng_below(r, 10));
	l->proto = chance(r, 97) ? 6 : (chance(r, 50) ? 17 : rng_below(r, 256));
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* A wrong IP length field: 0 (the frame's length), a little off, or anything. */
static unsigned be_len_variant(struct rng *r, size_t iplen)
{
	switch (rng_below(r, 4)) {
	case 0:
		return 0;
	case 1:
		return (iplen + 1 + rng_below(r, 30)) & 0xffff;
	case 2:
		return iplen > 0 ? rng_below(r, iplen) : 0;
	default:
		return rng_below(r, 65536);
	}
}

/* Build a frame of flow l into p; returns its kinds. Length fields are right unless mutated. */
static uint32_t frame(struct rng *r, const struct layout *l, uint32_t seq, uint8_t flags,
		      const uint8_t *data, size_t dlen, struct gen_pkt *p)
{
	uint8_t *b = p->b, *len_field = NULL, *ip;
	size_t at = 14, room, l4len, iplen;
	uint32_t kinds = 0;
	int i, ethertype = l->ipv == 4 ? 0x0800 : 0x86dd;

	fill(r, b, 12); /* MAC addresses: anything */
	put16(b + 12, l->vlans ? l->vtype[0] : ethertype);
	for (i = 0; i < l->vlans; i++) {
		put16(b + at, rng_below(r, 4096));
		put16(b + at + 2, i + 1 < l->vlans ? l->vtype[i + 1] : ethertype);
		at += 4;
	}
	if (l->vlans)
		kinds |= 1u << GK_VLAN;
	ip = b + at;
	l4len = 20 + l->tcpopt + dlen;
	if (l->ipv == 4) {
		size_t ihl = 20 + l->ip4opt;

		ip[0] = 0x40 | ihl / 4;
		ip[1] = rng_below(r, 256);
		len_field = ip + 2;
		iplen = ihl + l4len;
		put16(ip + 2, iplen);
		put16(ip + 4, rng_below(r, 65536));
		/* DF or MF, offset 0; sometimes a later fragment */
		put16(ip + 6, (chance(r, 50) ? 0x4000 : 0) | (chance(r, 5) ? 0x2000 : 0) |
				  (chance(r, 2) ? 1 + rng_below(r, 0x1fff) : 0));
		ip[8] = 64;
		ip[9] = l->proto;
		fill(r, ip + 10, 2); /* checksum: not checked */
		memcpy(ip + 12, l->saddr, 4);
		memcpy(ip + 16, l->daddr, 4);
		fill(r, ip + 20, l->ip4opt);
		if (l->ip4opt)
			kinds |= 1u << GK_IP4OPT;
		at += ihl;
	} else {
		uint8_t *next;
		size_t start = at;

		ip[0] = 0x60 | rng_below(r, 16);
		fill(r, ip + 1, 3);
		len_field = ip + 4;
		next = ip + 6;
		ip[7] = 64;
		memcpy(ip + 8, l->saddr, 16);
		memcpy(ip + 24, l->daddr, 16);
		at += 40;
		for (i = 0; i < l->ext; i++) {
			size_t n = l->ext_type[i] == 44 ? 8 : 8 + 8 * (size_t)l->ext_len[i];

			if (at + n + 20 + l->tcpopt + dlen > GEN_MAX_FRAME)
				break;
			*next = l->ext_type[i];
			next = b + at;
			fill(r, b + at + 1, n - 1);
			if (l->ext_type[i] == 44)
				/* offset 0 (M set or not), sometimes a later fragment */
				put16(b + at + 2,
				      chance(r, 90) ? rng_below(r, 2) : rng_below(r, 65536));
			else
				b[at + 1] = l->ext_len[i];
			at += n;
		}
		if (l->ext)
			kinds |= 1u << GK_IP6EXT;
		*next = l->proto;
		iplen = at - start - 40 + l4len;
		put16(ip + 4, iplen);
	}
	room = GEN_MAX_FRAME - at;
	if (l4len > room) { /* the caller keeps segments small enough; never overflow */
		dlen = room - 20 - l->tcpopt;
		l4len = room;
	}
	put16(b + at, l->sport);
	put16(b + at + 2, l->dport);
	put32(b + at + 4, seq);
	fill(r, b + at + 8, 4);
	b[at + 12] = (uint8_t)((5 + l->tcpopt / 4) << 4);
	b[at + 13] = flags;
	fill(r, b + at + 14, 6);
	fill(r, b + at + 20, l->tcpopt);
	if (l->tcpopt)
		kinds |= 1u << GK_TCPOPT;
	if (chance(r, 2)) { /* a data offset below 5 or past the packet */
		b[at + 12] = (uint8_t)(rng_below(r, 16) << 4);
		kinds |= 1u << GK_MUTATED;
	}
	memcpy(b + at + 20 + l->tcpopt, data, dlen);
	p->len = at + l4len;
	p->dir = l->dir;
	if (chance(r, 4) && p->len < GEN_MAX_FRAME - 64) {
		size_t pad = 1 + rng_below(r, 60);

		fill(r, b + p->len, pad);
		p->len += pad;
		kinds |= 1u << GK_PADDED;
	}
	if (chance(r, 3)) {
		unsigned v = be_len_variant(r, iplen);

		put16(len_field, v);
		kinds |= 1u << GK_LENGTHS;
	}
	return kinds;
}

/* Mutations of a finished frame: bytes changed, or the frame cut. */
static void mutate(struct rng *r, struct gen_pkt *p)
{
	if (chance(r, 4)) {
		int k, n = 1 + rng_below(r, 4);

		for (k = 0; k < n; k++) {
			/* mostly in the headers, where a change alters the parse */
			size_t at =
			    chance(r, 70) && p->len > 80 ? rng_below(r, 80) : rng_below(r, p->len);

			p->b[at] ^= 1u << rng_below(r, 8);
			if (chance(r, 30))
				p->b[at] = rng_below(r, 256);
		}
		p->kinds |= 1u << GK_MUTATED;
	}
	if (chance(r, 2) && p->len > 14) {
		p->len = 14 + rng_below(r, p->len - 14);
		p->kinds |= 1u << GK_CUT;
	}
}

/* A segment waiting to be sent: stream bytes [off, off + n) of flow f. */
struct pending {
	size_t off, n;
	uint8_t flags;
	uint32_t kinds;
	int garbage;
};

struct flowgen {
	struct layout l;
	uint8_t *stream;
	size_t len;
	uint32_t isn; /* sequence number of stream byte 0 is isn + 1 */
	struct pending q[GEN_MAX_PKTS];
	int nq, next;
};

static uint8_t streams[3][STREAM_MAX];
static uint8_t garbage[1500];

static void push(struct flowgen *f, size_t off, size_t n, uint8_t flags, uint32_t kinds)
{
	if (f->nq < GEN_MAX_PKTS) {
		f->q[f->nq] = (struct pending){off, n, flags, kinds, 0};
		f->nq++;
	}
}

static size_t seg_size(struct rng *r)
{
	unsigned p = rng_below(r, 100);

	if (p < 35)
		return 1 + rng_below(r, 12);
	if (p < 65)
		return 13 + rng_below(r, 200);
	return 200 + rng_below(r, 1200);
}

/* The segments of one flow, in the order they are sent. */
static void plan_flow(struct rng *r, struct flowgen *f, int budget)
{
	size_t off = 0;
	int syn = chance(r, 60);

	pick_layout(r, &f->l);
	f->len = make_stream(r, f->stream);
	f->isn = chance(r, 10) ? 0xffffffffu - rng_below(r, 3000) : (uint32_t)rng_next(r);
	f->nq = f->next = 0;
	if (syn) {
		size_t n = chance(r, 10) ? seg_size(r) : 0;

		if (n > f->len)
			n = f->len;
		push(f, 0, n, F_SYN, 1u << (n ? GK_SYN_DATA : GK_SYN));
		if (chance(r, 5)) /* the SYN retransmitted */
			push(f, 0, n, F_SYN, 1u << GK_SYN | 1u << GK_REPEAT);
		off = n;
	} else if (f->len) {
		/* first seen after its start: at a record boundary or anywhere */
		off = rng_below(r, (uint32_t)f->len);
		if (chance(r, 50)) {
			size_t b = 0;

			while (b < off && b + 5 <= f->len)
				b += 5 + ((size_t)f->stream[b + 3] << 8 | f->stream[b + 4]);
			off = b < f->len ? b : 0;
		}
	}
	while (off < f->len && f->nq < budget) {
		size_t n = seg_size(r);
		uint32_t k = 1u << GK_SEGMENT;
		unsigned op = rng_below(r, 100);

		if (n > f->len - off)
			n = f->len - off;
		if (!syn && f->nq == 0)
			k |= 1u << GK_MIDSTREAM;
		if (op < 5) { /* lost */
			off += n;
			if (off < f->len) {
				n = seg_size(r);
				if (n > f->len - off)
					n = f->len - off;
				k |= 1u << GK_GAP;
			} else {
				break;
			}
		}
		if (op >= 25 && op < 30 && off) {
			/* repacketized: a retransmission of the last bytes sent that also carries
			 * new ones (RFC 9293 3.10.7.4 allows it), across a cut header too */
			size_t back = 1 + rng_below(r, off < 12 ? (uint32_t)off : 12);

			push(f, off - back, back + n, F_ACK | F_PSH, k | 1u << GK_OVERLAP);
		} else {
			push(f, off, n, F_ACK | F_PSH, k);
		}
		if (op >= 5 && op < 10) { /* sent again */
			push(f, off, n, F_ACK | F_PSH, 1u << GK_REPEAT);
		} else if (op >= 10 && op < 14 && off) { /* retransmission from earlier */
			size_t back = 1 + rng_below(r, off < 40 ? (uint32_t)off : 40);

			push(f, off - back, back + n, F_ACK | F_PSH, 1u << GK_OVERLAP);
		} else if (op >= 14 && op < 17) {
			push(f, 0, 0, F_ACK, 1u << GK_ACK);
		} else if (op >= 17 && op < 19) {
			push(f, off + n, 1 + rng_below(r, sizeof(garbage)), F_ACK | F_PSH,
			     1u << GK_GARBAGE);
			f->q[f->nq - 1].garbage = 1;
		} else if (op == 19) {
			push(f, off + n, 0, F_RST | F_ACK, 1u << GK_RST);
		} else if (op == 20) {
			push(f, off + n, 0, F_FIN | F_ACK, 1u << GK_FIN);
		} else if (op >= 21 && op < 25 && f->nq >= 2) { /* reordered */
			struct pending t = f->q[f->nq - 1];

			f->q[f->nq - 1] = f->q[f->nq - 2];
			f->q[f->nq - 2] = t;
			f->q[f->nq - 2].kinds |= 1u << GK_REORDER;
		}
		off += n;
	}
	if (chance(r, 50) && f->nq) {
		f->q[f->nq - 1].flags |= F_FIN;
		f->q[f->nq - 1].kinds |= 1u << GK_FIN;
	} else if (chance(r, 15)) {
		push(f, off, 0, F_FIN | F_ACK, 1u << GK_FIN);
	} else if (chance(r, 10)) {
		push(f, off, 0, F_RST | F_ACK, 1u << GK_RST);
	}
	if (chance(r, 5)) /* a FIN segment retransmitted */
		push(f, off, 0, F_FIN | F_ACK, 1u << GK_FIN | 1u << GK_REPEAT);
	else if (chance(r, 10) && f->nq && (f->q[f->nq - 1].flags & F_FIN)) {
		/* the last data segment, which carried the FIN, sent again (its ACK lost) */
		struct pending t = f->q[f->nq - 1];

		push(f, t.off, t.n, t.flags, 1u << GK_FIN | 1u << GK_REPEAT);
		f->q[f->nq - 1].garbage = t.garbage;
	}
}

static void random_frame(struct rng *r, struct gen_pkt *p)
{
	static const uint16_t types[] = {0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x9100};

	p->len = 14 + rng_below(r, 300);
	fill(r, p->b, p->len);
	put16(p->b + 12, types[rng_below(r, 6)]);
	if (chance(r, 50))
		p->b[14] = chance(r, 50) ? 0x45 : 0x60;
	p->dir = 1 + rng_below(r, 2);
	p->kinds = 1u << GK_RANDOM;
}

int gen_sequence(struct rng *r, struct gen_pkt *out, int max)
{
	struct flowgen fl[3];
	int nf = 1 + (chance(r, 30) ? rng_below(r, 3) : 0), i, n = 0, left = 0;

	for (i = 0; i < nf; i++) {
		fl[i].stream = streams[i];
		plan_flow(r, &fl[i], max / nf - 4);
		left += fl[i].nq;
	}
	fill(r, garbage, sizeof(garbage));
	while (left && n < max) {
		struct flowgen *f;
		struct pending *q;
		uint8_t data[1500];
		size_t dn;

		if (chance(r, 2)) {
			random_frame(r, &out[n++]);
			continue;
		}
		do
			f = &fl[rng_below(r, nf)];
		while (f->next == f->nq);
		q = &f->q[f->next++];
		left--;
		dn = q->n > sizeof(data) ? sizeof(data) : q->n;
		if (q->garbage)
			memcpy(data, garbage, dn);
		else
			memcpy(data, f->stream + q->off, dn);
		/* the SYN's own sequence number is isn, stream byte k is at isn + 1 + k */
		out[n].kinds =
		    q->kinds | frame(r, &f->l, q->flags & F_SYN ? f->isn : f->isn + 1 + q->off,
				     q->flags, data, dn, &out[n]);
		if (chance(r, 3)) {
			out[n].dir ^= 3;
			out[n].kinds |= 1u << GK_OTHERDIR;
		}
		mutate(r, &out[n]);
		n++;
	}
	return n;
}
