/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The last step of every BPF source: filter an event, count it in the histogram, stream it to the
 * ring buffer. Included by each BPF object after bpf_helpers.h and alerttrace.h. The maps declared
 * here exist once: the loader creates them and every object reuses them (bpf_map__reuse_fd).
 */
#ifndef AT_EMIT_BPF_H
#define AT_EMIT_BPF_H

#ifndef __VMLINUX_H__
#include <stdbool.h>
#endif

/* Filters and mode, set by the loader before load (bcc's const volatile idiom). */
const volatile struct at_filter at_filt = {};

/* Ring-buffer reserve failures, and histogram updates refused because `hist` is full. */
__u64 lost = 0;
__u64 hist_lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AT_HIST_MAX);
	__type(key, struct at_hist_key);
	__type(value, __u64);
} hist SEC(".maps");

/*
 * The event is built here, not on the stack: the TC walk's frames have little room left. A
 * program that may be preempted (a uprobe's runs with migration disabled, not preemption) defines
 * AT_EMIT_PREEMPTIBLE before including this file: it gets one of AT_SCRATCH_SLOTS buffers per CPU,
 * claimed by compare-and-swap and given back by at_emit(), so that a probe of another task that
 * preempts it on its CPU builds its event in another buffer; and its histogram key is on its
 * stack. TC programs run in softirq or with bottom halves off: one buffer, no claim.
 */
#ifdef AT_EMIT_PREEMPTIBLE
#define AT_SCRATCH_SLOTS 4
#else
#define AT_SCRATCH_SLOTS 1
#endif

struct at_scratch {
	__u64 busy; /* AT_EMIT_PREEMPTIBLE: 1 while a program builds its event here */
	struct at_event e;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AT_SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct at_scratch);
} scratch SEC(".maps");

#ifndef AT_EMIT_PREEMPTIBLE
/* The histogram key too: with the server name it is too big for the TC walk's stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct at_hist_key);
} hkey SEC(".maps");
#endif

/* A zeroed event to fill, then hand to at_emit() on every path; NULL when there is none (every
 * buffer of this CPU taken by preempted probes: counted as lost). */
static __always_inline struct at_event *at_event_new(void)
{
	for (__u32 i = 0; i < AT_SCRATCH_SLOTS; i++) {
		__u32 k = i;
		struct at_scratch *s = bpf_map_lookup_elem(&scratch, &k);

		if (!s)
			return NULL;
#ifdef AT_EMIT_PREEMPTIBLE
		if (__sync_val_compare_and_swap(&s->busy, 0, 1) != 0)
			continue;
#endif
		__builtin_memset(&s->e, 0, sizeof(s->e));
		return &s->e;
	}
	__sync_fetch_and_add(&lost, 1);
	return NULL;
}

/* The buffer of e given back (at_emit's last step). */
static __always_inline void at_event_done(struct at_event *e)
{
#ifdef AT_EMIT_PREEMPTIBLE
	__u64 *busy = (__u64 *)((char *)e - __builtin_offsetof(struct at_scratch, e));

	__sync_lock_test_and_set(busy, 0);
#endif
}

static __always_inline bool at_comm_eq(const volatile char *a, const char *b)
{
	for (int i = 0; i < AT_TASK_COMM_LEN; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			break;
	}
	return true;
}

static __always_inline bool at_wanted(const struct at_event *e)
{
	bool has_task = e->flags & AT_F_HAS_TASK;

	if (at_filt.dirs && !(at_filt.dirs & (1u << e->direction)))
		return false;
	if (at_filt.fatal_only && (e->level != 2 || (e->flags & AT_F_ENCRYPTED)))
		return false;
	if (at_filt.pids[0]) {
		bool hit = false;

		for (int i = 0; i < AT_FILT_PIDS; i++) {
			if (!at_filt.pids[i])
				break;
			if (has_task && at_filt.pids[i] == e->pid)
				hit = true;
		}
		if (!hit)
			return false;
	}
	if (at_filt.comm[0] && (!has_task || !at_comm_eq(at_filt.comm, e->comm)))
		return false;
	if (at_filt.ports[0]) {
		bool hit = false;

		/* No address (library events): the loader decides when it learns the port by
		 * matching the wire event; a histogram cannot wait, so it leaves them out. */
		if (!(e->flags & AT_F_HAS_ADDR))
			return at_filt.stream;
		for (int i = 0; i < AT_FILT_PORTS; i++) {
			if (!at_filt.ports[i])
				break;
			if (at_filt.ports[i] == e->sport || at_filt.ports[i] == e->dport)
				hit = true;
		}
		if (!hit)
			return false;
	}
	return true;
}

static __always_inline void at_hist_add(const struct at_event *e)
{
#ifdef AT_EMIT_PREEMPTIBLE
	struct at_hist_key kb, *k = &kb;
#else
	__u32 zero = 0;
	struct at_hist_key *k = bpf_map_lookup_elem(&hkey, &zero);
#endif
	__u64 one = 1, *v;

	if (!k)
		return;
	__builtin_memset(k, 0, sizeof(*k));
	k->pid = at_filt.hist_per_pid ? e->pid : 0;
	k->source = e->source;
	k->direction = e->direction;
	k->encrypted = !!(e->flags & AT_F_ENCRYPTED);
	k->level = e->level;
	k->code = e->code;
	__builtin_memcpy(k->comm, e->comm, sizeof(k->comm));
	if (at_filt.hist_by & AT_BY_CONTAINER)
		k->cgroup_id = e->cgroup_id;
	if ((at_filt.hist_by & AT_BY_SNI) && (e->xflags & AT_X_SNI))
		__builtin_memcpy(k->sni, e->sni, sizeof(k->sni));
	v = bpf_map_lookup_elem(&hist, k);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	/* BPF_NOEXIST: two CPUs racing on a new key; the loser adds to the winner's entry. */
	if (bpf_map_update_elem(&hist, k, &one, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&hist, k);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			__sync_fetch_and_add(&hist_lost, 1);
	}
}

/* Filter, count, stream; e's buffer given back. */
static __always_inline void at_emit(struct at_event *e)
{
	if (at_wanted(e)) {
		if (at_filt.hist)
			at_hist_add(e);
		if (at_filt.stream && bpf_ringbuf_output(&events, e, sizeof(*e), 0))
			__sync_fetch_and_add(&lost, 1);
	}
	at_event_done(e);
}

#endif /* AT_EMIT_BPF_H */
