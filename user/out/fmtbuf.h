/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Hand-written formatting into a char buffer, for the per-event path (output.c, jsonw.c): each
 * writes at p and returns the end of what it wrote; the caller makes room. The bytes are those
 * printf would write for the format named with each (vfprintf was a quarter of the stream's CPU:
 * bench/bench_pipeline.sh).
 */
#ifndef AT_FMTBUF_H
#define AT_FMTBUF_H

#include <string.h>
#include <linux/types.h>

/* The longest fmt_u64: 20 digits. */
#define FMT_U64_MAX 20

/* Decimal digits of v. */
static inline int fmt_digits(__u64 v)
{
	static const __u64 pow10[FMT_U64_MAX] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
		100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
		10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
		10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL,
		10000000000000000000ULL,
	};
	int n = 1;

	while (n < FMT_U64_MAX && v >= pow10[n])
		n++;
	return n;
}

/* "%llu": two digits at a time, from the end, straight into p. */
static inline char *fmt_u64(char *p, __u64 v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char *end = p + fmt_digits(v), *s = end;

	while (v >= 100) {
		unsigned int r = v % 100;

		v /= 100;
		s -= 2;
		s[0] = pairs[2 * r];
		s[1] = pairs[2 * r + 1];
	}
	if (v >= 10) {
		s[-2] = pairs[2 * v];
		s[-1] = pairs[2 * v + 1];
	} else {
		s[-1] = (char)('0' + v);
	}
	return end;
}

/* "%lld" */
static inline char *fmt_s64(char *p, __s64 v)
{
	if (v < 0)
		*p++ = '-';
	return fmt_u64(p, v < 0 ? -(__u64)v : (__u64)v);
}

/* "%s" of a string literal */
#define fmt_lit(p, s) ((char *)memcpy((p), (s), sizeof(s) - 1) + sizeof(s) - 1)

/* "%llx" */
static inline char *fmt_hex(char *p, __u64 v)
{
	int shift = 60;

	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(v >> shift) & 0xf];
	return p;
}

/* n bytes of s, then spaces up to width: "%-*s" of a string of length n. */
static inline char *fmt_pad(char *p, const char *s, size_t n, size_t width)
{
	memcpy(p, s, n);
	p += n;
	if (n < width) {
		memset(p, ' ', width - n);
		p += width - n;
	}
	return p;
}

/* "%u.%u.%u.%u", what inet_ntop writes for AF_INET. */
static inline char *fmt_ipv4(char *p, const __u8 *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = fmt_u64(p, a[i]);
	}
	return p;
}

#endif
