// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Discovery at exec for the library path (user/tls/execwatch.c). The one-second rescan of
 * /proc/PID/maps misses a process that loads a new TLS library and makes its handshake within that
 * second; these programs wake the loader as soon as
 *  - on_exec: a process executes a file the loader has not looked at (sched_process_exec, a raw
 *    tracepoint: no tracefs needed); a static binary (node, Go) is mapped by then;
 *  - dl_state: the dynamic linker of such a process calls _dl_debug_state() once it has mapped
 *    the libraries the program needs, before any of their code runs (and after each dlopen).
 * The loader then reads that process's maps at once. Files it has seen are in `seen`, so the
 * exec of a known binary (a shell's ls, sed...) costs one hash lookup and no wake-up.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Events the ring buffer could not take: the one-second rescan still finds those processes. */
__u64 ew_lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EW_SEEN_MAX);
	__type(key, struct ew_file);
	__type(value, __u8);
} seen SEC(".maps");

/* Processes that executed an unseen file, until the loader has looked at them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, EW_WATCH_MAX);
	__type(key, __u32);
	__type(value, __u8);
} watch SEC(".maps");

static __always_inline void notify(__u32 pid, __u32 kind)
{
	struct ew_event e = {.ts_ns = bpf_ktime_get_ns(), .pid = pid, .kind = kind};

	if (bpf_ringbuf_output(&execs, &e, sizeof(e), 0))
		__sync_fetch_and_add(&ew_lost, 1);
}

SEC("raw_tp/sched_process_exec")
int on_exec(struct bpf_raw_tracepoint_args *ctx)
{
	/* TP_PROTO(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	struct ew_file k = {};
	struct inode *ino;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	ino = BPF_CORE_READ(bprm, file, f_inode);
	if (!ino)
		return 0;
	k.ino = BPF_CORE_READ(ino, i_ino);
	k.dev = BPF_CORE_READ(ino, i_sb, s_dev);
	if (bpf_map_lookup_elem(&seen, &k))
		return 0;
	bpf_map_update_elem(&watch, &pid, &one, BPF_ANY);
	notify(pid, EW_EXEC);
	return 0;
}

SEC("uprobe")
int dl_state(struct pt_regs *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (!bpf_map_lookup_elem(&watch, &pid))
		return 0;
	notify(pid, EW_DL);
	return 0;
}
