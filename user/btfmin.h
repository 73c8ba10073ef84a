/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's BTF cut to what one BPF object's CO-RE relocations read, for libbpf to relocate
 * against instead of the whole of /sys/kernel/btf/vmlinux, which it would read and parse again
 * for every object (btfmin.c says why and how).
 */
#ifndef AT_BTFMIN_H
#define AT_BTFMIN_H

#include <stddef.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* What opening one object needs: the options, and the custom BTF's path they point to. */
struct btfmin_open {
	struct bpf_object_open_opts opts;
	char path[40];
};

/*
 * The open options of the object named name (for -v) whose ELF is elf[0..size): btf_custom_path
 * set to its minimal BTF, or left NULL (libbpf uses the kernel's BTF, as without this) when its
 * relocations ask for what this does not cut (btfmin.c), when the kernel's BTF cannot be read,
 * or with ALERTTRACE_BTF=kernel. Thread-safe. The path stays valid until exit.
 */
const struct bpf_object_open_opts *btfmin_opts(struct btfmin_open *bo, const char *name,
					       const void *elf, size_t size);

/* NAME_bpf__open_opts() with btfmin_opts(), for a skeleton NAME.skel.h included before. */
#define BTFMIN_OPEN(n)                                                                             \
	({                                                                                         \
		struct btfmin_open bo_;                                                            \
		size_t sz_;                                                                        \
		const void *elf_ = n##_bpf__elf_bytes(&sz_);                                       \
		n##_bpf__open_opts(btfmin_opts(&bo_, #n, elf_, sz_));                              \
	})

/* The kernel's BTF read and indexed in a thread of its own, now, for the opens to come: the
 * first open that needs it waits for it instead of reading it. */
void btfmin_prefetch(void);

/* The parsed kernel BTF dropped (after the start's opens; a later open parses it again). */
void btfmin_release(void);

/* Around a fork: the prefetch's thread, which allocates as it parses, finished or kept waiting
 * until btfmin_unhold, so that the child's copy of the heap is not one it was changing. */
void btfmin_hold(void);
void btfmin_unhold(void);

/*
 * The minimal BTF of the object elf[0..size) against kernel (tests, and btfmin_opts): a new
 * struct btf, or NULL with errno set and why[] said: -ENOTSUP for a relocation kind this does
 * not cut, -ENOENT for a root type the kernel has no type of, -EINVAL for an object it cannot
 * read. *nrelo: the object's CO-RE relocations.
 */
struct btf *btfmin_build(const struct btf *kernel, const void *elf, size_t size, int *nrelo,
			 char *why, size_t whylen);

#endif
