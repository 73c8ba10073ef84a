// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the loader's event path after the ring buffer, the matcher (user/out/match.c,
 * whose table of recent events lives on across inputs) and the printer (output.c, alerts.c,
 * jsonw.c, strutil.c), on any struct at_event the ring buffer could hold, with any library path. Beyond not crashing, each
 * event must print as exactly one line: in text mode with no control byte but the final newline
 * (a comm or a path must not forge a line), with -j as one valid JSON object (RFC 8259: UTF-8,
 * control characters escaped).
 *
 * Input: the event's bytes, one byte of mode (bit 0: JSON, bit 1: -T, bit 2: a library path
 * follows, bit 3: a second event follows first, matched and printed after the first), the second
 * event, the library path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "match.h"
#include "output.h"
#include "json_check.h"

static void fail(const char *what, const char *out, size_t n)
{
	size_t i;

	fprintf(stderr, "fuzz_event: %s; output (%zu bytes):\n", what, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%02x", (unsigned char)out[i]);
	fprintf(stderr, "\n");
	abort();
}

/* Match and print one event; abort if its line breaks a rule. */
static void one(struct at_event *e, const struct out_opts *o, const char *lib)
{
	static char out[1 << 17]; /* a 4 KiB path, each byte escaped in 6: 24 KiB */
	__u64 id, same_as;
	size_t n, i;
	FILE *f;

	f = fmemopen(out, sizeof(out), "w");
	if (!f)
		abort();
	same_as = match_event(e, &id);
	out_event(f, e, lib, id, same_as);
	fflush(f);
	n = ftell(f);
	fclose(f);
	if (n == 0 || n >= sizeof(out) - 1 || out[n - 1] != '\n')
		fail("not one line ending in a newline", out, n);
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			fail("a control byte inside the line", out, n);
	if (o->json && json_check(out, n - 1))
		fail("not one valid JSON object", out, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct at_event e, e2;
	struct out_opts o = {};
	size_t at = sizeof(e) + 1;
	char *lib = NULL;
	int two;

	if (size < at)
		return 0;
	memcpy(&e, data, sizeof(e));
	o.json = data[sizeof(e)] & 1;
	o.timestamps = data[sizeof(e)] & 2;
	two = data[sizeof(e)] & 8;
	if (two) {
		if (size < at + sizeof(e2))
			return 0;
		memcpy(&e2, data + at, sizeof(e2));
		at += sizeof(e2);
	}
	if (data[sizeof(e)] & 4) {
		lib = malloc(size - at + 1);
		memcpy(lib, data + at, size - at);
		lib[size - at] = 0;
	}
	out_init(&o);
	one(&e, &o, lib);
	if (two)
		one(&e2, &o, lib);
	free(lib);
	return 0;
}
