// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What one uprobe hit costs on this machine, by kind, with an empty BPF program (r0 = 0) attached
 * as the tracer attaches (uprobe_multi links, user/tls/umulti.c): the machinery alone, the floor
 * under bench/bench_probecost.sh's bare probes. The probed function is this program's own
 * (pk_fn below, a few instructions in assembly), so that no other tracer on the machine probes it
 * too (a libssl storm is probed by every library tracer running). Kinds:
 *   entry  a uprobe on pk_fn's first instruction, a push (the kernel emulates push)
 *   ret    a uretprobe on pk_fn (its uprobe at the entry hijacks the return address)
 *   both   entry + ret, what the tracer put on ssl3_dispatch_alert until 2026-12-02
 *   xol    a uprobe on a mov, which the kernel runs out of line under a single-step: two traps
 *   jcc    a uprobe on a conditional branch, which the kernel emulates
 * Interleaved ROUNDS times; per kind the median (min-max) CPU time per hit (this process's user +
 * system time, which the traps are charged to) less that of the same round's unprobed calls.
 * Usage: bench_uprobe_kinds [ROUNDS [CALLS]]   (default 7 rounds of 20000 calls)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "umulti.h"

#define UM_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI, as in umulti.c */
#define MAX_ROUNDS 51

/* long pk_fn(long x): x, through instructions of each kind. */
__asm__(".text\n"
	".globl pk_fn\n"
	".type pk_fn, @function\n"
	"pk_fn:\n"
	"	push %rbx\n"
	".globl pk_mov\n"
	"pk_mov:\n"
	"	mov %rdi, %rbx\n"
	"	test %rbx, %rbx\n"
	".globl pk_jcc\n"
	"pk_jcc:\n"
	"	jz 1f\n"
	"	add $0, %rbx\n"
	"1:	mov %rbx, %rax\n"
	"	pop %rbx\n"
	"	ret\n"
	".size pk_fn, . - pk_fn\n");
long pk_fn(long x);
extern char pk_mov[], pk_jcc[];

static const char *const kinds[] = {"none", "entry", "ret", "both", "xol", "jcc"};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* File offset of code address a in this executable, from /proc/self/maps. */
static long file_off(const void *a)
{
	unsigned long lo, hi, off, x = (unsigned long)a;
	char line[512], perm[8];
	FILE *f = fopen("/proc/self/maps", "r");
	long r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perm, &off) == 4 && x >= lo &&
		    x < hi && perm[2] == 'x') {
			r = (long)(x - lo + off);
			break;
		}
	fclose(f);
	return r;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const struct bpf_insn ret0[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = UM_ATTACH_TYPE);
	int rounds = argc > 1 ? atoi(argv[1]) : 7, calls = argc > 2 ? atoi(argv[2]) : 20000;
	static double cost[NKINDS][MAX_ROUNDS];
	long o_fn = file_off((void *)pk_fn), o_mov = file_off(pk_mov), o_jcc = file_off(pk_jcc);
	char exe[4096];
	ssize_t n;
	int prog;
	volatile long sink = 0;

	if (geteuid() != 0) {
		printf("bench_uprobe_kinds: needs root (uprobes): run as root\n");
		return 0;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || calls < 1) {
		fprintf(stderr, "usage: bench_uprobe_kinds [ROUNDS (1-%d) [CALLS]]\n", MAX_ROUNDS);
		return 2;
	}
	/* bench/run.sh passes its own arguments (rounds, repeats): keep the call count sane */
	if (calls > 200000)
		calls = 20000;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || o_fn < 0 || o_mov < 0 || o_jcc < 0) {
		fprintf(stderr, "bench_uprobe_kinds: cannot find this program's code offsets\n");
		return 1;
	}
	exe[n] = 0;
	if (!um_supported()) {
		printf("bench_uprobe_kinds: this kernel has no uprobe_multi links\n");
		return 0;
	}
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bare", "GPL", ret0, 2, &po);
	if (prog < 0) {
		fprintf(stderr, "bench_uprobe_kinds: cannot load the empty program: %s\n",
			strerror(errno));
		return 1;
	}
	printf("bench_uprobe_kinds: %d rounds of %d calls per kind, an empty program each\n",
	       rounds, calls);
	for (int r = 0; r < rounds; r++) {
		double base = 0;

		for (size_t k0 = 0; k0 < NKINDS; k0++) {
			/* rotate the order by round; "none" measured first so the others pair */
			size_t k = k0 == 0 ? 0 : 1 + (k0 - 1 + r) % (NKINDS - 1);
			int fds[2] = {-1, -1};
			double t0, t1;

			if (k == 1 || k == 3)
				fds[0] = um_attach(prog, exe, o_fn, 0, false);
			if (k == 2 || k == 3)
				fds[1] = um_attach(prog, exe, o_fn, 0, true);
			if (k == 4)
				fds[0] = um_attach(prog, exe, o_mov, 0, false);
			if (k == 5)
				fds[0] = um_attach(prog, exe, o_jcc, 0, false);
			if (fds[0] < -1 || fds[1] < -1) {
				fprintf(stderr, "bench_uprobe_kinds: attach (%s): %s\n", kinds[k],
					strerror(-(fds[0] < -1 ? fds[0] : fds[1])));
				return 1;
			}
			t0 = cpu_s();
			for (int i = 0; i < calls; i++)
				sink += pk_fn(i);
			t1 = cpu_s();
			for (int j = 0; j < 2; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			if (k == 0)
				base = (t1 - t0) / calls;
			cost[k][r] = (t1 - t0) / calls - base;
		}
	}
	printf("%-8s %24s\n", "kind", "us per hit, median (min-max)");
	for (size_t k = 1; k < NKINDS; k++) {
		qsort(cost[k], rounds, sizeof(double), cmp);
		printf("%-8s %10.2f (%.2f-%.2f)\n", kinds[k], cost[k][rounds / 2] * 1e6,
		       cost[k][0] * 1e6, cost[k][rounds - 1] * 1e6);
	}
	close(prog);
	return sink == -1;
}
