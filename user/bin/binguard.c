// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* SIGBUS guards for mapped files (binguard.h). */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include "binguard.h"

static __thread struct bin_guard *cur;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct bin_guard *g = cur;

	(void)uc;
	/* A fault of this thread (si_code > 0: the kernel's, BUS_ADRERR for a mapping past the
	 * file's end), not a SIGBUS someone sent (kill: SI_USER, 0). */
	if (g && si->si_code > 0)
		siglongjmp(g->jb, 1);
	/* Not ours: the default action, when the faulting access runs again on return (a fault)
	 * or now (a SIGBUS sent). */
	signal(sig, SIG_DFL);
	if (si->si_code <= 0)
		raise(sig);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

void bin_guard__push(struct bin_guard *g)
{
	pthread_once(&once, install);
	g->prev = cur;
	cur = g;
}

void bin_guard_leave(struct bin_guard *g)
{
	cur = g->prev;
}

bool bin_guard_active(void)
{
	return cur != NULL;
}
