// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attribution of wire events without kprobes: the tracepoint sock:inet_sock_set_state fires on
 * every TCP state change (never per packet, never per read or write), and some of those changes
 * run in the context of the process that owns the socket:
 *  - CLOSE -> SYN_SENT runs in connect(): the caller is the owner of the connection; its ports
 *    are not chosen yet (tcp_v4_connect sets the state before inet_hash_connect), so it is kept by
 *    socket address until SYN_SENT -> ESTABLISHED gives the 4-tuple;
 *  - CLOSE -> LISTEN runs in listen(): the caller owns the connections the listener accepts (the
 *    passive side becomes ESTABLISHED in softirq, where no process is current).
 * A connection or listener that existed before alerttrace started is not known here.
 * A raw tracepoint, not a tracepoint: attaching it needs no tracefs (not mounted on every host);
 * the socket is read with CO-RE.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "alerttrace.h"
#include "emit.bpf.h"
#include "owners.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* connect() callers until the handshake gives the 4-tuple; LRU: failed connects drop out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct at_owner);
} connecting SEC(".maps");

static __always_inline void current_owner(struct at_owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline bool v4_mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

/* The socket's ends as the wire shows them: an IPv6 socket speaking IPv4 (v4-mapped) is IPv4. */
static __always_inline void sock_key(const struct sock *sk, struct at_sock_key *k)
{
	__u8 l6[16] = {}, r6[16] = {};
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	__builtin_memset(k, 0, sizeof(*k));
	/* Two containers may both listen on 443: the namespace tells their sockets apart. */
	if (at_filt.netns)
		k->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&l6, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r6, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	if (family == AF_INET6 && !v4_mapped(l6)) {
		k->family = 6;
		__builtin_memcpy(k->laddr, l6, 16);
		__builtin_memcpy(k->raddr, r6, 16);
	} else {
		k->family = 4;
		BPF_CORE_READ_INTO((__u32 *)k->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)k->raddr, sk, __sk_common.skc_daddr);
	}
	k->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

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

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT:
		current_owner(&o);
		bpf_map_update_elem(&connecting, &ska, &o, BPF_ANY);
		break;
	case TCP_ESTABLISHED:
		if (oldstate != TCP_SYN_SENT)
			break;
		c = bpf_map_lookup_elem(&connecting, &ska);
		if (!c)
			break;
		sock_key(sk, &k);
		bpf_map_update_elem(&owners, &k, c, BPF_ANY);
		bpf_map_delete_elem(&connecting, &ska);
		break;
	case TCP_LISTEN:
		sock_key(sk, &k);
		listener_key(&k);
		current_owner(&o);
		bpf_map_update_elem(&owners, &k, &o, BPF_ANY);
		break;
	case TCP_CLOSE:
		bpf_map_delete_elem(&connecting, &ska);
		sock_key(sk, &k);
		if (oldstate == TCP_LISTEN)
			listener_key(&k);
		/* The last packets of the connection (the alert itself) were classified already. */
		bpf_map_delete_elem(&owners, &k);
		break;
	}
	return 0;
}
