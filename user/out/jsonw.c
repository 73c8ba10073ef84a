// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "fmtbuf.h"
#include "strutil.h"
#include "jsonw.h"

void jsonw_init(struct jsonw *w, FILE *f)
{
	w->f = f;
	w->len = 0;
	w->depth = 0;
	w->err = false;
	w->named = false;
}

static void flush(struct jsonw *w)
{
	/* stdout without its lock: only the main thread writes it (events, histograms), where
	 * stderr is shared with the threads that load BPF objects at start. */
	if (w->len && w->f == stdout)
		fwrite_unlocked(w->buf, 1, w->len, w->f);
	else if (w->len)
		fwrite(w->buf, 1, w->len, w->f);
	w->len = 0;
}

/* Room for n more bytes (n <= JSONW_BUF). */
static inline __attribute__((always_inline)) char *room(struct jsonw *w, size_t n)
{
	if (JSONW_BUF - w->len < n)
		flush(w);
	return w->buf + w->len;
}

static inline __attribute__((always_inline)) void put(struct jsonw *w, const char *s, size_t n)
{
	memcpy(room(w, n), s, n);
	w->len += n;
}

/* Misuse: what was written until now goes out, nothing after it. */
static void fail(struct jsonw *w)
{
	w->err = true;
	flush(w);
}

static bool in(const struct jsonw *w, char kind)
{
	return w->depth > 0 && w->kind[w->depth - 1] == kind;
}

/* Before a value: the comma, unless a name just wrote it; refuse a value where none may go. */
static bool begin_value(struct jsonw *w)
{
	if (w->err || (in(w, '{') && !w->named)) {
		fail(w);
		return false;
	}
	if (in(w, '[') && w->has_items[w->depth - 1])
		put(w, ",", 1);
	if (w->depth > 0)
		w->has_items[w->depth - 1] = true;
	w->named = false;
	return true;
}

/* After a value: a top-level value is a whole line, written in one piece. */
static void end_value(struct jsonw *w)
{
	if (w->depth == 0) {
		put(w, "\n", 1);
		flush(w);
	}
}

bool jsonw__plain_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

void jsonw__str(struct jsonw *w, const char *s)
{
	const unsigned char *u;
	const char *p = s;
	char *o = room(w, 1), *end = w->buf + JSONW_BUF;

	*o++ = '"';
	for (;;) {
		/* Plain bytes one by one: most strings here are a few bytes long. */
		for (u = (const unsigned char *)p;
		     o < end && *u >= 0x20 && *u < 0x7f && *u != '"' && *u != '\\'; u++)
			*o++ = (char)*u;
		p = (const char *)u;
		if (!*p)
			break;
		if (end - o < JSON_ESC_UNIT) {
			w->len = o - w->buf;
			flush(w);
			o = w->buf;
		}
		o = json_esc(o, end, &p);
	}
	w->len = o - w->buf;
	put(w, "\"", 1);
}

void jsonw_name(struct jsonw *w, const char *name)
{
	if (w->err || !in(w, '{') || w->named) {
		fail(w);
		return;
	}
	if (w->has_items[w->depth - 1])
		put(w, ",", 1);
	jsonw__str(w, name ? name : "");
	put(w, ":", 1);
	w->named = true;
}

static void start(struct jsonw *w, char kind)
{
	if (w->depth == JSONW_MAX_DEPTH) {
		fail(w);
		return;
	}
	if (!begin_value(w))
		return;
	put(w, &kind, 1);
	w->kind[w->depth] = kind;
	w->has_items[w->depth] = false;
	w->depth++;
}

static void end(struct jsonw *w, char kind)
{
	if (w->err || !in(w, kind) || w->named) {
		fail(w);
		return;
	}
	w->depth--;
	put(w, kind == '{' ? "}" : "]", 1);
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

/* A value that never needs escaping (a number, a literal). */
static void raw(struct jsonw *w, const char *s, size_t n)
{
	if (!begin_value(w))
		return;
	put(w, s, n);
	end_value(w);
}

void jsonw_string(struct jsonw *w, const char *s)
{
	if (!s) {
		jsonw_null(w);
		return;
	}
	if (!begin_value(w))
		return;
	jsonw__str(w, s);
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
	char buf[FMT_U64_MAX];

	raw(w, buf, fmt_u64(buf, v) - buf);
}

void jsonw_int(struct jsonw *w, __s64 v)
{
	char buf[FMT_U64_MAX + 1];

	raw(w, buf, fmt_s64(buf, v) - buf);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	raw(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w)
{
	raw(w, "null", 4);
}
