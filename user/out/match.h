/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One alert seen by both a library hook and the wire is two observations: both are printed, and
 * the later one is marked as the same alert as the earlier one. They match when they come from
 * the same process (the wire event's socket owner), in the same direction, with the same alert
 * (or an encrypted wire record and a library alert of TLS 1.2 or earlier), within a short window.
 * A library event that knows its connection's ends (read from its socket) matches only a wire
 * event of those ends and learns the interface; one that does not learns the wire event's ends.
 */
#ifndef AT_MATCH_H
#define AT_MATCH_H

#include <stdbool.h>
#include <linux/types.h>
#include "alerttrace.h"

#define MATCH_WINDOW_NS 1000000000ULL

/* Give e an id; returns the id of the earlier observation of the same alert, or 0. When e is a
 * library event that matches a wire event, copies the wire event's interface, and its addresses
 * when e has none, into *e. */
__u64 match_event(struct at_event *e, __u64 *id);

/* Without a library source (--no-lib) nothing can pair: match_event then only gives ids. */
void match_set_libs(bool on);

#endif
