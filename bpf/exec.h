/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared between bpf/exec.bpf.c and user/tls/execwatch.c. Fixed-width types only. */
#ifndef AT_EXEC_H
#define AT_EXEC_H

/* A file by the kernel's identity: s_dev as the kernel encodes it (major << 20 | minor, what
 * /proc/PID/maps prints), and the inode number. */
struct ew_file {
	__u64 dev;
	__u64 ino;
};

enum ew_kind {
	EW_EXEC = 1,	/* a process executed a file the loader has not seen */
	EW_DL = 2,	/* such a process's dynamic linker mapped its libraries (or dlopen) */
};

struct ew_event {
	__u64 ts_ns;	/* bpf_ktime_get_ns() */
	__u32 pid;
	__u32 kind;	/* enum ew_kind */
};

#define EW_SEEN_MAX 65536
#define EW_WATCH_MAX 8192

#endif /* AT_EXEC_H */
