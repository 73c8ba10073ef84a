/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The event's JSON line (jsonline.c) and the names output.c makes for it and the text row. */
#ifndef AT_JSONLINE_H
#define AT_JSONLINE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "alerttrace.h"
#include "output.h"

/* e as one JSON line on f; enc: an encrypted alert; alert, ver: its names (out_event's). */
void out_json_line(FILE *f, const struct at_event *e, const char *lib, bool enc,
		   const char *alert, const char *ver, __u64 id, __u64 same_as);

/* What inet_ntop writes for one of e's addresses (IPv4: "%u.%u.%u.%u") at p, which has room
 * for INET6_ADDRSTRLEN bytes; "?" where it cannot. Returns the end. */
char *out_addr_put(char *p, const struct at_event *e, const __u8 *a);
/* at_source_name of a source byte, made once. */
const char *out_src_name(__u8 source);
/* The JSON name of a library event's hook ("dispatch", "read", ...). */
const char *out_hook_name(__u8 hook);

#endif
