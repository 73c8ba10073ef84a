// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The binary directories' programs prepared beside the tracer (libpath_local.h). A host's first
 * start (no plan cache, or a new alerttrace) would otherwise look at each program of /usr/bin
 * and the others and analyse those that carry a TLS library before its ready line: 0.4-4 s here.
 * Those whose look or plan needs a file read go to a child process, forked after the first scan's
 * static part, at nice 19, which looks and analyses them and writes what it found as plan cache
 * records (plancache.h) into a pipe. The tracer's loop takes the records (onto the plan cache on
 * disk too) and hooks each program whose plan came; its ring buffer is not left unread for an
 * analysis (but for a program without a build-id: libpath.c), and an analyser that crashes on some file takes the child with it, not the tracer.
 * A program that runs before the child reaches it is analysed at its exec, as any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "libpath_local.h"
#include "btfmin.h"
#include "log.h"
#include "shared.h"

#define BP_FD 3 /* the pipe in the child */
#define BP_BUDGET_MS 10

void bp_defer(struct lib_tracer *lt, const char *path)
{
	struct binprep *b = &lt->bp;

	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 64;
		char **v = realloc(b->paths, cap * sizeof(*v));

		if (!v)
			return;
		b->paths = v;
		b->cap = cap;
	}
	b->paths[b->n] = strdup(path);
	if (b->paths[b->n])
		b->n++;
}

/* The child: nothing of the tracer's but the file analysers and the pipe. Never returns. */
static void child(struct lib_tracer *lt, int wfd, pid_t parent)
{
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "alerttrace-prep"); /* what ps shows: not a second tracer */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	setpriority(PRIO_PROCESS, 0, 19);
	if (wfd != BP_FD && dup2(wfd, BP_FD) < 0)
		_exit(1);
	/* The BPF objects, links, ring buffer and sockets stay the tracer's alone. */
	close_range(BP_FD + 1, ~0U, 0);
	lt->pc.fd = BP_FD; /* every plan and look goes to the tracer, which keeps it */
	lt->pc.plen = 0;
	lt->verbose = false;
	for (i = 0; i < lt->bp.n; i++) {
		lp_prepare(lt, lt->bp.paths[i], LP_PREP_CHILD);
		pc_flush(&lt->pc);
		if (lt->pc.fd < 0)
			_exit(1); /* the tracer is gone */
		/* Its records are in the pipe: the tracer may hook it once it has read them. */
		__atomic_store_n(lt->bp.progress, i + 1, __ATOMIC_RELEASE);
	}
	_exit(0);
}

/* No child (what failed: errno): the programs prepared here, before the ready line. */
static void prepare_here(struct lib_tracer *lt, const char *what)
{
	struct binprep *b = &lt->bp;
	int i;

	p_err("cannot prepare the binary directories' programs beside the tracer (%s: %s): "
	      "preparing them now", what, strerror(errno));
	for (i = 0; i < b->n; i++)
		lp_prepare(lt, b->paths[i], LP_PREP_ALL);
}

void bp_start(struct lib_tracer *lt)
{
	struct binprep *b = &lt->bp;
	pid_t parent = getpid(), pid;
	int p[2];

	if (!b->n)
		return;
	b->t0 = shared_now_ms();
	b->progress = mmap(NULL, sizeof(*b->progress), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b->progress == MAP_FAILED)
		b->progress = NULL;
	if (!b->progress || pipe2(p, O_CLOEXEC) < 0) {
		prepare_here(lt, b->progress ? "pipe" : "mmap");
		return;
	}
	pc_flush(&lt->pc); /* nothing of ours written twice */
	fflush(stderr);
	/* No other thread of ours in the allocator while the heap is copied (the TC load and the
	 * exec watch's threads are joined by now; the BTF prefetch's may still parse). */
	btfmin_hold();
	pid = fork();
	if (pid == 0)
		child(lt, p[1], parent);
	btfmin_unhold();
	close(p[1]);
	if (pid < 0) {
		prepare_here(lt, "fork");
		close(p[0]);
		return;
	}
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	b->pid = pid;
	b->fd = p[0];
	if (lt->verbose)
		p_debug("libs: %d programs of the binary directories to look at or analyse: pid %d "
			"prepares them\n", b->n, pid);
}

/* The child's end: its status said (a crash is its own, the programs are analysed at exec). */
static void reap(struct lib_tracer *lt, bool kill_it)
{
	struct binprep *b = &lt->bp;
	int status = 0, left;

	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->eof = false;
	if (!b->pid)
		return;
	if (kill_it)
		kill(b->pid, SIGKILL);
	while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
		;
	left = b->n - __atomic_load_n(b->progress, __ATOMIC_ACQUIRE);
	if (!kill_it && (!WIFEXITED(status) || WEXITSTATUS(status)))
		p_err("preparing the binary directories' programs: pid %d ended by %s %d with %d "
		      "of %d programs left: they are analysed when they run", b->pid,
		      WIFSIGNALED(status) ? "signal" : "status",
		      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), left, b->n);
	else if (!kill_it && lt->verbose)
		p_debug("libs: binary directories prepared: %d programs looked at or analysed by "
			"pid %d in %.1f ms, %d hooked\n",
			b->n, b->pid, shared_now_ms() - b->t0, b->hooked);
	b->pid = 0;
}

int bp_poll(struct lib_tracer *lt)
{
	struct binprep *b = &lt->bp;
	bool eof = b->eof, bad = false;
	double t0 = shared_now_ms();
	int i, n = 0, done;
	size_t used;

	if (b->fd < 0 && !b->eof)
		return 0;
	/* Before the reads: the records of paths[0 .. done-1] were written before it was. */
	done = __atomic_load_n(b->progress, __ATOMIC_ACQUIRE);
	while (b->fd >= 0) {
		ssize_t r;

		if (b->bufcap - b->len < 65536) {
			size_t cap = b->bufcap ? b->bufcap * 2 : 262144;
			char *nb = realloc(b->buf, cap);

			if (!nb) {
				bad = true;
				break;
			}
			b->buf = nb;
			b->bufcap = cap;
		}
		r = read(b->fd, b->buf + b->len, b->bufcap - b->len);
		if (r > 0) {
			b->len += r;
			continue;
		}
		if (r == 0)
			eof = true;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN)
			eof = true;
		break;
	}
	used = lp_take_records(lt, b->buf, b->len, &bad);
	memmove(b->buf, b->buf + used, b->len - used);
	b->len -= used;
	/* A program the child is done with: hooked now when its look and plan came (never a file
	 * analysed here). An attach takes 1-20 ms: at most BP_BUDGET_MS of them per call. */
	for (i = b->next; i < done && shared_now_ms() - t0 < BP_BUDGET_MS; i++)
		n += lp_prepare(lt, b->paths[i], LP_PREP_KNOWN);
	b->next = i;
	b->hooked += n;
	if (bad) {
		p_err("preparing the binary directories' programs: a bad record from pid %d: the "
		      "rest are analysed when they run", b->pid);
		reap(lt, true);
	} else if (eof && b->next < done) {
		/* All came; what is left is hooked by the next calls. */
		if (b->fd >= 0)
			close(b->fd);
		b->fd = -1;
		b->eof = true;
	} else if (eof) {
		reap(lt, false);
	}
	return n;
}

void bp_stop(struct lib_tracer *lt)
{
	struct binprep *b = &lt->bp;
	int i;

	reap(lt, true);
	for (i = 0; i < b->n; i++)
		free(b->paths[i]);
	free(b->paths);
	free(b->buf);
	if (b->progress)
		munmap(b->progress, sizeof(*b->progress));
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}
