// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's BTF read once per start (a thread from the tracer's first step: btfmin_prefetch)
 * and each object's cut of it (btfmin.c) handed to libbpf as btf_custom_path, a memfd.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "btfmin.h"
#include "btfmin_local.h"
#include "log.h"
#include "shared.h"

/* The kernel's BTF and its index, made by the first open and shared by the next. */
static pthread_mutex_t kb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct btf *kb;
static struct kindex kb_ix;
static int kb_err;

static int kb_get(void);

static bool kb_released;

static void *prefetch(void *arg)
{
	pthread_mutex_lock(&kb_lock);
	if (!kb_released)
		kb_get();
	pthread_mutex_unlock(&kb_lock);
	return arg;
}

void btfmin_prefetch(void)
{
	const char *env = getenv("ALERTTRACE_BTF");
	pthread_t th;

	if (env && !strcmp(env, "kernel"))
		return;
	if (!pthread_create(&th, NULL, prefetch, NULL))
		pthread_detach(th);
}

void btfmin_release(void)
{
	pthread_mutex_lock(&kb_lock);
	kb_released = true;
	kindex_free(&kb_ix);
	btf__free(kb);
	kb = NULL;
	kb_err = 0;
	pthread_mutex_unlock(&kb_lock);
}

void btfmin_hold(void)
{
	pthread_mutex_lock(&kb_lock);
}

void btfmin_unhold(void)
{
	pthread_mutex_unlock(&kb_lock);
}

/* The kernel's BTF parsed and indexed (kb_lock held): 0 or -errno (remembered). */
static int kb_get(void)
{
	double t0 = shared_now_ms();

	if (kb || kb_err)
		return kb_err;
	kb = btf__load_vmlinux_btf();
	if (!kb)
		kb_err = -errno;
	else if ((kb_err = kindex_build(&kb_ix, kb))) {
		btf__free(kb);
		kb = NULL;
	}
	if (!kb_err)
		p_debug("start-up: btf: the kernel's BTF (%u types) read and indexed in %.1f ms\n",
			btf__type_cnt(kb), shared_now_ms() - t0);
	return kb_err;
}

const struct bpf_object_open_opts *btfmin_opts(struct btfmin_open *bo, const char *name,
					       const void *elf, size_t size)
{
	const char *env = getenv("ALERTTRACE_BTF");
	char why[256] = "";
	struct btf *out = NULL;
	double t0 = shared_now_ms();
	const void *raw;
	__u32 rawlen = 0;
	int nrelo = 0, fd = -1, err;

	memset(bo, 0, sizeof(*bo));
	bo->opts.sz = sizeof(bo->opts);
	if (env && !strcmp(env, "kernel"))
		return &bo->opts;
	/* An object none of whose relocations reads a kernel type (tc) waits for no parse. */
	out = btfmin_cut(NULL, elf, size, &nrelo, why, sizeof(why));
	if (!out && errno == EAGAIN) {
		pthread_mutex_lock(&kb_lock);
		err = kb_get();
		if (err)
			snprintf(why, sizeof(why), "the kernel's BTF cannot be read: %s",
				 strerror(-err));
		else
			out = btfmin_cut(&kb_ix, elf, size, &nrelo, why, sizeof(why));
		pthread_mutex_unlock(&kb_lock);
	}
	raw = out ? btf__raw_data(out, &rawlen) : NULL;
	if (raw) {
		fd = memfd_create("alerttrace-btf", MFD_CLOEXEC);
		if (fd < 0 || write(fd, raw, rawlen) != (ssize_t)rawlen) {
			snprintf(why, sizeof(why), "cannot write it: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
	}
	if (fd >= 0) {
		/* kept open: libbpf parses the path at load, maybe in another thread */
		snprintf(bo->path, sizeof(bo->path), "/proc/self/fd/%d", fd);
		bo->opts.btf_custom_path = bo->path;
		p_debug("start-up: btf: %s: %d CO-RE relocations against %u of the kernel's types "
			"(%u bytes) in %.1f ms\n",
			name, nrelo, btf__type_cnt(out) - 1, rawlen, shared_now_ms() - t0);
	} else {
		p_debug("start-up: btf: %s: the kernel's BTF, whole: %s\n", name, why);
	}
	btf__free(out);
	return &bo->opts;
}
