/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What btfmin.c (the cut) and btfmin_open.c (the kernel's BTF read once, the open options)
 * share. */
#ifndef AT_BTFMIN_LOCAL_H
#define AT_BTFMIN_LOCAL_H

#include <stddef.h>
#include <linux/types.h>
#include <bpf/btf.h>

/* The kernel's BTF, with its named structs, unions, enums and typedefs in an open-addressed
 * table by essential name. */
struct kindex {
	const struct btf *btf;
	__u32 *slot;	/* type ids, 0: empty */
	__u32 mask;
};

int kindex_build(struct kindex *ix, const struct btf *k);
void kindex_free(struct kindex *ix);
/* The cut of the object elf[0..size) against the kernel's indexed BTF; ix NULL: only when no
 * relocation reads a kernel type, else NULL with errno EAGAIN. NULL with errno and why[] set. */
struct btf *btfmin_cut(const struct kindex *ix, const void *elf, size_t size, int *nrelo,
		       char *why, size_t whylen);

#endif
