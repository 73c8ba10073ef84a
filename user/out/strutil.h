/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Output safety and strict parsing. Everything alerttrace prints that came from the traced host
 * (comm, paths, host names) goes through one of these, so a hostile process name cannot inject
 * terminal escapes, break a JSON line or forge a Prometheus sample.
 *
 * All three writers decode UTF-8 strictly (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF). Valid UTF-8 text passes through unchanged except for the characters each format
 * must escape; what they do with the rest:
 *
 *                      C0, DEL, C1 (U+0080-U+009F)   invalid UTF-8 byte
 *   json_str           \uXXXX of the code point       \u00XX of the byte
 *   text_safe          \xHH of each byte              \xHH of the byte
 *   prom_label         \\xHH of each byte (*)         U+FFFD
 *
 * (*) The Prometheus text format knows only the escapes \\, \" and \n, so a control byte is
 *     written as an escaped backslash followed by "xHH": the label value reads "\x1b".
 */
#ifndef AT_STRUTIL_H
#define AT_STRUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

/* Write s as a JSON string, quotes included. The output is always valid JSON; NULL prints "". */
void json_str(FILE *f, const char *s);
/*
 * The same escaping into a buffer, for writers that keep their own (jsonw.c): escapes *s into
 * out..end without the quotes, stops at the end of *s or when fewer than JSON_ESC_UNIT bytes are
 * left (never inside an escape or a character), moves *s past what it wrote; returns the end of
 * the output. *s must not be NULL.
 */
#define JSON_ESC_UNIT 6
char *json_esc(char *out, char *end, const char **s);

/*
 * Copy s into buf (n bytes) for a text column: control characters become \xHH, a backslash
 * becomes \\. Truncates at a character boundary, never inside an escape, and always terminates
 * buf when n > 0. Returns buf ("" when n == 0; NULL s is treated as "").
 */
const char *text_safe(const char *s, char *buf, size_t n);
/* strerror(e), lower-cased for our one-line messages ("address already in use"), in buf. */
const char *errtext(int e, char *buf, size_t n);

/* Write s as a Prometheus label value, quotes included (see the table above). */
void prom_label(FILE *f, const char *s);

/*
 * Strict decimal: digits only (no sign, no space, no "0x"), at least one, value <= max (max is
 * capped at UINT32_MAX). Returns 0, -EINVAL (empty, NULL or junk) or -ERANGE. *out is written
 * only on success.
 */
int parse_u32(const char *s, unsigned long max, __u32 *out);

/*
 * Comma-separated list of parse_u32 numbers, "1,2,3": no spaces, no empty items. Returns the
 * count (>= 1), -EINVAL, -ERANGE, or -E2BIG when there are more than cap items. out[] holds
 * cap entries; on failure some of them may have been written.
 */
int parse_list_u32(const char *s, unsigned long max, __u32 *out, int cap);

#endif
