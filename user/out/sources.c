// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "alerttrace.h"
#include "sources.h"

static const char *const names[] = {
	[AT_SRC_WIRE] = "wire",
	[AT_SRC_OPENSSL] = "openssl",
	[AT_SRC_GNUTLS] = "gnutls",
	[AT_SRC_GO] = "go",
	[AT_SRC_QUIC] = "quic",
};

bool at_source_on_wire(int source)
{
	return source == AT_SRC_WIRE || source == AT_SRC_QUIC;
}

const char *at_source_name(int source, char *buf, size_t n)
{
	const char *name = NULL;

	if (source >= 0 && source < (int)(sizeof(names) / sizeof(names[0])))
		name = names[source];
	if (buf && n && name)
		snprintf(buf, n, "%s", name);
	else if (buf && n)
		snprintf(buf, n, "src(%d)", source);
	if (name)
		return name;
	return buf && n ? buf : "src(?)";
}
