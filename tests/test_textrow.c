// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The text row (out_event without -j, user/out/output.c) against the fprintf-based formatter it
 * replaced, kept here as the reference: the same bytes for a few hundred thousand events, random
 * and chosen at the edges (random bytes in comm, SNI and library paths: control bytes, C1, valid
 * and invalid UTF-8, backslashes; every flag and xflag combination; every source byte; no owner;
 * IPv4, IPv6, the interface known or not; ids, same_as, pids and sessions up to their maximum;
 * -w and -T on and off, a fixed TZ with summer time). The reference names things the plain way
 * (inet_ntop, if_indextoname, at_source_name, at_alert_name, at_level_name each time), so the
 * product's caches are judged too. Any difference is a FAIL that prints the event and both rows.
 * TEXTROW_EVENTS and TEXTROW_SEED change the count (default 300000) and the seed.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>

#include "testlib.h"
#include "alerttrace.h"
#include "alerts.h"
#include "output.h"
#include "sources.h"
#include "strutil.h"
#include "why.h"
#include "eventgen.h"

/* ---- The reference: print_text and its helpers as they were before the hand-made row. ---- */

#define SNI_COL 16
#define WHY_COL 20

static struct out_opts ref_opts;

static const char *ref_addr_str(const struct at_event *e, const __u8 *a, char *buf, size_t n)
{
	if (!(e->flags & AT_F_HAS_ADDR)) {
		snprintf(buf, n, "-");
		return buf;
	}
	if (!inet_ntop(e->ip_version == 6 ? AF_INET6 : AF_INET, a, buf, n))
		return strcpy(buf, "?");
	return buf;
}

static const char *ref_ifname(__u32 ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%u", ifindex);
	return buf;
}

static const char *ref_col_text(const char *s, int w, bool cut, char *buf, size_t n)
{
	size_t l;

	text_safe(s, buf, n);
	l = strlen(buf);
	if (!ref_opts.wide && (int)l > w) {
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

static void ref_print_text(FILE *f, const struct at_event *e, const char *lib, const char *alert,
			   const char *level, __u64 id, __u64 same_as)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], where[320], pid[16], comm[64], conn[120];
	char cbuf[AT_TASK_COMM_LEN + 1] = {}, src[AT_SOURCE_NAME_MAX], ifn[IF_NAMESIZE];
	char sraw[AT_SNI_LEN + 1] = {}, sni[4 * AT_SNI_LEN + 2], wraw[160], why[200];

	if (ref_opts.timestamps) {
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
		const char *v6l = e->ip_version == 6 ? "[" : "",
			   *v6r = e->ip_version == 6 ? "]" : "";

		snprintf(conn, sizeof(conn), "%s%s%s%s%s:%u > %s%s%s:%u",
			 e->ifindex ? ref_ifname(e->ifindex, ifn) : "", e->ifindex ? " " : "", v6l,
			 ref_addr_str(e, e->saddr, s, sizeof(s)), v6r, e->sport, v6l,
			 ref_addr_str(e, e->daddr, d, sizeof(d)), v6r, e->dport);
	}
	if (at_source_on_wire(e->source)) {
		snprintf(where, sizeof(where), "%s", conn);
	} else {
		const char *base = lib ? strrchr(lib, '/') : NULL;
		char session[40], name[120];
		bool sent_lib = e->direction == AT_DIR_SENT && e->source != AT_SRC_GO;

		text_safe(base ? base + 1 : lib ? lib : "?", name, sizeof(name));
		snprintf(session, sizeof(session), "%s=0x%llx",
			 e->source == AT_SRC_OPENSSL ? "ssl" : "session",
			 (unsigned long long)e->session);
		const char *note = !sent_lib		   ? ""
				   : (e->flags & AT_F_CUT)	   ? " (ended in the write)"
				   : !(e->flags & AT_F_WRITTEN) ? " (not written)"
								: "";

		snprintf(where, sizeof(where), "%s%s %s", name, note, conn[0] ? conn : session);
	}
	if (same_as) {
		size_t l = strlen(where);

		snprintf(where + l, sizeof(where) - l, " (=#%llu)", (unsigned long long)same_as);
	}
	memcpy(sraw, e->sni, AT_SNI_LEN);
	if (e->xflags & AT_X_SNI)
		ref_col_text(sraw, SNI_COL, e->xflags & AT_X_SNI_CUT, sni, sizeof(sni));
	else
		snprintf(sni, sizeof(sni), "-");
	ref_col_text(why_text(e, !ref_opts.wide, wraw, sizeof(wraw)), WHY_COL, false, why,
		     sizeof(why));
	fprintf(f, "%-5llu %-7s %-4s %-7s %-28s %-7s %-15s %-*s %-*s %s\n", (unsigned long long)id,
		at_source_name(e->source, src, sizeof(src)),
		e->direction == AT_DIR_SENT ? "sent" : "recv", level, alert, pid, comm, SNI_COL,
		sni, WHY_COL, why, where);
}

/* out_event's text half: the alert and level names. */
static void ref_out_event(FILE *f, const struct at_event *e, const char *lib, __u64 id,
			  __u64 same_as)
{
	char alert[64], name[48], level[16];
	const char *l;

	if (e->flags & AT_F_ENCRYPTED) {
		snprintf(alert, sizeof(alert), "encrypted(len=%u)", e->length);
		l = "-";
	} else {
		at_alert_name(e->code, name, sizeof(name));
		if (at_alert_by_code(e->code))
			snprintf(alert, sizeof(alert), "%s(%u)", name, e->code);
		else
			snprintf(alert, sizeof(alert), "%s", name);
		l = e->level == AT_LEVEL_WARNING ? "warning"
		    : e->level == AT_LEVEL_FATAL ? "fatal"
						 : at_level_name(e->level, level, sizeof(level));
	}
	ref_print_text(f, e, lib, alert, l, id, same_as);
}

/* ---- The events: eventgen.h. ---- */

/* ---- What the events covered, so that the comparison cannot pass by missing the edges. ---- */

enum {
	C_TIME,
	C_WIDE,
	C_NO_TASK,
	C_CTRL_COMM,
	C_V6,
	C_IFINDEX,
	C_LIB_NULL,
	C_LIB_ADDR,
	C_LIB_NO_ADDR,
	C_NOT_WRITTEN,
	C_SAME_AS,
	C_SNI_CUT_BY_COL,
	C_SNI_CUT_BY_SRC,
	C_ENCRYPTED,
	C_UNKNOWN_ALERT,
	C_ODD_LEVEL,
	C_ODD_SOURCE,
	C_WHY,
	C_LONG_FIELD,
	C_MAX_ID,
	C_N
};
static const char *const cover_name[C_N] = {
    "-T",
    "-w",
    "no owner",
    "comm with control bytes",
    "IPv6",
    "interface known",
    "library path NULL",
    "library event with addresses",
    "library event without addresses",
    "(not written)",
    "same_as",
    "SNI cut to its column",
    "SNI cut by the source",
    "encrypted",
    "unknown alert code",
    "level neither warning nor fatal",
    "unnamed source",
    "a why",
    "a field longer than its column",
    "id 2^64-1",
};
static unsigned long cover[C_N];

static void count(const struct at_event *e, const char *lib, __u64 id, __u64 same_as,
		  const struct out_opts *o)
{
	bool lib_src = !at_source_on_wire(e->source);

	cover[C_TIME] += o->timestamps;
	cover[C_WIDE] += o->wide;
	cover[C_NO_TASK] += !(e->flags & AT_F_HAS_TASK);
	if (e->flags & AT_F_HAS_TASK)
		for (int i = 0; i < AT_TASK_COMM_LEN && e->comm[i]; i++)
			if ((unsigned char)e->comm[i] < 0x20) {
				cover[C_CTRL_COMM]++;
				break;
			}
	cover[C_V6] += (e->flags & AT_F_HAS_ADDR) && e->ip_version == 6;
	cover[C_IFINDEX] += (e->flags & AT_F_HAS_ADDR) && e->ifindex;
	cover[C_LIB_NULL] += lib_src && !lib;
	cover[C_LIB_ADDR] += lib_src && (e->flags & AT_F_HAS_ADDR);
	cover[C_LIB_NO_ADDR] += lib_src && !(e->flags & AT_F_HAS_ADDR);
	cover[C_NOT_WRITTEN] += lib_src && e->direction == AT_DIR_SENT &&
				!(e->flags & AT_F_WRITTEN) && e->source != AT_SRC_GO;
	cover[C_SAME_AS] += same_as != 0;
	cover[C_SNI_CUT_BY_COL] +=
	    (e->xflags & AT_X_SNI) && !o->wide && strnlen(e->sni, AT_SNI_LEN) > SNI_COL;
	cover[C_SNI_CUT_BY_SRC] += (e->xflags & AT_X_SNI) && (e->xflags & AT_X_SNI_CUT);
	cover[C_ENCRYPTED] += !!(e->flags & AT_F_ENCRYPTED);
	cover[C_UNKNOWN_ALERT] += !(e->flags & AT_F_ENCRYPTED) && !at_alert_by_code(e->code);
	cover[C_ODD_LEVEL] += !(e->flags & AT_F_ENCRYPTED) && e->level != AT_LEVEL_WARNING &&
			      e->level != AT_LEVEL_FATAL;
	cover[C_ODD_SOURCE] += e->source < AT_SRC_WIRE || e->source > AT_SRC_QUIC;
	cover[C_WHY] += !!(e->xflags & (AT_X_VERIFY | AT_X_REASON));
	cover[C_LONG_FIELD] += id >= 100000 || e->pid >= 10000000;
	cover[C_MAX_ID] += id == UINT64_MAX || same_as == UINT64_MAX;
}

/* ---- The comparison. ---- */

static void dump_event(const struct at_event *e, const char *lib, __u64 id, __u64 same_as,
		       const struct out_opts *o)
{
	const unsigned char *b = (const unsigned char *)e;

	printf("   event: id=%llu same_as=%llu wide=%d timestamps=%d lib=", (unsigned long long)id,
	       (unsigned long long)same_as, o->wide, o->timestamps);
	if (lib) {
		putchar('"');
		for (const unsigned char *p = (const unsigned char *)lib; *p; p++)
			printf(*p >= 0x20 && *p != '\\' && *p < 0x7f ? "%c" : "\\x%02x", *p);
		putchar('"');
	} else {
		printf("NULL");
	}
	printf("\n   struct at_event bytes:");
	for (size_t i = 0; i < sizeof(*e); i++)
		printf("%s%02x", i % 32 ? "" : "\n    ", b[i]);
	putchar('\n');
}

int main(void)
{
	const char *env = getenv("TEXTROW_EVENTS");
	unsigned long n = env ? strtoul(env, NULL, 10) : 300000, diffs = 0, i;
	char *pbuf = NULL, *rbuf = NULL, lbuf[200];
	size_t plen = 0, rlen = 0, pdone = 0, rdone = 0;
	struct out_opts o = {};
	FILE *pf, *rf;
	bool covered = true;

	env = getenv("TEXTROW_SEED");
	rng = env ? strtoull(env, NULL, 0) : 0x7e47e0a1e27ULL;
	ts = 1000000000ULL * 3600 * 24 * 100;
	/* Central European time, summer time from the last Sunday of March: no tzdata needed. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	pf = open_memstream(&pbuf, &plen);
	rf = open_memstream(&rbuf, &rlen);
	if (!pf || !rf) {
		FAILF("text_row_same_bytes_as_fprintf", "open_memstream: %m");
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct at_event e;
		const char *lib;
		__u64 id, same_as;

		if (i % 1000 == 0) {
			/* the options of a run, for the next thousand events */
			o = (struct out_opts){.timestamps = below(2), .wide = below(3) == 0};
			out_init(&o);
			ref_opts = o;
			/* start the streams afresh now and then */
			fclose(pf);
			fclose(rf);
			free(pbuf);
			free(rbuf);
			pbuf = rbuf = NULL;
			pdone = rdone = 0;
			pf = open_memstream(&pbuf, &plen);
			rf = open_memstream(&rbuf, &rlen);
		}
		pick_event(&e);
		lib = pick_lib(lbuf, below(2) ? sizeof(lbuf) : 40);
		id = below(3) ? i + 1 : pick64();
		same_as = below(3) ? 0 : pick64();
		count(&e, lib, id, same_as, &o);
		out_event(pf, &e, lib, id, same_as);
		ref_out_event(rf, &e, lib, id, same_as);
		fflush(pf);
		fflush(rf);
		if (plen - pdone != rlen - rdone ||
		    memcmp(pbuf + pdone, rbuf + rdone, plen - pdone)) {
			if (++diffs <= 5) {
				FAILF("text_row_same_bytes_as_fprintf",
				      "event %lu: expected (fprintf) %zu bytes:\n%.*s   got %zu "
				      "bytes:\n%.*s",
				      i, rlen - rdone, (int)(rlen - rdone), rbuf + rdone,
				      plen - pdone, (int)(plen - pdone), pbuf + pdone);
				dump_event(&e, lib, id, same_as, &o);
			}
		}
		pdone = plen;
		rdone = rlen;
	}
	fclose(pf);
	fclose(rf);
	free(pbuf);
	free(rbuf);
	if (diffs)
		FAILF("text_row_same_bytes_as_fprintf", "%lu of %lu events printed other bytes",
		      diffs, n);
	else
		printf("PASS text_row_same_bytes_as_fprintf (%lu events)\n", n);
	for (int c = 0; c < C_N; c++)
		if (!cover[c]) {
			FAILF("text_row_events_cover_the_edges", "no event with %s", cover_name[c]);
			covered = false;
		}
	if (covered) {
		printf("PASS text_row_events_cover_the_edges (");
		for (int c = 0; c < C_N; c++)
			printf("%s%s %lu", c ? ", " : "", cover_name[c], cover[c]);
		printf(")\n");
	}
	return tl_failed;
}
