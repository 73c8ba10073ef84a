// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/bin/binguard.c and elf.c's mapped reading: inside a guard a file is mapped, and reads the
 * same as when read whole; a uprobe's breakpoint, which a private mapping of the file shows,
 * is not in it; a file truncated under the mapping turns the next read past its end into a
 * return to the guard, not a crash; outside any guard SIGBUS keeps its default action.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/perf_event.h>

#include "binguard.h"
#include "elf.h"
#include "testlib.h"

#define LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"

static char copy[64];

/* A private copy of libssl (a uprobe on it touches no one else's). */
static int make_copy(void)
{
	char cmd[256];

	snprintf(copy, sizeof(copy), "/tmp/test_bin_guard.%d.so", (int)getpid());
	snprintf(cmd, sizeof(cmd), "cp " LIBSSL " %s", copy);
	return system(cmd);
}

static void test_same_bytes(void)
{
	struct bin_elf r, m;
	struct bin_guard g;
	const struct bin_sym *s;
	int fired;

	if (bin_elf_open(&r, copy)) {
		FAILF("guard_read_opens", "%s", r.why);
		bin_elf_close(&r);
		return;
	}
	CHECK_EQ("guard_outside_reads", 0, r.mapped) && (PASS("guard_outside_reads"), 1);
	fired = bin_guard_enter(&g);
	if (!fired) {
		if (bin_elf_open(&m, copy)) {
			FAILF("guard_mapped_opens", "%s", m.why);
		} else if (CHECK_EQ("guard_inside_maps", 1, m.mapped)) {
			PASS("guard_inside_maps");
			if (CHECK_EQ("guard_same_size", r.size, m.size) &&
			    CHECK_EQ("guard_same_bytes", 0, memcmp(r.buf, m.buf, r.size)))
				PASS("guard_same_bytes");
			if (CHECK_STR("guard_same_build_id", r.build_id, m.build_id))
				PASS("guard_same_build_id");
			s = bin_elf_sym(&m, "SSL_CTX_new", STT_FUNC);
			if (s && CHECK_EQ("guard_same_symbol",
					  bin_elf_sym(&r, "SSL_CTX_new", STT_FUNC)->value, s->value))
				PASS("guard_same_symbol");
			else if (!s)
				FAILF("guard_same_symbol", "no SSL_CTX_new in the mapped file");
		}
		bin_elf_close(&m);
	}
	bin_guard_leave(&g);
	CHECK_EQ("guard_not_fired", 0, fired) && (PASS("guard_not_fired"), 1);
	bin_elf_close(&r);
}

/* A perf-event uprobe on path at off (the kernel writes its int3 into private mappings). */
static int uprobe_at(const char *path, uint64_t off)
{
	struct perf_event_attr a = {.size = sizeof(a)};
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	int type = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &type) != 1)
		type = -1;
	fclose(f);
	if (type < 0)
		return -1;
	a.type = type;
	a.config1 = (uint64_t)(uintptr_t)path;
	a.config2 = off;
	a.disabled = 1;
	return syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static void test_no_breakpoints(void)
{
	struct bin_elf r, m;
	struct bin_guard g;
	const struct bin_sym *s;
	uint64_t off;
	int pfd, fd;
	uint8_t *priv;

	if (!tl_need_root("guard_no_int3"))
		return;
	if (bin_elf_open(&r, copy) || !(s = bin_elf_sym(&r, "SSL_CTX_new", STT_FUNC)) ||
	    bin_elf_va2off(&r, s->value, 1, &off, 1)) {
		FAILF("guard_no_int3", "no SSL_CTX_new in %s", copy);
		bin_elf_close(&r);
		return;
	}
	pfd = uprobe_at(copy, off);
	if (pfd < 0) {
		FAILF("guard_no_int3", "cannot place a uprobe: %s", strerror(errno));
		bin_elf_close(&r);
		return;
	}
	if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0))
		FAILF("guard_no_int3", "cannot enable the uprobe: %s", strerror(errno));
	/* The witness: a private mapping, as a process running the library has, shows it. */
	fd = open(copy, O_RDONLY);
	priv = mmap(NULL, r.size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (priv == MAP_FAILED || CHECK_EQ("guard_private_has_int3", 0xcc, priv[off]))
		PASS("guard_private_has_int3");
	if (priv != MAP_FAILED)
		munmap(priv, r.size);
	if (!bin_guard_enter(&g)) {
		if (bin_elf_open(&m, copy) || !m.mapped)
			FAILF("guard_no_int3", "not mapped: %s", m.why);
		else if (CHECK_EQ("guard_no_int3", r.buf[off], m.buf[off]) &&
			 CHECK_EQ("guard_no_int3", 0, memcmp(r.buf, m.buf, r.size)))
			PASS("guard_no_int3");
		bin_elf_close(&m);
	}
	bin_guard_leave(&g);
	close(pfd);
	bin_elf_close(&r);
}

static void test_truncated(void)
{
	volatile unsigned int sum = 0;
	static struct bin_elf m; /* static: its fields outlive the jump back */
	struct bin_guard g;
	volatile int reached = 0;

	if (!bin_guard_enter(&g)) {
		if (bin_elf_open(&m, copy) || !m.mapped) {
			FAILF("guard_truncated_returns", "not mapped: %s", m.why);
		} else {
			if (truncate(copy, 4096))
				FAILF("guard_truncated_returns", "truncate: %s", strerror(errno));
			sum += m.buf[m.size - 1]; /* past the new end: SIGBUS */
			reached = 1;
		}
	} else {
		PASS("guard_truncated_returns");
	}
	bin_guard_leave(&g);
	if (reached)
		FAILF("guard_truncated_returns", "a read past the truncated end returned (%u)", sum);
	CHECK_EQ("guard_left", 0, bin_guard_active()) && (PASS("guard_left"), 1);
	/* The test's own read faulted, not the open: m is whole, and closed (make sanitize's leak
	 * check). An analysis that faults loses what it had allocated (analysis.c). */
	bin_elf_close(&m);
}

/* Outside a guard (the handler installed by the tests before), SIGBUS still kills. */
static void test_default_outside(void)
{
	int st = 0, fd;
	pid_t pid = fork();

	if (pid == 0) {
		uint8_t *p;

		fd = open(copy, O_RDWR);
		if (fd < 0 || ftruncate(fd, 8192))
			_exit(2);
		p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED || ftruncate(fd, 0))
			_exit(3);
		_exit(p[100] == 0x42 ? 4 : 5);
	}
	waitpid(pid, &st, 0);
	if (CHECK_EQ("guard_default_outside", SIGBUS, WIFSIGNALED(st) ? WTERMSIG(st) : -1))
		PASS("guard_default_outside");
}

int main(void)
{
	if (access(LIBSSL, R_OK) || make_copy()) {
		FAILF("guard_copy", "cannot copy " LIBSSL);
		return 1;
	}
	test_same_bytes();
	test_no_breakpoints();
	test_truncated();
	test_default_outside();
	unlink(copy);
	return tl_failed;
}
