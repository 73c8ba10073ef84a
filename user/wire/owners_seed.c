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
#include <bpf/bpf.h>
#include "alerttrace.h"
#include "log.h"
#include "owners_seed.h"

#define TCP_ESTABLISHED_HEX 0x01
#define TCP_LISTEN_HEX 0x0a

/* inode -> the lowest pid holding it (a pre-forked server's parent owns the listener). */
struct ino_owner {
	unsigned long ino;
	int pid;
};

struct ino_map {
	struct ino_owner *v;
	size_t cap, n;
};

static int im_put(struct ino_map *m, unsigned long ino, int pid)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct ino_map g = {.cap = m->cap ? m->cap * 2 : 4096};

		g.v = calloc(g.cap, sizeof(*g.v));
		if (!g.v)
			return -ENOMEM;
		for (i = 0; i < m->cap; i++)
			if (m->v[i].ino)
				im_put(&g, m->v[i].ino, m->v[i].pid);
		free(m->v);
		*m = g;
	}
	for (i = (ino * 0x9e3779b97f4a7c15ULL) & (m->cap - 1); m->v[i].ino; i = (i + 1) & (m->cap - 1))
		if (m->v[i].ino == ino) {
			if (pid < m->v[i].pid)
				m->v[i].pid = pid;
			return 0;
		}
	m->v[i].ino = ino;
	m->v[i].pid = pid;
	m->n++;
	return 0;
}

static int im_get(const struct ino_map *m, unsigned long ino)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = (ino * 0x9e3779b97f4a7c15ULL) & (m->cap - 1); m->v[i].ino; i = (i + 1) & (m->cap - 1))
		if (m->v[i].ino == ino)
			return m->v[i].pid;
	return 0;
}

static bool is_pid(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Every socket inode of every process; and one pid per network namespace. */
static int scan_fds(struct ino_map *socks, int *ns_pids, unsigned long *ns_inos, int *nns, int cap)
{
	struct dirent *pe, *fe;
	DIR *proc = opendir("/proc"), *fds;
	char path[288], link[64];
	ssize_t l;

	if (!proc)
		return -errno;
	while ((pe = readdir(proc))) {
		unsigned long ino;
		int pid, i;

		if (!is_pid(pe->d_name))
			continue;
		pid = atoi(pe->d_name);
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		l = readlink(path, link, sizeof(link) - 1);
		if (l > 0) {
			link[l] = 0;
			if (sscanf(link, "net:[%lu]", &ino) == 1) {
				for (i = 0; i < *nns && ns_inos[i] != ino; i++)
					;
				if (i == *nns && i < cap) {
					ns_inos[i] = ino;
					ns_pids[i] = pid;
					(*nns)++;
				}
			}
		}
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue; /* gone, or a kernel thread */
		while ((fe = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fe->d_name);
			l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = 0;
			if (sscanf(link, "socket:[%lu]", &ino) == 1 && im_put(socks, ino, pid)) {
				closedir(fds);
				closedir(proc);
				return -ENOMEM;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return 0;
}

static void parse_addr(const char *hex, bool v6, struct at_sock_key *k, bool local)
{
	__u8 *a = local ? k->laddr : k->raddr;
	unsigned int w[4] = {}, port = 0;

	if (v6)
		sscanf(hex, "%8x%8x%8x%8x:%x", &w[0], &w[1], &w[2], &w[3], &port);
	else
		sscanf(hex, "%8x:%x", &w[0], &port);
	/* /proc prints each 32-bit word of the address in host order. */
	memcpy(a, w, v6 ? 16 : 4);
	if (local)
		k->lport = port;
	else
		k->rport = port;
}

static bool v4_mapped(const __u8 *a)
{
	static const __u8 pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, pfx, 12);
}

/* The cookie of PID's network namespace, as bpf_get_netns_cookie() gives it: enter the namespace,
 * ask a socket made there (SO_NETNS_COOKIE), come back. 0 when it cannot be read. */
__u64 netns_cookie_of(int pid)
{
	char path[64];
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	int self, ns, s;

	if (!pid) {
		/* Our own namespace. */
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return 0;
		if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
			cookie = 0;
		close(s);
		return cookie;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (self >= 0 && ns >= 0 && !setns(ns, CLONE_NEWNET)) {
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s >= 0) {
			if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
				cookie = 0;
			close(s);
		}
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
	return cookie;
}

static int seed_file(int fd, const char *path, bool v6, __u64 netns, const struct ino_map *socks)
{
	char line[512], la[64], ra[64];
	unsigned int st, uid;
	unsigned long ino;
	int added = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		struct at_sock_key k = {};
		struct at_owner o = {};
		char cpath[64];
		FILE *c;
		int pid;

		if (sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %u %*d %lu", la, ra, &st, &uid,
			   &ino) != 5 ||
		    (st != TCP_LISTEN_HEX && st != TCP_ESTABLISHED_HEX))
			continue;
		pid = im_get(socks, ino);
		if (!pid)
			continue;
		parse_addr(la, v6, &k, true);
		parse_addr(ra, v6, &k, false);
		k.family = v6 ? 6 : 4;
		k.netns = netns;
		if (v6 && v4_mapped(k.laddr)) {
			/* On the wire this connection is IPv4. */
			memmove(k.laddr, k.laddr + 12, 4);
			memset(k.laddr + 4, 0, 12);
			memmove(k.raddr, k.raddr + 12, 4);
			memset(k.raddr + 4, 0, 12);
			k.family = 4;
		}
		if (st == TCP_LISTEN_HEX) {
			memset(k.raddr, 0, sizeof(k.raddr));
			k.rport = 0;
		}
		o.pid = o.tid = pid;
		o.uid = uid;
		snprintf(cpath, sizeof(cpath), "/proc/%d/comm", pid);
		c = fopen(cpath, "r");
		if (c) {
			if (fgets(o.comm, sizeof(o.comm), c))
				o.comm[strcspn(o.comm, "\n")] = 0;
			fclose(c);
		}
		if (!bpf_map_update_elem(fd, &k, &o, BPF_NOEXIST))
			added++;
	}
	fclose(f);
	return added;
}

int owners_seed(int owners_fd, bool use_netns)
{
	unsigned long ns_inos[256];
	int ns_pids[256], nns = 0, i, added = 0, err;
	struct ino_map socks = {};
	struct stat self;
	char path[64];

	err = scan_fds(&socks, ns_pids, ns_inos, &nns, 256);
	if (err) {
		free(socks.v);
		return err;
	}
	/* Our own namespace needs no setns(), which wants CAP_SYS_ADMIN. */
	if (stat("/proc/self/ns/net", &self))
		self.st_ino = 0;
	for (i = 0; i < nns; i++) {
		__u64 cookie = !use_netns ? 0
			       : netns_cookie_of(ns_inos[i] == self.st_ino ? 0 : ns_pids[i]);

		if (use_netns && !cookie)
			continue; /* gone, or unreadable: its sockets would be keyed wrongly */
		snprintf(path, sizeof(path), "/proc/%d/net/tcp", ns_pids[i]);
		added += seed_file(owners_fd, path, false, cookie, &socks);
		snprintf(path, sizeof(path), "/proc/%d/net/tcp6", ns_pids[i]);
		added += seed_file(owners_fd, path, true, cookie, &socks);
	}
	free(socks.v);
	return added;
}
