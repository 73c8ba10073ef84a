// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The accepting task's programs of bpf/sock.bpf.c: see accept.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/perf_event.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include "alerttrace.h"
#include "caps.h"
#include "sock.skel.h"
#include "accept.h"

void accept_manual_attach(struct sock_bpf *s)
{
	bpf_program__set_autoattach(s->progs.accept4_exit, false);
	bpf_program__set_autoattach(s->progs.accept_exit, false);
	bpf_program__set_autoattach(s->progs.sys_exit_any, false);
}

#define TRACEFS "/sys/kernel/tracing"

/* The decimal number at the start of the file at path, or -1 (no stdio: see tp_ids_private). */
static long read_id(const char *path)
{
	char buf[24];
	long v = -1;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = (v < 0 ? 0 : v * 10) + (buf[i] - '0');
	return v;
}

/*
 * The ids of the tracepoints syscalls/sys_exit_accept4 and sys_exit_accept when no tracefs is
 * mounted where the tracer runs: a child process mounts one in a mount namespace of its own
 * (the host's mounts stay as they are, nothing is left mounted: the namespace dies with it),
 * reads the two ids (the kernel's, the same in every namespace) and writes them to a pipe. Needs
 * CAP_SYS_ADMIN; 0, or -1. The child of a process whose other threads may hold locks makes
 * system calls only.
 */
static int tp_ids_private(long ids[2])
{
	int p[2], st = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		long v[2] = {-1, -1};

		close(p[0]);
		if (!unshare(CLONE_NEWNS) && !mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) &&
		    !mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
			v[0] = read_id(TRACEFS "/events/syscalls/sys_exit_accept4/id");
			v[1] = read_id(TRACEFS "/events/syscalls/sys_exit_accept/id");
		}
		_exit(write(p[1], v, sizeof(v)) == sizeof(v) ? 0 : 1);
	}
	close(p[1]);
	n = pid > 0 ? read(p[0], ids, 2 * sizeof(long)) : -1;
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	return n == 2 * sizeof(long) && ids[0] > 0 && ids[1] > 0 ? 0 : -1;
}

/* A BPF link of prog on the tracepoint with this id (as libbpf attaches a tracepoint). */
static struct bpf_link *attach_tp_id(struct bpf_program *prog, long id)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(a),
		.config = (__u64)id,
	};
	struct bpf_link *l;
	int fd = syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return NULL;
	l = bpf_program__attach_perf_event(prog, fd);
	if (!l)
		close(fd);
	return l; /* the link owns fd */
}

/*
 * The accepting task (bpf/sock.bpf.c): the tracepoints of accept()/accept4() when libbpf finds
 * their ids in tracefs, or a private mount of tracefs gives them (tp_ids_private: root, or
 * CAP_SYS_ADMIN), else the raw tracepoint sys_exit (no tracefs needed; one more program run at
 * every system call's exit). ALERTTRACE_ACCEPT_RAW=1 forces the latter (tests, benchmarks);
 * ALERTTRACE_NO_ACCEPT=1 attaches neither (bench/bench_accept.sh: the attribution's own cost).
 */
int accept_attach(struct sock_bpf *s, const char **how)
{
	const char *force = getenv("ALERTTRACE_ACCEPT_RAW"), *none = getenv("ALERTTRACE_NO_ACCEPT");
	struct bpf_link *a4 = NULL, *a = NULL;
	long ids[2];
	int err;

	if (none && !strcmp(none, "1")) {
		*how = "listener only (ALERTTRACE_NO_ACCEPT=1)";
		return 0;
	}

	if (!force || strcmp(force, "1")) {
		a4 = bpf_program__attach(s->progs.accept4_exit);
		a = a4 ? bpf_program__attach(s->progs.accept_exit) : NULL;
		if (a4 && a) {
			s->links.accept4_exit = a4;
			s->links.accept_exit = a;
			*how = "tracepoints syscalls/sys_exit_accept{,4}";
			return 0;
		}
		bpf_link__destroy(a4);
		/* No tracefs here: its ids from a private mount of it, where the tracer may mount
		 * (a unit without CAP_SYS_ADMIN does not try: its filter has no mount()). */
		if (caps_have(CAP_SYS_ADMIN) && !tp_ids_private(ids)) {
			a4 = attach_tp_id(s->progs.accept4_exit, ids[0]);
			a = a4 ? attach_tp_id(s->progs.accept_exit, ids[1]) : NULL;
			if (a4 && a) {
				s->links.accept4_exit = a4;
				s->links.accept_exit = a;
				*how = "tracepoints syscalls/sys_exit_accept{,4} (ids from a private "
				       "tracefs mount)";
				return 0;
			}
			bpf_link__destroy(a4);
		}
	}
	s->links.sys_exit_any = bpf_program__attach(s->progs.sys_exit_any);
	if (!s->links.sys_exit_any) {
		err = -errno;
		return err;
	}
	*how = "raw tracepoint sys_exit";
	return 0;
}
