// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON writer (user/out/jsonw.h) and everything that prints JSON through it: exact bytes for
 * nesting, every value type and hostile strings; misuse refused; the log sink's error and info
 * objects; events and histogram rows. Every line any of them wrote is then parsed by python3's
 * json module (strict: no raw control characters), the independent judge.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "testlib.h"
#include "alerttrace.h"
#include "agg.h"
#include "histprint.h"
#include "jsonw.h"
#include "log.h"
#include "output.h"
#include "sources.h"

/* Every JSON line written by the tests below, for python3 at the end. */
static FILE *all_lines;
static char *all_buf;
static size_t all_len;

struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *cap_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	return c->f;
}

/* Close, keep a copy for the python3 check, return the text (freed by the caller). */
static char *cap_close(struct capture *c, bool json)
{
	fclose(c->f);
	if (json && c->buf)
		fputs(c->buf, all_lines);
	return c->buf;
}

static void check_bytes(const char *name, const char *exp, const char *got, bool err, bool exp_err)
{
	if (got && strcmp(exp, got) == 0 && err == exp_err)
		PASS(name);
	else
		FAILF(name, "expected [%s] err=%d, got [%s] err=%d", exp, exp_err,
		      got ? got : "(null)", err);
}

static void test_values(void)
{
	struct capture c;
	struct jsonw w;
	char *out;

	jsonw_init(&w, cap_open(&c));
	jsonw_start_object(&w);
	jsonw_string_field(&w, "s", "x");
	jsonw_uint_field(&w, "u", UINT64_MAX);
	jsonw_int_field(&w, "i", INT64_MIN);
	jsonw_int_field(&w, "zero", 0);
	jsonw_bool_field(&w, "t", true);
	jsonw_bool_field(&w, "f", false);
	jsonw_null_field(&w, "n");
	jsonw_string_field(&w, "null_string", NULL);
	jsonw_string_field(&w, "empty", "");
	jsonw_name(&w, "hex");
	jsonw_printf_string(&w, "0x%llx", 0x557dbaf2d410ULL);
	jsonw_end_object(&w);
	out = cap_close(&c, true);
	check_bytes("flat_object_every_value_type_compact",
		    "{\"s\":\"x\",\"u\":18446744073709551615,\"i\":-9223372036854775808,\"zero\":0,"
		    "\"t\":true,\"f\":false,\"n\":null,\"null_string\":null,\"empty\":\"\","
		    "\"hex\":\"0x557dbaf2d410\"}\n",
		    out, w.err, false);
	free(out);

	jsonw_init(&w, cap_open(&c));
	jsonw_start_object(&w);
	jsonw_end_object(&w);
	jsonw_start_array(&w);
	jsonw_end_array(&w);
	jsonw_uint(&w, 7);
	out = cap_close(&c, true);
	check_bytes("empty_containers_and_bare_values_are_one_line_each", "{}\n[]\n7\n", out, w.err,
		    false);
	free(out);
}

static void test_nesting(void)
{
	struct capture c;
	struct jsonw w;
	char *out;
	int i;

	jsonw_init(&w, cap_open(&c));
	jsonw_start_object(&w);
	jsonw_string_field(&w, "type", "library");
	jsonw_name(&w, "reasons");
	jsonw_start_object(&w);
	jsonw_string_field(&w, "err_fallback", "not needed");
	jsonw_name(&w, "empty");
	jsonw_start_object(&w);
	jsonw_end_object(&w);
	jsonw_end_object(&w);
	jsonw_name(&w, "list");
	jsonw_start_array(&w);
	jsonw_uint(&w, 1);
	jsonw_null(&w);
	jsonw_string(&w, "two");
	jsonw_start_array(&w);
	jsonw_bool(&w, true);
	jsonw_end_array(&w);
	jsonw_start_object(&w);
	jsonw_int_field(&w, "k", -1);
	jsonw_end_object(&w);
	jsonw_end_array(&w);
	jsonw_bool_field(&w, "after", false);
	jsonw_end_object(&w);
	out = cap_close(&c, true);
	check_bytes("nested_objects_and_arrays_commas_in_place",
		    "{\"type\":\"library\",\"reasons\":{\"err_fallback\":\"not needed\",\"empty\":{}},"
		    "\"list\":[1,null,\"two\",[true],{\"k\":-1}],\"after\":false}\n",
		    out, w.err, false);
	free(out);

	/* As deep as it goes, then one more level is refused. */
	jsonw_init(&w, cap_open(&c));
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_start_array(&w);
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_end_array(&w);
	out = cap_close(&c, true);
	check_bytes("nesting_up_to_max_depth", "[[[[[[[[]]]]]]]]\n", out, w.err, false);
	free(out);
	jsonw_init(&w, cap_open(&c));
	for (i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_start_array(&w);
	out = cap_close(&c, false);
	check_bytes("nesting_past_max_depth_sets_err", "[[[[[[[[", out, w.err, true);
	free(out);
}

static void test_misuse(void)
{
	static const struct {
		const char *name, *exp;
		int op; /* what to do inside a started object or array */
	} cases[] = {
		{"value_without_name_in_object_refused", "{", 0},
		{"name_in_array_refused", "[", 1},
		{"end_array_in_object_refused", "{", 2},
		{"two_names_in_a_row_refused", "{\"a\":", 3},
		{"end_object_after_a_name_refused", "{\"a\":", 4},
	};
	struct capture c;
	struct jsonw w;
	size_t i;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jsonw_init(&w, cap_open(&c));
		if (cases[i].op == 1)
			jsonw_start_array(&w);
		else
			jsonw_start_object(&w);
		if (cases[i].op == 0)
			jsonw_uint(&w, 1);
		else if (cases[i].op == 1)
			jsonw_name(&w, "a");
		else if (cases[i].op == 2)
			jsonw_end_array(&w);
		else
			jsonw_name(&w, "a");
		if (cases[i].op == 3)
			jsonw_name(&w, "b");
		else if (cases[i].op == 4)
			jsonw_end_object(&w);
		/* Nothing more is written once err is set. */
		jsonw_string_field(&w, "late", "x");
		jsonw_end_object(&w);
		out = cap_close(&c, false);
		check_bytes(cases[i].name, cases[i].exp, out, w.err, true);
		free(out);
	}
	jsonw_init(&w, cap_open(&c));
	jsonw_end_object(&w);
	out = cap_close(&c, false);
	check_bytes("end_without_start_refused", "", out, w.err, true);
	free(out);
}

static void test_escaping(void)
{
	struct capture c;
	struct jsonw w;
	char *out;

	jsonw_init(&w, cap_open(&c));
	jsonw_start_object(&w);
	jsonw_string_field(&w, "q\"k\\", "a\"b\\c\n\t\x1b[2J\x7f\xc2\x80 caf\xc3\xa9 \xff\xc0\xaf");
	jsonw_name(&w, "arr");
	jsonw_start_array(&w);
	jsonw_string(&w, "\",\"injected\":\"");
	jsonw_string(&w, "}\n{");
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	out = cap_close(&c, true);
	check_bytes("hostile_names_and_values_escaped_by_json_str",
		    "{\"q\\\"k\\\\\":\"a\\\"b\\\\c\\n\\t\\u001b[2J\\u007f\\u0080 caf\xc3\xa9 "
		    "\\u00ff\\u00c0\\u00af\",\"arr\":[\"\\\",\\\"injected\\\":\\\"\",\"}\\n{\"]}\n",
		    out, w.err, false);
	free(out);
}

static void test_log_sink(void)
{
	struct capture c;
	char *out;

	log_set_file(cap_open(&c));
	log_set_json(true);
	p_err("cannot open %s: %s", "/tmp/\x1b]0;x\a\"", "No such file");
	p_info("Tracing TLS alerts... Hit Ctrl-C to end.");
	p_debug("hidden without -v\n");
	log_set_json(false);
	out = cap_close(&c, true);
	check_bytes("log_json_error_and_info_objects",
		    "{\"error\":\"cannot open /tmp/\\u001b]0;x\\u0007\\\": No such file\"}\n"
		    "{\"info\":\"Tracing TLS alerts... Hit Ctrl-C to end.\"}\n",
		    out, false, false);
	free(out);

	log_set_file(cap_open(&c));
	p_err("need root: run with sudo");
	p_info("removed %d stale alerttrace filter(s)", 2);
	log_set_verbose(true);
	p_debug("libbpf: %s", "loading\n");
	log_set_verbose(false);
	log_set_file(NULL);
	out = cap_close(&c, false);
	check_bytes("log_text_lines_keep_their_wording",
		    "alerttrace: need root: run with sudo\nremoved 2 stale alerttrace filter(s)\n"
		    "libbpf: loading\n",
		    out, false, false);
	free(out);
}

static struct at_event event(__u8 source, const char *comm)
{
	struct at_event e = {
		.ts_ns = 1,
		.source = source,
		.direction = AT_DIR_SENT,
		.level = 2,
		.code = 48,
		.flags = AT_F_HAS_TASK | AT_F_WRITTEN,
		.hook = AT_HOOK_DISPATCH,
		.version = 0x0304,
		.pid = 42,
		.tid = 43,
		.session = 0x557dbaf2d410ULL,
	};

	memcpy(e.comm, comm, strnlen(comm, sizeof(e.comm)));
	return e;
}

static void test_events(void)
{
	struct at_event e = event(AT_SRC_OPENSSL, "\x1b[31m\"evil\\\n");
	struct capture c;
	char *out, *p;

	out_init(&(struct out_opts){.json = true});
	cap_open(&c);
	out_event(c.f, &e, "/proc/1/root/lib/\"libssl\"\n.so", 1, 0);
	e = event(AT_SRC_GNUTLS, "gnutls-cli");
	e.direction = AT_DIR_RECEIVED;
	out_event(c.f, &e, "/usr/lib/libgnutls.so.30", 2, 1);
	e = event(9, "x");
	e.flags = AT_F_ENCRYPTED | AT_F_HAS_ADDR;
	e.ip_version = 4;
	out_event(c.f, &e, NULL, 3, 0);
	e = event(AT_SRC_WIRE, "y");
	e.flags = AT_F_ENCRYPTED | AT_F_HAS_ADDR;
	e.ip_version = 6;
	e.ifindex = 1;
	out_event(c.f, &e, NULL, 4, 0);
	out = cap_close(&c, true);
	if (out && strstr(out, "\"ssl\":\"0x557dbaf2d410\",\"session\":\"0x557dbaf2d410\",") &&
	    strstr(out, "\"source\":\"gnutls\"") && strstr(out, "\"source\":\"src(9)\"") &&
	    (p = strstr(out, "\"source\":\"gnutls\"")) && !strstr(p, "\"ssl\""))
		PASS("json_event_session_and_ssl_keys_source_names");
	else
		FAILF("json_event_session_and_ssl_keys_source_names",
		      "expected ssl+session for openssl, session only for gnutls, src(9):\n%s", out);
	free(out);

	out_init(&(struct out_opts){.json = false});
	cap_open(&c);
	e = event(AT_SRC_OPENSSL, "openssl");
	out_event(c.f, &e, "/usr/lib/libssl.so.3", 1, 0);
	e = event(AT_SRC_GO, "server");
	out_event(c.f, &e, "/usr/bin/server", 2, 0);
	out = cap_close(&c, false);
	if (out && strstr(out, " openssl sent ") && strstr(out, "libssl.so.3 ssl=0x557dbaf2d410\n") &&
	    strstr(out, " go      sent ") && strstr(out, "server session=0x557dbaf2d410\n"))
		PASS("text_event_ssl_for_openssl_session_for_other_sources");
	else
		FAILF("text_event_ssl_for_openssl_session_for_other_sources",
		      "expected ssl=0x... for openssl and session=0x... for go:\n%s", out);
	free(out);
}

static void test_histogram(void)
{
	struct agg_row rows[] = {
		{.pid = 7, .comm = "\x1b\"\\", .source = AT_SRC_OPENSSL, .direction = 1, .level = 2,
		 .code = 48, .count = 3},
		{.pid = 0, .comm = "", .source = AT_SRC_WIRE, .direction = 2, .encrypted = 1, .count = 1},
		{.pid = 8, .comm = "go", .source = 200, .direction = 9, .level = 1, .code = 200,
		 .count = 2},
	};
	struct agg_table t = {.rows = rows, .n = 3, .cap = 3};
	struct hist_print_opts o = {.json = true, .per_pid = true};
	struct capture c;
	char *out;

	hist_print(cap_open(&c), &t, 5, &o);
	out = cap_close(&c, true);
	check_bytes("histogram_json_rows_byte_for_byte",
		    "{\"ts\":5,\"pid\":7,\"comm\":\"\\u001b\\\"\\\\\",\"source\":\"openssl\","
		    "\"direction\":\"sent\",\"level\":2,\"code\":48,\"alert\":\"unknown_ca\","
		    "\"count\":3}\n"
		    "{\"ts\":5,\"pid\":8,\"comm\":\"go\",\"source\":\"src(200)\","
		    "\"direction\":\"unknown(9)\",\"level\":1,\"code\":200,\"alert\":\"unknown(200)\","
		    "\"count\":2}\n"
		    "{\"ts\":5,\"pid\":null,\"comm\":null,\"source\":\"wire\",\"direction\":\"received\","
		    "\"level\":null,\"code\":null,\"alert\":\"encrypted\",\"count\":1}\n",
		    out, false, false);
	free(out);
}

static void test_source_names(void)
{
	char buf[AT_SOURCE_NAME_MAX];
	int ok = 1;

	ok &= CHECK_STR("source_names_one_table", "wire", at_source_name(AT_SRC_WIRE, NULL, 0));
	ok &= CHECK_STR("source_names_one_table", "openssl",
			at_source_name(AT_SRC_OPENSSL, buf, sizeof(buf)));
	ok &= CHECK_STR("source_names_one_table", "openssl", buf);
	ok &= CHECK_STR("source_names_one_table", "gnutls", at_source_name(AT_SRC_GNUTLS, NULL, 0));
	ok &= CHECK_STR("source_names_one_table", "go", at_source_name(AT_SRC_GO, NULL, 0));
	ok &= CHECK_STR("source_names_one_table", "src(0)", at_source_name(0, buf, sizeof(buf)));
	ok &= CHECK_STR("source_names_one_table", "quic", at_source_name(AT_SRC_QUIC, NULL, 0));
	ok &= CHECK_STR("source_names_one_table", "src(6)", at_source_name(6, buf, sizeof(buf)));
	ok &= CHECK_STR("source_names_one_table", "src(-1)", at_source_name(-1, buf, sizeof(buf)));
	ok &= CHECK_STR("source_names_one_table", "src(?)", at_source_name(255, NULL, 0));
	if (ok)
		PASS("source_names_one_table");
}

/* Each line must parse strictly; prints "LINES" or the first line that did not. */
static const char *py_check = "import json, sys\n"
			      "n = 0\n"
			      "for ln in sys.stdin.buffer.read().split(b'\\n'):\n"
			      "    if not ln: continue\n"
			      "    try: json.loads(ln.decode('utf-8'))\n"
			      "    except Exception as e: print('bad', repr(ln), e); sys.exit(1)\n"
			      "    n += 1\n"
			      "print(n)\n";

static void test_python_parses_everything(void)
{
	const char *name = "every_json_line_parses_in_python3";
	int lines = 0;
	const char *c;
	char *res;

	fclose(all_lines);
	for (c = all_buf; c && *c; c++)
		lines += *c == '\n';
	if (!tl_have_python()) {
		SKIP(name, "python3 not found: install python3");
	} else {
		res = tl_python(py_check, all_buf, all_len);
		if (lines >= 15 && res && atoi(res) == lines)
			PASS(name);
		else
			FAILF(name, "expected %d lines parsed, got: %s", lines, res ? res : "(null)");
		free(res);
	}
	free(all_buf);
}

int main(void)
{
	all_lines = open_memstream(&all_buf, &all_len);
	if (!all_lines)
		return 1;
	test_values();
	test_nesting();
	test_misuse();
	test_escaping();
	test_log_sink();
	test_events();
	test_histogram();
	test_source_names();
	test_python_parses_everything();
	return tl_failed;
}
