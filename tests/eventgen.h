/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Random events for the formatter tests (test_textrow.c, test_jsonline.c): every field's edges
 * and random bytes in its text (comm, SNI, library paths: control bytes, C1, valid and invalid
 * UTF-8, backslashes), from a xorshift generator the test seeds (rng). pick_event leaves
 * cgroup_id random; a test that wants known cgroups sets it after.
 */
#ifndef AT_TEST_EVENTGEN_H
#define AT_TEST_EVENTGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include "alerttrace.h"

static __u64 rng;

static __u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static __u64 below(__u64 n)
{
	return rnd() % n;
}

/* Edge values first, then anything. */
static __u64 pick64(void)
{
	/* clang-format off */
	static const __u64 edge[] = {
		0, 1, 9, 10, 99999, 100000, 9999999, 10000000, 4294967295ULL, UINT64_MAX - 1,
		UINT64_MAX,
	};
	/* clang-format on */

	switch (below(4)) {
	case 0:
		return edge[below(sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return below(100000);
	case 2:
		return rnd() >> below(64);
	}
	return rnd();
}

/* n bytes of text of one of a few kinds; may hold NULs. */
static void fill_text(char *s, size_t n)
{
	/* clang-format off */
	static const char *const units[] = {
		"a", "z", "0", ".", "-", "~", " ", "\\", "\x1b", "\n", "\x7f", "\x01",
		"\xc2\x80", "\xc2\x9f", "\xc2\xa0", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\xed\xa0\x80", "\xc0\x80", "\x80", "\xff", "\xf4\x90\x80\x80", "\xe2\x82", "%s",
	};
	/* clang-format on */
	size_t len, i = 0;
	int kind = (int)below(6);

	memset(s, 0, n);
	/* around the column widths most of the time */
	len = below(3) ? 12 + below(8) : below(n + 1);
	if (len > n)
		len = n;
	while (i < len) {
		if (kind == 0) { /* a host or process name */
			s[i++] = "abcdefghijklmnopqrstuvwxyz0123456789.-"[below(38)];
		} else if (kind == 1) { /* any byte */
			s[i++] = (char)below(256);
		} else if (kind == 2 && i + 1 < len && !below(8)) { /* a NUL inside */
			s[i++] = 0;
		} else {
			const char *u = units[below(sizeof(units) / sizeof(units[0]))];
			size_t l = strlen(u);

			if (kind >= 3 && below(3))
				u = "x", l = 1;
			if (i + l > len)
				l = len - i; /* a cut sequence at the end */
			memcpy(s + i, u, l);
			i += l;
		}
	}
}

static const char *pick_lib(char *buf, size_t n)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3",
					   "/usr/lib/libgnutls.so.30",
					   "libssl.so.3",
					   "/usr/bin/server",
					   "/",
					   "",
					   "/a/",
					   "/proc/1/root/lib/\"libssl\"\n.so"};
	size_t l;

	switch (below(4)) {
	case 0:
		return NULL;
	case 1:
		return libs[below(sizeof(libs) / sizeof(libs[0]))];
	}
	/* random text with slashes, up to n - 1 bytes: long ones overflow the 120-byte name */
	fill_text(buf, n - 1);
	buf[n - 1] = 0;
	l = strlen(buf);
	for (size_t i = 0; i < l; i++)
		if (!below(12))
			buf[i] = '/';
	if (!below(3)) {
		memset(buf, 'l', n - 1);
		for (size_t i = 0; i < n - 1; i++)
			if (!below(6))
				buf[i] = below(2) ? '\x1b' : '\\';
		buf[n - 1] = 0;
	}
	return buf;
}

static void pick_addr(__u8 *a, bool v6)
{
	static const __u8 pool[][16] = {
	    {127, 0, 0, 1},
	    {0, 0, 0, 0},
	    {255, 255, 255, 255},
	    {10, 0, 0, 2},
	    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4},
	    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4},
	    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	    {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0xff, 0xfe, 0x78, 0x9a, 0xbc},
	    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff},
	    {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0},
	};

	if (below(4)) {
		memcpy(a, pool[below(sizeof(pool) / sizeof(pool[0]))], 16);
	} else {
		for (int i = 0; i < 16; i++)
			a[i] = (__u8)(below(3) ? below(256) : 0);
	}
	(void)v6;
}

static __u32 pick_ifindex(void)
{
	/* lo, and indexes no host has (if_indextoname fails: "ifN"), more than out_ifname's 32
	 * cached names; none that other sessions' interfaces could take or give back meanwhile. */
	switch (below(4)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 4000000000u + (__u32)below(40);
	}
	return below(2) ? 4294967295u : 1000000000u + (__u32)below(8);
}

static __u64 ts;

static void pick_event(struct at_event *e)
{
	static const __u8 sources[] = {AT_SRC_WIRE, AT_SRC_OPENSSL, AT_SRC_GNUTLS, AT_SRC_GO,
				       AT_SRC_QUIC};
	static const __s32 verify[] = {0, 2, 10, 18, 19, 20, 62, 64, 68, 1, 999, -1};

	memset(e, 0, sizeof(*e));
	/* mostly a second or less on, at times a jump of up to ten years either way */
	ts += below(400000000);
	if (!below(200))
		ts = ts + below(315360000ULL) * 1000000000ULL - 157680000ULL * 1000000000ULL;
	e->ts_ns = ts;
	e->source = below(5) ? sources[below(5)] : (__u8)below(256);
	e->direction = below(8) ? (__u8)(1 + below(2)) : (__u8)below(256);
	e->level = below(4) ? (__u8)(1 + below(2)) : (__u8)below(256);
	e->code = (__u8)below(256);
	e->flags = (__u8)below(256);
	e->xflags = (__u8)below(256);
	e->ip_version = below(8) ? (below(2) ? 4 : 6) : (__u8)below(256);
	e->hook = (__u8)below(8);
	e->version = (__u16)rnd();
	e->length = below(2) ? (__u16)rnd() : (__u16)below(100);
	e->sport = (__u16)pick64();
	e->dport = (__u16)pick64();
	e->ifindex = pick_ifindex();
	pick_addr(e->saddr, e->ip_version == 6);
	pick_addr(e->daddr, e->ip_version == 6);
	e->pid = (__u32)pick64();
	e->tid = (__u32)rnd();
	e->uid = (__u32)rnd();
	e->cgroup_id = rnd();
	e->session = pick64();
	fill_text(e->comm, AT_TASK_COMM_LEN);
	fill_text(e->sni, AT_SNI_LEN);
	if (below(2))
		e->sni[AT_SNI_LEN - 1] = 0; /* as the BPF side leaves it */
	e->verify_error =
	    below(4) ? verify[below(sizeof(verify) / sizeof(verify[0]))] : (__s32)rnd();
	switch (below(5)) {
	case 0: /* OpenSSL: ERR_LIB_SSL reasons */
		e->reason = 20u << 23 | (__u32)below(1200);
		break;
	case 1: /* ERR_LIB_SYS: an errno */
		e->reason = 2u << 23 | (__u32)below(140);
		break;
	case 2: /* GnuTLS: a negative error code */
		e->reason = (__u32) - (__s32)below(420);
		break;
	default:
		e->reason = (__u32)rnd();
	}
}

#endif
