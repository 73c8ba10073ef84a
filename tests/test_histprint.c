// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Histogram printout (-H): the exact text of a small interval written out by hand here, bar
 * scaling, the order of processes and rows, the 80-column limit with the widest values a row can
 * hold, hostile comms, the unknown owner, -P against grouping by comm, and JSON lines judged by
 * python3's json module.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "testlib.h"
#include "alerttrace.h"
#include "agg.h"
#include "histprint.h"

/* 2023-11-14 22:13:20 UTC, with nanoseconds that must reach the JSON unchanged */
#define TS_NS 1700000000123456789ULL
#define TS_TEXT "22:13:20"

#define WIRE AT_SRC_WIRE
#define OSSL AT_SRC_OPENSSL
#define SENT AT_DIR_SENT
#define RECV AT_DIR_RECEIVED
#define WARN 1
#define FATAL 2

static void add(struct agg_table *t, __u32 pid, const char *comm, int src, int dir, int level,
		int code, int enc, __u64 count)
{
	struct agg_row r;

	memset(&r, 0, sizeof(r));
	r.pid = pid;
	memcpy(r.comm, comm, strnlen(comm, sizeof(r.comm) - 1));
	r.source = src;
	r.direction = dir;
	r.level = level;
	r.code = code;
	r.encrypted = enc;
	r.count = count;
	if (agg_add(t, &r))
		FAILF("agg_add", "out of memory");
}

static char *render(const struct agg_table *t, bool json, bool per_pid)
{
	struct hist_print_opts o = {.json = json, .per_pid = per_pid};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	hist_print(f, t, TS_NS, &o);
	fclose(f);
	return out;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while (p && (p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

static void check_line(const char *name, const char *text, const char *line)
{
	if (text && has_line(text, line))
		PASS(name);
	else
		FAILF(name, "expected the line '%s', got:\n%s", line, text ? text : "(null)");
}

/* The longest line in bytes. */
static size_t max_line(const char *text)
{
	size_t m = 0, n;
	const char *p = text, *e;

	while (p && *p) {
		e = strchr(p, '\n');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n > m)
			m = n;
		p = e ? e + 1 : NULL;
	}
	return m;
}

/* The text line that contains needle, copied into buf without its newline; NULL if none. */
static const char *line_with(const char *text, const char *needle, char *buf, size_t n)
{
	const char *p = text ? strstr(text, needle) : NULL, *s, *e;

	if (!p)
		return NULL;
	for (s = p; s > text && s[-1] != '\n'; s--)
		;
	e = strchr(p, '\n');
	snprintf(buf, n, "%.*s", (int)(e ? e - s : (long)strlen(s)), s);
	return buf;
}

/* The line after the one that starts with prefix, without its newline; NULL if none. */
static const char *line_after(const char *text, const char *prefix, char *buf, size_t n)
{
	const char *p = text, *e;

	while (p && *p) {
		e = strchr(p, '\n');
		if (!e)
			return NULL;
		if (!strncmp(p, prefix, strlen(prefix))) {
			p = e + 1;
			e = strchr(p, '\n');
			snprintf(buf, n, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
			return buf;
		}
		p = e + 1;
	}
	return NULL;
}

/* The bar of a row line: *full is the width between the frame's pipes; returns the stars. */
static int bar_of(const char *line, int *full)
{
	const char *a = line ? strchr(line, '|') : NULL, *b = a ? strchr(a + 1, '|') : NULL;
	int k = 0;

	*full = -1;
	if (!a || !b)
		return -1;
	*full = b - a - 1;
	while (a[1 + k] == '*')
		k++;
	return k;
}

/*
 * Text without layout: process headers as they are, row lines as their five fields joined by
 * single spaces (no bar), so the order can be compared with a list written by hand.
 */
static char *summary(const char *text)
{
	char *out = NULL, line[256], f[5][64];
	size_t len = 0;
	FILE *s = open_memstream(&out, &len);
	const char *p = text, *e;

	if (!s)
		return NULL;
	while (p && *p) {
		e = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
		p = e ? e + 1 : NULL;
		if (!*line || !strcmp(line, TS_TEXT) || !strncmp(line, "  SOURCE", 8))
			continue;
		if (strncmp(line, "  ", 2)) {
			fprintf(s, "%s\n", line);
			continue;
		}
		if (sscanf(line, "%63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3], f[4]) == 5)
			fprintf(s, "  %s %s %s %s %s\n", f[0], f[1], f[2], f[3], f[4]);
		else
			fprintf(s, "?? %s\n", line);
	}
	fclose(s);
	return out;
}

/* Written out by hand: widths from the longest values (openssl, warning,
 * certificate_unknown(46), COUNT), so the bar gets 80 - 55 = 25 columns. */
static void test_exact_text(void)
{
	struct agg_table t = {};
	char *out;
	static const char exp[] =
	    "\n"
	    "22:13:20\n"
	    "  SOURCE  DIR  LEVEL   ALERT                   COUNT DISTRIBUTION\n"
	    "pid 1234 nginx: sent 10, received 6\n"
	    "  openssl sent fatal   unknown_ca(48)             10 |*************************|\n"
	    "  openssl recv fatal   certificate_unknown(46)     5 |*************            |\n"
	    "  wire    recv -       encrypted                   1 |***                      |\n"
	    "pid 42 curl: sent 2, received 2\n"
	    "  openssl sent warning close_notify(0)             2 |*****                    |\n"
	    "  openssl recv warning close_notify(0)             2 |*****                    |\n"
	    "[unknown owner]: sent 4, received 0\n"
	    "  wire    sent fatal   handshake_failure(40)       4 |**********               |\n";

	add(&t, 42, "curl", OSSL, RECV, WARN, 0, 0, 2);
	add(&t, 0, "", WIRE, SENT, FATAL, 40, 0, 4);
	add(&t, 1234, "nginx", WIRE, RECV, 0, 0, 1, 1);
	add(&t, 1234, "nginx", OSSL, RECV, FATAL, 46, 0, 5);
	add(&t, 42, "curl", OSSL, SENT, WARN, 0, 0, 2);
	add(&t, 1234, "nginx", OSSL, SENT, FATAL, 48, 0, 10);
	out = render(&t, false, true);
	tl_check_text("text_small_interval_matches_hand_written_lines", out, exp);
	free(out);
	agg_free(&t);
}

static void test_empty(void)
{
	struct agg_table t = {};
	char *out;

	out = render(&t, false, true);
	tl_check_text("text_empty_interval_says_no_alerts", out,
		   "\n" TS_TEXT "\nno alerts in this interval\n");
	free(out);
	out = render(&t, true, true);
	tl_check_text("json_empty_interval_prints_nothing", out, "");
	free(out);
	/* Rows whose count is 0 are no alerts either. */
	add(&t, 5, "idle", OSSL, SENT, FATAL, 48, 0, 0);
	out = render(&t, false, false);
	tl_check_text("text_zero_count_rows_are_not_alerts", out,
		   "\n" TS_TEXT "\nno alerts in this interval\n");
	free(out);
	agg_free(&t);
}

static void test_bars(void)
{
	const char *name = "bar_full_for_largest_half_for_half_one_star_for_one";
	struct agg_table t = {};
	char *out, l1[256], l2[256], l3[256], l4[256];
	int full, f2, f3, f4, s1, s2, s3, s4;

	/* The largest count is in another process than the half and the one. */
	add(&t, 1, "big", OSSL, SENT, FATAL, 80, 0, 1000);  /* internal_error */
	add(&t, 2, "small", OSSL, RECV, FATAL, 48, 0, 500); /* unknown_ca */
	add(&t, 2, "small", OSSL, RECV, FATAL, 42, 0, 1);   /* bad_certificate */
	add(&t, 2, "small", WIRE, RECV, FATAL, 70, 0, 250); /* protocol_version */
	out = render(&t, false, true);
	s1 = bar_of(line_with(out, "internal_error(80)", l1, sizeof(l1)), &full);
	s2 = bar_of(line_with(out, "unknown_ca(48)", l2, sizeof(l2)), &f2);
	s3 = bar_of(line_with(out, "bad_certificate(42)", l3, sizeof(l3)), &f3);
	s4 = bar_of(line_with(out, "protocol_version(70)", l4, sizeof(l4)), &f4);
	if (full < 10 || full > HP_BAR_MAX || f2 != full || f3 != full || f4 != full)
		FAILF(name, "bar frames: expected one width of 10..%d, got %d %d %d %d:\n%s",
		      HP_BAR_MAX, full, f2, f3, f4, out);
	else if (s1 != full)
		FAILF(name, "largest count: expected %d stars, got %d", full, s1);
	else if (2 * s2 != full && 2 * s2 != full + 1)
		FAILF(name, "half count: expected %d/2 stars (rounded), got %d", full, s2);
	else if (4 * s4 < full - 2 || 4 * s4 > full + 2)
		FAILF(name, "quarter count: expected %d/4 stars (rounded), got %d", full, s4);
	else if (s3 != 1)
		FAILF(name, "count 1 of 1000: expected 1 star, got %d", s3);
	else
		PASS(name);
	/* The bar takes the room the line has, up to HP_BAR_MAX. */
	if (full == HP_BAR_MAX || strlen(l1) == HP_COLS)
		PASS("bar_uses_the_line_up_to_its_maximum");
	else
		FAILF("bar_uses_the_line_up_to_its_maximum",
		      "expected %d stars or a %d-column line, got %d in '%s'", HP_BAR_MAX, HP_COLS,
		      full, l1);
	free(out);
	agg_free(&t);

	/* Short values (the shortest: an encrypted alert) leave more room than the bar may take. */
	add(&t, 1, "a", WIRE, SENT, 0, 0, 1, 3);
	out = render(&t, false, true);
	s1 = bar_of(line_with(out, " encrypted ", l1, sizeof(l1)), &full);
	if (full == HP_BAR_MAX && s1 == full)
		PASS("bar_is_at_most_40_stars");
	else
		FAILF("bar_is_at_most_40_stars", "expected %d of %d stars, got %d of %d:\n%s",
		      HP_BAR_MAX, HP_BAR_MAX, s1, full, out);
	free(out);
	agg_free(&t);
}

static void test_sorting(void)
{
	struct agg_table t = {};
	char *out, *sum;
	static const char exp[] = "pid 3 big: sent 100, received 0\n"
				  "  wire sent fatal decode_error(50) 100\n"
				  "pid 9 aaa: sent 58, received 0\n"
				  "  openssl sent fatal internal_error(80) 58\n"
				  "pid 1 zzz: sent 35, received 23\n"
				  "  openssl recv fatal internal_error(80) 9\n"
				  "  wire sent fatal handshake_failure(40) 7\n"
				  "  wire sent fatal unknown_ca(48) 7\n"
				  "  wire sent - encrypted 7\n"
				  "  wire recv fatal handshake_failure(40) 7\n"
				  "  openssl sent warning handshake_failure(40) 7\n"
				  "  openssl sent fatal unknown_ca(48) 7\n"
				  "  openssl recv fatal unknown_ca(48) 7\n";

	/* Equal counts in an order that is none of the sort keys. */
	add(&t, 1, "zzz", OSSL, RECV, FATAL, 48, 0, 7);
	add(&t, 1, "zzz", WIRE, RECV, FATAL, 40, 0, 7);
	add(&t, 1, "zzz", OSSL, SENT, FATAL, 48, 0, 7);
	add(&t, 1, "zzz", WIRE, SENT, 0, 0, 1, 7);
	add(&t, 1, "zzz", WIRE, SENT, FATAL, 48, 0, 7);
	add(&t, 1, "zzz", OSSL, SENT, WARN, 40, 0, 7);
	add(&t, 1, "zzz", WIRE, SENT, FATAL, 40, 0, 7);
	add(&t, 1, "zzz", OSSL, RECV, FATAL, 80, 0, 9);
	/* Same total as zzz (58): comm decides. */
	add(&t, 9, "aaa", OSSL, SENT, FATAL, 80, 0, 58);
	add(&t, 3, "big", WIRE, SENT, FATAL, 50, 0, 100);
	out = render(&t, false, true);
	sum = summary(out);
	tl_check_text("sort_processes_by_total_rows_by_count_then_source_direction_code", sum, exp);
	free(sum);
	free(out);
	agg_free(&t);
}

static void check_80(const char *name, const char *out)
{
	size_t m = max_line(out);

	if (out && m <= HP_COLS)
		PASS(name);
	else
		FAILF(name, "expected lines of at most %d bytes, got %zu:\n%s", HP_COLS, m,
		      out ? out : "(null)");
}

static void test_80_columns(void)
{
	struct agg_table t = {};
	char *out, l[256];
	int full, k;

	/* The widest value of every column in one interval, and two 15-byte comms. */
	add(&t, 4294967295u, "\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b", OSSL,
	    RECV, 255, 113, 0, UINT64_MAX);
	add(&t, 4294967295u, "\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b", OSSL,
	    SENT, 255, 113, 0, UINT64_MAX - 1);
	add(&t, 4294967294u, "abcdefghijklmno", OSSL, SENT, FATAL, 113, 0, 1);
	add(&t, 7, "x", 200, 200, FATAL, 200, 0, 12345678); /* values no BPF program writes */
	add(&t, 0, "", WIRE, RECV, 0, 0, 1, 9999999);
	out = render(&t, false, true);
	check_80("text_fits_80_columns_with_widest_values_per_pid", out);
	if (out && strstr(out, " bad_certificate_status_response(113) ") &&
	    strstr(out, " level(255) ") && strstr(out, " unknown(200) "))
		PASS("text_widest_values_are_printed_whole");
	else
		FAILF(
		    "text_widest_values_are_printed_whole",
		    "expected bad_certificate_status_response(113), level(255), unknown(200):\n%s",
		    out ? out : "(null)");
	/* Counts beyond 7 digits are scaled, totals saturate instead of wrapping. */
	if (out && strstr(out, " 18446P |") && strstr(out, " 12345k |") &&
	    strstr(out, " 9999999 |") && strstr(out, "sent 18446P, received 18446P"))
		PASS("text_large_counts_scaled_and_totals_saturate");
	else
		FAILF("text_large_counts_scaled_and_totals_saturate",
		      "expected 18446P, 12345k, 9999999 and totals 18446P:\n%s",
		      out ? out : "(null)");
	/* The only row of that process: the line after its header. */
	k = bar_of(line_after(out, "pid 4294967294 abcdefghijklmno:", l, sizeof(l)), &full);
	if (k == 1 && full >= 1)
		PASS("text_tiny_count_keeps_a_star_in_a_narrow_bar");
	else
		FAILF("text_tiny_count_keeps_a_star_in_a_narrow_bar",
		      "expected 1 star, got %d of %d", k, full);
	free(out);
	out = render(&t, false, false);
	check_80("text_fits_80_columns_with_widest_values_grouped", out);
	free(out);
	agg_free(&t);
}

static void test_escaping(void)
{
	struct agg_table t = {};
	char *out;
	const unsigned char *p;
	bool raw = false;

	add(&t, 77, "a\x1b[2Jb\x07\x7f\\", OSSL, SENT, FATAL, 48, 0, 1);
	add(&t, 78, "\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b", OSSL, SENT,
	    FATAL, 48, 0, 1);
	add(&t, 79, "caf\xc3\xa9", OSSL, SENT, FATAL, 48, 0, 1);
	out = render(&t, false, true);
	for (p = (const unsigned char *)(out ? out : ""); *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			raw = true;
	if (out && !raw)
		PASS("text_comm_has_no_raw_control_bytes");
	else
		FAILF("text_comm_has_no_raw_control_bytes", "expected none, got:\n%s",
		      out ? out : "(null)");
	check_line("text_comm_control_chars_escaped", out,
		   "pid 77 a\\x1b[2Jb\\x07\\x7f\\\\: sent 1, received 0");
	/* 15 ESCs escape to 60 bytes: cut to whole escapes within 30 bytes, marked. */
	check_line("text_long_escaped_comm_cut_on_escape_boundary", out,
		   "pid 78 \\x1b\\x1b\\x1b\\x1b\\x1b\\x1b...: sent 1, received 0");
	check_line("text_utf8_comm_passes_through", out, "pid 79 caf\xc3\xa9: sent 1, received 0");
	free(out);
	agg_free(&t);
}

static void test_unknown_owner(void)
{
	struct agg_table t = {};
	char *out;

	add(&t, 0, "", WIRE, SENT, FATAL, 40, 0, 3);
	/* A process that names itself like the label must not pass for it. */
	add(&t, 0, "[unknown owner]", OSSL, SENT, FATAL, 40, 0, 2);
	out = render(&t, false, false);
	check_line("text_unknown_owner_label_grouped", out, "[unknown owner]: sent 3, received 0");
	check_line("text_comm_named_like_unknown_owner_is_distinct", out,
		   "comm [unknown owner]: sent 2, received 0");
	free(out);
	out = render(&t, false, true);
	check_line("text_unknown_owner_label_per_pid", out, "[unknown owner]: sent 3, received 0");
	free(out);
	agg_free(&t);
}

static void test_per_pid_vs_grouped(void)
{
	struct agg_table t = {}, g = {};
	char *out, *sum;

	add(&t, 10, "worker", OSSL, SENT, FATAL, 48, 0, 3);
	add(&t, 11, "worker", OSSL, SENT, FATAL, 48, 0, 4);
	add(&t, 11, "worker", OSSL, RECV, FATAL, 46, 0, 1);
	out = render(&t, false, true);
	sum = summary(out);
	tl_check_text("per_pid_one_block_per_pid", sum,
		   "pid 11 worker: sent 4, received 1\n"
		   "  openssl sent fatal unknown_ca(48) 4\n"
		   "  openssl recv fatal certificate_unknown(46) 1\n"
		   "pid 10 worker: sent 3, received 0\n"
		   "  openssl sent fatal unknown_ca(48) 3\n");
	free(sum);
	free(out);

	/* As the loader hands it over without -P: pid 0, one row per comm. */
	add(&g, 0, "worker", OSSL, SENT, FATAL, 48, 0, 7);
	add(&g, 0, "worker", OSSL, RECV, FATAL, 46, 0, 1);
	static const char grouped[] = "comm worker: sent 7, received 1\n"
				      "  openssl sent fatal unknown_ca(48) 7\n"
				      "  openssl recv fatal certificate_unknown(46) 1\n";
	out = render(&g, false, false);
	sum = summary(out);
	tl_check_text("grouped_one_block_per_comm", sum, grouped);
	free(sum);
	free(out);
	/* Rows that still carry pids are summed per comm. */
	out = render(&t, false, false);
	sum = summary(out);
	tl_check_text("grouped_sums_rows_that_differ_only_in_pid", sum, grouped);
	free(sum);
	free(out);
	agg_free(&t);
	agg_free(&g);
}

/* python3 prints each JSON line's values, json.dumps-normalised, in schema order. */
static const char *py_json =
    "import json, sys\n"
    "keys = ['ts', 'pid', 'comm', 'source', 'direction', 'level', 'code', 'alert', 'count']\n"
    "for ln in sys.stdin.read().split('\\n'):\n"
    "    if not ln: continue\n"
    "    o = json.loads(ln)\n"
    "    if sorted(o) != sorted(keys): print('keys', sorted(o)); continue\n"
    "    print(' '.join(json.dumps(o[k]) for k in keys))\n";

/* JSON of t through python3; the normalised lines, malloc'ed, or NULL. */
static char *json_via_python(const struct agg_table *t, bool per_pid)
{
	char *out = render(t, true, per_pid), *res = NULL;

	if (out)
		res = tl_python(py_json, out, strlen(out));
	free(out);
	return res;
}

static void test_json(void)
{
	struct agg_table t = {};
	char *res, *out;
	static const char exp_pid[] =
	    "1700000000123456789 1234 \"nginx\" \"openssl\" \"sent\" 2 48 \"unknown_ca\" 10\n"
	    "1700000000123456789 1234 \"nginx\" \"wire\" \"received\" null null \"encrypted\" 1\n"
	    "1700000000123456789 77 \"a\\u001b[2J\\\"q\\\\\" \"openssl\" \"received\" 1 0 "
	    "\"close_notify\" 2\n"
	    "1700000000123456789 78 \"caf\\u00e9\" \"openssl\" \"sent\" 2 200 \"unknown(200)\" 2\n"
	    "1700000000123456789 null null \"wire\" \"sent\" 2 113 "
	    "\"bad_certificate_status_response\" 1\n";
	static const char exp_grouped[] =
	    "1700000000123456789 null \"nginx\" \"openssl\" \"sent\" 2 48 \"unknown_ca\" 10\n"
	    "1700000000123456789 null \"nginx\" \"wire\" \"received\" null null \"encrypted\" 1\n"
	    "1700000000123456789 null \"a\\u001b[2J\\\"q\\\\\" \"openssl\" \"received\" 1 0 "
	    "\"close_notify\" 2\n"
	    "1700000000123456789 null \"caf\\u00e9\" \"openssl\" \"sent\" 2 200 \"unknown(200)\" "
	    "2\n"
	    "1700000000123456789 null null \"wire\" \"sent\" 2 113 "
	    "\"bad_certificate_status_response\" 1\n";

	if (!tl_have_python()) {
		SKIP("json_lines_parse_with_right_values_per_pid",
		     "python3 not found: install python3");
		SKIP("json_lines_parse_with_right_values_grouped",
		     "python3 not found: install python3");
		return;
	}
	add(&t, 0, "", WIRE, SENT, FATAL, 113, 0, 1);
	add(&t, 78, "caf\xc3\xa9", OSSL, SENT, FATAL, 200, 0, 2);
	add(&t, 77, "a\x1b[2J\"q\\", OSSL, RECV, WARN, 0, 0, 2);
	add(&t, 1234, "nginx", WIRE, RECV, 0, 0, 1, 1);
	add(&t, 1234, "nginx", OSSL, SENT, FATAL, 48, 0, 10);
	res = json_via_python(&t, true);
	tl_check_text("json_lines_parse_with_right_values_per_pid", res, exp_pid);
	free(res);
	res = json_via_python(&t, false);
	tl_check_text("json_lines_parse_with_right_values_grouped", res, exp_grouped);
	free(res);
	/* One object per line: as many lines as rows. */
	out = render(&t, true, true);
	{
		int lines = 0;
		const char *p;

		for (p = out; p && *p; p++)
			lines += *p == '\n';
		if (CHECK_EQ("json_one_line_per_row", 5, lines))
			PASS("json_one_line_per_row");
	}
	free(out);
	agg_free(&t);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_exact_text();
	test_empty();
	test_bars();
	test_sorting();
	test_80_columns();
	test_escaping();
	test_unknown_owner();
	test_per_pid_vs_grouped();
	test_json();
	return tl_failed;
}
