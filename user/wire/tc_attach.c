// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Safe TC attach and cleanup: see tc_attach.h for the rules. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "tc_attach.h"
#include "tc_attach_local.h"

struct tc_filter {
	__u32 prio;
	__u32 handle;
	__u32 prog_id;
	char name[64];		/* TCA_BPF_NAME */
};

#define MAX_FILTERS 64

static __u32 hook_parent(bool ingress)
{
	return TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

/* One tc dump request (RTM_GETTFILTER or RTM_GETQDISC) for an ifindex and parent; each reply
 * message of type WANT goes to CB. Returns 0 or -errno (the kernel's error included). */
static int tc_dump(int type, int want, int ifindex, __u32 parent,
		   void (*cb)(struct tcmsg *tc, struct rtattr *attrs, int alen, void *arg), void *arg)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.nh.nlmsg_type = type,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nh.nlmsg_seq = 1,
		.tc.tcm_family = AF_UNSPEC,
		.tc.tcm_ifindex = ifindex,
		.tc.tcm_parent = parent,
	};
	char buf[16384];
	int fd, ret = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		ret = -errno;
		goto cleanup;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0) {
			ret = -errno;
			goto cleanup;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
			struct tcmsg *tc = NLMSG_DATA(nh);

			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				ret = e->error;
				done = 1;
				break;
			}
			if (nh->nlmsg_type == want && tc->tcm_ifindex == ifindex)
				cb(tc, (struct rtattr *)((char *)tc + NLMSG_ALIGN(sizeof(*tc))),
				   nh->nlmsg_len - NLMSG_LENGTH(sizeof(*tc)), arg);
		}
	}
cleanup:
	close(fd);
	return ret;
}

struct filter_list {
	struct tc_filter *out;
	int n, cap;
};

static void add_filter(struct tcmsg *tc, struct rtattr *a, int alen, void *arg)
{
	struct filter_list *fl = arg;
	struct tc_filter *f;

	if (fl->n >= fl->cap || !tc->tcm_handle)
		return;
	f = &fl->out[fl->n++];
	memset(f, 0, sizeof(*f));
	f->prio = TC_H_MAJ(tc->tcm_info) >> 16;
	f->handle = tc->tcm_handle;
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		struct rtattr *o;
		int olen;

		if (a->rta_type != TCA_OPTIONS)
			continue;
		olen = RTA_PAYLOAD(a);
		for (o = RTA_DATA(a); RTA_OK(o, olen); o = RTA_NEXT(o, olen)) {
			if (o->rta_type == TCA_BPF_ID && RTA_PAYLOAD(o) >= 4)
				memcpy(&f->prog_id, RTA_DATA(o), 4);
			else if (o->rta_type == TCA_BPF_NAME)
				snprintf(f->name, sizeof(f->name), "%.*s", (int)RTA_PAYLOAD(o),
					 (char *)RTA_DATA(o));
		}
	}
}

/* The filters on one clsact hook. Returns the count or -errno (an empty list when the device
 * has no clsact qdisc: see has_clsact). */
static int dump_filters(int ifindex, bool ingress, struct tc_filter *out, int cap)
{
	struct filter_list fl = { .out = out, .cap = cap };
	int ret = tc_dump(RTM_GETTFILTER, RTM_NEWTFILTER, ifindex, hook_parent(ingress), add_filter,
			  &fl);

	return ret < 0 ? ret : fl.n;
}

/* Ours: our handle, a priority in our range, and a program named at_tc_*. */
static bool is_ours(const struct tc_filter *f)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;

	if (f->handle != AT_TC_HANDLE || f->prio < AT_TC_PRIO_BASE || f->prio >= AT_TC_PRIO_BASE + 16)
		return false;
	if (f->prog_id) {
		fd = bpf_prog_get_fd_by_id(f->prog_id);
		if (fd >= 0) {
			int err = bpf_obj_get_info_by_fd(fd, &info, &len);

			close(fd);
			if (!err)
				return strncmp(info.name, "at_tc_", 6) == 0;
		}
	}
	return strncmp(f->name, "at_tc_", 6) == 0;
}

static int count_filters(int ifindex)
{
	struct tc_filter f[MAX_FILTERS];
	int a = dump_filters(ifindex, true, f, MAX_FILTERS);
	int b = dump_filters(ifindex, false, f, MAX_FILTERS);

	if (a < 0 || b < 0)
		return a < 0 ? a : b;
	return a + b;
}

int detach_one(int ifindex, bool ingress, __u32 prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = AT_TC_HANDLE, .priority = prio);

	return bpf_tc_detach(&hook, &opts);
}

/* Delete the clsact qdisc only when it carries no filter at all (ours are gone by now). */
static int remove_qdisc_if_empty(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int n = count_filters(ifindex);

	if (n != 0)
		return n < 0 ? n : -EBUSY;
	return bpf_tc_hook_destroy(&hook);
}

static unsigned long netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long)st.st_ino;
}

static bool pid_alive(int pid)
{
	char p[64];

	if (kill(pid, 0) && errno == ESRCH)
		return false;
	snprintf(p, sizeof(p), "/proc/%d", pid);
	return access(p, F_OK) == 0;
}

int write_state(const struct tc_set *ts)
{
	char tmp[160];
	FILE *f;
	int i;

	if (mkdir(AT_STATE_DIR, 0755) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", ts->state_path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "netns %lu\nprio %d\n", netns_ino(), ts->prio);
	for (i = 0; i < ts->n; i++)
		fprintf(f, "link %d %s\n", ts->links[i].ifindex, ts->links[i].ifname);
	if (fclose(f))
		return -errno;
	return rename(tmp, ts->state_path) ? -errno : 0;
}

/*
 * Every step that reads or changes what tracers recorded runs under one lock, so that tracers
 * starting and stopping together agree. Flock locks belong to an open file: never take it twice.
 */
int state_lock(void)
{
	int fd;

	if (mkdir(AT_STATE_DIR, 0755) && errno != EEXIST)
		return -errno;
	fd = open(AT_STATE_DIR "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/*
 * A clsact qdisc some alerttrace created carries a marker, shared by every tracer: the last one
 * to leave the interface removes the qdisc, whoever created it, once nothing else sits on it.
 */
static void marker_path(int ifindex, char *buf, size_t n)
{
	snprintf(buf, n, "%s/qdisc.%lu.%d", AT_STATE_DIR, netns_ino(), ifindex);
}

static int mark_created(int ifindex)
{
	char p[128];
	int fd;

	marker_path(ifindex, p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void unmark(int ifindex)
{
	char p[128];

	marker_path(ifindex, p, sizeof(p));
	unlink(p);
}

static void see_clsact(struct tcmsg *tc, struct rtattr *a, int alen, void *arg)
{
	(void)tc;
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == TCA_KIND && RTA_PAYLOAD(a) >= 7 && !memcmp(RTA_DATA(a), "clsact", 7))
			*(int *)arg = 1;
}

/* Whether the device carries a clsact qdisc. Returns 1, 0 or -errno. */
static int has_clsact(int ifindex)
{
	int found = 0, ret = tc_dump(RTM_GETQDISC, RTM_NEWQDISC, ifindex, 0, see_clsact, &found);

	return ret < 0 ? ret : found;
}

/*
 * Create the clsact qdisc unless one is there. The marker is written first: a tracer killed
 * between the qdisc's creation and a marker written after it would leave an unmarked qdisc that
 * no clean-up may remove. A marker left without a qdisc is dropped by the clean-up.
 */
int create_clsact(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int ret = has_clsact(ifindex);

	if (ret)
		return ret > 0 ? 0 : ret;
	ret = mark_created(ifindex);
	if (ret)
		return ret;
	ret = bpf_tc_hook_create(&hook);
	if (ret == -EEXIST) {
		unmark(ifindex); /* another one created it a moment ago */
		return 0;
	}
	if (ret)
		unmark(ifindex);
	return ret;
}

/* Remove the qdisc if an alerttrace created it and it is empty now. Returns 1 when removed. */
int release_qdisc(int ifindex, const char *ifname, bool report)
{
	char p[128], name[IF_NAMESIZE];
	int ret;

	marker_path(ifindex, p, sizeof(p));
	if (access(p, F_OK))
		return 0;
	if (!if_indextoname(ifindex, name)) {
		unlink(p); /* the device is gone, and its qdisc with it */
		return 0;
	}
	if (has_clsact(ifindex) == 0) {
		unlink(p); /* a tracer killed between the marker and the qdisc */
		return 0;
	}
	ret = remove_qdisc_if_empty(ifindex);
	if (ret == -EBUSY) {
		struct tc_filter fl[MAX_FILTERS];
		int i, n, ours = 0, dir;

		for (dir = 0; dir < 2; dir++) {
			n = dump_filters(ifindex, dir == 0, fl, MAX_FILTERS);
			for (i = 0; i < n; i++)
				ours += is_ours(&fl[i]);
		}
		if (!ours && report)
			p_info("left the clsact qdisc alerttrace created on %s: other filters were "
			       "added to it", ifname);
		return 0;
	}
	if (ret)
		return 0;
	unlink(p);
	return 1;
}

/* Priorities owned by live tracers in this netns, as a bit mask over base..base+15. */
static unsigned live_prios(void)
{
	unsigned long me = netns_ino(), ns;
	unsigned mask = 0;
	struct dirent *de;
	DIR *d = opendir(AT_STATE_DIR);
	int prio;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300];
		int pid = atoi(de->d_name);
		FILE *f;

		if (pid <= 0 || strchr(de->d_name, '.') || !pid_alive(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", AT_STATE_DIR, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "netns %lu\nprio %d", &ns, &prio) == 2 && ns == me &&
		    prio >= AT_TC_PRIO_BASE && prio < AT_TC_PRIO_BASE + 16)
			mask |= 1u << (prio - AT_TC_PRIO_BASE);
		fclose(f);
	}
	closedir(d);
	return mask;
}

int tc_cleanup_stale(bool report)
{
	unsigned long me = netns_ino(), ns;
	struct if_nameindex *ifs, *it;
	int removed = 0, prio, lock;
	struct dirent *de;
	unsigned live;
	DIR *d;

	lock = state_lock();
	if (lock < 0)
		return lock;
	live = live_prios();
	/* 1. Records of dead tracers in this netns: their filters. */
	d = opendir(AT_STATE_DIR);
	while (d && (de = readdir(d))) {
		char path[300], ifname[IF_NAMESIZE + 1];
		int pid = atoi(de->d_name), ifindex;
		FILE *f;

		if (pid <= 0 || pid_alive(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", AT_STATE_DIR, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "netns %lu\nprio %d\n", &ns, &prio) != 2) {
			/* A record a dead tracer was still writing (PID.tmp, killed before its
			 * netns line) names nothing: drop it; its filters are found by step 2. */
			fclose(f);
			if (strchr(de->d_name, '.'))
				unlink(path);
			continue;
		}
		if (ns != me) {
			fclose(f);
			continue;
		}
		while (fscanf(f, "link %d %16s\n", &ifindex, ifname) == 2) {
			struct tc_filter fl[MAX_FILTERS];
			int dir;

			for (dir = 0; dir < 2; dir++) {
				int i, n = dump_filters(ifindex, dir == 0, fl, MAX_FILTERS);

				for (i = 0; i < n; i++)
					if ((int)fl[i].prio == prio && is_ours(&fl[i]) &&
					    !detach_one(ifindex, dir == 0, prio)) {
						removed++;
						if (report)
							p_info("removed a stale alerttrace filter "
							       "on %s %s (pid %d)", ifname,
							       dir == 0 ? "ingress" : "egress", pid);
					}
			}
		}
		fclose(f);
		unlink(path);
	}
	if (d)
		closedir(d);

	/* 2. Marked filters no live tracer owns (their record was lost). */
	ifs = if_nameindex();
	for (it = ifs; it && it->if_index; it++) {
		struct tc_filter fl[MAX_FILTERS];
		int dir;

		for (dir = 0; dir < 2; dir++) {
			int i, n = dump_filters(it->if_index, dir == 0, fl, MAX_FILTERS);

			for (i = 0; i < n; i++) {
				if (!is_ours(&fl[i]) || (live & (1u << (fl[i].prio - AT_TC_PRIO_BASE))))
					continue;
				if (detach_one(it->if_index, dir == 0, fl[i].prio))
					continue;
				removed++;
				if (report)
					p_info("removed an orphaned alerttrace filter on %s %s",
					       it->if_name, dir == 0 ? "ingress" : "egress");
			}
		}
	}
	/* 3. Qdiscs an alerttrace created and nothing sits on any more (a live tracer's filters
	 * keep theirs). */
	for (it = ifs; it && it->if_index; it++)
		if (release_qdisc(it->if_index, it->if_name, report) && report)
			p_info("removed the clsact qdisc a stale alerttrace created on %s",
			       it->if_name);
	if (ifs)
		if_freenameindex(ifs);
	state_unlock(lock);
	return removed;
}

int attach_hook(struct tc_link *l, bool ingress, int prog_fd, int prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = AT_TC_HANDLE,
			    .priority = prio);

	return bpf_tc_attach(&hook, &opts);
}

/* Changing qdiscs and filters is CAP_NET_ADMIN's, which CAP_SYS_ADMIN does not include. */
const char *perm_hint(int err)
{
	return err == -EPERM ? " (needs CAP_NET_ADMIN: run with sudo)" : "";
}

int tc_attach_all(struct tc_set *ts, const int *ifindexes, int n, int prog_in, int prog_out,
		  char *err, size_t errlen)
{
	unsigned live;
	int i, ret, lock;

	memset(ts, 0, sizeof(*ts));
	ts->links = calloc(n ? n : 1, sizeof(*ts->links));
	if (!ts->links)
		return -ENOMEM;
	/* Choosing a priority, recording it and attaching is one step for tracers starting
	 * together. */
	lock = state_lock();
	if (lock < 0) {
		snprintf(err, errlen, "cannot lock %s/.lock: %s", AT_STATE_DIR, strerror(-lock));
		return lock;
	}
	live = live_prios();
	for (ts->prio = AT_TC_PRIO_BASE; ts->prio < AT_TC_PRIO_BASE + 16; ts->prio++)
		if (!(live & (1u << (ts->prio - AT_TC_PRIO_BASE))))
			break;
	snprintf(ts->state_path, sizeof(ts->state_path), "%s/%d", AT_STATE_DIR, getpid());
	ret = ts->prio == AT_TC_PRIO_BASE + 16 ? -EBUSY : write_state(ts);
	if (ret == -EBUSY) {
		snprintf(err, errlen, "16 alerttrace tracers already attached in this network "
			 "namespace: stop one first");
		ts->state_path[0] = 0;
		goto fail;
	}
	if (ret) {
		snprintf(err, errlen, "cannot write %s: %s", ts->state_path, strerror(-ret));
		goto fail;
	}

	for (i = 0; i < n; i++) {
		ret = link_up(ts, &ts->links[ts->n++], ifindexes[i], prog_in, prog_out, err, errlen);
		if (ret)
			goto fail;
	}
	state_unlock(lock);
	return 0;
fail:
	state_unlock(lock);
	tc_detach_all(ts, false);
	return ret;
}

void tc_detach_all(struct tc_set *ts, bool verbose)
{
	int i, lock = state_lock();

	for (i = 0; i < ts->n; i++)
		link_down(ts, &ts->links[i]);
	if (ts->state_path[0])
		unlink(ts->state_path);
	state_unlock(lock);
	free(ts->links);
	memset(ts, 0, sizeof(*ts));
}
