/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket owners, shared by bpf/sock.bpf.c and the library sources (write, bpf/fdsock.bpf.h) and
 * bpf/tc.bpf.c (reads): who made, accepted, listens for or does I/O on a TCP connection, so that
 * a wire event names its process (kprobes are not required).
 */
#ifndef AT_OWNERS_BPF_H
#define AT_OWNERS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AT_OWNERS_MAX);
	__type(key, struct at_sock_key);
	__type(value, struct at_owner);
} owners SEC(".maps");

/* The lookup key, off the stack: the TC walk's call chain has little room left. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct at_sock_key);
} owner_key SEC(".maps");

/* The local end of a wire event is its source when sent, its destination when received. With
 * exact, the connection's own entry only (no listener). Returns whether an owner was found. */
static __always_inline bool at_owner_find(struct at_event *e, __u64 netns, bool exact)
{
	__u32 zero = 0;
	struct at_sock_key *k = bpf_map_lookup_elem(&owner_key, &zero);
	struct at_owner *o;
	bool sent = e->direction == AT_DIR_SENT;

	if (!k)
		return false;
	__builtin_memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->family = e->ip_version;
	__builtin_memcpy(k->laddr, sent ? e->saddr : e->daddr, sizeof(k->laddr));
	__builtin_memcpy(k->raddr, sent ? e->daddr : e->saddr, sizeof(k->raddr));
	k->lport = sent ? e->sport : e->dport;
	k->rport = sent ? e->dport : e->sport;
	o = bpf_map_lookup_elem(&owners, k);
	if (!o && !exact) {
		/* Accepted connections: the process that listens on the local address or on any. */
		__builtin_memset(k->raddr, 0, sizeof(k->raddr));
		k->rport = 0;
		o = bpf_map_lookup_elem(&owners, k);
		if (!o) {
			__builtin_memset(k->laddr, 0, sizeof(k->laddr));
			o = bpf_map_lookup_elem(&owners, k);
		}
		if (!o && k->family == 4) {
			/* An IPv6 listener on :: accepts IPv4 too (unless IPV6_V6ONLY). */
			k->family = 6;
			o = bpf_map_lookup_elem(&owners, k);
		}
	}
	if (!o)
		return false;
	e->pid = o->pid;
	e->tid = o->tid;
	e->uid = o->uid;
	e->cgroup_id = o->cgroup_id;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	e->flags |= AT_F_HAS_TASK;
	if (o->flags & AT_OWNER_ACCEPTED)
		e->xflags |= AT_X_ACCEPTED;
	return true;
}

static __always_inline void at_owner_fill(struct at_event *e, __u64 netns)
{
	at_owner_find(e, netns, false);
}

#endif /* AT_OWNERS_BPF_H */
