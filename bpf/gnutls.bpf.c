// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * GnuTLS alert uprobes. The loader (user/tls/gnutls.c) finds, in each libgnutls file, where the
 * alert paths are and attaches these programs with a cookie naming the library (bpf/gnutls.h).
 *
 *  alert_send_entry/alert_send_return: gnutls_alert_send(session, level, desc) (lib/alert.c),
 *      which GnuTLS itself calls through its PLT for every alert it sends, and applications too.
 *      The alert is counted when the call returns: GNUTLS_E_AGAIN / GNUTLS_E_INTERRUPTED keep
 *      the record buffered for the caller's retry, which is the call that sends it.
 *  record_alert: the instruction of the record layer (lib/record.c, record_add_to_buffers)
 *      that stores a received alert's description in session->internals.last_alert; a register
 *      there points to the record's 2 bytes (level, description). Every received alert record
 *      passes there, warnings and close_notify included, once.
 * The connection's ends come from the session's transport fd at the alert (session_sock).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "alerttrace.h"
#include "gnutls.h"
#define AT_EMIT_PREEMPTIBLE /* uprobes: bpf/emit.bpf.h */
#include "emit.bpf.h"
#define AT_LIBPROBE_PENDING /* an entry probe and its return probe */
#include "libprobe.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define GNUTLS_E_AGAIN (-28)	   /* lib/includes/gnutls/gnutls.h.in */
#define GNUTLS_E_INTERRUPTED (-52)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AT_MAX_LIBS);
	__type(key, __u32);
	__type(value, struct gnutls_cfg);
} cfgs SEC(".maps");


/*
 * The session's protocol as GnuTLS itself reports it (gnutls_protocol_get_version): the
 * gnutls_protocol_t of its version entry, turned into the wire value. A client reports TLS 1.2
 * until the ServerHello, even when it offers TLS 1.3 (GnuTLS's own legacy version).
 */
static __always_inline __u16 session_version(const struct gnutls_cfg *cfg, __u64 s, bool *dtls)
{
	__u64 ent = 0;
	int id = 0;

	if (!s || cfg->off_pversion < 0 || !at_lib_reads(AT_SKIP_DETAIL))
		return 0;
	if (bpf_probe_read_user(&ent, sizeof(ent), (void *)(s + cfg->off_pversion)) || !ent)
		return 0;
	if (bpf_probe_read_user(&id, sizeof(id), (void *)(ent + cfg->off_ver_id)))
		return 0;
	switch (id) {
	case 1: /* GNUTLS_SSL3 */
		return 0x300;
	case 2: /* GNUTLS_TLS1_0 */
	case 3:
	case 4:
	case 5: /* GNUTLS_TLS1_3 */
		return 0x300 + id - 1;
	case 200: /* GNUTLS_DTLS0_9 */
		*dtls = true;
		return 0x100;
	case 201: /* GNUTLS_DTLS1_0 */
		*dtls = true;
		return 0xfeff;
	case 202: /* GNUTLS_DTLS1_2 */
		*dtls = true;
		return 0xfefd;
	}
	return 0;
}

/* The session's socket: the fd gnutls_transport_set_int stored (or set_ptr, an fd cast). */
static __always_inline struct sock *session_sock(const struct gnutls_cfg *cfg, __u64 s)
{
	__u64 t = 0;

	if (!s || cfg->off_transport < 0 ||
	    bpf_probe_read_user(&t, sizeof(t), (void *)(s + cfg->off_transport)) || t > 0x7fffffff)
		return NULL;
	return at_lib_sock((long)t);
}

SEC("uprobe")
int alert_send_entry(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = GT_CK_LIB(ck);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	const struct gnutls_cfg *cfg;
	struct pending p = {};
	bool dtls = false;

	if (!at_pid_wanted(pid_tgid >> 32))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg)
		return 0;
	p.session = PT_REGS_PARM1(ctx);
	p.level = (__u8)PT_REGS_PARM2(ctx);
	p.code = (__u8)PT_REGS_PARM3(ctx);
	p.version = session_version(cfg, p.session, &dtls);
	p.dtls = dtls;
	/* Before the write: its wire event at TC egress names this process. */
	p.sk = (__u64)session_sock(cfg, p.session);
	p.lib_id = lib_id;
	at_pending_put(tid, &p);
	return 0;
}

/*
 * The server name (issue 9): session->internals.ext_data[GNUTLS_EXTENSION_SERVER_NAME], where a
 * client keeps the name it asks for and a server the name it received (lib/ext/server_name.c):
 * when its set flag is on, priv points to a 2-byte big-endian length and the name.
 */
static __always_inline void gt_sni(const struct gnutls_cfg *cfg, __u64 s, struct at_event *e)
{
	__u8 set = 0, len[2];
	__u64 priv = 0;
	__u32 n;

	if (!s || cfg->off_sni_priv < 0 || cfg->off_sni_set < 0 || !at_lib_reads(AT_SKIP_SNI) ||
	    bpf_probe_read_user(&set, 1, (void *)(s + cfg->off_sni_set)) || !set ||
	    bpf_probe_read_user(&priv, sizeof(priv), (void *)(s + cfg->off_sni_priv)) || !priv ||
	    bpf_probe_read_user(len, 2, (void *)priv))
		return;
	n = (__u32)len[0] << 8 | len[1];
	if (!n)
		return;
	if (n > AT_SNI_LEN - 1) {
		n = AT_SNI_LEN - 1;
		e->xflags |= AT_X_SNI_CUT;
	}
	if (bpf_probe_read_user(e->sni, n & (AT_SNI_LEN - 1), (void *)(priv + 2)))
		return;
	e->sni[n & (AT_SNI_LEN - 1)] = 0;
	e->xflags |= AT_X_SNI;
}

/*
 * The reason of a sent fatal alert (issue 9): the error code the application handed to
 * gnutls_alert_send_appropriate(session, err) (lib/alert.c), which sends the alert through
 * gnutls_alert_send: noted at its entry, per thread, taken by the alert it sends.
 */
struct gt_err {
	__u64 ts_ns;
	__s32 err;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct gt_err);
} gt_errs SEC(".maps");

#define GT_REASON_WINDOW_NS 1000000000ULL

static __always_inline void gt_reason(struct at_event *e)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gt_err *ge = bpf_map_lookup_elem(&gt_errs, &tid);

	if (!ge)
		return;
	if (e->level == 2 && e->ts_ns - ge->ts_ns < GT_REASON_WINDOW_NS && ge->err < 0) {
		e->reason = (__u32)ge->err;
		e->xflags |= AT_X_REASON;
	}
	bpf_map_delete_elem(&gt_errs, &tid);
}

SEC("uprobe")
int alert_appropriate(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gt_err ge = {.ts_ns = bpf_ktime_get_ns(), .err = (int)PT_REGS_PARM2(ctx)};

	if (!at_pid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	bpf_map_update_elem(&gt_errs, &tid, &ge, BPF_ANY);
	return 0;
}

static __always_inline void gt_emit(const struct gnutls_cfg *cfg, __u32 lib_id, __u64 s,
				    __u8 direction, __u8 hook, __u8 level, __u8 code,
				    __u16 version, __u8 flags, const struct sock *sk)
{
	struct at_event *e = at_lib_event(AT_SRC_GNUTLS, lib_id, s, direction, hook, level, code,
					  version, flags, sk);

	if (!e)
		return;
	if (cfg)
		gt_sni(cfg, s, e);
	if (direction == AT_DIR_SENT && at_lib_reads(AT_SKIP_DETAIL))
		gt_reason(e);
	at_emit(e);
}

SEC("uretprobe")
int alert_send_return(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = GT_CK_LIB(ck);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	int rc = (int)PT_REGS_RC(ctx);
	struct pending p;
	__u8 flags = 0;

	if (!at_pending_take(tid, &p))
		return 0;
	/* Buffered for a retry: that call is the one that sends it. */
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return 0;
	if (rc == 0)
		flags |= AT_F_WRITTEN;
	if (p.dtls)
		flags |= AT_F_DTLS;
	gt_emit(bpf_map_lookup_elem(&cfgs, &lib_id), lib_id, p.session, AT_DIR_SENT,
		AT_HOOK_ALERT_SEND, p.level, p.code, p.version, flags, (const struct sock *)p.sk);
	return 0;
}

/* The thread ended inside gnutls_alert_send: what its entry saw, the send's result unknown
 * (after an exec no server name: no cfg, no user memory read). */
static __always_inline void alert_send_cut(const struct pending *p, bool after_exec)
{
	gt_emit(after_exec ? NULL : bpf_map_lookup_elem(&cfgs, &p->lib_id), p->lib_id, p->session,
		AT_DIR_SENT, AT_HOOK_ALERT_SEND, p->level, p->code, p->version,
		AT_F_CUT | (p->dtls ? AT_F_DTLS : 0), (const struct sock *)p->sk);
}
AT_PENDING_CUT(alert_send_cut)

SEC("uprobe")
int record_alert(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = GT_CK_LIB(ck);
	__u32 areg = GT_CK_ALERT_REG(ck), sreg = GT_CK_SESSION_REG(ck);
	const struct gnutls_cfg *cfg;
	__u64 regs[GT_NREGS];
	__u64 s = 0;
	__u16 version = 0;
	bool dtls = false;
	__u8 alert[2];

	if (!at_pid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg)
		return 0;
	/* The verifier refuses a variable offset into ctx: index a copy of the register file. */
	_Static_assert(sizeof(regs) == sizeof(struct pt_regs), "pt_regs is not GT_NREGS words");
	if (bpf_probe_read_kernel(regs, sizeof(regs), ctx))
		return 0;
	if (areg >= GT_NREGS)
		return 0;
	if (bpf_probe_read_user(alert, sizeof(alert), (void *)regs[areg]))
		return 0;
	if (sreg < GT_NREGS) {
		s = regs[sreg];
		version = session_version(cfg, s, &dtls);
	}
	gt_emit(cfg, lib_id, s, AT_DIR_RECEIVED, AT_HOOK_RECORD, alert[0], alert[1], version,
		dtls ? AT_F_DTLS : 0, session_sock(cfg, s));
	return 0;
}
