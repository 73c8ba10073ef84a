// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The network namespace on the other side of a link (a veth whose peer is in a container), as
 * the cookie its sockets' owners are keyed by: see peerns.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include "peerns.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

struct nsid_reply {
	int nsid;
	bool got;
};

static int on_nsid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct nlattr *tb[NETNSA_MAX + 1];
	struct nsid_reply *r = arg;

	if (nh->nlmsg_type == RTM_NEWNSID &&
	    nlmsg_parse(nh, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) >= 0 &&
	    tb[NETNSA_NSID]) {
		r->nsid = (int)nla_get_u32(tb[NETNSA_NSID]);
		r->got = true;
	}
	return NL_OK;
}

/* The id our namespace gives the namespace of FD (RTM_GETNSID), or -1 (none assigned). */
static int nsid_of(struct nl_sock *sk, int fd)
{
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct nsid_reply r = {.nsid = -1};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST);
	int err;

	if (!msg)
		return -1;
	err = nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO);
	if (!err)
		err = nla_put_u32(msg, NETNSA_FD, fd);
	if (!err)
		err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_nsid, &r);
	if (!err && nl_send_auto(sk, msg) >= 0)
		nl_recvmsgs_default(sk);
	nlmsg_free(msg);
	return r.got ? r.nsid : -1;
}

static int on_link(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	int *nsid = arg;

	if (nh->nlmsg_type == RTM_NEWLINK &&
	    nlmsg_parse(nh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) >= 0 &&
	    tb[IFLA_LINK_NETNSID])
		*nsid = (int)nla_get_u32(tb[IFLA_LINK_NETNSID]);
	return NL_OK;
}

int peerns_link_nsid(int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nl_sock *sk = nl_socket_alloc();
	int nsid = -1;

	if (!sk)
		return -1;
	if (!nl_connect(sk, NETLINK_ROUTE) &&
	    !nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link, &nsid) &&
	    nl_send_simple(sk, RTM_GETLINK, 0, &ifi, sizeof(ifi)) >= 0)
		nl_recvmsgs_default(sk);
	nl_socket_free(sk);
	return nsid;
}

struct cookie_job {
	int fd;
	__u64 cookie;
	int err;
};

/* In a thread of its own: setns() changes the calling thread's namespace only. */
static void *cookie_thread(void *arg)
{
	struct cookie_job *j = arg;
	socklen_t len = sizeof(j->cookie);
	int s;

	if (setns(j->fd, CLONE_NEWNET)) {
		j->err = -errno;
		return NULL;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		j->err = -errno;
		return NULL;
	}
	if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &j->cookie, &len))
		j->err = -errno;
	close(s);
	return NULL;
}

static int cookie_of_fd(int fd, __u64 *cookie)
{
	struct cookie_job j = {.fd = fd};
	pthread_t th;

	if (pthread_create(&th, NULL, cookie_thread, &j))
		return -EAGAIN;
	pthread_join(th, NULL);
	if (!j.err)
		*cookie = j.cookie;
	return j.err;
}

/* Try the namespace at PATH: 1 when its id is NSID (cookie set), 0 when not, -errno. */
static int try_path(struct nl_sock *sk, const char *path, int nsid, ino_t *seen, int *nseen,
		    int cap, __u64 *cookie)
{
	struct stat st;
	int fd, i, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st)) {
		close(fd);
		return 0;
	}
	for (i = 0; i < *nseen; i++)
		if (seen[i] == st.st_ino) {
			close(fd);
			return 0;
		}
	if (*nseen < cap)
		seen[(*nseen)++] = st.st_ino;
	if (nsid_of(sk, fd) == nsid)
		ret = cookie_of_fd(fd, cookie) ? -EPERM : 1;
	close(fd);
	return ret;
}

int peerns_cookie(int nsid, __u64 *cookie)
{
	static ino_t seen[4096];
	struct nl_sock *sk;
	struct dirent *de;
	int nseen = 0, ret = 0;
	char path[300];
	DIR *d;

	if (nsid < 0)
		return -ENOENT;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	if (nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return -EIO;
	}
	/* One reply per request, no ACK after it: an ACK left unread would be taken for the next
	 * request's answer. */
	nl_socket_disable_auto_ack(sk);
	/* Namespaces `ip netns` names first, then those of running processes. */
	d = opendir("/run/netns");
	while (d && !ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		ret = try_path(sk, path, nsid, seen, &nseen, 4096, cookie);
	}
	if (d)
		closedir(d);
	d = ret ? NULL : opendir("/proc");
	while (d && !ret && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		ret = try_path(sk, path, nsid, seen, &nseen, 4096, cookie);
	}
	if (d)
		closedir(d);
	nl_socket_free(sk);
	return ret == 1 ? 0 : ret ? ret : -ENOENT;
}
