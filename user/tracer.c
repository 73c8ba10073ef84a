// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The tracer's machinery: see tracer.h. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "btfmin.h"
#include "tc.h"
#include "tc.skel.h"
#include "sock.skel.h"
#include "execwatch.h"
#include "ifwatch.h"
#include "libpath.h"
#include "log.h"
#include "match.h"
#include "output.h"
#include "owners_seed.h"
#include "accept.h"
#include "peerns.h"
#include "tc.h"
#include "quic_pkt.h"
#include "quic_src.h"
#include "sources.h"
#include "tracer.h"

bool tracer_have_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};
	__u64 eff;

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
	eff = d[0].effective | ((__u64)d[1].effective << 32);
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON)) &&
	       (eff & (1ULL << CAP_NET_ADMIN));
}

__u64 tracer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool port_wanted(const struct at_opts *o, const struct at_event *e)
{
	int i;

	if (!o->nports)
		return true;
	for (i = 0; i < o->nports && (e->flags & AT_F_HAS_ADDR); i++)
		if (o->ports[i] == e->sport || o->ports[i] == e->dport)
			return true;
	return false;
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;
	struct at_event e;
	__u64 id, same_as;
	const char *lib;

	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	t->alerts_seen++;
	same_as = match_event(&e, &id);
	/* Library events learn their port from the matching wire event, if any (--port). */
	if (!port_wanted(t->o, &e))
		return 0;
	lib = !at_source_on_wire(e.source) ? libs_path(t->libs, e.lib_id) : NULL;
	if (t->on_event) {
		t->on_event(t->on_event_ctx, &e, lib);
		return 0;
	}
	out_event(stdout, &e, lib, id, same_as);
	if (ferror_unlocked(stdout)) { /* only the main thread writes stdout */
		/* stdout closed (e.g. piped into head): stop cleanly. */
		t->stdout_closed = true;
		return -EPIPE;
	}
	return 0;
}

/*
 * Events made in the loader (QUIC closes) pass the filters the BPF programs apply to the others
 * (emit.bpf.h at_wanted), then are counted in the same histogram or streamed.
 */
static bool filter_wanted(const struct at_filter *f, const struct at_event *e)
{
	bool has_task = e->flags & AT_F_HAS_TASK, hit;
	int i;

	if (f->dirs && !(f->dirs & (1u << e->direction)))
		return false;
	if (f->fatal_only && e->level != 2)
		return false;
	if (f->pids[0]) {
		for (i = 0, hit = false; i < AT_FILT_PIDS && f->pids[i]; i++)
			hit |= has_task && f->pids[i] == e->pid;
		if (!hit)
			return false;
	}
	if (f->comm[0] && (!has_task || strncmp(f->comm, e->comm, AT_TASK_COMM_LEN)))
		return false;
	if (f->ports[0]) {
		for (i = 0, hit = false; i < AT_FILT_PORTS && f->ports[i]; i++)
			hit |= f->ports[i] == e->sport || f->ports[i] == e->dport;
		if (!hit)
			return false;
	}
	return true;
}

static void hist_count(struct tracer *t, const struct at_event *e)
{
	struct at_hist_key k = {};
	__u64 v = 0;

	k.pid = t->sh.filt.hist_per_pid ? e->pid : 0;
	k.source = e->source;
	k.direction = e->direction;
	k.level = e->level;
	k.code = e->code;
	memcpy(k.comm, e->comm, sizeof(k.comm));
	if (t->sh.filt.hist_by & AT_BY_CONTAINER)
		k.cgroup_id = e->cgroup_id;
	bpf_map_lookup_elem(t->sh.hist_fd, &k, &v);
	v++;
	if (bpf_map_update_elem(t->sh.hist_fd, &k, &v, BPF_ANY))
		t->loader_hist_lost++;
}

static void loader_event(void *ctx, struct at_event *e)
{
	struct tracer *t = ctx;

	if (!filter_wanted(&t->sh.filt, e))
		return;
	if (t->sh.filt.hist)
		hist_count(t, e);
	if (t->sh.filt.stream)
		handle_event(t, e, sizeof(*e));
}

__u64 tracer_lost(struct tracer *t, bool hist)
{
	__u64 n = 0;

	if (t->tc)
		n += hist ? t->tc->bss->hist_lost + t->loader_hist_lost
			  : t->tc->bss->lost + t->tc->bss->quic_lost;
	if (t->sock)
		n += hist ? t->sock->bss->hist_lost : t->sock->bss->lost;
	n += hist ? libs_hist_lost(t->libs) : libs_lost(t->libs);
	return n;
}

__u64 tracer_wire_count(struct tracer *t, enum tracer_count c)
{
	if (!t->tc)
		return 0;
	return c == TRACER_POSSIBLE_MISSES ? t->tc->bss->possible_miss : t->tc->bss->quic_limited;
}

void tracer_report_lost(struct tracer *t)
{
	__u64 lost = tracer_lost(t, false), hl = tracer_lost(t, true);

	if (lost != t->lost_reported)
		p_err("lost %llu events (ring buffer full): the consumer could not keep up",
		      (unsigned long long)(lost - t->lost_reported));
	if (hl != t->hist_lost_reported)
		p_err("%llu alerts not counted: the histogram map is full (%d entries)",
		      (unsigned long long)(hl - t->hist_lost_reported), AT_HIST_MAX);
	t->lost_reported = lost;
	t->hist_lost_reported = hl;
	if (t->tc && t->tc->bss->quic_limited != t->quic_limited_reported) {
		p_err("%llu QUIC Initial packets not opened: more than %d a second on a CPU",
		      (unsigned long long)(t->tc->bss->quic_limited - t->quic_limited_reported),
		      AT_QUIC_RATE);
		t->quic_limited_reported = t->tc->bss->quic_limited;
	}
	if (t->tc && t->tc->bss->possible_miss != t->miss_reported) {
		p_info("%llu TCP segments of TLS flows could not be read (out of order, or after a "
		       "loss): an alert in them would be missed",
		       (unsigned long long)(t->tc->bss->possible_miss - t->miss_reported));
		t->miss_reported = t->tc->bss->possible_miss;
	}
	if (ew_lost(t->ew) != t->ew_lost_reported) {
		p_err("discovery at exec missed %llu processes (its ring buffer was full): the "
		      "rescan every second finds them",
		      (unsigned long long)(ew_lost(t->ew) - t->ew_lost_reported));
		t->ew_lost_reported = ew_lost(t->ew);
	}
}

/*
 * ALERTTRACE_THREAD_SLOTS=N (tests): the library probes' per-thread array slots, N a power of 2
 * up to 4096 (the default). With few, threads share slots and take the hash map fallback
 * (bpf/libprobe.bpf.h): tests/t_thread_slots.sh. 0: the default.
 */
static __u8 thread_slot_bits(void)
{
	const char *v = getenv("ALERTTRACE_THREAD_SLOTS");
	unsigned long n = v ? strtoul(v, NULL, 10) : 0;
	__u8 bits = 0;

	if (!n || n > AT_THREAD_SLOTS_MAX || (n & (n - 1)))
		return 0;
	while ((1ul << bits) < n)
		bits++;
	return bits + 1;
}

static struct at_filter make_filter(const struct at_opts *o, bool metrics)
{
	struct at_filter f = {};
	int i;

	for (i = 0; i < o->npids; i++)
		f.pids[i] = o->pids[i];
	for (i = 0; i < o->nports; i++)
		f.ports[i] = o->ports[i];
	if (o->comm)
		strncpy(f.comm, o->comm, sizeof(f.comm) - 1);
	if (o->sent_only)
		f.dirs = 1u << AT_DIR_SENT;
	if (o->received_only)
		f.dirs = 1u << AT_DIR_RECEIVED;
	f.fatal_only = o->fatal_only;
	f.hist = o->hist || metrics;
	f.stream = !o->hist;
	/* The exporters keep pid only with --metrics-pid; the printout only with -P. */
	f.hist_per_pid = o->per_pid || o->metrics_pid;
	/* The printout groups by container with --by container, the exporters with
	 * --metrics-label container: the kernel keeps the cgroup for either, each sums over it
	 * when it does not group by it. */
	if (o->by_container || o->metrics_container)
		f.hist_by |= AT_BY_CONTAINER;
	if (o->by_sni)
		f.hist_by |= AT_BY_SNI;
	f.netns = netns_cookie_of(0);
	f.slot_bits = thread_slot_bits();
	/* Counting only: the library probes leave unread what no output shows (a histogram keeps
	 * no version, reason or ends, nor whether a sent alert was written). */
	if (!f.stream) {
		if (!o->nports && o->no_wire)
			f.lib_skip |= AT_SKIP_SOCK;
		if (!o->by_sni)
			f.lib_skip |= AT_SKIP_SNI;
		f.lib_skip |= AT_SKIP_DETAIL | AT_SKIP_WRITTEN;
	}
	return f;
}

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

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return p_vdebug(fmt, args);
}

void tracer_init(struct tracer *t, struct at_opts *o)
{
	libbpf_set_print(o->verbose ? libbpf_print : NULL);
	memset(t, 0, sizeof(*t));
	t->o = o;
	t->sh.events_fd = t->sh.hist_fd = t->sh.owners_fd = -1;
	t->epfd = -1;
	t->metrics = o->prometheus || o->textfile;
	t->t0_ms = t->phase_ms = shared_now_ms();
	match_set_libs(!o->no_lib);
}

void tracer_phase(struct tracer *t, const char *what)
{
	double now = shared_now_ms();

	p_debug("start-up: %s in %.1f ms (%.1f ms since start)\n", what, now - t->phase_ms,
		now - t->t0_ms);
	t->phase_ms = now;
}

int tracer_start_core(struct tracer *t)
{
	int err;

	btfmin_prefetch();
	/* What a killed tracer left in this network namespace goes first. */
	tc_cleanup_stale(true);
	tracer_phase(t, "stale filters looked for");
	err = shared_create(&t->sh, AT_RINGBUF_SIZE);
	if (err) {
		p_err("cannot create the BPF maps: %s", strerror(-err));
		return err;
	}
	t->sh.filt = make_filter(t->o, t->metrics);
	t->hist.map_fd = t->sh.hist_fd;
	t->rb = ring_buffer__new(t->sh.events_fd, handle_event, t, NULL);
	if (!t->rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(errno));
		return err;
	}
	tracer_phase(t, "maps and ring buffer made");
	return 0;
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
	err = quic_src_open(&t->quic, t->rb, bpf_map__fd(t->tc->maps.quic_pkts), loader_event, t);
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

void tracer_report_start(struct tracer *t)
{
	ifw_report_start(t->ifw);
}

static void report(struct tracer *t)
{
	if (!t->quiet)
		libs_report(t->libs, stderr, t->o->json);
}

/* A process ran exec on a file not seen, or its dynamic linker mapped its libraries: look now. */
static void on_exec(void *ctx, int pid, __u64 ts_ns, bool exec)
{
	struct tracer *t = ctx;
	__u64 t0 = mono_ns();
	int n = libs_scan_pid(t->libs, pid);

	if (n > 0)
		report(t);
	if (t->o->verbose && n > 0)
		p_debug("exec: pid %d (%s): %d libraries hooked %.1f ms after the kernel saw it "
			"(%.1f ms to wake up, %.1f ms to scan and attach)\n",
			pid, exec ? "exec" : "libraries mapped", n, (mono_ns() - ts_ns) / 1e6,
			(t0 - ts_ns) / 1e6, (mono_ns() - t0) / 1e6);
}

/* Discovery at exec (its object's load and attach), in a thread beside the providers' loads. */
struct ew_job {
	struct tracer *t;
	int err;
};

static void *ew_open_thread(void *arg)
{
	struct ew_job *j = arg;

	j->err = ew_open(&j->t->ew, j->t->rb, on_exec, j->t);
	return NULL;
}

int tracer_start_libs(struct tracer *t, char *msg, size_t n)
{
	struct libs_opts lo = {
		.extra = t->o->libs,
		.pids = t->o->pids,
		.npids = t->o->npids,
		.verbose = t->o->verbose,
		.shared = &t->sh,
	};
	struct ew_job ew = {.t = t};
	pthread_t th;
	bool threaded = !pthread_create(&th, NULL, ew_open_thread, &ew);
	int err = libs_open(&t->libs, &lo, t->sh.events_fd);

	if (threaded)
		pthread_join(th, NULL);
	else
		ew_open_thread(&ew);
	if (err) {
		snprintf(msg, n, "cannot load the library probes: %s%s", strerror(-err),
			 t->o->verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
	tracer_phase(t, "libs: uprobe objects and discovery at exec loaded");
	/* Before the first scan: every file it looks at is marked seen for the exec hook. */
	err = ew.err;
	if (err)
		p_err("discovery at exec is off (%s): new libraries are found by the rescan every "
		      "second", strerror(-err));
	libs_set_execwatch(t->libs, t->ew);
	/* A file the user named that cannot be hooked is an error, before the host is scanned. */
	return libs_hook_named(t->libs, msg, n);
}

int tracer_scan_libs(struct tracer *t, char *msg, size_t n)
{
	int err = libs_scan(t->libs);

	if (err < 0) {
		snprintf(msg, n, "cannot scan processes for TLS libraries: %s", strerror(-err));
		return err;
	}
	tracer_phase(t, "libs: first scan, libraries hooked");
	report(t);
	return 0;
}

void tracer_rescan(struct tracer *t)
{
	if (!t->libs)
		return;
	libs_scan(t->libs);
	report(t);
}

void tracer_stop(struct tracer *t)
{
	bgload_wait(&t->tc_load);
	bgload_wait(&t->sock_load);
	ring_buffer__free(t->rb);
	quic_src_close(t->quic);
	t->quic = NULL;
	tc_detach_all(&t->links, t->o->verbose);
	ifw_close(t->ifw);
	if (t->epfd >= 0)
		close(t->epfd);
	t->epfd = -1;
	t->ifw = NULL;
	tc_bpf__destroy(t->tc);
	accept_free(&t->accept);
	sock_bpf__destroy(t->sock);
	libs_close(t->libs);
	ew_close(t->ew);
	hist_free(&t->hist);
	shared_close(&t->sh);
	t->rb = NULL;
	t->tc = NULL;
	t->sock = NULL;
	t->libs = NULL;
	t->ew = NULL;
}
