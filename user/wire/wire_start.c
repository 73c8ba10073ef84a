// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The wire source's part of a run (tracer.h): the TC classifier's and the socket owners'
 * objects opened and loaded in threads beside the library source's, the socket owners attached
 * and the existing ones read, the interfaces followed (ifwatch.c) and the classifier attached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "btfmin.h"
#include "tc.h"
#include "tc.skel.h"
#include "sock.skel.h"
#include "accept.h"
#include "ifwatch.h"
#include "log.h"
#include "owners_seed.h"
#include "peerns.h"
#include "quic_src.h"
#include "tracer.h"

/* Connections and listeners older than the tracer: their owners come from sock_diag and /proc. */
static void seed_owners(struct tracer *t)
{
	double t0 = shared_now_ms();
	int n = owners_seed(t->sh.owners_fd, t->sh.filt.netns);

	if (n < 0)
		p_err("cannot read the owners of existing sockets: %s", strerror(-n));
	else
		p_debug("start-up: owners of %d existing TCP sockets read in %.1f ms\n", n,
			shared_now_ms() - t0);
}

/* Mark a device without a link-layer header for the classifier (bpf/tc.h), or unmark it. */
static void mark_l3(struct tracer *t, int ifindex, bool on)
{
	__u8 one = 1;

	t->tc->bss->l3_any += on ? 1 : -1;
	if (ifindex < AT_L3_IFS && on)
		t->tc->bss->l3_ifs[ifindex / 8] |= 1 << (ifindex & 7);
	else if (ifindex < AT_L3_IFS)
		t->tc->bss->l3_ifs[ifindex / 8] &= ~(1 << (ifindex & 7));
	else if (on)
		bpf_map_update_elem(bpf_map__fd(t->tc->maps.l3_ifs_high), &ifindex, &one, BPF_ANY);
	else
		bpf_map_delete_elem(bpf_map__fd(t->tc->maps.l3_ifs_high), &ifindex);
}

/*
 * A link whose far end is another network namespace (a container's veth seen from the host):
 * its events take that namespace's owners. Without a cookie for it (no CAP_SYS_ADMIN for setns,
 * or no process left in it) they keep the tracer's namespace, and the line says so.
 */
static void mark_peer(struct tracer *t, int ifindex, bool on)
{
	int fd = bpf_map__fd(t->tc->maps.ifpeer), nsid, err;
	struct at_ifpeer p = {};
	__u32 k = ifindex;

	if (!on) {
		if (!bpf_map_delete_elem(fd, &k))
			t->tc->bss->ifpeer_any--;
		return;
	}
	nsid = peerns_link_nsid(ifindex);
	if (nsid < 0 || !t->sh.filt.netns)
		return;
	err = peerns_cookie(nsid, &p.netns);
	if (err) {
		char name[IF_NAMESIZE];

		if (!if_indextoname(ifindex, name))
			snprintf(name, sizeof(name), "if%d", ifindex);
		p_info("%s: its far end is another network namespace (id %d), whose sockets' "
		       "owners stay unknown: %s", name, nsid,
		       err == -EPERM ? "entering it needs CAP_SYS_ADMIN" : "no process in it found");
		return;
	}
	if (!bpf_map_update_elem(fd, &k, &p, BPF_NOEXIST))
		t->tc->bss->ifpeer_any++;
}

/* ifwatch.c's hands: the mark before the filters, so the first packet is parsed right. */
static int wire_attach(void *ctx, int ifindex, bool l3, char *err, size_t n)
{
	struct tracer *t = ctx;
	int ret;

	mark_peer(t, ifindex, true);
	if (l3)
		mark_l3(t, ifindex, true);
	ret = tc_attach_link(&t->links, ifindex, bpf_program__fd(t->tc->progs.at_tc_both),
			     bpf_program__fd(t->tc->progs.at_tc_both), err, n);
	if (ret && l3)
		mark_l3(t, ifindex, false);
	if (ret)
		mark_peer(t, ifindex, false);
	return ret;
}

static void wire_detach(void *ctx, int ifindex, bool l3)
{
	struct tracer *t = ctx;

	tc_detach_link(&t->links, ifindex);
	if (l3)
		mark_l3(t, ifindex, false);
	mark_peer(t, ifindex, false);
}

/* The poll loop's epoll: the ring buffers' own epoll fd and the interface notifications. */
static int poll_add(struct tracer *t, int fd, char *msg, size_t n)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int rfd = ring_buffer__epoll_fd(t->rb), err;

	if (t->epfd < 0) {
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		ev.data.fd = rfd;
		if (t->epfd < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, rfd, &ev))
			goto fail;
	}
	ev.data.fd = fd;
	if (!epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev))
		return 0;
fail:
	err = -errno;
	snprintf(msg, n, "cannot poll the interface notifications: %s", strerror(-err));
	return err;
}

int tracer_start_wire(struct tracer *t, char *msg, size_t n)
{
	int err;

	/* A bad interface is an error before anything else starts. */
	err = ifw_open(&t->ifw, t->o->ifaces, &(struct ifw_ops){wire_attach, wire_detach, t},
		       t->o->json, t->quiet, msg, n);
	if (err)
		return err;
	/*
	 * Each object loaded in a thread as soon as it is open, beside the other and the library
	 * source's objects (their verifiers' time overlaps), waited for in tracer_finish_wire. The
	 * TC object first: its load is the longest, and its open reads no kernel type, while the
	 * socket owners' open waits for the kernel's BTF (btfmin.c).
	 */
	t->tc = BTFMIN_OPEN(tc);
	if (!t->tc)
		goto open_failed;
	t->tc->rodata->at_filt = t->sh.filt;
	t->tc->rodata->at_quic_task =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_get_current_pid_tgid,
					NULL) == 1;
	err = shared_reuse(t->tc->obj, &t->sh);
	if (err)
		goto share_failed;
	bgload_start(&t->tc_load, t->tc->skeleton);
	t->sock = BTFMIN_OPEN(sock);
	if (!t->sock) {
		err = -errno;
		snprintf(msg, n, "cannot open the socket owners' object: %s", strerror(-err));
		return err;
	}
	t->sock->rodata->at_filt = t->sh.filt;
	accept_prepare(t->sock, &t->accept);
	err = shared_reuse(t->sock->obj, &t->sh);
	if (err) {
		snprintf(msg, n, "cannot share the maps with the socket owners' object: %s",
			 strerror(-err));
		return err;
	}
	bgload_start(&t->sock_load, t->sock->skeleton);
	return 0;
open_failed:
	err = -errno;
	snprintf(msg, n, "cannot open the TC classifier: %s", strerror(-err));
	return err;
share_failed:
	snprintf(msg, n, "cannot share the maps with the TC classifier: %s", strerror(-err));
	return err;
}

/* The socket owners: loaded (tracer_start_wire's thread), attached, the existing ones read. */
static int start_owners(struct tracer *t, char *msg, size_t n)
{
	int err = bgload_wait(&t->sock_load);

	if (err) {
		snprintf(msg, n, "cannot load the socket owners' tracepoint: %s%s", strerror(-err),
			 t->o->verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
	shared_report_load("sock", t->sock->obj, t->sock_load.t0, t->sock_load.t1);
	/* Owners before the classifier: connections made from now on are attributed. */
	err = sock_bpf__attach(t->sock);
	if (err) {
		p_err("wire events will have no owner: cannot attach to sock:inet_sock_set_state: %s",
		      strerror(-err));
	} else {
		const char *how = "";

		err = accept_attach(t->sock, &t->accept, &t->sh, &how);
		if (err)
			p_err("accepted connections are attributed to the listener's owner: cannot "
			      "attach to the exit of accept(): %s", strerror(-err));
		else
			p_debug("accepting tasks from the %s\n", how);
		seed_owners(t);
	}
	tracer_phase(t, "wire: socket owners attached and read");
	return 0;
}

int tracer_finish_wire(struct tracer *t, char *msg, size_t n)
{
	int err, fd;

	err = start_owners(t, msg, n);
	if (err) {
		bgload_wait(&t->tc_load);
		return err;
	}
	err = bgload_wait(&t->tc_load);
	if (err) {
		snprintf(msg, n, "cannot load the TC classifier: %s%s", strerror(-err),
			 t->o->verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
	shared_report_load("tc", t->tc->obj, t->tc_load.t0, t->tc_load.t1);
	tracer_phase(t, "wire: TC classifier loaded (waited for)");
	err = quic_src_open(&t->quic, t->rb, bpf_map__fd(t->tc->maps.quic_pkts), tracer_loader_event, t);
	if (err) {
		snprintf(msg, n, "cannot read the QUIC ring buffer: %s", strerror(-err));
		return err;
	}
	/* One program on both hooks: it tells them apart itself (bpf/tc.bpf.c, pkt_dir()). The
	 * record and our priority first, then each interface as tc_link.c adds them. */
	fd = bpf_program__fd(t->tc->progs.at_tc_both);
	err = tc_attach_all(&t->links, NULL, 0, fd, fd, msg, n);
	if (!err)
		err = ifw_start(t->ifw, msg, n);
	if (!err && ifw_fd(t->ifw) >= 0)
		err = poll_add(t, ifw_fd(t->ifw), msg, n);
	if (!err)
		tracer_phase(t, "wire: TC attached");
	return err;
}

int tracer_poll(struct tracer *t, int ms)
{
	struct epoll_event ev[2];
	int i, n;

	if (t->epfd < 0)
		return ring_buffer__poll(t->rb, ms);
	n = epoll_wait(t->epfd, ev, 2, ms);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++)
		if (ev[i].data.fd != ring_buffer__epoll_fd(t->rb))
			ifw_handle(t->ifw);
	return ring_buffer__consume(t->rb);
}

void tracer_follow_ifaces(struct tracer *t)
{
	ifw_handle(t->ifw);
}

