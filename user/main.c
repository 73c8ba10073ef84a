// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * alerttrace: every TLS alert on this host, with the process that sent or received it.
 *
 * Data path: bpf/tc.bpf.c (wire) and bpf/ossl.bpf.c (libssl uprobes) write struct at_event into
 * one ring buffer -> consume() here -> output.c prints it, decoded with alerts.c.
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
#include "tc.skel.h"
#include "alerts.h"
#include "cli.h"
#include "ifaces.h"
#include "libs.h"
#include "strutil.h"
#include "output.h"
#include "tc_attach.h"

#define AT_RINGBUF_SIZE (4 << 20)

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

/* One line on stderr; JSON when -j so a consumer of the stream can parse errors too. */
static bool json_errors;
static void __attribute__((format(printf, 1, 2))) p_err(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_errors) {
		fprintf(stderr, "{\"error\":");
		json_str(stderr, msg);
		fprintf(stderr, "}\n");
	} else {
		fprintf(stderr, "alerttrace: %s\n", msg);
	}
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
	struct tc_bpf *tc;
	struct tc_set links;
	struct lib_tracer *libs;
	int rb_fd;			/* the one ring buffer both sources write into */
	struct ring_buffer *rb;
	__u64 lost_reported;
	int err;
};

static int handle_event(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;

	if (len < sizeof(struct at_event))
		return 0;
	const struct at_event *e = data;

	out_event(stdout, e, e->source == AT_SRC_OPENSSL ? libs_path(t->libs, e->lib_id) : NULL);
	if (ferror(stdout)) {
		/* stdout closed (e.g. piped into head): stop cleanly. */
		t->err = 0;
		exiting = 1;
		return -EPIPE;
	}
	return 0;
}

static __u64 lost_events(struct tracer *t)
{
	return (t->tc ? t->tc->bss->lost : 0) + libs_lost(t->libs);
}

static void report_lost(struct tracer *t)
{
	__u64 lost = lost_events(t);

	if (lost == t->lost_reported)
		return;
	p_err("lost %llu events (ring buffer full): the consumer could not keep up",
	      (unsigned long long)(lost - t->lost_reported));
	t->lost_reported = lost;
}

static int start_wire(struct tracer *t)
{
	int ifindexes[AT_MAX_IFACES], n, err;
	char msg[256] = "";

	t->tc = tc_bpf__open();
	if (!t->tc) {
		p_err("cannot open the TC classifier: %s", strerror(errno));
		return -errno;
	}
	err = bpf_map__reuse_fd(t->tc->maps.events, t->rb_fd);
	if (!err)
		err = tc_bpf__load(t->tc);
	if (err) {
		p_err("cannot load the TC classifier: %s%s", strerror(-err),
		      t->o->verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
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

static int start_libs(struct tracer *t)
{
	struct libs_opts lo = {
		.extra = t->o->libs,
		.pids = t->o->pids,
		.npids = t->o->npids,
		.verbose = t->o->verbose,
	};
	int err = libs_open(&t->libs, &lo, t->rb_fd);

	if (err) {
		p_err("cannot load the library probes: %s%s", strerror(-err),
		      t->o->verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
	err = libs_scan(t->libs);
	if (err < 0) {
		p_err("cannot scan processes for TLS libraries: %s", strerror(-err));
		return err;
	}
	libs_report(t->libs, stderr, t->o->json);
	return 0;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int run(struct at_opts *o)
{
	struct tracer t = {.o = o, .rb_fd = -1};
	__u64 next_scan = 0;
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

	t.rb_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "at_events", 0, 0, AT_RINGBUF_SIZE, NULL);
	if (t.rb_fd < 0) {
		err = -errno;
		p_err("cannot create the ring buffer: %s", strerror(errno));
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
	t.rb = ring_buffer__new(t.rb_fd, handle_event, &t, NULL);
	if (!t.rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(errno));
		goto cleanup;
	}

	out_header(stdout);
	fprintf(stderr, "Tracing TLS alerts... Hit Ctrl-C to end.\n");
	while (!exiting) {
		err = ring_buffer__poll(t.rb, 200);
		if (err < 0 && err != -EINTR && err != -EPIPE) {
			p_err("reading the ring buffer: %s", strerror(-err));
			goto cleanup;
		}
		report_lost(&t);
		/* New processes may map a libssl not hooked yet (a new container): rescan. */
		if (t.libs && now_ms() >= next_scan) {
			libs_scan(t.libs);
			next_scan = now_ms() + 1000;
		}
	}
	/* Drain what arrived before the signal. */
	ring_buffer__consume(t.rb);
	report_lost(&t);
	err = 0;
cleanup:
	ring_buffer__free(t.rb);
	tc_detach_all(&t.links, o->verbose);
	tc_bpf__destroy(t.tc);
	libs_close(t.libs);
	if (t.rb_fd >= 0)
		close(t.rb_fd);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct at_opts o;

	cli_parse(argc, argv, &o);
	json_errors = o.json;
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
		fprintf(stderr, "removed %d stale alerttrace filter(s)\n", tc_cleanup_stale(true));
		return 0;
	case AT_RUN:
		break;
	}
	return run(&o);
}
