/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every library provider's uprobes share (ossl.bpf.c, gnutls.bpf.c, ...): the -p test that
 * comes before any memory read, the connection's socket from the session's fd, the event of a
 * library alert, handed to emit.bpf.h, and, with AT_LIBPROBE_PENDING, the state an entry probe
 * leaves for its return probe.
 * Included after vmlinux.h, bpf_helpers.h, alerttrace.h and emit.bpf.h.
 */
#ifndef AT_LIBPROBE_BPF_H
#define AT_LIBPROBE_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "owners.bpf.h"
#include "fdsock.bpf.h"

#ifdef AT_LIBPROBE_PENDING
/* What an entry probe saw, until the function's return says whether the record was written. */
struct pending {
	__u64 session;
	__u64 sk;	/* the connection's struct sock, 0 when not known */
	__u16 version;
	__u8 level;
	__u8 code;
	__u8 dtls;
	__u8 pad[3];
	__u32 lib_id;	/* the library whose function it is (AT_PENDING_CUT's event) */
	__u32 pad2;
};

/*
 * By thread, two ways. First a slot of an array indexed by the thread id's low bits, claimed by
 * compare-and-swap of its tid: an array lookup is inlined and costs nothing like a hash update,
 * which measured 0.2-0.3 us per run (bench/bench_probecost.sh, bpf_stats). A slot another live
 * thread holds (same low bits, inside the function at the same time, or dead inside it) sends
 * the entry to the LRU hash, whose least recently used entries go: a thread that dies inside the
 * function leaks nothing forever.
 */
/* The slot of thread tid in an array of AT_THREAD_SLOTS_MAX (fewer with at_filt.slot_bits:
 * tests/t_thread_slots.sh makes threads share them). */
static __always_inline __u32 at_thread_slot(__u32 tid)
{
	__u32 mask = at_filt.slot_bits ? (1u << ((at_filt.slot_bits - 1) & 15)) - 1
				       : AT_THREAD_SLOTS_MAX - 1;

	return tid & mask & (AT_THREAD_SLOTS_MAX - 1);
}

struct pending_slot {
	__u64 tid; /* 0: free; 64 bits, as BPF's atomics before -mcpu=v3 are */
	struct pending p;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AT_THREAD_SLOTS_MAX);
	__type(key, __u32);
	__type(value, struct pending_slot);
} pending_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

static __always_inline void at_pending_put(__u32 tid, const struct pending *p)
{
	__u32 i = at_thread_slot(tid);
	struct pending_slot *sl = bpf_map_lookup_elem(&pending_slots, &i);

	if (sl && tid && (sl->tid == tid || __sync_val_compare_and_swap(&sl->tid, 0, (__u64)tid) == 0)) {
		sl->p = *p;
		return;
	}
	bpf_map_update_elem(&pending, &tid, p, BPF_ANY);
}

/* The thread's entry, into *out, and gone from the maps: true, or false when there is none. */
static __always_inline bool at_pending_take(__u32 tid, struct pending *out)
{
	__u32 i = at_thread_slot(tid);
	struct pending_slot *sl = bpf_map_lookup_elem(&pending_slots, &i);
	struct pending *p;

	if (sl && tid && sl->tid == tid) {
		*out = sl->p;
		/* Released after the copy: an atomic exchange orders it after the reads. */
		__sync_lock_test_and_set(&sl->tid, 0);
		return true;
	}
	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return false;
	*out = *p;
	bpf_map_delete_elem(&pending, &tid);
	return true;
}

/*
 * A thread that exits or execs inside the function (a BIO callback that calls exit, a process
 * killed while its alert's write blocks) never reaches the return probe: its entry is taken at
 * the scheduler's exit and exec tracepoints (raw, by name: no tracefs) and handed to
 * emit(tid's entry, after_exec), which reports it with AT_F_CUT instead of losing it. The exec's
 * entry was left under the thread's id before the exec (old_pid); after an exec the user memory
 * is the new program's: emit must read none of it (no server name). The loader attaches both
 * where the return probe is attached (objload.c): a provider with pending entries expands this
 * once.
 */
#define AT_PENDING_CUT(emit)                                                               \
	SEC("raw_tp/sched_process_exit")                                                   \
	int pending_exit(struct bpf_raw_tracepoint_args *ctx)                              \
	{                                                                                  \
		struct pending p;                                                          \
		if (at_pending_take((__u32)bpf_get_current_pid_tgid(), &p))                \
			emit(&p, false);                                                   \
		return 0;                                                                  \
	}                                                                                  \
	SEC("raw_tp/sched_process_exec")                                                   \
	int pending_exec(struct bpf_raw_tracepoint_args *ctx)                              \
	{                                                                                  \
		struct pending p;                                                          \
		if (at_pending_take((__u32)ctx->args[1], &p))                              \
			emit(&p, true);                                                    \
		return 0;                                                                  \
	}
#endif

/* The -p filter, checked first: other processes cost no memory reads. */
static __always_inline bool at_pid_wanted(__u32 tgid)
{
	if (!at_filt.pids[0])
		return true;
	for (int i = 0; i < AT_FILT_PIDS; i++) {
		if (!at_filt.pids[i])
			break;
		if (at_filt.pids[i] == tgid)
			return true;
	}
	return false;
}

/* Whether the probes read what AT_SKIP_* bit what names (at_filter.lib_skip): a constant the
 * verifier prunes the reads by. */
#define at_lib_reads(what) (!(at_filt.lib_skip & (what)))

/*
 * The socket of the session's fd in the current task, at the moment of the alert: the wire
 * event of an alert about to be sent will name this process (at_owner_claim). NULL when fd is
 * not a TCP socket of this task.
 */
static __always_inline struct sock *at_lib_sock(long fd)
{
	struct at_sock_key k;
	struct sock *sk;

	if (!at_lib_reads(AT_SKIP_SOCK))
		return NULL;
	sk = at_fd_sock(fd);
	if (sk) {
		at_sock_key(sk, &k);
		at_owner_claim(&k);
	}
	return sk;
}

/* One alert a library sent or received, from the current task, on sk when known: the event,
 * not yet emitted, for a provider that adds what it knows (the server name, the reason) before
 * at_emit(). A tracer that only counts gets only what the filters and the histogram's key read
 * (at_wanted, at_hist_add): no time, uid or cgroup (unless grouped by container), three helper
 * calls fewer per alert. */
static __always_inline struct at_event *at_lib_event(__u8 source, __u32 lib_id, __u64 session,
						     __u8 direction, __u8 hook, __u8 level,
						     __u8 code, __u16 version, __u8 flags,
						     const struct sock *sk)
{
	struct at_sock_key k;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct at_event *e = at_event_new();

	if (!e)
		return NULL;
	if (at_filt.stream)
		e->ts_ns = bpf_ktime_get_ns();
	e->source = source;
	e->direction = direction;
	e->hook = hook;
	e->level = level;
	e->code = code;
	e->version = version;
	e->flags = flags | AT_F_HAS_TASK;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	if (at_filt.stream)
		e->uid = (__u32)bpf_get_current_uid_gid();
	if (at_filt.stream || (at_filt.hist_by & AT_BY_CONTAINER))
		e->cgroup_id = bpf_get_current_cgroup_id();
	e->lib_id = lib_id;
	e->session = session;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (sk) {
		at_sock_key(sk, &k);
		at_event_addrs(e, &k);
	}
	return e;
}

static __always_inline void at_lib_emit(__u8 source, __u32 lib_id, __u64 session, __u8 direction,
					__u8 hook, __u8 level, __u8 code, __u16 version,
					__u8 flags, const struct sock *sk)
{
	struct at_event *e = at_lib_event(source, lib_id, session, direction, hook, level, code,
					  version, flags, sk);

	if (e)
		at_emit(e);
}

#endif /* AT_LIBPROBE_BPF_H */
