/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * From a file descriptor of the current task to its TCP socket and the socket's ends, by CO-RE
 * reads of task->files->fdt->fd[fd] -> file -> private_data (struct socket) -> sk. Shared by
 * bpf/sock.bpf.c (the accepting task) and the library sources (the addresses of an alert, the
 * process that does I/O on the socket). Runs at an accept or an alert, never per packet or per
 * read. Included after vmlinux.h, bpf_core_read.h, bpf_endian.h, alerttrace.h, emit.bpf.h and
 * owners.bpf.h.
 */
#ifndef AT_FDSOCK_BPF_H
#define AT_FDSOCK_BPF_H

#define AT_AF_INET 2
#define AT_AF_INET6 10
#define AT_IPPROTO_TCP 6

/*
 * The TCP socket behind fd in the current task's file table, or NULL: fd out of the table, no
 * file, a file that is not a socket (a socket's file has private_data == its struct socket,
 * whose ->file points back: any other file fails that test), or a socket without two ends.
 */
static __always_inline struct sock *at_fd_sock(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds, *f = NULL;
	struct socket *so;
	struct sock *sk;
	__u16 family;

	if (fd < 0 || fd > 0x7fffffff)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	if (!so || BPF_CORE_READ(so, file) != f)
		return NULL;
	sk = BPF_CORE_READ(so, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != AT_IPPROTO_TCP)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AT_AF_INET && family != AT_AF_INET6)
		return NULL;
	/* A connection: both ends have ports. */
	if (!BPF_CORE_READ((struct inet_sock *)sk, inet_sport) ||
	    !BPF_CORE_READ(sk, __sk_common.skc_dport))
		return NULL;
	return sk;
}

static __always_inline bool at_v4_mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

/* The socket's ends as the wire shows them: an IPv6 socket speaking IPv4 (v4-mapped) is IPv4. */
static __always_inline void at_sock_key(const struct sock *sk, struct at_sock_key *k)
{
	__u8 l6[16] = {}, r6[16] = {};
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	__builtin_memset(k, 0, sizeof(*k));
	/* Two containers may both listen on 443: the namespace tells their sockets apart. */
	if (at_filt.netns)
		k->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
	if (family == AT_AF_INET6) {
		BPF_CORE_READ_INTO(&l6, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r6, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	if (family == AT_AF_INET6 && !at_v4_mapped(l6)) {
		k->family = 6;
		__builtin_memcpy(k->laddr, l6, 16);
		__builtin_memcpy(k->raddr, r6, 16);
	} else {
		k->family = 4;
		BPF_CORE_READ_INTO((__u32 *)k->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)k->raddr, sk, __sk_common.skc_daddr);
	}
	/* inet_sport, not skc_num: a connection reset or closed has given its port back
	 * (inet_put_port zeroes skc_num) while the application still holds the socket. */
	k->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline void at_current_owner(struct at_owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/*
 * A library alert on sk in the current task: this process does I/O on the connection, whoever
 * made, accepted or passed it (SCM_RIGHTS, fork then exec). Called before the alert is written,
 * so that its wire event (TC egress runs after) names this process. An entry of this process
 * stays as it is (it may say the connection was accepted here).
 */
static __always_inline void at_owner_claim(const struct at_sock_key *k)
{
	struct at_owner o = {}, *cur;

	cur = bpf_map_lookup_elem(&owners, k);
	if (cur && cur->pid == bpf_get_current_pid_tgid() >> 32)
		return;
	at_current_owner(&o);
	o.flags = AT_OWNER_IO;
	bpf_map_update_elem(&owners, k, &o, BPF_ANY);
}

/* A library event's ends: saddr/sport is the end that sent the alert, as on the wire. */
static __always_inline void at_event_addrs(struct at_event *e, const struct at_sock_key *k)
{
	bool sent = e->direction == AT_DIR_SENT;

	e->ip_version = k->family;
	__builtin_memcpy(e->saddr, sent ? k->laddr : k->raddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, sent ? k->raddr : k->laddr, sizeof(e->daddr));
	e->sport = sent ? k->lport : k->rport;
	e->dport = sent ? k->rport : k->lport;
	e->flags |= AT_F_HAS_ADDR;
}

#endif /* AT_FDSOCK_BPF_H */
