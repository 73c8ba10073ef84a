// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Discovery at exec (execwatch.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "elf.h"
#include "btfmin.h"
#include "execwatch.h"
#include "exec.h"
#include "exec.skel.h"
#include "umulti.h"

#define MAX_LDSO 64

struct execwatch {
	struct exec_bpf *skel;
	struct ring_buffer *own;	/* the exec ring alone, for ew_wait() */
	struct bpf_link *ldso[MAX_LDSO];	/* perf-event uprobes, or */
	int ldso_fd[MAX_LDSO];			/* uprobe_multi links (umulti.h) */
	int nldso;
	ew_pid_fn fn;
	void *ctx;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct execwatch *ew = ctx;
	struct ew_event e;

	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	ew->fn(ew->ctx, (int)e.pid, e.ts_ns, e.kind == EW_EXEC);
	return 0;
}

int ew_open(struct execwatch **ewp, struct ring_buffer *rb, ew_pid_fn fn, void *ctx)
{
	struct execwatch *ew = calloc(1, sizeof(*ew));
	int err;

	*ewp = NULL;
	if (!ew)
		return -ENOMEM;
	ew->fn = fn;
	ew->ctx = ctx;
	ew->skel = BTFMIN_OPEN(exec);
	if (!ew->skel) {
		err = -errno;
		goto fail;
	}
	/* As a uprobe_multi link the probe on _dl_debug_state needs no CAP_SYS_ADMIN, which the
	 * perf-event uprobe wants since the fix of CVE-2025-38466. */
	if (um_supported())
		um_prepare_prog(ew->skel->progs.dl_state);
	err = exec_bpf__load(ew->skel);
	if (err)
		goto fail;
	err = exec_bpf__attach(ew->skel);
	if (err)
		goto fail;
	err = ring_buffer__add(rb, bpf_map__fd(ew->skel->maps.execs), on_event, ew);
	if (err)
		goto fail;
	ew->own = ring_buffer__new(bpf_map__fd(ew->skel->maps.execs), on_event, ew, NULL);
	if (!ew->own) {
		err = -errno;
		goto fail;
	}
	*ewp = ew;
	return 0;
fail:
	ew_close(ew);
	return err ? err : -EINVAL;
}

int ew_wait(struct execwatch *ew, int ms)
{
	if (!ew) {
		nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
		return 0;
	}
	return ring_buffer__poll(ew->own, ms);
}

void ew_seen(struct execwatch *ew, __u64 st_dev, __u64 ino)
{
	/* The kernel's s_dev encoding: what /proc/PID/maps prints as major:minor. */
	struct ew_file k = {((__u64)major(st_dev) << 20) | minor(st_dev), ino};
	__u8 one = 1;

	if (ew && ino)
		bpf_map_update_elem(bpf_map__fd(ew->skel->maps.seen), &k, &one, BPF_NOEXIST);
}

static bool ldso_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return strncmp(b, "ld-linux", 8) == 0 || strncmp(b, "ld-musl", 7) == 0;
}

int ew_ldso(struct execwatch *ew, const char *path, char *why, size_t n)
{
	const struct bin_sym *s;
	struct bin_elf e;
	uint64_t off;
	int rc = -1;

	if (!ew || !ldso_name(path))
		return 0;
	if (ew->nldso >= MAX_LDSO) {
		snprintf(why, n, "more than %d dynamic linkers", MAX_LDSO);
		return -1;
	}
	if (bin_elf_open(&e, path)) {
		snprintf(why, n, "%s", e.why);
		goto out;
	}
	s = bin_elf_sym(&e, "_dl_debug_state", STT_FUNC);
	if (!s || bin_elf_va2off(&e, s->value, 1, &off, 1)) {
		snprintf(why, n, "no _dl_debug_state");
		goto out;
	}
	if (um_supported()) {
		ew->ldso_fd[ew->nldso] = um_attach(bpf_program__fd(ew->skel->progs.dl_state), path,
						   off, 0, false);
		if (ew->ldso_fd[ew->nldso] < 0) {
			snprintf(why, n, "uprobe on _dl_debug_state failed: %s",
				 strerror(-ew->ldso_fd[ew->nldso]));
			goto out;
		}
	} else {
		ew->ldso[ew->nldso] = bpf_program__attach_uprobe(ew->skel->progs.dl_state, false,
								 -1, path, off);
		if (!ew->ldso[ew->nldso]) {
			snprintf(why, n, "uprobe on _dl_debug_state failed: %s", strerror(errno));
			goto out;
		}
	}
	ew->nldso++;
	rc = 1;
out:
	bin_elf_close(&e);
	return rc;
}

int ew_nldso(const struct execwatch *ew)
{
	return ew ? ew->nldso : 0;
}

__u64 ew_lost(const struct execwatch *ew)
{
	return ew && ew->skel && ew->skel->bss ? *(volatile __u64 *)&ew->skel->bss->ew_lost : 0;
}

void ew_close(struct execwatch *ew)
{
	int i;

	if (!ew)
		return;
	for (i = 0; i < ew->nldso; i++) {
		bpf_link__destroy(ew->ldso[i]);
		if (ew->ldso_fd[i] > 0)
			close(ew->ldso_fd[i]);
	}
	ring_buffer__free(ew->own);
	exec_bpf__destroy(ew->skel);
	free(ew);
}
