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
#include "btfmin.h"
#include "shared.h"

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

/* The tracepoints' ids from a mounted tracefs (where libbpf looks too): 0, or -1. */
static int tp_ids_mounted(long ids[2])
{
	static const char *const dirs[] = {TRACEFS, "/sys/kernel/debug/tracing"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[96];

		snprintf(p, sizeof(p), "%s/events/syscalls/sys_exit_accept4/id", dirs[i]);
		ids[0] = read_id(p);
		snprintf(p, sizeof(p), "%s/events/syscalls/sys_exit_accept/id", dirs[i]);
		ids[1] = read_id(p);
		if (ids[0] > 0 && ids[1] > 0)
			return 0;
	}
	return -1;
}

/*
 * Before the object's load, the way: the tracepoints of accept()/accept4() when a mounted
 * tracefs gives their ids, or a private mount of tracefs does (tp_ids_private: root, or
 * CAP_SYS_ADMIN), else the raw tracepoint sys_exit (no tracefs needed; one more program run at
 * every system call's exit). The raw tracepoint's program is loaded only for that way: it is
 * BTF-typed, and libbpf reads the kernel's whole BTF to load it (user/btfmin.c).
 * ALERTTRACE_ACCEPT_RAW=1 forces the raw way (tests, benchmarks); ALERTTRACE_NO_ACCEPT=1
 * attaches none (bench/bench_accept.sh: the attribution's own cost); ALERTTRACE_ACCEPT_LATE=1
 * makes the tracepoints fail (tests: the raw way loaded late, attach_raw_late).
 */
void accept_prepare(struct sock_bpf *s, struct accept_plan *p)
{
	const char *force = getenv("ALERTTRACE_ACCEPT_RAW"), *none = getenv("ALERTTRACE_NO_ACCEPT");

	memset(p, 0, sizeof(*p));
	bpf_program__set_autoattach(s->progs.accept4_exit, false);
	bpf_program__set_autoattach(s->progs.accept_exit, false);
	bpf_program__set_autoattach(s->progs.sys_exit_any, false);
	if (none && !strcmp(none, "1"))
		p->way = ACCEPT_NONE;
	else if (force && !strcmp(force, "1"))
		p->way = ACCEPT_RAW;
	else if (!tp_ids_mounted(p->ids))
		p->way = ACCEPT_TP;
	/* no tracefs here: the ids from a private mount of it, where the tracer may mount (a
	 * unit without CAP_SYS_ADMIN does not try: its filter has no mount()) */
	else if (caps_have(CAP_SYS_ADMIN) && !tp_ids_private(p->ids))
		p->way = ACCEPT_TP_PRIVATE;
	else
		p->way = ACCEPT_RAW;
	if (p->way != ACCEPT_RAW)
		bpf_program__set_autoload(s->progs.sys_exit_any, false);
	/* tests/t_workers.sh: tracepoints that will not attach, for the raw way's late load */
	if ((p->way == ACCEPT_TP || p->way == ACCEPT_TP_PRIVATE) && getenv("ALERTTRACE_ACCEPT_LATE"))
		p->ids[0] = p->ids[1] = -1;
}

/* The raw way, after the tracepoints failed to attach: another instance of the object with the
 * raw tracepoint's program alone, on the tracer's maps. */
static int attach_raw_late(struct accept_plan *p, const struct at_shared *sh)
{
	struct bpf_program *prog;
	struct sock_bpf *r = BTFMIN_OPEN(sock);
	int err;

	if (!r)
		return -errno;
	bpf_object__for_each_program(prog, r->obj)
		bpf_program__set_autoload(prog, prog == r->progs.sys_exit_any);
	r->rodata->at_filt = sh->filt;
	err = shared_reuse(r->obj, sh);
	if (!err)
		err = sock_bpf__load(r);
	if (!err) {
		r->links.sys_exit_any = bpf_program__attach(r->progs.sys_exit_any);
		if (!r->links.sys_exit_any)
			err = -errno;
	}
	if (err) {
		sock_bpf__destroy(r);
		return err;
	}
	p->raw = r;
	return 0;
}

int accept_attach(struct sock_bpf *s, struct accept_plan *p, const struct at_shared *sh,
		  const char **how)
{
	struct bpf_link *a4 = NULL, *a = NULL;
	int err;

	switch (p->way) {
	case ACCEPT_NONE:
		*how = "listener only (ALERTTRACE_NO_ACCEPT=1)";
		return 0;
	case ACCEPT_TP:
	case ACCEPT_TP_PRIVATE:
		a4 = attach_tp_id(s->progs.accept4_exit, p->ids[0]);
		a = a4 ? attach_tp_id(s->progs.accept_exit, p->ids[1]) : NULL;
		if (a4 && a) {
			s->links.accept4_exit = a4;
			s->links.accept_exit = a;
			*how = p->way == ACCEPT_TP ? "tracepoints syscalls/sys_exit_accept{,4}"
						   : "tracepoints syscalls/sys_exit_accept{,4} (ids "
						     "from a private tracefs mount)";
			return 0;
		}
		bpf_link__destroy(a4);
		err = attach_raw_late(p, sh);
		if (err)
			return err;
		*how = "raw tracepoint sys_exit (the tracepoints would not attach)";
		return 0;
	default:
		s->links.sys_exit_any = bpf_program__attach(s->progs.sys_exit_any);
		if (!s->links.sys_exit_any)
			return -errno;
		*how = "raw tracepoint sys_exit";
		return 0;
	}
}

void accept_free(struct accept_plan *p)
{
	sock_bpf__destroy(p->raw);
	p->raw = NULL;
}
