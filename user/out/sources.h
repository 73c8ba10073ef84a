/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The names of the event sources (enum at_source in bpf/alerttrace.h), one table for every
 * output: text columns, JSON events, histogram rows and metric labels.
 */
#ifndef AT_SOURCES_H
#define AT_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

/* Long enough for any name and for the fallback of any int. */
#define AT_SOURCE_NAME_MAX 24

/*
 * "wire", "openssl", "gnutls", "go", "quic". A value without a name (no BPF program writes one) is
 * "src(N)" in every format: short enough for the text columns, and nothing in it needs escaping
 * in JSON, text or a Prometheus label. The name is also written into buf (n bytes, may be
 * NULL/0), like at_alert_name; the returned pointer is never truncated for a named source.
 */
const char *at_source_name(int source, char *buf, size_t n);

/* Sources that see packets (wire, quic): an interface and addresses, no library or session. */
bool at_source_on_wire(int source);

#endif
