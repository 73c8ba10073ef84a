// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include "quic.h"
#include "quic_pkt.h"
#include "udp_owner.h"
#include "quic_src.h"

/* Flows whose keys are kept: the least recently used goes first. */
#define QUIC_FLOWS 4096
/* Owners looked up when a local client sends its first Initial, while it surely runs (it may be
 * gone when the server's close arrives): at most this many /proc scans a second. */
#define QUIC_OWNER_SCANS 20
#define QUIC_OWNERS 256

struct owner_slot {
	struct quic_flow_key k;
	struct at_owner o;
	uint64_t stamp;
};

struct quic_src {
	struct quic_flows *fl;
	quic_event_fn cb;
	void *ctx;
	struct owner_slot owners[QUIC_OWNERS];
	uint64_t stamp, scan_sec, scans;
};

static bool key_eq(const struct quic_flow_key *x, const struct quic_flow_key *y)
{
	return !memcmp(x, y, sizeof(*x));
}

static const struct at_owner *owner_cached(struct quic_src *q, const struct quic_flow_key *k)
{
	int i;

	for (i = 0; i < QUIC_OWNERS; i++)
		if (q->owners[i].stamp && key_eq(&q->owners[i].k, k))
			return &q->owners[i].o;
	return NULL;
}

static void owner_keep(struct quic_src *q, const struct quic_flow_key *k, const struct at_owner *o)
{
	struct owner_slot *s = &q->owners[0];
	int i;

	for (i = 0; i < QUIC_OWNERS; i++)
		if (q->owners[i].stamp < s->stamp)
			s = &q->owners[i];
	s->k = *k;
	s->o = *o;
	s->stamp = ++q->stamp;
}

/* One key for both directions: the lower end first. */
static void flow_key(const struct at_quic_pkt *r, struct quic_flow_key *k)
{
	size_t alen = r->ip_version == 6 ? 16 : 4;
	int c = memcmp(r->saddr, r->daddr, alen);
	bool swap = c > 0 || (c == 0 && r->sport > r->dport);

	memset(k, 0, sizeof(*k));
	k->family = r->ip_version;
	memcpy(k->a, swap ? r->daddr : r->saddr, 16);
	memcpy(k->b, swap ? r->saddr : r->daddr, 16);
	k->pa = swap ? r->dport : r->sport;
	k->pb = swap ? r->sport : r->dport;
}

static const struct at_owner *task_owner(const struct at_quic_pkt *r, struct at_owner *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = r->pid;
	o->tid = r->tid;
	o->uid = r->uid;
	memcpy(o->comm, r->comm, sizeof(o->comm));
	return o;
}

static int on_pkt(void *ctx, void *data, size_t len)
{
	const struct at_quic_pkt *r = data;
	struct quic_src *q = ctx;
	struct quic_close c[4];
	struct quic_flow_key k;
	uint64_t learned;
	int n, i;

	if (len < sizeof(*r) || r->caplen > AT_QUIC_CAP)
		return 0;
	flow_key(r, &k);
	learned = quic_stats(q->fl)->flows;
	n = quic_datagram(q->fl, &k, r->data, r->caplen, c, 4);
	if (quic_stats(q->fl)->flows != learned && r->direction == AT_DIR_SENT) {
		/* A local client's first Initial: its owner now, while it surely runs (it may
		 * be gone when the server's close arrives), from the sending task the classifier
		 * saw or, within the budget, from /proc. */
		uint64_t sec = r->ts_ns / 1000000000ULL;
		struct at_owner o;

		if (sec != q->scan_sec) {
			q->scan_sec = sec;
			q->scans = 0;
		}
		if (r->has_task)
			owner_keep(q, &k, task_owner(r, &o));
		else if (q->scans++ < QUIC_OWNER_SCANS &&
			 !udp_owner(r->ip_version, r->saddr, r->sport, &o))
			owner_keep(q, &k, &o);
	}
	for (i = 0; i < n; i++) {
		bool sent = r->direction == AT_DIR_SENT;
		struct at_event e = {};
		const struct at_owner *known = owner_cached(q, &k);
		struct at_owner o;

		e.ts_ns = r->ts_ns;
		e.source = AT_SRC_QUIC;
		e.direction = r->direction;
		e.level = 2;	/* CONNECTION_CLOSE ends the connection: fatal */
		e.code = c[i].alert;
		e.flags = AT_F_HAS_ADDR;
		e.ip_version = r->ip_version;
		e.version = 0x0304;	/* QUIC runs TLS 1.3 (RFC 9001 4.2) */
		e.sport = r->sport;
		e.dport = r->dport;
		e.ifindex = r->ifindex;
		memcpy(e.saddr, r->saddr, 16);
		memcpy(e.daddr, r->daddr, 16);
		/* The local end: the source of what was sent, the destination of what came. */
		/* A flow's owner seen at its first Initial is the local end only if that end is
		 * the client's; the server's is looked up. */
		if (known && sent != c[i].by_client)
			known = NULL;
		if (sent && r->has_task)
			known = task_owner(r, &o);
		if (known)
			o = *known;
		if (known || !udp_owner(r->ip_version, sent ? r->saddr : r->daddr,
					sent ? r->sport : r->dport, &o)) {
			e.pid = o.pid;
			e.tid = o.tid;
			e.uid = o.uid;
			memcpy(e.comm, o.comm, sizeof(e.comm));
			e.flags |= AT_F_HAS_TASK;
		}
		q->cb(q->ctx, &e);
	}
	return 0;
}

int quic_src_open(struct quic_src **out, struct ring_buffer *rb, int map_fd, quic_event_fn cb,
		  void *ctx)
{
	struct quic_src *q = calloc(1, sizeof(*q));
	int err;

	if (!q)
		return -ENOMEM;
	q->fl = quic_flows_new(QUIC_FLOWS);
	q->cb = cb;
	q->ctx = ctx;
	if (!q->fl) {
		free(q);
		return -ENOMEM;
	}
	err = ring_buffer__add(rb, map_fd, on_pkt, q);
	if (err) {
		quic_src_close(q);
		return err;
	}
	*out = q;
	return 0;
}

void quic_src_close(struct quic_src *q)
{
	if (!q)
		return;
	quic_flows_free(q->fl);
	free(q);
}

const struct quic_stats *quic_src_stats(const struct quic_src *q)
{
	return quic_stats(q->fl);
}
