/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * uprobe_multi links (Linux 6.6+): a uprobe attached as a BPF link, not a perf event. Closing a
 * perf-event uprobe holds the kernel's event_mutex across six RCU grace periods (about 0.1 s a
 * probe, one probe after another: 33 s for 50 libraries); a uprobe_multi link's close waits for
 * its grace periods without that lock, so links closed in parallel wait together. Built on the
 * kernel's UAPI directly: Debian 12's libbpf (1.1) predates the link type. Older kernels keep
 * the perf-event uprobes.
 */
#ifndef AT_UMULTI_H
#define AT_UMULTI_H

#include <stdbool.h>
#include <linux/types.h>

struct bpf_object;
struct bpf_program;

/* This kernel takes uprobe_multi links (probed once), and ALERTTRACE_UPROBE_MULTI is not 0. */
bool um_supported(void);
/* Before the object's load: its programs as uprobe_multi programs (they can then be attached
 * only by um_attach). */
void um_prepare(struct bpf_object *obj);
/* The same for one program of an object that has others (raw tracepoints). */
void um_prepare_prog(struct bpf_program *p);
/* One link: prog at file offset off of path, bpf_get_attach_cookie() = cookie; ret: at the
 * function's return. Returns the link's fd, or -errno. */
int um_attach(int prog_fd, const char *path, __u64 off, __u64 cookie, bool ret);

#endif
