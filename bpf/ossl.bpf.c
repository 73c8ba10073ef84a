// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * OpenSSL alert uprobes (issue 3). The loader (user/libs.c) computes, for each libssl file, where
 * the alert paths are (user/ossl_hooks.c) and attaches these programs with a BPF cookie that
 * names the library (lib_id) and, for the read probe, the registers to look at (bpf/ossl.h).
 *
 *  dispatch_done: an instruction inside ssl3_dispatch_alert / dtls1_dispatch_alert (ssl/s3_msg.c,
 *      ssl/d1_msg.c), right after the record write returned (user/tls/ossl_done.c): the alert
 *      is in s->s3.send_alert[2], the write's return value (> 0: written) and s in registers.
 *      One probe hit per dispatch, where the kernel emulates the instruction (a jcc).
 *  dispatch_entry/dispatch_return: the same functions' entry and return, where dispatch_done
 *      cannot be placed (3.2+: several returns, the write through the record layer's methods):
 *      the return value says whether the alert was written. A tracer that only counts
 *      attaches the entry alone, which counts the alert (AT_SKIP_WRITTEN).
 *  read_alert: an instruction inside ssl3_read_bytes / dtls1_read_bytes (ssl/record/
 *      rec_layer_s3.c, rec_layer_d1.c) where the 2 alert bytes of a received record sit in a
 *      register.
 *  err_raise: ERR_vset_error / ERR_put_error in libcrypto, only for libraries whose read probe
 *      could not be placed: reason 1000 + desc of ERR_LIB_SSL is a received fatal alert.
 *  err_reason: the same function otherwise: the last error each thread raised, which the next
 *      fatal alert it dispatches carries as its reason (err_raise notes it too).
 *
 * No probe sits on the data path (SSL_read/SSL_write): these functions run only around alerts,
 * except the ERR fallback, which runs on every OpenSSL error. The connection's ends come from the
 * session's BIO fd at the alert (ssl_sock in ossl_sock.bpf.h; user/tls/ossl_bio.c reads the
 * offsets).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "alerttrace.h"
#include "ossl.h"
#define AT_EMIT_PREEMPTIBLE /* uprobes: bpf/emit.bpf.h */
#include "emit.bpf.h"
#define AT_LIBPROBE_PENDING /* an entry probe and its return probe */
#include "libprobe.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ERR_LIB_SSL 20		  /* include/openssl/err.h */
#define SSL_AD_REASON_OFFSET 1000 /* ssl/ssl_local.h: reason = 1000 + alert description */
#define TLS1_3_VERSION 0x0304
#define DTLS_ANY_VERSION 0x1ffff
#define DTLS1_BAD_VER 0x0100


/* Per-library SSL layout, written by the loader, indexed by lib_id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AT_MAX_LIBS);
	__type(key, __u32);
	__type(value, struct ossl_cfg);
} cfgs SEC(".maps");


static __always_inline bool is_dtls_version(int v)
{
	return v == DTLS_ANY_VERSION || v == DTLS1_BAD_VER || (v >> 8) == 0xfe;
}

#include "ossl_sock.bpf.h"

/* ---- Why and where (issue 9): the server name, the verification result, the reason ---- */

#define SSL_R_CERTIFICATE_VERIFY_FAILED 134 /* include/openssl/sslerr.h, 1.1.1 and 3.x */
#define OSSL_REASON_WINDOW_NS 1000000000ULL /* an error older than this is not the alert's */

/* The last error a thread put on OpenSSL's ERR queue, until its next dispatched alert. */
struct last_err {
	__u64 ts_ns;
	__u32 reason; /* ERR_GET_LIB << 23 | ERR_GET_REASON, as OpenSSL 3 packs it */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct last_err);
} last_errs SEC(".maps");

/*
 * The same by slot first, as bpf/libprobe.bpf.h keeps the pending entries: an error is noted
 * about twice per alert, and a hash update cost more than the rest of the probe. The slot's word
 * is its owner's tid and a state: ES_FRESH, an error not taken yet; ES_BUSY, being written;
 * neither, taken (0: never owned). Another thread takes a slot over only when nothing in it is
 * still its owner's (taken, or older than the window), by compare-and-swap of the word it read:
 * the owner's own writes go through ES_BUSY, so a takeover decided on an error the owner has
 * since replaced fails. Without that, a fresh error could be overwritten and its thread's next
 * alert take none, or an older error of that thread left in the hash (tests/t_thread_slots.sh
 * with ALERTTRACE_THREAD_SLOTS=1 saw both).
 */
#define ES_FRESH (1ULL << 32)
#define ES_BUSY (2ULL << 32)

struct err_slot {
	__u64 tid; /* the owner's tid | ES_FRESH or ES_BUSY */
	struct last_err le;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AT_THREAD_SLOTS_MAX);
	__type(key, __u32);
	__type(value, struct err_slot);
} err_slots SEC(".maps");

static __always_inline void note_err(int lib, int reason)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 i = at_thread_slot(tid);
	struct err_slot *sl = bpf_map_lookup_elem(&err_slots, &i);
	struct last_err le = {
	    .ts_ns = bpf_ktime_get_ns(),
	    .reason = ((__u32)lib & 0xff) << 23 | ((__u32)reason & 0x7fffff),
	};

	if (sl && tid) {
		__u64 w = *(volatile __u64 *)&sl->tid;
		bool mine = (__u32)w == tid;

		/* Signed: an owner's error written after our clock read is not old. */
		if (!(w & ES_BUSY) &&
		    (mine || !(w & ES_FRESH) ||
		     (__s64)(le.ts_ns - sl->le.ts_ns) >= (__s64)OSSL_REASON_WINDOW_NS) &&
		    __sync_val_compare_and_swap(&sl->tid, w, tid | ES_BUSY) == w) {
			/* An error of ours the hash kept while another thread had the slot is older
			 * than this one: it must not be taken once we lose the slot again. */
			if (!mine)
				bpf_map_delete_elem(&last_errs, &tid);
			sl->le = le;
			__sync_lock_test_and_set(&sl->tid, tid | ES_FRESH);
			return;
		}
	}
	bpf_map_update_elem(&last_errs, &tid, &le, BPF_ANY);
}

/* The thread's last error, into *out, and used up: true, or false when there is none. */
static __always_inline bool take_err(__u32 tid, struct last_err *out)
{
	__u32 i = at_thread_slot(tid);
	struct err_slot *sl = bpf_map_lookup_elem(&err_slots, &i);
	struct last_err *le;
	__u64 w;

	if (sl && tid && (__u32)(w = *(volatile __u64 *)&sl->tid) == tid) {
		/* While a thread owns its slot, its errors go there: none is newer in the hash. */
		if (!(w & ES_FRESH))
			return false;
		*out = sl->le;
		/* Fails when another thread took the slot over (the error was past the window). */
		return __sync_val_compare_and_swap(&sl->tid, w, (__u64)tid) == w;
	}
	le = bpf_map_lookup_elem(&last_errs, &tid);
	if (!le)
		return false;
	*out = *le;
	bpf_map_delete_elem(&last_errs, &tid);
	return true;
}

/* A user pointer at s + off, 0 when unknown. */
static __always_inline __u64 read_ptr(__u64 s, __s32 off)
{
	__u64 p = 0;

	if (!s || off < 0 || bpf_probe_read_user(&p, sizeof(p), (void *)(s + off)))
		return 0;
	return p;
}

/*
 * The server name as SSL_get_servername (ssl/ssl_lib.c) finds it: s->ext.hostname, which a client
 * sets before its ClientHello and a server once it parsed one; else the session's
 * s->session->ext.hostname (a resumed session's name).
 */
static __always_inline void ossl_sni(const struct ossl_cfg *cfg, __u64 s, struct at_event *e)
{
	__u64 name;
	char c = 0;
	long n;

	if (!at_lib_reads(AT_SKIP_SNI))
		return;
	name = read_ptr(s, cfg->off_hostname);
	if (!name && cfg->off_sess_hostname >= 0)
		name = read_ptr(read_ptr(s, cfg->off_session), cfg->off_sess_hostname);
	if (!name)
		return;
	n = bpf_probe_read_user_str(e->sni, sizeof(e->sni), (void *)name);
	if (n <= 1) {
		e->sni[0] = 0;
		return;
	}
	e->xflags |= AT_X_SNI;
	if (n == sizeof(e->sni) &&
	    !bpf_probe_read_user(&c, 1, (void *)(name + sizeof(e->sni) - 1)) && c)
		e->xflags |= AT_X_SNI_CUT;
}

static __always_inline bool cert_alert(__u8 code)
{
	/* RFC 8446 6.2: bad_certificate .. certificate_unknown, unknown_ca, access_denied,
	 * certificate_required */
	return (code >= 42 && code <= 46) || code == 48 || code == 49 || code == 116;
}

/* A sent fatal alert: the last error this thread raised, and for a certificate alert the
 * session's verification result (SSL_get_verify_result), when it failed. */
static __always_inline void ossl_why_sent(const struct ossl_cfg *cfg, __u64 s, struct at_event *e)
{
	bool verify_failed = false;
	struct last_err le;
	long vr = 0;

	if (!at_lib_reads(AT_SKIP_DETAIL))
		return;
	if (take_err((__u32)bpf_get_current_pid_tgid(), &le) && e->level == 2 &&
	    e->ts_ns - le.ts_ns < OSSL_REASON_WINDOW_NS) {
		e->reason = le.reason;
		e->xflags |= AT_X_REASON;
		verify_failed = le.reason == (ERR_LIB_SSL << 23 | SSL_R_CERTIFICATE_VERIFY_FAILED);
	}
	if (e->level != 2 || !s || cfg->off_verify_result < 0 ||
	    !(cert_alert(e->code) || verify_failed))
		return;
	if (bpf_probe_read_user(&vr, sizeof(vr), (void *)(s + cfg->off_verify_result)) || !vr)
		return;
	e->verify_error = (__s32)vr;
	e->xflags |= AT_X_VERIFY;
}

/* ---- end of why and where ---- */

/*
 * pt_regs word i (bpf/ossl.h's register numbering), loaded from ctx at a constant offset in each
 * case: the verifier refuses a variable offset into ctx (and clang, given plain field reads,
 * merges the cases into one load at a computed offset: hence the asm). Cheaper than a copy of
 * the whole register file (168 bytes through bpf_probe_read_kernel).
 */
#define OSSL_REG_CASE(i, off)                                                              \
	case i:                                                                            \
		asm volatile("%0 = *(u64 *)(%1 + " #off ")" : "=r"(v) : "r"(ctx));         \
		break
static __always_inline __u64 reg_word(const struct pt_regs *ctx, __u32 i)
{
	__u64 v = 0;

	_Static_assert(sizeof(struct pt_regs) == OSSL_NREGS * 8, "pt_regs is not OSSL_NREGS words");
	switch (i) {
		OSSL_REG_CASE(0, 0);	/* r15 */
		OSSL_REG_CASE(1, 8);	/* r14 */
		OSSL_REG_CASE(2, 16);	/* r13 */
		OSSL_REG_CASE(3, 24);	/* r12 */
		OSSL_REG_CASE(4, 32);	/* rbp */
		OSSL_REG_CASE(5, 40);	/* rbx */
		OSSL_REG_CASE(6, 48);	/* r11 */
		OSSL_REG_CASE(7, 56);	/* r10 */
		OSSL_REG_CASE(8, 64);	/* r9 */
		OSSL_REG_CASE(9, 72);	/* r8 */
		OSSL_REG_CASE(10, 80);	/* rax */
		OSSL_REG_CASE(11, 88);	/* rcx */
		OSSL_REG_CASE(12, 96);	/* rdx */
		OSSL_REG_CASE(13, 104); /* rsi */
		OSSL_REG_CASE(14, 112); /* rdi */
	default: /* orig_ax, ip, cs, flags, sp, ss: never an analyser's choice */
		break;
	}
	return v;
}

static __always_inline void emit(__u32 lib_id, __u64 ssl, __u8 direction, __u8 hook, __u8 level,
				 __u8 code, __u16 version, __u8 flags, const struct sock *sk)
{
	at_lib_emit(AT_SRC_OPENSSL, lib_id, ssl, direction, hook, level, code, version, flags, sk);
}

/* The alert s is about to send (s->s3.send_alert) and its version, into *p, and s's head into
 * *h. 0, or -1. */
static __always_inline int dispatch_alert(const struct ossl_cfg *cfg, __u64 s, bool dtls,
					  struct pending *p, struct ssl_head *h)
{
	__u64 base = s;
	__u8 alert[2];

	if (!s)
		return -1;
	/* 1.1.1 keeps send_alert behind s->s3; 3.x has s3 inline in SSL / SSL_CONNECTION. */
	if (cfg->off_s3 >= 0) {
		base = 0;
		if (bpf_probe_read_user(&base, sizeof(base), (void *)(s + cfg->off_s3)) || !base)
			return -1;
	}
	if (bpf_probe_read_user(alert, sizeof(alert), (void *)(base + cfg->off_send_alert)))
		return -1;
	p->session = s;
	p->level = alert[0];
	p->code = alert[1];
	ssl_head_read(cfg, s, h);
	p->version = ssl_version(cfg, h, &dtls);
	p->dtls = dtls;
	return 0;
}

static __always_inline void dispatch_emit(const struct ossl_cfg *cfg, __u32 lib_id,
					  const struct pending *p, int rc, const struct sock *sk,
					  __u8 flags)
{
	struct at_event *e;

	/* dispatch returns the bytes written (> 0), or <= 0 when the write must be retried. */
	if (rc > 0)
		flags |= AT_F_WRITTEN;
	if (p->dtls)
		flags |= AT_F_DTLS;
	e = at_lib_event(AT_SRC_OPENSSL, lib_id, p->session, AT_DIR_SENT, AT_HOOK_DISPATCH,
			 p->level, p->code, p->version, flags, sk);
	if (!e)
		return;
	if (cfg) {
		ossl_sni(cfg, p->session, e);
		ossl_why_sent(cfg, p->session, e);
	}
	at_emit(e);
}

SEC("uprobe")
int dispatch_done(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = OSSL_CK_LIB(ck);
	__u32 rreg = OSSL_CK_RC_REG(ck), sreg = OSSL_CK_SSL_REG(ck);
	const struct ossl_cfg *cfg;
	struct ssl_head h;
	struct pending p = {};

	if (!at_pid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg)
		return 0;
	if (dispatch_alert(cfg, reg_word(ctx, sreg), ck & OSSL_CK_DTLS, &p, &h))
		return 0;
	dispatch_emit(cfg, lib_id, &p, (int)reg_word(ctx, rreg), ssl_sock(cfg, &h), 0);
	return 0;
}

SEC("uprobe")
int dispatch_entry(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = OSSL_CK_LIB(ck);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	const struct ossl_cfg *cfg;
	struct ssl_head h;
	struct pending p = {};

	if (!at_pid_wanted(pid_tgid >> 32))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg)
		return 0;
	if (dispatch_alert(cfg, PT_REGS_PARM1(ctx), ck & OSSL_CK_DTLS, &p, &h))
		return 0;
	/* Before the write: its wire event at TC egress names this process. */
	p.sk = (__u64)ssl_sock(cfg, &h);
	/* Counting only: the return would add whether it was written, which a histogram does not
	 * keep; its uretprobe is not attached (user/tls/attach.c), so the alert counts here. */
	if (!at_lib_reads(AT_SKIP_WRITTEN)) {
		dispatch_emit(cfg, lib_id, &p, 0, (const struct sock *)p.sk, 0);
		return 0;
	}
	p.lib_id = lib_id;
	at_pending_put(tid, &p);
	return 0;
}

SEC("uretprobe")
int dispatch_return(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 lib_id = OSSL_CK_LIB(ck);
	const struct ossl_cfg *cfg;
	struct pending p;

	if (!at_pending_take(tid, &p))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	dispatch_emit(cfg, lib_id, &p, (int)PT_REGS_RC(ctx), (const struct sock *)p.sk, 0);
	return 0;
}

/* The thread ended inside the dispatch: what its entry saw, the write's result unknown; after
 * an exec without the server name and verification result (no cfg: no user memory read). */
static __always_inline void dispatch_cut(const struct pending *p, bool after_exec)
{
	dispatch_emit(after_exec ? NULL : bpf_map_lookup_elem(&cfgs, &p->lib_id), p->lib_id, p, 0,
		      (const struct sock *)p->sk, AT_F_CUT);
}
AT_PENDING_CUT(dispatch_cut)

SEC("uprobe")
int read_alert(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = OSSL_CK_LIB(ck);
	__u32 areg = OSSL_CK_ALERT_REG(ck), sreg = OSSL_CK_SSL_REG(ck);
	const struct ossl_cfg *cfg;
	bool dtls = ck & OSSL_CK_DTLS;
	struct ssl_head h;
	__u64 a, s = 0;
	__u16 version = 0;
	struct at_event *e;
	__u8 alert[2];

	if (!at_pid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg)
		return 0;
	if (areg >= OSSL_NREGS)
		return 0;
	a = reg_word(ctx, areg);
	if (ck & OSSL_CK_ALERT_PTR) {
		if (bpf_probe_read_user(alert, sizeof(alert), (void *)a))
			return 0;
	} else {
		alert[0] = a & 0xff;
		alert[1] = (a >> 8) & 0xff;
	}
	if (sreg < OSSL_NREGS)
		s = reg_word(ctx, sreg);
	ssl_head_read(cfg, s, &h);
	version = ssl_version(cfg, &h, &dtls);
	e = at_lib_event(AT_SRC_OPENSSL, lib_id, s, AT_DIR_RECEIVED, AT_HOOK_READ, alert[0],
			 alert[1], version, dtls ? AT_F_DTLS : 0, ssl_sock(cfg, &h));
	if (!e)
		return 0;
	if (s)
		ossl_sni(cfg, s, e);
	at_emit(e);
	return 0;
}

/*
 * The error an ERR function of libcrypto is raising: its library and reason, from the arguments
 * as cfg->err_kind says the function takes them, and noted as the thread's last error. This
 * runs on every OpenSSL error in the process: no memory read before the pid test. 0, or -1 when
 * the error is not this tracer's to note.
 */
static __always_inline int err_note(struct pt_regs *ctx, __u32 lib_id, int *lib, int *reason)
{
	const struct ossl_cfg *cfg;
	int arg2, arg3;

	*lib = (int)PT_REGS_PARM1(ctx);
	/* Both loads at fixed offsets: a ctx load at a chosen offset is refused by the verifier. */
	arg2 = (int)PT_REGS_PARM2(ctx);
	arg3 = (int)PT_REGS_PARM3(ctx);
	barrier_var(arg2);
	barrier_var(arg3);
	if (!at_pid_wanted(bpf_get_current_pid_tgid() >> 32))
		return -1;
	cfg = bpf_map_lookup_elem(&cfgs, &lib_id);
	if (!cfg)
		return -1;
	if (cfg->err_kind == 1) /* ERR_vset_error(lib, reason, fmt, args) */
		*reason = arg2;
	else if (cfg->err_kind == 2) /* ERR_put_error(lib, func, reason, file, line) */
		*reason = arg3;
	else
		return -1;
	/* Noted for the stream's reason only (the fallback's event needs none). */
	if (at_lib_reads(AT_SKIP_DETAIL))
		note_err(*lib, *reason);
	return 0;
}

SEC("uprobe")
int err_raise(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 lib_id = OSSL_CK_LIB(ck);
	int lib, reason;

	if (err_note(ctx, lib_id, &lib, &reason) || lib != ERR_LIB_SSL ||
	    reason < SSL_AD_REASON_OFFSET || reason > SSL_AD_REASON_OFFSET + 255)
		return 0;
	/* ssl3_read_bytes raises 1000 + desc for a received fatal alert only. */
	emit(lib_id, 0, AT_DIR_RECEIVED, AT_HOOK_ERR, 2, reason - SSL_AD_REASON_OFFSET, 0,
	     (ck & OSSL_CK_DTLS) ? AT_F_DTLS : 0, NULL);
	return 0;
}

/* The last error of each thread (see ossl_why_sent), where err_raise is not attached. */
SEC("uprobe")
int err_reason(struct pt_regs *ctx)
{
	int lib, reason;

	err_note(ctx, OSSL_CK_LIB(bpf_get_attach_cookie(ctx)), &lib, &reason);
	return 0;
}
