/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between the BPF programs and the loader: the event every source writes into the
 * one ring buffer, and the constants that describe it. Fixed-width types only.
 */
#ifndef ALERTTRACE_H
#define ALERTTRACE_H

#define AT_TASK_COMM_LEN 16
/* Libraries hooked at once, every provider together: lib_id 1..AT_MAX_LIBS-1 indexes each
 * provider's `cfgs` array. */
#define AT_MAX_LIBS 1024

enum at_source {
	AT_SRC_WIRE = 1,	/* TC classifier: a type-21 record on an interface */
	AT_SRC_OPENSSL = 2,	/* uprobe in libssl */
	AT_SRC_GNUTLS = 3,	/* uprobe in libgnutls (coming) */
	AT_SRC_GO = 4,		/* uprobe in a Go binary's crypto/tls */
	AT_SRC_QUIC = 5,	/* a QUIC Initial's CONNECTION_CLOSE, opened by the loader */
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
	AT_HOOK_ALERT_SEND = 4,	/* gnutls_alert_send entry+return */
	AT_HOOK_RECORD = 5,	/* GnuTLS: the store of a received alert in the record layer */
	AT_HOOK_SEND_ALERT = 6,	/* Go: crypto/tls.(*Conn).sendAlertLocked entry */
	AT_HOOK_READ_RECORD = 7, /* Go: the alert branch of (*Conn).readRecordOrCCS */
};

/* Event flags */
#define AT_F_ENCRYPTED	(1u << 0)	/* wire: alert record longer than 2 bytes */
#define AT_F_WRITTEN	(1u << 1)	/* library sent: dispatch returned > 0 */
#define AT_F_DTLS	(1u << 2)	/* library: DTLS method */
#define AT_F_HAS_TASK	(1u << 3)	/* pid/tid/comm/uid/cgroup are valid */
#define AT_F_HAS_ADDR	(1u << 4)	/* addresses and ports are valid */
#define AT_F_CUT	(1u << 5)	/* library sent: the thread exited or exec'd inside the write
					 * (its return never came): whether it went out is unknown */

/* Extra flags (at_event.xflags): why, where and who */
#define AT_X_VERIFY	(1u << 0)	/* verify_error is the session's certificate verification result */
#define AT_X_REASON	(1u << 1)	/* reason is the library's reason for the alert */
#define AT_X_SNI	(1u << 2)	/* sni holds the connection's server name */
#define AT_X_SNI_CUT	(1u << 3)	/* ... cut to AT_SNI_LEN - 1 bytes */
#define AT_X_ACCEPTED	(1u << 4)	/* wire: the owner is the task that accepted the connection */
#define AT_X_PEER_NS	(1u << 5)	/* wire: on a link to another namespace, the direction and
					 * owner are that namespace's (a container's veth) */

/* Server names are kept to this many bytes, NUL included. */
#define AT_SNI_LEN 64

struct at_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC, converted by the loader */
	__u8 source;		/* enum at_source */
	__u8 direction;		/* enum at_direction */
	__u8 level;		/* alert level byte (1 warning, 2 fatal); 0 when encrypted */
	__u8 code;		/* alert description byte; 0 when encrypted */
	__u8 flags;		/* AT_F_* */
	__u8 ip_version;	/* 4 or 6; 0 when unknown */
	__u8 hook;		/* enum at_hook, library events */
	__u8 xflags;		/* AT_X_* */
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
	__u64 session;		/* the library's connection object in the traced process (OpenSSL:
				 * SSL*); pairs the events of one connection */
	char comm[AT_TASK_COMM_LEN];
	/* Why and where, library events; each valid when its AT_X_ flag is set. For library
	 * events with AT_F_HAS_ADDR, saddr/sport is the end that sent the alert, as on the wire. */
	__s32 verify_error;	/* AT_X_VERIFY: X509_V_ERR_* code (OpenSSL), 0 = ok */
	__u32 reason;		/* AT_X_REASON: OpenSSL: ERR_GET_LIB << 23 | ERR_GET_REASON;
				 * GnuTLS: the (negative) error code */
	char sni[AT_SNI_LEN];	/* AT_X_SNI: the server name, NUL-terminated */
};

/*
 * Histogram (-H, exporters): one count per process x source x direction x level x alert, kept in
 * the kernel (map `hist`, shared by every BPF object) so that an alert storm costs one map update
 * per alert and never floods the ring buffer.
 */
struct at_hist_key {
	__u32 pid;		/* 0 without -P (grouped by comm) or for a wire event without owner */
	__u8 source;
	__u8 direction;
	__u8 level;		/* 0 when encrypted */
	__u8 code;
	__u8 encrypted;
	__u8 pad[3];
	char comm[AT_TASK_COMM_LEN];	/* "" for a wire event without owner */
	__u64 cgroup_id;		/* 0 unless --by container */
	char sni[AT_SNI_LEN];		/* "" unless --by sni */
};

#define AT_HIST_MAX 10240

/*
 * Socket owners (attribution of wire events): bpf/sock.bpf.c keeps, for each TCP connection, the
 * process that made it (connect), accepted it (accept) or listens for it (listen), keyed by the
 * local and remote ends; the library sources replace it by the process an alert ran in.
 */
struct at_sock_key {
	__u64 netns;		/* network namespace cookie; 0 where the kernel has none */
	__u8 laddr[16];		/* IPv4 in the first 4 bytes */
	__u8 raddr[16];		/* all zero for a listener */
	__u16 lport;		/* host byte order */
	__u16 rport;		/* 0 for a listener */
	__u8 family;		/* 4 or 6 */
	__u8 pad[3];
};

struct at_owner {
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 flags;		/* AT_OWNER_* */
	__u64 cgroup_id;
	char comm[AT_TASK_COMM_LEN];
};

/* at_owner.flags: where the owner came from (none: connect, listen, or /proc at start) */
#define AT_OWNER_ACCEPTED (1u << 0)	/* the task that accepted the connection */
#define AT_OWNER_IO (1u << 1)		/* the task a library alert on the socket ran in */

#define AT_OWNERS_MAX 65536

/* Filters, rodata of every BPF object, set by the loader before load. */
#define AT_FILT_PIDS 8
#define AT_FILT_PORTS 8
struct at_filter {
	__u32 pids[AT_FILT_PIDS];	/* -p: 0 ends the list; pids[0] == 0: no filter */
	__u16 ports[AT_FILT_PORTS];	/* --port, host order: 0 ends the list */
	char comm[AT_TASK_COMM_LEN];	/* -c: exact comm, "" no filter */
	__u8 dirs;			/* bit AT_DIR_SENT / AT_DIR_RECEIVED: wanted; 0: both */
	__u8 fatal_only;		/* --fatal */
	__u8 hist;			/* -H/exporters: count in `hist` */
	__u8 stream;			/* stream events to the ring buffer */
	__u8 hist_per_pid;		/* -P: keep pid in the histogram key */
	__u8 hist_by;			/* AT_BY_*: more in the histogram key */
	__u8 slot_bits;			/* per-thread slots of the library probes (libprobe.bpf.h):
					 * 1 << (slot_bits - 1); 0: AT_THREAD_SLOTS_MAX */
	__u8 lib_skip;			/* AT_SKIP_*: what the library probes need not read */
	__u64 netns;			/* cookie of the tracer's network namespace, where every
					 * traced interface lives; 0: owners keyed without it */
};

/* The library probes' per-thread array slots (bpf/libprobe.bpf.h), at most and by default. */
#define AT_THREAD_SLOTS_MAX 4096

/*
 * at_filter.lib_skip: what nothing of this tracer shows, which the library probes then leave
 * unread (user/tracer.c make_filter). 0: everything read.
 */
#define AT_SKIP_SOCK	(1u << 0) /* the session's socket: no stream, no --port, no wire source
				   * (whose events name their process through it) */
#define AT_SKIP_SNI	(1u << 1) /* the server name: no stream, no --by sni */
#define AT_SKIP_DETAIL	(1u << 2) /* the version, the reason, the verification result: no
				   * stream (a histogram keeps none) */
#define AT_SKIP_WRITTEN	(1u << 3) /* whether a sent alert was written: no stream (a histogram
				   * counts every dispatch, written or not): OpenSSL's dispatch is
				   * counted at its entry, its uretprobe not attached */

/* at_filter.hist_by */
#define AT_BY_SNI	(1u << 0)
#define AT_BY_CONTAINER	(1u << 1)

#endif /* ALERTTRACE_H */
