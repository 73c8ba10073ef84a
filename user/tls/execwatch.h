/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Discovery at exec (bpf/exec.bpf.c): processes that execute a file not seen before, and their
 * dynamic linker's _dl_debug_state() once it has mapped their libraries, reach the library path
 * within milliseconds instead of at the next one-second rescan.
 */
#ifndef AT_EXECWATCH_H
#define AT_EXECWATCH_H

#include <stdbool.h>
#include <linux/types.h>

struct ring_buffer;
struct execwatch;

/* Called for each process to look at now; ts_ns: when the kernel saw it (CLOCK_MONOTONIC). */
typedef void (*ew_pid_fn)(void *ctx, int pid, __u64 ts_ns, bool exec);

/* Load and attach the exec tracepoint; its ring buffer joins rb (ring_buffer__add), so the
 * tracer's poll loop serves it. Returns 0 or -errno (the tracer then keeps the rescan alone). */
int ew_open(struct execwatch **ew, struct ring_buffer *rb, ew_pid_fn fn, void *ctx);
/* Wait up to ms for exec notifications alone and handle them, leaving the tracer's other rings
 * to gather (NULL ew: sleep). Returns what ring_buffer__poll returns. */
int ew_wait(struct execwatch *ew, int ms);
/* A file the library path has looked at (st_dev/st_ino as stat gives them). */
void ew_seen(struct execwatch *ew, __u64 st_dev, __u64 ino);
/* path is a dynamic linker (ld-linux*.so*, ld-musl*): hook its _dl_debug_state. Returns 1 when
 * hooked, 0 when not a dynamic linker, -1 on failure (why set). */
int ew_ldso(struct execwatch *ew, const char *path, char *why, size_t n);
/* Dynamic linkers hooked; events lost (ring buffer full). */
int ew_nldso(const struct execwatch *ew);
__u64 ew_lost(const struct execwatch *ew);
void ew_close(struct execwatch *ew);

#endif
