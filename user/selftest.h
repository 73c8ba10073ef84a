/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * alerttrace --selftest: in a network namespace of its own (unshare; gone when the selftest
 * exits), make alerts happen with each TLS library on the host and on the namespace's lo, trace
 * them with the tracer's own machinery (tracer.h: the same load, attach and ring buffer as a run)
 * and check each was seen with the code, direction and pid its peer's library reported
 * (selftest_peers.h). Prints one line per source, ok, not checked or failed with why (-j: one
 * JSON object each). Returns the exit status: 0 when every source that could be checked works.
 */
#ifndef AT_SELFTEST_H
#define AT_SELFTEST_H

#include "cli.h"

int selftest_run(struct at_opts *o);

#endif
