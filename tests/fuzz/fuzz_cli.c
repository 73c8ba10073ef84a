// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the command-line parser (user/cli.c) on any argument vector: the input split
 * at NUL bytes, up to 24 arguments. Checks beyond not crashing: what it accepted is consistent
 * (counts within their arrays, ports 1-65535, pids positive, a comm of 1-15 bytes, the exclusions
 * the usage errors promise).
 *
 * A usage error exits: linked with --wrap=exit (cli.c's own exits) and --wrap=argp_parse (argp's,
 * turned off with ARGP_NO_EXIT), each input runs in this process and an exit returns here.
 * Output is thrown away (stdout and stderr point to /dev/null during the call).
 */
#include <argp.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

void __real_exit(int status) __attribute__((noreturn));
error_t __real_argp_parse(const struct argp *argp, int argc, char **argv, unsigned flags,
			  int *end_index, void *input);

static jmp_buf back;
static int armed;

void __wrap_exit(int status)
{
	if (armed) {
		armed = 0;
		longjmp(back, 1);
	}
	__real_exit(status);
}

error_t __wrap_argp_parse(const struct argp *argp, int argc, char **argv, unsigned flags,
			  int *end_index, void *input)
{
	return __real_argp_parse(argp, argc, argv, flags | ARGP_NO_EXIT, end_index, input);
}

static void check(const struct at_opts *o)
{
	int i;

	if (o->npids < 0 || o->npids > AT_MAX_PIDS || o->nports < 0 || o->nports > AT_FILT_PORTS ||
	    o->nlibs < 0 || o->nlibs > AT_MAX_LIB_ARGS || o->libs[o->nlibs])
		abort();
	for (i = 0; i < o->npids; i++)
		if (!o->pids[i] || o->pids[i] > 0x7fffffff)
			abort();
	for (i = 0; i < o->nports; i++)
		if (!o->ports[i])
			abort();
	if (o->comm && (!*o->comm || strlen(o->comm) > 15))
		abort();
	if ((o->no_wire && o->no_lib) || (o->sent_only && o->received_only) ||
	    (o->per_pid && !o->hist) || (o->interval && !o->hist && !o->textfile))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	char *buf, *argv[26];
	FILE *out = stdout, *err = stderr;
	struct at_opts o;
	size_t i, start = 0;
	int argc = 1, rc;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = "alerttrace";
	for (i = 0; i <= size && argc < 25; i++) {
		if (i == size || !buf[i]) {
			buf[i] = 0;
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	stdout = devnull;
	stderr = devnull;
	armed = 1;
	if (!setjmp(back)) {
		rc = cli_parse(argc, argv, &o);
		armed = 0;
		stdout = out;
		stderr = err;
		if (rc == 0)
			check(&o);
	}
	armed = 0;
	stdout = out;
	stderr = err;
	free(buf);
	return 0;
}
