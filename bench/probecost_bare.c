// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bare probes of bench/bench_probecost.sh: an empty BPF program (r0 = 0; exit) attached to
 * one libssl with the tracer's own mechanism (uprobe_multi links, user/tls/umulti.c) at the sites
 * SPEC names, then nothing until SIGINT or SIGTERM. What the kernel's uprobe machinery costs at
 * those sites, without any work of ours.
 *
 *   probecost_bare LIBSSL SPEC...
 *   SPEC  entry   an entry uprobe on ssl3_dispatch_alert (as the analysis finds it)
 *         ret     a uretprobe on ssl3_dispatch_alert
 *         read    the instruction uprobe in ssl3_read_bytes (the tracer's read probe)
 *         read0   the first instruction of the read probe's block, where the tracer placed it
 *                 before it preferred the block's conditional branch (single-stepped there)
 *         plan    every probe of the OpenSSL provider's plan for LIBSSL that the tracer
 *                 attaches, kind for kind (the tracer's current sites, with the reason's
 *                 on ERR_vset_error in libcrypto; not the fatal fallback the read probe
 *                 makes unnecessary)
 *         0xOFF   an instruction uprobe at file offset OFF; 0xOFF:ret a uretprobe there
 *
 * Prints "Tracing TLS alerts (bare: N probes at OFF...)" on stderr once every probe is attached,
 * so that the bench waits for it as for the tracer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "elf.h"
#include "ossl_hooks.h"
#include "provider.h"
#include "umulti.h"
#include "x86flow.h"

#define UM_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI, as in umulti.c */
#define MAX_LINKS 64

extern const struct tls_provider openssl_provider;

static volatile sig_atomic_t done;
static int links[MAX_LINKS], nlinks;
static char sites[MAX_LINKS * 24];

static void on_sig(int sig)
{
	done = 1;
}

/* A probe a tracer that only counts leaves out (the provider's written_progs). */
static bool written_prog(const char *prog)
{
	for (int i = 0; openssl_provider.written_progs && openssl_provider.written_progs[i]; i++)
		if (!strcmp(openssl_provider.written_progs[i], prog))
			return true;
	return false;
}

static const uint8_t *code_bytes(void *ctx, uint64_t va, uint64_t len)
{
	return bin_elf_va_ptr(ctx, va, len, 1);
}

/* File offset of the first instruction of the block that holds the read probe; 0 on failure. */
static uint64_t read_block_start(const char *lib, const struct oh_read_probe *rp)
{
	struct bin_elf e;
	struct xf x;
	struct xf_fn fn;
	struct xf_code code = {code_bytes, &e};
	uint64_t off = 0;
	int i, b;

	if (bin_elf_open(&e, lib)) {
		bin_elf_close(&e);
		return 0;
	}
	if (xf_open(&x, &code) == 0) {
		if (xf_fn_analyze(&fn, &x, rp->func, rp->func_end) == 0 &&
		    (i = xf_insn_at(&fn, rp->p.vaddr)) >= 0 && (b = xf_blk_of_insn(&fn, i)) >= 0 &&
		    bin_elf_va2off(&e, fn.ins[fn.b[b].first].addr, 1, &off, 1))
			off = 0;
		xf_fn_free(&fn);
		xf_close(&x);
	}
	bin_elf_close(&e);
	return off;
}

static int attach(int prog, const char *lib, uint64_t off, bool ret)
{
	int fd;

	if (nlinks >= MAX_LINKS) {
		fprintf(stderr, "probecost_bare: more than %d probes\n", MAX_LINKS);
		return -1;
	}
	fd = um_attach(prog, lib, off, 0, ret);
	if (fd < 0) {
		fprintf(stderr, "probecost_bare: attach at 0x%llx%s: %s\n", (unsigned long long)off,
			ret ? " (ret)" : "", strerror(-fd));
		return -1;
	}
	links[nlinks++] = fd;
	snprintf(sites + strlen(sites), sizeof(sites) - strlen(sites), "%s0x%llx%s",
		 nlinks > 1 ? " " : "", (unsigned long long)off, ret ? ":ret" : "");
	return 0;
}

int main(int argc, char **argv)
{
	const struct bpf_insn ret0[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = UM_ATTACH_TYPE);
	static struct oh_result r;
	static struct tp_plan plan;
	const char *lib;
	int prog, i, rc = 1;

	if (argc < 3) {
		fprintf(stderr,
			"usage: probecost_bare LIBSSL entry|ret|read|read0|plan|plan-count|0xOFF[:ret]...\n");
		return 2;
	}
	lib = argv[1];
	if (!um_supported()) {
		fprintf(stderr, "probecost_bare: this kernel has no uprobe_multi links\n");
		return 1;
	}
	if (oh_analyze(lib, "", &r) < 0 || !r.dispatch.ok || !r.read.p.ok) {
		fprintf(stderr, "probecost_bare: %s: %s%s%s\n", lib, r.why, r.dispatch.why,
			r.read.p.why);
		return 1;
	}
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bare", "GPL", ret0, 2, &po);
	if (prog < 0) {
		fprintf(stderr, "probecost_bare: cannot load the empty program: %s\n",
			strerror(errno));
		return 1;
	}
	for (i = 2; i < argc; i++) {
		const char *s = argv[i];
		char *end;

		if (!strcmp(s, "entry") || !strcmp(s, "ret")) {
			if (attach(prog, lib, r.dispatch.file_off, s[0] == 'r'))
				goto cleanup;
		} else if (!strcmp(s, "read")) {
			if (attach(prog, lib, r.read.p.file_off, false))
				goto cleanup;
		} else if (!strcmp(s, "read0")) {
			uint64_t off = read_block_start(lib, &r.read);

			if (!off) {
				fprintf(stderr,
					"probecost_bare: cannot find the read probe's block\n");
				goto cleanup;
			}
			if (attach(prog, lib, off, false))
				goto cleanup;
		} else if (!strcmp(s, "plan") || !strcmp(s, "plan-count")) {
			/* plan-count: as a tracer that only counts (-H) attaches, without the
			 * hooks that feed only the stream's details (the reason's) and the
			 * probes that only tell whether a sent alert was written (the
			 * dispatch's uretprobe). */
			bool count = s[4] != 0;

			if (openssl_provider.analyse(lib, "", &plan) < 0) {
				fprintf(stderr, "probecost_bare: %s: %s\n", lib, plan.why);
				goto cleanup;
			}
			/* Every hook the tracer attaches, as it decides (libpath.c): placed, and
			 * not made unnecessary by an attached one (the fatal fallback by the read
			 * probe); the aux hooks (ERR_vset_error's reason) on libcrypto. */
			bool on[TP_MAX_HOOKS] = {};

			for (int h = 0; h < plan.nhooks; h++) {
				const struct tp_hook *hk = &plan.hooks[h];

				on[h] = hk->placed && hk->nprobes &&
					!(hk->unless >= 0 && hk->unless < h && on[hk->unless]);
				for (int d = 0; count && openssl_provider.detail_hooks &&
						openssl_provider.detail_hooks[d]; d++)
					if (!strcmp(openssl_provider.detail_hooks[d], hk->key))
						on[h] = false;
				for (int k = 0; on[h] && k < hk->nprobes; k++)
					if (!(count && written_prog(hk->probes[k].prog)) &&
					    attach(prog, hk->on_aux ? plan.aux_path : lib,
						   hk->probes[k].file_off, hk->probes[k].ret))
						goto cleanup;
			}
		} else if (!strncmp(s, "0x", 2)) {
			uint64_t off = strtoull(s, &end, 16);

			if (*end && strcmp(end, ":ret")) {
				fprintf(stderr, "probecost_bare: bad site '%s'\n", s);
				goto cleanup;
			}
			if (attach(prog, lib, off, *end != 0))
				goto cleanup;
		} else {
			fprintf(stderr, "probecost_bare: bad site '%s'\n", s);
			goto cleanup;
		}
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	fprintf(stderr, "Tracing TLS alerts (bare: %d probes at %s)\n", nlinks, sites);
	while (!done)
		pause();
	rc = 0;
cleanup:
	for (i = 0; i < nlinks; i++)
		close(links[i]);
	close(prog);
	return rc;
}
