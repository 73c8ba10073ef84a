// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "match.h"

#define MATCH_RING 256

static struct seen {
	struct at_event e;
	__u64 id;
	int matched;
} ring[MATCH_RING];
static __u64 next_id = 1;

/* The same connection, seen from the same end: the library's ends are oriented as the wire's. */
static int same_ends(const struct at_event *wire, const struct at_event *lib)
{
	return wire->ip_version == lib->ip_version && wire->sport == lib->sport &&
	       wire->dport == lib->dport && !memcmp(wire->saddr, lib->saddr, sizeof(lib->saddr)) &&
	       !memcmp(wire->daddr, lib->daddr, sizeof(lib->daddr));
}

static int same_alert(const struct at_event *wire, const struct at_event *lib)
{
	if (!(wire->flags & AT_F_HAS_TASK) || wire->pid != lib->pid ||
	    wire->direction != lib->direction)
		return 0;
	/* A library event that knows its connection's ends pairs only with that connection. */
	if ((lib->flags & AT_F_HAS_ADDR) && !same_ends(wire, lib))
		return 0;
	if (wire->flags & AT_F_ENCRYPTED)
		return lib->version != 0x0304 && !(lib->flags & AT_F_DTLS);
	return wire->level == lib->level && wire->code == lib->code;
}

__u64 match_event(struct at_event *e, __u64 *id)
{
	struct seen *best = NULL;
	int i;

	*id = next_id++;
	/* A QUIC close has no library event to pair with here (QUIC stacks send alerts in
	 * CONNECTION_CLOSE frames, not through the TLS library's alert path). */
	if (e->source == AT_SRC_QUIC)
		return 0;
	for (i = 0; i < MATCH_RING; i++) {
		struct seen *s = &ring[i];
		const struct at_event *w, *l;
		/* Events of two CPUs may arrive a little out of order: compare both ways, in
		 * unsigned arithmetic (negating the signed difference overflows at 2^63). */
		__u64 d = e->ts_ns - s->e.ts_ns;

		if (!s->id || s->matched || s->e.source == e->source ||
		    (d > MATCH_WINDOW_NS && -d > MATCH_WINDOW_NS))
			continue;
		w = e->source == AT_SRC_WIRE ? e : &s->e;
		l = e->source == AT_SRC_WIRE ? &s->e : e;
		/* The oldest unmatched observation first: alerts of one process come in order. */
		if (same_alert(w, l) && (!best || s->id < best->id))
			best = s;
	}
	if (best) {
		best->matched = 1;
		if (e->source != AT_SRC_WIRE && (e->flags & AT_F_HAS_ADDR)) {
			/* Its own ends (the same, by same_ends); the interface is the wire's. */
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
	ring[*id % MATCH_RING] = (struct seen){.e = *e, .id = *id, .matched = best != NULL};
	return best ? best->id : 0;
}
