// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attribution of wire events without kprobes: the tracepoint sock:inet_sock_set_state fires on
 * every TCP state change (never per packet, never per read or write), and some of those changes
 * run in the context of the process that owns the socket:
 *  - CLOSE -> SYN_SENT runs in connect(): the caller is the owner of the connection; its ports
 *    are not chosen yet (tcp_v4_connect sets the state before inet_hash_connect), so it is kept by
 *    socket address until SYN_SENT -> ESTABLISHED gives the 4-tuple;
 *  - CLOSE -> LISTEN runs in listen(): the listener's owner is the fallback owner of the
 *    connections it accepts (the passive side becomes ESTABLISHED in softirq, where no process
 *    is current).
 * The process that accepts a connection (a worker of nginx, haproxy, a pre-fork server, one of
 * an SO_REUSEPORT group) is seen at the exit of accept()/accept4(), whose return value is the new
 * fd (bpf/fdsock.bpf.h: fd -> socket): the tracepoints syscalls/sys_exit_accept{,4} where the
 * loader can find their ids (tracefs mounted), else the raw tracepoint sys_exit, which runs at
 * the exit of every system call and leaves after one read of the syscall number.
 * A connection or listener that existed before alerttrace started is not known here.
 * Raw tracepoints need no tracefs (not mounted on every host); the socket is read with CO-RE.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "alerttrace.h"
#include "emit.bpf.h"
#include "owners.bpf.h"
#include "fdsock.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* connect() callers until the handshake gives the 4-tuple; LRU: failed connects drop out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct at_owner);
} connecting SEC(".maps");

static __always_inline void listener_key(struct at_sock_key *k)
{
	__builtin_memset(k->raddr, 0, sizeof(k->raddr));
	k->rport = 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(sock_state, const struct sock *sk, int oldstate, int newstate)
{
	__u64 ska = (__u64)sk;
	struct at_sock_key k;
	struct at_owner o = {}, *c;

	if (BPF_CORE_READ(sk, sk_protocol) != AT_IPPROTO_TCP)
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT:
		at_current_owner(&o);
		bpf_map_update_elem(&connecting, &ska, &o, BPF_ANY);
		break;
	case TCP_ESTABLISHED:
		if (oldstate != TCP_SYN_SENT)
			break;
		c = bpf_map_lookup_elem(&connecting, &ska);
		if (!c)
			break;
		at_sock_key(sk, &k);
		bpf_map_update_elem(&owners, &k, c, BPF_ANY);
		bpf_map_delete_elem(&connecting, &ska);
		break;
	case TCP_LISTEN:
		at_sock_key(sk, &k);
		listener_key(&k);
		at_current_owner(&o);
		bpf_map_update_elem(&owners, &k, &o, BPF_ANY);
		break;
	case TCP_CLOSE:
		bpf_map_delete_elem(&connecting, &ska);
		at_sock_key(sk, &k);
		if (oldstate == TCP_LISTEN)
			listener_key(&k);
		/* The last packets of the connection (the alert itself) were classified already. */
		bpf_map_delete_elem(&owners, &k);
		break;
	}
	return 0;
}

#define NR_ACCEPT 43	/* arch/x86/entry/syscalls/syscall_64.tbl */
#define NR_ACCEPT4 288

/* A connection accepted by the current task: it owns it, not the listener's owner. */
static __always_inline void accepted(long fd)
{
	struct at_sock_key k;
	struct at_owner o = {};
	struct sock *sk;

	if (fd < 0)
		return;
	sk = at_fd_sock(fd);
	if (!sk)
		return;
	at_sock_key(sk, &k);
	at_current_owner(&o);
	o.flags = AT_OWNER_ACCEPTED;
	bpf_map_update_elem(&owners, &k, &o, BPF_ANY);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	accepted(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	accepted(ctx->ret);
	return 0;
}

/*
 * Without tracefs: every system call's exit, the syscall number first. A BTF-typed raw
 * tracepoint (attached like raw_tp, no trampoline): regs is read directly, without the helper
 * call a raw_tp would need at every system call.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_any, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;

	if (nr != NR_ACCEPT4 && nr != NR_ACCEPT)
		return 0;
	accepted(ret);
	return 0;
}
