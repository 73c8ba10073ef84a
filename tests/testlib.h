/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Minimal test helpers: each check prints PASS/FAIL lines that tests/run.sh counts. */
#ifndef AT_TESTLIB_H
#define AT_TESTLIB_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tl_failed;

#define PASS(name) printf("PASS %s\n", name)
#define FAILF(name, fmt, ...) (tl_failed = 1, printf("FAIL %s: " fmt "\n", name, ##__VA_ARGS__))
#define SKIP(name, reason) printf("SKIP %s: %s\n", name, reason)

/* Integer equality: prints expected vs actual on failure. Returns 1 on success. */
#define CHECK_EQ(name, exp, act)                                                                  \
	({                                                                                         \
		long long _e = (long long)(exp), _a = (long long)(act);                           \
		int _ok = _e == _a;                                                                \
		if (!_ok)                                                                          \
			FAILF(name, "%s: expected %lld, got %lld", #act, _e, _a);                  \
		_ok;                                                                               \
	})

#define CHECK_STR(name, exp, act)                                                                 \
	({                                                                                         \
		const char *_e = (exp), *_a = (act);                                               \
		int _ok = _a && strcmp(_e, _a) == 0;                                               \
		if (!_ok)                                                                          \
			FAILF(name, "%s: expected \"%s\", got \"%s\"", #act, _e, _a ? _a : "(null)"); \
		_ok;                                                                               \
	})

/* Whole texts: prints both on a mismatch. */
static inline void tl_check_text(const char *name, const char *got, const char *exp)
{
	if (got && !strcmp(got, exp))
		PASS(name);
	else
		FAILF(name, "expected:\n%s\ngot:\n%s", exp, got ? got : "(null)");
}

/* The cgroup2 mount of this machine (hybrid hosts: /sys/fs/cgroup/unified), or NULL. */
static inline const char *tl_cgroup2_mount(char *buf, size_t n)
{
	char line[4096], root[2048], mnt[2048];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	const char *ret = NULL;

	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, " - cgroup2 ") ||
		    sscanf(line, "%*s %*s %*s %2047s %2047s", root, mnt) != 2 || strcmp(root, "/"))
			continue;
		snprintf(buf, n, "%s", mnt);
		ret = buf;
		break;
	}
	if (f)
		fclose(f);
	return ret;
}

/* The inode number of path (a cgroup's id for its directory), 0 if none. */
static inline unsigned long long tl_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* Root is needed for BPF; outside CI a non-root run skips with this reason. */
static inline int tl_need_root(const char *name)
{
	if (geteuid() == 0)
		return 1;
	SKIP(name, "needs root (CAP_BPF): run as root");
	return 0;
}

/* Compile src with gcc and flags into out (a file in a fresh directory under /tmp, which
 * tl_rmbuild removes). 0 on success. */
static inline int tl_build(const char *src, const char *flags, char *out, size_t n)
{
	char dir[] = "/tmp/at_test.XXXXXX", cmd[1024];
	FILE *o;

	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/t.c", dir);
	o = fopen(cmd, "w");
	if (!o)
		return -1;
	fputs(src, o);
	fclose(o);
	snprintf(out, n, "%s/t", dir);
	snprintf(cmd, sizeof(cmd), "gcc %s -o %s %s/t.c", flags, out, dir);
	return system(cmd) ? -1 : 0;
}

static inline void tl_rmbuild(const char *out)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf $(dirname %s)", out);
	if (system(cmd))
		return;
}

static inline int tl_have_python(void)
{
	return system("python3 -c 'import json' >/dev/null 2>&1") == 0;
}

/* Write n bytes of s into a new file from tmpl ("/tmp/NAME.XXXXXX"). 0 or -1. */
static inline int tl_write_temp(char *tmpl, const char *s, size_t n)
{
	int fd = mkstemp(tmpl), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, n) == (ssize_t)n;
	close(fd);
	return ok ? 0 : -1;
}

/* Write n bytes of b to path (created or truncated). 0 or -1. */
static inline int tl_write_file(const char *path, const void *b, size_t n)
{
	FILE *o = fopen(path, "w");
	int ok;

	if (!o)
		return -1;
	ok = fwrite(b, 1, n, o) == n;
	fclose(o);
	return ok ? 0 : -1;
}

/*
 * python3 runs script with data (len bytes) on stdin, the independent judge of what we print.
 * Returns its stdout and stderr, malloc'ed; NULL when the temporary files could not be written.
 */
static inline char *tl_python(const char *script, const char *data, size_t len)
{
	char d[] = "/tmp/testlib_data.XXXXXX", py[] = "/tmp/testlib_py.XXXXXX", cmd[128], buf[512];
	char *res = NULL;
	size_t rlen = 0;
	FILE *p, *r;

	if (tl_write_temp(d, data, len) || tl_write_temp(py, script, strlen(script)))
		goto cleanup;
	snprintf(cmd, sizeof(cmd), "python3 %s < %s 2>&1", py, d);
	r = open_memstream(&res, &rlen);
	p = popen(cmd, "r");
	if (p && r)
		while (fgets(buf, sizeof(buf), p))
			fputs(buf, r);
	if (p)
		pclose(p);
	if (r)
		fclose(r);
cleanup:
	unlink(d);
	unlink(py);
	return res;
}

#endif
