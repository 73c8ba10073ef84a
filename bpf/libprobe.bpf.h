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
};

/* LRU, by thread: a thread that dies inside the function must not leak an entry forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");
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

/*
 * The socket of the session's fd in the current task, at the moment of the alert: the wire
 * event of an alert about to be sent will name this process (at_owner_claim). NULL when fd is
 * not a TCP socket of this task.
 */
static __always_inline struct sock *at_lib_sock(long fd)
{
	struct at_sock_key k;
	struct sock *sk = at_fd_sock(fd);

	if (sk) {
		at_sock_key(sk, &k);
		at_owner_claim(&k);
	}
	return sk;
}

/* One alert a library sent or received, from the current task, on sk when known: the event,
 * not yet emitted, for a provider that adds what it knows (the server name, the reason) before
 * at_emit(). */
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
	e->uid = (__u32)bpf_get_current_uid_gid();
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
