/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The accepting task (bpf/sock.bpf.c): the exit of accept()/accept4() through the tracepoints
 * syscalls/sys_exit_accept{,4} when libbpf finds their ids in tracefs or a private mount of
 * tracefs gives them, else the raw tracepoint sys_exit. Its programs are left out of the skeleton's attach (accept_manual_attach, before
 * sock_bpf__attach) and attached by accept_attach.
 */
#ifndef AT_ACCEPT_H
#define AT_ACCEPT_H

struct sock_bpf;

void accept_manual_attach(struct sock_bpf *s);
/* 0 with *how naming the way it attached, or -errno. */
int accept_attach(struct sock_bpf *s, const char **how);

#endif
