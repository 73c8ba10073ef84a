/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between the BPF programs and the loader: the event every source writes into the
 * one ring buffer, and the constants that describe it. Fixed-width types only.
 */
#ifndef ALERTTRACE_H
#define ALERTTRACE_H

#define AT_TASK_COMM_LEN 16

enum at_source {
	AT_SRC_WIRE = 1,	/* TC classifier: a type-21 record on an interface */
	AT_SRC_OPENSSL = 2,	/* uprobe in libssl */
};

enum at_direction {
	AT_DIR_SENT = 1,	/* egress, or the library wrote the alert */
	AT_DIR_RECEIVED = 2,	/* ingress, or the library read the alert */
};

/* Which hook saw a library event. */
enum at_hook {
	AT_HOOK_NONE = 0,
	AT_HOOK_DISPATCH = 1,	/* ssl3_dispatch_alert / dtls1_dispatch_alert entry+return */
	AT_HOOK_READ = 2,	/* instruction probe in ssl3_read_bytes / dtls1_read_bytes */
	AT_HOOK_ERR = 3,	/* ERR_vset_error / ERR_put_error fallback (fatal only) */
};

/* Event flags */
#define AT_F_ENCRYPTED	(1u << 0)	/* wire: alert record longer than 2 bytes */
#define AT_F_WRITTEN	(1u << 1)	/* library sent: dispatch returned > 0 */
#define AT_F_DTLS	(1u << 2)	/* library: DTLS method */
#define AT_F_HAS_TASK	(1u << 3)	/* pid/tid/comm/uid/cgroup are valid */
#define AT_F_HAS_ADDR	(1u << 4)	/* addresses and ports are valid */

struct at_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC, converted by the loader */
	__u8 source;		/* enum at_source */
	__u8 direction;		/* enum at_direction */
	__u8 level;		/* alert level byte (1 warning, 2 fatal); 0 when encrypted */
	__u8 code;		/* alert description byte; 0 when encrypted */
	__u8 flags;		/* AT_F_* */
	__u8 ip_version;	/* 4 or 6; 0 when unknown */
	__u8 hook;		/* enum at_hook, library events */
	__u8 pad0;
	__u16 version;		/* wire: record version; library: protocol version (0x304 = TLS1.3) */
	__u16 length;		/* wire: record length */
	__u16 sport;		/* host byte order */
	__u16 dport;		/* host byte order */
	__u32 ifindex;		/* wire */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	/* library events */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 uid;
	__u32 lib_id;		/* the loader's index of the hooked library (BPF cookie) */
	__u64 cgroup_id;
	__u64 ssl;		/* SSL* in the traced process */
	char comm[AT_TASK_COMM_LEN];
};

#endif /* ALERTTRACE_H */
