// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <bpf/bpf.h>
#include "alerttrace.h"
#include "log.h"
#include "owners_seed.h"

/* A socket of the sock_diag dump: its key and owner so far (pid 0: not found in /proc yet). */
struct seed {
	struct at_sock_key k;
	unsigned long ino;
	unsigned int uid;
	int pid;
};

struct seeds {
	struct seed *v;
	size_t n, cap;
	/* inode -> index + 1 in v, open addressing (cap of the table: a power of two) */
	unsigned int *idx;
	size_t icap;
};

static int seeds_add(struct seeds *s, const struct seed *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct seed *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *e;
	return 0;
}

static size_t ino_slot(const struct seeds *s, unsigned long ino)
{
	size_t i = (ino * 0x9e3779b97f4a7c15ULL) & (s->icap - 1);

	while (s->idx[i] && s->v[s->idx[i] - 1].ino != ino)
		i = (i + 1) & (s->icap - 1);
	return i;
}

/* The inode index over v; sockets with the same inode (none expected) share the first entry. */
static int seeds_index(struct seeds *s)
{
	size_t i;

	for (s->icap = 64; s->icap < s->n * 2; s->icap *= 2)
		;
	s->idx = calloc(s->icap, sizeof(*s->idx));
	if (!s->idx)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		size_t j = ino_slot(s, s->v[i].ino);

		if (!s->idx[j])
			s->idx[j] = i + 1;
	}
	return 0;
}

static bool is_pid(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool v4_mapped(const __u8 *a)
{
	static const __u8 pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, pfx, 12);
}

/*
 * A socket of pid's network namespace (0: ours): enter the namespace, make it there, come back.
 * A socket stays in the namespace it was made in. -errno when it cannot be made.
 */
static int socket_in_netns(int pid, int domain, int type, int proto)
{
	char path[64];
	int self, ns, s = -EPERM;

	if (!pid) {
		s = socket(domain, type | SOCK_CLOEXEC, proto);
		return s < 0 ? -errno : s;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (self >= 0 && ns >= 0 && !setns(ns, CLONE_NEWNET)) {
		s = socket(domain, type | SOCK_CLOEXEC, proto);
		if (s < 0)
			s = -errno;
		if (setns(self, CLONE_NEWNET)) {
			/* Cannot return to our namespace: nothing after this is trustworthy. */
			p_err("cannot return to its network namespace");
			abort();
		}
	}
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	return s;
}

/* The cookie of PID's network namespace, as bpf_get_netns_cookie() gives it: asked of a socket
 * made there (SO_NETNS_COOKIE). 0 when it cannot be read. */
__u64 netns_cookie_of(int pid)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	int s = socket_in_netns(pid, AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		return 0;
	if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		cookie = 0;
	close(s);
	return cookie;
}

/* One sock_diag message: a TCP listener or connection of the dump, as the owners map keys it. */
static int add_diag(struct seeds *s, const struct inet_diag_msg *m, __u64 netns)
{
	struct seed e = {.ino = m->idiag_inode, .uid = m->idiag_uid};
	bool v6 = m->idiag_family == AF_INET6;
	struct at_sock_key *k = &e.k;

	if (!e.ino)
		return 0;
	/* The addresses in network byte order, as the packet has them; the ports in host order. */
	memcpy(k->laddr, m->id.idiag_src, v6 ? 16 : 4);
	memcpy(k->raddr, m->id.idiag_dst, v6 ? 16 : 4);
	k->lport = ntohs(m->id.idiag_sport);
	k->rport = ntohs(m->id.idiag_dport);
	k->family = v6 ? 6 : 4;
	k->netns = netns;
	if (v6 && v4_mapped(k->laddr)) {
		/* On the wire this connection is IPv4. */
		memmove(k->laddr, k->laddr + 12, 4);
		memset(k->laddr + 4, 0, 12);
		memmove(k->raddr, k->raddr + 12, 4);
		memset(k->raddr + 4, 0, 12);
		k->family = 4;
	}
	if (m->idiag_state == TCP_LISTEN) {
		memset(k->raddr, 0, sizeof(k->raddr));
		k->rport = 0;
	}
	return seeds_add(s, &e);
}

/*
 * The TCP listeners and established connections of one family in the namespace of the
 * NETLINK_SOCK_DIAG socket nl: one dump (ss(8) does the same). /proc/net/tcp walks the whole
 * established hash table (262144 buckets here) on every read(2) it takes: 10-20 ms for a table
 * holding two sockets, against half a millisecond for the dump.
 */
static int diag_dump(int nl, int family, __u64 netns, struct seeds *s)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.r = {.sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
		      .idiag_states = 1u << TCP_LISTEN | 1u << TCP_ESTABLISHED},
	};
	static __u8 buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t len;
	int err;

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -errno;
	while ((len = recv(nl, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error
					       ? e->error
					       : -EPROTO;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			err = add_diag(s, NLMSG_DATA(h), netns);
			if (err)
				return err;
		}
	}
	return len < 0 ? -errno : 0;
}

/* The sockets of pid's namespace (0: ours), keyed with netns. */
static int diag_netns(int pid, __u64 netns, struct seeds *s)
{
	int nl = socket_in_netns(pid, AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG), err;

	if (nl < 0)
		return nl;
	err = diag_dump(nl, AF_INET, netns, s);
	if (!err)
		err = diag_dump(nl, AF_INET6, netns, s);
	close(nl);
	return err;
}

/*
 * Every network namespace of /proc (one pid each), dumped from inside it, its sockets keyed by its
 * cookie (ours: own); own 0 (kernels before 5.14, no cookies): every namespace's keyed alike. A
 * wire event looks its owner up in the namespace of the socket it crossed: the tracer's, or that
 * at the far end of a link (a container's veth seen from the host).
 */
static int diag_all_netns(struct seeds *s, __u64 own)
{
	struct stat self;

	unsigned long inos[256], ino;
	struct dirent *pe;
	char path[288], link[64];
	int n = 0, i, err = 0;
	DIR *proc = opendir("/proc");
	ssize_t l;

	if (!proc)
		return -errno;
	/* Our own namespace needs no setns(), which wants CAP_SYS_ADMIN. */
	if (stat("/proc/self/ns/net", &self))
		self.st_ino = 0;
	while ((pe = readdir(proc)) && !err) {
		__u64 cookie;
		int pid;

		if (!is_pid(pe->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", pe->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = 0;
		if (sscanf(link, "net:[%lu]", &ino) != 1)
			continue;
		for (i = 0; i < n && inos[i] != ino; i++)
			;
		if (i < n || n == 256)
			continue;
		inos[n++] = ino;
		pid = ino == self.st_ino ? 0 : atoi(pe->d_name);
		cookie = !own ? 0 : pid ? netns_cookie_of(pid) : own;
		if (own && !cookie)
			continue; /* gone, or closed to us: its sockets would be keyed wrongly */
		/* A namespace gone or closed to us meanwhile is skipped. */
		err = diag_netns(pid, cookie, s);
		if (err && err != -ENOMEM)
			err = 0;
	}
	closedir(proc);
	return err;
}

/*
 * The owner of every socket of s: the lowest pid holding its inode in /proc/PID/fd (a pre-forked
 * server's parent owns the listener). /proc lists pids in increasing order: the first holder found
 * is the lowest, and the walk ends when every socket has one.
 */
static void find_owners(struct seeds *s)
{
	size_t left = s->n;
	struct dirent *pe, *fe;
	DIR *proc = opendir("/proc"), *fds;
	char link[64];
	ssize_t l;

	if (!proc)
		return;
	while (left && (pe = readdir(proc))) {
		char path[288];
		int dfd, pid;

		if (!is_pid(pe->d_name))
			continue;
		pid = atoi(pe->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue; /* gone, or a kernel thread */
		dfd = dirfd(fds);
		while (left && (fe = readdir(fds))) {
			unsigned long ino;
			size_t j;

			/* Relative to the directory: no path lookup through /proc per descriptor. */
			l = readlinkat(dfd, fe->d_name, link, sizeof(link) - 1);
			if (l <= 8 || memcmp(link, "socket:[", 8))
				continue;
			link[l] = 0;
			ino = strtoul(link + 8, NULL, 10);
			j = ino_slot(s, ino);
			if (s->idx[j] && !s->v[s->idx[j] - 1].pid) {
				s->v[s->idx[j] - 1].pid = pid;
				left--;
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

int owners_seed(int owners_fd, __u64 netns)
{
	struct seeds s = {};
	int added = 0, err;
	size_t i;

	err = diag_all_netns(&s, netns);
	if (!err && s.n)
		err = seeds_index(&s);
	if (err)
		goto out;
	if (s.n)
		find_owners(&s);
	for (i = 0; i < s.n; i++) {
		struct seed *e = &s.v[i];
		struct at_owner o = {.pid = e->pid, .tid = e->pid, .uid = e->uid};
		char cpath[64];
		FILE *c;

		/* Sockets of the same inode (none expected) have the first one's owner. */
		if (!e->pid) {
			size_t j = ino_slot(&s, e->ino);

			if (!s.idx[j] || !s.v[s.idx[j] - 1].pid)
				continue;
			o.pid = o.tid = s.v[s.idx[j] - 1].pid;
		}
		snprintf(cpath, sizeof(cpath), "/proc/%d/comm", o.pid);
		c = fopen(cpath, "r");
		if (c) {
			if (fgets(o.comm, sizeof(o.comm), c))
				o.comm[strcspn(o.comm, "\n")] = 0;
			fclose(c);
		}
		if (!bpf_map_update_elem(owners_fd, &e->k, &o, BPF_NOEXIST))
			added++;
	}
out:
	free(s.v);
	free(s.idx);
	return err ? err : added;
}
