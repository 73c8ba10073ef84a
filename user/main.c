// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * alerttrace: every TLS alert on this host, with the process that sent or received it.
 *
 * Data path (each step a module with its header):
 *   cli.c        options -> struct at_opts -> the filter rodata of every BPF object (shared.c)
 *   bpf/tc.bpf.c     wire: TLS alert records on the interfaces of ifaces.c, followed by
 *                    ifwatch.c, attached by tc_attach.c and tc_link.c; owners of their
 *                    sockets from bpf/sock.bpf.c and owners_seed.c
 *   bpf/ossl.bpf.c   library: uprobes on every libssl found and analysed by tls/libpath.c, tls/ossl_hooks.c
 *   bpf/emit.bpf.h   both: filter, count in the histogram map, stream into the ring buffer
 *   tracer.c         the above set up and torn down, the same for --selftest (selftest.c);
 *                    its handle_event(): ring buffer -> match.c (same alert seen twice) ->
 *                    output.c (alerts.c names)
 *   collect()        histogram map -> hist.c -> histprint.c (-H) and metrics.c (exporters)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "hist.h"
#include "histprint.h"
#include "metrics.h"
#include "alerts.h"
#include "btfmin.h"
#include "caps.h"
#include "cli.h"
#include "libpath.h"
#include "execwatch.h"
#include "log.h"
#include "output.h"
#include "selftest.h"
#include "tc_attach.h"
#include "tracer.h"

/*
 * Stream mode gathers alerts instead of waking up for each: after a batch it waits AT_GATHER_MIN_MS
 * for the next ones, twice as long each time alerts were waiting when it came back (a steady
 * stream), up to AT_GATHER_MAX_MS, and never longer than a quarter of the ring buffer takes to fill
 * at the last batch's rate. Found empty, the ring is waited on; an alert that comes within the
 * gathering time is the same stream, a little slower than the gathering (a paced sender: each
 * write of a client that writes every 2.5 ms), and doubles it too; one that comes later sets it
 * back to the minimum, and so does the poll's timeout. Before, an empty ring set it back at once,
 * and such a stream woke the loader twice per write (837 wake-ups for 400 writes).
 */
#define AT_GATHER_MIN_MS 2
#define AT_GATHER_MAX_MS 32
/* stdout's buffer when it is not a terminal, and the pipe's size asked for when it is a pipe. */
#define AT_STDOUT_BUF (256 * 1024)
#define AT_STDOUT_PIPE (1024 * 1024)

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
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
		.lost_events = tracer_lost(t, false),
		.hist_lost = tracer_lost(t, true),
		.possible_misses = tracer_wire_count(t, TRACER_POSSIBLE_MISSES),
		.quic_unopened = tracer_wire_count(t, TRACER_QUIC_UNOPENED),
		.hooked_libs = libs_hooked(t->libs),
		.version = AT_VERSION,
		.with_pid = t->o->metrics_pid,
		.with_container = t->o->metrics_container,
	};
	/* The last textfile error: said once, not at every write, until a write works again. */
	static char failing[256];
	char msg[256];

	if (hist_collect(&t->hist) < 0)
		p_err("cannot read the histogram map: %s", strerror(errno));
	if (!t->metrics)
		return;
	metrics_publish(&t->hist.totals, &mi);
	if (!t->o->textfile || (!tick && t->o->interval))
		return;
	if (metrics_write_textfile(t->o->textfile, &t->hist.totals, &mi, msg, sizeof(msg))) {
		if (strcmp(msg, failing))
			p_err("%s; retrying every %s without a new message until it works", msg,
			      t->o->interval ? "interval" : "second");
		snprintf(failing, sizeof(failing), "%s", msg);
	} else if (failing[0]) {
		p_info("metrics file written again");
		failing[0] = 0;
	}
}

/* What can be checked before anything is loaded: the processes of -p exist, the textfile's
 * directory takes a file. 0 or -errno with one line in msg. */
static int check_start(const struct at_opts *o, char *msg, size_t n)
{
	int i;

	for (i = 0; i < o->npids; i++)
		if (kill(o->pids[i], 0) && errno == ESRCH) {
			snprintf(msg, n, "no process with pid %u (-p): give the pid of a running "
				 "process", o->pids[i]);
			return -ESRCH;
		}
	return o->textfile ? metrics_check_textfile(o->textfile, msg, n) : 0;
}

static void print_interval(struct tracer *t)
{
	struct hist_print_opts po = {
		.json = t->o->json,
		.per_pid = t->o->per_pid,
		.by_container = t->o->by_container,
		.by_sni = t->o->by_sni,
	};

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

/*
 * A batch of events is one write (the fflush after each batch), not one per 4 KiB (stdio's default
 * for a pipe or a file): a storm writes some 10 MB/s. Into a pipe of the default 64 KiB such a
 * write blocks until the reader drained it, a context switch each time: a bigger pipe, if the
 * kernel grants it (fs.pipe-max-size), holds a batch. A terminal stays line-buffered.
 */
static void stdout_buffer(void)
{
	/* Given, not NULL: glibc's setvbuf ignores the size of a buffer it is to allocate itself
	 * and takes st_blksize, 4 KiB for a pipe (strace: 1533 writes for 40,000 text rows). */
	static char buf[AT_STDOUT_BUF];
	struct stat st;

	if (isatty(STDOUT_FILENO))
		return;
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	if (!fstat(STDOUT_FILENO, &st) && S_ISFIFO(st.st_mode) &&
	    fcntl(STDOUT_FILENO, F_GETPIPE_SZ) < AT_STDOUT_PIPE)
		fcntl(STDOUT_FILENO, F_SETPIPE_SZ, AT_STDOUT_PIPE);
}

/* One line naming every capability these sources lack (caps.c says what each is for). */
static bool have_caps(const struct caps_need *need)
{
	char missing[512];
	int n = caps_missing(need, missing, sizeof(missing));

	if (n)
		p_err("missing %s: run with sudo or grant %s", missing, n > 1 ? "them" : "it");
	return !n;
}

static int run(struct at_opts *o)
{
	static const struct {
		int (*fn)(struct tracer *t, char *msg, size_t n);
		bool wire;	/* a step of the wire source, else of the library source */
	} steps[] = {
		{tracer_start_wire, true},
		{tracer_start_libs, false},
		{tracer_finish_wire, true},
		{tracer_scan_libs, false},
	};
	__u64 next_scan = 0, next_collect, next_print, printed = 0;
	int gather_ms = AT_GATHER_MIN_MS;
	struct tracer t;
	bool aggregate;
	char msg[256];
	int err, i;

	if (!have_caps(&(struct caps_need){.wire = !o->no_wire, .lib = !o->no_lib}))
		return 1;
	err = check_start(o, msg, sizeof(msg));
	if (err) {
		p_err("%s", msg);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	stdout_buffer();
	tracer_init(&t, o);
	aggregate = o->hist || t.metrics;
	err = tracer_start_core(&t);
	if (err)
		goto cleanup;
	if (o->prometheus) {
		err = metrics_serve(o->prometheus, msg, sizeof(msg));
		if (err) {
			p_err("%s", msg);
			goto cleanup;
		}
	}
	/* The sources' steps in this order: the TC classifier's load (a thread) overlaps the
	 * library objects' load, and the wire is attached before the long scan of the host. */
	for (i = 0; i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
		if (steps[i].wire ? o->no_wire : o->no_lib)
			continue;
		err = steps[i].fn(&t, msg, sizeof(msg));
		if (err) {
			p_err("%s", msg);
			goto cleanup;
		}
	}

	tracer_report_start(&t);
	if (!o->hist)
		out_header(stdout);
	tracer_phase(&t, "ready");
	btfmin_release(); /* every object is open */
	p_info("Tracing TLS alerts... Hit Ctrl-C to end.");
	next_collect = tracer_now_ms() + 1000;
	next_print = o->interval ? tracer_now_ms() + o->interval * 1000ULL : ~0ULL;
	while (!exiting && !t.stdout_closed) {
		/* Alerts that came while gathering: a steady stream, gather longer next time. */
		err = ring_buffer__consume(t.rb);
		if (err >= 0 && t.alerts_seen) {
			gather_ms = next_gather(gather_ms, t.alerts_seen);
		} else if (err >= 0) {
			__u64 t0 = tracer_now_ms();

			err = tracer_poll(&t, 100);
			/* The next alert came within the gathering time: the stream goes on, only
			 * a little slower than we came back (a paced sender), so gather longer still.
			 * Later: it paused, back to the minimum. */
			if (t.alerts_seen && tracer_now_ms() - t0 <= (__u64)gather_ms)
				gather_ms = next_gather(gather_ms, t.alerts_seen);
			else
				gather_ms = AT_GATHER_MIN_MS;
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
			tracer_follow_ifaces(&t);
		}
		tracer_report_lost(&t);
		tracer_prepared(&t);
		/* New processes may map a libssl not hooked yet (a new container): rescan. */
		if (t.libs && tracer_now_ms() >= next_scan) {
			tracer_rescan(&t);
			next_scan = tracer_now_ms() + 1000;
		}
		if (aggregate && tracer_now_ms() >= next_collect) {
			collect(&t, false);
			next_collect = tracer_now_ms() + 1000;
		}
		if (tracer_now_ms() >= next_print) {
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
	tracer_report_lost(&t);
	err = 0;
cleanup:
	metrics_stop();
	tracer_stop(&t);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct at_opts o;

	cli_parse(argc, argv, &o);
	log_set_json(o.json);
	log_set_verbose(o.verbose);
	out_init(&(struct out_opts){.json = o.json, .timestamps = o.timestamps,
				     .wide = o.wide});

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
	case AT_SELFTEST:
		return selftest_run(&o);
	case AT_CLEANUP:
		if (!have_caps(&(struct caps_need){.cleanup = true}))
			return 1;
		p_info("removed %d stale alerttrace filter(s)", tc_cleanup_stale(true));
		return 0;
	case AT_RUN:
		break;
	}
	return run(&o);
}
