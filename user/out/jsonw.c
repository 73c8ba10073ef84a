// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "strutil.h"
#include "jsonw.h"

void jsonw_init(struct jsonw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static bool in(const struct jsonw *w, char kind)
{
	return w->depth > 0 && w->kind[w->depth - 1] == kind;
}

/* Before a value: the comma, unless a name just wrote it; refuse a value where none may go. */
static bool begin_value(struct jsonw *w)
{
	if (w->err || (in(w, '{') && !w->named)) {
		w->err = true;
		return false;
	}
	if (in(w, '[') && w->has_items[w->depth - 1])
		fputc(',', w->f);
	if (w->depth > 0)
		w->has_items[w->depth - 1] = true;
	w->named = false;
	return true;
}

/* After a value: a top-level value is a whole line. */
static void end_value(struct jsonw *w)
{
	if (w->depth == 0)
		fputc('\n', w->f);
}

void jsonw_name(struct jsonw *w, const char *name)
{
	if (w->err || !in(w, '{') || w->named) {
		w->err = true;
		return;
	}
	if (w->has_items[w->depth - 1])
		fputc(',', w->f);
	json_str(w->f, name);
	fputc(':', w->f);
	w->named = true;
}

static void start(struct jsonw *w, char kind)
{
	if (w->depth == JSONW_MAX_DEPTH) {
		w->err = true;
		return;
	}
	if (!begin_value(w))
		return;
	fputc(kind, w->f);
	w->kind[w->depth] = kind;
	w->has_items[w->depth] = false;
	w->depth++;
}

static void end(struct jsonw *w, char kind)
{
	if (w->err || !in(w, kind) || w->named) {
		w->err = true;
		return;
	}
	w->depth--;
	fputc(kind == '{' ? '}' : ']', w->f);
	end_value(w);
}

void jsonw_start_object(struct jsonw *w)
{
	start(w, '{');
}

void jsonw_end_object(struct jsonw *w)
{
	end(w, '{');
}

void jsonw_start_array(struct jsonw *w)
{
	start(w, '[');
}

void jsonw_end_array(struct jsonw *w)
{
	end(w, '[');
}

/* A value that never needs escaping (a number, a literal): one write, no format to parse (an
 * event line has some 15 of them: vfprintf was a quarter of the stream's CPU). */
static void raw(struct jsonw *w, const char *s, size_t n)
{
	if (!begin_value(w))
		return;
	fwrite(s, 1, n, w->f);
	end_value(w);
}

/* v in decimal, written backwards from end; returns the first digit. */
static char *utoa(char *end, __u64 v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	if (!s) {
		jsonw_null(w);
		return;
	}
	if (!begin_value(w))
		return;
	json_str(w->f, s);
	end_value(w);
}

void jsonw_printf_string(struct jsonw *w, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jsonw_string(w, buf);
}

void jsonw_uint(struct jsonw *w, __u64 v)
{
	char buf[24], *p = utoa(buf + sizeof(buf), v);

	raw(w, p, buf + sizeof(buf) - p);
}

void jsonw_int(struct jsonw *w, __s64 v)
{
	char buf[24], *p = utoa(buf + sizeof(buf), v < 0 ? -(__u64)v : (__u64)v);

	if (v < 0)
		*--p = '-';
	raw(w, p, buf + sizeof(buf) - p);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	raw(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w)
{
	raw(w, "null", 4);
}

void jsonw_string_field(struct jsonw *w, const char *name, const char *s)
{
	jsonw_name(w, name);
	jsonw_string(w, s);
}

void jsonw_uint_field(struct jsonw *w, const char *name, __u64 v)
{
	jsonw_name(w, name);
	jsonw_uint(w, v);
}

void jsonw_int_field(struct jsonw *w, const char *name, __s64 v)
{
	jsonw_name(w, name);
	jsonw_int(w, v);
}

void jsonw_bool_field(struct jsonw *w, const char *name, bool v)
{
	jsonw_name(w, name);
	jsonw_bool(w, v);
}

void jsonw_null_field(struct jsonw *w, const char *name)
{
	jsonw_name(w, name);
	jsonw_null(w);
}
