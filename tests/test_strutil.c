// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output safety: hostile strings (terminal escapes, newlines, quotes, invalid UTF-8) through the
 * JSON, text and Prometheus writers, with python3's json module as the independent JSON judge;
 * and the strict number parsers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "strutil.h"

/* Run fn(f, s) into memory; returns a malloc'ed string. */
static char *capture(void (*fn)(FILE *, const char *), const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fn(f, s);
	fclose(f);
	return out;
}

static void hexdump(char *dst, size_t n, const char *s)
{
	size_t o = 0;

	dst[0] = '\0';
	for (; s && *s && o + 3 < n; s++)
		o += snprintf(dst + o, n - o, "%02x", (unsigned char)*s);
}

static int check_out(const char *name, const char *in, const char *exp, const char *got)
{
	char hin[256], hexp[256], hgot[256];

	if (got && !strcmp(exp, got))
		return 1;
	hexdump(hin, sizeof(hin), in);
	hexdump(hexp, sizeof(hexp), exp);
	hexdump(hgot, sizeof(hgot), got);
	FAILF(name, "input %s: expected %s, got %s (hex)", hin, hexp, got ? hgot : "(null)");
	return 0;
}

/* Latin-1, a 3-byte and a 4-byte character. */
#define UTF8_OK "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"

static const struct {
	const char *in, *json, *text, *prom;
} cases[] = {
	{ "plain", "\"plain\"", "plain", "\"plain\"" },
	{ "", "\"\"", "", "\"\"" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"", "a\"b\\\\c", "\"a\\\"b\\\\c\"" },
	{ "l1\nl2\tt\r", "\"l1\\nl2\\tt\\r\"", "l1\\x0al2\\x09t\\x0d",
	  "\"l1\\nl2\\\\x09t\\\\x0d\"" },
	{ "\x1b[31mred\x1b[0m", "\"\\u001b[31mred\\u001b[0m\"", "\\x1b[31mred\\x1b[0m",
	  "\"\\\\x1b[31mred\\\\x1b[0m\"" },
	{ "\x1b]0;title\x07", "\"\\u001b]0;title\\u0007\"", "\\x1b]0;title\\x07",
	  "\"\\\\x1b]0;title\\\\x07\"" },
	{ "del\x7f", "\"del\\u007f\"", "del\\x7f", "\"del\\\\x7f\"" },
	/* Valid UTF-8 passes through untouched. */
	{ UTF8_OK, "\"" UTF8_OK "\"", UTF8_OK, "\"" UTF8_OK "\"" },
	/* U+009B is the 8-bit CSI: a control even when well-formed. */
	{ "\xc2\x9b" "2J", "\"\\u009b2J\"", "\\xc2\\x9b2J", "\"\\\\xc2\\\\x9b2J\"" },
	/* Invalid UTF-8: a lone C1 byte, 0xff, a cut sequence, overlong, surrogate, > U+10FFFF. */
	{ "\x9b" "2J", "\"\\u009b2J\"", "\\x9b2J", "\"\xef\xbf\xbd" "2J\"" },
	{ "a\xff", "\"a\\u00ff\"", "a\\xff", "\"a\xef\xbf\xbd\"" },
	{ "\xc3(", "\"\\u00c3(\"", "\\xc3(", "\"\xef\xbf\xbd(\"" },
	{ "\xc0\xaf", "\"\\u00c0\\u00af\"", "\\xc0\\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"", "\\xed\\xa0\\x80",
	  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"", "\\xf4\\x90\\x80\\x80",
	  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "\xe2\x82", "\"\\u00e2\\u0082\"", "\\xe2\\x82", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

static void test_json_exact(void)
{
	const char *name = "json_str_escapes_quotes_controls_and_invalid_utf8";
	char *out;
	int i, ok = 1;

	for (i = 0; i < N_CASES; i++) {
		out = capture(json_str, cases[i].in);
		ok &= check_out(name, cases[i].in, cases[i].json, out);
		free(out);
	}
	out = capture(json_str, NULL);
	ok &= check_out(name, "(NULL)", "\"\"", out);
	free(out);
	if (ok)
		PASS(name);
}

static void test_text_exact(void)
{
	const char *name = "text_safe_escapes_esc_del_c1_and_backslash";
	char buf[128];
	int i, ok = 1;

	for (i = 0; i < N_CASES; i++)
		ok &= check_out(name, cases[i].in, cases[i].text,
				text_safe(cases[i].in, buf, sizeof(buf)));
	ok &= check_out(name, "(NULL)", "", text_safe(NULL, buf, sizeof(buf)));
	if (ok)
		PASS(name);
}

static void test_text_truncation(void)
{
	const char *name = "text_safe_truncates_at_whole_characters_and_escapes";
	char buf[16];
	int ok = 1;

	ok &= CHECK_STR(name, "abc", text_safe("abc\x1b" "def", buf, 5));
	ok &= CHECK_STR(name, "abc", text_safe("abc\x1b" "def", buf, 7));
	ok &= CHECK_STR(name, "abc\\x1b", text_safe("abc\x1b" "def", buf, 8));
	ok &= CHECK_STR(name, "abc\\x1bd", text_safe("abc\x1b" "def", buf, 9));
	ok &= CHECK_STR(name, "", text_safe("\xe2\x82\xac", buf, 3));
	ok &= CHECK_STR(name, "\xe2\x82\xac", text_safe("\xe2\x82\xac", buf, 4));
	ok &= CHECK_STR(name, "a", text_safe("a\\", buf, 3));
	ok &= CHECK_STR(name, "", text_safe("abc", buf, 1));
	memcpy(buf, "canary", 7);
	ok &= CHECK_STR(name, "", text_safe("abc", buf, 0));
	ok &= CHECK_STR(name, "canary", buf);
	if (ok)
		PASS(name);
}

static void test_prom_exact(void)
{
	const char *name = "prom_label_escapes_and_replaces_invalid_utf8";
	char *out;
	int i, ok = 1;

	for (i = 0; i < N_CASES; i++) {
		out = capture(prom_label, cases[i].in);
		ok &= check_out(name, cases[i].in, cases[i].prom, out);
		free(out);
	}
	if (ok)
		PASS(name);
}

/* Inputs for the properties below: the fixed cases plus random hostile byte strings. */
#define N_RANDOM 3000

static void random_string(char *s, int maxlen)
{
	static const char *pieces[] = { "\x1b[", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					"\xc2\x9b", "\\", "\"", "\n", "\xed\xa0\x80", "\xf4\x90" };
	int len = rand() % maxlen, o = 0, r;

	while (o < len) {
		r = rand() % 4;
		if (r == 0 && o + 4 < len) {
			const char *p = pieces[rand() % 10];

			memcpy(s + o, p, strlen(p));
			o += strlen(p);
		} else if (r == 1) {
			s[o++] = 1 + rand() % 255;		/* any byte but NUL */
		} else {
			s[o++] = 0x20 + rand() % 0x5f;		/* printable ASCII */
		}
	}
	s[o] = '\0';
}

/*
 * python3 reads lines "HEX-OF-INPUT JSON-OUTPUT" and checks that each JSON text parses (strictly:
 * no raw control characters) and decodes to the input: valid UTF-8 back to the same bytes,
 * invalid UTF-8 with each bad byte as U+00XX. Prints "LINES VALID-UTF8-LINES".
 */
static const char *py_json_check =
	"import codecs, json, sys\n"
	"codecs.register_error('bytemap', lambda e: (''.join(map(chr, e.object[e.start:e.end])),"
	" e.end))\n"
	"n = v = 0\n"
	"for ln in sys.stdin.buffer.read().split(b'\\n'):\n"
	"    if not ln: continue\n"
	"    h, _, j = ln.partition(b' ')\n"
	"    raw = bytes.fromhex(h.decode())\n"
	"    got = json.loads(j.decode('utf-8'))\n"
	"    try:\n"
	"        raw.decode('utf-8')\n"
	"        if got.encode('utf-8') != raw: print('no round trip', h.decode()); sys.exit(1)\n"
	"        v += 1\n"
	"    except UnicodeDecodeError:\n"
	"        if got != raw.decode('utf-8', 'bytemap'):\n"
	"            print('mismatch', h.decode()); sys.exit(1)\n"
	"    n += 1\n"
	"print(n, v)\n";

static void emit_hex_line(FILE *f, const char *in, void (*fn)(FILE *, const char *))
{
	const unsigned char *p = (const unsigned char *)in;

	for (; *p; p++)
		fprintf(f, "%02x", *p);
	fputc(' ', f);
	fn(f, in);
	fputc('\n', f);
}

/* The fixed cases and N_RANDOM random strings; *(int *)arg counts the lines. */
static void fill_json_lines(FILE *f, void *arg)
{
	int *lines = arg, i;
	char s[256];

	for (i = 0; i < N_CASES; i++) {
		if (!*cases[i].in)
			continue;	/* bytes.fromhex('') would leave nothing to compare */
		emit_hex_line(f, cases[i].in, json_str);
		(*lines)++;
	}
	srand(1);
	for (i = 0; i < N_RANDOM; i++) {
		random_string(s, 200);
		if (!*s)
			continue;
		emit_hex_line(f, s, json_str);
		(*lines)++;
	}
}

static void test_json_parses_with_python(void)
{
	const char *name = "json_str_output_parses_and_round_trips_in_python3";
	int lines = 0, n = -1, valid = -1;
	char *data = NULL, *res = NULL;
	size_t len = 0;
	FILE *f;

	if (!tl_have_python()) {
		SKIP(name, "python3 not found: install python3");
		return;
	}
	f = open_memstream(&data, &len);
	if (f) {
		fill_json_lines(f, &lines);
		fclose(f);
		res = tl_python(py_json_check, data, len);
	}
	if (!res) {
		FAILF(name, "cannot write temporary files in /tmp");
		goto cleanup;
	}
	if (sscanf(res, "%d %d", &n, &valid) != 2 || n != lines) {
		FAILF(name, "python3: expected %d good lines, got: %s", lines, res);
		goto cleanup;
	}
	/* The round-trip half of the check must have had something to do. */
	if (valid < 10) {
		FAILF(name, "only %d inputs were valid UTF-8: expected at least 10", valid);
		goto cleanup;
	}
	PASS(name);
cleanup:
	free(data);
	free(res);
}

/* Undo text_safe: \\ -> \, \xHH -> byte. Returns 0 on a malformed escape. */
static int text_unescape(const char *s, char *out)
{
	unsigned int v;

	while (*s) {
		if (*s != '\\') {
			*out++ = *s++;
			continue;
		}
		if (s[1] == '\\') {
			*out++ = '\\';
			s += 2;
		} else if (s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1 && v) {
			*out++ = v;
			s += 4;
		} else {
			return 0;
		}
	}
	*out = '\0';
	return 1;
}

/* Strict UTF-8 check (RFC 3629), written independently of strutil.c; 1 if clean. */
static int utf8_clean_no_controls(const unsigned char *s)
{
	while (*s) {
		unsigned int c = *s, cp, need, min;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			s++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		for (s++; need; need--, s++) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (*s & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
	}
	return 1;
}

static void test_text_properties(void)
{
	const char *name = "text_safe_output_is_clean_utf8_and_reversible";
	char s[256], out[1200], back[256];
	int i, ok = 1;

	srand(2);
	for (i = 0; i < N_RANDOM && ok; i++) {
		random_string(s, 200);
		text_safe(s, out, sizeof(out));
		if (!utf8_clean_no_controls((const unsigned char *)out)) {
			FAILF(name, "output has a control or invalid UTF-8 (case %d)", i);
			ok = 0;
		} else if (!text_unescape(out, back) || strcmp(back, s)) {
			FAILF(name, "output does not unescape to the input (case %d)", i);
			ok = 0;
		}
	}
	if (ok)
		PASS(name);
}

/*
 * The Prometheus text format allows in a label value any UTF-8 except raw '"', '\' and newline,
 * which must be written \", \\ and \n; no other escape exists. Checked byte by byte.
 */
static int prom_value_ok(const char *v)
{
	size_t len = strlen(v);
	char inner[2048];
	size_t i;

	if (len < 2 || v[0] != '"' || v[len - 1] != '"' || len - 2 >= sizeof(inner))
		return 0;
	memcpy(inner, v + 1, len - 2);
	inner[len - 2] = '\0';
	for (i = 0; inner[i]; i++) {
		if (inner[i] == '"' || inner[i] == '\n')
			return 0;
		if (inner[i] == '\\') {
			if (!strchr("\\\"n", inner[i + 1]) || !inner[i + 1])
				return 0;
			inner[i] = ' ';	/* an escape is harmless; blank it for the UTF-8 check */
			inner[++i] = ' ';
		}
	}
	return utf8_clean_no_controls((const unsigned char *)inner);
}

static void test_prom_properties(void)
{
	const char *name = "prom_label_output_is_a_valid_label_value";
	char s[256], *out;
	int i, ok = 1;

	srand(3);
	for (i = 0; i < N_RANDOM && ok; i++) {
		random_string(s, 200);
		out = capture(prom_label, s);
		if (!out || !prom_value_ok(out)) {
			FAILF(name, "not a valid label value (case %d): %s", i,
			      out ? out : "(null)");
			ok = 0;
		}
		free(out);
	}
	if (ok)
		PASS(name);
}

static void test_parse_u32(void)
{
	const char *name = "parse_u32_is_strict_decimal_with_range";
	static const struct {
		const char *s;
		unsigned long max;
		int ret;
		__u32 val;
	} t[] = {
		{ "0", 255, 0, 0 },
		{ "255", 255, 0, 255 },
		{ "007", 255, 0, 7 },
		{ "4294967295", 0xffffffffUL, 0, 4294967295U },
		{ "4294967295", ~0UL, 0, 4294967295U },
		{ "256", 255, -ERANGE, 0 },
		{ "4294967296", ~0UL, -ERANGE, 0 },
		{ "99999999999999999999999", ~0UL, -ERANGE, 0 },
		{ "", 255, -EINVAL, 0 },
		{ "-1", 255, -EINVAL, 0 },
		{ "+1", 255, -EINVAL, 0 },
		{ " 1", 255, -EINVAL, 0 },
		{ "1 ", 255, -EINVAL, 0 },
		{ "1x", 255, -EINVAL, 0 },
		{ "0x10", 255, -EINVAL, 0 },
		{ "1\n", 255, -EINVAL, 0 },
		{ "1.0", 255, -EINVAL, 0 },
		{ "99999999999999999999x", ~0UL, -EINVAL, 0 },
	};
	__u32 v;
	size_t i;
	int ok = 1, r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 12345;
		r = parse_u32(t[i].s, t[i].max, &v);
		if (r != t[i].ret || (r == 0 && v != t[i].val) || (r && v != 12345)) {
			FAILF(name, "\"%s\" max %lu: expected %d/%u, got %d/%u", t[i].s, t[i].max,
			      t[i].ret, t[i].val, r, v);
			ok = 0;
		}
	}
	ok &= CHECK_EQ(name, -EINVAL, parse_u32(NULL, 255, &v));
	if (ok)
		PASS(name);
}

static void test_parse_list(void)
{
	const char *name = "parse_list_u32_counts_and_rejects_bad_lists";
	static const struct {
		const char *s;
		int ret;
		__u32 vals[4];
	} t[] = {
		{ "1,2,3", 3, { 1, 2, 3 } },
		{ "42", 1, { 42 } },
		{ "0,65535,7,8", 4, { 0, 65535, 7, 8 } },
		{ "1,2,3,4,5", -E2BIG, { 0 } },
		{ "", -EINVAL, { 0 } },
		{ ",", -EINVAL, { 0 } },
		{ "1,", -EINVAL, { 0 } },
		{ ",1", -EINVAL, { 0 } },
		{ "1,,2", -EINVAL, { 0 } },
		{ "1, 2", -EINVAL, { 0 } },
		{ "1;2", -EINVAL, { 0 } },
		{ "1,-2", -EINVAL, { 0 } },
		{ "1,65536", -ERANGE, { 0 } },
	};
	__u32 out[4];
	size_t i;
	int ok = 1, r, j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = parse_list_u32(t[i].s, 65535, out, 4);
		if (r != t[i].ret) {
			FAILF(name, "\"%s\": expected %d, got %d", t[i].s, t[i].ret, r);
			ok = 0;
			continue;
		}
		for (j = 0; j < r; j++) {
			if (out[j] != t[i].vals[j]) {
				FAILF(name, "\"%s\"[%d]: expected %u, got %u", t[i].s, j,
				      t[i].vals[j], out[j]);
				ok = 0;
			}
		}
	}
	ok &= CHECK_EQ(name, -EINVAL, parse_list_u32(NULL, 10, out, 4));
	ok &= CHECK_EQ(name, -E2BIG, parse_list_u32("1", 10, out, 0));
	if (ok)
		PASS(name);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_json_exact();
	test_text_exact();
	test_text_truncation();
	test_prom_exact();
	test_json_parses_with_python();
	test_text_properties();
	test_prom_properties();
	test_parse_u32();
	test_parse_list();
	return tl_failed ? 1 : 0;
}
