// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The OpenSSL provider (source `openssl`): libssl 1.1.1 to 3.5, and binaries that link it
 * statically. The analysis is ossl_hooks.c's (symbols, SSL_METHOD tables, .eh_frame and data flow
 * on the stripped file); this file turns its result into a probe plan for bpf/ossl.bpf.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "alerttrace.h"
#include "ossl.h"
#include "ossl_hooks.h"
#include "log.h"
#include "provider.h"
#include "ossl.skel.h"

TP_SKEL_OPS(ossl)

enum { H_SENT, H_RECV, H_DTLS_SENT, H_DTLS_RECV, H_ERR, H_REASON };

static bool ossl_named(const char *base)
{
	return strncmp(base, "libssl", 6) == 0 && strstr(base, ".so");
}

bool ossl_done_wanted(void)
{
	const char *env = getenv("ALERTTRACE_OSSL_DONE");

	return env && !strcmp(env, "1");
}

/*
 * The sent hook: the function's entry and return. ALERTTRACE_OSSL_DONE=1 takes one probe where
 * ossl_done.c placed it (1.1.1-3.1) instead, which costs less (bench/bench_probecost.sh compares
 * the two; the plan cache keeps such plans apart: plancache.c) but is not the default: on 3.0
 * its event reaches the ring before the wire event of the same record (the write went into the
 * handshake's buffering BIO, flushed after it), so a library event that does not know its own
 * ends (an application's own BIO: haproxy's) is printed before the wire event that would give
 * them (t_workers' haproxy cases), and a passed socket's claim comes too late for that record's
 * wire event once the handshake is over.
 */
static void plan_dispatch(struct tp_plan *p, const struct oh_result *r, const struct oh_probe *pr,
			  const struct oh_done_probe *done, const char *key, const char *name,
			  bool dtls)
{
	struct tp_hook *h = tp_hook_add(p, key, name);
	__u64 ck = ossl_cookie(0, -1, -1, 0, dtls);

	if (!pr->ok) {
		snprintf(h->why, sizeof(h->why), "%s", pr->why[0] ? pr->why : "not found");
		return;
	}
	/* The alert is read from s->s3.send_alert: without a confirmed layout it would be noise. */
	if (!r->ssl.ok) {
		snprintf(h->why, sizeof(h->why), "SSL layout not confirmed: %.160s",
			 r->ssl.why[0] ? r->ssl.why : "unknown");
		return;
	}
	if (done->p.ok && ossl_done_wanted()) {
		tp_hook_probe(h, "dispatch_done", done->p.file_off,
			      ossl_cookie(0, done->rc_reg, done->ssl_reg, 0, dtls), false);
		return;
	}
	tp_hook_probe(h, "dispatch_entry", pr->file_off, ck, false);
	tp_hook_probe(h, "dispatch_return", pr->file_off, ck, true);
}

static void plan_read(struct tp_plan *p, const struct oh_read_probe *pr, const char *key,
		      const char *name, bool dtls)
{
	struct tp_hook *h = tp_hook_add(p, key, name);

	if (!pr->p.ok) {
		snprintf(h->why, sizeof(h->why), "%s", pr->p.why[0] ? pr->p.why : "not found");
		return;
	}
	if (pr->alert_reg < 0 || pr->alert_reg >= OSSL_NREGS) {
		snprintf(h->why, sizeof(h->why), "alert register index %d out of range",
			 pr->alert_reg);
		return;
	}
	tp_hook_probe(h, "read_alert", pr->p.file_off,
		      ossl_cookie(0, pr->alert_reg, pr->ssl_reg, pr->alert_is_ptr, dtls), false);
}

/* A hook on libcrypto's ERR function (one libcrypto, one probe: a second probe on it would
 * report every error twice), unless hook `unless` is attached. */
static void plan_err_hook(struct tp_plan *p, const struct oh_result *r, int idx, const char *key,
			  const char *name, int unless, const char *unless_why, const char *prog)
{
	struct tp_hook *h = &p->hooks[idx];

	memset(h, 0, sizeof(*h));
	h->key = key;
	h->name = name;
	h->unless = unless;
	h->unless_why = unless_why;
	h->on_aux = true;
	h->aux_once = true;
	if (r->err_kind == OH_ERR_NONE || !r->err.ok) {
		snprintf(h->why, sizeof(h->why), "%s",
			 r->err.why[0] ? r->err.why : "no ERR function found");
		return;
	}
	tp_hook_probe(h, prog, r->err.file_off, ossl_cookie(0, -1, -1, 0, 0), false);
}

static void plan_err(struct tp_plan *p, const struct oh_result *r)
{
	snprintf(p->aux_path, sizeof(p->aux_path), "%s", r->err_path);
	plan_err_hook(p, r, H_ERR, "err_fallback", "fatal fallback", H_RECV,
		      "not needed: the read probe is attached", "err_raise");
	/* The reason of a sent alert: the last error each thread raised, from the same function;
	 * the fallback notes it too when it is attached. */
	plan_err_hook(p, r, H_REASON, "err_reason", "reason", H_ERR,
		      "not needed: the fatal fallback notes the reasons", "err_reason");
}

/* A field read at the probes (the server name, the verification result): placed when the
 * analysis found its offset. */
static void plan_offset(struct tp_plan *p, const char *key, int off, const char *why)
{
	struct tp_hook *h = tp_hook_add(p, key, key);

	if (!h)
		return;
	if (off >= 0)
		h->placed = true;
	else
		snprintf(h->why, sizeof(h->why), "%s", why[0] ? why : "not found");
}

static void to_plan(const struct oh_result *r, struct tp_plan *p)
{
	struct ossl_cfg cfg = {
	    .off_version = r->ssl.off_version,
	    .off_method = r->ssl.off_method,
	    .off_method_version = r->ssl.off_method_version,
	    .off_s3 = r->ssl.off_s3,
	    .off_send_alert = r->ssl.off_send_alert,
	    .err_kind = r->err_kind,
	    .off_hostname = r->why_.off_hostname,
	    .off_session = r->why_.off_session,
	    .off_sess_hostname = r->why_.off_sess_hostname,
	    .off_verify_result = r->why_.off_verify_result,
	    .off_rbio = -1,
	    .off_wbio = -1,
	    .off_bio_method = -1,
	    .off_bio_type = -1,
	    .off_bio_num = -1,
	    .off_bio_next = -1,
	};

	tp_plan_set(p, r->rc, r->why[0] ? r->why : "not recognised as OpenSSL", r->version,
		    r->build_id);
	snprintf(p->detail, sizeof(p->detail), "%s%s", r->from_symbols ? ", from symbols" : "",
		 r->rc >= 0 && !r->bio.ok ? ", addresses unknown" : "");
	if (r->rc >= 0 && !r->bio.ok)
		p_debug("%s: the session's socket is not known: %s\n", r->path, r->bio.why);
	if (p->rc < 0)
		return;
	/* The read probe needs no layout for the alert itself; only the version would be wrong. */
	if (!r->ssl.ok)
		cfg.off_version = cfg.off_method = cfg.off_method_version = -1;
	if (r->bio.ok && !tp_addrs_off()) {
		cfg.off_rbio = (__s16)r->bio.off_rbio;
		cfg.off_wbio = (__s16)r->bio.off_wbio;
		cfg.off_bio_method = (__s16)r->bio.off_method;
		cfg.off_bio_type = (__s16)r->bio.off_type;
		cfg.off_bio_num = (__s16)r->bio.off_num;
		cfg.off_bio_next = (__s16)r->bio.off_next;
	}
	memcpy(p->cfg, &cfg, sizeof(cfg));
	p->cfg_size = sizeof(cfg);
	plan_dispatch(p, r, &r->dispatch, &r->dispatch_done, "sent", "sent", false);
	plan_read(p, &r->read, "received", "received", false);
	plan_dispatch(p, r, &r->dtls_dispatch, &r->dtls_dispatch_done, "dtls_sent", "dtls sent",
		      true);
	plan_read(p, &r->dtls_read, "dtls_received", "dtls received", true);
	p->nhooks = H_REASON + 1;
	plan_err(p, r);
	/* No probe of their own: read at the two above when their offsets are known; the report
	 * says why not. */
	plan_offset(p, "sni", r->why_.off_hostname, r->why_.sni_why);
	plan_offset(p, "verify", r->why_.off_verify_result, r->why_.verify_why);
}

static int ossl_analyse(const char *path, const char *root, struct tp_plan *p)
{
	static struct oh_result r; /* 5 KiB: not on the stack; the scan is single-threaded */

	oh_analyze(path, root, &r);
	to_plan(&r, p);
	return p->rc;
}

/* A copy of a library analysed before, in another root: its libcrypto is another file. */
static void ossl_rebase(const char *path, const char *root, struct tp_plan *p)
{
	static struct oh_result r;

	memset(&r, 0, sizeof(r));
	if (oh_analyze_err(path, root, &r) < 0 && !r.err.why[0])
		snprintf(r.err.why, sizeof(r.err.why), "cannot read '%.120s'", path);
	plan_err(p, &r);
	if (p->cfg_size >= sizeof(struct ossl_cfg))
		((struct ossl_cfg *)p->cfg)->err_kind = r.err_kind;
}

static const char *const ossl_marks[] = {"TLS_method", NULL};
static const char *const ossl_detail_hooks[] = {"err_reason", NULL};
/* The dispatch's uretprobe adds only its return value (written or not) to what the entry saw. */
static const char *const ossl_written_progs[] = {"dispatch_return", NULL};

/* The one-probe dispatch's program is verified only for a tracer that places it: 8,000
 * instructions, some 14 ms of the start-up's CPU. */
static void ossl_prepare(struct bpf_object *obj)
{
	struct bpf_program *done = bpf_object__find_program_by_name(obj, "dispatch_done");

	if (done && !ossl_done_wanted())
		bpf_program__set_autoload(done, false);
}

const struct tls_provider openssl_provider = {
	.name = "openssl",
	.source = AT_SRC_OPENSSL,
	.named = ossl_named,
	.marks = ossl_marks,
	.analyse = ossl_analyse,
	.rebase = ossl_rebase,
	.prepare = ossl_prepare,
	.detail_hooks = ossl_detail_hooks,
	.written_progs = ossl_written_progs,
	TP_SKEL(ossl),
};
