// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The event's JSON line (out_event with -j; the schema in README.md), formatted by hand into one
 * buffer and written with one fwrite: the bytes jsonw.c's object writer wrote for it, at a
 * fraction of its cost. The keys, their separators and the runs of nulls an event without
 * container or why has are literals; a string is copied byte by byte while it needs no escape.
 * tests/test_jsonline.c keeps the jsonw-based writer as the reference and compares the two byte
 * for byte.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "container.h"
#include "fmtbuf.h"
#include "jsonline.h"
#include "sources.h"
#include "strutil.h"
#include "why.h"

/* The line's buffer: a line longer than this (a library path or cgroup path of many escapes)
 * goes out in pieces, as one line still. Longer than every literal below. */
#define JL_BUF 2048

struct jl {
	FILE *f;
	char *p;
	char buf[JL_BUF];
};

static void jl_flush(struct jl *j)
{
	size_t n = (size_t)(j->p - j->buf);

	/* stdout without its lock, as jsonw.c: only the main thread writes it. */
	if (n && j->f == stdout)
		fwrite_unlocked(j->buf, 1, n, j->f);
	else if (n)
		fwrite(j->buf, 1, n, j->f);
	j->p = j->buf;
}

/* Where n more bytes (n <= JL_BUF) go. */
static inline __attribute__((always_inline)) char *jl_room(struct jl *j, size_t n)
{
	if ((size_t)(j->buf + JL_BUF - j->p) < n)
		jl_flush(j);
	return j->p;
}

/* A string literal, copied. */
#define jl_lit(j, s) ((j)->p = fmt_lit(jl_room((j), sizeof(s) - 1), s))

static inline void jl_u64(struct jl *j, __u64 v)
{
	j->p = fmt_u64(jl_room(j, FMT_U64_MAX), v);
}

static inline void jl_bool(struct jl *j, bool v)
{
	if (v)
		jl_lit(j, "true");
	else
		jl_lit(j, "false");
}

/* s as a JSON string, escaped as jsonw__str escapes it (json_esc); NULL as null. */
static void jl_str(struct jl *j, const char *s)
{
	char *o, *end = j->buf + JL_BUF - 1; /* the closing quote's byte kept */

	if (!s) {
		jl_lit(j, "null");
		return;
	}
	o = jl_room(j, 2);
	*o++ = '"';
	for (;;) {
		/* Plain bytes one by one: most strings here are a few bytes long. */
		while (o < end && (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f &&
		       *s != '"' && *s != '\\')
			*o++ = *s++;
		if (!*s)
			break;
		if (end - o < JSON_ESC_UNIT) {
			j->p = o;
			jl_flush(j);
			o = j->p;
		}
		o = json_esc(o, end, &s);
	}
	*o++ = '"';
	j->p = o;
}

/* An address's text (out_addr_put: digits, dots, colons, hex, or "?"), quoted. */
static void jl_addr(struct jl *j, const struct at_event *e, const __u8 *a)
{
	char *p = jl_room(j, INET6_ADDRSTRLEN + 2);

	*p++ = '"';
	p = out_addr_put(p, e, a);
	*p++ = '"';
	j->p = p;
}

static void jl_session(struct jl *j, const struct at_event *e)
{
	char *p = jl_room(j, 2 * FMT_U64_MAX + 40);

	/* "ssl" is the name OpenSSL events always had; "session" the one every library source
	 * shares. */
	if (e->source == AT_SRC_OPENSSL)
		p = fmt_lit(fmt_hex(fmt_lit(p, ",\"ssl\":\"0x"), e->session), "\"");
	j->p = fmt_lit(fmt_hex(fmt_lit(p, ",\"session\":\"0x"), e->session), "\"");
}

/* Which container (container.c): null outside containers; every key null when the owner or its
 * cgroup is not known. */
static void jl_container(struct jl *j, const struct at_event *e)
{
	const struct ct_entry *ct = e->flags & AT_F_HAS_TASK ? ct_lookup(e->cgroup_id) : NULL;

	if (!ct || !ct->path) {
		jl_lit(j, ",\"cgroup_path\":null,\"container_id\":null,\"container_runtime\":null,"
			  "\"pod_uid\":null,\"pod_qos\":null");
		return;
	}
	jl_lit(j, ",\"cgroup_path\":");
	jl_str(j, ct->path);
	jl_lit(j, ",\"container_id\":");
	jl_str(j, ct->info.id[0] ? ct->info.id : NULL);
	jl_lit(j, ",\"container_runtime\":");
	jl_str(j, ct->info.runtime);
	jl_lit(j, ",\"pod_uid\":");
	jl_str(j, ct->info.pod_uid[0] ? ct->info.pod_uid : NULL);
	jl_lit(j, ",\"pod_qos\":");
	jl_str(j, ct->info.qos);
}

/* Why and where: what the library knew at the alert, null where it did not. */
static void jl_why(struct jl *j, const struct at_event *e)
{
	char sni[AT_SNI_LEN + 1], buf[160];

	if (!(e->xflags & (AT_X_SNI | AT_X_VERIFY | AT_X_REASON))) {
		jl_lit(j, ",\"sni\":null,\"verify_error\":null,\"verify_reason\":null,\"reason\":null");
		return;
	}
	jl_lit(j, ",\"sni\":");
	if (e->xflags & AT_X_SNI) {
		memcpy(sni, e->sni, AT_SNI_LEN);
		sni[AT_SNI_LEN] = 0;
		jl_str(j, sni);
	} else {
		jl_lit(j, "null");
	}
	if (e->xflags & AT_X_VERIFY) {
		jl_lit(j, ",\"verify_error\":");
		j->p = fmt_s64(jl_room(j, FMT_U64_MAX + 1), e->verify_error);
		jl_lit(j, ",\"verify_reason\":");
		/* 128: the buffer jsonw's writer gave it, where a longer text is cut */
		jl_str(j, why_verify_reason(e->verify_error, buf, 128));
	} else {
		jl_lit(j, ",\"verify_error\":null,\"verify_reason\":null");
	}
	jl_lit(j, ",\"reason\":");
	if (e->xflags & AT_X_REASON)
		jl_str(j, why_reason(e->source, e->reason, buf, sizeof(buf)));
	else
		jl_lit(j, "null");
}

void out_json_line(FILE *f, const struct at_event *e, const char *lib, bool enc,
		   const char *alert, const char *ver, __u64 id, __u64 same_as)
{
	struct jl j; /* not zeroed: 2 KiB a line for nothing */

	j.f = f;
	j.p = j.buf;

	jl_lit(&j, "{\"ts\":");
	jl_u64(&j, out_epoch_ns(e->ts_ns));
	jl_lit(&j, ",\"id\":");
	jl_u64(&j, id);
	jl_lit(&j, ",\"same_as\":");
	if (same_as)
		jl_u64(&j, same_as);
	else
		jl_lit(&j, "null");
	jl_lit(&j, ",\"source\":");
	jl_str(&j, out_src_name(e->source));
	if (e->direction == AT_DIR_SENT)
		jl_lit(&j, ",\"direction\":\"sent\"");
	else
		jl_lit(&j, ",\"direction\":\"received\"");
	if (at_source_on_wire(e->source)) {
		jl_lit(&j, ",\"ifname\":");
		jl_str(&j, out_ifname(e->ifindex));
	}
	if (e->flags & AT_F_HAS_ADDR) {
		jl_lit(&j, ",\"saddr\":");
		jl_addr(&j, e, e->saddr);
		jl_lit(&j, ",\"sport\":");
		jl_u64(&j, e->sport);
		jl_lit(&j, ",\"daddr\":");
		jl_addr(&j, e, e->daddr);
		jl_lit(&j, ",\"dport\":");
		jl_u64(&j, e->dport);
	}
	jl_lit(&j, ",\"version\":");
	jl_str(&j, ver);
	if (enc) {
		jl_lit(&j, ",\"level\":null,\"code\":null");
	} else {
		jl_lit(&j, ",\"level\":");
		jl_u64(&j, e->level);
		jl_lit(&j, ",\"code\":");
		jl_u64(&j, e->code);
	}
	jl_lit(&j, ",\"alert\":");
	jl_str(&j, alert);
	jl_lit(&j, ",\"encrypted\":");
	jl_bool(&j, enc);
	if (e->source == AT_SRC_WIRE) {
		jl_lit(&j, ",\"length\":");
		jl_u64(&j, e->length);
	}
	if (e->flags & AT_F_HAS_TASK) {
		char comm[AT_TASK_COMM_LEN + 1];

		memcpy(comm, e->comm, AT_TASK_COMM_LEN);
		comm[AT_TASK_COMM_LEN] = 0;
		jl_lit(&j, ",\"pid\":");
		jl_u64(&j, e->pid);
		jl_lit(&j, ",\"tid\":");
		jl_u64(&j, e->tid);
		jl_lit(&j, ",\"comm\":");
		jl_str(&j, comm);
		jl_lit(&j, ",\"uid\":");
		jl_u64(&j, e->uid);
		jl_lit(&j, ",\"cgroup\":");
		jl_u64(&j, e->cgroup_id);
		if (e->source == AT_SRC_WIRE) {
			jl_lit(&j, ",\"accepted\":");
			jl_bool(&j, e->xflags & AT_X_ACCEPTED);
		}
	} else {
		/* A wire event whose socket owner is not known. */
		jl_lit(&j, ",\"pid\":null,\"tid\":null,\"comm\":null");
	}
	jl_container(&j, e);
	if (!at_source_on_wire(e->source)) {
		jl_session(&j, e);
		jl_lit(&j, ",\"hook\":");
		jl_str(&j, out_hook_name(e->hook));
		jl_lit(&j, ",\"dtls\":");
		jl_bool(&j, e->flags & AT_F_DTLS);
		jl_lit(&j, ",\"lib\":");
		jl_str(&j, lib ? lib : "?");
		/* Go's probe sits at the call, before the write: not known there. */
		if (e->direction == AT_DIR_SENT && e->source != AT_SRC_GO) {
			jl_lit(&j, ",\"written\":");
			if (e->flags & AT_F_CUT) /* the thread ended inside the write */
				jl_lit(&j, "null");
			else
				jl_bool(&j, e->flags & AT_F_WRITTEN);
		}
	}
	jl_why(&j, e);
	jl_lit(&j, "}\n");
	jl_flush(&j);
}
