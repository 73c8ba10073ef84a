// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The last MATCH_RING observations (ring[id % MATCH_RING]), and for each still unmatched one its
 * place in the chains that say which later events could match it, so that an event looks only
 * at observations it could match instead of all of them (a storm of one source looks at none).
 * Two observations w and l match (same_alert) when w is the wire one (or, two library sources,
 * the older), both have w's owner's pid and direction, and w is encrypted and l of TLS 1.2 or
 * earlier, or both carry the same level and code. Hence four kinds of chain, each keyed by
 * source, pid, direction and class (level and code, or none):
 *   PLAIN_L  library observations, by level and code       looked at by a plaintext wire event
 *   ENC_L    library observations of TLS 1.2 or earlier    looked at by an encrypted wire event
 *   PLAIN_W  owned, plaintext observations, by level/code  looked at by a library event
 *   ENC_W    owned, encrypted observations                 looked at by a library event of
 *                                                          TLS 1.2 or earlier
 * Chains are in the order of ids: the first one in the time window is the oldest match.
 */
#include <stdbool.h>
#include <string.h>
#include "match.h"

#define MATCH_RING 256
#define MATCH_BUCKETS 1024	/* a power of two, more than the links of MATCH_RING entries */

enum { PLAIN_L, ENC_L, PLAIN_W, ENC_W };

struct key {
	__u64 a;	/* pid, kind, source, direction */
	__u32 b;	/* class: level << 8 | code, or 0 */
};

/* An entry's place in one chain. Links are named by ref: slot * 3 + index + 1, 0 for none (an
 * entry's links may share a bucket). */
struct link {
	struct key k;
	unsigned short bucket, prev, next;
};

static struct seen {
	__u64 id;
	struct at_event e;
	int nlinks;
	struct link l[3];
} ring[MATCH_RING];

static struct {
	unsigned short head, tail;	/* refs */
} buckets[MATCH_BUCKETS];

/* Entries of each source in the ring; the sources that have any. */
static unsigned int live[256];
static __u8 active[256];
static int nactive;
static __u64 next_id = 1;
static bool libs_on = true;

void match_set_libs(bool on)
{
	libs_on = on;
}

static struct link *link_of(unsigned short ref)
{
	return &ring[(ref - 1) / 3].l[(ref - 1) % 3];
}

static struct key mkey(int kind, __u8 source, __u32 pid, __u8 dir, __u32 cls)
{
	return (struct key){.a = (__u64)pid << 32 | kind << 16 | source << 8 | dir, .b = cls};
}

static unsigned short bucket_of(struct key k)
{
	__u64 h = (k.a ^ (__u64)k.b << 20) * 0x9e3779b97f4a7c15ULL;

	return h >> (64 - 10);
}

static bool same_key(struct key x, struct key y)
{
	return x.a == y.a && x.b == y.b;
}

static __u32 cls(const struct at_event *e)
{
	return (__u32)e->level << 8 | e->code;
}

/* A library observation of TLS 1.2 or earlier: what an encrypted wire record matches. */
static bool pre13(const struct at_event *e)
{
	return e->version != 0x0304 && !(e->flags & AT_F_DTLS);
}

/* Entry slot joins the end of chain k. */
static void link_in(int slot, struct key k)
{
	struct seen *s = &ring[slot];
	unsigned short b = bucket_of(k), ref = slot * 3 + s->nlinks + 1;

	s->l[s->nlinks++] = (struct link){.k = k, .bucket = b, .prev = buckets[b].tail};
	if (buckets[b].tail)
		link_of(buckets[b].tail)->next = ref;
	else
		buckets[b].head = ref;
	buckets[b].tail = ref;
}

static void unlink_all(int slot)
{
	struct seen *s = &ring[slot];
	int i;

	for (i = 0; i < s->nlinks; i++) {
		struct link *l = &s->l[i];

		if (l->prev)
			link_of(l->prev)->next = l->next;
		else
			buckets[l->bucket].head = l->next;
		if (l->next)
			link_of(l->next)->prev = l->prev;
		else
			buckets[l->bucket].tail = l->prev;
	}
	s->nlinks = 0;
}

/* Chains an unmatched entry joins: what later events could match it as. */
static void link_entry(int slot)
{
	const struct at_event *e = &ring[slot].e;

	if (e->source != AT_SRC_WIRE) {
		link_in(slot, mkey(PLAIN_L, e->source, e->pid, e->direction, cls(e)));
		if (pre13(e))
			link_in(slot, mkey(ENC_L, e->source, e->pid, e->direction, 0));
	}
	if (e->flags & AT_F_HAS_TASK) {
		if (e->flags & AT_F_ENCRYPTED)
			link_in(slot, mkey(ENC_W, e->source, e->pid, e->direction, 0));
		else
			link_in(slot, mkey(PLAIN_W, e->source, e->pid, e->direction, cls(e)));
	}
}

/* The same connection, seen from the same end: a library event's ends are oriented as the
 * wire's. A library event that knows its connection's ends pairs only with that connection. */
static bool ends_agree(const struct at_event *a, const struct at_event *b)
{
	const struct at_event *wire = a->source == AT_SRC_WIRE ? a : b;
	const struct at_event *lib = a->source == AT_SRC_WIRE ? b : a;

	if (!(lib->flags & AT_F_HAS_ADDR))
		return true;
	return wire->ip_version == lib->ip_version && wire->sport == lib->sport &&
	       wire->dport == lib->dport && !memcmp(wire->saddr, lib->saddr, sizeof(lib->saddr)) &&
	       !memcmp(wire->daddr, lib->daddr, sizeof(lib->daddr));
}

/* The oldest entry of chain k within the time window of e, or NULL. */
static struct seen *first_in(struct key k, const struct at_event *e)
{
	unsigned short ref = buckets[bucket_of(k)].head;

	while (ref) {
		struct link *l = link_of(ref);
		struct seen *s = &ring[(ref - 1) / 3];
		/* Events of two CPUs may arrive a little out of order: compare both ways, in
		 * unsigned arithmetic (negating the signed difference overflows at 2^63). */
		__u64 d = e->ts_ns - s->e.ts_ns;

		if (same_key(l->k, k) && (d <= MATCH_WINDOW_NS || -d <= MATCH_WINDOW_NS) &&
		    ends_agree(e, &s->e))
			return s;
		ref = l->next;
	}
	return NULL;
}

static struct seen *older(struct seen *a, struct seen *b)
{
	return !a || (b && b->id < a->id) ? b : a;
}

static struct seen *find(const struct at_event *e)
{
	struct seen *best = NULL;
	int i;

	if (e->source == AT_SRC_WIRE && !(e->flags & AT_F_HAS_TASK))
		return NULL;
	for (i = 0; i < nactive; i++) {
		__u8 src = active[i];

		if (src == e->source)
			continue;
		if (e->source == AT_SRC_WIRE && (e->flags & AT_F_ENCRYPTED)) {
			best = older(best, first_in(mkey(ENC_L, src, e->pid, e->direction, 0), e));
		} else if (e->source == AT_SRC_WIRE) {
			best = older(best,
				     first_in(mkey(PLAIN_L, src, e->pid, e->direction, cls(e)), e));
		} else {
			best = older(best,
				     first_in(mkey(PLAIN_W, src, e->pid, e->direction, cls(e)), e));
			if (pre13(e))
				best = older(best, first_in(mkey(ENC_W, src, e->pid, e->direction,
								 0), e));
		}
	}
	return best;
}

/* The entry of slot leaves the ring (a newer id takes its slot). */
static void evict(int slot)
{
	struct seen *s = &ring[slot];
	int i;

	if (!s->id)
		return;
	unlink_all(slot);
	if (--live[s->e.source])
		return;
	for (i = 0; i < nactive; i++)
		if (active[i] == s->e.source)
			active[i] = active[--nactive];
}

__u64 match_event(struct at_event *e, __u64 *id)
{
	struct seen *best;
	int slot;

	*id = next_id++;
	/* A QUIC close has no library event to pair with here (QUIC stacks send alerts in
	 * CONNECTION_CLOSE frames, not through the TLS library's alert path); nor has any event
	 * without a library source. */
	if (e->source == AT_SRC_QUIC || !libs_on)
		return 0;
	best = find(e);
	if (best) {
		unlink_all(best - ring);
		if (e->source != AT_SRC_WIRE && (e->flags & AT_F_HAS_ADDR)) {
			/* Its own ends (the same, by ends_agree); the interface is the wire's. */
			e->ifindex = best->e.ifindex;
		} else if (e->source != AT_SRC_WIRE) {
			e->ip_version = best->e.ip_version;
			e->sport = best->e.sport;
			e->dport = best->e.dport;
			e->ifindex = best->e.ifindex;
			memcpy(e->saddr, best->e.saddr, sizeof(e->saddr));
			memcpy(e->daddr, best->e.daddr, sizeof(e->daddr));
			e->flags |= AT_F_HAS_ADDR;
		}
	}
	slot = *id % MATCH_RING;
	evict(slot);
	ring[slot].id = *id;
	ring[slot].e = *e;
	ring[slot].nlinks = 0;
	if (!live[e->source]++)
		active[nactive++] = e->source;
	if (!best)
		link_entry(slot);
	return best ? best->id : 0;
}
