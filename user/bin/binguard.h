/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A guard for reading files through a mapping. The analysers read a library's file through
 * a shared read-only mapping (elf.h), which costs only the pages they touch; but a file that
 * shrinks while it is mapped (truncated in place, e.g. `cp` over it) turns a read past its new
 * end into SIGBUS. Inside a guard, that SIGBUS on this thread returns to the guard instead of
 * killing the tracer: bin_guard_enter's second return, nonzero, says the file changed under
 * the analysis. Outside any guard, SIGBUS keeps its default action.
 *
 *	struct bin_guard g;
 *
 *	if (bin_guard_enter(&g))
 *		... the file shrank: the analysis is abandoned (what it allocated is lost) ...
 *	else
 *		... analyse ...
 *	bin_guard_leave(&g);
 *
 * Guards nest (a guard's frame must stay live until its bin_guard_leave). Code between enter
 * and leave must not hold a lock across the reads of a mapping without a guard of its own
 * inside the lock, since the jump skips its unlock.
 */
#ifndef AT_BIN_BINGUARD_H
#define AT_BIN_BINGUARD_H

#include <setjmp.h>
#include <stdbool.h>

struct bin_guard {
	sigjmp_buf jb;
	struct bin_guard *prev;
};

void bin_guard__push(struct bin_guard *g);

/* 0 on entry; nonzero when a SIGBUS of this thread jumped back (the guard is still entered). */
#define bin_guard_enter(g) (bin_guard__push(g), sigsetjmp((g)->jb, 1))

void bin_guard_leave(struct bin_guard *g);

/* A guard is entered on this thread: a file may be read through a mapping. */
bool bin_guard_active(void);

#endif
