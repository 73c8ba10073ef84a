// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* uprobe_multi links (umulti.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "umulti.h"

/* include/uapi/linux/bpf.h of Linux 6.6, newer than Debian 12's headers. */
#define UM_ATTACH_TYPE 48 /* BPF_TRACE_UPROBE_MULTI */
#define UM_F_RETURN 1	  /* BPF_F_UPROBE_MULTI_RETURN */

/* union bpf_attr's link_create for BPF_TRACE_UPROBE_MULTI. */
struct um_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 um_flags;
	__u32 pid;
};

static int link_create(int prog_fd, const char *path, const __u64 *off, const __u64 *cookie,
		       bool ret)
{
	/* The kernel reads sizeof(union bpf_attr) of its own and wants the rest zero. */
	union {
		struct um_attr a;
		char pad[256];
	} u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.a.prog_fd = prog_fd;
	u.a.attach_type = UM_ATTACH_TYPE;
	u.a.path = (__u64)(unsigned long)path;
	u.a.offsets = (__u64)(unsigned long)off;
	u.a.cookies = (__u64)(unsigned long)cookie;
	u.a.cnt = 1;
	u.a.um_flags = ret ? UM_F_RETURN : 0;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &u, sizeof(u.a));
	return fd < 0 ? -errno : fd;
}

bool um_supported(void)
{
	static int known = -1;
	const struct bpf_insn ret0[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = UM_ATTACH_TYPE);
	const char *env = getenv("ALERTTRACE_UPROBE_MULTI");
	__u64 off = 0, cookie = 0;
	int prog, fd;

	if (known >= 0)
		return known;
	known = 0;
	if (env && !strcmp(env, "0"))
		return false;
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", ret0, 2, &po);
	if (prog < 0)
		return false;
	/* A directory is not a file to probe: a kernel that knows the link type says EBADF,
	 * an older one EINVAL (libbpf's own feature probe does the same). */
	fd = link_create(prog, "/", &off, &cookie, false);
	if (fd >= 0)
		close(fd);
	known = fd == -EBADF;
	close(prog);
	return known;
}

void um_prepare_prog(struct bpf_program *p)
{
	bpf_program__set_expected_attach_type(p, UM_ATTACH_TYPE);
}

void um_prepare(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
		um_prepare_prog(p);
}

int um_attach(int prog_fd, const char *path, __u64 off, __u64 cookie, bool ret)
{
	return link_create(prog_fd, path, &off, &cookie, ret);
}
