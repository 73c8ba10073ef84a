/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The accepting task (bpf/sock.bpf.c): the exit of accept()/accept4() through the tracepoints
 * syscalls/sys_exit_accept{,4} when libbpf finds their ids in tracefs or a private mount of
 * tracefs gives them, else the raw tracepoint sys_exit. Chosen before the object's load
 * (accept_prepare: the programs left out of the skeleton's attach, the raw tracepoint's loaded
 * for that way only), attached by accept_attach.
 */
#ifndef AT_ACCEPT_H
#define AT_ACCEPT_H

struct sock_bpf;
struct at_shared;

enum accept_way {
	ACCEPT_RAW,		/* the raw tracepoint sys_exit */
	ACCEPT_TP,		/* the syscalls' tracepoints, ids from a mounted tracefs */
	ACCEPT_TP_PRIVATE,	/* the same, ids from a private mount of tracefs */
	ACCEPT_NONE,		/* ALERTTRACE_NO_ACCEPT=1 */
};

struct accept_plan {
	enum accept_way way;
	long ids[2];		/* sys_exit_accept4's and sys_exit_accept's ids */
	struct sock_bpf *raw;	/* the raw way's object, when the tracepoints would not attach */
};

/* Before the load of s: the way, and the programs loaded for it. */
void accept_prepare(struct sock_bpf *s, struct accept_plan *p);
/* After sock_bpf__attach: 0 with *how naming the way it attached, or -errno. sh: the tracer's
 * maps and filter, for the raw way's object when the tracepoints fail. */
int accept_attach(struct sock_bpf *s, struct accept_plan *p, const struct at_shared *sh,
		  const char **how);
void accept_free(struct accept_plan *p);

#endif
