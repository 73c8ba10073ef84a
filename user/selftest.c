// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* alerttrace --selftest: see selftest.h. */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>
#include "alerts.h"
#include "jsonw.h"
#include "log.h"
#include "selftest.h"
#include "selftest_peers.h"
#include "strutil.h"
#include "tracer.h"

/* From go: the peers make their alerts; the tracer has this long to deliver them. */
#define ST_DEADLINE_MS 5000
#define ST_READY_MS 5000
#define ST_MAX_WANT 4
#define ST_MAX_SEEN 64

enum st_result { ST_PENDING, ST_OK, ST_FAILED, ST_NOT_CHECKED };

/* An alert a peer's library says happened, and whether the tracer saw it. */
struct st_want {
	int pid, dir, level, code;
	const char *role;	/* "server", "client" */
	bool seen;
	int seen_level, seen_code;	/* an event of that pid and direction with another code */
	bool other_code;
};

struct st_source {
	const char *name;
	int id;			/* enum at_source */
	enum st_result result;
	char why[320];		/* failed / not checked: the reason; ok: what was checked */
	char what[256];		/* the library (path, version) or the wire's address */
	struct st_proc srv, cli;
	char ended[2][128];	/* how each peer's handshake ended, its own words */
	struct st_want want[ST_MAX_WANT];
	int nwant;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = 1;
}

/* strerror, lower-cased for our one-line messages. */
static const char *errstr(int e)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = tolower((unsigned char)buf[0]);
	return buf;
}

static void __attribute__((format(printf, 3, 4)))
set_result(struct st_source *s, enum st_result r, const char *fmt, ...)
{
	va_list ap;

	if (s->result != ST_PENDING)
		return;	/* the first cause is the one to tell */
	s->result = r;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* lo of a new namespace is down. SIOCSIFFLAGS needs CAP_NET_ADMIN. 0 or -errno. */
static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

static const char *role_of(struct st_source *s, struct st_proc *p)
{
	return p == &s->srv ? "server" : "client";
}

/* Messages of one peer until it is done or has nothing more now (ms: how long to wait). */
static void drain(struct st_source *s, struct st_proc *p, int ms)
{
	struct st_msg m;
	int r;

	while (!p->done && (r = st_recv(p, &m, ms)) != 0) {
		if (r < 0) {
			p->done = true;
			break;
		}
		ms = 0;
		if (m.kind == ST_ALERT && s->nwant < ST_MAX_WANT)
			s->want[s->nwant++] = (struct st_want){.pid = p->pid, .dir = m.dir,
							      .level = m.level, .code = m.code,
							      .role = role_of(s, p)};
		else if (m.kind == ST_ERROR)
			set_result(s, ST_FAILED, "the %s peer: %s", role_of(s, p), m.text);
		else if (m.kind == ST_DONE) {
			snprintf(s->ended[p == &s->cli], sizeof(s->ended[0]), "%.120s", m.text);
			p->done = true;
		}
	}
}

/* Both peers loaded their library and wait; or the source is judged already (absent, error). */
static void wait_ready(struct st_source *s)
{
	struct st_proc *ps[2] = {&s->srv, &s->cli};
	struct st_msg m;
	int i, r;

	for (i = 0; i < 2 && s->result == ST_PENDING; i++) {
		r = st_recv(ps[i], &m, ST_READY_MS);
		if (r <= 0)
			set_result(s, ST_FAILED, "the %s peer did not start (%s)", role_of(s, ps[i]),
				   r ? "it exited" : "no word in 5 s");
		else if (m.kind == ST_ABSENT)
			set_result(s, ST_NOT_CHECKED, "%s", m.text);
		else if (m.kind != ST_READY)
			set_result(s, ST_FAILED, "the %s peer: %s", role_of(s, ps[i]), m.text);
		else if (ps[i] == &s->srv)
			snprintf(s->what, sizeof(s->what), "%s", m.text);
	}
}

/* The events of the library and wire sources, kept until the peers have told what they did. */
struct st_seen {
	const struct st_source *src;
	struct at_event ev[ST_MAX_SEEN];
	int n;
};

/* tracer_event_fn: the events of our peers' pids; the host's other processes are traced too. */
static void on_event(void *ctx, const struct at_event *e, const char *lib)
{
	struct st_seen *seen = ctx;
	const struct st_source *s;

	for (s = seen->src; s->name && seen->n < ST_MAX_SEEN; s++)
		if (s->id == e->source && s->srv.pid && (e->pid == (__u32)s->srv.pid ||
							 e->pid == (__u32)s->cli.pid)) {
			seen->ev[seen->n++] = *e;
			return;
		}
}

/* Match each alert a peer reported against the events seen. */
static void match(struct st_source *s, const struct st_seen *seen)
{
	int i, j;

	for (j = 0; j < s->nwant; j++) {
		struct st_want *w = &s->want[j];

		for (i = 0; i < seen->n && !w->seen; i++) {
			const struct at_event *e = &seen->ev[i];

			if (e->source != s->id || (int)e->pid != w->pid || e->direction != w->dir)
				continue;
			if (e->level == w->level && e->code == w->code) {
				w->seen = true;
			} else {
				w->other_code = true;
				w->seen_level = e->level;
				w->seen_code = e->code;
			}
		}
	}
}

/* A pending source whose peers are done and whose every alert was seen is ok. */
static bool judge(struct st_source *s, bool final)
{
	char a[32], b[32], l[16];
	int j;

	if (s->result != ST_PENDING)
		return true;
	if (!s->srv.done || !s->cli.done) {
		if (final)
			set_result(s, ST_FAILED, "the peers did not finish in %d s",
				   ST_DEADLINE_MS / 1000);
		return false;
	}
	if (!s->nwant) {
		set_result(s, ST_FAILED, "the peers made no alert (server: %s; client: %s): the "
			   "selftest cannot judge this source", s->ended[0], s->ended[1]);
		return true;
	}
	for (j = 0; j < s->nwant; j++) {
		struct st_want *w = &s->want[j];

		if (w->seen)
			continue;
		if (!final)
			return false;
		at_alert_name(w->code, a, sizeof(a));
		if (w->other_code)
			set_result(s, ST_FAILED, "the %s (pid %d) %s %s(%d), the tracer saw %s(%d)",
				   w->role, w->pid, w->dir == AT_DIR_SENT ? "sent" : "received", a,
				   w->code, at_alert_name(w->seen_code, b, sizeof(b)), w->seen_code);
		else
			set_result(s, ST_FAILED, "the %s (pid %d) %s %s %s(%d), the tracer saw no "
				   "such event in %d s%s", w->role, w->pid,
				   w->dir == AT_DIR_SENT ? "sent" : "received",
				   at_level_name(w->level, l, sizeof(l)), a, w->code,
				   ST_DEADLINE_MS / 1000, s->id == AT_SRC_WIRE ? "" :
				   " (is the library hooked? -v prints the coverage report)");
		return true;
	}
	set_result(s, ST_OK, "%s", "");
	return true;
}

static void print_text(const struct st_source *s)
{
	char a[32], l[16];
	int j;

	if (s->result != ST_OK) {
		printf("%s: %s: %s\n", s->name, s->result == ST_NOT_CHECKED ? "not checked" : "failed",
		       s->why);
		return;
	}
	printf("%s: ok: %s:", s->name, s->what);
	for (j = 0; j < s->nwant; j++)
		printf("%s %s pid %d %s %s %s(%d)", j ? "," : "", s->want[j].role, s->want[j].pid,
		       s->want[j].dir == AT_DIR_SENT ? "sent" : "received",
		       at_level_name(s->want[j].level, l, sizeof(l)),
		       at_alert_name(s->want[j].code, a, sizeof(a)), s->want[j].code);
	printf("\n");
}

static void print_json(const struct st_source *s)
{
	static const char *const res[] = {"pending", "ok", "failed", "not checked"};
	struct jsonw w;
	char a[32];
	int j;

	jsonw_init(&w, stdout);
	jsonw_start_object(&w);
	jsonw_string_field(&w, "type", "selftest");
	jsonw_string_field(&w, "source", s->name);
	jsonw_string_field(&w, "result", res[s->result]);
	if (s->what[0])
		jsonw_string_field(&w, "what", s->what);
	if (s->result != ST_OK)
		jsonw_string_field(&w, "reason", s->why);
	jsonw_name(&w, "alerts");
	jsonw_start_array(&w);
	for (j = 0; j < s->nwant; j++) {
		jsonw_start_object(&w);
		jsonw_string_field(&w, "role", s->want[j].role);
		jsonw_uint_field(&w, "pid", s->want[j].pid);
		jsonw_string_field(&w, "direction", s->want[j].dir == AT_DIR_SENT ? "sent"
									       : "received");
		jsonw_uint_field(&w, "level", s->want[j].level);
		jsonw_uint_field(&w, "code", s->want[j].code);
		jsonw_string_field(&w, "alert", at_alert_name(s->want[j].code, a, sizeof(a)));
		jsonw_bool_field(&w, "seen", s->want[j].seen);
		jsonw_end_object(&w);
	}
	jsonw_end_array(&w);
	jsonw_end_object(&w);
}

/* The tracer, started the way a run starts it, on the namespace's lo; the failures go to the
 * sources they stop. */
static int start_tracer(struct tracer *t, struct at_opts *to, struct st_source *src,
			struct st_source *wire, struct st_seen *seen)
{
	char msg[256], lmsg[256];
	bool libs;
	int i, err;

	t->quiet = !to->verbose;
	t->on_event = on_event;
	t->on_event_ctx = seen;
	err = tracer_start_core(t);
	if (err) {
		for (i = 0; src[i].name; i++)
			set_result(&src[i], ST_FAILED, "the tracer could not start: %s",
				   errstr(-err));
		return err;
	}
	if (wire->result == ST_PENDING && tracer_start_wire(t, msg, sizeof(msg)))
		set_result(wire, ST_FAILED, "%s", msg);
	libs = !tracer_start_libs(t, lmsg, sizeof(lmsg));
	if (wire->result == ST_PENDING && tracer_finish_wire(t, msg, sizeof(msg)))
		set_result(wire, ST_FAILED, "%s", msg);
	if (!libs || tracer_scan_libs(t, lmsg, sizeof(lmsg)))
		for (i = 0; src[i].name; i++)
			if (src[i].id != AT_SRC_WIRE)
				set_result(&src[i], ST_FAILED, "%s", lmsg);
	return 0;
}

int selftest_run(struct at_opts *o)
{
	struct st_source src[] = {
		{.name = "openssl", .id = AT_SRC_OPENSSL},
		{.name = "gnutls", .id = AT_SRC_GNUTLS},
		{.name = "go", .id = AT_SRC_GO},
		{.name = "wire", .id = AT_SRC_WIRE},
		{},
	};
	struct st_source *wire = &src[3];
	static struct st_seen seen;
	struct at_opts to = *o;
	struct sigaction sa = {.sa_handler = on_signal};
	struct tracer t;
	__u64 deadline;
	int i, err, bad = 0;
	bool all;

	if (!tracer_have_caps()) {
		p_err("need root, or CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN (for "
		      "the namespace): run with sudo");
		return 1;
	}
	/* No SA_RESTART: a signal ends the waits at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Our own namespace: no name, no mount; it ends with the last of us, whatever ends us. */
	if (unshare(CLONE_NEWNET)) {
		p_err("cannot make a network namespace for the selftest: %s (needs CAP_SYS_ADMIN): "
		      "run as root", errstr(errno));
		return 1;
	}
	err = lo_up();
	if (err)
		set_result(wire, ST_FAILED, "cannot bring up lo in the selftest's network namespace: "
			   "%s (needs CAP_NET_ADMIN)", errstr(-err));
	for (i = 0; src[i].name; i++) {
		if (src[i].result != ST_PENDING)
			continue;
		err = st_peers_start(src[i].id, &src[i].srv, &src[i].cli);
		if (err)
			set_result(&src[i], ST_FAILED, "cannot start the peers: %s", errstr(-err));
		else
			wait_ready(&src[i]);
	}

	seen.src = src;
	to.ifaces = "lo";
	to.no_wire = to.no_lib = false;
	tracer_init(&t, &to);
	if (!interrupted && start_tracer(&t, &to, src, wire, &seen) == 0) {
		for (i = 0; src[i].name; i++)
			if (src[i].result == ST_PENDING) {
				st_go(&src[i].srv);
				st_go(&src[i].cli);
			}
		deadline = tracer_now_ms() + ST_DEADLINE_MS;
		do {
			err = ring_buffer__poll(t.rb, 50);
			if (err < 0 && err != -EINTR) {
				for (i = 0; src[i].name; i++)
					set_result(&src[i], ST_FAILED, "reading the ring buffer: %s",
						   errstr(-err));
				break;
			}
			all = true;
			for (i = 0; src[i].name; i++) {
				drain(&src[i], &src[i].srv, 0);
				drain(&src[i], &src[i].cli, 0);
				match(&src[i], &seen);
				all &= judge(&src[i], false);
			}
		} while (!all && !interrupted && tracer_now_ms() < deadline);
		tracer_report_lost(&t);
	}
	for (i = 0; src[i].name; i++) {
		if (interrupted)
			set_result(&src[i], ST_FAILED, "interrupted");
		judge(&src[i], true);
	}
	tracer_stop(&t);
	for (i = 0; src[i].name; i++) {
		st_reap(&src[i].srv);
		st_reap(&src[i].cli);
		if (o->json)
			print_json(&src[i]);
		else
			print_text(&src[i]);
		bad += src[i].result == ST_FAILED;
	}
	fflush(stdout);
	/* Also when every source had its answer before the signal: the run did not end by itself. */
	if (interrupted)
		p_err("selftest interrupted");
	return bad || interrupted ? 1 : 0;
}
