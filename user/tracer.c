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
#include "accept.h"
#include "owners_seed.h"
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

void tracer_loader_event(void *ctx, struct at_event *e)
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

void tracer_prepared(struct tracer *t)
{
	if (t->libs && libs_prepared(t->libs) > 0)
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
