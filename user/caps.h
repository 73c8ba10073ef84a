/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The capabilities the tracer needs, checked once at start: which ones a run with these sources
 * lacks, named with what each is for, in one line.
 */
#ifndef AT_CAPS_H
#define AT_CAPS_H

#include <stdbool.h>
#include <stddef.h>

struct caps_need {
	bool wire;	/* the TC classifier and the socket owners */
	bool lib;	/* the library uprobes and discovery */
	bool cleanup;	/* --cleanup: netlink only */
};

/*
 * Writes "CAP_X (what for), CAP_Y (what for)" into buf for what the effective set lacks and
 * returns how many are missing (0: everything is there).
 */
int caps_missing(const struct caps_need *need, char *buf, size_t len);

/* The effective set holds capability cap (CAP_SYS_ADMIN, ...). */
bool caps_have(int cap);

#endif
