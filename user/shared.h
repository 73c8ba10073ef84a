/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every BPF object shares: the maps declared in bpf/emit.bpf.h and bpf/owners.bpf.h
 * (created once here, reused by each object before load) and the filter rodata.
 */
#ifndef AT_SHARED_H
#define AT_SHARED_H

#include <pthread.h>
#include <stdbool.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"

struct at_shared {
	int events_fd;		/* ring buffer */
	int hist_fd;		/* struct at_hist_key -> __u64 */
	int owners_fd;		/* struct at_sock_key -> struct at_owner */
	struct at_filter filt;
};

/* Create the maps. Returns 0 or -errno. */
int shared_create(struct at_shared *s, __u32 ringbuf_size);
/* Before load: make obj use the shared maps it declares (by name). Returns 0 or -errno. */
int shared_reuse(struct bpf_object *obj, const struct at_shared *s);
void shared_close(struct at_shared *s);
/* CLOCK_MONOTONIC in ms, for the start-up timings of -v. */
double shared_now_ms(void);

/* A skeleton's load in a thread of its own (bgload_start; in place when no thread can be made),
 * waited for by bgload_wait: its error, 0 when loaded or never started. With several loads at
 * once libbpf shares only its cache of the kernel's features between objects, which each fills
 * with the same answers (READ_ONCE/WRITE_ONCE). */
struct bgload {
	struct bpf_object_skeleton *s;
	pthread_t th;
	bool running;
	int err;
	double t0, t1;		/* shared_now_ms() around the load */
};

void bgload_start(struct bgload *b, struct bpf_object_skeleton *s);
int bgload_wait(struct bgload *b);
/* With -v: "start-up: WHAT loaded in MS ms:" (MS: t1 - t0, shared_now_ms() before and after the
 * load) and, for each program of obj, the instructions the verifier walked
 * (bpf_prog_info.verified_insns) and the time its load took. */
void shared_report_load(const char *what, const struct bpf_object *obj, double t0, double t1);

#endif
