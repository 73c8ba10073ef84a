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
 */
#ifndef AT_JSONW_H
#define AT_JSONW_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define JSONW_MAX_DEPTH 8

struct jsonw {
	FILE *f;
	int depth;
	bool err;
	bool named;			 /* a name was written, its value comes next */
	bool has_items[JSONW_MAX_DEPTH]; /* the container at this depth has a member: a comma next */
	char kind[JSONW_MAX_DEPTH];	 /* '{' or '[' */
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

/* name and value in one call */
void jsonw_string_field(struct jsonw *w, const char *name, const char *s);
void jsonw_uint_field(struct jsonw *w, const char *name, __u64 v);
void jsonw_int_field(struct jsonw *w, const char *name, __s64 v);
void jsonw_bool_field(struct jsonw *w, const char *name, bool v);
void jsonw_null_field(struct jsonw *w, const char *name);

#endif
