// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What each capability is for, measured as a non-root user on Linux 6.18 (tests/t_privilege.sh):
 *   CAP_BPF, CAP_PERFMON  BPF maps and programs; raw tracepoints and uprobes (CAP_SYS_ADMIN
 *                         grants both: bpf_capable(), perfmon_capable())
 *   CAP_NET_ADMIN         the clsact qdisc and the TC filters of the wire source
 *   CAP_SYS_PTRACE        /proc/PID/maps, /proc/PID/root and /proc/PID/fd of other users
 *   CAP_DAC_READ_SEARCH   the directories /proc/PID/fd and /proc/PID/map_files (mode 0500)
 * Not required, a run goes on without them:
 *   CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) opening /proc/PID/map_files: libraries replaced
 *                         on disk, or in another mount namespace's private mount
 *   CAP_SYS_ADMIN         setns() into other network namespaces: the owners of their sockets
 *                         older than the tracer; and uprobes on a kernel without uprobe_multi
 *                         links (before 6.6) that has the fix of CVE-2025-38466 ("perf: Revert
 *                         to requiring CAP_SYS_ADMIN for uprobes": 6.1.146, 5.15.189, 5.10.240),
 *                         whose perf-event uprobes want it: then it is required
 * RLIMIT_MEMLOCK needs nothing: BPF memory is charged to the memory cgroup since Linux 5.11.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include "caps.h"
#include "umulti.h"

static __u64 effective(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0 ? ~0ULL : 0;
	return d[0].effective | ((__u64)d[1].effective << 32);
}

bool caps_have(int cap)
{
	return cap >= 0 && cap < 64 && (effective() >> cap) & 1;
}

/*
 * Does this kernel's uprobe PMU ask for CAP_SYS_ADMIN? Ask it: a uprobe on "/" passes the
 * PMU's capability check first (EACCES when it fails) and then fails on the path (EINVAL: not a
 * regular file), so nothing is ever registered. exclude_kernel keeps perf_event_open's own
 * paranoid check out of the answer. Without CAP_PERFMON an older kernel answers EACCES too:
 * then CAP_SYS_ADMIN is named, which covers CAP_PERFMON as well.
 */
static bool uprobe_wants_sys_admin(void)
{
	struct perf_event_attr a = {.size = sizeof(a), .exclude_kernel = 1};
	unsigned type;
	FILE *f;
	int fd;

	f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	if (!f)
		return false;	/* no uprobe PMU: the attach says why */
	if (fscanf(f, "%u", &type) != 1) {
		fclose(f);
		return false;
	}
	fclose(f);
	a.type = type;
	a.config1 = (__u64)(unsigned long)"/";
	fd = syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == EACCES;
}

static void add(char *buf, size_t len, int *n, const char *cap, const char *why)
{
	size_t l = strlen(buf);

	snprintf(buf + l, len - l, "%s%s (%s)", *n ? ", " : "", cap, why);
	(*n)++;
}

int caps_missing(const struct caps_need *need, char *buf, size_t len)
{
	__u64 eff = effective();
	bool sys_admin;
	int n = 0;

#define HAS(c) (!!(eff & (1ULL << (c))))
	buf[0] = 0;
	sys_admin = HAS(CAP_SYS_ADMIN);
	if (need->cleanup) {
		if (!HAS(CAP_NET_ADMIN))
			add(buf, len, &n, "CAP_NET_ADMIN", "removing TC filters");
		return n;
	}
	/* uprobe_multi links need CAP_BPF and CAP_PERFMON only; without them, ask the PMU. Which
	 * one applies cannot be told before CAP_BPF and CAP_PERFMON are there: name those first. */
	if (need->lib && !sys_admin && HAS(CAP_BPF) && HAS(CAP_PERFMON) && !um_supported() &&
	    uprobe_wants_sys_admin()) {
		/* It grants what CAP_BPF and CAP_PERFMON would: name it alone. */
		add(buf, len, &n, "CAP_SYS_ADMIN", "the library source's uprobes on this kernel");
		sys_admin = true;
	}
	if (!sys_admin && !HAS(CAP_BPF))
		add(buf, len, &n, "CAP_BPF", "BPF maps and programs");
	if (!sys_admin && !HAS(CAP_PERFMON))
		add(buf, len, &n, "CAP_PERFMON", "tracing programs and probes");
	if (need->wire && !HAS(CAP_NET_ADMIN))
		add(buf, len, &n, "CAP_NET_ADMIN", "the wire source's TC filters");
	if (!HAS(CAP_SYS_PTRACE))
		add(buf, len, &n, "CAP_SYS_PTRACE", "/proc/PID/maps, root and fd of other users");
	if (!HAS(CAP_DAC_READ_SEARCH) && !HAS(CAP_DAC_OVERRIDE))
		add(buf, len, &n, "CAP_DAC_READ_SEARCH", "/proc/PID/fd and map_files of other users");
#undef HAS
	return n;
}
