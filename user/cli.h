/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command line (argp, bcc conventions). */
#ifndef AT_CLI_H
#define AT_CLI_H

#include <stdbool.h>
#include <linux/types.h>
#include "alerttrace.h"

#define AT_MAX_PIDS AT_FILT_PIDS
#define AT_MAX_LIB_ARGS 32

enum at_action {
	AT_RUN = 0,
	AT_LIST_ALERTS,
	AT_EXPLAIN,
	AT_CLEANUP,
	AT_SELFTEST,
};

struct at_opts {
	enum at_action action;
	const char *explain;
	const char *ifaces;		/* -i, NULL: default */
	bool timestamps;		/* -T */
	bool wide;			/* -w: SNI and WHY in full */
	bool verbose;			/* -v */
	bool json;			/* -j */
	bool no_wire, no_lib;
	__u32 pids[AT_MAX_PIDS];	/* -p */
	int npids;
	const char *libs[AT_MAX_LIB_ARGS + 1];	/* --lib, NULL-terminated */
	int nlibs;
	/* issue 4: histograms, exporters, filters */
	bool hist;			/* -H */
	bool per_pid;			/* -P */
	__u32 interval;			/* seconds, 0: print once at the end */
	__u32 count;			/* intervals, 0: unlimited */
	const char *comm;		/* -c */
	__u16 ports[AT_FILT_PORTS];	/* --port */
	int nports;
	bool sent_only, received_only, fatal_only;
	const char *prometheus;		/* --prometheus [ADDR:]PORT */
	const char *textfile;		/* --textfile PATH */
	bool metrics_pid;		/* --metrics-pid */
	bool metrics_container;		/* --metrics-label container */
	bool by_container, by_sni;	/* -H --by container,sni */
};

/* Parses argv into o and sets the log sink's JSON mode (-j anywhere on the line). Returns 0, or
 * exits with argp's status on a usage error: argp's message and its "Try --help" line (bcc's
 * behaviour), or with -j one {"error":...} line, argp's own errors (an unknown option, a missing
 * argument) included. */
int cli_parse(int argc, char **argv, struct at_opts *o);

#endif
