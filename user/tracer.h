/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tracer's machinery, shared by a normal run (main.c) and --selftest (selftest.c): the maps,
 * the ring buffer, the wire source (TC on the interfaces, socket owners) and the library source
 * (every TLS library, discovery at exec), set up in this order and torn down by tracer_stop.
 * The wire source's steps are in wire/wire_start.c, the rest in tracer.c.
 *
 *	tracer_init(&t, o);
 *	tracer_start_core(&t) -> tracer_start_wire(&t, msg, n) -> tracer_start_libs(&t, msg, n)
 *	-> tracer_finish_wire(&t, msg, n) -> tracer_scan_libs(&t, msg, n)
 *	... tracer_poll(&t, ms), tracer_rescan(&t), tracer_report_lost(&t) ...
 *	tracer_stop(&t);
 */
#ifndef AT_TRACER_H
#define AT_TRACER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "alerttrace.h"
#include "cli.h"
#include "hist.h"
#include "accept.h"
#include "ifaces.h"
#include "shared.h"
#include "tc_attach.h"

#define AT_RINGBUF_SIZE (4 << 20)

/* An event handed to the caller instead of printed; lib is the library path or NULL (wire). */
typedef void (*tracer_event_fn)(void *ctx, const struct at_event *e, const char *lib);

struct tracer {
	struct at_opts *o;
	struct at_shared sh;		/* the maps every BPF object shares, and the filters */
	struct tc_bpf *tc;
	struct bgload tc_load;		/* the TC and socket owners' objects, loaded in threads */
	struct bgload sock_load;	/* from tracer_start_wire to tracer_finish_wire */
	struct sock_bpf *sock;
	struct accept_plan accept;	/* how the accepting task is seen (accept.h) */
	struct quic_src *quic;		/* QUIC Initials from the classifier; NULL: none */
	struct tc_set links;
	struct ifwatch *ifw;		/* the interfaces of -i, followed (ifwatch.h) */
	int epfd;			/* the ring buffers and ifw's socket; -1: the ring alone */
	struct lib_tracer *libs;
	struct execwatch *ew;		/* discovery at exec; NULL: the rescan alone */
	struct ring_buffer *rb;
	struct hist_state hist;
	bool metrics;			/* --prometheus or --textfile */
	bool stdout_closed;		/* printing an event failed: stop */
	bool quiet;			/* no coverage report (--selftest without -v) */
	tracer_event_fn on_event;	/* NULL: print each event (output.c) */
	void *on_event_ctx;
	__u64 lost_reported, hist_lost_reported, ew_lost_reported, quic_limited_reported;
	__u64 miss_reported;
	__u64 loader_hist_lost;		/* loader-made events the histogram map refused */
	__u64 alerts_seen;		/* alert events since the last poll */
	double t0_ms, phase_ms;		/* tracer_init, the last tracer_phase (-v timings) */
};

/* CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN (or CAP_SYS_ADMIN): what loading and attaching need. */
bool tracer_have_caps(void);
__u64 tracer_now_ms(void);

void tracer_init(struct tracer *t, struct at_opts *o);
/* With -v: "start-up: WHAT" and the ms since the last phase (or tracer_init), and since it. */
void tracer_phase(struct tracer *t, const char *what);
/* Stale filters of this network namespace removed, the maps and their filter rodata, the ring
 * buffer. 0 or -errno, the error reported through the log sink. */
int tracer_start_core(struct tracer *t);
/* The wire source on o->ifaces, in two steps: start loads the TC classifier in a thread (the
 * verifier's time overlaps the library source's start), attaches the socket owners' tracepoint and
 * reads the owners of existing sockets; finish waits for the load and attaches the classifier.
 * Each 0 or -errno with one line in msg; finish only after a start that returned 0. */
int tracer_start_wire(struct tracer *t, char *msg, size_t n);
int tracer_finish_wire(struct tracer *t, char *msg, size_t n);
/* The library source in two steps: start loads its objects and discovery at exec and hooks the
 * files of --lib; scan hooks what the processes of the host map and the binary directories hold.
 * Each 0 or -errno with one line in msg; scan only after a start that returned 0. */
int tracer_start_libs(struct tracer *t, char *msg, size_t n);
int tracer_scan_libs(struct tracer *t, char *msg, size_t n);
/* Wait up to ms for events or interface notifications, handle both: what ring_buffer__poll
 * returns. */
int tracer_poll(struct tracer *t, int ms);
/* Interface notifications waiting, handled without waiting (while alerts are gathered). */
void tracer_follow_ifaces(struct tracer *t);
/* The interfaces attached at start, said once every source started. */
void tracer_report_start(struct tracer *t);
/* Look for new TLS libraries in every process (the rescan every second). */
/* The binary directories' programs prepared beside the tracer since the last call, hooked. */
void tracer_prepared(struct tracer *t);
void tracer_rescan(struct tracer *t);
/* An event the loader makes itself (QUIC's, quic_src.c): filtered, counted and streamed as
 * one from the ring buffer (wire_start.c hands it to quic_src_open). */
void tracer_loader_event(void *ctx, struct at_event *e);
/* Events the kernel could not deliver or count: cumulative; hist: the histogram's. */
__u64 tracer_lost(struct tracer *t, bool hist);
/* The wire source's other counts, cumulative (0 without it). */
enum tracer_count { TRACER_POSSIBLE_MISSES, TRACER_QUIC_UNOPENED };
__u64 tracer_wire_count(struct tracer *t, enum tracer_count c);
/* Report what was lost since the last call. Never silent. */
void tracer_report_lost(struct tracer *t);
/* Detach and free everything; safe after any failed start. */
void tracer_stop(struct tracer *t);

#endif
