/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small JSON writer: commas, nesting and escaping in one place, for every JSON line alerttrace
 * prints (events, histogram rows, errors). Compact output, no spaces: {"a":1,"b":[true,null]}.
 * A top-level value ends its line ("\n"): every producer here writes JSON lines. Strings go
 * through json_str (user/out/strutil.h): strict UTF-8, control characters escaped, so the output
 * is valid JSON whatever the traced host put in a comm or a path.
 *
 *	struct jsonw w;
 *
 *	jsonw_init(&w, stdout);
 *	jsonw_start_object(&w);
 *	jsonw_string_field(&w, "comm", comm);
 *	jsonw_uint_field(&w, "pid", pid);
 *	jsonw_end_object(&w);		-> {"comm":"curl","pid":42}\n
 *
 * Misuse (a value without a name inside an object, a name inside an array, ending what was not
 * started, nesting deeper than JSONW_MAX_DEPTH) writes nothing and sets w->err, so a bug shows
 * in a test instead of producing invalid JSON.
 *
 * The writer formats into its own buffer and hands f whole lines: one fwrite when a top-level
 * value ends (or when the buffer fills, or at misuse: what was written until then). Nothing of
 * an unfinished value reaches f. The *_field calls are inline: a member whose name needs no
 * escaping and whose value is a number or literal is a few stores into the buffer (a name given
 * as a string literal is checked at compile time), with no call and no FILE in between; an
 * event line has some 25 of them (bench/bench_pipeline.sh).
 */
#ifndef AT_JSONW_H
#define AT_JSONW_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "fmtbuf.h"

#define JSONW_MAX_DEPTH 8
/* Bytes buffered before they are written to f; longer lines are written in pieces. */
#define JSONW_BUF 1024

struct jsonw {
	FILE *f;
	unsigned int len;		 /* bytes in buf not yet written to f */
	int depth;
	bool err;
	bool named;			 /* a name was written, its value comes next */
	bool has_items[JSONW_MAX_DEPTH]; /* the container at this depth has a member: a comma next */
	char kind[JSONW_MAX_DEPTH];	 /* '{' or '[' */
	char buf[JSONW_BUF];
};

void jsonw_init(struct jsonw *w, FILE *f);

void jsonw_start_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_start_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);
/* The name of the next value inside an object. */
void jsonw_name(struct jsonw *w, const char *name);

/* Values: in an array, after jsonw_name, or alone at the top level. NULL s writes null. */
void jsonw_string(struct jsonw *w, const char *s);
void __attribute__((format(printf, 2, 3))) jsonw_printf_string(struct jsonw *w, const char *fmt,
								...);
void jsonw_uint(struct jsonw *w, __u64 v);
void jsonw_int(struct jsonw *w, __s64 v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* The string part of jsonw_string_field's fast path: s quoted and escaped into the buffer. */
void jsonw__str(struct jsonw *w, const char *s);

/* Room a fast member needs besides its name: quotes, colon, comma and a number or literal. */
#define JSONW__ROOM (FMT_U64_MAX + 8)

/* The bytes a name copied as it is must not hold: controls, the two escapes, non-ASCII. */
#define JSONW__ESCAPED \
	"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10" \
	"\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x22" \
	"\x5c" \
	"\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e" \
	"\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e" \
	"\x9f" \
	"\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf" \
	"\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf" \
	"\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf" \
	"\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf" \
	"\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef" \
	"\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff"

bool jsonw__plain_run(const char *s, size_t n);

/* No byte of s (n long) needs escaping in a JSON string: for a string literal (every name in
 * print_json) GCC works it out at compile time, for any other a loop. */
static inline __attribute__((always_inline)) bool jsonw__plain(const char *s, size_t n)
{
	if (__builtin_constant_p(__builtin_strcspn(s, JSONW__ESCAPED)))
		return __builtin_strcspn(s, JSONW__ESCAPED) == n;
	return jsonw__plain_run(s, n);
}

/*
 * The fast path of a member: inside an object, no name pending, no error, room for the name
 * and a JSONW__ROOM value, and a name that needs no escaping: writes [,]"name": and returns
 * where the value goes (the caller sets w->len past it). NULL: the caller takes the general
 * path (jsonw_name and a value), which handles every other case.
 */
static inline __attribute__((always_inline)) char *jsonw__member(struct jsonw *w, const char *name)
{
	size_t n = __builtin_strlen(name);
	int d = w->depth - 1;
	char *p;

	if (d < 0 || w->kind[d] != '{' || w->named || w->err ||
	    n + JSONW__ROOM > JSONW_BUF - w->len || !jsonw__plain(name, n))
		return NULL;
	p = w->buf + w->len;
	*p = ',';
	p += w->has_items[d];
	w->has_items[d] = true;
	*p++ = '"';
	memcpy(p, name, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	return p;
}

/* name and value in one call */
static inline __attribute__((always_inline)) void
jsonw_string_field(struct jsonw *w, const char *name, const char *s)
{
	char *p = jsonw__member(w, name);

	if (!p) {
		jsonw_name(w, name);
		jsonw_string(w, s);
	} else if (!s) {
		w->len = fmt_lit(p, "null") - w->buf;
	} else {
		w->len = p - w->buf;
		jsonw__str(w, s);
	}
}

/* jsonw_KIND_field: the fast path writes the value with FAST (at p, returns its end). */
#define JSONW__FIELD(kind, type, fast)                                                  \
	static inline __attribute__((always_inline)) void jsonw_##kind##_field(            \
		struct jsonw *w, const char *name, type v)                                 \
	{                                                                                  \
		char *p = jsonw__member(w, name);                                          \
                                                                                           \
		if (!p) {                                                                  \
			jsonw_name(w, name);                                               \
			jsonw_##kind(w, v);                                                \
			return;                                                            \
		}                                                                          \
		w->len = (fast) - w->buf;                                                  \
	}

JSONW__FIELD(uint, __u64, fmt_u64(p, v))
JSONW__FIELD(int, __s64, fmt_s64(p, v))
JSONW__FIELD(bool, bool, v ? fmt_lit(p, "true") : fmt_lit(p, "false"))

static inline __attribute__((always_inline)) void
jsonw_null_field(struct jsonw *w, const char *name)
{
	char *p = jsonw__member(w, name);

	if (!p) {
		jsonw_name(w, name);
		jsonw_null(w);
		return;
	}
	w->len = fmt_lit(p, "null") - w->buf;
}

#endif
