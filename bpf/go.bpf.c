// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Go crypto/tls alert uprobes. The loader (user/tls/go.c) finds, in each Go program (stripped
 * or not), where the alert paths are and attaches these programs with a cookie naming the
 * binary and the registers to read (bpf/go.h). Never a uretprobe: Go moves goroutine stacks,
 * and a return probe's trampoline address on a moved stack crashes the program.
 *
 *  send_alert: the entry of (*Conn).sendAlertLocked(err alert) (crypto/tls/conn.go), which
 *      every alert Go writes goes through, close_notify included. Under ABIInternal (Go 1.17+)
 *      the receiver is in RAX and the alert in BL. The level is Go's own choice: warning for
 *      close_notify and no_renegotiation, fatal otherwise.
 *  read_record: the load of data[1] in readRecordOrCCS's `case recordTypeAlert:` branch, after
 *      the len(data) == 2 check: a register points at the record's 2 bytes (level, alert).
 *      Every well-formed received alert passes there, decrypted ones included.
 * The connection's ends come from c.conn's socket when it is a *net.TCPConn (conn_sock), the
 * server name from c.serverName (conn_sni).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "alerttrace.h"
#include "go.h"
#define AT_EMIT_PREEMPTIBLE /* uprobes: bpf/emit.bpf.h */
#include "emit.bpf.h"
#include "libprobe.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ALERT_CLOSE_NOTIFY 0	  /* crypto/tls/alert.go */
#define ALERT_NO_RENEGOTIATION 100

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AT_MAX_LIBS);
	__type(key, __u32);
	__type(value, struct go_cfg);
} cfgs SEC(".maps");

/* c.vers: the negotiated version (0x303, 0x304), 0 before the ServerHello. */
static __always_inline __u16 conn_version(const struct go_cfg *cfg, __u64 c)
{
	__u16 v = 0;

	if (c && cfg->off_vers >= 0 && at_lib_reads(AT_SKIP_DETAIL))
		bpf_probe_read_user(&v, sizeof(v), (void *)(c + cfg->off_vers));
	return v;
}

/* The register file as an array: the verifier refuses a variable offset into ctx. */
static __always_inline int read_regs(struct pt_regs *ctx, __u64 *regs)
{
	_Static_assert(sizeof(struct pt_regs) == GO_NREGS * 8, "pt_regs is not GO_NREGS words");
	return bpf_probe_read_kernel(regs, GO_NREGS * 8, ctx);
}

/*
 * The socket of c's net.Conn when it is a *net.TCPConn (its itab's Close is that type's, at
 * delta from this probe; bpf/go.h): TCPConn -> netFD -> pfd.Sysfd. A Conn over another net.Conn
 * (a wrapper, a pipe) gets no addresses.
 */
static __always_inline struct sock *conn_sock(__u64 c, __u64 ip, __s64 delta)
{
	__u64 w[2], fun0 = 0, nfd = 0;
	long fd = -1;

	if (!c || !delta || bpf_probe_read_user(w, sizeof(w), (void *)c) || !w[0] || !w[1] ||
	    bpf_probe_read_user(&fun0, sizeof(fun0), (void *)(w[0] + GO_OFF_ITAB_FUN0)) ||
	    fun0 != ip + delta)
		return NULL;
	if (bpf_probe_read_user(&nfd, sizeof(nfd), (void *)w[1]) || !nfd ||
	    bpf_probe_read_user(&fd, sizeof(fd), (void *)(nfd + GO_OFF_SYSFD)))
		return NULL;
	return at_lib_sock(fd);
}

/*
 * The server name (issue 9): c.serverName, a Go string (pointer, length) that a server sets from
 * the ClientHello and a client from the name its ClientHello asks for (user/tls/go_sni.c); ""
 * before that, and for a client that names no server or an IP address.
 */
static __always_inline void conn_sni(const struct go_cfg *cfg, __u64 c, struct at_event *e)
{
	__u64 s[2];
	__u32 n;

	if (!c || cfg->off_sni < 0 || !at_lib_reads(AT_SKIP_SNI) ||
	    bpf_probe_read_user(s, sizeof(s), (void *)(c + cfg->off_sni)) || !s[0] || !s[1])
		return;
	n = s[1] > AT_SNI_LEN - 1 ? AT_SNI_LEN - 1 : (__u32)s[1];
	if (bpf_probe_read_user(e->sni, n & (AT_SNI_LEN - 1), (void *)s[0]))
		return;
	e->sni[n & (AT_SNI_LEN - 1)] = 0;
	e->xflags |= AT_X_SNI;
	if (s[1] > AT_SNI_LEN - 1)
		e->xflags |= AT_X_SNI_CUT;
}

static __always_inline void go_emit(const struct go_cfg *cfg, __u32 lib_id, __u64 c,
				    __u8 direction, __u8 hook, __u8 level, __u8 code,
				    __u16 version, const struct sock *sk)
{
	struct at_event *e = at_lib_event(AT_SRC_GO, lib_id, c, direction, hook, level, code,
					  version, 0, sk);

	if (!e)
		return;
	conn_sni(cfg, c, e);
	at_emit(e);
}

SEC("uprobe")
int send_alert(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = GO_CK_LIB(ck);
	__u32 areg = GO_CK_ALERT_REG(ck), creg = GO_CK_CONN_REG(ck);
	const struct go_cfg *cfg;
	__u64 regs[GO_NREGS], c = 0;
	__u8 alert;

	if (!at_pid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg || read_regs(ctx, regs) || areg >= GO_NREGS)
		return 0;
	alert = regs[areg] & 0xff;
	if (creg < GO_NREGS)
		c = regs[creg];
	go_emit(cfg, lib_id, c, AT_DIR_SENT, AT_HOOK_SEND_ALERT,
		(alert == ALERT_CLOSE_NOTIFY || alert == ALERT_NO_RENEGOTIATION) ? 1 : 2, alert,
		conn_version(cfg, c), conn_sock(c, PT_REGS_IP(ctx), cfg->tcpclose_from_send));
	return 0;
}

SEC("uprobe")
int read_record(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = GO_CK_LIB(ck);
	__u32 areg = GO_CK_ALERT_REG(ck), creg = GO_CK_CONN_REG(ck), vreg = GO_CK_VERS_REG(ck);
	const struct go_cfg *cfg;
	__u64 regs[GO_NREGS], c = 0;
	__u16 version = 0;
	__u8 alert[2];

	if (!at_pid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg || read_regs(ctx, regs) || areg >= GO_NREGS)
		return 0;
	if (bpf_probe_read_user(alert, sizeof(alert), (void *)regs[areg]))
		return 0;
	if (creg < GO_NREGS) {
		c = regs[creg];
		version = conn_version(cfg, c);
	} else if (vreg < GO_NREGS) {
		version = regs[vreg] & 0xffff;
	}
	/* Not in a register there: the receiver's spill slot (user/tls/go.c conn_spill). */
	if (creg >= GO_NREGS && cfg->recv_conn_sp > 0 &&
	    !bpf_probe_read_user(&c, sizeof(c), (void *)(PT_REGS_SP(ctx) + cfg->recv_conn_sp)) &&
	    vreg >= GO_NREGS)
		version = conn_version(cfg, c);
	go_emit(cfg, lib_id, c, AT_DIR_RECEIVED, AT_HOOK_READ_RECORD, alert[0], alert[1], version,
		conn_sock(c, PT_REGS_IP(ctx), cfg->tcpclose_from_recv));
	return 0;
}
