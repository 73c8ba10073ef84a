// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Output safety and strict parsing; the escaping rules are tabulated in strutil.h. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strutil.h"

/*
 * Length (1-4) of the well-formed UTF-8 sequence starting at s, its code point in *cp; 0 when s
 * does not start one. The byte ranges are the table of RFC 3629 section 4, which excludes
 * overlong forms, surrogates and code points above U+10FFFF. Stops at the first bad byte, so it
 * never reads past a terminating NUL.
 */
static int utf8_seq(const unsigned char *s, __u32 *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	int len, i;
	__u32 v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return len;
}

/* C0 controls, DEL and the C1 controls: the code points a terminal may act on. */
static int is_ctrl(__u32 cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* "\\u%04x" of v (at most 0xffff) */
static char *u_escape(char *o, __u32 v)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '\\';
	*o++ = 'u';
	*o++ = hex[(v >> 12) & 0xf];
	*o++ = hex[(v >> 8) & 0xf];
	*o++ = hex[(v >> 4) & 0xf];
	*o++ = hex[v & 0xf];
	return o;
}

char *json_esc(char *o, char *end, const char **sp)
{
	const unsigned char *p = (const unsigned char *)*sp;
	__u32 cp;
	int len;

	while (*p && end - o >= JSON_ESC_UNIT) {
		const unsigned char *q = p, *stop = p + (end - o);

		/* Printable ASCII other than the two JSON escapes: one copy for the whole run. */
		while (q < stop && *q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
			q++;
		if (q != p) {
			memcpy(o, p, q - p);
			o += q - p;
			p = q;
			continue;
		}
		len = utf8_seq(p, &cp);
		if (len == 0) {
			/* Not UTF-8: keep the byte's value visible, as U+00XX. */
			o = u_escape(o, *p++);
			continue;
		}
		switch (cp) {
		case '"':
		case '\\':
			*o++ = '\\';
			*o++ = (char)cp;
			break;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			break;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			break;
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			break;
		default:
			if (is_ctrl(cp)) {
				o = u_escape(o, cp);
			} else {
				memcpy(o, p, len);
				o += len;
			}
		}
		p += len;
	}
	*sp = (const char *)p;
	return o;
}

void json_str(FILE *f, const char *s)
{
	const char *p = s ? s : "";
	char buf[256], *o;

	fputc('"', f);
	do {
		o = json_esc(buf, buf + sizeof(buf), &p);
		fwrite(buf, 1, o - buf, f);
	} while (*p);
	fputc('"', f);
}

/* Write "\xHH" (with pre as the backslash part) for each of the len bytes at p into out. */
static int hex_escape(char *out, const char *pre, const unsigned char *p, int len)
{
	int i, o = 0;

	for (i = 0; i < len; i++)
		o += sprintf(out + o, "%sx%02x", pre, p[i]);
	return o;
}

const char *text_safe(const char *s, char *buf, size_t n)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char unit[4 * 4 + 1];	/* the longest unit: a 2-byte C1 character, or 4 raw bytes */
	size_t pos = 0, ulen;
	__u32 cp;
	int len;

	if (n == 0)
		return "";
	while (*p) {
		/* Printable ASCII but the backslash, the common case: as it is. */
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			if (pos + 1 >= n)
				break;
			buf[pos++] = (char)*p++;
			continue;
		}
		len = utf8_seq(p, &cp);
		if (len == 0) {
			ulen = hex_escape(unit, "\\", p, 1);
			len = 1;
		} else if (is_ctrl(cp)) {
			ulen = hex_escape(unit, "\\", p, len);
		} else if (cp == '\\') {
			memcpy(unit, "\\\\", 2);
			ulen = 2;
		} else {
			memcpy(unit, p, len);
			ulen = len;
		}
		/* Whole units only: a cut escape or UTF-8 sequence would be a new hazard. */
		if (pos + ulen >= n)
			break;
		memcpy(buf + pos, unit, ulen);
		pos += ulen;
		p += len;
	}
	buf[pos] = '\0';
	return buf;
}

void prom_label(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char unit[4 * 5 + 1];
	__u32 cp;
	int len;

	fputc('"', f);
	while (*p) {
		len = utf8_seq(p, &cp);
		if (len == 0) {
			fputs("\xef\xbf\xbd", f);	/* U+FFFD REPLACEMENT CHARACTER */
			p++;
			continue;
		}
		if (cp == '\\') {
			fputs("\\\\", f);
		} else if (cp == '"') {
			fputs("\\\"", f);
		} else if (cp == '\n') {
			fputs("\\n", f);
		} else if (is_ctrl(cp)) {
			hex_escape(unit, "\\\\", p, len);
			fputs(unit, f);
		} else {
			fwrite(p, 1, len, f);
		}
		p += len;
	}
	fputc('"', f);
}

static int parse_u32_n(const char *s, size_t len, unsigned long max, __u32 *out)
{
	unsigned long long v = 0;
	int too_big = 0;
	size_t i;

	if (!s || len == 0)
		return -EINVAL;
	if (max > UINT32_MAX)
		max = UINT32_MAX;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		/* v <= max < 2^32 here, so v * 10 + 9 cannot overflow. */
		if (!too_big) {
			v = v * 10 + (s[i] - '0');
			too_big = v > max;
		}
	}
	if (too_big)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u32(const char *s, unsigned long max, __u32 *out)
{
	return parse_u32_n(s, s ? strlen(s) : 0, max, out);
}

int parse_list_u32(const char *s, unsigned long max, __u32 *out, int cap)
{
	const char *p = s, *comma;
	int count = 0, err;
	size_t len;
	__u32 v;

	if (!s)
		return -EINVAL;
	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		err = parse_u32_n(p, len, max, &v);
		if (err)
			return err;
		if (count >= cap)
			return -E2BIG;
		out[count++] = v;
		if (!comma)
			return count;
		p = comma + 1;
	}
}

const char *errtext(int e, char *buf, size_t n)
{
	snprintf(buf, n, "%s", strerror(e));
	if (buf[0])
		buf[0] = tolower((unsigned char)buf[0]);
	return buf;
}
