/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A strict JSON syntax check (RFC 8259) for the fuzz targets: one value, objects, arrays,
 * strings (valid UTF-8, no raw control characters, only the escapes of section 7), numbers,
 * true/false/null. Returns 0 when s[0..n) is exactly one object.
 */
#ifndef AT_JSON_CHECK_H
#define AT_JSON_CHECK_H
#include <stddef.h>
#include <string.h>

struct jc {
	const unsigned char *p, *end;
	int depth;
};

static int jc_value(struct jc *c);

static void jc_ws(struct jc *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* One UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
static int jc_utf8(struct jc *c)
{
	unsigned b = *c->p, need, cp, min;

	if (b < 0x80) {
		c->p++;
		return 0;
	}
	if (b >= 0xc2 && b <= 0xdf)
		need = 1, cp = b & 0x1f, min = 0x80;
	else if (b >= 0xe0 && b <= 0xef)
		need = 2, cp = b & 0x0f, min = 0x800;
	else if (b >= 0xf0 && b <= 0xf4)
		need = 3, cp = b & 0x07, min = 0x10000;
	else
		return -1;
	if (c->end - c->p <= (ptrdiff_t)need)
		return -1;
	for (unsigned i = 1; i <= need; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (c->p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	c->p += need + 1;
	return 0;
}

static int jc_string(struct jc *c)
{
	c->p++; /* the opening quote */
	while (c->p < c->end) {
		unsigned ch = *c->p;

		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (++c->p >= c->end)
				return -1;
			if (*c->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (c->p + i >= c->end ||
					    !strchr("0123456789abcdefABCDEF", c->p[i]) || !c->p[i])
						return -1;
				c->p += 5;
			} else if (strchr("\"\\/bfnrt", *c->p) && *c->p) {
				c->p++;
			} else {
				return -1;
			}
			continue;
		}
		if (jc_utf8(c))
			return -1;
	}
	return -1;
}

static int jc_number(struct jc *c)
{
	const unsigned char *s = c->p;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end)
		return -1;
	if (*c->p == '0')
		c->p++;
	else if (*c->p >= '1' && *c->p <= '9')
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	else
		return -1;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return -1;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return -1;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	return c->p > s ? 0 : -1;
}

static int jc_word(struct jc *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return -1;
	c->p += n;
	return 0;
}

/* An object or array: open, members separated by commas, close. */
static int jc_container(struct jc *c, int object)
{
	unsigned char close = object ? '}' : ']';

	if (++c->depth > 64)
		return -1;
	c->p++;
	jc_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		c->depth--;
		return 0;
	}
	for (;;) {
		jc_ws(c);
		if (object) {
			if (c->p >= c->end || *c->p != '"' || jc_string(c))
				return -1;
			jc_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return -1;
		}
		if (jc_value(c))
			return -1;
		jc_ws(c);
		if (c->p >= c->end)
			return -1;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p++ != close)
			return -1;
		c->depth--;
		return 0;
	}
}

static int jc_value(struct jc *c)
{
	jc_ws(c);
	if (c->p >= c->end)
		return -1;
	switch (*c->p) {
	case '{':
		return jc_container(c, 1);
	case '[':
		return jc_container(c, 0);
	case '"':
		return jc_string(c);
	case 't':
		return jc_word(c, "true");
	case 'f':
		return jc_word(c, "false");
	case 'n':
		return jc_word(c, "null");
	default:
		return jc_number(c);
	}
}

static int json_check(const char *s, size_t n)
{
	struct jc c = {(const unsigned char *)s, (const unsigned char *)s + n, 0};

	jc_ws(&c);
	if (c.p >= c.end || *c.p != '{' || jc_value(&c))
		return -1;
	jc_ws(&c);
	return c.p == c.end ? 0 : -1;
}
#endif
