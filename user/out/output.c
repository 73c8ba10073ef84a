// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "alerts.h"
#include "container.h"
#include "fmtbuf.h"
#include "jsonw.h"
#include "sources.h"
#include "strutil.h"
#include "output.h"
#include "why.h"

/* Text columns of the why and the where, cut with a '~' unless -w. */
#define SNI_COL 16
#define WHY_COL 20

static struct out_opts opts;
static __s64 mono_to_real_ns;

void out_init(const struct out_opts *o)
{
	struct timespec r, m;

	opts = *o;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	mono_to_real_ns = ((__s64)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

__u64 out_epoch_ns(__u64 mono_ns)
{
	return mono_ns + mono_to_real_ns;
}

const char *out_version_name(__u16 v, bool dtls, char *buf, size_t n)
{
	/* not negotiated yet (a Go Conn before the ServerHello), or not known (the ERR fallback) */
	if (v == 0)
		snprintf(buf, n, "unknown");
	else if (v == 0x0300)
		snprintf(buf, n, "SSL3.0");
	else if (v >= 0x0301 && v <= 0x0304)
		snprintf(buf, n, "TLS1.%d", v - 0x0301);
	else if (v == 0xfeff || v == 0x0100)
		snprintf(buf, n, "DTLS1.0");
	else if (v == 0xfefd || v == 0xfefc)
		snprintf(buf, n, "DTLS1.%d", v == 0xfefd ? 2 : 3);
	else if (dtls)
		snprintf(buf, n, "DTLS(0x%04x)", v);
	else
		snprintf(buf, n, "0x%04x", v);
	return buf;
}

/* A few interfaces at most: cache the names, read once. */
const char *out_ifname(__u32 ifindex)
{
	static struct {
		__u32 idx;
		char name[IF_NAMESIZE];
	} cache[32];
	static int n;
	int i;

	for (i = 0; i < n; i++)
		if (cache[i].idx == ifindex)
			return cache[i].name;
	i = n < 32 ? n++ : 31;
	cache[i].idx = ifindex;
	if (!if_indextoname(ifindex, cache[i].name))
		snprintf(cache[i].name, sizeof(cache[i].name), "if%u", ifindex);
	return cache[i].name;
}

/* What inet_ntop writes for an address (IPv4: "%u.%u.%u.%u"), remembered in a small table: a
 * stream of one connection's events formats its addresses once. */
static const char *addr_text(const struct at_event *e, const __u8 *a, char *buf, size_t n)
{
	static struct {
		__u8 a[16];
		bool used, v6;
		char s[INET6_ADDRSTRLEN];
	} cache[16];
	bool v6 = e->ip_version == 6;
	size_t len = v6 ? 16 : 4;
	unsigned int h = v6;
	size_t i;

	for (i = 0; i < len; i++)
		h = h * 31 + a[i];
	h %= 16;
	/* Into buf, not a pointer into the table: the caller may hold two addresses at once. */
	if (cache[h].used && cache[h].v6 == v6 && !memcmp(cache[h].a, a, len))
		return memcpy(buf, cache[h].s, strlen(cache[h].s) + 1);
	if (!v6)
		*fmt_ipv4(buf, a) = 0;
	else if (!inet_ntop(AF_INET6, a, buf, n))
		return strcpy(buf, "?");
	memcpy(cache[h].a, a, len);
	cache[h].v6 = v6;
	snprintf(cache[h].s, sizeof(cache[h].s), "%s", buf);
	cache[h].used = true;
	return buf;
}

static const char *addr_str(const struct at_event *e, const __u8 *a, char *buf, size_t n)
{
	if (!(e->flags & AT_F_HAS_ADDR)) {
		snprintf(buf, n, "-");
		return buf;
	}
	return addr_text(e, a, buf, n);
}

/* at_source_name of a source byte, each made once. */
static const char *src_name(__u8 source)
{
	static char names[256][AT_SOURCE_NAME_MAX];

	if (!names[source][0])
		at_source_name(source, names[source], sizeof(names[source]));
	return names[source];
}

/* The names an alert code prints as, each made once: JSON's at_alert_name, text's with the code
 * for a known alert ("unknown_ca(48)"). */
struct alert_names {
	char json[48];
	char text[64];
};

static const struct alert_names *alert_names(__u8 code)
{
	static struct alert_names names[256];
	struct alert_names *a = &names[code];

	if (!a->json[0]) {
		char name[sizeof(a->json)];

		at_alert_name(code, name, sizeof(name));
		if (at_alert_by_code(code))
			snprintf(a->text, sizeof(a->text), "%s(%u)", name, code);
		else
			snprintf(a->text, sizeof(a->text), "%s", name);
		memcpy(a->json, name, sizeof(name));
	}
	return a;
}

/* out_version_name of the last version seen: one connection's events share it. */
static const char *version_name(__u16 v, bool dtls)
{
	static __u32 key = ~0u;
	static char name[24];

	if (key != ((__u32)dtls << 16 | v)) {
		out_version_name(v, dtls, name, sizeof(name));
		key = (__u32)dtls << 16 | v;
	}
	return name;
}

static const char *hook_name(__u8 h)
{
	switch (h) {
	case AT_HOOK_DISPATCH:
		return "dispatch";
	case AT_HOOK_READ:
		return "read";
	case AT_HOOK_ERR:
		return "err-fallback";
	case AT_HOOK_ALERT_SEND:
		return "alert_send";
	case AT_HOOK_RECORD:
		return "record";
	case AT_HOOK_SEND_ALERT:
		return "send_alert";
	case AT_HOOK_READ_RECORD:
		return "read_record";
	}
	return "none";
}

void out_header(FILE *f)
{
	if (opts.json)
		return;
	if (opts.timestamps)
		fprintf(f, "%-8s ", "TIME");
	fprintf(f, "%-5s %-7s %-4s %-7s %-28s %-7s %-15s %-*s %-*s %s\n", "ID", "SOURCE", "DIR",
		"LEVEL", "ALERT", "PID", "COMM", SNI_COL, "SNI", WHY_COL, "WHY", "WHERE");
	fflush(f);
}

static void print_json(FILE *f, const struct at_event *e, const char *lib, bool enc,
		       const char *alert, const char *ver, __u64 id, __u64 same_as)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], session[24];
	const struct ct_entry *ct;
	struct jsonw w;

	jsonw_init(&w, f);
	jsonw_start_object(&w);
	jsonw_uint_field(&w, "ts", out_epoch_ns(e->ts_ns));
	jsonw_uint_field(&w, "id", id);
	if (same_as)
		jsonw_uint_field(&w, "same_as", same_as);
	else
		jsonw_null_field(&w, "same_as");
	jsonw_string_field(&w, "source", src_name(e->source));
	jsonw_string_field(&w, "direction", e->direction == AT_DIR_SENT ? "sent" : "received");
	if (at_source_on_wire(e->source))
		jsonw_string_field(&w, "ifname", out_ifname(e->ifindex));
	if (e->flags & AT_F_HAS_ADDR) {
		jsonw_string_field(&w, "saddr", addr_str(e, e->saddr, s, sizeof(s)));
		jsonw_uint_field(&w, "sport", e->sport);
		jsonw_string_field(&w, "daddr", addr_str(e, e->daddr, d, sizeof(d)));
		jsonw_uint_field(&w, "dport", e->dport);
	}
	jsonw_string_field(&w, "version", ver);
	if (enc) {
		jsonw_null_field(&w, "level");
		jsonw_null_field(&w, "code");
	} else {
		jsonw_uint_field(&w, "level", e->level);
		jsonw_uint_field(&w, "code", e->code);
	}
	jsonw_string_field(&w, "alert", alert);
	jsonw_bool_field(&w, "encrypted", enc);
	if (e->source == AT_SRC_WIRE)
		jsonw_uint_field(&w, "length", e->length);
	if (e->flags & AT_F_HAS_TASK) {
		char comm[AT_TASK_COMM_LEN + 1] = {};

		memcpy(comm, e->comm, AT_TASK_COMM_LEN);
		jsonw_uint_field(&w, "pid", e->pid);
		jsonw_uint_field(&w, "tid", e->tid);
		jsonw_string_field(&w, "comm", comm);
		jsonw_uint_field(&w, "uid", e->uid);
		jsonw_uint_field(&w, "cgroup", e->cgroup_id);
		if (e->source == AT_SRC_WIRE)
			jsonw_bool_field(&w, "accepted", e->xflags & AT_X_ACCEPTED);
	} else {
		/* A wire event whose socket owner is not known. */
		jsonw_null_field(&w, "pid");
		jsonw_null_field(&w, "tid");
		jsonw_null_field(&w, "comm");
	}
	/* Which container (container.c): null outside containers; every key null when the owner
	 * or its cgroup is not known. */
	ct = e->flags & AT_F_HAS_TASK ? ct_lookup(e->cgroup_id) : NULL;
	if (ct && !ct->path)
		ct = NULL;
	jsonw_string_field(&w, "cgroup_path", ct ? ct->path : NULL);
	jsonw_string_field(&w, "container_id", ct && ct->info.id[0] ? ct->info.id : NULL);
	jsonw_string_field(&w, "container_runtime", ct ? ct->info.runtime : NULL);
	jsonw_string_field(&w, "pod_uid", ct && ct->info.pod_uid[0] ? ct->info.pod_uid : NULL);
	jsonw_string_field(&w, "pod_qos", ct ? ct->info.qos : NULL);
	if (!at_source_on_wire(e->source)) {
		/* "ssl" is the name OpenSSL events always had; "session" the one every library
		 * source shares. */
		memcpy(session, "0x", 2);
		*fmt_hex(session + 2, e->session) = 0;
		if (e->source == AT_SRC_OPENSSL)
			jsonw_string_field(&w, "ssl", session);
		jsonw_string_field(&w, "session", session);
		jsonw_string_field(&w, "hook", hook_name(e->hook));
		jsonw_bool_field(&w, "dtls", e->flags & AT_F_DTLS);
		jsonw_string_field(&w, "lib", lib ? lib : "?");
		if (e->direction == AT_DIR_SENT)
			/* Go's probe sits at the call, before the write: not known there. */
			if (e->source != AT_SRC_GO)
				jsonw_bool_field(&w, "written", e->flags & AT_F_WRITTEN);
	}
	/* Why and where: what the library knew at the alert, null where it did not. */
	{
		char sni[AT_SNI_LEN + 1] = {}, vr[128], rs[160];

		memcpy(sni, e->sni, AT_SNI_LEN);
		if (e->xflags & AT_X_SNI)
			jsonw_string_field(&w, "sni", sni);
		else
			jsonw_null_field(&w, "sni");
		if (e->xflags & AT_X_VERIFY) {
			jsonw_int_field(&w, "verify_error", e->verify_error);
			jsonw_string_field(&w, "verify_reason",
					   why_verify_reason(e->verify_error, vr, sizeof(vr)));
		} else {
			jsonw_null_field(&w, "verify_error");
			jsonw_null_field(&w, "verify_reason");
		}
		if (e->xflags & AT_X_REASON)
			jsonw_string_field(&w, "reason", why_reason(e->source, e->reason, rs, sizeof(rs)));
		else
			jsonw_null_field(&w, "reason");
	}
	jsonw_end_object(&w);
}

/* s for a text column of width w: control bytes escaped, cut to w with a '~' (unless -w);
 * cut: the source already cut it. */
static const char *col_text(const char *s, int w, bool cut, char *buf, size_t n)
{
	size_t l;

	text_safe(s, buf, n);
	l = strlen(buf);
	if (!opts.wide && (int)l > w) {
		text_safe(s, buf, (size_t)w < n ? (size_t)w : n);
		cut = true;
	}
	l = strlen(buf);
	if (cut && l + 1 < n) {
		buf[l] = '~';
		buf[l + 1] = 0;
	}
	return buf;
}

static void print_text(FILE *f, const struct at_event *e, const char *lib, const char *alert,
		       const char *level, __u64 id, __u64 same_as)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], where[320], pid[16], comm[64], conn[120];
	char cbuf[AT_TASK_COMM_LEN + 1] = {}, src[AT_SOURCE_NAME_MAX];
	char sraw[AT_SNI_LEN + 1] = {}, sni[4 * AT_SNI_LEN + 2], wraw[160], why[200];

	if (opts.timestamps) {
		time_t t = out_epoch_ns(e->ts_ns) / 1000000000ULL;
		struct tm tm;
		char ts[16];

		localtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		fprintf(f, "%-8s ", ts);
	}
	if (e->flags & AT_F_HAS_TASK) {
		memcpy(cbuf, e->comm, AT_TASK_COMM_LEN);
		snprintf(pid, sizeof(pid), "%u", e->pid);
		text_safe(cbuf, comm, sizeof(comm));
	} else {
		snprintf(pid, sizeof(pid), "-");
		snprintf(comm, sizeof(comm), "[no owner]");
	}
	conn[0] = 0;
	if (e->flags & AT_F_HAS_ADDR) {
		const char *v6l = e->ip_version == 6 ? "[" : "", *v6r = e->ip_version == 6 ? "]" : "";

		/* A library event that matched no wire event knows no interface. */
		snprintf(conn, sizeof(conn), "%s%s%s%s%s:%u > %s%s%s:%u",
			 e->ifindex ? out_ifname(e->ifindex) : "", e->ifindex ? " " : "", v6l,
			 addr_str(e, e->saddr, s, sizeof(s)), v6r, e->sport, v6l,
			 addr_str(e, e->daddr, d, sizeof(d)), v6r, e->dport);
	}
	if (at_source_on_wire(e->source)) {
		snprintf(where, sizeof(where), "%s", conn);
	} else {
		const char *base = lib ? strrchr(lib, '/') : NULL;
		char session[40], name[120];
		/* Go's probe sits before the write: whether it was written is not known there. */
		bool unwritten = e->direction == AT_DIR_SENT && !(e->flags & AT_F_WRITTEN) &&
				 e->source != AT_SRC_GO;

		/* The file name as text_safe() shows it: a path (a --lib argument, a file in a
		 * binary directory) may hold control bytes, which must not forge output. */
		text_safe(base ? base + 1 : lib ? lib : "?", name, sizeof(name));

		/* Without the connection's ends, the session pointer pairs the events of a
		 * connection; OpenSSL's keeps the name it always had. */
		snprintf(session, sizeof(session), "%s=0x%llx",
			 e->source == AT_SRC_OPENSSL ? "ssl" : "session",
			 (unsigned long long)e->session);
		snprintf(where, sizeof(where), "%s%s %s", name, unwritten ? " (not written)" : "",
			 conn[0] ? conn : session);
	}
	if (same_as) {
		size_t l = strlen(where);

		snprintf(where + l, sizeof(where) - l, " (=#%llu)", (unsigned long long)same_as);
	}
	memcpy(sraw, e->sni, AT_SNI_LEN);
	if (e->xflags & AT_X_SNI)
		col_text(sraw, SNI_COL, e->xflags & AT_X_SNI_CUT, sni, sizeof(sni));
	else
		snprintf(sni, sizeof(sni), "-");
	col_text(why_text(e, !opts.wide, wraw, sizeof(wraw)), WHY_COL, false, why, sizeof(why));
	fprintf(f, "%-5llu %-7s %-4s %-7s %-28s %-7s %-15s %-*s %-*s %s\n", (unsigned long long)id,
		at_source_name(e->source, src, sizeof(src)),
		e->direction == AT_DIR_SENT ? "sent" : "recv", level, alert, pid, comm, SNI_COL, sni,
		WHY_COL, why, where);
}

void out_event(FILE *f, const struct at_event *e, const char *lib, __u64 id, __u64 same_as)
{
	bool enc = e->flags & AT_F_ENCRYPTED;
	char alert[64], level[16];
	const char *a, *l;

	if (enc) {
		if (opts.json) {
			a = "encrypted";
		} else {
			memcpy(alert, "encrypted(len=", 14);
			memcpy(fmt_u64(alert + 14, e->length), ")", 2);
			a = alert;
		}
		l = "-";
	} else {
		a = opts.json ? alert_names(e->code)->json : alert_names(e->code)->text;
		l = e->level == AT_LEVEL_WARNING ? "warning"
		    : e->level == AT_LEVEL_FATAL ? "fatal"
						 : at_level_name(e->level, level, sizeof(level));
	}
	if (opts.json)
		print_json(f, e, lib, enc, a, version_name(e->version, e->flags & AT_F_DTLS), id,
			   same_as);
	else
		print_text(f, e, lib, a, l, id, same_as);
}
