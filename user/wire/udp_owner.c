// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "udp_owner.h"

/* The inode and uid of the socket on ADDR:PORT in one /proc/net/udp file; an exact address wins
 * over the wildcard. */
static unsigned long find_inode(const char *path, bool v6, const __u8 *addr, __u16 port,
				unsigned *uid)
{
	unsigned long ino, any = 0;
	unsigned any_uid = 0;
	char line[512], la[64];
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned w[4] = {}, lport, u;
		__u8 a[16] = {}, zero[16] = {};
		size_t alen = v6 ? 16 : 4;

		if (sscanf(line, " %*d: %63s %*s %*x %*s %*s %*s %u %*d %lu", la, &u, &ino) != 3)
			continue;
		if (v6 ? sscanf(la, "%8x%8x%8x%8x:%x", &w[0], &w[1], &w[2], &w[3], &lport) != 5
		       : sscanf(la, "%8x:%x", &w[0], &lport) != 2)
			continue;
		if (lport != port)
			continue;
		/* /proc prints each 32-bit word of the address in host order. */
		memcpy(a, w, alen);
		if (!memcmp(a, addr, alen)) {
			fclose(f);
			*uid = u;
			return ino;
		}
		if (!memcmp(a, zero, alen) && !any) {
			any = ino;
			any_uid = u;
		}
	}
	fclose(f);
	*uid = any_uid;
	return any;
}

/* The lowest pid holding socket:[INO]. */
static int holder(unsigned long ino)
{
	char path[288], link[64], want[40];
	struct dirent *pe, *fe;
	DIR *proc = opendir("/proc"), *fds;
	int best = 0;

	if (!proc)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	while ((pe = readdir(proc))) {
		int pid = atoi(pe->d_name);
		bool has = false;

		if (pid <= 0 || (best && pid > best))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!has && (fe = readdir(fds))) {
			ssize_t l;

			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fe->d_name);
			l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = 0;
			has = !strcmp(link, want);
		}
		closedir(fds);
		if (has)
			best = pid;
	}
	closedir(proc);
	return best;
}

int udp_owner(int family, const __u8 *addr, __u16 port, struct at_owner *o)
{
	__u8 mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned long ino;
	unsigned uid = 0;
	char path[64];
	FILE *c;
	int pid;

	if (family == 6) {
		ino = find_inode("/proc/net/udp6", true, addr, port, &uid);
	} else {
		ino = find_inode("/proc/net/udp", false, addr, port, &uid);
		if (!ino) {
			/* An IPv6 socket not IPV6_V6ONLY receives IPv4 too. */
			memcpy(mapped + 12, addr, 4);
			ino = find_inode("/proc/net/udp6", true, mapped, port, &uid);
		}
	}
	if (!ino)
		return -ENOENT;
	pid = holder(ino);
	if (!pid)
		return -ENOENT;
	memset(o, 0, sizeof(*o));
	o->pid = o->tid = pid;
	o->uid = uid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	c = fopen(path, "r");
	if (c) {
		if (fgets(o->comm, sizeof(o->comm), c))
			o->comm[strcspn(o->comm, "\n")] = 0;
		fclose(c);
	}
	return 0;
}
