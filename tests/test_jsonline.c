// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON line (out_event with -j, user/out/jsonline.c) against the jsonw-based writer it
 * replaced, kept here as the reference: the same bytes for a few hundred thousand events from
 * eventgen.h (random bytes in comm, SNI and library paths; every flag and xflag; every source
 * byte; no owner; IPv4 and IPv6; encrypted or not; ids and same_as up to their maximum), their
 * cgroup ids drawn from cgroups this test makes (a docker container, a Kubernetes pod's container,
 * a name of quotes, backslashes, control and non-ASCII bytes), the hierarchy's root and ids no
 * cgroup has. The reference names things the plain way (inet_ntop, if_indextoname,
 * at_source_name, at_alert_name, out_version_name each time), so the product's caches are judged
 * too. Any difference is a FAIL that prints both lines; every line must also end in "}\n" once.
 * JSONLINE_EVENTS and JSONLINE_SEED change the count (default 300000) and the seed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "testlib.h"
#include "alerttrace.h"
#include "alerts.h"
#include "container.h"
#include "jsonline.h"
#include "jsonw.h"
#include "output.h"
#include "sources.h"
#include "why.h"
#include "eventgen.h"

/* ---- The reference: print_json as it was, on jsonw, names made afresh. ---- */

static const char *ref_addr(const struct at_event *e, const __u8 *a, char *buf, size_t n)
{
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

static void ref_print_json(FILE *f, const struct at_event *e, const char *lib, __u64 id,
			   __u64 same_as)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], session[24], src[AT_SOURCE_NAME_MAX];
	char ifn[IF_NAMESIZE], alert[48], ver[24];
	bool enc = e->flags & AT_F_ENCRYPTED;
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
	jsonw_string_field(&w, "source", at_source_name(e->source, src, sizeof(src)));
	jsonw_string_field(&w, "direction", e->direction == AT_DIR_SENT ? "sent" : "received");
	if (at_source_on_wire(e->source))
		jsonw_string_field(&w, "ifname", ref_ifname(e->ifindex, ifn));
	if (e->flags & AT_F_HAS_ADDR) {
		jsonw_string_field(&w, "saddr", ref_addr(e, e->saddr, s, sizeof(s)));
		jsonw_uint_field(&w, "sport", e->sport);
		jsonw_string_field(&w, "daddr", ref_addr(e, e->daddr, d, sizeof(d)));
		jsonw_uint_field(&w, "dport", e->dport);
	}
	jsonw_string_field(&w, "version",
			   out_version_name(e->version, e->flags & AT_F_DTLS, ver, sizeof(ver)));
	if (enc) {
		jsonw_null_field(&w, "level");
		jsonw_null_field(&w, "code");
	} else {
		jsonw_uint_field(&w, "level", e->level);
		jsonw_uint_field(&w, "code", e->code);
	}
	jsonw_string_field(&w, "alert",
			   enc ? "encrypted" : at_alert_name(e->code, alert, sizeof(alert)));
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
		jsonw_null_field(&w, "pid");
		jsonw_null_field(&w, "tid");
		jsonw_null_field(&w, "comm");
	}
	ct = e->flags & AT_F_HAS_TASK ? ct_lookup(e->cgroup_id) : NULL;
	if (ct && !ct->path)
		ct = NULL;
	jsonw_string_field(&w, "cgroup_path", ct ? ct->path : NULL);
	jsonw_string_field(&w, "container_id", ct && ct->info.id[0] ? ct->info.id : NULL);
	jsonw_string_field(&w, "container_runtime", ct ? ct->info.runtime : NULL);
	jsonw_string_field(&w, "pod_uid", ct && ct->info.pod_uid[0] ? ct->info.pod_uid : NULL);
	jsonw_string_field(&w, "pod_qos", ct ? ct->info.qos : NULL);
	if (!at_source_on_wire(e->source)) {
		snprintf(session, sizeof(session), "0x%llx", (unsigned long long)e->session);
		if (e->source == AT_SRC_OPENSSL)
			jsonw_string_field(&w, "ssl", session);
		jsonw_string_field(&w, "session", session);
		jsonw_string_field(&w, "hook", out_hook_name(e->hook));
		jsonw_bool_field(&w, "dtls", e->flags & AT_F_DTLS);
		jsonw_string_field(&w, "lib", lib ? lib : "?");
		if (e->direction == AT_DIR_SENT)
			if (e->source != AT_SRC_GO) {
				jsonw_name(&w, "written");
				if (e->flags & AT_F_CUT)
					jsonw_null(&w);
				else
					jsonw_bool(&w, e->flags & AT_F_WRITTEN);
			}
	}
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

/* ---- Cgroups to name: made under the cgroup2 mount (root), removed at the end. ---- */

#define CT_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_UID "12345678_abcd_ef01_2345_6789abcdef01"

static char base[2100];
static char dirs[8][2400];
static int ndirs;
static __u64 pool[16];
static int npool;

static void mk(const char *rel)
{
	if (ndirs == (int)(sizeof(dirs) / sizeof(dirs[0])))
		return;
	snprintf(dirs[ndirs], sizeof(dirs[0]), "%s%s", base, rel);
	if (mkdir(dirs[ndirs], 0755) && errno != EEXIST) {
		FAILF("json_line_cgroups", "cannot make %s: %s", dirs[ndirs], strerror(errno));
		return;
	}
	pool[npool++] = tl_ino(dirs[ndirs]);
	ndirs++;
}

static void make_cgroups(void)
{
	char mbuf[2048];
	const char *mnt;

	if (!tl_need_root("json_line_cgroups"))
		return;
	mnt = tl_cgroup2_mount(mbuf, sizeof(mbuf));
	if (!mnt) {
		FAILF("json_line_cgroups", "no cgroup2 hierarchy mounted");
		return;
	}
	snprintf(base, sizeof(base), "%s/at_test_jl.%d", mnt, getpid());
	pool[npool++] = tl_ino(mnt);
	mk("");
	mk("/system.slice");
	mk("/system.slice/docker-" CT_ID ".scope");
	mk("/kubepods.slice");
	mk("/kubepods.slice/kubepods-burstable.slice");
	mk("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID ".slice");
	mk("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID
	   ".slice/cri-containerd-" CT_ID ".scope");
	mk("/q\"b\\s\x01\x1b\xc3\xa9\xff");
	ct_set_root(mnt, false);
}

static void remove_cgroups(void)
{
	while (ndirs > 0)
		rmdir(dirs[--ndirs]);
	ct_set_root(NULL, false);
}

/* ---- The comparison. ---- */

static void dump(const struct at_event *e, const char *lib, __u64 id, __u64 same_as)
{
	const unsigned char *b = (const unsigned char *)e;

	printf("   event: id=%llu same_as=%llu lib=%s\n   struct at_event bytes:",
	       (unsigned long long)id, (unsigned long long)same_as, lib ? "(set)" : "NULL");
	for (size_t i = 0; i < sizeof(*e); i++)
		printf("%s%02x", i % 32 ? "" : "\n    ", b[i]);
	putchar('\n');
}

int main(void)
{
	const char *env = getenv("JSONLINE_EVENTS");
	unsigned long n = env ? strtoul(env, NULL, 10) : 300000, diffs = 0, bad_end = 0, i;
	unsigned long with_ct = 0, with_pod = 0, with_esc_path = 0, long_lines = 0;
	char *pbuf = NULL, *rbuf = NULL, lbuf[4200];
	size_t plen = 0, rlen = 0;
	struct out_opts o = {.json = true};
	FILE *pf, *rf;

	env = getenv("JSONLINE_SEED");
	rng = env ? strtoull(env, NULL, 0) : 0x15014e5eedULL;
	ts = 1000000000ULL * 3600 * 24 * 100;
	out_init(&o);
	make_cgroups();
	pf = open_memstream(&pbuf, &plen);
	rf = open_memstream(&rbuf, &rlen);
	if (!pf || !rf) {
		FAILF("json_line_same_bytes_as_jsonw", "open_memstream: %m");
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct at_event e;
		const char *lib;
		__u64 id, same_as;

		pick_event(&e);
		/* known cgroups most of the time, ids no cgroup has now and then */
		if (npool && below(4))
			e.cgroup_id = pool[below(npool)];
		else if (below(2))
			e.cgroup_id = below(64);
		/* paths beyond the line's buffer once escaped, now and then */
		lib = pick_lib(lbuf, below(50) ? 200 : sizeof(lbuf));
		id = below(3) ? i + 1 : pick64();
		same_as = below(3) ? 0 : pick64();
		rewind(pf);
		rewind(rf);
		out_event(pf, &e, lib, id, same_as);
		ref_print_json(rf, &e, lib, id, same_as);
		fflush(pf);
		fflush(rf);
		/* open_memstream's size is the position after a rewind: what this event wrote */
		plen = (size_t)ftell(pf);
		rlen = (size_t)ftell(rf);
		if (plen != rlen || memcmp(pbuf, rbuf, plen)) {
			if (++diffs <= 5) {
				FAILF("json_line_same_bytes_as_jsonw",
				      "event %lu: expected (jsonw) %zu bytes:\n%.*s   got %zu "
				      "bytes:\n%.*s",
				      i, rlen, (int)rlen, rbuf, plen, (int)plen, pbuf);
				dump(&e, lib, id, same_as);
			}
		}
		if (plen < 3 || memcmp(pbuf + plen - 2, "}\n", 2) || memchr(pbuf, '\n', plen - 1))
			bad_end++;
		if (plen > 2048)
			long_lines++;
		if (memmem(pbuf, plen, "\"container_id\":\"" CT_ID "\"", 16 + 64 + 1))
			with_ct++;
		if (memmem(pbuf, plen, "\"pod_qos\":\"burstable\"", 21))
			with_pod++;
		if (memmem(pbuf, plen, "q\\\"b\\\\s\\u0001\\u001b\\u00e9", 26) ||
		    memmem(pbuf, plen, "q\\\"b\\\\s\\u0001\\u001b\xc3\xa9", 21))
			with_esc_path++;
	}
	fclose(pf);
	fclose(rf);
	free(pbuf);
	free(rbuf);
	remove_cgroups();
	if (diffs)
		FAILF("json_line_same_bytes_as_jsonw", "%lu of %lu events printed other bytes",
		      diffs, n);
	else
		printf("PASS json_line_same_bytes_as_jsonw (%lu events)\n", n);
	if (bad_end)
		FAILF("json_line_one_line_each", "%lu lines not one line ending in }", bad_end);
	else
		PASS("json_line_one_line_each");
	/* The edges a pass must have gone through: lines longer than the line's buffer, and as
	 * root the container's, the pod's and the escaped cgroup path's keys. */
	if (!long_lines)
		FAILF("json_line_covers_the_edges", "no line longer than 2048 bytes");
	else if (geteuid() == 0 && (!with_ct || !with_pod || !with_esc_path))
		FAILF("json_line_covers_the_edges",
		      "lines with a container id %lu, a pod %lu, an escaped cgroup path %lu",
		      with_ct, with_pod, with_esc_path);
	else
		printf("PASS json_line_covers_the_edges (longer than 2048 bytes %lu, container %lu, "
		       "pod %lu, escaped cgroup path %lu)\n",
		       long_lines, with_ct, with_pod, with_esc_path);
	return tl_failed;
}
