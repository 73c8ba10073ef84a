// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the event printer (user/out/output.c, alerts.c, jsonw.c, strutil.c) on any
 * struct at_event the ring buffer could hold, with any library path. Beyond not crashing, each
 * event must print as exactly one line: in text mode with no control byte but the final newline
 * (a comm or a path must not forge a line), with -j as one valid JSON object (RFC 8259: UTF-8,
 * control characters escaped).
 *
 * Input: the event's bytes, one byte of mode (bit 0: JSON, bit 1: -T), then the library path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[1 << 17]; /* a 4 KiB path, each byte escaped in 6: 24 KiB */
	struct at_event e;
	struct out_opts o = {};
	char *lib = NULL;
	FILE *f;
	size_t n, i;

	if (size < sizeof(e) + 1)
		return 0;
	memcpy(&e, data, sizeof(e));
	o.json = data[sizeof(e)] & 1;
	o.timestamps = data[sizeof(e)] & 2;
	if (data[sizeof(e)] & 4) {
		lib = malloc(size - sizeof(e));
		memcpy(lib, data + sizeof(e) + 1, size - sizeof(e) - 1);
		lib[size - sizeof(e) - 1] = 0;
	}
	out_init(&o);
	f = fmemopen(out, sizeof(out), "w");
	if (!f)
		abort();
	out_event(f, &e, lib, e.ts_ns >> 1, e.session & 0xffff);
	fflush(f);
	n = ftell(f);
	fclose(f);
	free(lib);
	if (n == 0 || n >= sizeof(out) - 1 || out[n - 1] != '\n')
		fail("not one line ending in a newline", out, n);
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			fail("a control byte inside the line", out, n);
	if (o.json && json_check(out, n - 1))
		fail("not one valid JSON object", out, n);
	return 0;
}
