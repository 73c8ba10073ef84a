// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The accepting task's programs of bpf/sock.bpf.c: see accept.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "alerttrace.h"
#include "sock.skel.h"
#include "accept.h"

void accept_manual_attach(struct sock_bpf *s)
{
	bpf_program__set_autoattach(s->progs.accept4_exit, false);
	bpf_program__set_autoattach(s->progs.accept_exit, false);
	bpf_program__set_autoattach(s->progs.sys_exit_any, false);
}

/*
 * The accepting task (bpf/sock.bpf.c): the tracepoints of accept()/accept4() when libbpf finds
 * their ids in tracefs, else the raw tracepoint sys_exit (no tracefs needed; one more program run
 * at every system call's exit). ALERTTRACE_ACCEPT_RAW=1 forces the latter (tests, benchmarks);
 * ALERTTRACE_NO_ACCEPT=1 attaches neither (bench/bench_accept.sh: the attribution's own cost).
 */
int accept_attach(struct sock_bpf *s, const char **how)
{
	const char *force = getenv("ALERTTRACE_ACCEPT_RAW"), *none = getenv("ALERTTRACE_NO_ACCEPT");
	struct bpf_link *a4 = NULL, *a = NULL;
	int err;

	if (none && !strcmp(none, "1")) {
		*how = "listener only (ALERTTRACE_NO_ACCEPT=1)";
		return 0;
	}

	if (!force || strcmp(force, "1")) {
		a4 = bpf_program__attach(s->progs.accept4_exit);
		a = a4 ? bpf_program__attach(s->progs.accept_exit) : NULL;
		if (a4 && a) {
			s->links.accept4_exit = a4;
			s->links.accept_exit = a;
			*how = "tracepoints syscalls/sys_exit_accept{,4}";
			return 0;
		}
		bpf_link__destroy(a4);
	}
	s->links.sys_exit_any = bpf_program__attach(s->progs.sys_exit_any);
	if (!s->links.sys_exit_any) {
		err = -errno;
		return err;
	}
	*how = "raw tracepoint sys_exit";
	return 0;
}
