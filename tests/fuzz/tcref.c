// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reference model of the wire source (see tcref.h). Deliberately plain: the headers are read as
 * the RFCs lay them out, byte by byte, and the TLS stream is read one byte at a time, with no
 * fast paths. The rules it implements, beyond the RFCs' formats:
 *
 * - Frames: Ethernet II with at most two VLAN tags (802.1Q 0x8100 or 802.1ad 0x88a8, in any
 *   order); a third tag is not looked through.
 * - IPv4 (RFC 791): version 4, IHL >= 5, protocol 6, fragment offset 0 (a first fragment is read;
 *   it holds the TCP header). Total length 0 means "the frame's length" (a GSO packet past
 *   64 KiB), a total length below the header length is not IP; the packet ends at the total
 *   length or at the end of the frame, whichever comes first (Ethernet padding is not payload).
 *   Checksums are not checked: the classifier sees egress packets before the NIC fills them.
 * - IPv6 (RFC 8200): version 6; extension headers hop-by-hop (0), routing (43), fragment (44)
 *   and destination options (60), in any order, at most four of them; a fragment header with
 *   a non-zero offset is a later fragment. Payload length 0 means "the frame's length"
 *   (jumbogram). Any other next header (AH, ESP, no next header, UDP, ...) is not TCP.
 * - TCP (RFC 9293 3.1): data offset >= 5, the header within the IP packet; the payload is what
 *   follows the header up to the IP packet's end. SYN, FIN and RST are the flags that matter.
 * - TLS records (RFC 5246 6.2, RFC 8446 5.1): type (20..24, RFC 6520 for heartbeat), major version
 *   3, minor version 0..4, length 1..2^14 + 2048 (RFC 5246 6.2.3's TLSCiphertext bound; a
 *   zero-length record is never on the wire in practice: the classifier takes length 0 as not
 *   TLS). An alert record (type 21) of length 2 is plaintext: its two body bytes are the level
 *   and description (RFC 8446 6); any other length is an encrypted alert, reported with its
 *   length and no level. A record is reported in the segment where its header, and for a
 *   plaintext alert its 2 body bytes, are complete.
 * - Flows, one per direction and 4-tuple: a SYN starts one, in step at the byte after the SYN's
 *   sequence number. A segment of a flow in step is read from the flow's position (a segment
 *   that begins before it, a retransmission, is read from it; one entirely before it is not
 *   read). A segment that begins after the position (a gap) or of a flow not followed is read
 *   only if it begins with a record header and, when the next header starts inside the segment
 *   too, that one is a header as well; the flow then follows from there. A byte sequence that
 *   is not a record header where one is due ends the flow (the reports before it in the segment
 *   stand). RST ends the flow and reads nothing; FIN ends it after its segment was read, and
 *   a later segment of the same direction and 4-tuple that ends at or before where the FIN
 *   segment ended (its retransmission) is not read, until a SYN starts the flow again.
 * - Gaps (loss, reordering): when a flow in step is picked up past a gap, the range from its old
 *   position to the segment's start is remembered (one range per flow; a newer gap replaces it
 *   and the older one counts as a possible miss). A segment that begins inside the range, and
 *   would otherwise not be read (it lies before the position), is read on its own if it begins
 *   with records (the same rule as above), only the records that begin before the range's end,
 *   and the flow's position does not change; one that begins at the range's start shrinks it.
 *   Every segment with payload of a flow with state that begins past the position or inside the
 *   range and is not read counts as a possible miss.
 */
#include <string.h>
#include "tcref.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define PROTO_TCP 6
#define MAX_TLS_LEN (16384 + 2048)

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A parsed segment. */
struct tcp_seg {
	uint8_t ipv;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq;
	int syn, fin, rst;
	const uint8_t *data;
	size_t len;
};

/* The TCP header at pkt + at (its 20 fixed bytes are in the frame); end: the IP packet's end. */
static enum ref_parse_res parse_tcp(const uint8_t *pkt, size_t at, size_t end, struct tcp_seg *s)
{
	size_t hl;

	hl = (size_t)(pkt[at + 12] >> 4) * 4;
	if (hl < 20 || at + hl > end)
		return REF_BAD_TCP;
	s->sport = be16(pkt + at);
	s->dport = be16(pkt + at + 2);
	s->seq = be32(pkt + at + 4);
	s->fin = pkt[at + 13] & 0x01;
	s->syn = !!(pkt[at + 13] & 0x02);
	s->rst = !!(pkt[at + 13] & 0x04);
	s->data = pkt + at + hl;
	s->len = end - at - hl;
	return REF_TCP;
}

static enum ref_parse_res parse_frame(const uint8_t *pkt, size_t n, struct tcp_seg *s,
				      enum ref_quirk quirk)
{
	size_t at = 14, end;
	unsigned type;
	int tags;

	memset(s, 0, sizeof(*s));
	if (n < 14)
		return REF_NOT_IP;
	type = be16(pkt + 12);
	for (tags = 0; tags < 2 && (type == ETHERTYPE_VLAN ||
				    (type == ETHERTYPE_QINQ && quirk != REF_QUIRK_NO_QINQ));
	     tags++) {
		if (at + 4 > n)
			return REF_NOT_IP;
		type = be16(pkt + at + 2);
		at += 4;
	}
	if (type == ETHERTYPE_IPV4) {
		unsigned ihl, total;

		if (at + 20 > n)
			return REF_BAD_IP;
		if (pkt[at] >> 4 != 4 || (pkt[at] & 15) < 5)
			return REF_BAD_IP;
		if (pkt[at + 9] != PROTO_TCP || (be16(pkt + at + 6) & 0x1fff))
			return REF_NOT_TCP;
		ihl = (pkt[at] & 15) * 4u;
		total = be16(pkt + at + 2);
		if (total && total < ihl)
			return REF_BAD_IP;
		end = total ? at + total : n;
		if (end > n)
			end = n;
		s->ipv = 4;
		memcpy(s->saddr, pkt + at + 12, 4);
		memcpy(s->daddr, pkt + at + 16, 4);
		if (at + ihl + 20 > n) /* options or the TCP header past the frame */
			return REF_BAD_IP;
		return parse_tcp(pkt, at + ihl, end, s);
	}
	if (type == ETHERTYPE_IPV6) {
		unsigned next, plen;
		int i;

		if (at + 40 > n || pkt[at] >> 4 != 6)
			return REF_BAD_IP;
		plen = be16(pkt + at + 4);
		end = plen ? at + 40 + plen : n;
		if (end > n)
			end = n;
		next = pkt[at + 6];
		s->ipv = 6;
		memcpy(s->saddr, pkt + at + 8, 16);
		memcpy(s->daddr, pkt + at + 24, 16);
		at += 40;
		for (i = 0; next != PROTO_TCP; i++) {
			if (i == 4 || (next != 0 && next != 43 && next != 44 && next != 60))
				return REF_NOT_TCP;
			if (at + 8 > n)
				return REF_BAD_IP;
			if (next == 44) {
				/* RFC 8200 4.5: fragment offset in the top 13 bits of bytes 2-3 */
				if (be16(pkt + at + 2) >> 3)
					return REF_NOT_TCP;
				next = pkt[at];
				at += 8;
			} else {
				/* RFC 8200 4.3: Hdr Ext Len in 8-octet units, not counting the
				 * first */
				next = pkt[at];
				at += 8 + 8 * (size_t)pkt[at + 1];
			}
		}
		if (at + 20 > n)
			return REF_BAD_IP;
		return parse_tcp(pkt, at, end, s);
	}
	return REF_NOT_IP;
}

static int same_ends(const struct ref_flow *f, const struct tcp_seg *s, uint8_t dir)
{
	return f->used && f->dir == dir && f->ipv == s->ipv && f->sport == s->sport &&
	       f->dport == s->dport && !memcmp(f->saddr, s->saddr, 16) &&
	       !memcmp(f->daddr, s->daddr, 16);
}

static void set_ends(struct ref_flow *f, const struct tcp_seg *s, uint8_t dir)
{
	memset(f, 0, sizeof(*f));
	f->used = 1;
	f->dir = dir;
	f->ipv = s->ipv;
	f->sport = s->sport;
	f->dport = s->dport;
	memcpy(f->saddr, s->saddr, 16);
	memcpy(f->daddr, s->daddr, 16);
}

static struct ref_flow *find(struct ref_model *m, const struct tcp_seg *s, uint8_t dir)
{
	int i;

	for (i = 0; i < REF_MAX_FLOWS; i++)
		if (same_ends(&m->flows[i], s, dir))
			return &m->flows[i];
	return NULL;
}

static struct ref_flow *add(struct ref_model *m, const struct tcp_seg *s, uint8_t dir)
{
	struct ref_flow *f = find(m, s, dir);
	int i;

	for (i = 0; !f && i < REF_MAX_FLOWS; i++)
		if (!m->flows[i].used)
			f = &m->flows[i];
	if (!f) /* the fuzzer uses few flows per sequence: reuse the first slot */
		f = &m->flows[0];
	set_ends(f, s, dir);
	return f;
}

static struct ref_fin *find_fin(struct ref_model *m, const struct tcp_seg *s, uint8_t dir)
{
	int i;

	for (i = 0; i < REF_MAX_FLOWS; i++)
		if (same_ends(&m->fins[i].f, s, dir))
			return &m->fins[i];
	return NULL;
}

static void add_fin(struct ref_model *m, const struct tcp_seg *s, uint8_t dir, uint32_t end)
{
	struct ref_fin *x = find_fin(m, s, dir);
	int i;

	for (i = 0; !x && i < REF_MAX_FLOWS; i++)
		if (!m->fins[i].f.used)
			x = &m->fins[i];
	if (!x)
		x = &m->fins[0];
	set_ends(&x->f, s, dir);
	x->end = end;
}

/* RFC 5246 6.2 / RFC 8446 5.1: does h (5 bytes) look like a TLSPlaintext/TLSCiphertext header? */
static enum ref_quirk quirk;

static int is_record_header(const uint8_t *h)
{
	unsigned len = be16(h + 3);

	return h[0] >= 20 && h[0] <= 24 && h[1] == 3 && h[2] <= 4 && len >= 1 &&
	       len <= MAX_TLS_LEN - (quirk == REF_QUIRK_MAX_LEN);
}

/* Where a flow not in step may be picked up again: see the file comment. */
static int starts_with_records(const uint8_t *d, size_t n)
{
	size_t second;

	if (n < 5 || !is_record_header(d))
		return 0;
	second = 5 + be16(d + 3);
	return second + 5 > n || is_record_header(d + second);
}

static void report(struct ref_model *m, const struct tcp_seg *s, uint8_t dir, const uint8_t *h)
{
	struct ref_ev *e;

	if (m->nev == REF_MAX_EV)
		return;
	e = &m->ev[m->nev++];
	memset(e, 0, sizeof(*e));
	e->dir = dir;
	e->ipv = s->ipv;
	e->version = be16(h + 1);
	e->length = be16(h + 3);
	if (e->length == 2) {
		e->level = h[5];
		e->code = h[6];
	} else {
		e->encrypted = 1;
	}
	e->sport = s->sport;
	e->dport = s->dport;
	memcpy(e->saddr, s->saddr, 16);
	memcpy(e->daddr, s->daddr, 16);
}

/*
 * Read the stream bytes d[from..n) with the reader's state (hdr, nhdr); the record body after a
 * header is skipped by its length. Returns 0 when the stream stayed TLS, -1 at a byte sequence
 * that is not a record header; *want_off: the offset (may lie past n) of the next byte wanted.
 */
static int read_records(struct ref_model *m, const struct tcp_seg *s, uint8_t dir, size_t from,
			uint8_t *hdr, int *nhdr, uint64_t *want_off)
{
	uint64_t i = from;

	while (i < s->len) {
		hdr[(*nhdr)++] = s->data[i++];
		if (*nhdr < 5)
			continue;
		if (*nhdr == 5 && !is_record_header(hdr))
			return -1;
		if (hdr[0] == 21 && be16(hdr + 3) == 2) {
			if (*nhdr < 7)
				continue;
			report(m, s, dir, hdr);
			*nhdr = 0;
			continue;
		}
		if (hdr[0] == 21)
			report(m, s, dir, hdr);
		i += be16(hdr + 3);
		*nhdr = 0;
	}
	*want_off = i;
	return 0;
}

void ref_reset(struct ref_model *m)
{
	memset(m->flows, 0, sizeof(m->flows));
	memset(m->fins, 0, sizeof(m->fins));
	m->nev = 0;
	m->possible_miss = 0;
}

enum ref_parse_res ref_packet(struct ref_model *m, const uint8_t *pkt, size_t len, uint8_t dir)
{
	struct tcp_seg s;
	enum ref_parse_res r;
	struct ref_flow *f;
	struct ref_fin *fe;
	uint32_t start;
	uint8_t hdr[7];
	int nhdr = 0, in_step = 0, past = 0, late = 0;
	uint64_t want;
	size_t from = 0;

	m->nev = 0;
	quirk = m->quirk;
	r = parse_frame(pkt, len, &s, quirk);
	if (r != REF_TCP)
		return r;
	f = find(m, &s, dir);
	if (s.rst) {
		if (f)
			f->used = 0;
		return r;
	}
	start = s.seq;
	if (s.syn) {
		/* RFC 9293 3.4: the SYN occupies one sequence number; data follows it */
		start = s.seq + 1;
		f = add(m, &s, dir);
		f->want = start;
		fe = find_fin(m, &s, dir);
		if (fe)
			fe->f.used = 0;
	}
	if (f) {
		int32_t ahead = (int32_t)(f->want - start); /* RFC 1982 serial arithmetic */

		if (ahead >= 0) {
			if ((uint32_t)ahead >= s.len) {
				/* nothing new, unless it lies in the range a gap left */
				if (!f->gap || quirk == REF_QUIRK_NO_GAP ||
				    (int32_t)(start - f->gap_from) < 0 ||
				    (int32_t)(f->gap_to - start) <= 0)
					goto done;
				late = 1;
			} else {
				in_step = 1;
				from = (uint32_t)ahead;
				memcpy(hdr, f->hdr, sizeof(hdr));
				nhdr = f->nhdr;
			}
		} else {
			past = 1;
		}
	}
	if (!in_step && !starts_with_records(s.data, s.len)) {
		if ((past || late) && s.len)
			m->possible_miss++;
		goto done;
	}
	if (!f && !s.syn && quirk != REF_QUIRK_FIN_AGAIN) {
		fe = find_fin(m, &s, dir);
		if (fe && (int32_t)(fe->end - (start + (uint32_t)s.len)) >= 0)
			return r; /* the FIN segment again */
	}
	if (late) {
		struct tcp_seg part = s;
		uint32_t in = f->gap_to - start;

		if (in < part.len)
			part.len = in;
		read_records(m, &part, dir, 0, hdr, &nhdr, &want);
		if (start == f->gap_from) {
			f->gap_from = start + (uint32_t)part.len;
			if (f->gap_from == f->gap_to)
				f->gap = 0;
		}
		goto done;
	}
	if (read_records(m, &s, dir, from, hdr, &nhdr, &want)) {
		if (f)
			f->used = 0;
		return r;
	}
	if (!f) {
		if (s.fin) {
			add_fin(m, &s, dir, start + (uint32_t)s.len);
			return r;
		}
		f = add(m, &s, dir);
	}
	if (past) {
		if (f->gap)
			m->possible_miss++;
		f->gap = 1;
		f->gap_from = f->want;
		f->gap_to = start;
	}
	f->want = start + (uint32_t)want;
	memcpy(f->hdr, hdr, sizeof(hdr));
	f->nhdr = quirk == REF_QUIRK_NO_CARRY ? 0 : nhdr;
done:
	if (s.fin && f) {
		f->used = 0;
		add_fin(m, &s, dir, start + (uint32_t)s.len);
	}
	return r;
}
