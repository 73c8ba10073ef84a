// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <argp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "strutil.h"
#include "cli.h"

const char *argp_program_version = "alerttrace " AT_VERSION;
const char *argp_program_bug_address = "https://github.com/alerttrace/alerttrace/issues";

static const char doc[] =
	"Trace TLS alerts on this host: which process sent or received which alert.\n"
	"\n"
	"USAGE: alerttrace [-i IFACE,..] [-p PID,..] [-c COMM] [--port PORT,..] [-T] [-w]\n"
	"         [-j] [-v] [-H [-P] [--by container,sni] [interval [count]]]\n"
	"         [--prometheus [ADDR:]PORT] [--textfile PATH]\n"
	"         [--metrics-pid] [--metrics-label container]\n"
	"         [--lib PATH].. [--sent|--received] [--fatal]\n"
	"\n"
	"Sources: 'wire' (a TC classifier on the interfaces sees TLS alert records,\n"
	"plaintext or encrypted), 'openssl', 'gnutls' and 'go' (uprobes in every\n"
	"libssl, libgnutls and Go program on the host and in containers see every\n"
	"alert a process sends or receives, TLS 1.3 included).\n"
	"\n"
	"EXAMPLES:\n"
	"  alerttrace                  # lo + default-route interfaces, every TLS library\n"
	"  alerttrace -i eth0,lo -T    # these interfaces, with a time column\n"
	"  alerttrace -i all           # every interface, those that appear later too\n"
	"  alerttrace -i 'veth*,eth0'  # eth0 and every veth, now and later\n"
	"  alerttrace -j               # JSON lines (schema in README.md)\n"
	"  alerttrace -w               # server names and reasons in full\n"
	"  alerttrace -p 1234          # alerts of PID 1234 only\n"
	"  alerttrace -c nginx --fatal # fatal alerts of processes named nginx\n"
	"  alerttrace --port 443 --sent   # alerts sent on connections with port 443\n"
	"  alerttrace -H               # per-process histogram, printed at Ctrl-C\n"
	"  alerttrace -H -P 5 3        # per-pid histogram every 5 s, 3 times\n"
	"  alerttrace -H --by container   # per process and container (docker, k8s)\n"
	"  alerttrace -H --by sni -c nginx  # nginx's alerts per TLS server name\n"
	"  alerttrace -H --prometheus 9800      # /metrics on 127.0.0.1:9800\n"
	"  alerttrace -H 15 --textfile /var/lib/node_exporter/alerttrace.prom\n"
	"  alerttrace --prometheus 9800 --metrics-label container # per container\n"
	"  alerttrace --no-wire        # library hooks only\n"
	"  alerttrace --lib /opt/app/lib/libssl.so.3   # also hook this file\n"
	"  alerttrace --no-wire -v     # library hooks, what each library got, timings\n"
	"  alerttrace --list-alerts    # the TLS alert table\n"
	"  alerttrace --explain 48     # what unknown_ca means (or a name)\n"
	"  alerttrace --cleanup        # remove what a killed alerttrace left\n"
	"  alerttrace --selftest       # check every source on this host (-j: JSON)\n";

enum {
	OPT_LIST_ALERTS = 0x100,
	OPT_EXPLAIN,
	OPT_CLEANUP,
	OPT_NO_WIRE,
	OPT_NO_LIB,
	OPT_LIB,
	OPT_PORT,
	OPT_SENT,
	OPT_RECEIVED,
	OPT_FATAL,
	OPT_PROMETHEUS,
	OPT_TEXTFILE,
	OPT_METRICS_PID,
	OPT_METRICS_LABEL,
	OPT_BY,
	OPT_SELFTEST,
	OPT_HANG,
};

static const struct argp_option options[] = {
	{"interface", 'i', "IFACE[,IFACE]", 0,
	 "Interfaces for the wire source: names and shell patterns ('veth*'); 'all' for every "
	 "interface; patterns, 'all' and the default follow interfaces that come and go "
	 "(default: lo and every interface with a default route)", 0},
	{"pid", 'p', "PID[,PID]", 0,
	 "Alerts of these processes only (wire events: the socket's owner)", 0},
	{"comm", 'c', "COMM", 0, "Alerts of processes with this name only", 0},
	{"port", OPT_PORT, "PORT[,PORT]", 0,
	 "Alerts on connections with this port at either end (library events: when the port is "
	 "known from the matching wire event)", 0},
	{"sent", OPT_SENT, NULL, 0, "Alerts this host sent only", 0},
	{"received", OPT_RECEIVED, NULL, 0, "Alerts this host received only", 0},
	{"fatal", OPT_FATAL, NULL, 0, "Fatal alerts only", 0},
	{"hist", 'H', NULL, 0,
	 "Histogram: count alerts per process in the kernel instead of streaming them", 0},
	{"per-pid", 'P', NULL, 0, "With -H: one histogram per pid (default: per comm)", 0},
	{"by", OPT_BY, "KEY[,KEY]", 0,
	 "With -H: also count per KEY: 'container' (the container id and pod from the cgroup, a "
	 "CONTAINER column) and/or 'sni' (the TLS server name, an SNI column)", 0},
	{"prometheus", OPT_PROMETHEUS, "[ADDR:]PORT", 0,
	 "Serve Prometheus metrics on http://ADDR:PORT/metrics (ADDR default 127.0.0.1)", 0},
	{"textfile", OPT_TEXTFILE, "PATH", 0,
	 "Write Prometheus metrics to PATH every interval (node_exporter textfile collector)", 0},
	{"metrics-pid", OPT_METRICS_PID, NULL, 0, "Add a pid label to the metrics", 0},
	{"metrics-label", OPT_METRICS_LABEL, "container", 0,
	 "Add container_id and pod_uid labels to the metrics (one series per container and "
	 "alert: mind the cardinality on hosts with many short-lived containers)", 0},
	{"timestamp", 'T', NULL, 0, "Include a time column", 0},
	{"wide", 'w', NULL, 0,
	 "Wide text: the SNI and WHY columns in full (the verification result's and the reason's "
	 "whole text)", 0},
	{"json", 'j', NULL, 0, "One JSON object per line", 0},
	{"verbose", 'v', NULL, 0, "Verbose: libbpf's log and the verifier's output", 0},
	{"lib", OPT_LIB, "PATH", 0,
	 "Also hook this TLS library or binary (repeatable); an error if it cannot be hooked", 0},
	{"no-wire", OPT_NO_WIRE, NULL, 0, "No TC classifier: library events only", 0},
	{"no-lib", OPT_NO_LIB, NULL, 0, "No library hooks: wire events only", 0},
	{"list-alerts", OPT_LIST_ALERTS, NULL, 0, "Print the TLS alert table and exit", 0},
	{"explain", OPT_EXPLAIN, "CODE|NAME", 0, "Explain one alert and exit", 0},
	{"cleanup", OPT_CLEANUP, NULL, 0,
	 "Remove filters and qdiscs that a killed alerttrace left, and exit", 0},
	{"selftest", OPT_SELFTEST, NULL, 0,
	 "Make alerts with every TLS library here and on the wire, in a network namespace of its "
	 "own; print what each source saw; exit 0 when every source works", 0},
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show the help", 0},
	/* glibc's argp has a hidden --HANG[=SECS] that sleeps an hour (a debugging aid), which a
	 * mistyped --H reached (found by tests/fuzz/fuzz_cli.c): ours comes first and refuses. */
	{"HANG", OPT_HANG, "SECS", OPTION_HIDDEN | OPTION_ARG_OPTIONAL, NULL, 0},
	{},
};

static bool json_usage; /* -j anywhere on the command line */

/*
 * A comma-separated list of known words, "container,sni": the varargs are pairs of a word and
 * the bool it sets, NULL-terminated. 0, or -EINVAL for an empty item or a word not in the list.
 */
static int parse_keys(const char *arg, ...)
{
	const char *p = arg, *name;
	va_list ap;
	size_t n;
	bool *flag, found;

	do {
		n = strcspn(p, ",");
		found = false;
		va_start(ap, arg);
		while (n && (name = va_arg(ap, const char *))) {
			flag = va_arg(ap, bool *);
			if (strlen(name) == n && !strncmp(p, name, n)) {
				*flag = found = true;
				break;
			}
		}
		va_end(ap);
		if (!found)
			return -EINVAL;
		p += n;
	} while (*p++ == ',');
	return 0;
}

/*
 * A usage error through the sink, so -j makes it JSON too; without -j argp's own message (and
 * its "Try --help" line), as bcc tools print it. Exits either way.
 */
static void __attribute__((format(printf, 2, 3), noreturn))
usage_err(struct argp_state *state, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!json_usage)
		argp_error(state, "%s", msg);
	p_err("%s", msg);
	exit(argp_err_exit_status);
}

/*
 * With -j, argp's own errors (an unknown option, a missing option argument: getopt prints them)
 * are JSON too: the silent first pass (scan_json) keeps the word at fault, and this says what is
 * wrong with it, as argp would, in one line.
 */
static const struct argp_option *find_long(const char *w, size_t len)
{
	const struct argp_option *o, *hit = NULL;

	for (o = options; o->name || o->key; o++) {
		if (!o->name || (o->flags & OPTION_HIDDEN) || strncmp(o->name, w, len))
			continue;
		if (strlen(o->name) == len)
			return o;
		if (hit)
			return NULL; /* an ambiguous abbreviation */
		hit = o;
	}
	return hit;
}

static const struct argp_option *find_short(int key)
{
	const struct argp_option *o;

	for (o = options; o->name || o->key; o++)
		if (o->key == key && key < 0x100)
			return o;
	return NULL;
}

static void __attribute__((noreturn)) json_argp_error(const char *w)
{
	const struct argp_option *o;
	const char *c;

	if (!strncmp(w, "--", 2)) {
		const char *eq = strchr(w, '=');
		size_t len = eq ? (size_t)(eq - w - 2) : strlen(w + 2);

		o = find_long(w + 2, len);
		if (o && o->arg && !eq)
			p_err("option '--%s' needs an argument: see alerttrace --help", o->name);
		else if (o && !o->arg && eq)
			p_err("option '--%s' takes no argument: see alerttrace --help", o->name);
		else
			p_err("unknown option '%.*s': see alerttrace --help", (int)(len + 2), w);
		exit(argp_err_exit_status);
	}
	for (c = w + 1; *c; c++) {
		o = find_short(*c);
		if (!o || (o->flags & OPTION_HIDDEN)) {
			p_err("unknown option '-%c': see alerttrace --help", *c);
			exit(argp_err_exit_status);
		}
		if (o->arg)
			break;
	}
	p_err("option '%s' needs an argument: see alerttrace --help", w);
	exit(argp_err_exit_status);
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct at_opts *o = state->input;
	int n;

	switch (key) {
	case 'i':
		o->ifaces = arg;
		break;
	case 'p': {
		int i;

		n = parse_list_u32(arg, 0x7fffffff, o->pids, AT_MAX_PIDS);
		/* 0 ends the kernel's list (struct at_filter): -p 0 would trace every process. */
		for (i = 0; i < n; i++)
			if (!o->pids[i])
				n = -EINVAL;
		if (n <= 0)
			usage_err(state, "invalid PID list '%s': give up to %d positive numbers, e.g. "
				   "-p 1234,5678", arg, AT_MAX_PIDS);
		o->npids = n;
		break;
	}
	case 'T':
		o->timestamps = true;
		break;
	case 'w':
		o->wide = true;
		break;
	case 'c':
		if (!*arg || strlen(arg) > 15)
			usage_err(state, "invalid COMM '%s': give a process name of 1 to 15 bytes", arg);
		o->comm = arg;
		break;
	case OPT_PORT: {
		__u32 ports[AT_FILT_PORTS];
		int i;

		n = parse_list_u32(arg, 65535, ports, AT_FILT_PORTS);
		for (i = 0; i < n; i++)
			if (!ports[i])
				n = -EINVAL;
		if (n <= 0)
			usage_err(state, "invalid port list '%s': give up to %d ports 1-65535, e.g. "
				   "--port 443,8443", arg, AT_FILT_PORTS);
		for (i = 0; i < n; i++)
			o->ports[i] = ports[i];
		o->nports = n;
		break;
	}
	case OPT_SENT:
		o->sent_only = true;
		break;
	case OPT_RECEIVED:
		o->received_only = true;
		break;
	case OPT_FATAL:
		o->fatal_only = true;
		break;
	case 'H':
		o->hist = true;
		break;
	case 'P':
		o->per_pid = true;
		break;
	case OPT_PROMETHEUS:
		o->prometheus = arg;
		break;
	case OPT_TEXTFILE:
		if (!*arg)
			usage_err(state, "--textfile needs a path");
		o->textfile = arg;
		break;
	case OPT_METRICS_PID:
		o->metrics_pid = true;
		break;
	case OPT_METRICS_LABEL:
		if (parse_keys(arg, "container", &o->metrics_container, NULL))
			usage_err(state, "invalid metrics label '%s': give 'container'", arg);
		break;
	case OPT_BY:
		if (parse_keys(arg, "container", &o->by_container, "sni", &o->by_sni, NULL))
			usage_err(state, "invalid --by '%s': give container, sni or container,sni",
				   arg);
		break;
	case 'j':
		o->json = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	case OPT_LIB:
		if (o->nlibs == AT_MAX_LIB_ARGS)
			usage_err(state, "too many --lib (at most %d)", AT_MAX_LIB_ARGS);
		o->libs[o->nlibs++] = arg;
		break;
	case OPT_NO_WIRE:
		o->no_wire = true;
		break;
	case OPT_NO_LIB:
		o->no_lib = true;
		break;
	case OPT_LIST_ALERTS:
		o->action = AT_LIST_ALERTS;
		break;
	case OPT_EXPLAIN:
		o->action = AT_EXPLAIN;
		o->explain = arg;
		break;
	case OPT_CLEANUP:
		o->action = AT_CLEANUP;
		break;
	case OPT_SELFTEST:
		o->action = AT_SELFTEST;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_HANG:
		usage_err(state, "unknown option '%s'", state->argv[state->next - 1]);
	case ARGP_KEY_ARG: {
		__u32 v;

		if (state->arg_num > 1)
			usage_err(state, "unexpected argument '%s'", arg);
		if (parse_u32(arg, 86400 * 365, &v) || !v)
			usage_err(state, "invalid %s '%s': give a positive whole number",
				   state->arg_num == 0 ? "interval" : "count", arg);
		if (state->arg_num == 0)
			o->interval = v;
		else
			o->count = v;
		break;
	}
	case ARGP_KEY_END:
		if (o->no_wire && o->no_lib)
			usage_err(state, "--no-wire and --no-lib leave nothing to trace");
		/* An option of a source left out would be ignored without a word. */
		if (o->no_wire && o->ifaces)
			usage_err(state, "-i needs the wire source: drop --no-wire");
		if (o->no_lib && o->nlibs)
			usage_err(state, "--lib needs the library source: drop --no-lib");
		if (o->sent_only && o->received_only)
			usage_err(state, "--sent and --received exclude each other");
		if (o->interval && !o->hist && !o->textfile)
			usage_err(state, "an interval needs -H or --textfile");
		if (o->per_pid && !o->hist)
			usage_err(state, "-P needs -H");
		if ((o->by_container || o->by_sni) && !o->hist)
			usage_err(state, "--by needs -H");
		if (o->metrics_container && !o->prometheus && !o->textfile)
			usage_err(state, "--metrics-label needs --prometheus or --textfile");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The first pass only looks for -j, with argp's own rules (clusters, abbreviations, option
 * arguments), so that a usage error before -j on the line is JSON too; and keeps the word argp
 * stumbled on (state->next is past it). */
struct scan {
	bool json;
	const char *bad;
};

static error_t scan_json(int key, char *arg, struct argp_state *state)
{
	struct scan *sc = state->input;

	if (key == 'j')
		sc->json = true;
	if (key == ARGP_KEY_ERROR && !sc->bad && state->next > 0 && state->next <= state->argc)
		sc->bad = state->argv[state->next - 1];
	return key < ARGP_KEY_END ? 0 : ARGP_ERR_UNKNOWN; /* options and arguments: taken */
}

/* argp's --version and -V, which the first pass does not know (it has no version). */
static bool is_version(const char *w)
{
	size_t n = strlen(w);

	return !strcmp(w, "-V") || (n > 3 && !strncmp(w, "--version", n));
}

int cli_parse(int argc, char **argv, struct at_opts *o)
{
	static const struct argp argp = {options, parse_arg, NULL, doc, NULL, NULL, NULL};
	static const struct argp scan = {options, scan_json, NULL, NULL, NULL, NULL, NULL};
	const char *version = argp_program_version;
	struct scan sc = {};
	int i;

	memset(o, 0, sizeof(*o));
	/* Silent (--help prints nothing here, and does not exit), and without --version, which
	 * argp would print. */
	argp_program_version = NULL;
	argp_parse(&scan, argc, argv, ARGP_NO_ERRS | ARGP_NO_EXIT, NULL, &sc);
	argp_program_version = version;
	/* argp stops at the first error: a -j after it counts too (as a word of its own). */
	for (i = 1; sc.bad && !sc.json && i < argc && strcmp(argv[i], "--"); i++)
		sc.json = !strcmp(argv[i], "-j") || !strcmp(argv[i], "--json");
	json_usage = sc.json;
	log_set_json(json_usage);
	if (json_usage && sc.bad && !is_version(sc.bad))
		json_argp_error(sc.bad);
	return argp_parse(&argp, argc, argv, 0, NULL, o);
}
