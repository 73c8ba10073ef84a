// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * alerttrace: every TLS alert on this host, with the process that sent or received it.
 *
 * Data path (each step a module with its header):
 *   cli.c        options -> struct at_opts -> the filter rodata of every BPF object (shared.c)
 *   bpf/tc.bpf.c     wire: TLS alert records on the interfaces of ifaces.c, attached by
 *                    tc_attach.c; owners of their sockets from bpf/sock.bpf.c and owners_seed.c
 *   bpf/ossl.bpf.c   library: uprobes on every libssl found and analysed by tls/libpath.c, tls/ossl_hooks.c
 *   bpf/emit.bpf.h   both: filter, count in the histogram map, stream into the ring buffer
 *   handle_event()   ring buffer -> match.c (same alert seen twice) -> output.c (alerts.c names)
 *   collect()        histogram map -> hist.c -> histprint.c (-H) and metrics.c (exporters)
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "tc.skel.h"
#include "sock.skel.h"
#include "hist.h"
#include "histprint.h"
#include "match.h"
#include "metrics.h"
#include "shared.h"
#include "owners_seed.h"
#include "alerts.h"
#include "cli.h"
#include "ifaces.h"
#include "libpath.h"
#include "execwatch.h"
#include "log.h"
#include "strutil.h"
#include "output.h"
#include "tc_attach.h"

#define AT_RINGBUF_SIZE (4 << 20)
/*
 * Stream mode gathers alerts instead of waking up for each: after a batch it waits AT_GATHER_MIN_MS
 * for the next ones, twice as long each time alerts were waiting when it came back (a steady
 * stream), up to AT_GATHER_MAX_MS, and never longer than a quarter of the ring buffer takes to fill
 * at the last batch's rate. Back to the minimum as soon as the ring is found empty.
 */
#define AT_GATHER_MIN_MS 2
#define AT_GATHER_MAX_MS 32

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return p_vdebug(fmt, args);
}

/* CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN (or CAP_SYS_ADMIN) are what loading and attaching need. */
static bool have_caps(void)
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

struct tracer {
	struct at_opts *o;
	struct at_shared sh;		/* the maps every BPF object shares, and the filters */
	struct tc_bpf *tc;
	struct sock_bpf *sock;
	struct tc_set links;
	struct lib_tracer *libs;
	struct execwatch *ew;		/* discovery at exec; NULL: the rescan alone */
	struct ring_buffer *rb;
	struct hist_state hist;
	bool metrics;			/* --prometheus or --textfile */
	__u64 lost_reported, hist_lost_reported, ew_lost_reported;
	__u64 alerts_seen;		/* alert events since the last poll */
};

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

	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	t->alerts_seen++;
	same_as = match_event(&e, &id);
	/* Library events learn their port from the matching wire event, if any (--port). */
	if (!port_wanted(t->o, &e))
		return 0;
	out_event(stdout, &e, e.source != AT_SRC_WIRE ? libs_path(t->libs, e.lib_id) : NULL, id,
		  same_as);
	if (ferror(stdout)) {
		/* stdout closed (e.g. piped into head): stop cleanly. */
		exiting = 1;
		return -EPIPE;
	}
	return 0;
}

static __u64 bss_lost(struct tracer *t, bool hist)
{
	__u64 n = 0;

	if (t->tc)
		n += hist ? t->tc->bss->hist_lost : t->tc->bss->lost;
	if (t->sock)
		n += hist ? t->sock->bss->hist_lost : t->sock->bss->lost;
	n += hist ? libs_hist_lost(t->libs) : libs_lost(t->libs);
	return n;
}

/* Never silent: every event the kernel could not deliver or count is reported. */
static void report_lost(struct tracer *t)
{
	__u64 lost = bss_lost(t, false), hl = bss_lost(t, true);

	if (lost != t->lost_reported)
		p_err("lost %llu events (ring buffer full): the consumer could not keep up",
		      (unsigned long long)(lost - t->lost_reported));
	if (hl != t->hist_lost_reported)
		p_err("%llu alerts not counted: the histogram map is full (%d entries)",
		      (unsigned long long)(hl - t->hist_lost_reported), AT_HIST_MAX);
	t->lost_reported = lost;
	t->hist_lost_reported = hl;
	if (ew_lost(t->ew) != t->ew_lost_reported) {
		p_err("discovery at exec missed %llu processes (its ring buffer was full): the "
		      "rescan every second finds them",
		      (unsigned long long)(ew_lost(t->ew) - t->ew_lost_reported));
		t->ew_lost_reported = ew_lost(t->ew);
	}
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
	f.netns = netns_cookie_of(0);
	return f;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Connections and listeners older than the tracer: their owners come from /proc. */
static void seed_owners(struct tracer *t)
{
	__u64 t0 = now_ms();
	int n = owners_seed(t->sh.owners_fd, t->sh.filt.netns != 0);

	if (n < 0)
		p_err("cannot read /proc for the owners of existing sockets: %s", strerror(-n));
	else
		p_debug("owners of %d existing TCP sockets read from /proc in %llu ms\n", n,
			(unsigned long long)(now_ms() - t0));
}

static int start_wire(struct tracer *t)
{
	int ifindexes[AT_MAX_IFACES], n, err;
	char msg[256] = "";

	t->tc = tc_bpf__open();
	t->sock = sock_bpf__open();
	if (!t->tc || !t->sock) {
		p_err("cannot open the TC classifier: %s", strerror(errno));
		return -errno;
	}
	t->tc->rodata->at_filt = t->sh.filt;
	t->sock->rodata->at_filt = t->sh.filt;
	err = shared_reuse(t->tc->obj, &t->sh);
	if (!err)
		err = shared_reuse(t->sock->obj, &t->sh);
	if (!err)
		err = tc_bpf__load(t->tc);
	if (!err)
		err = sock_bpf__load(t->sock);
	if (err) {
		p_err("cannot load the TC classifier: %s%s", strerror(-err),
		      t->o->verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
	/* Owners first: connections made from now on are attributed. */
	err = sock_bpf__attach(t->sock);
	if (err)
		p_err("wire events will have no owner: cannot attach to sock:inet_sock_set_state: %s",
		      strerror(-err));
	else
		seed_owners(t);
	n = ifaces_resolve(t->o->ifaces, ifindexes, AT_MAX_IFACES, msg, sizeof(msg));
	if (n < 0) {
		p_err("%s", msg);
		return n;
	}
	err = tc_attach_all(&t->links, ifindexes, n,
			    bpf_program__fd(t->tc->progs.at_tc_ingress),
			    bpf_program__fd(t->tc->progs.at_tc_egress), msg, sizeof(msg));
	if (err) {
		p_err("%s", msg);
		return err;
	}
	return 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A process ran exec on a file not seen, or its dynamic linker mapped its libraries: look now. */
static void on_exec(void *ctx, int pid, __u64 ts_ns, bool exec)
{
	struct tracer *t = ctx;
	__u64 t0 = mono_ns();
	int n = libs_scan_pid(t->libs, pid);

	if (n > 0)
		libs_report(t->libs, stderr, t->o->json);
	if (t->o->verbose && n > 0)
		p_debug("exec: pid %d (%s): %d libraries hooked %.1f ms after the kernel saw it "
			"(%.1f ms to wake up, %.1f ms to scan and attach)\n",
			pid, exec ? "exec" : "libraries mapped", n, (mono_ns() - ts_ns) / 1e6,
			(t0 - ts_ns) / 1e6, (mono_ns() - t0) / 1e6);
}

static int start_libs(struct tracer *t)
{
	struct libs_opts lo = {
		.extra = t->o->libs,
		.pids = t->o->pids,
		.npids = t->o->npids,
		.verbose = t->o->verbose,
		.shared = &t->sh,
	};
	int err = libs_open(&t->libs, &lo, t->sh.events_fd);

	if (err) {
		p_err("cannot load the library probes: %s%s", strerror(-err),
		      t->o->verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
	/* Before the first scan: every file it looks at is marked seen for the exec hook. */
	err = ew_open(&t->ew, t->rb, on_exec, t);
	if (err)
		p_err("discovery at exec is off (%s): new libraries are found by the rescan every "
		      "second", strerror(-err));
	libs_set_execwatch(t->libs, t->ew);
	err = libs_scan(t->libs);
	if (err < 0) {
		p_err("cannot scan processes for TLS libraries: %s", strerror(-err));
		return err;
	}
	libs_report(t->libs, stderr, t->o->json);
	return 0;
}


static __u64 epoch_ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Fold the kernel's counts in and hand the totals to the exporters; the textfile is written
 * every interval when one is given, else every second (tick). */
static void collect(struct tracer *t, bool tick)
{
	struct metrics_info mi = {
		.lost_events = bss_lost(t, false),
		.hist_lost = bss_lost(t, true),
		.hooked_libs = libs_hooked(t->libs),
		.version = AT_VERSION,
		.with_pid = t->o->metrics_pid,
	};
	char msg[256];

	if (hist_collect(&t->hist) < 0)
		p_err("cannot read the histogram map: %s", strerror(errno));
	if (!t->metrics)
		return;
	metrics_publish(&t->hist.totals, &mi);
	if (t->o->textfile && (tick || !t->o->interval) &&
	    metrics_write_textfile(t->o->textfile, &t->hist.totals, &mi, msg, sizeof(msg)))
		p_err("%s", msg);
}

static void print_interval(struct tracer *t)
{
	struct hist_print_opts po = {.json = t->o->json, .per_pid = t->o->per_pid};

	hist_print(stdout, &t->hist.interval, epoch_ns_now(), &po);
	fflush(stdout);
	hist_interval_reset(&t->hist);
}

/* The next gathering time after n alerts came in the last one of ms. */
static int next_gather(int ms, __u64 n)
{
	/* Events the ring buffer holds (each record has an 8-byte header). */
	const __u64 cap = AT_RINGBUF_SIZE / (sizeof(struct at_event) + 8);
	__u64 next = (__u64)ms * 2, fill = cap / 4 * (__u64)ms / n;

	if (next > AT_GATHER_MAX_MS)
		next = AT_GATHER_MAX_MS;
	if (next > fill)
		next = fill;
	return next < AT_GATHER_MIN_MS ? AT_GATHER_MIN_MS : (int)next;
}

static int run(struct at_opts *o)
{
	struct tracer t = {.o = o, .sh = {.events_fd = -1, .hist_fd = -1, .owners_fd = -1}};
	__u64 next_scan = 0, next_collect, next_print, printed = 0;
	int gather_ms = AT_GATHER_MIN_MS;
	bool aggregate;
	char msg[256];
	int err;

	if (!have_caps()) {
		p_err("need root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN: run with sudo");
		return 1;
	}
	libbpf_set_print(o->verbose ? libbpf_print : NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	/* What a killed tracer left in this network namespace goes first. */
	tc_cleanup_stale(true);

	t.metrics = o->prometheus || o->textfile;
	aggregate = o->hist || t.metrics;
	err = shared_create(&t.sh, AT_RINGBUF_SIZE);
	if (err) {
		p_err("cannot create the BPF maps: %s", strerror(-err));
		goto cleanup;
	}
	t.sh.filt = make_filter(o, t.metrics);
	t.hist.map_fd = t.sh.hist_fd;
	if (o->prometheus) {
		err = metrics_serve(o->prometheus, msg, sizeof(msg));
		if (err) {
			p_err("%s", msg);
			goto cleanup;
		}
	}
	t.rb = ring_buffer__new(t.sh.events_fd, handle_event, &t, NULL);
	if (!t.rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	if (!o->no_wire) {
		err = start_wire(&t);
		if (err)
			goto cleanup;
	}
	if (!o->no_lib) {
		err = start_libs(&t);
		if (err)
			goto cleanup;
	}

	if (!o->hist)
		out_header(stdout);
	p_info("Tracing TLS alerts... Hit Ctrl-C to end.");
	next_collect = now_ms() + 1000;
	next_print = o->interval ? now_ms() + o->interval * 1000ULL : ~0ULL;
	while (!exiting) {
		/* Alerts that came while gathering: a steady stream, gather longer next time. */
		err = ring_buffer__consume(t.rb);
		if (err >= 0 && t.alerts_seen) {
			gather_ms = next_gather(gather_ms, t.alerts_seen);
		} else if (err >= 0) {
			gather_ms = AT_GATHER_MIN_MS;
			err = ring_buffer__poll(t.rb, 100);
		}
		/* One write per batch of events, before the poll sleeps again. */
		if (fflush(stdout) || ferror(stdout)) {
			/* stdout closed (e.g. piped into head): stop cleanly. */
			exiting = 1;
			break;
		}
		if (err < 0 && err != -EINTR && err != -EPIPE) {
			p_err("reading the ring buffer: %s", strerror(-err));
			goto cleanup;
		}
		/* Alerts came: let the next ones gather instead of waking up for each (a wake-up per
		 * record costs the traced programs' CPU as much as ours). Exec notifications do not
		 * wait: a new process is hooked at once. */
		if (t.alerts_seen) {
			t.alerts_seen = 0;
			ew_wait(t.ew, gather_ms);
		}
		report_lost(&t);
		/* New processes may map a libssl not hooked yet (a new container): rescan. */
		if (t.libs && now_ms() >= next_scan) {
			libs_scan(t.libs);
			libs_report(t.libs, stderr, o->json);
			next_scan = now_ms() + 1000;
		}
		if (aggregate && now_ms() >= next_collect) {
			collect(&t, false);
			next_collect = now_ms() + 1000;
		}
		if (now_ms() >= next_print) {
			collect(&t, true);
			if (o->hist)
				print_interval(&t);
			next_print += o->interval * 1000ULL;
			if (o->count && ++printed >= o->count)
				break;
		}
	}
	/* Drain what arrived before the signal; a histogram without interval prints now. */
	ring_buffer__consume(t.rb);
	fflush(stdout);
	if (aggregate) {
		collect(&t, true);
		if (o->hist && !o->interval)
			print_interval(&t);
	}
	report_lost(&t);
	err = 0;
cleanup:
	metrics_stop();
	ring_buffer__free(t.rb);
	tc_detach_all(&t.links, o->verbose);
	tc_bpf__destroy(t.tc);
	sock_bpf__destroy(t.sock);
	libs_close(t.libs);
	ew_close(t.ew);
	hist_free(&t.hist);
	shared_close(&t.sh);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct at_opts o;

	cli_parse(argc, argv, &o);
	log_set_json(o.json);
	log_set_verbose(o.verbose);
	out_init(&(struct out_opts){.json = o.json, .timestamps = o.timestamps});

	switch (o.action) {
	case AT_LIST_ALERTS:
		at_alerts_print_table(stdout);
		return 0;
	case AT_EXPLAIN:
		if (at_alert_explain(stdout, o.explain)) {
			p_err("unknown alert '%s': give a code 0-255 or a name (see --list-alerts)",
			      o.explain);
			return 1;
		}
		return 0;
	case AT_CLEANUP:
		if (!have_caps()) {
			p_err("need root, or CAP_BPF and CAP_NET_ADMIN: run with sudo");
			return 1;
		}
		p_info("removed %d stale alerttrace filter(s)", tc_cleanup_stale(true));
		return 0;
	case AT_RUN:
		break;
	}
	return run(&o);
}
