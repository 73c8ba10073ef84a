/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * .eh_frame (LSB Core, "Exception Frames") as a table of functions: every FDE's start and end,
 * sorted by start. A stripped library still carries .eh_frame for unwinding, so this is where
 * function bounds come from when there are no symbols. Every read is bounds-checked: bad input
 * ends the parse with what was read before it, never a crash.
 */
#ifndef AT_BIN_EHFRAME_H
#define AT_BIN_EHFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "elf.h"

/* One FDE: the code range [start, end) it describes, a function in compiled C. */
struct bin_fde {
	uint64_t start, end;
};

struct bin_fdes {
	struct bin_fde *v; /* sorted by start once bin_fdes_load or bin_fdes_sort ran */
	size_t n, cap;
};

/* Parse one .eh_frame section of n bytes at p, loaded at va, appending its FDEs to t (unsorted).
 * Returns -1 at the first malformed entry (t keeps the FDEs before it), 0 otherwise. */
int bin_fdes_parse(struct bin_fdes *t, const uint8_t *p, size_t n, uint64_t va);
void bin_fdes_sort(struct bin_fdes *t);
/* Every .eh_frame section of f, parsed and sorted. Returns the number of FDEs. */
size_t bin_fdes_load(struct bin_fdes *t, const struct bin_elf *f);
void bin_fdes_free(struct bin_fdes *t);

/* The FDE starting exactly at va, NULL otherwise. */
const struct bin_fde *bin_fde_at(const struct bin_fdes *t, uint64_t va);
/* The FDE whose range contains va, NULL otherwise. */
const struct bin_fde *bin_fde_containing(const struct bin_fdes *t, uint64_t va);

/* Iterate over every FDE in address order: for (d = t->v; d < t->v + t->n; d++), or: */
#define bin_fdes_for_each(d, t) for (const struct bin_fde *d = (t)->v; d < (t)->v + (t)->n; d++)

#endif
