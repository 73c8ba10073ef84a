// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "alerts.h"
#include "fmtbuf.h"
#include "jsonline.h"
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

/* What inet_ntop writes for an address (IPv4: "%u.%u.%u.%u"), at p, remembered in a small table:
 * a stream of one connection's events formats its addresses once. Returns the end. An IPv4
 * address is one word: its slot by a multiplicative hash, its text copied 16 bytes at once (p
 * has room for INET6_ADDRSTRLEN bytes: every caller's buffer does). */
char *out_addr_put(char *p, const struct at_event *e, const __u8 *a)
{
	static struct {
		__u32 v;
		bool used;
		unsigned char len;
		char s[16];
	} cache4[16];
	static struct {
		__u8 a[16];
		bool used;
		unsigned char len;
		char s[INET6_ADDRSTRLEN];
	} cache6[16];
	char s[INET6_ADDRSTRLEN];
	unsigned int h = 0;
	size_t i, n;

	if (e->ip_version != 6) {
		__u32 v;

		memcpy(&v, a, 4);
		h = (v * 2654435761u) >> 28;
		if (!cache4[h].used || cache4[h].v != v) {
			cache4[h].len = (unsigned char)(fmt_ipv4(cache4[h].s, a) - cache4[h].s);
			cache4[h].v = v;
			cache4[h].used = true;
		}
		memcpy(p, cache4[h].s, sizeof(cache4[h].s));
		return p + cache4[h].len;
	}
	for (i = 0; i < 16; i++)
		h = h * 31 + a[i];
	h %= 16;
	if (cache6[h].used && !memcmp(cache6[h].a, a, 16))
		return (char *)memcpy(p, cache6[h].s, cache6[h].len) + cache6[h].len;
	if (!inet_ntop(AF_INET6, a, s, sizeof(s)))
		return fmt_lit(p, "?");
	n = strlen(s);
	memcpy(cache6[h].a, a, 16);
	memcpy(cache6[h].s, s, n);
	cache6[h].len = (unsigned char)n;
	cache6[h].used = true;
	return (char *)memcpy(p, s, n) + n;
}

/* at_source_name of a source byte, each made once. */
const char *out_src_name(__u8 source)
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

const char *out_hook_name(__u8 h)
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

/*
 * The text row, formatted by hand into one buffer and written with one fwrite: the bytes of
 *   [%-8s ]%-5llu %-7s %-4s %-7s %-28s %-7s %-15s %-16s %-20s %s\n
 * (TIME ID SOURCE DIR LEVEL ALERT PID COMM SNI WHY WHERE; a field longer than its column pads
 * nothing and is never cut, as printf's), at a fraction of vfprintf's cost
 * (bench/bench_pipeline.sh). tests/test_textrow.c compares it byte for byte with the fprintf it
 * replaced. The buffers text_safe writes into keep the sizes they had there: they are where it
 * cuts a long field (comm 64, SNI 258, why 200, library name 120 bytes).
 */
#define COMM_BUF 64
#define SNI_BUF (4 * AT_SNI_LEN + 2)
#define WHY_RAW 160
#define WHY_BUF 200
#define LIB_BUF 120
/* The longest row: 9 + 21 + 9 + 5 + 11 + 64 (alert) + 11 + COMM_BUF + SNI_BUF + WHY_BUF + the
 * where (LIB_BUF + 14 + 1 + 113 + 25) + 1 = 926 bytes. */
#define ROW_BUF 1024
/* A connection's text: IF_NAMESIZE + 2 x (INET6_ADDRSTRLEN + 2 + 6) + 3 = 127 bytes at most. */
#define CONN_BUF 128

/* Spaces from p until width bytes follow start, then the column's separating space. */
static inline char *col_end(char *p, const char *start, size_t width)
{
	size_t n = (size_t)(p - start);

	if (n < width) {
		memset(p, ' ', width - n);
		p += width - n;
	}
	*p++ = ' ';
	return p;
}

/* s, a string, in a column of width w. */
static inline char *col_str(char *p, const char *s, size_t w)
{
	size_t n = strlen(s);

	return col_end((char *)memcpy(p, s, n) + n, p, w);
}

/* s for a text column at p: control bytes escaped (text_safe into n bytes), cut to w with a '~'
 * unless -w; cut: the source already cut it. Returns the end. */
static char *col_safe(char *p, const char *s, size_t w, bool cut, size_t n)
{
	size_t l = strlen(text_safe(s, p, n));

	if (!opts.wide && l > w) {
		l = strlen(text_safe(s, p, w < n ? w : n));
		cut = true;
	}
	if (cut && l + 1 < n)
		p[l++] = '~';
	return p + l;
}

/* "HH:MM:SS" of the local time at ts_ns (strftime of localtime_r), made once a second: each
 * second since the epoch has one local time, summer time or not. */
static char *time_put(char *p, __u64 ts_ns)
{
	static time_t last;
	static bool valid;
	static char ts[16];
	static size_t len;
	time_t t = out_epoch_ns(ts_ns) / 1000000000ULL;

	if (!valid || t != last) {
		struct tm tm;

		localtime_r(&t, &tm);
		len = strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		last = t;
		valid = true;
	}
	return fmt_pad(p, ts, len, 0);
}

/* conn_put's text, made afresh. */
static char *conn_format(char *p, const struct at_event *e, bool v6)
{
	if (e->ifindex) {
		const char *ifname = out_ifname(e->ifindex);
		size_t n = strlen(ifname);

		p = (char *)memcpy(p, ifname, n) + n;
		*p++ = ' ';
	}
	if (v6)
		*p++ = '[';
	p = out_addr_put(p, e, e->saddr);
	if (v6)
		*p++ = ']';
	*p++ = ':';
	p = fmt_lit(fmt_u64(p, e->sport), " > ");
	if (v6)
		*p++ = '[';
	p = out_addr_put(p, e, e->daddr);
	if (v6)
		*p++ = ']';
	*p++ = ':';
	return fmt_u64(p, e->dport);
}

/* "ifname [saddr]:sport > [daddr]:dport": the interface only when known (a library event that
 * matched no wire event knows none), brackets around IPv6 addresses. */
static char *conn_put(char *p, const struct at_event *e)
{
	/* The last connection's text: on lo each alert is two events of one connection (egress,
	 * ingress), and a connection's events come one after the other. */
	static struct {
		bool valid;
		__u8 ip_version;
		__u16 sport, dport;
		__u32 ifindex;
		__u8 saddr[16], daddr[16];
		unsigned char len;
		char s[CONN_BUF];
	} last;
	bool v6 = e->ip_version == 6;
	char *start = p;

	if (last.valid && last.ifindex == e->ifindex && last.ip_version == e->ip_version &&
	    last.sport == e->sport && last.dport == e->dport &&
	    !memcmp(last.saddr, e->saddr, 16) && !memcmp(last.daddr, e->daddr, 16))
		return (char *)memcpy(p, last.s, last.len) + last.len;
	p = conn_format(p, e, v6);
	if ((size_t)(p - start) <= sizeof(last.s)) {
		last.valid = true;
		last.ip_version = e->ip_version;
		last.sport = e->sport;
		last.dport = e->dport;
		last.ifindex = e->ifindex;
		memcpy(last.saddr, e->saddr, 16);
		memcpy(last.daddr, e->daddr, 16);
		last.len = (unsigned char)(p - start);
		memcpy(last.s, start, last.len);
	}
	return p;
}

/* The WHERE column: the connection; for a library event first its file name and, without the
 * connection's ends, the session pointer that pairs its events. */
static char *where_put(char *p, const struct at_event *e, const char *lib)
{
	const char *base;

	if (at_source_on_wire(e->source))
		return e->flags & AT_F_HAS_ADDR ? conn_put(p, e) : p;
	/* The file name as text_safe() shows it: a path (a --lib argument, a file in a binary
	 * directory) may hold control bytes, which must not forge output. */
	base = lib ? strrchr(lib, '/') : NULL;
	p += strlen(text_safe(base ? base + 1 : lib ? lib : "?", p, LIB_BUF));
	/* Go's probe sits before the write: whether it was written is not known there. */
	if (e->direction == AT_DIR_SENT && e->source != AT_SRC_GO) {
		if (e->flags & AT_F_CUT)
			p = fmt_lit(p, " (ended in the write)");
		else if (!(e->flags & AT_F_WRITTEN))
			p = fmt_lit(p, " (not written)");
	}
	*p++ = ' ';
	if (e->flags & AT_F_HAS_ADDR)
		return conn_put(p, e);
	/* OpenSSL's keeps the name it always had. */
	p = e->source == AT_SRC_OPENSSL ? fmt_lit(p, "ssl=0x") : fmt_lit(p, "session=0x");
	return fmt_hex(p, e->session);
}

/* The COMM column's text (text_safe into COMM_BUF bytes) at p, the last one kept: a process's
 * events come one after the other. Returns the end. */
static char *comm_put(char *p, const char *comm16)
{
	static char last[AT_TASK_COMM_LEN], text[COMM_BUF];
	static size_t len;
	static bool valid;
	char comm[AT_TASK_COMM_LEN + 1] = {};

	if (!valid || memcmp(last, comm16, AT_TASK_COMM_LEN)) {
		memcpy(comm, comm16, AT_TASK_COMM_LEN);
		len = strlen(text_safe(comm, text, COMM_BUF));
		memcpy(last, comm16, AT_TASK_COMM_LEN);
		valid = true;
	}
	return (char *)memcpy(p, text, len) + len;
}

static void print_text(FILE *f, const struct at_event *e, const char *lib, const char *alert,
		       const char *level, __u64 id, __u64 same_as)
{
	char row[ROW_BUF], *p = row, *c;

	if (opts.timestamps)
		p = col_end(time_put(p, e->ts_ns), p, 8);
	p = col_end(fmt_u64(p, id), p, 5);
	p = col_str(p, out_src_name(e->source), 7);
	p = col_str(p, e->direction == AT_DIR_SENT ? "sent" : "recv", 4);
	p = col_str(p, level, 7);
	p = col_str(p, alert, 28);
	if (e->flags & AT_F_HAS_TASK) {
		p = col_end(fmt_u64(p, e->pid), p, 7);
		c = comm_put(p, e->comm);
		p = col_end(c, p, 15);
	} else {
		p = col_str(p, "-", 7);
		p = col_str(p, "[no owner]", 15);
	}
	if (e->xflags & AT_X_SNI) {
		char sni[AT_SNI_LEN + 1] = {};

		memcpy(sni, e->sni, AT_SNI_LEN);
		c = col_safe(p, sni, SNI_COL, e->xflags & AT_X_SNI_CUT, SNI_BUF);
		p = col_end(c, p, SNI_COL);
	} else {
		p = col_str(p, "-", SNI_COL);
	}
	if (e->xflags & (AT_X_VERIFY | AT_X_REASON)) {
		char why[WHY_RAW];

		why_text(e, !opts.wide, why, sizeof(why));
		c = col_safe(p, why, WHY_COL, false, WHY_BUF);
		p = col_end(c, p, WHY_COL);
	} else {
		p = col_str(p, "-", WHY_COL); /* what why_text writes then, without its call */
	}
	p = where_put(p, e, lib);
	if (same_as)
		p = fmt_lit(fmt_u64(fmt_lit(p, " (=#"), same_as), ")");
	*p++ = '\n';
	if (f == stdout) /* as jsonw.c: only the main thread writes stdout */
		fwrite_unlocked(row, 1, (size_t)(p - row), f);
	else
		fwrite(row, 1, (size_t)(p - row), f);
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
		out_json_line(f, e, lib, enc, a, version_name(e->version, e->flags & AT_F_DTLS), id,
			   same_as);
	else
		print_text(f, e, lib, a, l, id, same_as);
}
