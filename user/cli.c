// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "strutil.h"
#include "cli.h"

const char *argp_program_version = "alerttrace " AT_VERSION;
const char *argp_program_bug_address = "https://github.com/alerttrace/alerttrace/issues";

static const char doc[] =
	"Trace TLS alerts on this host: which process sent or received which alert.\n"
	"\n"
	"USAGE: alerttrace [-i IFACE[,IFACE]] [-p PID] [-T] [-j] [-v] [--lib PATH]...\n"
	"\n"
	"Sources: 'wire' (a TC classifier on the interfaces sees TLS alert records,\n"
	"plaintext or encrypted) and 'openssl' (uprobes on every libssl on the host and\n"
	"in containers see every alert a process sends or receives, TLS 1.3 included).\n"
	"\n"
	"EXAMPLES:\n"
	"    alerttrace                 # trace on lo + default-route interfaces and all libssl\n"
	"    alerttrace -i eth0,lo -T   # these interfaces, with a time column\n"
	"    alerttrace -i all          # every interface that is up\n"
	"    alerttrace -j              # one JSON object per alert (schema in README.md)\n"
	"    alerttrace -p 1234         # library events of PID 1234 only\n"
	"    alerttrace --no-wire       # library hooks only\n"
	"    alerttrace --lib /opt/app/lib/libssl.so.3   # also hook this library or binary\n"
	"    alerttrace --list-alerts   # the TLS alert table\n"
	"    alerttrace --explain 48    # what unknown_ca means (or --explain unknown_ca)\n"
	"    alerttrace --cleanup       # remove what a killed alerttrace left attached\n";

enum {
	OPT_LIST_ALERTS = 0x100,
	OPT_EXPLAIN,
	OPT_CLEANUP,
	OPT_NO_WIRE,
	OPT_NO_LIB,
	OPT_LIB,
};

static const struct argp_option options[] = {
	{"interface", 'i', "IFACE[,IFACE]", 0,
	 "Interfaces for the wire source; 'all' for every interface that is up "
	 "(default: lo and every interface with a default route)", 0},
	{"pid", 'p', "PID[,PID]", 0, "Library events of these processes only", 0},
	{"timestamp", 'T', NULL, 0, "Include a time column", 0},
	{"json", 'j', NULL, 0, "One JSON object per line", 0},
	{"verbose", 'v', NULL, 0, "Verbose: libbpf's log and the verifier's output", 0},
	{"lib", OPT_LIB, "PATH", 0, "Also hook this libssl or binary (repeatable)", 0},
	{"no-wire", OPT_NO_WIRE, NULL, 0, "No TC classifier: library events only", 0},
	{"no-lib", OPT_NO_LIB, NULL, 0, "No library hooks: wire events only", 0},
	{"list-alerts", OPT_LIST_ALERTS, NULL, 0, "Print the TLS alert table and exit", 0},
	{"explain", OPT_EXPLAIN, "CODE|NAME", 0, "Explain one alert and exit", 0},
	{"cleanup", OPT_CLEANUP, NULL, 0,
	 "Remove filters and qdiscs that a killed alerttrace left, and exit", 0},
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show the help", 0},
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct at_opts *o = state->input;
	int n;

	switch (key) {
	case 'i':
		o->ifaces = arg;
		break;
	case 'p':
		n = parse_list_u32(arg, 0x7fffffff, o->pids, AT_MAX_PIDS);
		if (n <= 0)
			argp_error(state, "invalid PID list '%s': give up to %d numbers, e.g. -p 1234,5678",
				   arg, AT_MAX_PIDS);
		o->npids = n;
		break;
	case 'T':
		o->timestamps = true;
		break;
	case 'j':
		o->json = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	case OPT_LIB:
		if (o->nlibs == AT_MAX_LIBS)
			argp_error(state, "too many --lib (at most %d)", AT_MAX_LIBS);
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
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (o->no_wire && o->no_lib)
			argp_error(state, "--no-wire and --no-lib leave nothing to trace");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct at_opts *o)
{
	static const struct argp argp = {options, parse_arg, NULL, doc, NULL, NULL, NULL};

	memset(o, 0, sizeof(*o));
	return argp_parse(&argp, argc, argv, 0, NULL, o);
}
